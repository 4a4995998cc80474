"""Pure flatteners: API records → tidy, typed DataFrames (one schema table, ``SCHEMA``).

Every function takes records as the API returns them (camelCase dicts), never mutates them,
sends no request, and returns a frame whose columns and dtypes are exactly ``SCHEMA[name]``
(also for empty input). Flags and experiments share one code path; the ``kind`` column says
which, from ``kind=`` or, when not given, from experiment-only fields in the record.

Each frame is built in one direct pass that collects plain column lists and casts each list
once to its declared nullable dtype: measured in ``benchmarks/bench_flatten.py``, that is far
faster than ``pandas.json_normalize`` and gives typed columns even for empty input.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from expkit import _gc
from expkit._schema import BOOL, FLOAT, FRAMES, INT, OBJECT, SCHEMA, STRING, TIME
from expkit.errors import ValidationError

__all__ = [
    "SCHEMA",
    "conditions",
    "configs",
    "deployments",
    "empty",
    "groups",
    "inclusions",
    "segments",
    "variants",
    "versions",
]

Records = Iterable[Mapping[str, Any]]
KindArg = str | Mapping[str, str] | None

CONFIG_KINDS = ("flag", "experiment")
GROUP_KINDS = ("mutex", "holdout")

# fields only experiments carry (the flagConfig of an experiment version has these too)
_EXPERIMENT_ONLY = frozenset(
    {
        "state",
        "experimentType",
        "decision",
        "decisionReason",
        "rolledOutVariant",
        "stickyBucketing",
        "startDate",
        "endDate",
        "exposureEvent",
    }
)

# wire field -> column, for the scalar columns copied as they are (cast once afterwards)
_CONFIG_SCALARS = {
    "id": "id",
    "projectId": "project_id",
    "key": "key",
    "name": "name",
    "description": "description",
    "enabled": "enabled",
    "archived": "archived",
    "deleted": "deleted",
    "evaluationMode": "evaluation_mode",
    "bucketingKey": "bucketing_key",
    "bucketingSalt": "bucketing_salt",
    "bucketingUnit": "bucketing_unit",
    "rolloutPercentage": "rollout_percentage",
    "state": "state",
    "experimentType": "experiment_type",
    "decision": "decision",
    "decisionReason": "decision_reason",
    "rolledOutVariant": "rolled_out_variant",
    "stickyBucketing": "sticky_bucketing",
    "startDate": "start_date",
    "endDate": "end_date",
    "createdBy": "created_by",
    "createdAt": "created_at",
    "lastModifiedBy": "last_modified_by",
    "lastModifiedAt": "last_modified_at",
}
# fields with a column of their own, or whose content lives in a sibling frame
_CONFIG_KNOWN = frozenset(
    {*_CONFIG_SCALARS, "rolloutWeights", "deployments", "tags", "variants", "targetSegments"}
)
_VARIANT_KNOWN = frozenset({"key", "name", "description", "payload", "rolloutWeight"})
_SEGMENT_KNOWN = frozenset({"name", "conditions", "percentage", "bucketingKey", "rolloutWeights"})
_CONDITION_KNOWN = frozenset({"type", "prop", "op", "values"})
_VERSION_KNOWN = frozenset({"version", "createdAt", "createdBy", "flagConfig"})
_DEPLOYMENT_SCALARS = {
    "id": "id",
    "projectId": "project_id",
    "label": "label",
    "key": "key",
    "deleted": "deleted",
}
_GROUP_SCALARS = {
    "id": "id",
    "projectId": "project_id",
    "key": "key",
    "name": "name",
    "description": "description",
    "deleted": "deleted",
}
_DEPLOYMENT_KNOWN = frozenset(_DEPLOYMENT_SCALARS)
_GROUP_KNOWN = frozenset(_GROUP_SCALARS)


# --------------------------------------------------------------------------- public API


def empty(name: str) -> pd.DataFrame:
    """An empty frame ``name`` with the declared columns and dtypes."""
    return _frame(name, {col: [] for col in _schema(name)})


@_gc.pausing
def configs(records: Records, *, kind: KindArg = None) -> pd.DataFrame:
    """One row per flag or experiment (``SCHEMA["configs"]``).

    ``kind``: ``"flag"``, ``"experiment"``, a mapping ``{config_id: kind}``, or None to infer
    each record's kind (experiment-only fields present → ``"experiment"``).
    """
    recs = _records(records)
    cols: dict[str, list[Any]] = {wire: _pluck(recs, wire) for wire in _CONFIG_SCALARS}
    out = {col: cols[wire] for wire, col in _CONFIG_SCALARS.items()}
    out["kind"] = _kinds(recs, kind, cols["id"], CONFIG_KINDS, _infer_config_kind)
    out["rollout_weights"] = [_weights(r.get("rolloutWeights")) for r in recs]
    out["n_variants"] = [_length(r.get("variants")) for r in recs]
    out["n_segments"] = [_length(r.get("targetSegments")) for r in recs]
    out["deployments"] = [_str_list(r.get("deployments")) for r in recs]
    out["tags"] = [_str_list(r.get("tags")) for r in recs]
    out["parent_ids"] = [_parent_ids(r.get("parentDependencies")) for r in recs]
    out["extra"] = [_extra(r, _CONFIG_KNOWN) for r in recs]
    return _frame("configs", out)


@_gc.pausing
def variants(records: Records, *, kind: KindArg = None) -> pd.DataFrame:
    """One row per variant of each config, with its weight and share (``SCHEMA["variants"]``).

    ``records`` are configs (flags or experiments). ``rollout_weight`` comes from the config's
    ``rolloutWeights`` (else the variant's own ``rolloutWeight``); ``share`` is the weight over
    the sum of the config's variant weights, 0 when a variant has no weight or all are 0.
    """
    recs = _records(records)
    kinds = _kinds(recs, kind, _pluck(recs, "id"), CONFIG_KINDS, _infer_config_kind)
    rows: list[tuple[Any, ...]] = []
    add = rows.append
    for rec, knd in zip(recs, kinds, strict=True):
        items = [v for v in _list(rec.get("variants")) if _is_map(v)]
        if not items:
            continue
        weights: Any = rec.get("rolloutWeights")
        if not _is_map(weights):
            weights = {}
        found: list[float | None] = []
        for v in items:
            try:
                raw = weights[v.get("key")]
            except (KeyError, TypeError):
                raw = v.get("rolloutWeight")
            found.append(_number(raw))
        total = sum(w for w in found if w is not None)
        cid, ckey = rec.get("id"), rec.get("key")
        for v, w in zip(items, found, strict=True):
            payload = v.get("payload")
            add(
                (
                    cid,
                    knd,
                    ckey,
                    v.get("key"),
                    v.get("name"),
                    v.get("description"),
                    None if payload is None else _json_text(payload),
                    w,
                    w / total if w is not None and total > 0 else 0.0,
                    _extra(v, _VARIANT_KNOWN),
                )
            )
    return _rows_frame("variants", rows)


@_gc.pausing
def segments(records: Records, *, kind: KindArg = None) -> pd.DataFrame:
    """One row per target segment of each config (``SCHEMA["segments"]``), indexed from 0."""
    recs = _records(records)
    kinds = _kinds(recs, kind, _pluck(recs, "id"), CONFIG_KINDS, _infer_config_kind)
    rows: list[tuple[Any, ...]] = []
    add = rows.append
    for rec, knd in zip(recs, kinds, strict=True):
        segs = _list(rec.get("targetSegments"))
        if not segs:
            continue
        cid, ckey = rec.get("id"), rec.get("key")
        for index, seg in enumerate(segs):
            if not _is_map(seg):
                continue
            add(
                (
                    cid,
                    knd,
                    ckey,
                    index,
                    seg.get("name"),
                    seg.get("percentage"),
                    seg.get("bucketingKey"),
                    _weights(seg.get("rolloutWeights")),
                    _length(seg.get("conditions")),
                    _extra(seg, _SEGMENT_KNOWN),
                )
            )
    return _rows_frame("segments", rows)


@_gc.pausing
def conditions(records: Records, *, kind: KindArg = None) -> pd.DataFrame:
    """One row per condition of each target segment (``SCHEMA["conditions"]``)."""
    recs = _records(records)
    kinds = _kinds(recs, kind, _pluck(recs, "id"), CONFIG_KINDS, _infer_config_kind)
    rows: list[tuple[Any, ...]] = []
    add = rows.append
    known = _CONDITION_KNOWN
    for rec, knd in zip(recs, kinds, strict=True):
        segs = _list(rec.get("targetSegments"))
        if not segs:
            continue
        cid, ckey = rec.get("id"), rec.get("key")
        for s_index, seg in enumerate(segs):
            if not _is_map(seg):
                continue
            for c_index, cond in enumerate(_list(seg.get("conditions"))):
                if not _is_map(cond):
                    continue
                get = cond.get
                add(
                    (
                        cid,
                        knd,
                        ckey,
                        s_index,
                        c_index,
                        get("type"),
                        get("prop"),
                        get("op"),
                        _str_list(get("values")),
                        {} if cond.keys() <= known else _extra(cond, known),
                    )
                )
    return _rows_frame("conditions", rows)


@_gc.pausing
def versions(records: Records, *, kind: KindArg = None) -> pd.DataFrame:
    """One row per version, sorted by ``config_id`` then ``version`` (``SCHEMA["versions"]``).

    ``records`` are version objects (``{version, createdAt, createdBy, flagConfig}``) from the
    ``/api/1/versions`` feed or a config's ``/versions``. ``config`` holds each version's
    ``flagConfig`` dict itself (not a copy, which would cost more than the whole flattening).
    """
    return _versions_frame(_version_columns(_records(records)), kind)


def _version_columns(recs: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The columns of the versions frame for ``recs``, as lists, all but ``kind``.

    Lists of several batches can be joined (``+=``) and made one frame by ``_versions_frame``:
    a snapshot keeps these compact lists of each page, not the page.
    """
    fcs = [_map_or_empty(r.get("flagConfig")) for r in recs]
    return {
        "config_id": _pluck(fcs, "id"),
        "config_key": _pluck(fcs, "key"),
        "version": _pluck(recs, "version"),
        "created_at": _pluck(recs, "createdAt"),
        "created_by": _pluck(recs, "createdBy"),
        "enabled": _pluck(fcs, "enabled"),
        "rollout_percentage": _pluck(fcs, "rolloutPercentage"),
        "rollout_weights": [_weights(fc.get("rolloutWeights")) for fc in fcs],
        "n_segments": [_length(fc.get("targetSegments")) for fc in fcs],
        "config": fcs,
        "extra": [_extra(r, _VERSION_KNOWN) for r in recs],
    }


def _versions_frame(
    out: dict[str, list[Any]], kind: KindArg, *, by_kind: bool = False
) -> pd.DataFrame:
    """The versions frame of columns from ``_version_columns`` (``kind`` as ``versions``).

    Rows sorted by ``config_id`` then ``version`` (then ``kind`` with ``by_kind``), missing
    values last, ties in their order: the lists are put in that order before the frame is
    built, as ``sort_values`` would (it needs ~20 MB more for 62,500 rows, at a snapshot's
    peak).
    """
    out["kind"] = _kinds(out["config"], kind, out["config_id"], CONFIG_KINDS, _infer_config_kind)
    ids = [v if type(v) is str or v is None else _scalar_text(v) for v in out["config_id"]]
    numbers = [v if type(v) is int else _integer(v) for v in out["version"]]
    kinds = out["kind"] if by_kind else [""] * len(ids)
    keys = [
        (cid is None, cid or "", n is None, n or 0, k)
        for cid, n, k in zip(ids, numbers, kinds, strict=True)
    ]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    del ids, numbers, kinds, keys
    if order != list(range(len(order))):
        out = {name: [values[i] for i in order] for name, values in out.items()}
    return _frame("versions", out)


@_gc.pausing
def inclusions(records: Records) -> pd.DataFrame:
    """One row per user or cohort included in a variant (``SCHEMA["inclusions"]``).

    ``records``: dicts ``{config_id, kind, config_key, variant_key, users, cohorts}`` where
    ``users`` and ``cohorts`` are the lists ``.../variants/{key}/users`` and ``/cohorts``
    return. ``position`` is the index in that list (what removal by index uses).
    """
    recs = _records(records)
    out = _empty_lists("inclusions")
    for rec in recs:
        head = (
            rec.get("config_id"),
            rec.get("kind"),
            rec.get("config_key"),
            rec.get("variant_key"),
        )
        for field, inclusion_type in (("users", "user"), ("cohorts", "cohort")):
            values = _str_list(rec.get(field))
            n = len(values)
            if not n:
                continue
            out["config_id"].extend([head[0]] * n)
            out["kind"].extend([head[1]] * n)
            out["config_key"].extend([head[2]] * n)
            out["variant_key"].extend([head[3]] * n)
            out["inclusion_type"].extend([inclusion_type] * n)
            out["position"].extend(range(n))
            out["value"].extend(values)
    return _frame("inclusions", out)


@_gc.pausing
def deployments(records: Records, *, mask_keys: bool = True) -> pd.DataFrame:
    """One row per deployment (``SCHEMA["deployments"]``); keys masked unless ``mask_keys=False``.

    A deployment key is a secret (the SDK key), so by default only its first and last four
    characters are kept (``"clie…f3a9"``), and short keys are hidden entirely.
    """
    recs = _records(records)
    out = {col: _pluck(recs, wire) for wire, col in _DEPLOYMENT_SCALARS.items()}
    if mask_keys:
        out["key"] = [_mask_key(k) for k in out["key"]]
    out["extra"] = [_extra(r, _DEPLOYMENT_KNOWN) for r in recs]
    return _frame("deployments", out)


@_gc.pausing
def groups(records: Records, *, kind: str | None = None) -> pd.DataFrame:
    """One row per mutex or holdout group (``SCHEMA["groups"]``).

    ``kind``: ``"mutex"``, ``"holdout"``, or None to infer (a record with ``slots`` is a mutex).
    """
    recs = _records(records)
    out = {col: _pluck(recs, wire) for wire, col in _GROUP_SCALARS.items()}
    out["kind"] = _kinds(recs, kind, out["id"], GROUP_KINDS, _infer_group_kind)
    out["extra"] = [_extra(r, _GROUP_KNOWN) for r in recs]
    return _frame("groups", out)


# --------------------------------------------------------------------------- helpers


def _schema(name: str) -> Mapping[str, str]:
    try:
        return SCHEMA[name]
    except KeyError:
        raise ValidationError(
            f"unknown frame {name!r}", field="name", value=name, allowed=FRAMES
        ) from None


def _empty_lists(name: str) -> dict[str, list[Any]]:
    return {col: [] for col in SCHEMA[name]}


def _records(records: Records) -> list[Mapping[str, Any]]:
    if isinstance(records, Mapping | str | bytes):
        raise ValidationError(
            f"records must be a list of dicts, not a {type(records).__name__}",
            field="records",
            value=type(records).__name__,
            allowed="an iterable of dicts (API records)",
        )
    recs = list(records)
    for i, rec in enumerate(recs):
        if not _is_map(rec):
            raise ValidationError(
                f"records[{i}] is a {type(rec).__name__}, not a dict",
                field=f"records[{i}]",
                value=type(rec).__name__,
                allowed="dicts (API records)",
            )
    return recs


def _rows_frame(name: str, rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """A frame from row tuples in schema column order (one append per row is the fast path)."""
    columns = SCHEMA[name]
    if not rows:
        return _frame(name, {col: [] for col in columns})
    return _frame(name, dict(zip(columns, map(list, zip(*rows, strict=True)), strict=True)))


def _is_map(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)


def _map_or_empty(value: Any) -> Mapping[str, Any]:
    return value if _is_map(value) else {}


def _pluck(recs: Sequence[Mapping[str, Any]], wire: str) -> list[Any]:
    return [r.get(wire) for r in recs]


def _infer_config_kind(rec: Mapping[str, Any]) -> str:
    return "flag" if _EXPERIMENT_ONLY.isdisjoint(rec) else "experiment"


def _infer_group_kind(rec: Mapping[str, Any]) -> str:
    return "mutex" if "slots" in rec else "holdout"


def _kinds(
    recs: list[Mapping[str, Any]],
    kind: KindArg,
    ids: list[Any],
    allowed: tuple[str, ...],
    infer: Callable[[Mapping[str, Any]], str],
) -> list[str]:
    if kind is None:
        return [infer(r) for r in recs]
    if isinstance(kind, str):
        if kind not in allowed:
            raise ValidationError(
                f"kind must be one of {', '.join(allowed)}, not {kind!r}",
                field="kind",
                value=kind,
                allowed=allowed,
            )
        return [kind] * len(recs)
    if isinstance(kind, Mapping):
        bad = {k for k in kind.values() if k not in allowed}
        if bad:
            raise ValidationError(
                f"kind mapping has invalid kinds {sorted(map(str, bad))}",
                field="kind",
                value=sorted(map(str, bad)),
                allowed=allowed,
            )
        out = []
        for rec, cid in zip(recs, ids, strict=True):
            found = kind.get(_as_str(cid)) if cid is not None else None
            out.append(found if found is not None else infer(rec))
        return out
    raise ValidationError(
        f"kind must be a str, a mapping of id to kind, or None, not {type(kind).__name__}",
        field="kind",
        value=type(kind).__name__,
        allowed=allowed,
    )


def _as_str(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _length(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def _number(value: Any) -> float | None:
    """A finite float, or None for anything else (booleans included)."""
    if type(value) is int or type(value) is float:
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _weights(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        return {}
    for k, v in value.items():
        if type(k) is not str or (type(v) is not int and type(v) is not float):
            return {_as_str(k): _weight(v) for k, v in value.items()}
    return dict(value)


def _weight(value: Any) -> int | float | None:
    if type(value) is int or type(value) is float:
        return value
    return _number(value)


def _str_list(value: Any) -> list[str]:
    if type(value) is list:
        # a plain loop beats all()/set() on the short lists conditions and tags hold
        for item in value:
            if type(item) is not str:
                break
        else:
            return value[:]
        return [_scalar_text(v) for v in value if v is not None]
    if isinstance(value, str):
        return [value]
    return []


_STR: frozenset[type] = frozenset({str})
_STR_NONE: frozenset[type] = frozenset({str, type(None)})
_INT_NONE: frozenset[type] = frozenset({int, type(None)})
_NUM_NONE: frozenset[type] = frozenset({int, float, type(None)})
_BOOL_NONE: frozenset[type] = frozenset({bool, type(None)})


def _only(values: Iterable[Any], types: frozenset[type]) -> bool:
    """Whether every value's type is one of ``types`` (C-speed scan, no generator)."""
    return set(map(type, values)) <= types


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return _json_text(value) or ""


def _parent_ids(value: Any) -> list[str]:
    if not isinstance(value, Mapping):
        return []
    flags = value.get("flags")
    if not isinstance(flags, Mapping):
        return []
    return [_as_str(k) for k in flags]


_encode = json.JSONEncoder(ensure_ascii=False).encode


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return _encode(value)
    except (TypeError, ValueError):
        return _encode(str(value))


def _extra(rec: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    if rec.keys() <= known:
        return {}
    return {k: v for k, v in rec.items() if k not in known}


def _mask_key(key: Any) -> str | None:
    if key is None:
        return None
    text = _as_str(key)
    # 4 + 4 visible characters only when at least half the key stays hidden
    return f"{text[:4]}…{text[-4:]}" if len(text) >= 16 else "…"


# --------------------------------------------------------------------------- casting

_NS_MIN = pd.Timestamp.min.tz_localize("UTC")
_NS_MAX = pd.Timestamp.max.tz_localize("UTC")


def _frame(name: str, columns: Mapping[str, list[Any]]) -> pd.DataFrame:
    """Cast each column list once to its declared dtype, in schema order."""
    schema = _schema(name)
    data = {col: _cast(columns[col], dtype) for col, dtype in schema.items()}
    n = len(next(iter(columns.values()))) if columns else 0
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def _cast(values: list[Any], dtype: str) -> Any:
    if dtype == STRING:
        return _cast_string(values)
    if dtype == INT:
        return _cast_int(values)
    if dtype == FLOAT:
        return _cast_float(values)
    if dtype == BOOL:
        return _cast_bool(values)
    if dtype == TIME:
        return _cast_time(values)
    if dtype == OBJECT:
        return pd.Series(values, dtype=object).array
    raise AssertionError(f"dtype {dtype!r} not handled")  # pragma: no cover


def _cast_string(values: list[Any]) -> Any:
    if not _only(values, _STR_NONE):
        values = [None if v is None else _scalar_text(v) for v in values]
    return pd.array(values, dtype=STRING)


def _cast_int(values: list[Any]) -> Any:
    if not _only(values, _INT_NONE):
        values = [_integer(v) for v in values]
    try:
        return pd.array(values, dtype=INT)
    except (OverflowError, TypeError, ValueError):
        return pd.array([_integer(v) for v in values], dtype=INT)


def _integer(value: Any) -> int | None:
    if type(value) is int:
        return value if -(2**63) <= value < 2**63 else None
    number = _number(value)
    if number is None or not number.is_integer():
        return None
    return _integer(int(number))


def _cast_float(values: list[Any]) -> Any:
    if not _only(values, _NUM_NONE):
        values = [_number(v) for v in values]
    try:
        return pd.array(values, dtype=FLOAT)
    except (OverflowError, TypeError, ValueError):
        return pd.array([_number(v) for v in values], dtype=FLOAT)


def _cast_bool(values: list[Any]) -> Any:
    if not _only(values, _BOOL_NONE):
        values = [
            v if type(v) is bool else _BOOL_TEXT.get(v) if isinstance(v, str) else None
            for v in values
        ]
    return pd.array(values, dtype=BOOL)


_BOOL_TEXT: dict[Any, bool] = {"true": True, "false": False}


def _cast_time(values: list[Any]) -> Any:
    texts = [v if type(v) is str else None for v in values]
    if not texts:
        return pd.array([], dtype=TIME)
    parsed = pd.to_datetime(
        pd.Series(texts, dtype=object), utc=True, format="ISO8601", errors="coerce"
    )
    # the API's dates fit in nanoseconds; anything outside (garbage) becomes NaT, not an error
    parsed = parsed.where((parsed >= _NS_MIN) & (parsed <= _NS_MAX))
    return parsed.astype(TIME).array

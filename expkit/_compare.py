"""Compare two projects (environments) of one org: what differs in what should match.

``compare(snap, source_project, target_project)`` matches configs by ``(kind, key)`` and
compares what should be the same in every environment: enabled, rollout percentage,
weights, variants and their payloads, segments (their order, percentage, weights,
bucketing key and conditions), bucketing key and unit, evaluation mode and tags. What must
differ between projects is ignored: ids, project ids, deployments, bucketing salts,
timestamps and authors. Archived and deleted configs count as missing.

Pure: a function of the snapshot's frames (or of two wire configs, for PromoteEdit).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from expkit.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["COMPARE_SCHEMA", "STATUSES", "compare", "compare_configs", "plot_drift"]

COMPARE_SCHEMA: dict[str, str] = {
    "key": "string",
    "kind": "string",
    "field": "string",
    "source": "string",
    "target": "string",
    "status": "string",
}
MISSING_IN_TARGET = "missing in target"
MISSING_IN_SOURCE = "missing in source"
DIFFERS = "differs"
STATUSES = (MISSING_IN_TARGET, MISSING_IN_SOURCE, DIFFERS)

_SCALARS = (
    ("enabled", "enabled"),
    ("rolloutPercentage", "rollout_percentage"),
    ("bucketingKey", "bucketing_key"),
    ("bucketingUnit", "bucketing_unit"),
    ("evaluationMode", "evaluation_mode"),
)
_KIND = {"flags": "flag", "experiments": "experiment", "flag": "flag", "experiment": "experiment"}


def _plain(value: Any) -> Any:
    """numpy arrays, pandas NA and floats that are whole numbers, as plain JSON values."""
    if value is None:
        return None
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        return _plain(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else value
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return value


def _text(value: Any) -> str:
    # JSON text: a null value reads "null", unlike a side where the field is missing (<NA>)
    return json.dumps(value, sort_keys=True, default=str)


def facets(config: Mapping[str, Any]) -> dict[str, Any]:
    """The comparable fields of a wire config, flat: ``field -> plain value``."""
    out: dict[str, Any] = {}
    for wire, name in _SCALARS:
        out[name] = _plain(config.get(wire))
    out["tags"] = sorted(_plain(config.get("tags")) or [])
    weights = _plain(config.get("rolloutWeights")) or {}
    variants = config.get("variants") or []
    keys = [str(v["key"]) for v in variants]
    out["variants"] = sorted(keys)
    for v in variants:
        k = str(v["key"])
        out[f"weights.{k}"] = weights.get(k, 0) or 0
        out[f"variants.{k}.payload"] = _plain(v.get("payload"))
    segments = config.get("targetSegments") or []
    out["segments"] = [str(s.get("name")) for s in segments]
    for s in segments:
        prefix = f"segments.{s.get('name')}"
        out[f"{prefix}.percentage"] = _plain(s.get("percentage"))
        out[f"{prefix}.rollout_weights"] = _plain(s.get("rolloutWeights")) or {}
        out[f"{prefix}.bucketing_key"] = _plain(s.get("bucketingKey"))
        out[f"{prefix}.conditions"] = [
            [c.get("prop"), c.get("op"), sorted(str(x) for x in _plain(c.get("values")) or [])]
            for c in s.get("conditions") or []
        ]
    return out


def _config_rows(
    key: str, kind: str, source: Mapping[str, Any] | None, target: Mapping[str, Any] | None
) -> Iterator[tuple[str, str, str | None, str | None, str | None, str]]:
    if target is None:
        yield key, kind, None, "present", None, MISSING_IN_TARGET
        return
    if source is None:
        yield key, kind, None, None, "present", MISSING_IN_SOURCE
        return
    a, b = facets(source), facets(target)
    # a variant or segment present on one side only gives one row, not one per field
    only = {f"variants.{k}" for k in set(a["variants"]) ^ set(b["variants"])}
    only |= {f"weights.{k}" for k in set(a["variants"]) ^ set(b["variants"])}
    only |= {f"segments.{s}" for s in set(a["segments"]) ^ set(b["segments"])}
    for name in dict.fromkeys([*a, *b]):
        if name.rsplit(".", 1)[0] in only or name in only:
            continue
        if name in ("variants", "segments") and set(a[name]) != set(b[name]):
            continue  # the rows below name what is missing; the order is compared otherwise
        if name not in b:
            yield key, kind, name, _text(a[name]), None, MISSING_IN_TARGET
        elif name not in a:
            yield key, kind, name, None, _text(b[name]), MISSING_IN_SOURCE
        elif a[name] != b[name]:
            yield key, kind, name, _text(a[name]), _text(b[name]), DIFFERS
    for what, field in (("variants", "variants"), ("segments", "segments")):
        left, right = set(a[field]), set(b[field])
        for item in sorted(left - right):
            yield key, kind, f"{what}.{item}", "present", None, MISSING_IN_TARGET
        for item in sorted(right - left):
            yield key, kind, f"{what}.{item}", None, "present", MISSING_IN_SOURCE


def _frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    import pandas as pd

    columns = list(COMPARE_SCHEMA)
    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    return pd.DataFrame(data, columns=columns).astype(COMPARE_SCHEMA)


def compare_configs(
    source: Mapping[str, Any] | None, target: Mapping[str, Any] | None, *, kind: str = "flags"
) -> pd.DataFrame:
    """The compare rows of one config given as two wire dicts (None: missing on that side)."""
    either = source or target or {}
    key = str(either.get("key") or "")
    return _frame(list(_config_rows(key, _KIND.get(kind, kind), source, target)))


def _project_id(value: Any, field: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            f"{field} must be a project id, got {value!r}.",
            field=field,
            value=value,
            allowed="a project id such as '217854'",
        )
    return value.strip()


def _columns(frame: pd.DataFrame, names: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    """The rows of some columns as tuples of plain values (much faster than to_dict)."""
    return zip(*(frame[name].tolist() for name in names), strict=True)


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    return _plain(value)


def _wire_configs(snap: Any, project: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The snapshot's live configs of one project, rebuilt as wire-like dicts.

    Payloads stay JSON text (``payloadText``) until two configs differ: parsing every
    payload of two big projects would cost more than the whole comparison.
    """
    configs = snap.configs
    live = configs[
        (configs["project_id"].astype("string") == project)
        & ~configs["archived"].fillna(False).astype(bool)
        & ~configs["deleted"].fillna(False).astype(bool)
    ]
    out: dict[tuple[str, str], dict[str, Any]] = {}
    by_id: dict[str, dict[str, Any]] = {}
    names = (
        "id",
        "kind",
        "key",
        "enabled",
        "rollout_percentage",
        "bucketing_key",
        "bucketing_unit",
        "evaluation_mode",
        "tags",
        "rollout_weights",
    )
    for cid, kind, key, enabled, pct, bkey, bunit, mode, tags, weights in _columns(live, names):
        config = {
            "key": key,
            "enabled": _scalar(enabled),
            "rolloutPercentage": _scalar(pct),
            "bucketingKey": _scalar(bkey),
            "bucketingUnit": _scalar(bunit),
            "evaluationMode": _scalar(mode),
            "tags": _plain(tags) or [],
            "rolloutWeights": _plain(weights) or {},
            "variants": [],
            "targetSegments": [],
        }
        out[(str(kind), str(key))] = config
        by_id[str(cid)] = config
    if not by_id:
        return out
    ids = list(by_id)
    variants = snap.variants
    variants = variants[variants["config_id"].isin(ids)]
    for cid, vkey, payload in _columns(variants, ("config_id", "variant_key", "payload")):
        by_id[str(cid)]["variants"].append({"key": vkey, "payloadText": _scalar(payload)})
    segments = snap.segments
    segments = segments[segments["config_id"].isin(ids)].sort_values(["config_id", "segment_index"])
    seg_at: dict[tuple[str, int], dict[str, Any]] = {}
    seg_names = ("config_id", "segment_index", "name", "percentage", "bucketing_key")
    for (cid, index, name, pct, bkey), weights in zip(
        _columns(segments, seg_names), segments["rollout_weights"].tolist(), strict=True
    ):
        segment = {
            "name": _scalar(name),
            "percentage": _scalar(pct),
            "bucketingKey": _scalar(bkey),
            "rolloutWeights": _plain(weights) or {},
            "conditions": [],
        }
        by_id[str(cid)]["targetSegments"].append(segment)
        seg_at[(str(cid), int(index))] = segment
    conditions = snap.conditions
    conditions = conditions[conditions["config_id"].isin(ids)].sort_values(
        ["config_id", "segment_index", "condition_index"]
    )
    cond_names = ("config_id", "segment_index", "prop", "op", "values")
    for cid, index, prop, op, values in _columns(conditions, cond_names):
        found = seg_at.get((str(cid), int(index)))
        if found is not None:
            found["conditions"].append({"prop": prop, "op": op, "values": _plain(values)})
    return out


def _parse_payloads(config: Mapping[str, Any]) -> dict[str, Any]:
    variants = []
    for v in config.get("variants") or []:
        text = v.get("payloadText")
        variants.append({"key": v["key"], "payload": None if text is None else json.loads(text)})
    return {**config, "variants": variants}


def compare(snap: Any, source_project: str | int, target_project: str | int) -> pd.DataFrame:
    """One row per difference between two projects: key, kind, field, source, target, status.

    ``status`` is ``missing in target``, ``missing in source`` (a config, variant or segment
    present on one side only; ``field`` is empty for a whole config) or ``differs``.
    ``source`` and ``target`` are JSON text. Rows are sorted by kind, key and field.
    """
    source = _project_id(source_project, "source_project")
    target = _project_id(target_project, "target_project")
    if source == target:
        raise ValidationError(
            f"source_project and target_project are both {source}: compare two different projects.",
            field="target_project",
            value=target,
            allowed=f"a project id other than {source}",
        )
    for name in ("configs", "variants", "segments", "conditions"):
        if not hasattr(snap, name):
            raise ValidationError(
                f"compare needs a Snapshot (from expkit.snapshot); {type(snap).__name__} has no "
                f"{name} frame.",
                field="snap",
                value=type(snap).__name__,
                allowed="an expkit.Snapshot",
            )
    a = _wire_configs(snap, source)
    b = _wire_configs(snap, target)
    rows: list[tuple[Any, ...]] = []
    for kind, key in sorted(set(a) | set(b)):
        left, right = a.get((kind, key)), b.get((kind, key))
        if left is not None and right is not None:
            if left == right:
                continue  # the common case, decided without parsing a payload
            left, right = _parse_payloads(left), _parse_payloads(right)
        rows.extend(_config_rows(key, kind, left, right))
    rows.sort(key=lambda r: (r[1], r[0], r[2] or ""))
    return _frame(rows)


_COLOURS = {MISSING_IN_TARGET: "#cf222e", MISSING_IN_SOURCE: "#bf8700", DIFFERS: "#0969da"}


def plot_drift(drift: pd.DataFrame, *, ax: Axes | None = None, top: int = 20) -> Axes:
    """Horizontal bars: differences per config (the ``top`` configs), stacked by status."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    missing = [c for c in ("key", "kind", "status") if c not in drift.columns]
    if missing:
        raise ValidationError(
            f"drift needs the columns of expkit.compare; missing {', '.join(missing)}.",
            field="drift",
            value=missing,
            allowed=", ".join(COMPARE_SCHEMA),
        )
    ax.set_xlabel("differences")
    if drift.empty:
        ax.set_title("No drift between the projects")
        return ax
    counts = (
        drift.assign(config=drift["kind"].astype(str) + " " + drift["key"].astype(str))
        .groupby(["config", "status"])
        .size()
        .unstack(fill_value=0)
    )
    order = counts.sum(axis=1).sort_values(ascending=True).tail(top).index
    counts = counts.loc[order]
    left = [0] * len(counts)
    for status in STATUSES:
        if status not in counts.columns:
            continue
        values = counts[status].tolist()
        ax.barh(list(counts.index), values, left=left, color=_COLOURS[status], label=status)
        left = [x + y for x, y in zip(left, values, strict=True)]
    ax.legend(loc="lower right")
    ax.set_title("Drift between projects")
    return ax

"""Rollout history over versions and field-level version diffs (pure functions of frames).

``rollout_history`` turns the versions frame (``expkit.frames.versions``) into one row per
(config, version, population, variant) with the effective % of DESIGN.md's rollout math;
``diff_versions`` compares two flagConfigs field by field, reading variants by key, segments by
name and conditions by property, so reordering a list is not a change; ``changes`` is the
change log: every consecutive diff of every config.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from expkit._rollout import EVERYONE_ELSE, populations, variant_keys, weight_value
from expkit._wire import camel_to_snake
from expkit.errors import ValidationError

__all__ = [
    "CHANGES_SCHEMA",
    "DIFF_SCHEMA",
    "EVERYONE_ELSE",
    "HISTORY_SCHEMA",
    "changes",
    "diff_versions",
    "rollout_history",
]

# which config and version a row is about: the first columns of both frames below
_META_SCHEMA: Mapping[str, str] = {
    "config_id": "string",
    "kind": "string",
    "config_key": "string",
    "version": "Int64",
    "created_at": "datetime64[ns, UTC]",
    "created_by": "string",
}

HISTORY_SCHEMA: Mapping[str, str] = {
    **_META_SCHEMA,
    "segment": "string",
    "segment_index": "Int64",
    "variant_key": "string",
    "enabled": "boolean",
    "percentage": "Float64",
    "weight": "Float64",
    "share": "Float64",
    "effective_pct": "Float64",
}

DIFF_SCHEMA: Mapping[str, str] = {
    "path": "string",
    "old": "string",
    "new": "string",
    "change": "string",
}

CHANGES_SCHEMA: Mapping[str, str] = {
    **_META_SCHEMA,
    **DIFF_SCHEMA,
}

_VERSION_COLUMNS = ("config_id", "version")
_META = tuple(_META_SCHEMA)

# fields that say when/who, not what: never a change in themselves
_METADATA = frozenset(
    {"createdAt", "createdBy", "lastModifiedAt", "lastModifiedBy", "created_at", "created_by"}
)
# dicts whose keys are data (variant keys, config ids), not field names: kept verbatim
_MAPS = frozenset({"rollout_weights", "flags"})
# lists of dicts matched by an identity field instead of by position
_LIST_IDS = {"variants": "key", "target_segments": "name", "conditions": "prop"}
# values shown whole rather than field by field
_LEAVES = frozenset({"payload"})


def _frame(columns: dict[str, list[Any]], schema: Mapping[str, Any]) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name, dtype in schema.items():
        values = columns.get(name, [])
        if dtype.startswith("datetime"):
            data[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
            data[name] = data[name].astype(dtype)
        else:
            data[name] = pd.array(values, dtype=dtype)
    return pd.DataFrame(data)


def require_frame(frame: Any, columns: Sequence[str], *, name: str, source: str) -> None:
    """Raises ValidationError unless ``frame`` is a DataFrame with ``columns``; ``source`` is
    the call that builds such a frame (named in the message).
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(
            f"{name} must be a pandas DataFrame ({source}), not {type(frame).__name__}.",
            field=name,
            value=type(frame).__name__,
            allowed="a DataFrame with columns " + ", ".join(columns),
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"{name} is missing column(s) {', '.join(missing)}; build it with {source}.",
            field=name,
            value=list(frame.columns),
            allowed=columns,
        )


def _check_versions(versions_frame: Any, required: tuple[str, ...]) -> None:
    require_frame(
        versions_frame,
        required,
        name="versions_frame",
        source="expkit.frames.versions(records)",
    )


def _scalar(value: Any) -> Any:
    """pandas missing values as None; everything else unchanged."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _rows(frame: pd.DataFrame, names: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """The frame's rows as dicts of the named columns it has (cheaper than ``to_dict``)."""
    present = [name for name in names if name in frame.columns]
    values = [frame[name].tolist() for name in present]
    for row in zip(*values, strict=True):
        yield dict(zip(present, row, strict=True))


def _config_cell(value: Any) -> Mapping[str, Any]:
    """A ``config`` cell as a dict: dicts as they are, text parsed as JSON or, as
    ``DataFrame.to_csv`` writes dicts, as a Python literal (CSV round trips).
    """
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            try:
                parsed = ast.literal_eval(value)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return {}
        return parsed if isinstance(parsed, Mapping) else {}
    return {}


def _version_config(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row's flagConfig; the frame's own columns fill in what the dict lacks."""
    config = dict(_config_cell(row.get("config")))
    if "enabled" not in config and _scalar(row.get("enabled")) is not None:
        config["enabled"] = bool(row["enabled"])
    if (
        "rolloutPercentage" not in config
        and "rollout_percentage" not in config
        and _scalar(row.get("rollout_percentage")) is not None
    ):
        config["rolloutPercentage"] = float(row["rollout_percentage"])
    weights = row.get("rollout_weights")
    if (
        "rolloutWeights" not in config
        and "rollout_weights" not in config
        and isinstance(weights, Mapping)
    ):
        config["rolloutWeights"] = dict(weights)
    return config


def rollout_history(versions_frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (config, version, population, variant): who got what after each version.

    Populations are "everyone else" (``segment_index`` <NA>) and each target segment, by
    name. ``share`` is the variant's weight over the population's Σ weights (0 when all
    weights are 0); ``effective_pct`` is ``enabled × percentage × share`` in % (<NA> when
    ``enabled`` or the percentage is missing). A version with no variants keeps one row per
    population with ``variant_key`` <NA>, so disabled spans and version times survive.
    """
    _check_versions(versions_frame, _VERSION_COLUMNS)
    frame = versions_frame.sort_values(["config_id", "version"], kind="stable")
    # per output row: the version's position, then the population's and variant's values;
    # version-level columns are taken (typed) at the end instead of repeated in Python
    positions: list[int] = []
    segment: list[str] = []
    segment_index: list[int] = []
    variant: list[str | None] = []
    percentage: list[float] = []
    weight: list[float] = []
    share: list[float] = []
    effective_pct: list[float] = []
    enabled_by_version: list[bool | None] = []
    keys_by_version: list[Any] = []
    nan = math.nan
    rows = _rows(frame, ("enabled", "rollout_percentage", "rollout_weights", "config"))
    for position, row in enumerate(rows):
        config = _version_config(row)
        enabled = config.get("enabled") if isinstance(config.get("enabled"), bool) else None
        enabled_by_version.append(enabled)
        keys_by_version.append(config.get("key"))
        keys = variant_keys(config)
        n = max(len(keys), 1)
        for population in populations(config):
            pct = population.percentage
            given = population.weights
            # a variant the population's weights do not name: weight <NA>, counted as 0
            weights = [weight_value(given[k]) if k in given else nan for k in keys] or [nan]
            total = math.fsum(w for w in weights if w == w)
            shares = [w / total if total > 0 and w == w else 0.0 for w in weights]
            if enabled is False:
                effective = [0.0] * n
            elif enabled is None or math.isnan(pct):
                effective = [nan] * n
            else:
                effective = [pct * x for x in shares]
            positions.extend([position] * n)
            segment.extend([population.name] * n)
            segment_index.extend([-1 if population.index is None else population.index] * n)
            variant.extend(keys or [None])
            percentage.extend([pct] * n)
            weight.extend(weights)
            share.extend(shares)
            effective_pct.extend(effective)

    take = np.asarray(positions, dtype=np.intp)
    meta = _version_columns(frame, keys_by_version)
    index = np.asarray(segment_index, dtype="int64")
    data = {
        **{name: meta[name].take(take) for name in _META},
        "segment": pd.array(segment, dtype="string"),
        "segment_index": pd.arrays.IntegerArray(index, index < 0),
        "variant_key": pd.array(variant, dtype="string"),
        "enabled": pd.array(enabled_by_version, dtype="boolean").take(take),
        "percentage": _floats(percentage),
        "weight": _floats(weight),
        "share": _floats(share),
        "effective_pct": _floats(effective_pct),
    }
    return pd.DataFrame(data, columns=list(HISTORY_SCHEMA))


def _floats(values: list[float]) -> Any:
    """A Float64 array from floats, ``nan`` meaning missing."""
    array = np.asarray(values, dtype="float64")
    return pd.arrays.FloatingArray(array, np.isnan(array))


def _version_columns(frame: pd.DataFrame, keys: list[Any]) -> dict[str, Any]:
    """The version-level columns of the history, cast once to their declared dtypes."""
    out: dict[str, Any] = {}
    for name in _META:
        dtype: Any = HISTORY_SCHEMA[name]
        if name in frame.columns:
            column = frame[name]
        elif name == "config_key":
            column = pd.Series(keys, dtype=object)
        else:
            column = pd.Series([None] * len(frame), dtype=object)
        if dtype.startswith("datetime"):
            column = pd.to_datetime(column, utc=True, format="ISO8601")
        out[name] = column.astype(dtype).array
    return out


def _json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "), default=str
    )


def _identity(items: list[Any], field: str) -> list[str] | None:
    """Labels for list items by ``field`` (duplicates get #2, #3…), or None if not all have it."""
    labels: list[str] = []
    seen: dict[str, int] = {}
    for item in items:
        if not isinstance(item, Mapping) or item.get(field) in (None, ""):
            return None
        base = str(item[field])
        seen[base] = seen.get(base, 0) + 1
        labels.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return labels


def _is_scalar_list(value: Any) -> bool:
    return isinstance(value, list) and all(not isinstance(v, dict | list) for v in value)


def _same_scalar_list(old: list[Any], new: list[Any]) -> bool:
    """Lists of scalars (condition values, tags, deployments) are sets: order is no change."""
    return sorted(map(_json, old)) == sorted(map(_json, new))


def _walk(old: Any, new: Any, path: str, field: str) -> Iterator[tuple[str, Any, Any, str]]:
    missing = _MISSING
    if old is missing and new is missing:
        return
    if old is missing:
        yield path, missing, new, "added"
        return
    if new is missing:
        yield path, old, missing, "removed"
        return
    if type(old) is type(new) and old == new:
        # most of two consecutive versions is equal: one C-level comparison skips it
        # (Python's True == 1 means a bool swapped for an equal number inside is not seen)
        return
    if field in _LEAVES:
        if old != new:
            yield path, old, new, "changed"
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        keep = field in _MAPS
        for key in list(dict.fromkeys([*old, *new])):
            if not path and key in _METADATA:
                continue
            old_value, new_value = old.get(key, missing), new.get(key, missing)
            if type(old_value) is type(new_value) and old_value == new_value:
                continue
            name = str(key) if keep else camel_to_snake(str(key))
            child = f"{path}.{name}" if path else name
            yield from _walk(old_value, new_value, child, name)
        return
    if isinstance(old, list) and isinstance(new, list):
        if _is_scalar_list(old) and _is_scalar_list(new):
            if not _same_scalar_list(old, new):
                yield path, old, new, "changed"
            return
        id_field = _LIST_IDS.get(field)
        old_ids = _identity(old, id_field) if id_field else None
        new_ids = _identity(new, id_field) if id_field else None
        if old_ids is None or new_ids is None or (field == "conditions" and not _unique(old, new)):
            old_ids = [str(i) for i in range(len(old))]
            new_ids = [str(i) for i in range(len(new))]
        old_by = dict(zip(old_ids, old, strict=True))
        new_by = dict(zip(new_ids, new, strict=True))
        for label in list(dict.fromkeys([*old_ids, *new_ids])):
            yield from _walk(
                old_by.get(label, missing), new_by.get(label, missing), f"{path}[{label}]", ""
            )
        return
    if not _equal(old, new):
        yield path, old, new, "changed"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(old: Any, new: Any) -> bool:
    """1 and 1.0 are equal; True and 1 are not (JSON tells them apart)."""
    if _is_number(old) and _is_number(new):
        return old == new
    return type(old) is type(new) and old == new


def _unique(old: list[Any], new: list[Any]) -> bool:
    """Conditions are matched by property only when no property repeats on either side."""
    for items in (old, new):
        props = [item.get("prop") for item in items if isinstance(item, Mapping)]
        if len(props) != len(set(props)):
            return False
    return True


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def _diff_rows(
    old_config: Mapping[str, Any], new_config: Mapping[str, Any]
) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {name: [] for name in DIFF_SCHEMA}
    for path, old, new, change in _walk(old_config, new_config, "", ""):
        columns["path"].append(path)
        columns["old"].append(None if old is _MISSING else _json(old))
        columns["new"].append(None if new is _MISSING else _json(new))
        columns["change"].append(change)
    return columns


def _check_config(config: Any, name: str) -> Mapping[str, Any]:
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise ValidationError(
            f"{name} must be a config dict (a version's flagConfig), not {type(config).__name__}.",
            field=name,
            value=type(config).__name__,
            allowed="dict or None",
        )
    return config


def diff_versions(
    old_config: Mapping[str, Any] | None, new_config: Mapping[str, Any] | None
) -> pd.DataFrame:
    """Field-level differences between two configs: ``path``, ``old``, ``new``, ``change``.

    Paths use snake_case field names and read list items by identity, not position:
    ``variants[treatment].payload``, ``target_segments[Beta users].conditions[country].values``,
    ``rollout_weights.control``. ``old``/``new`` are JSON text (<NA> when absent); ``change`` is
    ``added``, ``removed`` or ``changed``. Reordering variants, segments, conditions or the
    values of a condition is not a change. ``None`` compares as an empty config.
    """
    old = _check_config(old_config, "old_config")
    new = _check_config(new_config, "new_config")
    return _frame(_diff_rows(old, new), DIFF_SCHEMA)


def changes(versions_frame: pd.DataFrame) -> pd.DataFrame:
    """The change log: each version's field-level diff from the previous version of its config.

    One row per changed field, with ``config_id, kind, config_key, version, created_at,
    created_by`` in front of ``path, old, new, change``. Version 1 of a config is one row
    ``path="(created)"``, ``change="added"``; when the frame starts later (``since=``), its
    first version there is one row ``path="(earliest in frame)"``. Versions that changed
    nothing in the flagConfig give no rows. Rows are in time order, oldest first.
    """
    _check_versions(versions_frame, (*_VERSION_COLUMNS, "config"))
    columns: dict[str, list[Any]] = {name: [] for name in CHANGES_SCHEMA}
    meta_names = ("config_id", "kind", "config_key", "version", "created_at", "created_by")
    frame = versions_frame.sort_values(["config_id", "version"], kind="stable")
    previous_id: Any = _MISSING
    previous: Mapping[str, Any] = {}
    for row in _rows(frame, (*meta_names, "config")):
        config = _config_cell(row.get("config"))
        meta = [_scalar(row.get(name)) for name in meta_names]
        if row["config_id"] != previous_id:
            first = "(created)" if meta[3] == 1 else "(earliest in frame)"
            diff: dict[str, list[Any]] = {
                "path": [first],
                "old": [None],
                "new": [None],
                "change": ["added"],
            }
        else:
            diff = _diff_rows(previous, config)
        for i in range(len(diff["path"])):
            for name, value in zip(meta_names, meta, strict=True):
                columns[name].append(value)
            for name in DIFF_SCHEMA:
                columns[name].append(diff[name][i])
        previous_id, previous = row["config_id"], config
    log = _frame(columns, CHANGES_SCHEMA)
    # read as a log: oldest first across configs (a version's own rows keep their order)
    return log.sort_values(["created_at", "config_id", "version"], kind="stable", ignore_index=True)

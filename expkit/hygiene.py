"""Flag hygiene: twelve pure rules over a :class:`~expkit.Snapshot` → one findings DataFrame.

``check(snapshot)`` runs every rule of ``RULES`` and returns one row per (rule, config): what
is wrong (``detail``), since when (``since``, read from the version history), what to do
(``action``) and who to ask (``owner``, the config's last modifier). Thresholds live in one
``HygieneConfig`` (defaults below), overridable per call (``check(snap, stale_days=45)``) and
from a TOML file (``HygieneConfig.from_toml(path)``).

Rules see the *current* state of each config (rebuilt from the snapshot's frames) and walk its
versions backwards to find when the condition started: ``since`` is the creation time of the
first version of the unbroken run of versions in which the condition holds, so unrelated edits
(a new description, a tag) do not reset the clock of a staleness rule. Without versions for a
config, ``since`` falls back to its ``last_modified_at`` (the condition has held at least
since then). Inclusions have no history, so their rules leave ``since`` empty.

Nothing here sends a request, writes a file or mutates its inputs.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pandas as pd

from expkit._rollout import (
    allocated_pct,
    fully_rolled_out_variant,
    populations,
    segment_allocates,
    variant_keys,
)
from expkit.errors import ValidationError

if TYPE_CHECKING:
    from expkit._fetch import Snapshot

__all__ = [
    "FINDINGS_COLUMNS",
    "PERMANENT_TAG",
    "RULES",
    "SEVERITIES",
    "SEVERITY_DTYPE",
    "Context",
    "Finding",
    "HygieneConfig",
    "Rule",
    "check",
    "empty_findings",
    "read_findings",
    "write_findings",
]

# worst first; the dtype is ordered from least to most severe so ``severity >= "warning"`` works
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")
SEVERITY_DTYPE = pd.CategoricalDtype(["info", "warning", "error"], ordered=True)
PERMANENT_TAG = "expkit:permanent"

FINDINGS_COLUMNS: MappingProxyType[str, Any] = MappingProxyType(
    {
        "rule": "string",
        "severity": SEVERITY_DTYPE,
        "kind": "string",
        "key": "string",
        "id": "string",
        "project_id": "string",
        "detail": "string",
        "since": "datetime64[ns, UTC]",
        "action": "string",
        "owner": "string",
    }
)

_DAY = pd.Timedelta(days=1)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class HygieneConfig:
    """Thresholds and switches of the hygiene rules (all optional; defaults shown).

    ``stale_days``: days a config must have served one variant to everyone before
    ``fully-rolled-out`` fires. ``inactive_days``: days disabled (or allocating nobody) before
    ``inactive`` fires. ``long_running_days``: days a running experiment may go without a
    decision. ``inclusion_warning`` / ``inclusion_limit``: individual users in one variant that
    make ``inclusion-overload`` a warning / an error (the API refuses more than 2,000).
    ``recent_days``: the window of ``recent-change``. ``permanent_tag``: the tag that exempts a
    config from the staleness rules. ``disabled``: rule ids not to run. ``severities``: rule id
    → severity, replacing a rule's default.
    """

    stale_days: int = 30
    inactive_days: int = 30
    long_running_days: int = 90
    inclusion_warning: int = 1800
    inclusion_limit: int = 2000
    recent_days: int = 7
    permanent_tag: str = PERMANENT_TAG
    disabled: tuple[str, ...] = ()
    severities: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise ValidationError(
                    f"hygiene setting {name} must be a whole number ≥ 0, not {value!r}",
                    field=name,
                    value=value,
                    allowed="an int ≥ 0",
                )
        if self.inclusion_warning > self.inclusion_limit:
            raise ValidationError(
                f"inclusion_warning ({self.inclusion_warning}) must not exceed "
                f"inclusion_limit ({self.inclusion_limit})",
                field="inclusion_warning",
                value=self.inclusion_warning,
                allowed=f"≤ inclusion_limit ({self.inclusion_limit})",
            )
        if not isinstance(self.permanent_tag, str) or not self.permanent_tag:
            raise ValidationError(
                "permanent_tag must be a non-empty string",
                field="permanent_tag",
                value=self.permanent_tag,
                allowed="a tag, e.g. 'expkit:permanent'",
            )
        disabled = (self.disabled,) if isinstance(self.disabled, str) else self.disabled
        if not isinstance(disabled, Iterable) or isinstance(disabled, Mapping):
            raise ValidationError(
                f"disabled must be a list of rule ids, not {disabled!r}",
                field="disabled",
                value=disabled,
                allowed=tuple(_RULES),
            )
        disabled = tuple(disabled)
        for rule_id in disabled:
            _check_rule_id(rule_id, "disabled")
        object.__setattr__(self, "disabled", disabled)
        if not isinstance(self.severities, Mapping):
            raise ValidationError(
                "severities must be a mapping of rule id to severity",
                field="severities",
                value=type(self.severities).__name__,
                allowed="{rule id: 'error' | 'warning' | 'info'}",
            )
        for rule_id, severity in self.severities.items():
            _check_rule_id(rule_id, "severities")
            if severity not in SEVERITIES:
                raise ValidationError(
                    f"severities[{rule_id!r}] must be one of {', '.join(SEVERITIES)}, "
                    f"not {severity!r}",
                    field=f"severities.{rule_id}",
                    value=severity,
                    allowed=SEVERITIES,
                )
        object.__setattr__(self, "severities", MappingProxyType(dict(self.severities)))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> HygieneConfig:
        """A config from a plain mapping (TOML keys: dashes or underscores); unknown keys raise."""
        values: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = str(raw_key).replace("-", "_")
            if key not in _FIELDS:
                raise ValidationError(
                    f"unknown hygiene setting {raw_key!r}",
                    field=str(raw_key),
                    value=value,
                    allowed=sorted(_FIELDS),
                )
            values[key] = value
        return cls(**values)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> HygieneConfig:
        """A config read from a TOML file.

        The settings may sit at the top level, in a ``[hygiene]`` table, or in
        ``[tool.expkit.hygiene]`` (so a ``pyproject.toml`` works too); a ``[hygiene.severities]``
        table overrides severities.
        """
        file = Path(path)
        try:
            with file.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ValidationError(
                f"hygiene config file {str(file)!r} does not exist",
                field="config",
                value=str(file),
                allowed="a readable TOML file",
            ) from None
        except IsADirectoryError:
            raise ValidationError(
                f"hygiene config file {str(file)!r} is a directory, not a file",
                field="config",
                value=str(file),
                allowed="a readable TOML file",
            ) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            why = "is not UTF-8" if isinstance(exc, UnicodeDecodeError) else "is not valid TOML"
            raise ValidationError(
                f"hygiene config file {str(file)!r} {why}: {exc}",
                field="config",
                value=str(file),
                allowed="a UTF-8 TOML file",
            ) from exc
        tool = data.get("tool")
        if isinstance(tool, Mapping) and "expkit" in tool:
            if not isinstance(tool["expkit"], Mapping):
                raise ValidationError(
                    f"[tool.expkit] of {str(file)!r} is not a table",
                    field="tool.expkit",
                    value=type(tool["expkit"]).__name__,
                    allowed="a TOML table with a [tool.expkit.hygiene] table",
                )
            return cls.from_mapping(_table(tool["expkit"].get("hygiene", {}), file))
        if "hygiene" not in data:
            return cls.from_mapping(data)
        # settings at the top level and in [hygiene] (e.g. only [hygiene.severities]) add up
        table = dict(_table(data["hygiene"], file))
        for key, value in data.items():
            if key == "hygiene":
                continue
            name = key.replace("-", "_")
            if name in {k.replace("-", "_") for k in table}:
                raise ValidationError(
                    f"hygiene setting {key!r} is set both at the top level and in [hygiene] "
                    f"of {str(file)!r}",
                    field=name,
                    value=value,
                    allowed="one of the two places",
                )
            table[key] = value
        return cls.from_mapping(table)

    def __reduce__(self) -> tuple[Any, ...]:
        # the severities mapping proxy cannot be pickled or deep-copied (pandas deep-copies
        # a findings frame's attrs, where check() keeps its config)
        values = {name: getattr(self, name) for name in _FIELDS}
        values["severities"] = dict(self.severities)
        return (_config_from_fields, (values,))

    def replace(self, **overrides: Any) -> HygieneConfig:
        """A copy with some settings changed (validated like the constructor)."""
        unknown = sorted(set(overrides) - set(_FIELDS))
        if unknown:
            raise ValidationError(
                f"unknown hygiene setting {unknown[0]!r}",
                field=unknown[0],
                value=overrides[unknown[0]],
                allowed=sorted(_FIELDS),
            )
        return dataclasses.replace(self, **overrides)

    def severity(self, rule_id: str) -> str:
        """The severity findings of ``rule_id`` get (its default unless overridden)."""
        return self.severities.get(rule_id, RULES[rule_id].severity)


_FIELDS = tuple(f.name for f in dataclasses.fields(HygieneConfig))
_INT_FIELDS = (
    "stale_days",
    "inactive_days",
    "long_running_days",
    "inclusion_warning",
    "inclusion_limit",
    "recent_days",
)


def _config_from_fields(values: Mapping[str, Any]) -> HygieneConfig:
    return HygieneConfig(**values)


def _table(value: Any, file: Path) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"the hygiene table of {str(file)!r} is not a table",
            field="hygiene",
            value=type(value).__name__,
            allowed="a TOML table",
        )
    return value


def _check_rule_id(rule_id: Any, field_name: str) -> None:
    if not isinstance(rule_id, str) or rule_id not in _RULES:
        raise ValidationError(
            f"{field_name} names an unknown rule {rule_id!r}",
            field=field_name,
            value=rule_id,
            allowed=tuple(_RULES),
        )


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Finding:
    """What a rule reports about one config; ``check`` adds the rule id and config columns."""

    config_id: str
    detail: str
    action: str
    since: pd.Timestamp | None = None
    # None: the rule's severity (from the config); rules with two levels set it themselves
    severity: str | None = None


@dataclass(frozen=True)
class Rule:
    """A registered hygiene rule: id, the function, default severity, what it checks."""

    id: str
    func: Callable[[Context], Iterable[Finding]]
    severity: str
    description: str
    staleness: bool
    includes_archived: bool

    def __call__(self, ctx: Context) -> list[Finding]:
        return list(self.func(ctx))


_RULES: dict[str, Rule] = {}


def _rule(
    rule_id: str,
    severity: str,
    description: str,
    *,
    staleness: bool = False,
    includes_archived: bool = False,
) -> Callable[[Callable[[Context], Iterable[Finding]]], Callable[[Context], Iterable[Finding]]]:
    def register(
        func: Callable[[Context], Iterable[Finding]],
    ) -> Callable[[Context], Iterable[Finding]]:
        _RULES[rule_id] = Rule(rule_id, func, severity, description, staleness, includes_archived)
        return func

    return register


def empty_findings() -> pd.DataFrame:
    """An empty findings frame with the declared columns and dtypes."""
    return _findings_frame([])


# a spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_findings(findings: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Writes ``findings`` as the report's ``findings.csv``; ``read_findings`` reads it back.

    Text from the API (keys, owners, details) that a spreadsheet would run as a formula is
    written with a leading ``'``, so opening the CSV in Excel or Sheets shows it as text;
    a value that itself starts with ``'`` gets one more, so reading back is exact.
    """
    out = {}
    for col in findings.columns:
        values = findings[col].astype(object).where(findings[col].notna(), None)
        if col == "since":
            # the API's times have milliseconds: a fixed "%S" format would cut them off
            out[col] = [None if t is None else t.isoformat().replace("+00:00", "Z") for t in values]
        else:
            out[col] = [_csv_text(v) for v in values]
    pd.DataFrame(out, columns=findings.columns).to_csv(path, index=False)


def _csv_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith((*_FORMULA_STARTS, "'")):
        return "'" + value
    return value


def _csv_untext(value: Any) -> Any:
    return value[1:] if isinstance(value, str) and value.startswith("'") else value


def read_findings(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A findings frame read back from the ``findings.csv`` a report wrote (same dtypes)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    raw = raw.apply(lambda col: col.map(_csv_untext))
    missing = [c for c in FINDINGS_COLUMNS if c not in raw.columns]
    if missing:
        raise ValidationError(
            f"{os.fspath(path)!r} is not a findings CSV: no column {missing[0]!r}",
            field="path",
            value=os.fspath(path),
            allowed=f"a CSV with columns {', '.join(FINDINGS_COLUMNS)}",
        )
    return _cast_findings(raw[list(FINDINGS_COLUMNS)])


def _cast_findings(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for col, dtype in FINDINGS_COLUMNS.items():
        values = frame[col]
        if col == "since":
            out[col] = pd.to_datetime(values, utc=True, format="ISO8601").astype(dtype)
        else:
            out[col] = values.astype(object).where(values.notna(), None).astype(dtype)
    return pd.DataFrame(out).reset_index(drop=True)


def _findings_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(FINDINGS_COLUMNS))
    frame = _cast_findings(frame)
    if frame.empty:
        return frame
    order = frame.assign(_rank=frame["severity"].cat.codes)
    order = order.sort_values(
        ["_rank", "rule", "key", "id"], ascending=[False, True, True, True], kind="stable"
    )
    return order.drop(columns="_rank").reset_index(drop=True)


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class _ConfigEntry:
    id: str
    row: Mapping[str, Any]  # the configs frame row, NA as None
    state: Mapping[str, Any]  # the current config in wire form (camelCase), rebuilt from frames
    history: tuple[tuple[int, Mapping[str, Any], Any], ...]  # (ns since epoch, flagConfig, by)

    @property
    def archived(self) -> bool:
        return bool(self.row.get("archived"))

    @property
    def kind(self) -> str:
        return self.row.get("kind") or "flag"

    @property
    def label(self) -> str:
        return self.row.get("key") or self.id


@dataclass(frozen=True)
class Context:
    """What every rule reads: the snapshot, ``now``, the config, and per-config state.

    Built once per ``check`` call (``Context.build``); rules never modify it.
    """

    snapshot: Any
    now: pd.Timestamp
    config: HygieneConfig
    entries: Mapping[str, _ConfigEntry]

    @classmethod
    def build(
        cls,
        snapshot: Snapshot | Any,
        *,
        now: datetime | pd.Timestamp | str | None = None,
        config: HygieneConfig | None = None,
    ) -> Context:
        """The context of one hygiene run over ``snapshot`` at ``now`` (default: its time)."""
        return cls(
            snapshot=snapshot,
            now=_resolve_now(snapshot, now),
            config=config or HygieneConfig(),
            entries=MappingProxyType(_entries(snapshot)),
        )

    def configs(self, *, archived: bool = False, permanent: bool = True) -> Iterator[_ConfigEntry]:
        """Configs a rule looks at: never deleted ones; archived and permanent ones on request."""
        tag = self.config.permanent_tag
        for entry in self.entries.values():
            if entry.archived and not archived:
                continue
            if not permanent and tag in (entry.row.get("tags") or ()):
                continue
            yield entry

    def frame(self, name: str) -> pd.DataFrame:
        """The snapshot's frame ``name``, or an empty frame when the snapshot has none."""
        frame = getattr(self.snapshot, name, None)
        if frame is None:
            from expkit import frames

            return frames.empty(name)
        return frame

    def run_start(
        self, entry: _ConfigEntry, holds: Callable[[Mapping[str, Any]], bool]
    ) -> pd.Timestamp | None:
        """When the unbroken run of versions in which ``holds`` is true began.

        Assumes ``holds(entry.state)``. If the latest version does not satisfy it (the
        snapshot's config is newer than its versions) or there are no versions, the answer is
        the config's last modification (a lower bound).
        """
        start = None
        for created_at, flag_config, _ in reversed(entry.history):
            if not holds(flag_config):
                break
            start = created_at
        if start is not None:
            return _stamp(start)
        return _timestamp(entry.row.get("last_modified_at") or entry.row.get("created_at"))

    def age(self, since: pd.Timestamp | None) -> pd.Timedelta | None:
        """``now - since``, or None when ``since`` is unknown."""
        if since is None:
            return None
        return self.now - since


def _resolve_now(snapshot: Any, now: datetime | pd.Timestamp | str | None) -> pd.Timestamp:
    value = now if now is not None else getattr(snapshot, "taken_at", None)
    if value is None:
        return pd.Timestamp.now(tz="UTC")
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ValidationError(
            f"now must be a datetime or an ISO 8601 string, not {value!r}",
            field="now",
            value=value,
            allowed="a datetime, pandas Timestamp or ISO 8601 string",
        ) from None
    if stamp is pd.NaT:
        raise ValidationError(
            "now must be a time, not NaT",
            field="now",
            value=value,
            allowed="a datetime, pandas Timestamp or ISO 8601 string",
        )
    # a naive time is taken as UTC, like the API's own timestamps
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _entries(snapshot: Any) -> dict[str, _ConfigEntry]:
    configs = getattr(snapshot, "configs", None)
    if configs is None or configs.empty:
        return {}
    variants = _group_records(getattr(snapshot, "variants", None))
    segments = _group_records(getattr(snapshot, "segments", None))
    conditions = _group_records(getattr(snapshot, "conditions", None))
    history = _histories(getattr(snapshot, "versions", None))
    out: dict[str, _ConfigEntry] = {}
    for row in _records(configs):
        cid = row.get("id")
        if cid is None or row.get("deleted"):
            continue
        state = _wire_state(
            row, variants.get(cid, []), segments.get(cid, []), conditions.get(cid, [])
        )
        out[cid] = _ConfigEntry(cid, MappingProxyType(row), state, history.get(cid, ()))
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with missing values as None (never pd.NA, whose truth value raises)."""
    columns = [_column_values(frame[col]) for col in frame.columns]
    names = list(frame.columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _column_values(column: pd.Series) -> list[Any]:
    """A column as a list of plain values, None where missing (one vectorised pass)."""
    values = column.astype(object)
    if column.dtype == object:
        # list and dict cells: notna() is per cell and correct for them
        return [None if _missing(v) else v for v in values.tolist()]
    return values.where(column.notna(), None).tolist()


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _group_records(frame: pd.DataFrame | None) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    if frame is None or frame.empty:
        return out
    for row in _records(frame):
        out.setdefault(row.get("config_id"), []).append(row)
    return out


def _histories(
    versions: pd.DataFrame | None,
) -> dict[str, tuple[tuple[int, Mapping[str, Any], Any], ...]]:
    """Per config, its versions oldest first as (created_at in ns since the epoch, config, by)."""
    if versions is None or versions.empty:
        return {}
    ordered = versions[versions["config_id"].notna() & versions["created_at"].notna()]
    ordered = ordered.sort_values(["config_id", "version"], kind="stable")
    out: dict[str, list[tuple[int, Mapping[str, Any], Any]]] = {}
    ids = ordered["config_id"].astype(object).tolist()
    # integer nanoseconds: building 10⁵ Timestamp objects would cost more than every rule
    times = ordered["created_at"].dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").tolist()
    configs = ordered["config"].tolist()
    authors = _column_values(ordered["created_by"])
    for cid, created_at, flag_config, author in zip(ids, times, configs, authors, strict=True):
        out.setdefault(cid, []).append(
            (created_at, flag_config if isinstance(flag_config, Mapping) else {}, author)
        )
    return {cid: tuple(items) for cid, items in out.items()}


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(ns, unit="ns", tz="UTC")


def _wire_state(
    row: Mapping[str, Any],
    variants: list[dict[str, Any]],
    segments: list[dict[str, Any]],
    conditions: list[dict[str, Any]],
) -> Mapping[str, Any]:
    """The current config in the API's shape, so one predicate reads it and its versions."""
    weights = dict(row.get("rollout_weights") or {})
    for variant in variants:
        key = variant.get("variant_key")
        if key is not None and key not in weights and variant.get("rollout_weight") is not None:
            weights[key] = variant["rollout_weight"]
    by_segment: dict[Any, list[dict[str, Any]]] = {}
    for cond in sorted(conditions, key=lambda c: c.get("condition_index") or 0):
        by_segment.setdefault(cond.get("segment_index"), []).append(
            {
                "type": cond.get("type"),
                "prop": cond.get("prop"),
                "op": cond.get("op"),
                "values": list(cond.get("values") or []),
            }
        )
    target_segments = [
        {
            "name": seg.get("name"),
            "percentage": seg.get("percentage"),
            "rolloutWeights": dict(seg.get("rollout_weights") or {}),
            "conditions": by_segment.get(seg.get("segment_index"), []),
        }
        for seg in sorted(segments, key=lambda s: s.get("segment_index") or 0)
    ]
    extra = row.get("extra") or {}
    parents = extra.get("parentDependencies") if isinstance(extra, Mapping) else None
    if not isinstance(parents, Mapping):
        parents = {"flags": {pid: [] for pid in row.get("parent_ids") or []}}
    state = {
        "id": row.get("id"),
        "key": row.get("key"),
        "description": row.get("description"),
        "enabled": row.get("enabled"),
        "archived": row.get("archived"),
        "rolloutPercentage": row.get("rollout_percentage"),
        "rolloutWeights": weights,
        "variants": [{"key": v.get("variant_key")} for v in variants],
        "targetSegments": target_segments,
        "deployments": list(row.get("deployments") or []),
        "tags": list(row.get("tags") or []),
        "parentDependencies": parents,
    }
    return MappingProxyType(state)


def _timestamp(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    if stamp is pd.NaT:
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


# --------------------------------------------------------------------------- rollout reading
# Readers of a config in wire form (the snapshot's current state or a version's flagConfig).
# Everything is defensive: versions from years ago may lack fields or hold odd types.


def _items(value: Any) -> list[Any]:
    """A list field as a list; anything else (None, a number, a dict) as empty."""
    return value if isinstance(value, list) else []


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) else 0.0


def _variant_keys(cfg: Mapping[str, Any]) -> list[str]:
    return [
        v["key"]
        for v in _items(cfg.get("variants"))
        if isinstance(v, Mapping) and isinstance(v.get("key"), str)
    ]


def _weights(cfg: Mapping[str, Any]) -> dict[str, float]:
    """Everyone-else weights: ``rolloutWeights``, else each variant's own ``rolloutWeight``."""
    raw = cfg.get("rolloutWeights")
    weights = {str(k): _number(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
    for v in _items(cfg.get("variants")):
        if (
            isinstance(v, Mapping)
            and isinstance(v.get("key"), str)
            and v["key"] not in weights
            and v.get("rolloutWeight") is not None
        ):
            weights[v["key"]] = _number(v["rolloutWeight"])
    return weights


def _segments(cfg: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in _items(cfg.get("targetSegments")) if isinstance(s, Mapping)]


def _segment_allocates(cfg: Mapping[str, Any], seg: Mapping[str, Any]) -> bool:
    return segment_allocates(seg, variant_keys(cfg))


def _sole_variant(cfg: Mapping[str, Any]) -> str | None:
    """The variant every user gets, if one does: everyone else and every segment at 100%."""
    winner = fully_rolled_out_variant(cfg)
    if winner is None:
        return None
    keys = variant_keys(cfg)
    for population in populations(cfg)[1:]:
        pct = population.effective(keys)
        if not math.isclose(pct.get(winner, 0.0), 100.0, abs_tol=1e-9):
            return None
    return winner


def _allocates_nobody(cfg: Mapping[str, Any]) -> bool:
    """Disabled, or enabled with nobody allocated; unknown ``enabled`` or rollout
    percentage is not inactive (unknown is not 0).
    """
    enabled = cfg.get("enabled")
    if enabled is False:
        return True
    if enabled is not True:
        return False
    pct = allocated_pct(cfg)
    if math.isnan(pct) or pct > 0:
        return False
    return not any(_segment_allocates(cfg, seg) for seg in _segments(cfg))


def _segment_label(seg: Mapping[str, Any], index: int) -> str:
    name = seg.get("name")
    return f"segment {index + 1} ({name!r})" if name else f"segment {index + 1}"


def _days(delta: pd.Timedelta | None) -> int:
    return 0 if delta is None else int(delta // _DAY)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _date(stamp: pd.Timestamp | None) -> str:
    return "unknown" if stamp is None else stamp.strftime("%Y-%m-%d")


def _quoted(items: Iterable[str]) -> str:
    return ", ".join(repr(i) for i in items)


# --------------------------------------------------------------------------- the rules


@_rule(
    "fully-rolled-out",
    "warning",
    "Every user has been getting the same variant for at least `stale_days` days: the flag "
    "is now dead weight in the code.",
    staleness=True,
)
def fully_rolled_out(ctx: Context) -> Iterator[Finding]:
    """Fires for an enabled, non-archived config without the permanent tag when one variant
    gets 100% of everyone else (rollout 100%, only that variant has a positive weight), every
    target segment also gives 100% to that same variant, and this has held for at least
    ``stale_days`` days (exactly ``stale_days`` fires), counted from the first version of the
    unbroken run in which that variant was the only outcome.
    """
    threshold = pd.Timedelta(days=ctx.config.stale_days)
    for entry in ctx.configs(permanent=False):
        winner = _sole_variant(entry.state)
        if winner is None:
            continue
        since = ctx.run_start(entry, lambda c, w=winner: _sole_variant(c) == w)
        age = ctx.age(since)
        if age is None or age < threshold:
            continue
        if entry.kind == "experiment":
            action = (
                f"Record the decision to ship {winner!r}, remove the experiment from the code "
                "(keep the winning behaviour) and archive it."
            )
        else:
            action = (
                f"Remove the flag from the code, keeping the {winner!r} behaviour, then archive "
                f"it (or tag it {ctx.config.permanent_tag!r} if it must stay)."
            )
        yield Finding(
            entry.id,
            f"every user gets {winner!r}, for {_plural(_days(age), 'day')} (since {_date(since)})",
            action,
            since,
        )


@_rule(
    "inactive",
    "warning",
    "Disabled, or enabled but allocating nobody, for at least `inactive_days` days.",
    staleness=True,
)
def inactive(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config without the permanent tag that is disabled, or enabled
    with no one allocated (everyone else at 0% or all weights 0, and no segment allocating
    anyone), continuously for at least ``inactive_days`` days (exactly ``inactive_days`` fires).
    """
    threshold = pd.Timedelta(days=ctx.config.inactive_days)
    for entry in ctx.configs(permanent=False):
        if not _allocates_nobody(entry.state):
            continue
        since = ctx.run_start(entry, _allocates_nobody)
        age = ctx.age(since)
        if age is None or age < threshold:
            continue
        how = "enabled but allocates nobody" if entry.state.get("enabled") else "disabled"
        yield Finding(
            entry.id,
            f"{how}, for {_plural(_days(age), 'day')} (since {_date(since)})",
            "Archive it and delete it from the code if it is no longer needed; if it is a "
            f"kill switch kept off on purpose, tag it {ctx.config.permanent_tag!r}.",
            since,
        )


@_rule(
    "no-deployment",
    "warning",
    "Enabled but in no (live) deployment, so no SDK can evaluate it.",
)
def no_deployment(ctx: Context) -> Iterator[Finding]:
    """Fires for an enabled, non-archived config whose deployment list is empty or names only
    deployments that are deleted (or unknown, when the snapshot has a deployments frame).
    """
    deployments = ctx.frame("deployments")
    known = set(deployments["id"].dropna().astype(str)) if not deployments.empty else None
    deleted = (
        set(deployments.loc[deployments["deleted"].fillna(False).astype(bool), "id"].astype(str))
        if not deployments.empty
        else set()
    )

    def live(ids: Iterable[Any]) -> list[str]:
        return [str(d) for d in ids if str(d) not in deleted and (known is None or str(d) in known)]

    def holds(cfg: Mapping[str, Any]) -> bool:
        return cfg.get("enabled") is True and not live(_items(cfg.get("deployments")))

    for entry in ctx.configs():
        if not holds(entry.state):
            continue
        listed = [str(d) for d in _items(entry.state.get("deployments"))]
        detail = (
            f"enabled, but its deployments ({', '.join(listed)}) are deleted or unknown"
            if listed
            else "enabled, but in no deployment: no SDK can evaluate it"
        )
        yield Finding(
            entry.id,
            detail,
            "Add it to the deployment(s) of the apps that use it, or disable and archive it.",
            ctx.run_start(entry, holds),
        )


def _per_config_problems(
    ctx: Context,
    problems: Callable[[Mapping[str, Any]], list[str]],
    advice: str,
    *,
    detail: Callable[[list[str]], str] = "; ".join,
) -> Iterator[Finding]:
    """One finding per non-archived config for which ``problems`` lists anything (``detail``
    turns the list into the finding's text); ``since``: when the run of versions with
    problems began.
    """
    for entry in ctx.configs():
        found = problems(entry.state)
        if not found:
            continue
        yield Finding(
            entry.id,
            detail(found),
            advice,
            ctx.run_start(entry, lambda cfg: bool(problems(cfg))),
        )


def _empty_conditions(cfg: Mapping[str, Any]) -> list[str]:
    found = []
    for s_index, seg in enumerate(_segments(cfg)):
        for c_index, cond in enumerate(_items(seg.get("conditions"))):
            if isinstance(cond, Mapping) and not cond.get("values"):
                what = " ".join(str(p) for p in (cond.get("prop"), cond.get("op")) if p)
                found.append(
                    f"{_segment_label(seg, s_index)}, condition {c_index + 1}"
                    + (f" ({what})" if what else "")
                )
    return found


@_rule(
    "empty-condition",
    "error",
    "A targeting condition with no values: what it matches is not what anyone meant.",
)
def empty_condition(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config with at least one segment condition whose ``values``
    list is empty (one finding per config, naming each such condition).
    """
    return _per_config_problems(
        ctx,
        _empty_conditions,
        "Give the condition its values, or remove it.",
        detail=lambda found: f"{'; '.join(found)}: no values",
    )


def _zero_segments(cfg: Mapping[str, Any]) -> list[str]:
    found = []
    for index, seg in enumerate(_segments(cfg)):
        if _segment_allocates(cfg, seg):
            continue
        pct = _number(seg.get("percentage"))
        why = "0%" if pct <= 0 else f"{pct:g}% but no variant has a positive weight"
        found.append(f"{_segment_label(seg, index)}: {why}")
    return found


@_rule(
    "zero-percent-segment",
    "warning",
    "A target segment that allocates nobody: its users get no variant and skip the rules below it.",
)
def zero_percent_segment(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config with a target segment whose percentage is 0, or whose
    weights give no existing variant a positive weight (one finding per config).
    """
    return _per_config_problems(
        ctx,
        _zero_segments,
        "Remove the segment or give it a percentage; if it excludes these users on "
        "purpose, say so in its name.",
    )


def _weight_problems(cfg: Mapping[str, Any]) -> list[str]:
    keys = _variant_keys(cfg)
    raw = cfg.get("rolloutWeights")
    weights = _weights(cfg)
    problems = []
    ghosts = [k for k in weights if k not in keys]
    if ghosts:
        problems.append(f"weights name {_quoted(ghosts)}, not a variant")
    has_weights = bool(weights) or (isinstance(raw, Mapping) and bool(raw))
    if has_weights:
        unweighted = [k for k in keys if k not in weights]
        if unweighted:
            problems.append(f"variant {_quoted(unweighted)} has no weight")
    elif keys and _number(cfg.get("rolloutPercentage")) > 0:
        problems.append(
            f"rolls out {_number(cfg.get('rolloutPercentage')):g}% but no variant has a weight"
        )
    for index, seg in enumerate(_segments(cfg)):
        seg_weights = seg.get("rolloutWeights")
        if isinstance(seg_weights, Mapping):
            seg_ghosts = [str(k) for k in seg_weights if k not in keys]
            if seg_ghosts:
                problems.append(
                    f"{_segment_label(seg, index)} weights name {_quoted(seg_ghosts)}, "
                    "not a variant"
                )
    return problems


@_rule(
    "weight-mismatch",
    "error",
    "Rollout weights that name a variant which does not exist, or a variant with no weight.",
)
def weight_mismatch(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config whose everyone-else weights name a key that is not one
    of its variants, or leave out one of its variants (when it has any weights at all), or
    that rolls out a positive percentage with no weights at all; or whose segment weights
    name a key that is not a variant. Segments may leave variants out (that is how a segment
    targets one variant).
    """
    return _per_config_problems(
        ctx,
        _weight_problems,
        "Set one weight per variant (0 for a variant that should get nobody) and remove "
        "weights of deleted variants.",
    )


def _parents(cfg: Mapping[str, Any]) -> dict[str, list[str]]:
    deps = cfg.get("parentDependencies")
    if not isinstance(deps, Mapping) or not isinstance(deps.get("flags"), Mapping):
        return {}
    return {
        str(pid): [str(v) for v in keys] if isinstance(keys, list) else []
        for pid, keys in deps["flags"].items()
    }


@_rule(
    "dangling-dependency",
    "error",
    "Depends on a parent flag, experiment, mutex or holdout group that is missing, archived "
    "or disabled (or on a variant the parent no longer has).",
)
def dangling_dependency(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config with a parent dependency (``parentDependencies``) on
    an id that is neither a config nor a mutex/holdout group of the snapshot (missing), on an
    archived config or deleted group, on a disabled config, or on a variant key the parent
    config (or mutex slot) does not have. ``since``: the later of when the child gained the
    dependency and when the parent became archived/disabled, per its versions.
    """
    groups = ctx.frame("groups")
    group_rows = {r["id"]: r for r in _records(groups)} if not groups.empty else {}
    all_entries = ctx.entries
    for entry in ctx.configs():
        parents = _parents(entry.state)
        if not parents:
            continue
        problems: list[str] = []
        starts: list[pd.Timestamp] = []
        for pid, wanted in parents.items():
            since_dep = ctx.run_start(entry, lambda c, p=pid: p in _parents(c))
            problem, since_parent = _parent_problem(ctx, pid, wanted, all_entries, group_rows)
            if problem is None:
                continue
            problems.append(problem)
            candidates = [s for s in (since_dep, since_parent) if s is not None]
            if candidates:
                starts.append(max(candidates))
        if not problems:
            continue
        yield Finding(
            entry.id,
            "; ".join(problems),
            "Remove the dependency, or restore the parent: while it dangles, users who must "
            "pass through the parent get no variant.",
            min(starts) if starts else None,
        )


def _parent_problem(
    ctx: Context,
    pid: str,
    wanted: list[str],
    entries: Mapping[str, _ConfigEntry],
    groups: Mapping[str, Mapping[str, Any]],
) -> tuple[str | None, pd.Timestamp | None]:
    parent = entries.get(pid)
    if parent is not None:
        name = f"{parent.kind} {parent.label!r} ({pid})"
        if parent.archived:
            return f"parent {name} is archived", ctx.run_start(
                parent, lambda c: c.get("archived") is True
            )
        if parent.state.get("enabled") is False:
            return f"parent {name} is disabled", ctx.run_start(
                parent, lambda c: c.get("enabled") is False
            )
        missing = [k for k in wanted if k not in _variant_keys(parent.state)]
        if missing:
            return f"parent {name} has no variant {_quoted(missing)}", None
        return None, None
    group = groups.get(pid)
    if group is not None:
        name = f"{group.get('kind') or 'group'} {group.get('key') or pid!r} ({pid})"
        if group.get("deleted"):
            return f"parent {name} is archived", None
        extra = group.get("extra") or {}
        slots = extra.get("slots") if isinstance(extra, Mapping) else None
        if group.get("kind") == "mutex" and isinstance(slots, list):
            slot_keys = {s.get("variantKey") for s in slots if isinstance(s, Mapping)}
            missing = [k for k in wanted if k not in slot_keys]
            if missing:
                return f"parent {name} has no slot {_quoted(missing)}", None
        return None, None
    return f"parent {pid} does not exist (no flag, experiment, mutex or holdout has that id)", None


def _user_counts(ctx: Context) -> dict[str, dict[str, int]]:
    inclusions = ctx.frame("inclusions")
    if inclusions.empty:
        return {}
    users = inclusions[inclusions["inclusion_type"] == "user"]
    counts = users.groupby(["config_id", "variant_key"], sort=True).size()
    out: dict[str, dict[str, int]] = {}
    for (cid, variant), n in counts.items():
        out.setdefault(str(cid), {})[str(variant)] = int(n)
    return out


@_rule(
    "inclusion-overload",
    "warning",
    "A variant with close to (warning) or at the API's limit of (error) 2,000 individually "
    "included users: use a cohort.",
)
def inclusion_overload(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config with a variant that includes at least
    ``inclusion_warning`` users individually (a warning), or at least ``inclusion_limit``
    (an error: the API refuses more). Cohort inclusions do not count.
    """
    warn, limit = ctx.config.inclusion_warning, ctx.config.inclusion_limit
    counts = _user_counts(ctx)
    for entry in ctx.configs():
        heavy = {v: n for v, n in counts.get(entry.id, {}).items() if n >= warn}
        if not heavy:
            continue
        over = any(n >= limit for n in heavy.values())
        parts = [f"variant {v!r} includes {_plural(n, 'user')}" for v, n in heavy.items()]
        yield Finding(
            entry.id,
            f"{'; '.join(parts)} individually (limit {limit:,})",
            "Put these users in a cohort and include the cohort instead.",
            None,
            # at the limit is an error, unless the user chose one severity for the whole rule
            "error" if over and "inclusion-overload" not in ctx.config.severities else None,
        )


def _mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}…@{domain}"


@_rule(
    "pii-inclusion",
    "error",
    "Included users whose ids look like e-mail addresses: personal data in a flag config.",
    includes_archived=True,
)
def pii_inclusion(ctx: Context) -> Iterator[Finding]:
    """Fires for any config, archived ones included (archiving keeps the data), with at least
    one user or cohort inclusion that looks like an e-mail address (``name@domain.tld``).
    The detail masks the address it quotes.
    """
    inclusions = ctx.frame("inclusions")
    if inclusions.empty:
        return
    values = inclusions["value"].astype(object)
    looks = values.map(lambda v: isinstance(v, str) and bool(_EMAIL.match(v.strip())))
    hits = inclusions[looks.astype(bool)]
    if hits.empty:
        return
    per_config: dict[str, list[tuple[str, str]]] = {}
    for cid, variant, value in zip(
        hits["config_id"].astype(object),
        hits["variant_key"].astype(object),
        hits["value"].astype(object),
        strict=True,
    ):
        per_config.setdefault(str(cid), []).append((str(variant), str(value)))
    for entry in ctx.configs(archived=True):
        found = per_config.get(entry.id)
        if not found:
            continue
        by_variant: dict[str, list[str]] = {}
        for variant, value in found:
            by_variant.setdefault(variant, []).append(value)
        parts = [
            f"{_plural(len(vals), 'inclusion')} in variant {v!r} (e.g. {_mask_email(vals[0])})"
            for v, vals in by_variant.items()
        ]
        yield Finding(
            entry.id,
            f"e-mail addresses: {'; '.join(parts)}",
            "Replace the e-mail addresses by user ids or a cohort; they are personal data.",
            None,
        )


@_rule(
    "long-running-experiment",
    "warning",
    "An experiment running for at least `long_running_days` days with no decision.",
    staleness=True,
)
def long_running_experiment(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived experiment without the permanent tag that is running (state
    ``running``; when the state is unknown, enabled with a start date) and has no decision,
    when at least ``long_running_days`` days (exactly that many fires) have passed since its
    start date, or, without one, since the start of its current enabled run of versions.
    """
    threshold = pd.Timedelta(days=ctx.config.long_running_days)
    for entry in ctx.configs(permanent=False):
        row = entry.row
        if entry.kind != "experiment" or row.get("decision"):
            continue
        state = row.get("state")
        start = _timestamp(row.get("start_date"))
        running = state == "running" if state else bool(row.get("enabled")) and start is not None
        if not running:
            continue
        since = start or ctx.run_start(entry, lambda c: c.get("enabled") is True)
        age = ctx.age(since)
        if age is None or age < threshold:
            continue
        yield Finding(
            entry.id,
            f"running for {_plural(_days(age), 'day')} (since {_date(since)}) with no decision",
            "Read the results and record a decision (rollout, rollback or continue-running), "
            "or stop the experiment.",
            since,
        )


def _documentation_gaps(cfg: Mapping[str, Any]) -> list[str]:
    gaps = []
    description = cfg.get("description")
    if not isinstance(description, str) or not description.strip():
        gaps.append("no description")
    # expkit's own tags (expkit:permanent) say nothing about what the config is for
    tags = [
        t for t in _items(cfg.get("tags")) if isinstance(t, str) and not t.startswith("expkit:")
    ]
    if not tags:
        gaps.append("no tags")
    return gaps


@_rule(
    "undocumented",
    "info",
    "No description, or no tags: nobody can tell what it is for or who owns it.",
)
def undocumented(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config whose description is missing or blank, or that has no
    tags other than expkit's own (``expkit:…``).
    """
    return _per_config_problems(
        ctx,
        _documentation_gaps,
        "Say what it is for and who owns it: a one-line description and a team tag "
        "(e.g. 'team:payments').",
        detail=" and ".join,
    )


@_rule(
    "recent-change",
    "info",
    "Changed in the last `recent_days` days (from the version history): worth a second look.",
    includes_archived=True,
)
def recent_change(ctx: Context) -> Iterator[Finding]:
    """Fires for any config, archived ones included (archiving is a change), with at least one
    version created in the ``recent_days`` days up to ``now`` (a version exactly
    ``recent_days`` days old counts); without versions, when ``last_modified_at`` falls in
    that window. ``since`` is the first change in the window; the detail names who changed
    it and the net change over the window (field, old → new).
    """
    start = ctx.now - pd.Timedelta(days=ctx.config.recent_days)
    lo, hi = start.value, ctx.now.value
    for entry in ctx.configs(archived=True):
        positions = [i for i, (t, _, _) in enumerate(entry.history) if lo <= t <= hi]
        recent = [(_stamp(entry.history[i][0]), entry.history[i][2]) for i in positions]
        what = ""
        if positions:
            before = entry.history[positions[0] - 1][1] if positions[0] > 0 else None
            what = _what_changed(before, entry.history[positions[-1]][1])
        elif not entry.history:
            modified = _timestamp(entry.row.get("last_modified_at"))
            if modified is not None and start <= modified <= ctx.now:
                recent = [(modified, entry.row.get("last_modified_by"))]
        if not recent:
            continue
        authors = list(dict.fromkeys(by for _, by in recent if by))
        who = f" by {', '.join(authors)}" if authors else ""
        yield Finding(
            entry.id,
            f"{_plural(len(recent), 'change')} in the last "
            f"{_plural(ctx.config.recent_days, 'day')}{who}{what}",
            "Check the change was intended (see the rollout history).",
            recent[0][0],
        )


_MAX_CHANGED_FIELDS = 3
_MAX_VALUE_CHARS = 24


def _what_changed(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> str:
    """``": rollout_percentage 10 → 50, +variants[b]"``: the window's net change, briefly."""
    from expkit._history import diff_versions

    if before is None:
        return ": created"
    diff = diff_versions(before, after)
    if diff.empty:
        return ""
    parts = []
    for path, old, new, change in zip(
        diff["path"], diff["old"], diff["new"], diff["change"], strict=True
    ):
        if change == "added":
            parts.append(f"+{path}")
        elif change == "removed":
            parts.append(f"-{path}")
        elif max(len(str(old)), len(str(new))) <= _MAX_VALUE_CHARS:
            parts.append(f"{path} {old} → {new}")
        else:
            parts.append(f"{path} changed")
    more = len(parts) - _MAX_CHANGED_FIELDS
    text = ", ".join(parts[:_MAX_CHANGED_FIELDS]) + (f" (+{more} more)" if more > 0 else "")
    return f": {text}"


RULES: MappingProxyType[str, Rule] = MappingProxyType(_RULES)


# --------------------------------------------------------------------------- check


def check(
    snapshot: Snapshot | Any,
    now: datetime | pd.Timestamp | str | None = None,
    config: HygieneConfig | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """The findings of every rule on ``snapshot``: one row per (rule, config).

    Columns: rule, severity (ordered category info < warning < error), kind, key, id,
    project_id, detail, since (UTC), action, owner (the config's last modifier); sorted by
    severity (worst first), then rule, then key. No findings gives an empty frame with the
    same columns. ``now`` defaults to ``snapshot.taken_at``; ``config`` is a
    ``HygieneConfig``, a mapping or the path of a TOML file; ``overrides`` replace single
    settings (``stale_days=45``, ``disabled=("undocumented",)``). The settings used are kept in
    ``findings.attrs["hygiene_config"]``, so ``report.write`` shows and compares with them.
    """
    cfg = _resolve_config(config)
    if overrides:
        cfg = cfg.replace(**overrides)
    ctx = Context.build(snapshot, now=now, config=cfg)
    rows: list[dict[str, Any]] = []
    for rule in RULES.values():
        if rule.id in cfg.disabled:
            continue
        default = cfg.severity(rule.id)
        for finding in rule(ctx):
            entry = ctx.entries[finding.config_id]
            rows.append(
                {
                    "rule": rule.id,
                    "severity": finding.severity or default,
                    "kind": entry.kind,
                    "key": entry.row.get("key"),
                    "id": entry.id,
                    "project_id": entry.row.get("project_id"),
                    "detail": finding.detail,
                    "since": finding.since,
                    "action": finding.action,
                    "owner": _owner(entry),
                }
            )
    found = _findings_frame(rows)
    found.attrs["hygiene_config"] = cfg
    return found


def _resolve_config(
    config: HygieneConfig | Mapping[str, Any] | str | os.PathLike[str] | None,
) -> HygieneConfig:
    if config is None:
        return HygieneConfig()
    if isinstance(config, HygieneConfig):
        return config
    if isinstance(config, Mapping):
        return HygieneConfig.from_mapping(config)
    if isinstance(config, str | os.PathLike):
        return HygieneConfig.from_toml(config)
    raise ValidationError(
        f"config must be a HygieneConfig, a mapping or a TOML path, not {type(config).__name__}",
        field="config",
        value=type(config).__name__,
        allowed="HygieneConfig | Mapping | path of a TOML file",
    )


def _owner(entry: _ConfigEntry) -> str | None:
    owner = entry.row.get("last_modified_by")
    if owner:
        return owner
    if entry.history and entry.history[-1][2]:
        return entry.history[-1][2]
    return entry.row.get("created_by")

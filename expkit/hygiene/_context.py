"""The view of one snapshot that every rule shares, built once per ``check``.

Each config is rebuilt from the snapshot's frames into its current state in the API's wire
form (``ConfigEntry.state``), beside its version history oldest first, so one predicate reads
both the config and any of its versions (``Context.run_start``). Views that several rules,
or costly ones, need (group rows, live deployments, user counts per variant) are computed on
first use and kept for the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from expkit.errors import ValidationError
from expkit.hygiene._config import HygieneConfig

if TYPE_CHECKING:
    from expkit._fetch import Snapshot

__all__ = ["ConfigEntry", "Context", "History", "records", "resolve_now", "stamp", "timestamp"]

# per version, oldest first: (created_at in ns since the epoch, flagConfig, created_by)
History = tuple[tuple[int, Mapping[str, Any], Any], ...]


@dataclass(frozen=True)
class ConfigEntry:
    """One config as the rules see it."""

    id: str
    row: Mapping[str, Any]  # the configs frame row, NA as None
    state: Mapping[str, Any]  # the current config in wire form (camelCase), rebuilt from frames
    history: History

    @property
    def archived(self) -> bool:
        return bool(self.row.get("archived"))

    @property
    def kind(self) -> str:
        kind = self.row.get("kind")
        return str(kind) if kind else "flag"

    @property
    def label(self) -> str:
        key = self.row.get("key")
        return str(key) if key else self.id

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(str(t) for t in self.row.get("tags") or ())


@dataclass(frozen=True)
class Context:
    """What every rule reads: the snapshot, ``now``, the config, and per-config state.

    Built once per ``check`` call (``Context.build``); rules never modify it. ``refs`` is the
    code-references frame given to ``check`` (None without one), for rules that need it.
    """

    snapshot: Any
    now: pd.Timestamp
    config: HygieneConfig
    entries: Mapping[str, ConfigEntry]
    refs: pd.DataFrame | None = field(default=None, compare=False)
    # what one rule computed for others (e.g. which configs are stale), for this run only
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        snapshot: Snapshot | Any,
        *,
        now: datetime | pd.Timestamp | str | None = None,
        config: HygieneConfig | None = None,
        refs: pd.DataFrame | None = None,
    ) -> Context:
        """The context of one hygiene run over ``snapshot`` at ``now`` (default: its time)."""
        return cls(
            snapshot=snapshot,
            now=resolve_now(snapshot, now),
            config=config or HygieneConfig(),
            entries=MappingProxyType(_entries(snapshot)),
            refs=refs,
        )

    def configs(self, *, archived: bool = False, permanent: bool = True) -> Iterator[ConfigEntry]:
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
        return cast(pd.DataFrame, frame)

    def run_start(
        self, entry: ConfigEntry, holds: Callable[[Mapping[str, Any]], bool]
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
            return stamp(start)
        return timestamp(entry.row.get("last_modified_at") or entry.row.get("created_at"))

    def age(self, since: pd.Timestamp | None) -> pd.Timedelta | None:
        """``now - since``, or None when ``since`` is unknown."""
        if since is None:
            return None
        return self.now - since

    def shared(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, once per run: a view one rule computes and others read."""
        if name not in self._memo:
            self._memo[name] = compute()
        return self._memo[name]

    def references(self, key: str | None, kind: str | None = None) -> tuple[str, ...]:
        """Where ``key`` is in the scanned code (``path:line``, in the refs' order); a refs
        row of another kind does not count (rows without a kind count for every kind).
        Empty without refs.
        """
        from expkit.hygiene._code import places_of

        return places_of(self.refs_by_key, key, kind)

    # ---- shared views, computed on first use

    @cached_property
    def refs_by_key(self) -> Mapping[str, tuple[tuple[str | None, str], ...]]:
        """The code references by key: (kind or None, ``path:line``), one per place."""
        from expkit.hygiene._code import locations

        return MappingProxyType(locations(self.refs))

    @cached_property
    def groups(self) -> Mapping[str, Mapping[str, Any]]:
        """Mutex and holdout groups by id (rows of the snapshot's ``groups`` frame)."""
        groups = self.frame("groups")
        if groups.empty:
            return {}
        return {str(r["id"]): r for r in records(groups)}

    @cached_property
    def deployment_ids(self) -> tuple[frozenset[str] | None, frozenset[str]]:
        """(every known deployment id, or None without a deployments frame; deleted ids)."""
        deployments = self.frame("deployments")
        if deployments.empty:
            return None, frozenset()
        known = frozenset(deployments["id"].dropna().astype(str))
        gone = deployments["deleted"].fillna(False).astype(bool)
        return known, frozenset(deployments.loc[gone, "id"].astype(str))

    @cached_property
    def user_counts(self) -> Mapping[str, Mapping[str, int]]:
        """Individually included users: config id → variant key → count (cohorts excluded)."""
        inclusions = self.frame("inclusions")
        if inclusions.empty:
            return {}
        users = inclusions[inclusions["inclusion_type"] == "user"]
        counts = users.groupby(["config_id", "variant_key"], sort=True).size()
        out: dict[str, dict[str, int]] = {}
        for (cid, variant), n in zip(counts.index.tolist(), counts.tolist(), strict=True):
            out.setdefault(str(cid), {})[str(variant)] = int(n)
        return out


def resolve_now(snapshot: Any, now: datetime | pd.Timestamp | str | None) -> pd.Timestamp:
    """``check``'s ``now``, as a UTC Timestamp: given, else the snapshot's time, else the clock."""
    value = now if now is not None else getattr(snapshot, "taken_at", None)
    if value is None:
        return pd.Timestamp.now(tz="UTC")
    try:
        stamp_ = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ValidationError(
            f"now must be a datetime or an ISO 8601 string, not {value!r}",
            field="now",
            value=value,
            allowed="a datetime, pandas Timestamp or ISO 8601 string",
        ) from None
    if pd.isna(stamp_):
        raise ValidationError(
            "now must be a time, not NaT",
            field="now",
            value=value,
            allowed="a datetime, pandas Timestamp or ISO 8601 string",
        )
    # a naive time is taken as UTC, like the API's own timestamps
    return stamp_.tz_localize("UTC") if stamp_.tzinfo is None else stamp_.tz_convert("UTC")


def _entries(snapshot: Any) -> dict[str, ConfigEntry]:
    configs = getattr(snapshot, "configs", None)
    if configs is None or configs.empty:
        return {}
    variants = _group_records(getattr(snapshot, "variants", None))
    segments = _group_records(getattr(snapshot, "segments", None))
    conditions = _group_records(getattr(snapshot, "conditions", None))
    history = _histories(getattr(snapshot, "versions", None))
    out: dict[str, ConfigEntry] = {}
    for row in records(configs):
        cid = row.get("id")
        if cid is None or row.get("deleted"):
            continue
        state = _wire_state(
            row, variants.get(cid, []), segments.get(cid, []), conditions.get(cid, [])
        )
        out[cid] = ConfigEntry(cid, MappingProxyType(row), state, history.get(cid, ()))
    return out


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with missing values as None (never pd.NA, whose truth value raises)."""
    columns = [_column_values(frame[col]) for col in frame.columns]
    names = [str(c) for c in frame.columns]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _column_values(column: pd.Series[Any]) -> list[Any]:
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


def _group_records(frame: pd.DataFrame | None) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = {}
    if frame is None or frame.empty:
        return out
    for row in records(frame):
        out.setdefault(row.get("config_id"), []).append(row)
    return out


def _histories(versions: pd.DataFrame | None) -> dict[Any, History]:
    """Per config, its versions oldest first as (created_at in ns since the epoch, config, by)."""
    if versions is None or versions.empty:
        return {}
    ordered = versions[versions["config_id"].notna() & versions["created_at"].notna()]
    ordered = ordered.sort_values(["config_id", "version"], kind="stable")
    out: dict[Any, list[tuple[int, Mapping[str, Any], Any]]] = {}
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


def stamp(ns: int) -> pd.Timestamp:
    """A UTC Timestamp from nanoseconds since the epoch (a history entry's time)."""
    return pd.Timestamp(ns, unit="ns", tz="UTC")


def timestamp(value: Any) -> pd.Timestamp | None:
    """A value of a frame (Timestamp, datetime, ISO text) as a UTC Timestamp; None if missing."""
    if value is None:
        return None
    stamp_ = pd.Timestamp(value)
    if pd.isna(stamp_):
        return None
    return stamp_.tz_localize("UTC") if stamp_.tzinfo is None else stamp_.tz_convert("UTC")


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

"""Rollout rules: who gets what, and for how long (stale, inactive, allocating nobody, weights
that do not match the variants, recent changes, experiments changed while running).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from expkit._rollout import variant_keys
from expkit.hygiene._context import Context, stamp, timestamp
from expkit.hygiene._read import (
    allocates_nobody,
    items,
    number,
    segment_allocates_in,
    segment_label,
    segments,
    sole_variant,
    weights,
)
from expkit.hygiene._registry import Finding, rule
from expkit.hygiene._text import date, days, plural, quoted
from expkit.hygiene.rules._shared import per_config_problems


@rule(
    "fully-rolled-out",
    family="rollout",
    severity="warning",
    description="Every user has been getting the same variant for at least `stale_days` days: "
    "the flag is now dead weight in the code.",
    action="Remove it from the code, keeping the behaviour of the variant everyone gets, then "
    "archive it (or tag it {permanent_tag!r} if it must stay).",
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
        winner = sole_variant(entry.state)
        if winner is None:
            continue

        def still_wins(cfg: Mapping[str, Any], winner: str = winner) -> bool:
            return sole_variant(cfg) == winner

        since = ctx.run_start(entry, still_wins)
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
            f"every user gets {winner!r}, for {plural(days(age), 'day')} (since {date(since)})",
            action,
            since,
        )


@rule(
    "inactive",
    family="rollout",
    severity="warning",
    description="Disabled, or enabled but allocating nobody, for at least `inactive_days` days.",
    action="Archive it and delete it from the code if it is no longer needed; if it is a kill "
    "switch kept off on purpose, tag it {permanent_tag!r}.",
    staleness=True,
)
def inactive(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config without the permanent tag that is disabled, or enabled
    with no one allocated (everyone else at 0% or all weights 0, and no segment allocating
    anyone), continuously for at least ``inactive_days`` days (exactly ``inactive_days`` fires).
    """
    threshold = pd.Timedelta(days=ctx.config.inactive_days)
    for entry in ctx.configs(permanent=False):
        if not allocates_nobody(entry.state):
            continue
        since = ctx.run_start(entry, allocates_nobody)
        age = ctx.age(since)
        if age is None or age < threshold:
            continue
        how = "enabled but allocates nobody" if entry.state.get("enabled") else "disabled"
        yield Finding(
            entry.id, f"{how}, for {plural(days(age), 'day')} (since {date(since)})", since=since
        )


def _zero_segments(cfg: Mapping[str, Any]) -> list[str]:
    found = []
    for index, seg in enumerate(segments(cfg)):
        if segment_allocates_in(cfg, seg):
            continue
        pct = number(seg.get("percentage"))
        why = "0%" if pct <= 0 else f"{pct:g}% but no variant has a positive weight"
        found.append(f"{segment_label(seg, index)}: {why}")
    return found


@rule(
    "zero-percent-segment",
    family="rollout",
    severity="warning",
    description="A target segment that allocates nobody: its users get no variant and skip the "
    "rules below it.",
    action="Remove the segment or give it a percentage; if it excludes these users on purpose, "
    "say so in its name.",
)
def zero_percent_segment(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config with a target segment whose percentage is 0, or whose
    weights give no existing variant a positive weight (one finding per config).
    """
    return per_config_problems(ctx, _zero_segments)


def _weight_problems(cfg: Mapping[str, Any]) -> list[str]:
    # the declared variants only: weights cannot vouch for themselves
    keys = variant_keys(cfg, from_weights=False)
    raw = cfg.get("rolloutWeights")
    given = weights(cfg)
    problems = []
    ghosts = [k for k in given if k not in keys]
    if ghosts:
        problems.append(f"weights name {quoted(ghosts)}, not a variant")
    has_weights = bool(given) or (isinstance(raw, Mapping) and bool(raw))
    if has_weights:
        unweighted = [k for k in keys if k not in given]
        if unweighted:
            problems.append(f"variant {quoted(unweighted)} has no weight")
    elif keys and number(cfg.get("rolloutPercentage")) > 0:
        problems.append(
            f"rolls out {number(cfg.get('rolloutPercentage')):g}% but no variant has a weight"
        )
    for index, seg in enumerate(segments(cfg)):
        seg_weights = seg.get("rolloutWeights")
        if isinstance(seg_weights, Mapping):
            seg_ghosts = [str(k) for k in seg_weights if k not in keys]
            if seg_ghosts:
                problems.append(
                    f"{segment_label(seg, index)} weights name {quoted(seg_ghosts)}, not a variant"
                )
    return problems


@rule(
    "weight-mismatch",
    family="rollout",
    severity="error",
    description="Rollout weights that name a variant which does not exist, or a variant with no "
    "weight.",
    action="Set one weight per variant (0 for a variant that should get nobody) and remove "
    "weights of deleted variants.",
)
def weight_mismatch(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config whose everyone-else weights name a key that is not one
    of its variants, or leave out one of its variants (when it has any weights at all), or
    that rolls out a positive percentage with no weights at all; or whose segment weights
    name a key that is not a variant. Segments may leave variants out (that is how a segment
    targets one variant).
    """
    return per_config_problems(ctx, _weight_problems)


@rule(
    "recent-change",
    family="rollout",
    severity="info",
    description="Changed in the last `recent_days` days (from the version history): worth a "
    "second look.",
    action="Check the change was intended (see the rollout history).",
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
        recent: list[tuple[pd.Timestamp, Any]] = [
            (stamp(entry.history[i][0]), entry.history[i][2]) for i in positions
        ]
        what = ""
        if positions:
            before = entry.history[positions[0] - 1][1] if positions[0] > 0 else None
            what = _what_changed(before, entry.history[positions[-1]][1])
        elif not entry.history:
            modified = timestamp(entry.row.get("last_modified_at"))
            if modified is not None and start <= modified <= ctx.now:
                recent = [(modified, entry.row.get("last_modified_by"))]
        if not recent:
            continue
        authors = list(dict.fromkeys(by for _, by in recent if by))
        who = f" by {', '.join(authors)}" if authors else ""
        yield Finding(
            entry.id,
            f"{plural(len(recent), 'change')} in the last "
            f"{plural(ctx.config.recent_days, 'day')}{who}{what}",
            since=recent[0][0],
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


# --------------------------------------------------------------------------- mid-experiment-change

_ABSENT = object()
_MAX_CHANGES = 3


def _shares(raw: Any) -> Any:
    """Weights as shares of their sum (1:1 and 2:2 are one split), rounded; absent if not a map."""
    if not isinstance(raw, Mapping):
        return _ABSENT
    values = {str(k): number(v) for k, v in raw.items()}
    total = sum(v for v in values.values() if v > 0)
    if total <= 0:
        return tuple(sorted((k, 0.0) for k in values))
    return tuple(sorted((k, round(max(v, 0.0) / total, 9)) for k, v in values.items()))


def _field(cfg: Mapping[str, Any], name: str) -> Any:
    return cfg.get(name, _ABSENT) if name in cfg else _ABSENT


def _split_aspects(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """What of an experiment skews its sample ratio when changed mid-run, by the name a
    detail uses; ``_ABSENT`` where the version does not say (old or abridged versions)."""
    segs = segments(cfg)
    variants = items(cfg.get("variants")) if "variants" in cfg else None
    exposure = _field(cfg, "exposureEvent")
    pct = _field(cfg, "rolloutPercentage")
    return {
        "rollout %": number(pct) if pct is not _ABSENT else _ABSENT,
        "weights": _shares(cfg.get("rolloutWeights")) if "rolloutWeights" in cfg else _ABSENT,
        "segment %": tuple(number(s.get("percentage", 100)) for s in segs)
        if "targetSegments" in cfg
        else _ABSENT,
        "segment weights": tuple(_shares(s.get("rolloutWeights")) for s in segs)
        if "targetSegments" in cfg
        else _ABSENT,
        "variants": tuple(sorted(str(v.get("key")) for v in variants if isinstance(v, Mapping)))
        if variants is not None
        else _ABSENT,
        "bucketing key": _field(cfg, "bucketingKey"),
        "bucketing salt": _field(cfg, "bucketingSalt"),
        "sticky bucketing": _field(cfg, "stickyBucketing"),
        "exposure event": json.dumps(exposure, sort_keys=True, default=str)
        if exposure is not _ABSENT
        else _ABSENT,
    }


def _describe(name: str, old: Any, new: Any) -> str:
    if name == "rollout %":
        return f"rollout {old:g}% → {new:g}%"
    if name == "segment %" and len(old) == len(new):
        return ", ".join(
            f"segment {i + 1} {a:g}% → {b:g}%"
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            if a != b
        )
    if name == "variants":
        added = [v for v in new if v not in old]
        removed = [v for v in old if v not in new]
        return "variants " + ", ".join([*(f"+{v!r}" for v in added), *(f"-{v!r}" for v in removed)])
    if name == "weights" and old is not _ABSENT and new is not _ABSENT:
        return f"weights {_ratio(old)} → {_ratio(new)}"
    if name == "sticky bucketing":
        return f"sticky bucketing {'on' if old else 'off'} → {'on' if new else 'off'}"
    if name == "bucketing key":
        return f"bucketing key {old!r} → {new!r}"
    return f"{name} changed"


def _ratio(shares: tuple[tuple[str, float], ...]) -> str:
    """``control 50%, treatment 50%``."""
    return ", ".join(f"{k} {v * 100:.3g}%" for k, v in shares)


def _ramp_up(name: str, old: Any, new: Any) -> bool:
    """A rollout or segment percentage that only grew: consistent bucketing adds users and
    keeps every user's variant, so the sample ratio holds."""
    if name == "rollout %":
        return bool(new > old)
    if name == "segment %":
        return len(old) == len(new) and all(b >= a for a, b in zip(old, new, strict=True))
    return False


def _changes(
    before: Mapping[str, Any], after: Mapping[str, Any], *, ramp_up: bool = False
) -> list[str]:
    """What changed between two versions that skews the sample ratio, as the detail says
    it; a ramp-up counts only when ``ramp_up``."""
    old, new = _split_aspects(before), _split_aspects(after)
    return [
        _describe(name, old[name], new[name])
        for name in old
        if old[name] is not _ABSENT
        and new[name] is not _ABSENT
        and old[name] != new[name]
        and (ramp_up or not _ramp_up(name, old[name], new[name]))
    ]


def _start_index(entry: Any, start: pd.Timestamp | None) -> int | None:
    """The version that started the experiment: the first enabled one with the current start
    date; else the first of the current enabled run created on or after the start date; else
    the first of the current enabled run. None without such a version."""
    history = entry.history
    run = len(history)
    while run > 0 and history[run - 1][1].get("enabled") is True:
        run -= 1
    if run == len(history):
        return None
    if start is not None:
        wanted = start.strftime("%Y-%m-%d")
        for i in range(run, len(history)):
            if str(history[i][1].get("startDate") or "")[:10] == wanted:
                return i
        for i in range(run, len(history)):
            if history[i][0] >= start.value:
                return i
    return run


@rule(
    "mid-experiment-change",
    family="rollout",
    severity="warning",
    description="A running experiment whose traffic split, variants, bucketing or exposure "
    "event changed after it started: a sample-ratio-mismatch risk.",
    action="Check the results for a sample ratio mismatch; analyse from the last change on, "
    "or restart the experiment.",
)
def mid_experiment_change(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived running experiment (state ``running``; when the state is
    unknown, enabled with a start date) without a decision, when a version after the one
    that started it (the first enabled version with the current start date) changed its
    traffic split (rollout %, weights as shares, segment percentages or weights), its set of
    variant keys, its bucketing (key, salt, sticky bucketing) or its exposure event. A
    rollout or segment percentage that only grew (a ramp-up: consistent bucketing keeps
    every user's variant) counts only with ``mid_experiment_ramp_up``. Fields a version
    leaves out are not compared. ``since`` is the first such version.
    """
    for entry in ctx.configs():
        row = entry.row
        if entry.kind != "experiment" or row.get("decision"):
            continue
        state = row.get("state")
        start = timestamp(row.get("start_date"))
        running = state == "running" if state else bool(row.get("enabled")) and start is not None
        if not running:
            continue
        first = _start_index(entry, start)
        if first is None:
            continue
        found: list[tuple[int, list[str]]] = []
        for i in range(first + 1, len(entry.history)):
            changed = _changes(
                entry.history[i - 1][1],
                entry.history[i][1],
                ramp_up=ctx.config.mid_experiment_ramp_up,
            )
            if changed:
                found.append((entry.history[i][0], changed))
        if not found:
            continue
        started = start or stamp(entry.history[first][0])
        parts = [f"{'; '.join(what)} on {date(stamp(t))}" for t, what in found[:_MAX_CHANGES]]
        more = len(found) - _MAX_CHANGES
        yield Finding(
            entry.id,
            f"changed after it started on {date(started)}: {'; '.join(parts)}"
            + (f" (+{plural(more, 'more change')})" if more > 0 else ""),
            since=stamp(found[0][0]),
        )

"""Rollout rules: who gets what, and for how long (stale, inactive, allocating nobody, weights
that do not match the variants, recent changes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from expkit._rollout import variant_keys
from expkit.hygiene._context import Context, stamp, timestamp
from expkit.hygiene._read import (
    allocates_nobody,
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

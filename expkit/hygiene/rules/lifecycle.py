"""Lifecycle rules: where a config stands in its life (experiments that should have ended,
configs nobody can place, dated tags, and what the code still reads).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

import pandas as pd

from expkit.hygiene._context import Context, timestamp
from expkit.hygiene._read import items
from expkit.hygiene._registry import Finding, rule
from expkit.hygiene._tags import dated_tags, earliest
from expkit.hygiene._text import date, days, plural, quoted
from expkit.hygiene.rules._shared import per_config_problems


@rule(
    "long-running-experiment",
    family="lifecycle",
    severity="warning",
    description="An experiment running for at least `long_running_days` days with no decision.",
    action="Read the results and record a decision (rollout, rollback or continue-running), or "
    "stop the experiment.",
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
        start = timestamp(row.get("start_date"))
        running = state == "running" if state else bool(row.get("enabled")) and start is not None
        if not running:
            continue
        since = start or ctx.run_start(entry, lambda c: c.get("enabled") is True)
        age = ctx.age(since)
        if age is None or age < threshold:
            continue
        yield Finding(
            entry.id,
            f"running for {plural(days(age), 'day')} (since {date(since)}) with no decision",
            since=since,
        )


def _documentation_gaps(cfg: Mapping[str, Any]) -> list[str]:
    gaps = []
    description = cfg.get("description")
    if not isinstance(description, str) or not description.strip():
        gaps.append("no description")
    # expkit's own tags (expkit:permanent) say nothing about what the config is for
    tags = [t for t in items(cfg.get("tags")) if isinstance(t, str) and not t.startswith("expkit:")]
    if not tags:
        gaps.append("no tags")
    return gaps


@rule(
    "undocumented",
    family="lifecycle",
    severity="info",
    description="No description, or no tags: nobody can tell what it is for or who owns it.",
    action="Say what it is for and who owns it: a one-line description and a team tag "
    "(e.g. 'team:payments').",
)
def undocumented(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config whose description is missing or blank, or that has no
    tags other than expkit's own (``expkit:…``).
    """
    return per_config_problems(ctx, _documentation_gaps, detail=" and ".join)


# --------------------------------------------------------------------------- dated tags


@rule(
    "expired",
    family="lifecycle",
    severity="warning",
    description="Past the expiry date its owner gave it (tag `expkit:expires=YYYY-MM-DD`).",
    action="Remove it from the code and archive it, as planned; or, if it must live on, give "
    "it a new date ({expires_tag}YYYY-MM-DD).",
)
def expired(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config with an ``expires_tag`` tag whose day has come (from
    00:00 UTC of that day on; with several such tags, the earliest valid day counts).
    ``since`` is that day.
    """
    for entry in ctx.configs():
        day = earliest(dated_tags(entry.tags, ctx.config.expires_tag))
        if day is None or ctx.now < day:
            continue
        age = ctx.age(day)
        yield Finding(
            entry.id,
            f"expired on {date(day)} ({plural(days(age), 'day')} ago)",
            since=day,
        )


@rule(
    "bad-tag",
    family="lifecycle",
    severity="warning",
    description="An expiry or snooze tag whose date is not a YYYY-MM-DD day: it does nothing.",
    action="Write the date as YYYY-MM-DD (e.g. {expires_tag}2026-12-31).",
    includes_archived=True,
)
def bad_tag(ctx: Context) -> Iterator[Finding]:
    """Fires for any config, archived ones included, with an ``expires_tag`` or
    ``snooze_tag`` tag whose text after the prefix is not a real calendar day written
    ``YYYY-MM-DD`` (one finding per config, naming each such tag).
    """
    prefixes = (ctx.config.expires_tag, ctx.config.snooze_tag)
    for entry in ctx.configs(archived=True):
        bad = [t for prefix in prefixes for t in dated_tags(entry.tags, prefix) if not t.valid]
        if not bad:
            continue
        yield Finding(
            entry.id,
            f"{'tags' if len(bad) > 1 else 'tag'} {quoted(t.tag for t in bad)}: the date is "
            "not a YYYY-MM-DD day, so the tag is ignored",
        )


# --------------------------------------------------------------------------- code references

# how many places a detail names before "+N more"
_MAX_PLACES = 3


def places(found: tuple[str, ...]) -> str:
    """``1 place: a.ts:3`` / ``4 places: a.ts:3, b.kt:5, c.py:1 (+1 more)``."""
    text = ", ".join(found[:_MAX_PLACES])
    more = len(found) - _MAX_PLACES
    return f"{plural(len(found), 'place')}: {text}" + (f" (+{more} more)" if more > 0 else "")


@rule(
    "archived-but-referenced",
    family="lifecycle",
    severity="error",
    description="Archived, or missing from the org, but its key is still in the code: there it "
    "evaluates to nothing (the fallback) in production.",
    action="Delete the code that reads it, keeping the behaviour users get today; or unarchive "
    "it if the code is meant to use it.",
    includes_archived=True,
    needs_refs=True,
)
def archived_but_referenced(ctx: Context) -> Iterator[Finding]:
    """Fires, given code references, for an archived config whose key (of its kind) is
    found in the code, unless a live config of the same key and kind exists (another
    project); and for a key found in the code that no config of the snapshot has (deleted,
    or never created), with an empty id. ``since``: when it was archived (from the versions).
    """
    live: set[tuple[str, str]] = set()
    for entry in ctx.configs():
        live.add((entry.label, entry.kind))
    for entry in ctx.configs(archived=True):
        if not entry.archived or (entry.label, entry.kind) in live:
            continue
        found = ctx.references(entry.row.get("key"), entry.kind)
        if not found:
            continue
        since = ctx.run_start(entry, lambda cfg: bool(cfg.get("archived")))
        yield Finding(
            entry.id,
            f"archived (since {date(since)}) but still in the code, {places(found)}",
            since=since,
        )
    # deleted configs are no entries: their keys are missing from the org too
    known = {str(entry.row.get("key")) for entry in ctx.configs(archived=True)}
    for key, rows in ctx.refs_by_key.items():
        if key in known:
            continue
        kinds: list[str | None] = [*sorted({kind for kind, _ in rows if kind is not None})]
        for kind in kinds or [None]:
            found = ctx.references(key, kind)
            yield Finding(
                "",
                f"no config has this key (deleted, or never created), but it is in the code, "
                f"{places(found)}",
                action="Delete the code that reads it (it always gets the fallback), or create "
                "the config if the code is new.",
                key=key,
                kind=kind,
            )


def stale_reasons(ctx: Context) -> Mapping[str, str]:
    """Config id → why it is no longer needed ("fully rolled out to 'on'", "inactive"), for
    the configs ``fully-rolled-out`` or ``inactive`` fire for (with this run's settings)."""
    from expkit.hygiene._read import sole_variant
    from expkit.hygiene.rules.rollout import fully_rolled_out, inactive

    def compute() -> dict[str, str]:
        out: dict[str, str] = {}
        for finding in fully_rolled_out(ctx):
            winner = sole_variant(ctx.entries[finding.config_id].state)
            out[finding.config_id] = f"fully rolled out to {winner!r}"
        for finding in inactive(ctx):
            out.setdefault(finding.config_id, "inactive")
        return out

    return cast(Mapping[str, str], ctx.shared("stale_reasons", compute))


@rule(
    "unreferenced",
    family="lifecycle",
    severity="info",
    description="A live config whose key is nowhere in the scanned code; if it is also fully "
    "rolled out or inactive, it is safe to archive.",
    action="If no code reads it (check other repositories and aliases), archive it.",
    needs_refs=True,
)
def unreferenced(ctx: Context) -> Iterator[Finding]:
    """Fires, given code references, for a non-archived config whose key (of its kind) is
    found nowhere in the scanned code. When ``fully-rolled-out`` or ``inactive`` also fires
    for it, its action says it is safe to archive.
    """
    stale = stale_reasons(ctx)
    files = ctx.refs.attrs.get("files") if ctx.refs is not None else None
    scanned = f" ({plural(int(files), 'file')} scanned)" if isinstance(files, int) else ""
    for entry in ctx.configs():
        if ctx.references(entry.row.get("key"), entry.kind):
            continue
        reason = stale.get(entry.id)
        action = None
        if reason is not None:
            action = f"Safe to archive: {reason} and not in the scanned code. Archive it."
        yield Finding(
            entry.id,
            f"not found in the scanned code{scanned}" + (f"; {reason}" if reason else ""),
            action,
        )

"""Lifecycle rules: where a config stands in its life (experiments that should have ended,
configs nobody can place).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from expkit.hygiene._context import Context, timestamp
from expkit.hygiene._read import items
from expkit.hygiene._registry import Finding, rule
from expkit.hygiene._text import date, days, plural
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

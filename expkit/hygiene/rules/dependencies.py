"""Dependency rules: what a config needs from the rest of the org (deployments to be
evaluated in, parent flags, experiments, mutexes and holdouts).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pandas as pd

from expkit._rollout import variant_keys
from expkit.hygiene._context import ConfigEntry, Context
from expkit.hygiene._read import items, parents
from expkit.hygiene._registry import Finding, rule
from expkit.hygiene._text import quoted


@rule(
    "no-deployment",
    family="dependencies",
    severity="warning",
    description="Enabled but in no (live) deployment, so no SDK can evaluate it.",
    action="Add it to the deployment(s) of the apps that use it, or disable and archive it.",
)
def no_deployment(ctx: Context) -> Iterator[Finding]:
    """Fires for an enabled, non-archived config whose deployment list is empty or names only
    deployments that are deleted (or unknown, when the snapshot has a deployments frame).
    """
    known, deleted = ctx.deployment_ids

    def live(ids: Iterable[Any]) -> list[str]:
        return [str(d) for d in ids if str(d) not in deleted and (known is None or str(d) in known)]

    def holds(cfg: Mapping[str, Any]) -> bool:
        return cfg.get("enabled") is True and not live(items(cfg.get("deployments")))

    for entry in ctx.configs():
        if not holds(entry.state):
            continue
        listed = [str(d) for d in items(entry.state.get("deployments"))]
        detail = (
            f"enabled, but its deployments ({', '.join(listed)}) are deleted or unknown"
            if listed
            else "enabled, but in no deployment: no SDK can evaluate it"
        )
        yield Finding(entry.id, detail, since=ctx.run_start(entry, holds))


@rule(
    "dangling-dependency",
    family="dependencies",
    severity="error",
    description="Depends on a parent flag, experiment, mutex or holdout group that is missing, "
    "archived or disabled (or on a variant the parent no longer has).",
    action="Remove the dependency, or restore the parent: while it dangles, users who must pass "
    "through the parent get no variant.",
)
def dangling_dependency(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config with a parent dependency (``parentDependencies``) on
    an id that is neither a config nor a mutex/holdout group of the snapshot (missing), on an
    archived config or deleted group, on a disabled config, or on a variant key the parent
    config (or mutex slot) does not have. ``since``: the later of when the child gained the
    dependency and when the parent became archived/disabled, per its versions.
    """
    for entry in ctx.configs():
        wanted_by_parent = parents(entry.state)
        if not wanted_by_parent:
            continue
        problems: list[str] = []
        starts: list[pd.Timestamp] = []
        for pid, wanted in wanted_by_parent.items():

            def depends(cfg: Mapping[str, Any], pid: str = pid) -> bool:
                return pid in parents(cfg)

            since_dep = ctx.run_start(entry, depends)
            problem, since_parent = _parent_problem(ctx, pid, wanted)
            if problem is None:
                continue
            problems.append(problem)
            candidates = [s for s in (since_dep, since_parent) if s is not None]
            if candidates:
                starts.append(max(candidates))
        if not problems:
            continue
        yield Finding(entry.id, "; ".join(problems), since=min(starts) if starts else None)


def _parent_problem(
    ctx: Context, pid: str, wanted: list[str]
) -> tuple[str | None, pd.Timestamp | None]:
    parent: ConfigEntry | None = ctx.entries.get(pid)
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
        missing = [k for k in wanted if k not in variant_keys(parent.state, from_weights=False)]
        if missing:
            return f"parent {name} has no variant {quoted(missing)}", None
        return None, None
    group = ctx.groups.get(pid)
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
                return f"parent {name} has no slot {quoted(missing)}", None
        return None, None
    return f"parent {pid} does not exist (no flag, experiment, mutex or holdout has that id)", None

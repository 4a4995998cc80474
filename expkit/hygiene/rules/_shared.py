"""Building blocks several rule families use."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from expkit.hygiene._context import Context
from expkit.hygiene._registry import Finding

__all__ = ["per_config_problems"]


def per_config_problems(
    ctx: Context,
    problems: Callable[[Mapping[str, Any]], list[str]],
    *,
    detail: Callable[[list[str]], str] = "; ".join,
) -> Iterator[Finding]:
    """One finding per non-archived config for which ``problems`` (a function of a config in
    wire form: the current state or any version) lists anything; ``detail`` turns the list
    into the finding's text; ``since``: when the run of versions with problems began.
    """
    for entry in ctx.configs():
        found = problems(entry.state)
        if not found:
            continue
        yield Finding(
            entry.id,
            detail(found),
            since=ctx.run_start(entry, lambda cfg: bool(problems(cfg))),
        )

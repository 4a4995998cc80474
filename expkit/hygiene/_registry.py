"""The rule registry: what a rule is, what it reports, and the decorator that registers it.

A rule is a function of the shared :class:`~expkit.hygiene.Context` that yields one
:class:`Finding` per config it fires for. ``@rule(...)`` registers it under a stable id with
its family, default severity, description and default action; ``RULES`` lists every
registered rule by family (rollout, targeting, dependencies, lifecycle), in file order within
a family, which is the order the report shows them in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from expkit.hygiene._context import Context

__all__ = ["FAMILIES", "RULES", "SEVERITIES", "Finding", "Rule", "RuleFunc", "rule"]

# worst first
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")
# one module of expkit/hygiene/rules/ per family, imported in this order
FAMILIES: tuple[str, ...] = ("rollout", "targeting", "dependencies", "lifecycle")


@dataclass(frozen=True)
class Finding:
    """What a rule reports about one config; ``check`` adds the rule id and config columns.

    ``action`` None: the rule's registered action. ``severity`` None: the rule's severity
    (from the config); a rule with two levels (``inclusion-overload``) sets it itself.
    ``key`` and ``kind``: for a finding about a key that is no config of the snapshot
    (``config_id`` empty), e.g. a key found in code that is missing from the org.
    """

    config_id: str
    detail: str
    action: str | None = None
    since: pd.Timestamp | None = None
    severity: str | None = None
    key: str | None = None
    kind: str | None = None


RuleFunc = Callable[["Context"], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A registered hygiene rule: its id, function, default severity and what it checks.

    ``staleness``: the permanent tag exempts configs from it. ``includes_archived``: it also
    looks at archived configs. ``needs_refs``: it reads the code references given to
    ``check`` (``refs=``) and is not run without them. ``action``: what to do about a finding, a template formatted
    with the run's settings (``{permanent_tag!r}``, ``{stale_days}``), used when a finding
    gives none.
    """

    id: str
    func: RuleFunc
    severity: str
    description: str
    staleness: bool = False
    includes_archived: bool = False
    family: str = ""
    action: str = ""
    needs_refs: bool = False

    def __call__(self, ctx: Context) -> list[Finding]:
        return list(self.func(ctx))

    def default_action(self, settings: Mapping[str, Any]) -> str:
        """The registered action with ``settings`` (a config's fields) filled in."""
        return self.action.format_map(settings)


_RULES: dict[str, Rule] = {}
RULES: MappingProxyType[str, Rule] = MappingProxyType(_RULES)


def rule(
    rule_id: str,
    *,
    family: str,
    severity: str,
    description: str,
    action: str,
    staleness: bool = False,
    includes_archived: bool = False,
    needs_refs: bool = False,
) -> Callable[[RuleFunc], RuleFunc]:
    """Registers the decorated function as the rule ``rule_id`` (ids are stable: never reuse one).

    The function's docstring must say exactly when it fires (a test checks it starts with
    "Fires"); ``description`` is the one line the report shows; ``action`` is the advice of
    every finding that does not bring its own.
    """
    if severity not in SEVERITIES:
        raise ValueError(
            f"rule {rule_id!r}: severity must be one of {SEVERITIES}, not {severity!r}"
        )
    if family not in FAMILIES:
        raise ValueError(f"rule {rule_id!r}: family must be one of {FAMILIES}, not {family!r}")
    if rule_id in _RULES:
        raise ValueError(f"rule {rule_id!r} is registered twice")

    def register(func: RuleFunc) -> RuleFunc:
        _RULES[rule_id] = Rule(
            rule_id,
            func,
            severity,
            description,
            staleness=staleness,
            includes_archived=includes_archived,
            family=family,
            action=action,
            needs_refs=needs_refs,
        )
        # by family, then in registration (file) order: sorted() is stable
        ordered = sorted(_RULES.items(), key=lambda item: FAMILIES.index(item[1].family))
        _RULES.clear()
        _RULES.update(ordered)
        return func

    return register

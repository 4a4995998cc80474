"""Targeting rules: who is matched and how (conditions, individually included users)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from expkit.hygiene._context import Context
from expkit.hygiene._read import items, segment_label, segments
from expkit.hygiene._registry import Finding, rule
from expkit.hygiene._text import mask_email, plural
from expkit.hygiene.rules._shared import per_config_problems

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _empty_conditions(cfg: Mapping[str, Any]) -> list[str]:
    found = []
    for s_index, seg in enumerate(segments(cfg)):
        for c_index, cond in enumerate(items(seg.get("conditions"))):
            if isinstance(cond, Mapping) and not cond.get("values"):
                what = " ".join(str(p) for p in (cond.get("prop"), cond.get("op")) if p)
                found.append(
                    f"{segment_label(seg, s_index)}, condition {c_index + 1}"
                    + (f" ({what})" if what else "")
                )
    return found


@rule(
    "empty-condition",
    family="targeting",
    severity="error",
    description="A targeting condition with no values: what it matches is not what anyone meant.",
    action="Give the condition its values, or remove it.",
)
def empty_condition(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config with at least one segment condition whose ``values``
    list is empty (one finding per config, naming each such condition).
    """
    return per_config_problems(
        ctx, _empty_conditions, detail=lambda found: f"{'; '.join(found)}: no values"
    )


@rule(
    "inclusion-overload",
    family="targeting",
    severity="warning",
    description="A variant with close to (warning) or at the API's limit of (error) 2,000 "
    "individually included users: use a cohort.",
    action="Put these users in a cohort and include the cohort instead.",
)
def inclusion_overload(ctx: Context) -> Iterator[Finding]:
    """Fires for a non-archived config with a variant that includes at least
    ``inclusion_warning`` users individually (a warning), or at least ``inclusion_limit``
    (an error: the API refuses more). Cohort inclusions do not count.
    """
    warn, limit = ctx.config.inclusion_warning, ctx.config.inclusion_limit
    for entry in ctx.configs():
        heavy = {v: n for v, n in ctx.user_counts.get(entry.id, {}).items() if n >= warn}
        if not heavy:
            continue
        over = any(n >= limit for n in heavy.values())
        parts = [f"variant {v!r} includes {plural(n, 'user')}" for v, n in heavy.items()]
        yield Finding(
            entry.id,
            f"{'; '.join(parts)} individually (limit {limit:,})",
            # at the limit is an error, unless the user chose one severity for the whole rule
            severity="error"
            if over and "inclusion-overload" not in ctx.config.severities
            else None,
        )


@rule(
    "pii-inclusion",
    family="targeting",
    severity="error",
    description="Included users whose ids look like e-mail addresses: personal data in a flag "
    "config.",
    action="Replace the e-mail addresses by user ids or a cohort; they are personal data.",
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
            f"{plural(len(vals), 'inclusion')} in variant {v!r} (e.g. {mask_email(vals[0])})"
            for v, vals in by_variant.items()
        ]
        yield Finding(entry.id, f"e-mail addresses: {'; '.join(parts)}")

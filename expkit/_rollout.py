"""Rollout math shared by history, plots, hygiene and widgets (pure, no pandas).

DESIGN.md, "Rollout math": users matched by no segment ("everyone else") get variant ``v``
with probability ``enabled × rolloutPercentage/100 × weight_v / Σ weights``; a segment's
matched users get ``percentage/100 × weight_v / Σ weights``. All weights 0 means nobody
gets a variant; disabled means 0 for everyone.

Conventions of every helper here:

- configs are flag/experiment config dicts (a version's ``flagConfig``) in wire format
  (camelCase) or snake_case; both spellings are read;
- Σ weights runs over the config's variants only: a weight naming a missing variant serves
  nobody, and a variant without a weight has weight 0;
- weights that are not non-negative finite numbers count as 0;
- percentages are in % (0-100); a missing percentage or ``enabled`` is unknown, and the
  effective % it feeds is ``nan`` (unknown is not 0).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

__all__ = [
    "EVERYONE_ELSE",
    "Population",
    "allocated_pct",
    "effective",
    "effective_everyone_else",
    "fully_rolled_out_variant",
    "percentage_value",
    "populations",
    "segment_allocates",
    "shares",
    "variant_keys",
    "weight_value",
]

EVERYONE_ELSE = "everyone else"


def _is_map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    # plain dicts first: an ABC isinstance check costs ~10× more
    return type(value) is dict or isinstance(value, Mapping)


def _get(mapping: Mapping[str, Any], camel: str, snake: str, default: Any = None) -> Any:
    if camel in mapping:
        return mapping[camel]
    return mapping.get(snake, default)


def weight_value(value: Any) -> float:
    """A weight as a float: non-negative finite numbers as given, anything else 0."""
    if type(value) is int or type(value) is float:
        # the common case, first: plain JSON numbers
        return float(value) if 0 <= value < math.inf else 0.0
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0.0
    try:
        number = float(value)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) and number >= 0 else 0.0


def percentage_value(value: Any) -> float:
    """A percentage as a float in [0, 100]; missing or unreadable is ``nan``."""
    if type(value) is int or type(value) is float:
        return min(max(float(value), 0.0), 100.0) if value == value else math.nan
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    if math.isnan(number):
        return math.nan
    return min(max(number, 0.0), 100.0)


def shares(weights: Mapping[str, Any] | None, variant_keys: Sequence[str]) -> dict[str, float]:
    """Each variant's share of its population: ``weight_v / Σ weights`` (all 0 if Σ is 0).

    Only ``variant_keys`` take part: weights for other keys are ignored, and a variant with
    no weight has weight 0. The result has one entry per variant key, in order.
    """
    given: Mapping[str, Any] = weights if _is_map(weights) else {}
    values = {key: weight_value(given.get(key)) for key in variant_keys}
    total = math.fsum(values.values())
    if total <= 0:
        return dict.fromkeys(values, 0.0)
    return {key: value / total for key, value in values.items()}


def variant_keys(config: Mapping[str, Any], *, from_weights: bool = True) -> list[str]:
    """The config's variant keys, in order, each once.

    The keys of its ``variants`` list (a variant is a mapping with a ``key``, or a bare key;
    keys are read as text, entries without a key are skipped). Without a ``variants`` list
    (an old or partial version), the keys of its everyone-else weights, because the rollout
    math must still say who gets what; ``from_weights=False`` answers ``[]`` instead, for
    checks that compare the weights *with* the declared variants (hygiene's
    ``weight-mismatch``), where weights cannot vouch for themselves.
    """
    variants = config.get("variants")
    if isinstance(variants, list):
        keys: list[str] = []
        for variant in variants:
            key = variant.get("key") if _is_map(variant) else variant
            if key is not None and str(key) not in keys:
                keys.append(str(key))
        return keys
    if not from_weights:
        return []
    weights = _get(config, "rolloutWeights", "rollout_weights")
    return [str(key) for key in weights] if _is_map(weights) else []


def _enabled(config: Mapping[str, Any]) -> bool | None:
    value = config.get("enabled")
    return value if isinstance(value, bool) else None


def effective(
    percentage: Any,
    weights: Mapping[str, Any] | None,
    keys: Sequence[str],
    *,
    enabled: bool | None = True,
) -> dict[str, float]:
    """Each variant's % of a population: ``enabled × percentage × share`` (``nan`` if unknown)."""
    variant_shares = shares(weights, keys)
    if enabled is False:
        return dict.fromkeys(variant_shares, 0.0)
    pct = percentage_value(percentage)
    if enabled is None:
        pct = math.nan
    return {key: pct * share for key, share in variant_shares.items()}


@dataclass(frozen=True, slots=True)
class Population:
    """Everyone else (``index`` None) or one target segment of a config."""

    name: str
    index: int | None
    percentage: float
    weights: Mapping[str, Any]

    def shares(self, keys: Sequence[str]) -> dict[str, float]:
        """Each variant's share of this population's weights."""
        return shares(self.weights, keys)

    def effective(self, keys: Sequence[str], *, enabled: bool | None = True) -> dict[str, float]:
        """Each variant's % of this population's users."""
        return effective(self.percentage, self.weights, keys, enabled=enabled)


def _segments(config: Mapping[str, Any]) -> list[Any]:
    segments = _get(config, "targetSegments", "target_segments")
    return segments if isinstance(segments, list) else []


def populations(config: Mapping[str, Any]) -> list[Population]:
    """Everyone else first, then each target segment in order (unnamed ones get "segment N")."""
    weights = _get(config, "rolloutWeights", "rollout_weights")
    out = [
        Population(
            name=EVERYONE_ELSE,
            index=None,
            percentage=percentage_value(_get(config, "rolloutPercentage", "rollout_percentage")),
            weights=weights if _is_map(weights) else {},
        )
    ]
    for index, raw in enumerate(_segments(config)):
        segment: Mapping[str, Any] = raw if _is_map(raw) else {}
        name = segment.get("name")
        seg_weights = _get(segment, "rolloutWeights", "rollout_weights")
        out.append(
            Population(
                name=str(name) if name not in (None, "") else f"segment {index + 1}",
                index=index,
                percentage=percentage_value(segment.get("percentage")),
                weights=seg_weights if _is_map(seg_weights) else {},
            )
        )
    return out


def effective_everyone_else(config: Mapping[str, Any]) -> dict[str, float]:
    """Each variant's % (0-100) of the users no segment matches; ``nan`` where unknown."""
    return populations(config)[0].effective(variant_keys(config), enabled=_enabled(config))


def allocated_pct(config: Mapping[str, Any]) -> float:
    """The % of everyone else that gets any variant (0 when disabled or all weights 0)."""
    values = effective_everyone_else(config).values()
    return math.fsum(values) if values else 0.0


def segment_allocates(segment: Mapping[str, Any], keys: Iterable[str]) -> bool:
    """Whether a target segment gives any variant to anyone (percentage > 0 and a weight > 0)."""
    pct = percentage_value(segment.get("percentage"))
    weights = _get(segment, "rolloutWeights", "rollout_weights")
    return bool(pct > 0) and any(value > 0 for value in shares(weights, list(keys)).values())


def fully_rolled_out_variant(config: Mapping[str, Any]) -> str | None:
    """The variant that gets 100% of everyone else, if one does (else None)."""
    for key, pct in effective_everyone_else(config).items():
        if math.isclose(pct, 100.0, abs_tol=1e-9):
            return key
    return None

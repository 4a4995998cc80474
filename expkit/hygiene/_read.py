"""Readers of a config in wire form: the snapshot's current state or a version's flagConfig.

Everything is defensive: versions from years ago may lack fields or hold odd types. The
rollout math itself (who gets what) is ``expkit._rollout``'s, shared with history and plots.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from expkit._rollout import (
    allocated_pct,
    fully_rolled_out_variant,
    populations,
    segment_allocates,
    variant_keys,
)

__all__ = [
    "allocates_nobody",
    "items",
    "number",
    "parents",
    "segment_allocates_in",
    "segment_label",
    "segments",
    "sole_variant",
    "weights",
]


def items(value: Any) -> list[Any]:
    """A list field as a list; anything else (None, a number, a dict) as empty."""
    return value if isinstance(value, list) else []


def number(value: Any) -> float:
    """A number as a float (negatives kept); anything else, or not finite, as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) else 0.0


def weights(cfg: Mapping[str, Any]) -> dict[str, float]:
    """Everyone-else weights: ``rolloutWeights``, else each variant's own ``rolloutWeight``."""
    raw = cfg.get("rolloutWeights")
    out = {str(k): number(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
    for v in items(cfg.get("variants")):
        if (
            isinstance(v, Mapping)
            and isinstance(v.get("key"), str)
            and v["key"] not in out
            and v.get("rolloutWeight") is not None
        ):
            out[v["key"]] = number(v["rolloutWeight"])
    return out


def segments(cfg: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The config's target segments (entries that are not objects skipped)."""
    return [s for s in items(cfg.get("targetSegments")) if isinstance(s, Mapping)]


def segment_allocates_in(cfg: Mapping[str, Any], seg: Mapping[str, Any]) -> bool:
    """Whether ``seg`` of ``cfg`` gives any of the config's variants to anyone."""
    return segment_allocates(seg, variant_keys(cfg))


def sole_variant(cfg: Mapping[str, Any]) -> str | None:
    """The variant every user gets, if one does: everyone else and every segment at 100%."""
    winner = fully_rolled_out_variant(cfg)
    if winner is None:
        return None
    keys = variant_keys(cfg)
    for population in populations(cfg)[1:]:
        pct = population.effective(keys)
        if not math.isclose(pct.get(winner, 0.0), 100.0, abs_tol=1e-9):
            return None
    return winner


def allocates_nobody(cfg: Mapping[str, Any]) -> bool:
    """Disabled, or enabled with nobody allocated; unknown ``enabled`` or rollout
    percentage is not inactive (unknown is not 0).
    """
    enabled = cfg.get("enabled")
    if enabled is False:
        return True
    if enabled is not True:
        return False
    pct = allocated_pct(cfg)
    if math.isnan(pct) or pct > 0:
        return False
    return not any(segment_allocates_in(cfg, seg) for seg in segments(cfg))


def segment_label(seg: Mapping[str, Any], index: int) -> str:
    """``segment 2 ('Beta')``: a segment as a detail names it (1-based)."""
    name = seg.get("name")
    return f"segment {index + 1} ({name!r})" if name else f"segment {index + 1}"


def parents(cfg: Mapping[str, Any]) -> dict[str, list[str]]:
    """Parent dependencies: parent id → the variant keys required of it (may be empty)."""
    deps = cfg.get("parentDependencies")
    if not isinstance(deps, Mapping) or not isinstance(deps.get("flags"), Mapping):
        return {}
    return {
        str(pid): [str(v) for v in keys] if isinstance(keys, list) else []
        for pid, keys in deps["flags"].items()
    }

"""Hand-built versions frames (the history and plot tests) with the columns and dtypes of ``expkit.frames.versions``."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd

VERSIONS_DTYPES = {
    "config_id": "string",
    "kind": "string",
    "config_key": "string",
    "version": "Int64",
    "created_at": "datetime64[ns, UTC]",
    "created_by": "string",
    "enabled": "boolean",
    "rollout_percentage": "Float64",
    "rollout_weights": "object",
    "n_segments": "Int64",
    "config": "object",
}


def flag_config(
    *,
    variants: list[str] = ("control", "treatment"),  # type: ignore[assignment]
    weights: dict[str, Any] | None = None,
    percentage: float | None = 100,
    enabled: bool | None = True,
    segments: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A wire-format flagConfig."""
    out: dict[str, Any] = {
        "key": "checkout-redesign",
        "variants": [{"key": v} for v in variants],
        "rolloutWeights": dict(weights) if weights is not None else dict.fromkeys(variants, 1),
        "targetSegments": copy.deepcopy(segments or []),
    }
    if percentage is not None:
        out["rolloutPercentage"] = percentage
    if enabled is not None:
        out["enabled"] = enabled
    out.update(extra)
    return out


def versions_frame(
    configs: list[dict[str, Any]],
    *,
    config_id: str = "101",
    kind: str = "flag",
    key: str = "checkout-redesign",
    start: str = "2026-01-01T00:00:00Z",
    step_days: float = 7,
    authors: list[str] | None = None,
) -> pd.DataFrame:
    """One config's versions 1..n, a week apart by default."""
    t0 = pd.Timestamp(start)
    rows = []
    for i, cfg in enumerate(configs):
        rows.append(
            {
                "config_id": config_id,
                "kind": kind,
                "config_key": key,
                "version": i + 1,
                "created_at": t0 + pd.Timedelta(days=step_days * i),
                "created_by": (authors or ["ana@example.com"])[i % len(authors or [1])],
                "enabled": cfg.get("enabled"),
                "rollout_percentage": cfg.get("rolloutPercentage"),
                "rollout_weights": cfg.get("rolloutWeights"),
                "n_segments": len(cfg.get("targetSegments") or []),
                "config": cfg,
            }
        )
    frame = pd.DataFrame(rows, columns=list(VERSIONS_DTYPES))
    return frame.astype(VERSIONS_DTYPES)


def concat(*frames: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True).astype(VERSIONS_DTYPES)

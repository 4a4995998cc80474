"""The hygiene and report tests' org builder: ages in days before ``NOW`` (uses pandas)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tests.support.orgs import NOW_DT, OrgBuilder, days_ago

__all__ = ["NOW", "HygieneOrg", "days_ago"]

NOW = pd.Timestamp(NOW_DT)


class HygieneOrg(OrgBuilder):
    """The hygiene and report tests' builder: project 100, deployments 1 (web) and 2 (old,
    deleted), flags with one ``on`` variant at 50% by default, experiments running with
    control/treatment, histories as ``(days_ago, overrides)``."""

    def __init__(self, now: Any = None) -> None:
        super().__init__(
            now=NOW if now is None else now,
            defaults={
                "bucketingSalt": "salt",
                "enabled": True,
                "rolloutPercentage": 50,
                "deployments": ["1"],
                "tags": ["team:growth"],
            },
        )
        self.deployment("1", "web", "client-abc")
        self.deployment("2", "old", "client-old", deleted=True)

    def config(self, kind: str, key: str, **options: Any) -> dict[str, Any]:
        options.setdefault("name", key.replace("-", " ").title())
        options.setdefault("description", f"What {key} is for.")
        return super().config(kind, key, **options)

    def experiment(self, key: str, **options: Any) -> dict[str, Any]:
        base = {
            "variants": [{"key": "control"}, {"key": "treatment"}],
            "rolloutWeights": {"control": 1, "treatment": 1},
            "state": "running",
        }
        options.setdefault("omit", ("exposureEvent",))
        return super().experiment(key, **{**base, **options})

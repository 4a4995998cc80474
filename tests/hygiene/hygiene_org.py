"""A small builder of hand-made orgs: API-shaped records → the real flatteners → a snapshot."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from types import SimpleNamespace
from typing import Any

import pandas as pd

from expkit import frames

NOW = pd.Timestamp("2026-11-20T09:00:00Z")
_META = ("createdBy", "createdAt", "lastModifiedBy", "lastModifiedAt")


def iso(days_ago: float, *, now: pd.Timestamp = NOW) -> str:
    """The ISO time ``days_ago`` days before ``now``."""
    return (now - pd.Timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Org:
    """Builds configs (with version histories), deployments, groups and inclusions."""

    def __init__(self, now: pd.Timestamp = NOW) -> None:
        self.now = now
        self.configs: list[dict[str, Any]] = []
        self.kinds: dict[str, str] = {}
        self.versions: list[dict[str, Any]] = []
        self.deployments = [
            {"id": "1", "projectId": "100", "label": "web", "key": "client-abc", "deleted": False},
            {"id": "2", "projectId": "100", "label": "old", "key": "client-old", "deleted": True},
        ]
        self.groups: list[dict[str, Any]] = []
        self.inclusions: list[dict[str, Any]] = []
        self._next_id = 1000

    def flag(
        self,
        key: str,
        *,
        history: Iterable[tuple[float, Mapping[str, Any]]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A flag; ``history``: ``(days_ago, overrides)`` per version, oldest first.

        Each version is the final config with its overrides applied; the last version's time
        is the config's ``lastModifiedAt``. Without a history: one version, 400 days ago.
        """
        return self._config("flag", key, history, fields)

    def experiment(
        self,
        key: str,
        *,
        history: Iterable[tuple[float, Mapping[str, Any]]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """An experiment (as ``flag``), running with variants control/treatment by default."""
        base = {
            "variants": [{"key": "control"}, {"key": "treatment"}],
            "rolloutWeights": {"control": 1, "treatment": 1},
            "state": "running",
            "decision": None,
            "decisionReason": None,
            "rolledOutVariant": None,
            "stickyBucketing": False,
            "startDate": None,
            "endDate": None,
            "experimentType": "a-b-test",
        }
        base.update(fields)
        return self._config("experiment", key, history, base)

    def _config(
        self,
        kind: str,
        key: str,
        history: Iterable[tuple[float, Mapping[str, Any]]] | None,
        fields: Mapping[str, Any],
    ) -> dict[str, Any]:
        self._next_id += 1
        config: dict[str, Any] = {
            "id": str(self._next_id),
            "projectId": "100",
            "key": key,
            "name": key.replace("-", " ").title(),
            "description": f"What {key} is for.",
            "enabled": True,
            "evaluationMode": "remote",
            "bucketingKey": "amplitude_id",
            "bucketingSalt": "salt",
            "bucketingUnit": "User",
            "variants": [{"key": "on"}],
            "rolloutPercentage": 50,
            "rolloutWeights": {"on": 1},
            "targetSegments": [],
            "deployments": ["1"],
            "tags": ["team:growth"],
            "archived": False,
            "deleted": False,
            "createdBy": "creator@example.com",
            "lastModifiedBy": "editor@example.com",
        }
        config.update(fields)
        steps = list(history) if history is not None else [(400.0, {})]
        config["createdAt"] = iso(steps[0][0], now=self.now)
        config["lastModifiedAt"] = iso(steps[-1][0], now=self.now)
        for number, (days_ago, overrides) in enumerate(steps, start=1):
            flag_config = {k: copy.deepcopy(v) for k, v in config.items() if k not in _META}
            flag_config.pop("state", None)
            flag_config.update(copy.deepcopy(dict(overrides)))
            self.versions.append(
                {
                    "version": number,
                    "createdAt": iso(days_ago, now=self.now),
                    "createdBy": f"v{number}@example.com",
                    "flagConfig": flag_config,
                }
            )
        self.configs.append(config)
        self.kinds[config["id"]] = kind
        return config

    def include(self, config: Mapping[str, Any], variant: str, users: list[str]) -> None:
        """Include ``users`` individually in ``variant`` of ``config``."""
        self.inclusions.append(
            {
                "config_id": config["id"],
                "kind": self.kinds[config["id"]],
                "config_key": config["key"],
                "variant_key": variant,
                "users": users,
                "cohorts": [],
            }
        )

    def mutex(self, group_id: str, *, deleted: bool = False, slots: int = 2) -> None:
        """A mutex group with ``slots`` slots (variant keys slot-1, slot-2, ...)."""
        self.groups.append(
            {
                "id": group_id,
                "projectId": "100",
                "key": f"mutex-{group_id}",
                "name": f"Mutex {group_id}",
                "description": None,
                "deleted": deleted,
                "slots": [
                    {"name": f"SLOT {i}", "index": i, "variantKey": f"slot-{i}", "percentage": 50}
                    for i in range(1, slots + 1)
                ],
            }
        )

    def snapshot(self) -> SimpleNamespace:
        """The org as a snapshot (the real flatteners; the Snapshot's attributes)."""
        kinds = self.kinds
        return SimpleNamespace(
            configs=frames.configs(self.configs, kind=kinds),
            variants=frames.variants(self.configs, kind=kinds),
            segments=frames.segments(self.configs, kind=kinds),
            conditions=frames.conditions(self.configs, kind=kinds),
            versions=frames.versions(self.versions, kind=kinds),
            inclusions=frames.inclusions(self.inclusions),
            deployments=frames.deployments(self.deployments),
            groups=frames.groups(self.groups, kind="mutex"),
            taken_at=self.now,
        )

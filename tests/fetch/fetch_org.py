"""Builders of a small wire-format org for the snapshot and fetch tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DEPLOY_KEY = "client-" + "0123456789abcdef" * 2


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _config(i: int, kind: str) -> dict[str, Any]:
    variants = (
        ["control", "treatment"] if kind == "experiments" else ["on", "off", "hold"][: 1 + i % 3]
    )
    config: dict[str, Any] = {
        "id": str(1000 + i),
        "projectId": "9000",
        "key": f"{kind[:-1]}-{i}",
        "name": f"{kind[:-1].title()} {i}",
        "description": f"config {i}" if i % 4 else "",
        "enabled": i % 3 != 0,
        "evaluationMode": "remote",
        "bucketingKey": "amplitude_id",
        "bucketingSalt": f"salt{i:04d}",
        "bucketingUnit": "User",
        "variants": [
            {"key": v, "name": v.title(), "description": "", "payload": {"n": n} if n else None}
            for n, v in enumerate(variants)
        ],
        "rolloutPercentage": (i * 10) % 110,
        "rolloutWeights": {v: 1 for v in variants},
        "targetSegments": [
            {
                "name": f"Segment {s}",
                "conditions": [
                    {"prop": "country", "op": "is", "type": "property", "values": ["US", "CA"]}
                ]
                * (1 + s),
                "percentage": 50,
                "bucketingKey": "amplitude_id",
                "rolloutWeights": {variants[0]: 1},
            }
            for s in range(i % 3)
        ],
        "deployments": ["501"] if i % 5 else [],
        "tags": [f"team:{i % 2}"] if i % 2 else [],
        "archived": i == 7,
        "deleted": False,
        "createdBy": "alice@example.com",
        "createdAt": _iso(START + timedelta(days=i)),
        "lastModifiedBy": "bob@example.com",
    }
    if kind == "experiments":
        config.update(
            {
                "state": "running" if i % 2 else "planning",
                "decision": None,
                "decisionReason": None,
                "rolledOutVariant": None,
                "stickyBucketing": False,
                "startDate": "2026-03-01" if i % 2 else None,
                "endDate": None,
                "experimentType": "a-b-test",
                "tags": [],
            }
        )
    return config


def make_org(n_flags: int = 8, n_experiments: int = 4, n_versions: int = 3) -> dict[str, Any]:
    """A wire-format org: configs with ``n_versions`` versions each, inclusions, groups."""
    org: dict[str, Any] = {
        "flags": [],
        "experiments": [],
        "deployments": [
            {"id": "501", "projectId": "9000", "label": "web", "key": DEPLOY_KEY, "deleted": False},
            {
                "id": "502",
                "projectId": "9000",
                "label": "old",
                "key": "server-x" * 4,
                "deleted": True,
            },
        ],
        "mutexes": [
            {
                "id": "601",
                "projectId": "9000",
                "name": "checkout mutex",
                "key": "mutex-checkout",
                "description": None,
                "evaluationMode": "remote",
                "bucketingKey": "amplitude_id",
                "bucketingSalt": "mmmm",
                "slots": [
                    {
                        "name": "SLOT 1",
                        "index": 1,
                        "variantKey": "slot-1",
                        "percentage": 100,
                        "experiments": [],
                        "holdouts": [],
                        "individuals": [],
                        "cohorts": [],
                    }
                ],
            }
        ],
        "holdouts": [],
        "versions": {},
        "inclusions": {},
    }
    i = 0
    for kind, n in (("flags", n_flags), ("experiments", n_experiments)):
        for _ in range(n):
            config = _config(i, kind)
            history = []
            for v in range(1, n_versions + 1):
                snapshot = {k: val for k, val in config.items() if k not in _TIME_FIELDS}
                if kind == "experiments":
                    snapshot.pop("state")
                snapshot = copy.deepcopy(snapshot)
                snapshot["rolloutPercentage"] = min(
                    100, config["rolloutPercentage"] + v - n_versions
                )
                if v == n_versions:
                    snapshot["rolloutPercentage"] = config["rolloutPercentage"]
                when = START + timedelta(days=i, hours=v)
                history.append(
                    {
                        "version": v,
                        "createdAt": _iso(when),
                        "createdBy": "bob@example.com",
                        "flagConfig": snapshot,
                    }
                )
            config["lastModifiedAt"] = history[-1]["createdAt"]
            org[kind].insert(0, config)  # the API lists newest first
            org["versions"][config["id"]] = history
            first = config["variants"][0]["key"]
            org["inclusions"][config["id"]] = {
                first: {"users": [f"user{i}@example.com", f"device-{i}"], "cohorts": [f"coh{i}"]}
            }
            i += 1
    return org


_TIME_FIELDS = ("createdBy", "createdAt", "lastModifiedBy", "lastModifiedAt")

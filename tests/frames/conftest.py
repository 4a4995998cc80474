"""Hand-built API records shaped like the documented responses (API-NOTES §10)."""

from __future__ import annotations

import copy
from typing import Any

import pytest


def _segment(name: str, n_conditions: int, *, percentage: float = 50) -> dict[str, Any]:
    return {
        "name": name,
        "conditions": [
            {"prop": f"gp:prop{i}", "op": "is", "type": "property", "values": [f"v{i}", "w"]}
            for i in range(n_conditions)
        ],
        "percentage": percentage,
        "bucketingKey": "amplitude_id",
        "rolloutWeights": {"on": 1, "off": 1},
    }


@pytest.fixture
def flag() -> dict[str, Any]:
    """A flag with 2 segments × 3 conditions, two variants and one unknown field."""
    return {
        "id": "101",
        "projectId": "9000",
        "deployments": ["11", "12"],
        "key": "new-checkout",
        "name": "New checkout",
        "description": "checkout redesign",
        "enabled": True,
        "archived": False,
        "deleted": False,
        "evaluationMode": "remote",
        "bucketingKey": "amplitude_id",
        "bucketingSalt": "mHdQDzeE",
        "bucketingUnit": "User",
        "createdBy": "abc@example.com",
        "lastModifiedBy": "def@example.com",
        "createdAt": "2022-09-09T15:29:47.940Z",
        "lastModifiedAt": "2023-01-25T11:43:41.073Z",
        "variants": [
            {"key": "on", "name": "On", "description": "", "payload": {"color": "blue"}},
            {"key": "off", "name": "Off", "description": "", "payload": None},
        ],
        "rolloutPercentage": 25,
        "rolloutWeights": {"on": 3, "off": 1},
        "targetSegments": [_segment("Segment 1", 3), _segment("Segment 2", 3, percentage=12.5)],
        "tags": ["squad:checkout"],
        "parentDependencies": {"flags": {"12345": ["on"]}, "operator": "all"},
        "brandNewField": {"nested": [1, 2]},
    }


@pytest.fixture
def experiment() -> dict[str, Any]:
    """A running experiment with a date-only startDate, as GET /experiments/{id} returns."""
    return {
        "id": "202",
        "projectId": "9000",
        "deployments": ["11"],
        "key": "pricing-test",
        "name": "Pricing test",
        "decision": None,
        "decisionReason": None,
        "description": "",
        "enabled": True,
        "archived": False,
        "deleted": False,
        "evaluationMode": "remote",
        "bucketingKey": "amplitude_id",
        "bucketingSalt": "AbCdEfGh",
        "bucketingUnit": "User",
        "variants": [{"key": "control"}, {"key": "treatment"}],
        "rolledOutVariant": None,
        "rolloutPercentage": 10,
        "rolloutWeights": {"control": 1, "treatment": 1},
        "targetSegments": [],
        "stickyBucketing": False,
        "state": "running",
        "startDate": "2023-07-29",
        "endDate": None,
        "experimentType": "a-b-test",
        "tags": [],
        "createdBy": "x@example.com",
        "lastModifiedBy": "x@example.com",
        "createdAt": "2023-07-01T08:00:00.000Z",
        "lastModifiedAt": "2023-07-29T03:32:49.594Z",
    }


@pytest.fixture
def version_records(flag: dict[str, Any], experiment: dict[str, Any]) -> list[dict[str, Any]]:
    """Feed-order version records (newest first) of the flag (2 versions) and experiment (1)."""
    first = copy.deepcopy(flag)
    for field in ("createdBy", "lastModifiedBy", "createdAt", "lastModifiedAt"):
        first.pop(field)
    second = copy.deepcopy(first)
    first["enabled"] = False
    exp = copy.deepcopy(experiment)
    for field in ("createdBy", "lastModifiedBy", "createdAt", "lastModifiedAt", "state"):
        exp.pop(field)
    return [
        {
            "createdAt": "2023-07-29T03:32:49.594Z",
            "createdBy": "x",
            "version": 1,
            "flagConfig": exp,
        },
        {
            "createdAt": "2023-01-25T11:43:41.073Z",
            "createdBy": "d",
            "version": 2,
            "flagConfig": second,
        },
        {
            "createdAt": "2022-09-09T15:29:47.940Z",
            "createdBy": "a",
            "version": 1,
            "flagConfig": first,
        },
    ]

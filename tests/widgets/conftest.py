"""A fake org with one three-variant flag, served in-process, for the widget tests."""

from __future__ import annotations

from typing import Any

import pytest

from expkit.fake import FakeAdapter, State


def widget_org() -> dict[str, Any]:
    flag = {
        "id": "3001",
        "projectId": "100",
        "key": "search-ranking",
        "name": "Search ranking",
        "description": "ranking model rollout",
        "enabled": True,
        "evaluationMode": "remote",
        "bucketingKey": "amplitude_id",
        "bucketingSalt": "abcd1234",
        "bucketingUnit": "User",
        "variants": [
            {"key": "control", "name": "", "description": "", "payload": None},
            {"key": "bm25", "name": "", "description": "", "payload": {"boost": 1}},
            {"key": "neural", "name": "", "description": "", "payload": {"model": "v2"}},
        ],
        "rolloutPercentage": 100,
        "rolloutWeights": {"control": 1, "bm25": 1, "neural": 1},
        "targetSegments": [],
        "deployments": [],
        "tags": [],
        "archived": False,
        "deleted": False,
        "createdBy": "dana@example.com",
        "createdAt": "2026-10-01T09:00:00Z",
        "lastModifiedBy": "dana@example.com",
        "lastModifiedAt": "2026-10-01T09:00:00Z",
    }
    flag_config = {k: v for k, v in flag.items() if not k.startswith(("created", "lastModified"))}
    return {
        "flags": [flag],
        "experiments": [],
        "deployments": [],
        "mutexes": [],
        "holdouts": [],
        "versions": {
            "3001": [
                {
                    "version": 1,
                    "createdAt": flag["createdAt"],
                    "createdBy": flag["createdBy"],
                    "flagConfig": flag_config,
                }
            ]
        },
        "inclusions": {
            "3001": {
                "control": {"users": ["qa-1", "qa-2"], "cohorts": ["coh-qa"]},
                "bm25": {"users": [], "cohorts": []},
                "neural": {"users": ["dev-1"], "cohorts": []},
            }
        },
    }


@pytest.fixture
def server():
    # in-process: the widgets need a client, the state and the request log, not a socket
    return FakeAdapter(State.from_org(widget_org()))


@pytest.fixture
def client(server):
    return server.client()


@pytest.fixture
def flag(server):
    """The flag as the fake holds it now."""
    return lambda: server.state.to_org()["flags"][0]

"""Fixtures of the fake's tests: a small hand-built org, a running server and clients on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from expkit.fake import FakeClock, FakeServer, State

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def _config(cid: str, key: str, created: str, **extra: Any) -> dict[str, Any]:
    config = {
        "id": cid,
        "projectId": "100",
        "key": key,
        "name": key,
        "description": f"the {key} config",
        "enabled": True,
        "evaluationMode": "remote",
        "bucketingKey": "amplitude_id",
        "bucketingSalt": "salt1234",
        "bucketingUnit": "User",
        "variants": [
            {"key": "control", "name": "", "description": "", "payload": None},
            {"key": "treatment", "name": "", "description": "", "payload": {"color": "red"}},
        ],
        "rolloutPercentage": 50,
        "rolloutWeights": {"control": 1, "treatment": 1},
        "targetSegments": [],
        "deployments": ["900"],
        "tags": ["team:web"],
        "archived": False,
        "deleted": False,
        "createdBy": "ana@example.com",
        "createdAt": created,
        "lastModifiedBy": "ana@example.com",
        "lastModifiedAt": created,
    }
    config.update(extra)
    return config


def small_org() -> dict[str, Any]:
    """Two flags (one archived) and one experiment, one deployment, one version each."""
    flags = [
        _config("11", "checkout-v2", "2025-12-03T10:00:00.000Z"),
        _config("12", "old-banner", "2025-12-02T10:00:00.000Z", archived=True),
    ]
    experiments = [
        _config(
            "21",
            "pricing-test",
            "2025-12-01T10:00:00.000Z",
            state="running",
            decision=None,
            decisionReason=None,
            rolledOutVariant=None,
            stickyBucketing=False,
            startDate="2025-12-01",
            endDate=None,
            experimentType="a-b-test",
        )
    ]
    return {
        "flags": flags,
        "experiments": experiments,
        "deployments": [
            {"id": "900", "projectId": "100", "label": "web", "key": "client-abc", "deleted": False}
        ],
        "mutexes": [],
        "holdouts": [],
        "inclusions": {"11": {"treatment": {"users": ["u1", "u2", "u3"], "cohorts": ["c1"]}}},
    }


@pytest.fixture
def t0() -> datetime:
    """The start of the fake clock in these tests."""
    return T0


@pytest.fixture
def make_org():
    """A factory of fresh copies of the small org."""
    return small_org


@pytest.fixture
def org() -> dict[str, Any]:
    return small_org()


@pytest.fixture
def state(org: dict[str, Any]) -> State:
    return State.from_org(org, clock=FakeClock(T0))


@pytest.fixture
def server(state: State) -> Iterator[FakeServer]:
    with FakeServer(state) as fake:
        yield fake


@pytest.fixture
def client(server: FakeServer):
    client = server.client(max_retries=0, rate_limit=None)
    yield client
    client.close()

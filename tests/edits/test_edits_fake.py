"""The plans against the fake org over real HTTP (issue 6, "Show")."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from expkit.edits import (
    ConflictError,
    InclusionsEdit,
    PartialApplyError,
    PayloadEdit,
    RolloutEdit,
)
from expkit.fake import FakeServer, State
from tests.support import edits_org as make_org

WRITES = ("POST", "PATCH", "PUT", "DELETE")


class SpyAdapter(HTTPAdapter):
    """Records (method, path, JSON body) of every request; fails the writes numbered in
    ``fail_writes`` (1-based) with a 500 instead of sending them."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, Any]] = []
        self.fail_writes: set[int] = set()
        self.n_writes = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        body = json.loads(request.body) if request.body else None
        path = requests.utils.urlparse(request.url).path
        if request.method in WRITES:
            self.n_writes += 1
            if self.n_writes in self.fail_writes:
                response = requests.Response()
                response.status_code = 500
                response._content = b'{"message": "injected failure"}'
                response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
                response.url = request.url
                response.request = request
                response.reason = "Internal Server Error"
                return response
        self.sent.append((request.method, path, body))
        return super().send(request, **kwargs)

    def writes(self) -> list[tuple[str, str, Any]]:
        return [s for s in self.sent if s[0] in WRITES]


@pytest.fixture
def server():
    with FakeServer(State.from_org(make_org())) as fake:
        yield fake


@pytest.fixture
def spy() -> SpyAdapter:
    return SpyAdapter()


@pytest.fixture
def client(server, spy):
    session = requests.Session()
    session.mount("http://", spy)
    # no retries: an injected 500 must fail its step, not be retried away
    return server.client(session=session, max_retries=0)


def server_writes(server: FakeServer) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in server.request_log if m in WRITES]


def audit_lines() -> list[dict[str, Any]]:
    path = Path(os.environ["EXPKIT_AUDIT_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_weights_one_to_one_becomes_one_to_three(server, client, spy):
    plan = RolloutEdit.load(client, "1001").set_weights({"control": 1, "treatment": 3})
    expected = [(r.method, r.path, r.body) for r in plan.requests()]
    result = plan.apply()
    assert result.outcome == "applied" and result.verified
    assert server.state.to_org()["flags"][0]["rolloutWeights"] == {"control": 1, "treatment": 3}
    # requests() was exactly what went over the wire
    assert (
        spy.writes()
        == expected
        == [("PATCH", "/api/1/flags/1001/variants/treatment", {"rolloutWeight": 3})]
    )
    assert list(result.after["rollout_weights"].values()) == [1, 3]


def test_payload_edit(server, client):
    plan = PayloadEdit.load(client, "1001").set_payload("treatment", '{"color": "green"}')
    plan.apply()
    variants = client.flags.get("1001")["variants"]
    assert variants[1]["payload"] == {"color": "green"}
    assert variants[0]["payload"] == {"color": "grey"}


def test_adding_250_users_takes_the_chunked_path(server, client):
    users = [f"user-{i:03d}@example.com" for i in range(250)]
    plan = InclusionsEdit.load(client, "1001").add_users("treatment", users)
    server.reset_log()
    plan.apply()
    posts = [p for m, p in server_writes(server)]
    assert posts == ["/api/1/flags/1001/variants/treatment/users"] * 3
    assert client.flags.users("1001", "treatment") == ["u-3", *users]


def test_removals_are_chunked_by_100(server, client):
    users = [f"id-{i}" for i in range(230)]
    client.flags.add_users("1001", "control", users[:200])
    client.flags.add_users("1001", "control", users[200:])
    plan = InclusionsEdit.load(client, "1001").remove_users("control", users)
    server.reset_log()
    plan.apply()
    assert (
        server_writes(server)
        == [("DELETE", "/api/1/flags/1001/variants/control/bulk-delete-users")] * 3
    )
    assert client.flags.users("1001", "control") == ["u-1", "u-2"]


def test_conflict_when_changed_behind_the_plans_back(server, client):
    plan = RolloutEdit.load(client, "1001").set_weights({"treatment": 3})
    other = server.client()
    other.flags.edit("1001", rollout_percentage=20)
    changed_at = other.flags.get("1001")["lastModifiedAt"]
    server.reset_log()
    with pytest.raises(ConflictError) as info:
        plan.apply()
    assert server_writes(server) == []
    assert info.value.changed_at == changed_at
    assert info.value.changed_by  # the fake records who made each change
    assert "rolloutPercentage" in info.value.fields
    assert str(info.value.changed_by) in str(info.value) and changed_at in str(info.value)
    assert audit_lines()[-1]["outcome"] == "conflict"


def test_conflict_on_inclusions_changed_by_another_client(server, client):
    plan = InclusionsEdit.load(client, "1001").add_users("control", "new-user")
    server.client().flags.add_users("1001", "treatment", ["sneaky"])
    with pytest.raises(ConflictError) as info:
        plan.apply()
    assert "inclusions.treatment" in info.value.fields
    assert "new-user" not in client.flags.users("1001", "control")


def test_fault_in_second_of_three_steps_rolls_back(server, client, spy):
    original = server.state.to_org()
    plan = (
        RolloutEdit.load(client, "1001")
        .set_weights({"control": 2, "treatment": 3})
        .set_percentage(60)
    )
    assert len(plan.requests()) == 3
    spy.fail_writes = {2}
    with pytest.raises(PartialApplyError) as info:
        plan.apply()
    err = info.value
    assert [s.fate for s in err.steps] == ["rolled back", "failed", "not sent"]
    assert err.restored is True
    message = str(err)
    for step in err.steps:
        assert f"{step.request.method} {step.request.path}" in message
    assert "500" in message
    now = server.state.to_org()["flags"][0]
    before = original["flags"][0]
    for field in ("rolloutWeights", "rolloutPercentage", "enabled", "variants"):
        assert now[field] == before[field], field
    line = audit_lines()[-1]
    assert line["outcome"] == "failed"
    assert [r["fate"] for r in line["requests"]] == ["rolled back", "failed", "not sent"]


def test_undo_restores(server, client):
    plan = RolloutEdit.load(client, "1001").set_weights({"treatment": 3}).set_enabled(False)
    plan.apply()
    assert client.flags.get("1001")["enabled"] is False
    result = plan.undo()
    assert result.verified
    flag = client.flags.get("1001")
    assert flag["enabled"] is True
    assert flag["rolloutWeights"] == {"control": 1, "treatment": 1}
    assert [line["action"] for line in audit_lines()] == ["apply", "undo"]


def test_dry_run_sends_no_write(server, client):
    plan = InclusionsEdit.load(client, "1001").add_users("control", "a,b,c")
    plan.remove_cohorts("treatment", ["coh-1"])
    server.reset_log()
    result = plan.apply(dry_run=True)
    assert server_writes(server) == []
    assert all(m == "GET" for m, _, _ in server.request_log)
    assert [s.fate for s in result.steps] == ["not sent", "not sent"]
    assert client.flags.cohorts("1001", "treatment") == ["coh-1"]


def test_audit_lines_parse_and_hold_no_key(server, client):
    RolloutEdit.load(client, "1001").set_weights({"treatment": 2}).apply()
    InclusionsEdit.load(client, "1001").add_users("control", "x").apply()
    PayloadEdit.load(client, "1001").set_payload("control", "null").apply(dry_run=True)
    text = Path(os.environ["EXPKIT_AUDIT_LOG"]).read_text()
    assert server.api_key not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["outcome"] for line in lines] == ["applied", "applied", "dry run"]
    assert all(line["base_url"] == server.url for line in lines)


def test_legacy_client_uses_its_single_weights_call(server):
    legacy = server.legacy_client()
    plan = RolloutEdit.load(legacy, "2001", kind="experiments").set_weights({"treatment": 4})
    assert [str(r) for r in plan.requests()] == [
        'POST /experiments/2001/rollout-weights {"rolloutWeights": {"control": 1, "treatment": 4}}'
    ]
    plan.apply()
    assert server.state.to_org()["experiments"][0]["rolloutWeights"]["treatment"] == 4
    plan.set_percentage(10)
    assert plan.errors == [
        "rollout_percentage: the LegacyClient cannot change the rollout percentage; use expkit.Client"
    ]


def test_experiments_kind(server, client):
    plan = RolloutEdit.load(client, "2001", kind="experiments").set_percentage(25)
    assert [str(r) for r in plan.requests()] == [
        'PATCH /api/1/experiments/2001 {"rolloutPercentage": 25}'
    ]
    plan.apply()
    assert client.experiments.get("2001")["rolloutPercentage"] == 25


def test_requests_match_the_wire_for_every_step_kind(server, client, spy):
    client.flags.add_users("1001", "control", ["old-1"])
    plans = [
        lambda: (
            RolloutEdit.load(client, "1001")
            .set_weights({"control": 0, "treatment": 5})
            .set_percentage(30.0)
            .set_enabled(True)
        ),
        lambda: (
            InclusionsEdit.load(client, "1001")
            .add_users("control", ["n-1", "n-2"])
            .remove_users("control", "old-1")
            .add_cohorts("treatment", "coh-2")
            .remove_cohorts("treatment", "coh-1")
        ),
        lambda: PayloadEdit.load(client, "1001").set_payload("control", None),
    ]
    results = []
    for make in plans:
        plan = make()  # loaded just before applying: each apply changes the config
        expected = [(r.method, r.path, r.body) for r in plan.requests()]
        spy.sent.clear()
        results.append(plan.apply())
        assert spy.writes() == expected, type(plan).__name__
    assert [len(r.steps) for r in results] == [3, 4, 1]
    # narrowing from 100% to 30% goes first
    assert results[0].requests[0].body == {"rolloutPercentage": 30}
    assert client.flags.get("1001")["variants"][0]["payload"] is None

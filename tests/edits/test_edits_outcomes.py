"""Edits that know their outcome (issue 12, point 7): the fault matrix, against the fake org.

Every step of every plan kind meets each fault of ``faults.FAULTS`` in turn: a 500 after the
server applied the write or before it reached it, a dropped connection, a timeout (after the
client's retries: the client here does not retry, or the fault repeats on each retry), and
Ctrl-C right after the response. After ``apply()`` the server holds the old config or the
new one, never a mix, and the result says which, with each step's status.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from faults import FAULTS, FaultAdapter

from expkit.edits import (
    ApplyResult,
    ConflictError,
    InclusionsEdit,
    PartialApplyError,
    PayloadEdit,
    RolloutEdit,
    VerificationError,
)
from expkit.edits._core import Plan
from expkit.errors import TransportError
from expkit.fake import FakeServer, State
from tests.support import edits_org as make_org

Client = Any
Build = Callable[[Client], Plan]

TREATMENT_USERS = [f"new-{i:03d}" for i in range(150)]

# plan kind -> (kind, config id, builder, number of steps it sends)
PLANS: dict[str, tuple[str, str, Build, int]] = {
    # two weights and a wider rollout: the weights go first
    "rollout weights": (
        "flags",
        "1001",
        lambda c: RolloutEdit.load(c, "1001").set_weights({"control": 2, "treatment": 3}),
        2,
    ),
    # weights and a narrower rollout, on an experiment: the percentage goes first
    "rollout narrowing (experiment)": (
        "experiments",
        "2001",
        lambda c: (
            RolloutEdit.load(c, "2001", kind="experiments")
            .set_weights({"control": 3, "treatment": 2})
            .set_percentage(40)
        ),
        3,
    ),
    "rollout switch off": (
        "flags",
        "1001",
        lambda c: RolloutEdit.load(c, "1001").set_enabled(False).set_weights({"treatment": 4}),
        2,
    ),
    # LegacyClient: its one rollout-weights call and its deactivate call
    "legacy rollout (experiment)": (
        "experiments",
        "2001",
        lambda c: (
            RolloutEdit.load(c, "2001", kind="experiments")
            .set_weights({"treatment": 4})
            .set_enabled(False)
        ),
        2,
    ),
    "payload": (
        "flags",
        "1001",
        lambda c: (
            PayloadEdit.load(c, "1001")
            .set_payload("control", '{"color": "red"}')
            .set_payload("treatment", "null")
        ),
        2,
    ),
    "inclusions add/remove users/cohorts": (
        "flags",
        "1001",
        lambda c: (
            InclusionsEdit.load(c, "1001")
            .add_users("control", ["n-1", "n-2"])
            .remove_users("control", "u-1")
            .add_cohorts("treatment", "coh-2")
            .remove_cohorts("treatment", "coh-1")
        ),
        4,
    ),
    "inclusions chunked": (
        "flags",
        "1001",
        lambda c: (
            InclusionsEdit.load(c, "1001")
            .remove_users("control", ["u-1", "u-2"])
            .add_users("treatment", TREATMENT_USERS)
        ),
        3,
    ),
}

LEGACY = {"legacy rollout (experiment)"}

CASES = [
    pytest.param(name, step, fault, id=f"{name}-step{step}-{fault}")
    for name, (_, _, _, n) in PLANS.items()
    for step in range(1, n + 1)
    for fault in FAULTS
]


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(State.from_org(make_org()), warm=False) as fake:
        yield fake


def connect(
    server: FakeServer, *, retries: int = 0, legacy: bool = False
) -> tuple[Client, FaultAdapter]:
    adapter = FaultAdapter()
    session = requests.Session()
    session.mount("http://", adapter)
    make = server.legacy_client if legacy else server.client
    client = make(session=session, max_retries=retries, backoff_factor=0)
    return client, adapter


def view(server: FakeServer, kind: str, config_id: str) -> dict[str, Any]:
    """The config and its inclusions as the fake holds them (timestamps and order aside)."""
    org = server.state.to_org()
    config = next(c for c in org[kind] if c["id"] == config_id)
    config = {k: v for k, v in config.items() if k not in ("lastModifiedAt", "lastModifiedBy")}
    inclusions = {
        variant: {what: sorted(ids) for what, ids in lists.items()}
        for variant, lists in org["inclusions"].get(config_id, {}).items()
    }
    return {"config": config, "inclusions": inclusions}


_NEW: dict[str, dict[str, Any]] = {}


def new_view(name: str) -> dict[str, Any]:
    """The config after the plan applied with no fault (on a server of its own)."""
    if name not in _NEW:
        kind, config_id, build, _ = PLANS[name]
        with FakeServer(State.from_org(make_org()), warm=False) as fake:
            client = fake.legacy_client() if name in LEGACY else fake.client()
            assert build(client).apply().verified
            _NEW[name] = view(fake, kind, config_id)
    return _NEW[name]


def audit_lines() -> list[dict[str, Any]]:
    path = Path(os.environ["EXPKIT_AUDIT_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def says(
    result: ApplyResult, now: dict[str, Any], before: dict[str, Any], planned: dict[str, Any]
) -> str:
    """Which end the server is at (the config before the call, or the planned one), after
    checking that the result says the same."""
    assert now in (before, planned), "the server holds a mix of the old and the new config"
    end = "before" if now == before else "planned"
    assert result.state == end
    return end


@pytest.mark.parametrize(("name", "step", "fault"), CASES)
def test_apply_under_a_fault_at_every_step(server, name, step, fault):
    kind, config_id, build, n_steps = PLANS[name]
    old, new = view(server, kind, config_id), new_view(name)
    assert old != new
    client, adapter = connect(server, legacy=name in LEGACY)
    plan = build(client)
    assert len(plan.requests()) == n_steps  # the matrix covers every step of the plan
    adapter.faults = {step: fault}

    with pytest.raises(PartialApplyError) as info:
        plan.apply(progress=False)

    err = info.value
    result = err.result
    assert result is not None and plan.last_result is result
    assert adapter.injected and adapter.injected[0][0] == step
    # the server is at one end, and the result says which: here, back where it started
    assert says(result, view(server, kind, config_id), old, new) == "before"
    assert err.restored is True and result.outcome == "failed"
    applied_by_server = fault.endswith("-after")
    expected = (
        ["rolled back"] * (step - 1)
        + ["rolled back" if applied_by_server else "not applied"]
        + ["not applied"] * (n_steps - step)
    )
    assert result.statuses == expected
    assert [s.fate for s in result.steps] == (
        ["rolled back"] * (step - 1) + ["failed"] + ["not sent"] * (n_steps - step)
    )
    assert list(result.frame()["status"]) == expected
    if fault == "interrupt-after":
        assert isinstance(err.__cause__, KeyboardInterrupt)
    settled = "had applied it" if applied_by_server else "had not applied it"
    assert settled in str(err).splitlines()[0]
    line = audit_lines()[-1]
    assert line["outcome"] == "failed" and line["state"] == "before"
    assert [r["status"] for r in line["requests"]] == expected
    # nothing of it is left to undo, and the intended change is kept: applying again works
    assert not plan.can_undo
    adapter.faults = {}
    assert plan.apply(progress=False).verified
    assert view(server, kind, config_id) == new


@pytest.mark.parametrize("fault", ["500-after", "drop-after", "timeout-after", "500-before"])
@pytest.mark.parametrize("name", list(PLANS))
def test_a_fault_that_outlasts_the_retries_is_settled_too(server, name, fault):
    kind, config_id, build, n_steps = PLANS[name]
    old, new = view(server, kind, config_id), new_view(name)
    client, adapter = connect(server, retries=2, legacy=name in LEGACY)
    plan = build(client)
    adapter.faults, adapter.repeat = {n_steps: fault}, True  # the last step, every attempt
    with pytest.raises(PartialApplyError) as info:
        plan.apply(progress=False)
    result = info.value.result
    assert says(result, view(server, kind, config_id), old, new) == "before"
    # 500 is not retried; drops and timeouts are, each attempt failing again
    attempts = 1 if fault.startswith("500") else 3
    assert len(adapter.injected) == attempts
    assert result.statuses[-1] == ("rolled back" if fault.endswith("-after") else "not applied")


@pytest.mark.parametrize("fault", ["500-after", "500-before", "drop-after", "interrupt-after"])
@pytest.mark.parametrize("name", list(PLANS))
def test_undo_under_a_fault_at_every_step(server, name, fault):
    kind, config_id, build, n_steps = PLANS[name]
    old, new = view(server, kind, config_id), new_view(name)
    client, adapter = connect(server, legacy=name in LEGACY)
    plan = build(client)
    plan.apply(progress=False)
    assert view(server, kind, config_id) == new
    for step in range(1, n_steps + 1):
        adapter.faults = {adapter.n_writes + step: fault}
        with pytest.raises(PartialApplyError) as info:
            plan.undo(progress=False)
        # a failed undo is rolled back to the applied state (where the undo began), and says so
        assert says(info.value.result, view(server, kind, config_id), new, old) == "before"
        assert info.value.restored is True
        assert plan.can_undo
    adapter.faults = {}
    result = plan.undo(progress=False)
    assert says(result, view(server, kind, config_id), new, old) == "planned"
    assert result.verified and view(server, kind, config_id) == old


def test_a_failed_rollback_is_reported_as_a_mix_and_undo_finishes_the_job(server):
    kind, config_id, build, _ = PLANS["rollout narrowing (experiment)"]
    old, new = view(server, kind, config_id), new_view("rollout narrowing (experiment)")
    client, adapter = connect(server)
    plan = build(client)
    # step 3 fails after the server applied it; rolling it back works, rolling back step 2
    # is refused before it reaches the server (write 5), step 1 is rolled back (write 6)
    adapter.faults = {3: "500-after", 5: "500-before"}
    with pytest.raises(PartialApplyError) as info:
        plan.apply(progress=False)
    err = info.value
    now = view(server, kind, config_id)
    assert now not in (old, new)  # two faults: a mix, and the result says so
    assert err.result.state == "mixed" and err.restored is False
    assert err.result.statuses == ["rolled back", "applied", "rolled back"]
    assert [s.fate for s in err.steps] == ["rolled back", "rollback failed", "failed"]
    head = str(err).splitlines()[0]
    assert "rolling back failed for 1 of the 2 step(s) before it" in head
    assert "NOT back" in str(err)
    # undo re-reads and undoes what is still applied: step 2 only
    assert plan.can_undo
    adapter.faults = {}
    before = adapter.n_writes
    result = plan.undo(progress=False)
    assert result.verified and len(result.steps) == 1 and adapter.n_writes == before + 1
    assert view(server, kind, config_id) == old


def test_a_rollback_whose_answer_is_lost_is_settled_by_the_re_read(server):
    kind, config_id, build, _ = PLANS["payload"]
    old = view(server, kind, config_id)
    client, adapter = connect(server)
    plan = build(client)
    # step 2 fails after applying; its rollback (write 3) is applied but answered with a 500
    adapter.faults = {2: "500-after", 3: "500-after"}
    with pytest.raises(PartialApplyError) as info:
        plan.apply(progress=False)
    result = info.value.result
    assert view(server, kind, config_id) == old
    assert result.state == "before" and info.value.restored is True
    assert result.statuses == ["rolled back", "rolled back"]
    assert "rolling it back: ServerError" in (result.steps[1].error or "")


def test_undo_after_the_verifying_re_read_failed(server):
    kind, config_id, build, n_steps = PLANS["inclusions add/remove users/cohorts"]
    old, new = view(server, kind, config_id), new_view("inclusions add/remove users/cohorts")
    client, adapter = connect(server)
    plan = build(client)
    adapter.writes_before_reads_fail = n_steps  # every write goes through, then reads fail
    with pytest.raises(VerificationError, match="re-reading it to verify failed") as info:
        plan.apply(progress=False)
    assert view(server, kind, config_id) == new
    result = info.value.result
    assert result.state == "unknown" and result.statuses == ["applied"] * n_steps
    assert plan.can_undo
    with pytest.raises(TransportError, match="connection reset on read"):
        plan.undo(progress=False)  # undo re-reads first: nothing is sent while it cannot
    assert adapter.n_writes == n_steps
    adapter.writes_before_reads_fail = None
    result = plan.undo(progress=False)
    assert result.verified and len(result.steps) == n_steps
    assert view(server, kind, config_id) == old


def test_undo_after_reload_undoes_only_what_is_still_applied(server):
    client, adapter = connect(server)
    plan = RolloutEdit.load(client, "1001").set_weights({"control": 4, "treatment": 5})
    plan.apply(progress=False)
    # someone puts one weight back: undo of the reloaded plan leaves that variant alone
    server.client().flags.edit_variant("1001", "control", rollout_weight=1)
    plan.reload()
    assert plan.can_undo
    before = adapter.n_writes
    result = plan.undo(progress=False)
    assert [r.path for r in result.requests] == ["/api/1/flags/1001/variants/treatment"]
    assert adapter.n_writes == before + 1
    assert client.flags.get("1001")["rolloutWeights"] == {"control": 1, "treatment": 1}


def test_undo_refuses_when_a_value_it_set_was_changed_to_something_else(server):
    client, adapter = connect(server)
    plan = RolloutEdit.load(client, "1001").set_weights({"treatment": 5})
    plan.apply(progress=False)
    server.client().flags.edit_variant("1001", "treatment", rollout_weight=7)
    plan.reload()
    before = adapter.n_writes
    with pytest.raises(ConflictError, match="neither the last apply nor the state before"):
        plan.undo(progress=False)
    assert adapter.n_writes == before
    assert client.flags.get("1001")["rolloutWeights"]["treatment"] == 7


def test_a_verification_mismatch_reports_each_step_and_undo_re_reads(server):
    client, adapter = connect(server)
    plan = PayloadEdit.load(client, "1001")
    plan.set_payload("control", '{"a": 1}').set_payload("treatment", '{"b": 2}')
    adapter.faults = {2: "ok-before"}  # the server says OK to step 2 but keeps the old value
    with pytest.raises(VerificationError) as info:
        plan.apply(progress=False)
    result = info.value.result
    assert result.outcome == "unverified" and result.state == "mixed"
    assert result.statuses == ["applied", "not applied"]
    assert "2. PATCH" in str(result) and "not applied" in str(result)
    assert plan.can_undo
    undo = plan.undo(progress=False)
    assert undo.verified
    assert [r.path for r in undo.requests] == ["/api/1/flags/1001/variants/control"]
    assert client.flags.get("1001")["variants"][0]["payload"] == {"color": "grey"}

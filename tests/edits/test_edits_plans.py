"""Plan logic over an in-memory client: validation, previews, steps, rollback, undo, audit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from expkit.edits import (
    ConflictError,
    InclusionsEdit,
    PartialApplyError,
    PayloadEdit,
    Request,
    RolloutEdit,
    parse_ids,
    parse_payload,
)
from expkit.errors import ExpkitError, ValidationError
from tests.support import MemoryClient


def audit_lines() -> list[dict]:
    path = Path(os.environ["EXPKIT_AUDIT_LOG"])
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- RolloutEdit: validation ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"treatment": -1}, "weights.treatment: must be a non-negative integer, got -1"),
        ({"treatment": 1.5}, "weights.treatment: must be a non-negative integer, got 1.5"),
        ({"treatment": "3"}, "weights.treatment: must be a non-negative integer, got '3'"),
        ({"treatment": True}, "weights.treatment: must be a non-negative integer, got True"),
        ({"bogus": 1}, "weights.bogus: unknown variant; allowed: control, treatment"),
    ],
)
def test_rollout_weight_errors_name_the_field(memory, weights, message):
    plan = RolloutEdit.load(memory, "1001").set_weights(weights)
    assert plan.errors == [message]
    assert not plan.is_valid
    with pytest.raises(ValidationError) as info:
        plan.apply()
    assert info.value.field == message.split(":")[0]
    assert message in str(info.value)
    assert memory.writes == []


def test_all_zero_weights_while_rolled_out_is_an_error(memory):
    plan = RolloutEdit.load(memory, "1001").set_weights({"control": 0, "treatment": 0})
    assert len(plan.errors) == 1
    assert plan.errors[0].startswith("weights: all weights are 0 while the flag is enabled")
    # at 0% nobody is rolled out, so zero weights are fine
    plan.set_percentage(0)
    assert plan.errors == []


@pytest.mark.parametrize("value", [-1, 100.5, 150, "50", None])
def test_percentage_outside_range(memory, value):
    plan = RolloutEdit.load(memory, "1001").set_percentage(value)
    assert plan.errors and plan.errors[0].startswith(
        "rollout_percentage: must be a number from 0 to 100"
    )


def test_enabled_must_be_bool(memory):
    plan = RolloutEdit.load(memory, "1001").set_enabled("yes")
    assert plan.errors == ["enabled: must be True or False, got 'yes'"]


def test_set_weights_rejects_a_non_mapping(memory):
    plan = RolloutEdit.load(memory, "1001")
    with pytest.raises(ValidationError, match="weights must be a mapping"):
        plan.set_weights([1, 3])


def test_bad_kind_and_id_fail_before_any_request(memory):
    with pytest.raises(ValidationError, match="kind must be 'flags' or 'experiments'") as info:
        RolloutEdit.load(memory, "1001", kind="segments")
    assert info.value.field == "kind"
    with pytest.raises(ValidationError) as info:
        RolloutEdit.load(memory, "")
    assert info.value.field == "config_id"


# -- RolloutEdit: preview and requests ----------------------------------------------------------
def test_preview_shows_before_and_after_shares(memory):
    plan = RolloutEdit.load(memory, "1001").set_weights({"treatment": 3}).set_percentage(50)
    frame = plan.preview()
    assert list(frame["variant"]) == ["control", "treatment"]
    assert list(frame["weight_before"]) == [1, 1]
    assert list(frame["weight_after"]) == [1, 3]
    assert list(frame["share_after"]) == [0.25, 0.75]
    assert list(frame["effective_pct_before"]) == [50.0, 50.0]
    assert list(frame["effective_pct_after"]) == [12.5, 37.5]
    assert list(frame["changed"]) == [True, True]
    assert str(frame["weight_after"].dtype) == "Int64"
    assert str(frame["share_after"].dtype) == "Float64"
    assert plan.changes() == ["weights.treatment: 1 → 3", "rollout_percentage: 100 → 50"]


def test_preview_of_an_invalid_plan_leaves_after_shares_missing(memory):
    frame = RolloutEdit.load(memory, "1001").set_weights({"treatment": -2}).preview()
    assert frame["share_after"].isna().all()
    assert frame["share_before"].tolist() == [0.5, 0.5]


def test_requests_are_one_patch_per_changed_variant(memory):
    plan = RolloutEdit.load(memory, "1001").set_weights({"control": 1, "treatment": 3})
    assert plan.requests() == [
        Request("PATCH", "/api/1/flags/1001/variants/treatment", {"rolloutWeight": 3})
    ]
    plan.set_enabled(False)
    # switching off narrows the audience: it goes first
    assert [str(r) for r in plan.requests()] == [
        'PATCH /api/1/flags/1001 {"enabled": false}',
        'PATCH /api/1/flags/1001/variants/treatment {"rolloutWeight": 3}',
    ]
    assert memory.writes == []


def test_widening_goes_last(memory, org):
    org["flags"][0]["rolloutPercentage"] = 10
    plan = RolloutEdit.load(memory, "1001").set_weights({"treatment": 2}).set_percentage(60)
    assert [r.path for r in plan.requests()] == [
        "/api/1/flags/1001/variants/treatment",
        "/api/1/flags/1001",
    ]


def test_switching_on_goes_last_even_at_a_lower_percentage(memory, org):
    # enabling first would serve the old weights (here: control, which the new state
    # serves to nobody) until the weight steps land
    org["flags"][0]["enabled"] = False
    plan = (
        RolloutEdit.load(memory, "1001")
        .set_enabled(True)
        .set_percentage(50)
        .set_weights({"control": 0, "treatment": 1})
    )
    assert [r.path for r in plan.requests()] == [
        "/api/1/flags/1001/variants/control",
        "/api/1/flags/1001",
    ]


def test_no_change_sends_nothing(memory):
    plan = RolloutEdit.load(memory, "1001").set_weights({"treatment": 1})
    assert plan.requests() == []
    result = plan.apply()
    assert result.outcome == "unchanged"
    assert memory.writes == []


# -- apply, rollback, conflicts, undo -------------------------------------------------------------
def three_step_plan(memory: MemoryClient) -> RolloutEdit:
    return (
        RolloutEdit.load(memory, "1001")
        .set_weights({"control": 2, "treatment": 3})
        .set_percentage(100)
        .set_enabled(True)
        .set_percentage(80)
    )


def test_apply_sends_steps_and_verifies(memory, org):
    plan = RolloutEdit.load(memory, "1001").set_weights({"treatment": 3})
    result = plan.apply()
    assert result.outcome == "applied"
    assert result.verified
    assert [s.fate for s in result.steps] == ["applied"]
    assert org["flags"][0]["rolloutWeights"] == {"control": 1, "treatment": 3}
    assert plan.changes() == []  # the plan now starts from the applied state
    assert plan.can_undo


def test_failure_in_second_step_rolls_back_the_first(memory, org):
    plan = three_step_plan(memory)
    assert len(plan.requests()) == 3
    memory.fail_writes = {2}
    with pytest.raises(PartialApplyError) as info:
        plan.apply()
    err = info.value
    assert [s.fate for s in err.steps] == ["rolled back", "failed", "not sent"]
    assert err.restored is True
    text = str(err)
    assert "failed at step 2 of 3" in text
    assert "rolled back" in text and "not sent" in text and "injected failure" in text
    assert org["flags"][0]["rolloutWeights"] == {"control": 1, "treatment": 1}
    assert org["flags"][0]["rolloutPercentage"] == 100
    # the intended change is kept: fixing the cause and applying again works
    memory.fail_writes = set()
    assert plan.apply().verified
    assert org["flags"][0]["rolloutWeights"] == {"control": 2, "treatment": 3}


def test_rollback_failure_is_reported(memory):
    plan = three_step_plan(memory)
    memory.fail_writes = {3, 4}  # the third step fails, then the first rollback fails too
    with pytest.raises(PartialApplyError) as info:
        plan.apply()
    fates = [s.fate for s in info.value.steps]
    assert fates == ["rolled back", "rollback failed", "failed"]
    assert info.value.restored is False
    assert "NOT back" in str(info.value)


def test_a_failed_rollback_is_in_the_headline(memory):
    plan = three_step_plan(memory)
    memory.fail_writes = {3, 4}
    with pytest.raises(PartialApplyError) as info:
        plan.apply()
    head = str(info.value).splitlines()[0]
    assert "rolling back failed for 1 of the 2 step(s) before it" in head
    assert "were rolled back" not in head


def test_an_interrupted_rollback_is_still_reported_and_audited(memory):
    plan = three_step_plan(memory)
    memory.fail_writes = {3}
    memory.interrupt_writes = {4}  # Ctrl-C while the second step is being rolled back
    with pytest.raises(PartialApplyError) as info:
        plan.apply()
    assert [s.fate for s in info.value.steps] == ["rollback failed", "rollback failed", "failed"]
    assert "rollback interrupted" in str(info.value)
    assert audit_lines()[-1]["outcome"] == "failed"


def test_conflict_names_who_and_when(memory, org):
    plan = RolloutEdit.load(memory, "1001").set_weights({"treatment": 3})
    org["flags"][0]["rolloutPercentage"] = 40
    org["flags"][0]["lastModifiedBy"] = "bob@example.com"
    org["flags"][0]["lastModifiedAt"] = "2026-11-02T08:00:00Z"
    with pytest.raises(ConflictError) as info:
        plan.apply()
    assert info.value.changed_by == "bob@example.com"
    assert info.value.changed_at == "2026-11-02T08:00:00Z"
    assert info.value.fields == ("rolloutPercentage",)
    assert "bob@example.com" in str(info.value) and "Nothing was sent" in str(info.value)
    assert memory.writes == []
    assert isinstance(info.value, ExpkitError)
    # reload keeps the intended change and starts from the new state
    plan.reload()
    assert plan.changes() == ["weights.treatment: 1 → 3"]
    assert plan.apply().verified


def test_conflict_without_last_modified_uses_the_latest_version(memory, org):
    plan = RolloutEdit.load(memory, "1001").set_weights({"treatment": 3})
    flag = org["flags"][0]
    del flag["lastModifiedBy"], flag["lastModifiedAt"]
    org["versions"]["1001"].append(
        {"version": 2, "createdAt": "2026-11-03T00:00:00Z", "createdBy": "carol@x.com"}
    )
    with pytest.raises(ConflictError) as info:
        plan.apply()
    assert (info.value.changed_by, info.value.changed_at) == ("carol@x.com", "2026-11-03T00:00:00Z")


def test_undo_restores_and_checks_conflicts(memory, org):
    plan = RolloutEdit.load(memory, "1001").set_weights({"treatment": 3}).set_percentage(50)
    plan.apply()
    result = plan.undo()
    assert result.outcome == "undone" and result.verified
    assert org["flags"][0]["rolloutWeights"] == {"control": 1, "treatment": 1}
    assert org["flags"][0]["rolloutPercentage"] == 100
    assert not plan.can_undo
    with pytest.raises(ValidationError, match="Nothing to undo"):
        plan.undo()

    plan.set_weights({"treatment": 5}).apply()
    org["flags"][0]["enabled"] = False  # someone switches it off after our apply
    with pytest.raises(ConflictError):
        plan.undo()
    assert org["flags"][0]["rolloutWeights"]["treatment"] == 5


def test_dry_run_sends_no_write_and_is_audited(memory):
    plan = RolloutEdit.load(memory, "1001").set_weights({"treatment": 3})
    result = plan.apply(dry_run=True)
    assert result.outcome == "dry run"
    assert [s.fate for s in result.steps] == ["not sent"]
    assert memory.writes == []
    assert audit_lines()[-1]["outcome"] == "dry run"
    assert plan.changes() == ["weights.treatment: 1 → 3"]


def test_verification_failure_is_raised(memory, org, monkeypatch):
    from expkit.edits import VerificationError

    plan = RolloutEdit.load(memory, "1001").set_weights({"treatment": 3})
    original = memory.flags.edit_variant

    def ignore_weight(id, key, **fields):  # the server says OK but keeps the old weight
        original(id, key, **fields)
        org["flags"][0]["rolloutWeights"][key] = 1
        return "OK"

    monkeypatch.setattr(memory.flags, "edit_variant", ignore_weight)
    with pytest.raises(VerificationError) as info:
        plan.apply()
    assert info.value.expected["rollout_weights"]["treatment"] == 3
    assert info.value.actual["rollout_weights"]["treatment"] == 1
    assert audit_lines()[-1]["outcome"] == "unverified"


# -- audit log --------------------------------------------------------------------------------
def test_audit_lines_hold_before_after_requests_and_outcome(memory, monkeypatch):
    monkeypatch.setenv("USER", "tester")
    plan = RolloutEdit.load(memory, "1001").set_weights({"treatment": 3})
    plan.apply()
    plan.undo()
    apply_line, undo_line = audit_lines()
    assert apply_line["action"] == "apply" and undo_line["action"] == "undo"
    assert apply_line["user"] == "tester"
    assert apply_line["config_id"] == "1001" and apply_line["config_key"] == "new-checkout"
    assert apply_line["kind"] == "flags" and apply_line["edit"] == "RolloutEdit"
    assert apply_line["before"]["rollout_weights"] == {"control": 1, "treatment": 1}
    assert apply_line["after"]["rollout_weights"] == {"control": 1, "treatment": 3}
    assert apply_line["requests"] == [
        {
            "method": "PATCH",
            "path": "/api/1/flags/1001/variants/treatment",
            "body": {"rolloutWeight": 3},
            "fate": "applied",
            "status": "applied",
        }
    ]
    assert apply_line["outcome"] == "applied" and undo_line["outcome"] == "undone"
    assert apply_line["state"] == "planned" and undo_line["state"] == "planned"
    assert apply_line["time"].endswith("Z")


def test_audit_log_location_is_configurable(memory, tmp_path):
    path = tmp_path / "sub" / "mine.jsonl"
    RolloutEdit.load(memory, "1001", audit_log=path).set_weights({"treatment": 2}).apply()
    assert len(path.read_text().splitlines()) == 1
    off = RolloutEdit.load(memory, "1001", audit_log=False)
    assert off.audit_log is None
    before = audit_lines()
    off.set_weights({"treatment": 4}).apply()
    assert audit_lines() == before
    assert len(path.read_text().splitlines()) == 1


def test_default_audit_log_is_under_home(memory, monkeypatch, tmp_path):
    monkeypatch.delenv("EXPKIT_AUDIT_LOG")
    monkeypatch.setenv("HOME", str(tmp_path))
    plan = RolloutEdit.load(memory, "1001")
    assert plan.audit_log == tmp_path / ".expkit" / "audit.jsonl"


# -- PayloadEdit --------------------------------------------------------------------------------
def test_parse_payload():
    assert parse_payload('{"a": [1, 2]}') == {"a": [1, 2]}
    assert parse_payload('"text"') == "text"
    assert parse_payload("null") is None
    assert parse_payload({"a": 1}) == {"a": 1}
    with pytest.raises(ValueError, match="invalid JSON: Expecting"):
        parse_payload('{"a": }')
    with pytest.raises(ValueError, match="NaN is not valid JSON"):
        parse_payload("NaN")
    with pytest.raises(ValueError, match="empty; write null"):
        parse_payload("  ")
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        parse_payload({"a": {1, 2}})


def test_payload_edit_validates_previews_and_applies(memory, org):
    plan = PayloadEdit.load(memory, "1001")
    plan.set_payload("treatment", '{"color": ')
    assert plan.errors[0].startswith("payload.treatment: invalid JSON: Expecting value")
    plan.set_payload("nope", {})
    assert "payload.nope: unknown variant; allowed: control, treatment" in plan.errors
    plan.discard("nope").set_payload("treatment", '{"color": "green", "size": 2}')
    assert plan.is_valid
    frame = plan.preview()
    assert frame["payload_after"].tolist() == [
        '{"color": "grey"}',
        '{"color": "green", "size": 2}',
    ]
    assert frame["changed"].tolist() == [False, True]
    assert plan.requests() == [
        Request(
            "PATCH",
            "/api/1/flags/1001/variants/treatment",
            {"payload": {"color": "green", "size": 2}},
        )
    ]
    plan.apply()
    assert org["flags"][0]["variants"][1]["payload"] == {"color": "green", "size": 2}
    plan.undo()
    assert org["flags"][0]["variants"][1]["payload"] == {"color": "blue"}


def test_payload_same_value_in_other_formatting_is_no_change(memory):
    plan = PayloadEdit.load(memory, "1001").set_payload("control", '{\n  "color":   "grey"\n}')
    assert plan.requests() == []


# -- InclusionsEdit -----------------------------------------------------------------------------
def test_parse_ids():
    assert parse_ids("a, b\nc;;\n a \r\nd\tb") == ["a", "b", "c", "d"]
    assert parse_ids(["x", " y ", "", 3, None]) == ["x", "y", "3"]


def test_inclusions_chunked_steps_and_skips(memory, org):
    plan = InclusionsEdit.load(memory, "1001")
    users = [f"user-{i}" for i in range(250)]
    plan.add_users("treatment", [*users, "u-3"])  # u-3 is already included
    plan.remove_users("control", "u-1")
    plan.add_cohorts("control", "coh-9")
    reqs = plan.requests()
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in reqs] == [
        ("DELETE", "bulk-delete-users"),
        ("POST", "cohorts"),
        ("POST", "users"),
        ("POST", "users"),
        ("POST", "users"),
    ]
    assert [len(r.body["inclusions"]) for r in reqs[2:]] == [100, 100, 50]
    assert reqs[0].body == {"users": ["u-1"]}
    assert plan.changes() == [
        "users.control: +0 −1",
        "cohorts.control: +1 −0",
        "users.treatment: +250 −0 (1 already included, skipped)",
    ]
    frame = plan.preview()
    row = frame[(frame.variant == "treatment") & (frame.inclusion_type == "user")].iloc[0]
    assert (row.before, row.added, row.after, row.limit) == (1, 250, 251, 2000)
    plan.apply()
    assert len(org["inclusions"]["1001"]["treatment"]["users"]) == 251
    assert org["inclusions"]["1001"]["control"] == {"users": ["u-2"], "cohorts": ["coh-9"]}
    plan.undo()
    assert org["inclusions"]["1001"]["treatment"]["users"] == ["u-3"]
    assert sorted(org["inclusions"]["1001"]["control"]["users"]) == ["u-1", "u-2"]


def test_inclusions_validation(memory):
    plan = InclusionsEdit.load(memory, "1001")
    plan.add_users("treatment", [f"id{i}" for i in range(2000)])
    plan.remove_users("control", "ghost, u-1")
    plan.add_users("control", ["u-1"])
    plan.remove_users("bogus", "x")
    errors = plan.errors
    assert (
        "users.treatment: 2,001 after the change, over the limit of 2,000 per variant; include a cohort instead of listing users"
        in errors
    )
    assert "users.control: cannot remove 'ghost': not included" in errors
    assert "users.control: both added and removed: 'u-1'" in errors
    assert "inclusions.bogus: unknown variant; allowed: control, treatment" in errors
    with pytest.raises(ValidationError):
        plan.requests()


def test_inclusions_conflict_on_changed_inclusions(memory, org):
    plan = InclusionsEdit.load(memory, "1001").add_users("control", "new-user")
    org["inclusions"]["1001"]["treatment"]["users"].append("sneaky")
    with pytest.raises(ConflictError) as info:
        plan.apply()
    assert info.value.fields == ("inclusions.treatment",)


def test_set_changes_replaces_pending(memory):
    plan = InclusionsEdit.load(memory, "1001").add_users("control", "a,b")
    plan.set_changes("control", add_users="c")
    assert plan.pending("control")["add_users"] == ["c"]


def test_step_results_frame(memory):
    result = RolloutEdit.load(memory, "1001").set_weights({"treatment": 3}).apply()
    frame = result.frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame.loc[0, "fate"] == "applied"
    assert json.loads(frame.loc[0, "body"]) == {"rolloutWeight": 3}
    assert "verified" in str(result)
    assert "<table" in result._repr_html_()


def test_a_variant_without_a_weight_reads_as_zero_and_undo_verifies(memory, org):
    del org["flags"][0]["rolloutWeights"]["treatment"]
    plan = RolloutEdit.load(memory, "1001")
    assert plan.weights == {"control": 1, "treatment": 0}
    assert plan.preview()["share_before"].tolist() == [1.0, 0.0]
    plan.set_weights({"treatment": 1}).apply()
    assert plan.undo().verified
    assert org["flags"][0]["rolloutWeights"] == {"control": 1, "treatment": 0}


def test_an_interrupted_apply_is_rolled_back(memory, org):
    plan = three_step_plan(memory)
    memory.interrupt_writes = {2}
    with pytest.raises(PartialApplyError) as info:
        plan.apply()
    assert isinstance(info.value.__cause__, KeyboardInterrupt)
    assert [s.fate for s in info.value.steps] == ["rolled back", "failed", "not sent"]
    assert org["flags"][0]["rolloutWeights"] == {"control": 1, "treatment": 1}


def test_progress_bar_for_long_plans(memory, capsys):
    plan = InclusionsEdit.load(memory, "1001").add_users("control", [f"p{i}" for i in range(1000)])
    plan.apply(progress=False)
    assert "request" not in capsys.readouterr().err
    plan.undo()
    assert "/10 [" in capsys.readouterr().err  # a bar over the 10 chunks
    short = RolloutEdit.load(memory, "1001").set_weights({"treatment": 2})
    short.apply()
    assert capsys.readouterr().err == ""


def test_a_failed_undo_rolls_back_to_the_applied_state(memory, org):
    plan = three_step_plan(memory)
    plan.apply()
    applied = dict(org["flags"][0]["rolloutWeights"])
    memory.fail_writes = {len(memory.writes) + 2}  # the second undo step fails
    with pytest.raises(PartialApplyError) as info:
        plan.undo()
    assert [s.fate for s in info.value.steps] == ["rolled back", "failed", "not sent"]
    assert info.value.restored is True
    assert org["flags"][0]["rolloutWeights"] == applied
    memory.fail_writes = set()
    assert plan.undo().verified
    assert org["flags"][0]["rolloutWeights"] == {"control": 1, "treatment": 1}


def test_undo_keeps_a_change_typed_after_the_apply(memory, org):
    plan = RolloutEdit.load(memory, "1001").set_weights({"treatment": 3})
    plan.apply()
    plan.set_percentage(40)
    plan.undo()
    assert org["flags"][0]["rolloutWeights"] == {"control": 1, "treatment": 1}
    assert plan.changes() == ["rollout_percentage: 100 → 40"]
    assert plan.apply().verified
    assert org["flags"][0]["rolloutPercentage"] == 40


def test_a_failed_re_read_after_apply_is_audited_and_raised(memory, org, monkeypatch):
    from expkit.edits import VerificationError
    from expkit.errors import TransportError

    plan = RolloutEdit.load(memory, "1001").set_weights({"treatment": 3})
    real_get = memory.flags.get
    reads = iter([True])

    def get(id_):
        if next(reads, False):
            return json.loads(json.dumps(org["flags"][0]))
        raise TransportError("connection reset")

    monkeypatch.setattr(memory.flags, "get", get)
    with pytest.raises(VerificationError, match="re-reading it to verify failed") as info:
        plan.apply()
    assert isinstance(info.value.__cause__, TransportError)
    assert org["flags"][0]["rolloutWeights"]["treatment"] == 3
    (line,) = audit_lines()
    assert line["outcome"] == "unverified"
    assert [r["fate"] for r in line["requests"]] == ["applied"]
    assert line["state"] == "unknown"
    assert info.value.result.outcome == "unverified" and info.value.result.state == "unknown"
    # undo works after a failed verification (issue 12): it re-reads to decide
    assert plan.can_undo
    monkeypatch.setattr(memory.flags, "get", real_get)  # the server answers again
    result = plan.undo()
    assert result.outcome == "undone" and result.verified
    assert org["flags"][0]["rolloutWeights"]["treatment"] == 1


def test_a_failed_apply_keeps_the_earlier_apply_undoable(memory, org):
    plan = RolloutEdit.load(memory, "1001").set_weights({"treatment": 3})
    plan.apply()
    plan.set_percentage(40)
    memory.fail_writes = {len(memory.writes) + 1}  # the next apply's only step is refused
    with pytest.raises(PartialApplyError) as info:
        plan.apply()
    assert info.value.result.statuses == ["not applied"]
    assert info.value.result.state == "before"
    assert plan.can_undo  # the first apply is still in place, and still undoable
    memory.fail_writes = set()
    assert plan.undo().verified
    assert org["flags"][0]["rolloutWeights"] == {"control": 1, "treatment": 1}
    assert org["flags"][0]["rolloutPercentage"] == 100
    assert plan.changes() == ["rollout_percentage: 100 → 40"]

"""LifecycleEdit against the fake org over real HTTP: blocks, bad input, apply, partial
failure, conflicts, undo, audit (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from lifecycle_support import PathFaults, lifecycle_org

import expkit.edits._lifecycle_edit as lifecycle
from expkit.edits import ACTIONS, LifecycleEdit
from expkit.errors import ValidationError
from expkit.fake import FakeServer, State

WRITES = ("POST", "PATCH", "PUT", "DELETE")


@pytest.fixture
def server():
    with FakeServer(State.from_org(lifecycle_org())) as fake:
        yield fake


@pytest.fixture
def spy() -> PathFaults:
    return PathFaults()


@pytest.fixture
def client(server, spy):
    session = requests.Session()
    session.mount("http://", spy)
    # no retries: an injected 500 must fail its config, not be retried away
    return server.client(session=session, max_retries=0)


@pytest.fixture
def audit(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


def load(client, targets, **kwargs: Any) -> LifecycleEdit:
    kwargs.setdefault("audit_log", False)
    return LifecycleEdit.load(client, targets, **kwargs)


def archived(server: FakeServer, cid: str) -> bool:
    return bool(server.state.get_config(server.state.kind_of(cid), cid).get("archived"))


def enabled(server: FakeServer, cid: str) -> bool:
    return bool(server.state.get_config(server.state.kind_of(cid), cid).get("enabled"))


def statuses(frame: pd.DataFrame) -> dict[str, str]:
    return dict(zip(frame["id"], frame["status"], strict=True))


def reasons(frame: pd.DataFrame) -> dict[str, str]:
    return dict(zip(frame["id"], frame["reason"], strict=True))


# -- preview: one row per config, blocks with their reasons ---------------------------------


def test_preview_has_one_row_per_config_with_status_and_reason(client):
    plan = load(
        client,
        ["1002", "1004", "1006", "1007", 2002, "2003", "stale-two"],
        action="archive",
    )
    frame = plan.preview()
    assert list(frame.columns) == ["id", "kind", "key", "action", "status", "reason"]
    assert statuses(frame) == {
        "1002": "ready",
        "1004": "blocked",
        "1006": "blocked",
        "1007": "no-op",
        "2002": "blocked",
        "2003": "blocked",
        "1003": "ready",
    }
    why = reasons(frame)
    assert why["1004"] == "flag 'child-flag' (id 1005) depends on it"
    assert why["1006"] == "tagged expkit:permanent"
    assert why["1007"] == "already archived"
    assert why["2002"] == "in mutex group 'mutex-checkout' (id 3001, slot 1)"
    assert why["2003"] == "in holdout group 'holdout-q4' (id 4001)"
    assert frame.loc[frame["id"] == "2002", "kind"].item() == "experiment"
    assert set(frame["action"]) == {"archive"}
    assert plan.counts() == {"ready": 2, "blocked": 4, "no-op": 1}
    assert sorted(plan.blocked["id"]) == ["1004", "1006", "2002", "2003"]


def test_an_archived_child_does_not_block_its_parent(server, client):
    server.state.edit_config("flags", "1005", {"archive": True})
    plan = load(client, ["1004"], action="archive")
    assert statuses(plan.preview()) == {"1004": "ready"}


def test_disable_blocks_a_running_experiment_and_enable_an_archived_config(client):
    frame = load(client, ["2001", "2004"], action="disable", kind="experiments").preview()
    assert statuses(frame) == {"2001": "blocked", "2004": "ready"}
    assert "running experiment" in reasons(frame)["2001"]
    frame = load(client, ["1007", "1008", "1002"], action="enable").preview()
    assert statuses(frame) == {"1007": "blocked", "1008": "ready", "1002": "no-op"}
    assert reasons(frame)["1007"] == "archived: unarchive it first"


def test_restoring_actions_are_never_blocked_by_dependents_or_tags(server, client):
    server.state.edit_config("flags", "1006", {"enabled": False})
    frame = load(client, ["1006", "1004"], action="enable").preview()
    assert statuses(frame) == {"1006": "ready", "1004": "no-op"}


def test_code_references_block_unless_forced(client, server, spy):
    refs = pd.DataFrame(
        {"key": ["stale-one", "stale-one"], "path": ["app/a.py", "app/b.ts"], "line": [3, 14]}
    )
    plan = load(client, ["1002", "1003"], refs=refs)
    assert statuses(plan.preview()) == {"1002": "blocked", "1003": "ready"}
    assert reasons(plan.preview())["1002"] == "referenced in code: app/a.py:3, app/b.ts:14"
    forced = load(client, ["1002", "1006"], refs=refs, force=True)
    # force overrides the code block only, never the permanent tag
    assert statuses(forced.preview()) == {"1002": "ready", "1006": "blocked"}
    assert "(force=True)" in reasons(forced.preview())["1002"]
    forced.apply(progress=False)
    assert archived(server, "1002") and not archived(server, "1006")


# -- targets --------------------------------------------------------------------------------


def test_targets_from_a_findings_frame_dedupe_and_filter_by_kind(client):
    findings = pd.DataFrame(
        {
            "rule": ["inactive", "fully-rolled-out", "undocumented", "inactive"],
            "kind": ["flag", "flag", "flag", "experiment"],
            "key": ["stale-one", "stale-one", "stale-two", "done-exp"],
            "id": ["1002", "1002", "1003", "2004"],
        }
    ).astype("string")
    assert load(client, findings).ids == ["1002", "1003", "2004"]
    assert load(client, findings, kind="experiments").ids == ["2004"]


def test_targets_from_a_configs_frame_ids_ints_and_keys(client):
    import expkit

    configs = expkit.frames.configs(client.flags.list())
    assert set(load(client, configs.head(3)).ids) == set(configs["id"].head(3))
    assert load(client, [1002, "1003", "stale-one"], kind="flags").ids == ["1002", "1003"]
    assert load(client, "done-exp").ids == ["2004"]


@pytest.mark.parametrize(
    ("targets", "kwargs", "field", "needle"),
    [
        (["1002"], {"action": "delete"}, "action", "archive, unarchive, disable, enable"),
        (pd.DataFrame({"key": ["stale-one"]}), {}, "targets", "'id' and no 'kind'"),
        (pd.DataFrame({"id": ["1002"]}), {}, "targets", "no 'kind' column"),
        (["1002", "no-such-flag", "99999"], {}, "targets", "'no-such-flag', '99999'"),
        (["2001"], {"kind": "flags"}, "targets", "no flags with the id or key '2001'"),
        (["twin-key"], {}, "targets", "project 100"),
        (["1002"], {"refs": pd.DataFrame({"path": ["a.py"]})}, "refs", "'key' column"),
        (["1002"], {"kind": "segments"}, "kind", "flags"),
    ],
)
def test_bad_input_is_refused_before_any_write(client, spy, targets, kwargs, field, needle):
    with pytest.raises(ValidationError) as info:
        load(client, targets, **kwargs)
    assert info.value.field == field
    assert needle in str(info.value)
    assert spy.writes == []


def test_ambiguous_key_names_both_projects(client):
    with pytest.raises(ValidationError) as info:
        load(client, ["twin-key"])
    assert "project 100" in str(info.value) and "project 200" in str(info.value)
    assert "1009" in str(info.value) and "1010" in str(info.value)


def test_the_actions_are_the_documented_four():
    assert ACTIONS == ("archive", "unarchive", "disable", "enable")


def test_a_frame_with_id_only_is_accepted_with_kind(client):
    assert load(client, pd.DataFrame({"id": ["1002"]}), kind="flags").ids == ["1002"]


# -- quota -----------------------------------------------------------------------------------


def test_plans_above_the_quota_share_are_refused_unless_allowed(client, spy, monkeypatch):
    plan = load(client, ["1002", "1003"])
    assert plan.n_requests == plan._org.cost + 2 + 2
    monkeypatch.setattr(lifecycle, "MAX_PLAN_REQUESTS", plan.n_requests - 1)
    with pytest.raises(ValidationError) as info:
        load(client, ["1002", "1003"])
    assert info.value.field == "allow_large"
    assert f"{plan.n_requests} requests" in str(info.value)
    assert spy.writes == []
    big = load(client, ["1002", "1003"], allow_large=True)
    assert big.apply(progress=False).outcome == "applied"


def test_the_documented_share_of_the_daily_quota():
    assert lifecycle.MAX_PLAN_REQUESTS == 10_000 == lifecycle.DAILY_QUOTA // 10


# -- requests and apply ---------------------------------------------------------------------


def test_requests_come_from_the_client_builder_twins(client):
    plan = load(client, ["1002", "1004", "2004"])
    assert plan.requests() == [
        client.flags.build.edit("1002", archive=True),
        client.experiments.build.edit("2004", archive=True),
    ]
    disable = load(client, ["1002"], action="disable")
    assert disable.requests() == [client.flags.build.edit("1002", enabled=False)]


def test_apply_sends_only_the_ready_configs_and_verifies(server, client, spy, audit):
    plan = load(client, ["1002", "1003", "1004", "1007"], audit_log=audit)
    result = plan.apply(progress=False)
    assert result.outcome == "applied" and result.verified and result.ok
    assert statuses(result.frame()) == {
        "1002": "applied",
        "1003": "applied",
        "1004": "blocked",
        "1007": "no-op",
    }
    assert sorted(p for _, p, _ in spy.writes) == ["/api/1/flags/1002", "/api/1/flags/1003"]
    assert archived(server, "1002") and archived(server, "1003")
    assert not archived(server, "1004")
    # the plan follows the server: applying again sends nothing
    assert statuses(plan.preview())["1002"] == "no-op"
    again = plan.apply(progress=False)
    assert again.outcome == "unchanged" and len(spy.writes) == 2
    lines = [json.loads(x) for x in audit.read_text().splitlines()]
    first = lines[:4]
    assert sorted(x["config_id"] for x in first) == ["1002", "1003", "1004", "1007"]
    by_id = {x["config_id"]: x for x in first}
    assert by_id["1002"]["outcome"] == "applied"
    assert by_id["1002"]["requests"] == [
        {"method": "PATCH", "path": "/api/1/flags/1002", "body": {"archive": True}}
    ]
    assert by_id["1004"]["outcome"] == "blocked" and "child-flag" in by_id["1004"]["reason"]
    assert by_id["1002"]["edit"] == "LifecycleEdit" and by_id["1002"]["lifecycle"] == "archive"


def test_dry_run_checks_and_sends_nothing(server, client, spy, audit):
    plan = load(client, ["1002", "1004"], audit_log=audit)
    result = plan.apply(dry_run=True, progress=False)
    assert result.outcome == "dry run"
    assert statuses(result.frame()) == {"1002": "dry run", "1004": "blocked"}
    assert spy.writes == [] and not archived(server, "1002")
    assert not plan.can_undo
    assert [json.loads(x)["dry_run"] for x in audit.read_text().splitlines()] == [True, True]


def test_a_partial_failure_rolls_back_nothing_and_undo_restores_only_the_applied(
    server, client, spy
):
    spy.fail["/api/1/flags/1003"] = "before"
    plan = load(client, ["1002", "1003", "2004"])
    result = plan.apply(progress=False)
    assert result.outcome == "partial" and not result.ok
    frame = result.frame()
    assert statuses(frame) == {"1002": "applied", "1003": "failed", "2004": "applied"}
    error = frame.set_index("id").loc["1003", "error"]
    assert "ServerError" in error and "500" in error
    assert result.failed == ["1003"] and sorted(result.applied) == ["1002", "2004"]
    assert archived(server, "1002") and archived(server, "2004") and not archived(server, "1003")

    spy.fail.clear()
    spy.writes.clear()
    undone = plan.undo(progress=False)
    assert undone.outcome == "undone"
    assert statuses(undone.frame()) == {"1002": "undone", "2004": "undone"}
    assert sorted(p for _, p, _ in spy.writes) == ["/api/1/experiments/2004", "/api/1/flags/1002"]
    assert all(body == {"archive": False} for _, _, body in spy.writes)
    assert not any(archived(server, c) for c in ("1002", "1003", "2004"))
    assert not plan.can_undo


def test_a_write_the_server_applied_despite_an_error_counts_as_applied(server, client, spy):
    spy.fail["/api/1/flags/1002"] = "after"
    plan = load(client, ["1002", "1003"])
    result = plan.apply(progress=False)
    frame = result.frame().set_index("id")
    assert frame.loc["1002", "status"] == "applied"
    assert "500" in frame.loc["1002", "error"]
    assert result.outcome == "applied"
    spy.fail.clear()
    plan.undo(progress=False)
    assert not archived(server, "1002") and not archived(server, "1003")


def test_when_the_verifying_reread_fails_sent_configs_stay_undoable(server, client, spy):
    plan = load(client, ["1002"])
    original = plan._reread

    def reread_down(rows, fresh):
        spy.reads_down = True
        try:
            return original(rows, fresh)
        finally:
            spy.reads_down = False

    plan._reread = reread_down  # type: ignore[method-assign]
    result = plan.apply(progress=False)
    assert not result.verified
    assert statuses(result.frame()) == {"1002": "applied"}
    assert "unverified" in result.frame()["reason"].iloc[0]
    assert plan.can_undo
    plan._reread = original  # type: ignore[method-assign]
    plan.undo(progress=False)
    assert not archived(server, "1002")


# -- conflicts: the server changed between load and apply -----------------------------------


def test_a_config_changed_since_load_is_a_conflict_and_not_sent(server, client, spy):
    plan = load(client, ["1002", "1003"])
    server.state.edit_config("flags", "1003", {"tags": ["team:new"]}, by="bob@example.com")
    result = plan.apply(progress=False)
    frame = result.frame().set_index("id")
    assert frame.loc["1002", "status"] == "applied"
    assert frame.loc["1003", "status"] == "conflict"
    assert "bob@example.com" in frame.loc["1003", "reason"]
    assert "tags" in frame.loc["1003", "reason"]
    assert [p for _, p, _ in spy.writes] == ["/api/1/flags/1002"]
    assert not archived(server, "1003")
    # reloading takes the change in, and the next apply sends it
    plan.reload()
    assert statuses(plan.preview()) == {"1002": "no-op", "1003": "ready"}
    assert plan.apply(progress=False).applied == ["1003"]


def test_a_new_dependent_group_or_archive_elsewhere_is_seen_at_apply(server, client, spy):
    plan = load(client, ["1002", "1003", "1008", "2004"])
    assert plan.counts() == {"ready": 4, "blocked": 0, "no-op": 0}
    # meanwhile: someone archived 1003, experiment 2001 came to depend on 1008, and 2004
    # joined the mutex group
    server.state.edit_config("flags", "1003", {"archive": True})
    server.state._set_parent("2001", "1008", ["control"], "dave@example.com")
    server.state.edit_mutex_slot("3001", 1, {"experiments": [2002, 2004]})
    result = plan.apply(progress=False)
    frame = result.frame().set_index("id")
    assert frame.loc["1003", "status"] == "no-op"
    assert frame.loc["1008", "status"] == "blocked"
    assert "experiment 'pricing-test' (id 2001) depends on it" in frame.loc["1008", "reason"]
    assert "since the plan was loaded" in frame.loc["1008", "reason"]
    assert frame.loc["2004", "status"] == "blocked"
    assert "mutex-checkout" in frame.loc["2004", "reason"]
    assert frame.loc["1002", "status"] == "applied"
    assert [p for _, p, _ in spy.writes] == ["/api/1/flags/1002"]


def test_a_config_gone_from_the_server_is_a_conflict(server, client, spy, monkeypatch):
    plan = load(client, ["1002", "1003"])
    real = lifecycle._read_org

    def without_1003(c):
        org = real(c)
        org.configs.pop("1003")
        return org

    monkeypatch.setattr(lifecycle, "_read_org", without_1003)
    result = plan.apply(progress=False)
    frame = result.frame().set_index("id")
    assert frame.loc["1003", "status"] == "conflict"
    assert "gone from the server" in frame.loc["1003", "reason"]
    assert frame.loc["1002", "status"] == "applied"


# -- undo ---------------------------------------------------------------------------------------


def test_undo_skips_a_config_changed_since_the_apply(server, client, spy):
    plan = load(client, ["1002", "1003"], action="disable")
    plan.apply(progress=False)
    assert not enabled(server, "1002") and not enabled(server, "1003")
    server.state.edit_config("flags", "1003", {"tags": ["moved"]}, by="carol@example.com")
    spy.writes.clear()
    result = plan.undo(progress=False)
    frame = result.frame().set_index("id")
    assert frame.loc["1002", "status"] == "undone"
    assert frame.loc["1003", "status"] == "conflict"
    assert "carol@example.com" in frame.loc["1003", "reason"]
    assert spy.writes == [("PATCH", "/api/1/flags/1002", {"enabled": True})]
    assert enabled(server, "1002") and not enabled(server, "1003")


def test_undo_of_a_config_someone_already_restored_is_a_no_op(server, client, spy):
    plan = load(client, ["1002"], action="archive")
    plan.apply(progress=False)
    server.state.edit_config("flags", "1002", {"archive": False})
    spy.writes.clear()
    result = plan.undo(progress=False)
    assert statuses(result.frame()) == {"1002": "no-op"}
    assert spy.writes == [] and not plan.can_undo


def test_undo_without_an_apply_is_refused(client):
    with pytest.raises(ValidationError) as info:
        load(client, ["1002"]).undo()
    assert info.value.field == "undo"


def test_unarchive_and_enable_round_trip(server, client):
    plan = load(client, ["1007"], action="unarchive")
    assert plan.apply(progress=False).applied == ["1007"]
    assert not archived(server, "1007")
    plan.undo(progress=False)
    assert archived(server, "1007")
    plan = load(client, ["1008"], action="enable")
    plan.apply(progress=False)
    assert enabled(server, "1008")


def test_the_result_prints_counts_and_failures(server, client, spy):
    spy.fail["/api/1/flags/1003"] = "before"
    result = load(client, ["1002", "1003", "1004"]).apply(progress=False)
    text = str(result)
    assert text.startswith("apply: partial (")
    assert "1 applied" in text and "1 failed" in text and "1 blocked" in text
    assert "'stale-two' (id 1003): failed" in text
    assert "<table" in result._repr_html_()


def test_the_legacy_client_is_refused(server):
    with pytest.raises(ValidationError) as info:
        load(server.legacy_client(), ["1002"])
    assert info.value.field == "client"


def test_ctrl_c_during_apply_settles_what_was_sent_and_raises(server, client, monkeypatch):
    plan = load(client, ["1002", "1003", "2004", "1008"], workers=1)
    real_wait = lifecycle.wait
    calls = []

    def interrupted_wait(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_wait(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "wait", interrupted_wait)
    with pytest.raises(KeyboardInterrupt):
        plan.apply(progress=False)
    result = plan.last_result
    assert result is not None
    frame = result.frame().set_index("id")
    assert set(frame["status"]) <= {"applied", "not sent"}
    assert "applied" in set(frame["status"])  # the first wait returned one done config
    # every status is what the server shows: applied <=> archived
    for cid, status in frame["status"].items():
        assert archived(server, cid) == (status == "applied"), cid
    monkeypatch.setattr(lifecycle, "wait", real_wait)
    assert plan.can_undo
    plan.undo(progress=False)
    assert not any(archived(server, c) for c in ("1002", "1003", "2004", "1008"))


def test_an_unwritable_audit_log_warns_and_keeps_the_result(server, client, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    plan = load(client, ["1002"], audit_log=blocker / "audit.jsonl")
    with pytest.warns(UserWarning, match="could not write the audit log"):
        result = plan.apply(progress=False)
    assert result.applied == ["1002"] and archived(server, "1002")


def test_workers_are_checked(client):
    with pytest.raises(ValidationError) as info:
        load(client, ["1002"], workers=0)
    assert info.value.field == "workers"


# -- a parent and its dependents in the same plan ------------------------------------------


def test_a_parent_goes_after_its_dependents_in_the_same_plan(server, client, spy):
    plan = load(client, ["1004", "1005"])
    frame = plan.preview()
    assert statuses(frame) == {"1004": "ready", "1005": "ready"}
    assert "after flag 'child-flag' (id 1005)" in reasons(frame)["1004"]
    result = plan.apply(progress=False)
    assert sorted(result.applied) == ["1004", "1005"]
    # the child is archived first, the parent once the child's write came back
    assert [p for _, p, _ in spy.writes] == ["/api/1/flags/1005", "/api/1/flags/1004"]
    spy.writes.clear()
    plan.undo(progress=False)
    # undo restores the parent first, then the child that depends on it
    assert [p for _, p, _ in spy.writes] == ["/api/1/flags/1004", "/api/1/flags/1005"]
    assert not archived(server, "1004") and not archived(server, "1005")


def test_a_parent_is_held_back_when_its_dependent_fails(server, client, spy):
    spy.fail["/api/1/flags/1005"] = "before"
    result = load(client, ["1004", "1005", "1002"]).apply(progress=False)
    frame = result.frame().set_index("id")
    assert frame.loc["1005", "status"] == "failed"
    assert frame.loc["1004", "status"] == "blocked"
    assert "child-flag" in frame.loc["1004", "reason"]
    assert "was not archived" in frame.loc["1004", "reason"]
    assert frame.loc["1002", "status"] == "applied"
    assert "/api/1/flags/1004" not in [p for _, p, _ in spy.writes]
    assert not archived(server, "1004")


def test_a_parent_whose_dependent_is_blocked_is_blocked(server, client):
    server.state.edit_config("flags", "1005", {"tags": ["expkit:permanent"]})
    frame = load(client, ["1004", "1005"]).preview()
    assert statuses(frame) == {"1004": "blocked", "1005": "blocked"}
    assert (
        reasons(frame)["1004"] == "flag 'child-flag' (id 1005) depends on it (blocked in this plan)"
    )


def test_disable_ignores_disabled_dependents(server, client):
    assert statuses(load(client, ["1004"], action="disable").preview()) == {"1004": "blocked"}
    server.state.edit_config("flags", "1005", {"enabled": False})
    assert statuses(load(client, ["1004"], action="disable").preview()) == {"1004": "ready"}

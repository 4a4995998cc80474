"""RestoreEdit and PromoteEdit against the fake org over real HTTP (issue 16)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests

from expkit.edits import ConflictError, PartialApplyError, PromoteEdit, RestoreEdit
from expkit.errors import ValidationError
from expkit.fake import FakeServer, State
from tests.edits.test_edits_fake import WRITES, SpyAdapter
from tests.support import edits_org as make_org


def _org() -> dict[str, Any]:
    org = make_org()
    org["deployments"].append(
        {"id": "8", "projectId": "100", "label": "ios", "key": "client-ios", "deleted": False}
    )
    org["deployments"].append(
        {"id": "90", "projectId": "200", "label": "web-dev", "key": "client-d", "deleted": False}
    )
    return org


@pytest.fixture
def server():
    with FakeServer(State.from_org(_org())) as fake:
        yield fake


@pytest.fixture
def spy() -> SpyAdapter:
    return SpyAdapter()


@pytest.fixture
def client(server, spy):
    session = requests.Session()
    session.mount("http://", spy)
    return server.client(session=session, max_retries=0)


def _audit() -> list[dict[str, Any]]:
    path = Path(os.environ["EXPKIT_AUDIT_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _history(client) -> None:
    """Versions 2.. of flag 1001: a payload, weights, a segment, a new variant, tags."""
    f = client.flags
    f.edit_variant("1001", "treatment", payload={"color": "green"})  # v2
    f.edit_variant("1001", "treatment", rollout_weight=3)  # v3
    segment = {
        "name": "Beta",
        "conditions": [{"type": "property", "prop": "country", "op": "is", "values": ["NZ"]}],
        "percentage": 50,
        "rolloutWeights": {"control": 0, "treatment": 1},
    }
    f.edit("1001", target_segments=[segment], rollout_percentage=40)  # v4
    f.create_variant("1001", "holdout", payload={"color": "none"}, rollout_weight=1)  # v5
    f.edit("1001", tags=["team:checkout", "q4"])  # v6
    f.add_deployments("1001", ["8"])  # v7


def _restorable(config: dict[str, Any]) -> dict[str, Any]:
    from expkit.edits._sync import _FLAG_FIELDS, view

    return view(config, _FLAG_FIELDS)


def test_restore_writes_the_old_version_as_a_new_one_with_the_fewest_calls(server, client, spy):
    _history(client)
    old = client.flags.version("1001", 1)["flagConfig"]
    plan = RestoreEdit.load(client, "1001", 1)
    preview = plan.preview()
    assert list(preview.columns) == ["path", "old", "new", "change", "action", "reason"]
    paths = set(preview["path"])
    assert {"variants[treatment].payload", "rollout_weights.treatment", "tags"} <= paths
    assert "inclusions" in paths  # said once: inclusions are not in versions
    assert preview.set_index("path").loc["inclusions", "action"] == "left"
    requests_ = plan.requests()
    # one variant edit (payload + weight together), one PATCH, one deployment removal,
    # one variant removal: the minimal count for these differences
    assert [(r.method, r.path) for r in requests_] == [
        ("PATCH", "/api/1/flags/1001/variants/treatment"),
        ("PATCH", "/api/1/flags/1001"),
        ("DELETE", "/api/1/flags/1001/deployments/8"),
        ("DELETE", "/api/1/flags/1001/variants/holdout"),
    ]
    assert requests_[0].body == {"payload": {"color": "blue"}, "rolloutWeight": 1}
    assert requests_[1].body == {
        "rolloutPercentage": 100,
        "tags": ["team:checkout"],
        "targetSegments": [],
    }
    n_versions = len(client.flags.versions("1001"))
    spy.sent.clear()
    result = plan.apply()
    assert result.outcome == "applied" and result.verified
    assert [(m, p, b) for m, p, b in spy.sent if m in WRITES] == [
        (r.method, r.path, r.body) for r in requests_
    ]
    now = client.flags.get("1001")
    assert _restorable(now) == _restorable(old)
    assert len(client.flags.versions("1001")) == n_versions + len(requests_)
    assert _audit()[-1]["edit"] == "RestoreEdit" and _audit()[-1]["outcome"] == "applied"
    # undo puts back the pre-restore state (the holdout variant is re-created, the deployment
    # re-added)
    before = plan.config
    undone = plan.undo()
    assert undone.outcome == "undone" and undone.verified
    again = client.flags.get("1001")
    assert [v["key"] for v in again["variants"]] == ["control", "treatment", "holdout"]
    assert again["deployments"] == ["7", "8"]
    assert again["rolloutWeights"] == {"control": 1, "treatment": 3, "holdout": 1}
    assert again["targetSegments"][0]["name"] == "Beta"
    assert before["rolloutPercentage"] == 100


def test_restore_recreates_a_removed_variant_before_segments_refer_to_it(server, client):
    segment = {
        "name": "VIP",
        "conditions": [{"type": "property", "prop": "plan", "op": "is", "values": ["gold"]}],
        "percentage": 100,
        "rolloutWeights": {"control": 1, "treatment": 1},
    }
    client.flags.edit("1001", target_segments=[segment])  # v2
    client.flags.edit("1001", target_segments=[])  # v3
    client.flags.remove_variant("1001", "treatment")  # v4
    plan = RestoreEdit.load(client, "1001", 2)
    methods = [(r.method, r.path.rsplit("/", 2)[-2:]) for r in plan.requests()]
    assert methods[0] == ("POST", ["1001", "variants"])
    assert methods[1][0] == "PATCH"
    plan.apply()
    now = client.flags.get("1001")
    assert now["targetSegments"][0]["rolloutWeights"] == {"control": 1, "treatment": 1}
    assert {v["key"]: v["payload"] for v in now["variants"]}["treatment"] == {"color": "blue"}


def test_restore_to_the_current_version_is_a_no_op(server, client, spy):
    _history(client)
    latest = max(v["version"] for v in client.flags.versions("1001"))
    spy.sent.clear()
    plan = RestoreEdit.load(client, "1001", latest)
    assert not plan.has_changes and plan.requests() == []
    assert plan.apply().outcome == "unchanged"
    assert not [s for s in spy.sent if s[0] in WRITES]


def test_a_version_that_does_not_exist_names_the_range(server, client, spy):
    _history(client)
    spy.sent.clear()
    with pytest.raises(ValidationError, match=r"no version 99; its versions are 1\.\.7") as info:
        RestoreEdit.load(client, "1001", 99)
    assert info.value.field == "version"
    with pytest.raises(ValidationError, match="positive integer"):
        RestoreEdit.load(client, "1001", 0)
    with pytest.raises(ValidationError, match="positive integer"):
        RestoreEdit.load(client, "1001", "latest")
    assert not [s for s in spy.sent if s[0] in WRITES]


def test_a_deployment_that_is_gone_blocks_unless_partial_is_allowed(server, client, spy):
    client.flags.add_deployments("1001", ["8"])  # v2
    client.flags.edit_variant("1001", "treatment", rollout_weight=5)  # v3
    client.flags.remove_deployment("1001", "8")  # v4
    client.deployments.edit("8", archive=True)
    plan = RestoreEdit.load(client, "1001", 2)
    assert not plan.is_valid
    assert plan.blocked == ["deployments: deployment 8 no longer exists (or is deleted)"]
    row = plan.preview().set_index("path").loc["deployments"]
    assert row["action"] == "blocked" and "deployment 8" in row["reason"]
    spy.sent.clear()
    with pytest.raises(ValidationError, match="deployment 8 no longer exists"):
        plan.apply()
    assert not [s for s in spy.sent if s[0] in WRITES]

    partial = RestoreEdit.load(client, "1001", 2, allow_partial=True)
    assert partial.is_valid
    assert [r.path for r in partial.requests()] == ["/api/1/flags/1001/variants/treatment"]
    assert any("deployment 8" in line for line in partial.left)
    assert partial.apply().verified
    assert client.flags.get("1001")["rolloutWeights"]["treatment"] == 1


def test_an_archived_parent_blocks_the_restore(server, client):
    state = server.state
    flag = state._configs["flags"]["1001"]
    flag["parentDependencies"] = {"flags": {"2001": ["control"]}, "operator": "all"}
    state._commit("flags", "1001", "alice@example.com")  # v2 depends on 2001
    client.flags.edit("1001", rollout_percentage=10)  # v3
    client.experiments.edit("2001", archive=True)
    plan = RestoreEdit.load(client, "1001", 2)
    assert any("parent config 2001" in b and "archived" in b for b in plan.blocked)


def test_restore_conflict_and_rollback(server, client, spy):
    _history(client)
    plan = RestoreEdit.load(client, "1001", 1)
    client.flags.edit("1001", rollout_percentage=7)  # someone else
    with pytest.raises(ConflictError):
        plan.apply()
    plan.reload()
    before = _restorable(client.flags.get("1001"))
    spy.fail_writes = {spy.n_writes + 3}  # the third write of the apply fails
    with pytest.raises(PartialApplyError) as info:
        plan.apply()
    assert info.value.restored is True
    assert _restorable(client.flags.get("1001")) == before


def test_restore_input_errors(server, client):
    with pytest.raises(ValidationError, match="allow_partial"):
        RestoreEdit.load(client, "1001", 1, allow_partial="yes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="kind"):
        RestoreEdit.load(client, "1001", 1, kind="segments")


# -- promote ------------------------------------------------------------------------------------
def _dev_copy(client) -> str:
    """The flag of project 100 created in project 200 with drift; returns its id."""
    reply = client.flags.create(
        "200",
        "new-checkout",
        variants=[{"key": "control", "payload": {"color": "grey"}}, {"key": "treatment"}],
        rollout_weights={"control": 1, "treatment": 2},
        deployments=["90"],
    )
    return str(reply["id"])


def test_promote_updates_the_target_to_match_the_source(server, client, spy):
    import expkit

    dev_id = _dev_copy(client)
    seg = {
        "name": "Cohort",
        "conditions": [
            {"type": "property", "prop": "userdata_cohort", "op": "set contains", "values": ["c1"]}
        ],
        "percentage": 100,
        "rolloutWeights": {"control": 0, "treatment": 1},
    }
    client.flags.edit("1001", target_segments=[seg])
    with pytest.raises(ValidationError) as unmapped:
        PromoteEdit.load(client, "new-checkout", "100", "200").validate()
    assert "deployment 7" in str(unmapped.value) and "cohort c1" in str(unmapped.value)

    plan = PromoteEdit.load(
        client, "new-checkout", "100", "200", deployments={"7": "90"}, cohorts={"c1": "c9"}
    )
    assert not plan.creates and plan.config_id == dev_id
    preview = plan.preview()
    assert set(preview["status"]) >= {"differs", "request"}
    assert "weights.treatment" in set(preview["field"])
    spy.sent.clear()
    result = plan.apply()
    assert result.verified
    dev = client.flags.get(dev_id)
    assert dev["targetSegments"][0]["conditions"][0]["values"] == ["c9"]
    assert dev["deployments"] == ["90"] and dev["projectId"] == "200"
    snap = expkit.snapshot(client, progress=False)
    drift = expkit.compare(snap, "100", "200")
    rest = drift[drift["key"] == "new-checkout"]
    # only the mapped cohort id differs: the promote copied everything else
    assert list(rest["field"]) == ["segments.Cohort.conditions"]
    plan.undo()
    assert client.flags.get(dev_id)["rolloutWeights"] == {"control": 1, "treatment": 2}


def test_promote_creates_a_missing_config_and_undo_archives_it(server, client, spy):
    plan = PromoteEdit.load(client, "new-checkout", "100", "200", deployments={"7": "90"})
    assert plan.creates
    reqs = plan.requests()
    assert reqs[0].method == "POST" and reqs[0].body["projectId"] == "200"
    assert plan.apply(dry_run=True).outcome == "dry run"
    assert not [s for s in spy.sent if s[0] in WRITES]
    result = plan.apply()
    assert result.verified and result.steps[0].request.method == "POST"
    created = client.flags.list(project_id="200", key="new-checkout")
    assert len(created) == 1
    got = client.flags.get(created[0]["id"])
    assert got["enabled"] is True and got["rolloutPercentage"] == 100
    assert got["tags"] == ["team:checkout"] and got["deployments"] == ["90"]
    undone = plan.undo()
    assert undone.outcome == "undone"
    assert client.flags.get(created[0]["id"])["archived"] is True
    assert client.flags.list(project_id="200", key="new-checkout") == []


def test_promote_bad_input_before_anything_is_sent(server, client, spy):
    with pytest.raises(ValidationError, match="both 100"):
        PromoteEdit.load(client, "new-checkout", "100", "100")
    with pytest.raises(ValidationError, match="no flag with key 'nope' in project 100"):
        PromoteEdit.load(client, "nope", "100", "200")
    with pytest.raises(ValidationError, match="not live deployment") as info:
        PromoteEdit.load(client, "new-checkout", "100", "200", deployments={"7": "8"})
    assert info.value.field == "deployments"
    assert not [s for s in spy.sent if s[0] in WRITES]


def test_restore_an_experiment_and_the_audit_of_a_promote_create(server, client):
    client.experiments.edit_variant("2001", "treatment", rollout_weight=4)  # v2
    client.experiments.edit("2001", sticky_bucketing=True, tags=["x"])  # v3
    plan = RestoreEdit.load(client, "2001", 1, kind="experiments")
    assert {r.path for r in plan.requests()} == {
        "/api/1/experiments/2001/variants/treatment",
        "/api/1/experiments/2001",
    }
    assert plan.apply().verified
    exp = client.experiments.get("2001")
    assert exp["stickyBucketing"] is False and exp["rolloutWeights"]["treatment"] == 1

    promote = PromoteEdit.load(client, "new-checkout", "100", "200", deployments={"7": "90"})
    promote.apply()
    lines = [line for line in _audit() if line["edit"] == "PromoteEdit"]
    created = [line for line in lines if line["outcome"] == "created"]
    assert len(created) == 1 and created[0]["config_id"] == created[0]["after"]["id"]
    assert created[0]["requests"][0]["method"] == "POST"
    assert lines[-1]["outcome"] == "applied"


def test_a_promote_whose_follow_up_fails_archives_the_created_config(server, client, spy):
    plan = PromoteEdit.load(client, "new-checkout", "100", "200", deployments={"7": "90"})
    spy.fail_writes = {spy.n_writes + 2}  # the create succeeds, the PATCH after it fails
    with pytest.raises(PartialApplyError):
        plan.apply()
    assert client.flags.list(project_id="200", key="new-checkout") == []
    archived = client.flags.list(project_id="200", key="new-checkout", include_archived=True)
    assert len(archived) == 1 and archived[0]["archived"] is True
    assert not plan.can_undo

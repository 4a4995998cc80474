"""The fake over HTTP, driven by the real ``expkit.Client``: a CRUD walk per family."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

import expkit
from expkit.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
)
from expkit.fake import FakeAdapter, FakeServer, State

SEGMENT = {
    "name": "Germany",
    "conditions": [{"type": "property", "prop": "gp:country", "op": "set is", "values": ["DE"]}],
    "percentage": 40,
    "bucketing_key": "amplitude_id",
    "rollout_weights": {"on": 1},
}


@pytest.mark.parametrize("kind", ["flags", "experiments"])
def test_config_walk_ends_in_the_inclusion_limit(client: expkit.Client, fake: FakeAdapter, kind):
    resource = getattr(client, kind)
    created = resource.create("100", f"walk-{kind}", name="Walk", variants=[{"key": "on"}])
    cid = created["id"]
    assert created["url"] == f"http://experiment.amplitude.com/amplitude/100/config/{cid}"
    config = resource.get(cid)
    assert config["key"] == f"walk-{kind}" and config["createdBy"] == "api@expkit.local"
    assert [c["id"] for c in resource.list(key=f"walk-{kind}")] == [cid]

    assert (
        resource.edit(cid, enabled=True, rollout_percentage=25, target_segments=[SEGMENT]) == "OK"
    )
    assert resource.edit(cid, tags=["a", "b"]) == "OK"
    assert resource.edit(cid, tags=["c"]) == "OK"  # replaces
    config = resource.get(cid)
    assert config["tags"] == ["c"] and config["rolloutPercentage"] == 25
    assert config["targetSegments"][0]["conditions"][0]["op"] == "set is"

    assert resource.create_variant(cid, "blue", payload={"hex": "#00f"}, rollout_weight=2) == "OK"
    assert resource.variant(cid, "blue")["rolloutWeight"] == 2
    resource.edit_variant(cid, "blue", name="Blue", payload=[1])
    assert resource.variant(cid, "blue") == {
        "key": "blue",
        "name": "Blue",
        "payload": [1],
        "description": "",
        "rolloutWeight": 2,
    }
    resource.add_users(cid, "blue", ["a@x.io", "b@x.io", "c@x.io"])
    resource.add_cohorts(cid, "blue", ["coh1", "coh2"])
    resource.remove_cohorts(cid, "blue", ["coh1"])
    assert resource.cohorts(cid, "blue") == ["coh2"]
    resource.remove_users(cid, "blue", ["a@x.io"])
    assert resource.users(cid, "blue") == ["b@x.io", "c@x.io"]
    resource.add_deployments(cid, ["900"])
    assert [d["label"] for d in resource.deployments(cid)] == ["web"]
    resource.remove_deployment(cid, "900")
    assert resource.deployments(cid) == []
    resource.remove_all_users(cid, "blue")
    assert resource.users(cid, "blue") == []
    resource.remove_variant(cid, "blue")
    assert [v["key"] for v in resource.variants(cid)] == ["on"]

    versions = resource.versions(cid)
    assert [v["version"] for v in versions] == list(range(len(versions), 0, -1))
    assert len(versions) == 14  # create + 13 mutations
    assert resource.version(cid, 2)["flagConfig"]["enabled"] is True

    resource.edit(cid, archive=True)
    assert resource.list(key=f"walk-{kind}") == []
    assert [c["id"] for c in resource.list(key=f"walk-{kind}", include_archived=True)] == [cid]

    resource.add_users(cid, "on", [f"user-{i}" for i in range(2000)])
    with pytest.raises(BadRequestError) as info:
        resource.add_users(cid, "on", ["user-2001"])
    assert "inclusions" in str(info.value)


def test_version_history_grows_by_one_per_mutation(client: expkit.Client, fake: FakeAdapter):
    before = len(client.flags.versions("11"))
    mutations = [
        lambda: client.flags.edit("11", rollout_percentage=60),
        lambda: client.flags.add_users("11", "control", ["z"]),
        lambda: client.flags.remove_user_at("11", "treatment", 0),
        lambda: client.flags.edit_variant("11", "control", rollout_weight=5),
        lambda: client.flags.add_deployments("11", ["900"]),
    ]
    for n, mutate in enumerate(mutations, start=1):
        mutate()
        versions = client.flags.versions("11")
        assert len(versions) == before + n
        assert versions[0]["flagConfig"] == {
            k: v
            for k, v in client.flags.get("11").items()
            if k not in ("createdAt", "createdBy", "lastModifiedAt", "lastModifiedBy")
        }
    assert client.flags.versions("11")[1]["flagConfig"]["rolloutWeights"]["control"] == 5
    assert client.experiments.versions("21")[0]["version"] == 1


def test_inclusions_removed_by_index(client: expkit.Client):
    assert client.flags.users("11", "treatment") == ["u1", "u2", "u3"]
    client.flags.remove_user_at("11", "treatment", 1)
    assert client.flags.users("11", "treatment") == ["u1", "u3"]
    client.flags.remove_user_at("11", "treatment", 1, expected="u3")
    assert client.flags.users("11", "treatment") == ["u1"]
    with pytest.raises(NotFoundError):
        client.flags.remove_user_at("11", "treatment", 5)


def test_pagination_across_pages(server: FakeServer):
    for i in range(7):
        server.state.create_config("flags", {"projectId": "100", "key": f"page-{i}"})
    client = server.client(max_retries=0, rate_limit=None)
    server.reset_log()
    items = list(client.http.paginate("/api/1/flags", "flags", limit=3))
    keys = [f["key"] for f in items]
    assert keys == [f"page-{i}" for i in range(6, -1, -1)] + ["checkout-v2"]
    cursors = [q.get("cursor") for (_, path, q) in server.request_log]
    assert cursors == [None, "3", "6"]
    headers = {"Authorization": f"Bearer {server.api_key}"}
    last = requests.get(f"{server.url}/api/1/flags?limit=3&cursor=6", headers=headers).json()
    assert last["nextCursor"] is None and len(last["flags"]) == 2
    capped = requests.get(f"{server.url}/api/1/flags?limit=5000", headers=headers).json()
    assert len(capped["flags"]) == 8 and capped["nextCursor"] is None


def test_global_versions_window_and_order(client: expkit.Client, fake: FakeAdapter, t0):
    for pct in (1, 2, 3, 4):
        client.flags.edit("11", rollout_percentage=pct)
    start = t0 + timedelta(seconds=2)
    end = t0 + timedelta(seconds=4)
    window = client.versions.list(start=start, end=end)
    assert [(v["flagConfig"]["id"], v["version"]) for v in window] == [("11", 4), ("11", 3)]
    every = client.versions.list()
    times = [v["createdAt"] for v in every]
    assert times == sorted(times, reverse=True) and len(every) == 3 + 4
    fake.reset_log()
    paged = list(client.http.paginate("/api/1/versions", "versions", limit=2))
    assert paged == every and fake.request_count == 4


def test_deployments_walk_ends_in_bad_type(client: expkit.Client, fake: FakeAdapter):
    did = client.deployments.create("100", "mobile_app", "client")["id"]
    assert client.deployments.edit(did, label="mobile-app") == "OK"
    client.deployments.edit(did, archive=True)
    deps = {d["id"]: d for d in client.deployments.list()}
    assert deps[did]["label"] == "mobile-app" and deps[did]["deleted"] is True
    with pytest.raises(BadRequestError) as info:
        client.http.request(
            "POST", "/api/1/deployments", json={"projectId": "100", "label": "x", "type": "edge"}
        )
    assert "type" in str(info.value)


def test_mutex_walk_ends_in_percentages_not_summing(client: expkit.Client):
    created = client.mutexes.create(
        100, "Checkout group", [{"percentage": 50, "experiments": [21]}, {"percentage": 50}]
    )
    assert created["url"].endswith("/grouped-experiments")
    mid = created["id"]
    assert client.mutexes.get(mid)["slots"][0]["experiments"] == [21]
    assert client.experiments.get("21")["parentDependencies"]["flags"] == {mid: ["slot-1"]}
    client.mutexes.edit(mid, name="Renamed")
    client.mutexes.edit_slot(mid, 2, individuals=["vip@x.io"])
    assert [m["name"] for m in client.mutexes.list()] == ["Renamed"]
    assert client.mutexes.get(mid)["slots"][1]["individuals"] == ["vip@x.io"]
    with pytest.raises(BadRequestError) as info:
        client.http.request(
            "POST",
            "/api/1/mutexes",
            json={
                "projectId": 100,
                "name": "bad",
                "slots": [{"percentage": 50}, {"percentage": 40}],
            },
        )
    assert "sum to 100" in str(info.value)


def test_holdout_walk_ends_in_bad_percentage(client: expkit.Client):
    hid = client.holdouts.create(100, "Q1 holdout", 5, experiments=[21])["id"]
    assert client.holdouts.get(hid)["holdoutPercentage"] == 5
    client.holdouts.edit(hid, individual_exclusion=["qa@x.io"])
    assert client.holdouts.list()[0]["individualExclusion"] == ["qa@x.io"]
    client.holdouts.edit(hid, archive=True)
    assert client.holdouts.get(hid)["deleted"] is True
    with pytest.raises(BadRequestError) as info:
        client.http.request(
            "POST", "/api/1/holdouts", json={"projectId": 100, "name": "h", "holdoutPercentage": 0}
        )
    assert "holdoutPercentage" in str(info.value)


def test_status_codes(server: FakeServer, client: expkit.Client):
    wrong = expkit.Client(api_key="fake-wrong", base_url=server.url, max_retries=0)
    with pytest.raises(AuthenticationError) as info:
        wrong.flags.list()
    assert "fake-wrong" not in str(info.value) and server.api_key not in str(info.value)
    assert requests.get(f"{server.url}/api/1/flags").status_code == 401
    with pytest.raises(NotFoundError):
        client.flags.get("404404")
    with pytest.raises(NotFoundError):
        client.flags.variant("11", "missing")
    with pytest.raises(BadRequestError) as info:
        client.http.request("PATCH", "/api/1/flags/11", json={"rolloutPercentage": 150})
    assert "rolloutPercentage" in str(info.value)
    headers = {"Authorization": f"Bearer {server.api_key}", "Content-Type": "application/json"}
    bad_json = requests.patch(f"{server.url}/api/1/flags/11", data=b"{nope", headers=headers)
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["message"]
    too_many = requests.delete(
        f"{server.url}/api/1/flags/11/variants/treatment/bulk-delete-users",
        json={"users": [str(i) for i in range(101)]},
        headers=headers,
    )
    assert too_many.status_code == 400 and too_many.json()["field"] == "users"
    assert requests.put(f"{server.url}/api/1/flags/11", headers=headers).status_code == 405
    for query, field in (
        ("start=yesterday", "start"),
        ("limit=ten", "limit"),
        ("cursor=-3", "cursor"),
    ):
        reply = requests.get(f"{server.url}/api/1/versions?{query}", headers=headers)
        assert reply.status_code == 400 and reply.json()["field"] == field
    assert requests.get(f"{server.url}/api/1/nothing", headers=headers).status_code == 404
    server.faults(rate_limit=2)
    client.flags.get("11")
    client.flags.get("11")
    with pytest.raises(RateLimitError):
        client.flags.get("11")


def test_variant_edit_accepts_post_and_quoted_keys(server: FakeServer, client: expkit.Client):
    client.flags.create_variant("11", "a/b c")
    headers = {"Authorization": f"Bearer {server.api_key}"}
    reply = requests.post(
        f"{server.url}/api/1/flags/11/variants/a%2Fb%20c",
        json={"description": "d"},
        headers=headers,
    )
    assert reply.status_code == 200 and reply.text == "OK"
    assert client.flags.variant("11", "a/b c")["description"] == "d"


def test_date_header_is_the_fake_clock(server: FakeServer, client: expkit.Client, t0):
    over_http = server.client(max_retries=0)
    over_http.flags.get("11")
    assert over_http.server_time == t0
    client.flags.get("11")
    assert client.server_time == t0
    client.flags.edit("11", name="x")
    assert client.server_time == t0 + timedelta(seconds=1)


def test_legacy_paths(server: FakeServer):
    legacy = server.legacy_client(max_retries=0, rate_limit=None)
    assert [e["key"] for e in legacy.list_experiments()] == ["pricing-test"]
    assert [f["key"] for f in legacy.list_flags()] == ["checkout-v2"]
    assert [d["id"] for d in legacy.list_deployments()] == ["900"]
    created = legacy.create_experiment("100", "legacy-exp", experiment_type="no-harm")
    assert created["key"] == "legacy-exp" and created["experimentType"] == "no-harm"
    eid = created["id"]
    legacy.activate(eid)
    assert legacy.experiment(eid)["enabled"] is True
    legacy.deactivate(eid)
    legacy.set_rollout_weights(eid, {"control": 3, "treatment": 1})
    versions = legacy.experiment_versions(eid)
    assert [v["version"] for v in versions] == [4, 3, 2, 1]
    assert legacy.experiment_version(eid, 4)["flagConfig"]["rolloutWeights"] == {
        "control": 3,
        "treatment": 1,
    }
    assert legacy.flag("11")["key"] == "checkout-v2"
    assert legacy.flag_version("11", 1)["version"] == 1
    assert len(legacy.flag_versions("11")) == 1
    with pytest.raises(BadRequestError):
        legacy.set_rollout_weights(eid, {"missing": 1})
    headers = {"Authorization": f"Bearer {server.api_key}"}
    users = requests.get(f"{server.url}/flags/11/variants/treatment/users", headers=headers)
    assert users.json() == ["u1", "u2", "u3"]
    archive = requests.patch(f"{server.url}/flags/11", json={"archive": True}, headers=headers)
    assert archive.status_code == 400 and archive.json()["field"] == "archive"


def test_state_is_shared_with_the_server(server: FakeServer):
    assert isinstance(server.state, State)
    server.client(max_retries=0).flags.edit("11", description="via http")
    assert server.state.get_config("flags", "11")["description"] == "via http"

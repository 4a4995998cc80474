"""The synthetic org generator: deterministic, consistent histories, realistic content."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest

from expkit.errors import ValidationError
from expkit.fake import FakeServer, State
from expkit.fake._state import CONDITION_OPS, HOLDOUT_PASS_VARIANT
from expkit.fake._synth import ConfigBuilder, synthetic_org

TIME_FIELDS = {"createdBy", "createdAt", "lastModifiedBy", "lastModifiedAt"}
END = datetime(2026, 11, 20, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def synth() -> dict:
    return synthetic_org(40, 15, 20, seed=0)


def _configs(org: dict) -> list[tuple[str, dict]]:
    return [(kind, c) for kind in ("flags", "experiments") for c in org[kind]]


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_same_seed_same_org_and_other_seed_other_org():
    a = synthetic_org(12, 6, 8, seed=3)
    b = synthetic_org(12, 6, 8, seed=3)
    c = synthetic_org(12, 6, 8, seed=4)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert a != c
    assert [f["key"] for f in a["flags"]] != [f["key"] for f in c["flags"]]


def test_sizes_and_exact_version_counts():
    org = synthetic_org(60, 25, 7, seed=1)
    assert len(org["flags"]) == 60
    assert len(org["experiments"]) == 25
    assert set(org["versions"]) == {c["id"] for _, c in _configs(org)}
    assert all(len(v) == 7 for v in org["versions"].values())
    ids = [c["id"] for _, c in _configs(org)]
    assert len(set(ids)) == len(ids) and all(i.isdigit() for i in ids)
    keys = [c["key"] for _, c in _configs(org)]
    assert len(set(keys)) == len(keys)


def test_lists_are_newest_first(synth):
    for kind in ("flags", "experiments"):
        created = [c["createdAt"] for c in synth[kind]]
        assert created == sorted(created, reverse=True)


def test_last_version_is_the_current_config(synth):
    for kind, config in _configs(synth):
        versions = synth["versions"][config["id"]]
        expected = {k: v for k, v in config.items() if k not in TIME_FIELDS}
        if kind == "experiments":
            expected.pop("state")
        assert versions[-1]["flagConfig"] == expected, config["key"]
        assert config["createdAt"] == versions[0]["createdAt"]
        assert config["lastModifiedAt"] == versions[-1]["createdAt"]
        assert config["lastModifiedBy"] == versions[-1]["createdBy"]


def test_versions_are_numbered_timed_and_each_is_one_real_change(synth):
    for _, config in _configs(synth):
        versions = synth["versions"][config["id"]]
        assert [v["version"] for v in versions] == list(range(1, len(versions) + 1))
        times = [_when(v["createdAt"]) for v in versions]
        assert times == sorted(times) and len(set(times)) == len(times)
        for before, after in itertools.pairwise(versions):
            assert before["flagConfig"] != after["flagConfig"]
            assert "state" not in after["flagConfig"]


def test_histories_span_months_with_several_authors(synth):
    times = [_when(v["createdAt"]) for vs in synth["versions"].values() for v in vs]
    assert max(times) <= END
    assert min(times) >= END - timedelta(days=18 * 31)
    assert max(times) - min(times) > timedelta(days=365)
    authors = {v["createdBy"] for vs in synth["versions"].values() for v in vs}
    assert len(authors) >= 5
    # ramps: some config went 5 -> 25 -> 50 -> 100 in order
    ramps = [
        [v["flagConfig"]["rolloutPercentage"] for v in vs] for vs in synth["versions"].values()
    ]
    assert any([p for p in r if p in (5, 25, 50, 100)][:4] == [5, 25, 50, 100] for r in ramps if r)


def test_targeting_uses_every_condition_op_and_custom_props(synth):
    conditions = [
        cond
        for _, config in _configs(synth)
        for seg in config["targetSegments"]
        for cond in seg["conditions"]
    ]
    assert {c["op"] for c in conditions} == set(CONDITION_OPS)
    assert any(c["prop"].startswith("gp:") for c in conditions)
    assert all(c["type"] == "property" and c["values"] for c in conditions)


def test_realistic_content(synth):
    configs = [c for _, c in _configs(synth)]
    n_variants = [len(c["variants"]) for c in configs]
    assert min(n_variants) >= 1 and max(n_variants) <= 20
    payload_types = {type(v["payload"]) for c in configs for v in c["variants"]}
    assert {dict, str} <= payload_types and (int in payload_types or float in payload_types)
    assert {e["state"] for e in synth["experiments"]} == {"planning", "running", "decision-made"}
    decided = [e for e in synth["experiments"] if e["state"] == "decision-made"]
    assert all(e["decision"] and e["endDate"] and e["startDate"] for e in decided)
    assert any(c["archived"] for c in configs)
    assert any(t.startswith("squad:") for c in configs for t in c["tags"])
    deployments = synth["deployments"]
    assert {d["key"].split("-")[0] for d in deployments} == {"client", "server"}
    assert sum(d["deleted"] for d in deployments) == 1
    assert any("parentDependencies" in f for f in synth["flags"])
    users = [u for inc in synth["inclusions"].values() for v in inc.values() for u in v["users"]]
    cohorts = [
        c for inc in synth["inclusions"].values() for v in inc.values() for c in v["cohorts"]
    ]
    assert any("@" in u for u in users) and cohorts


def test_group_members_depend_on_their_group(synth):
    experiments = {e["id"]: e for e in synth["experiments"]}
    assert synth["mutexes"] and synth["holdouts"]
    for mutex in synth["mutexes"]:
        assert sum(s["percentage"] for s in mutex["slots"]) == 100
        for slot in mutex["slots"]:
            for eid in slot["experiments"]:
                deps = experiments[str(eid)]["parentDependencies"]["flags"]
                assert deps[mutex["id"]] == [slot["variantKey"]]
    for holdout in synth["holdouts"]:
        for eid in holdout["experiments"]:
            deps = experiments[str(eid)]["parentDependencies"]["flags"]
            assert deps[holdout["id"]] == [HOLDOUT_PASS_VARIANT]


def test_current_configs_share_nothing_mutable_with_versions():
    org = synthetic_org(6, 3, 5, seed=2)
    before = json.dumps(org["versions"], sort_keys=True)
    for _, config in _configs(org):
        config["variants"].append({"key": "mutated"})
        config["rolloutWeights"]["mutated"] = 1
        config["tags"].append("mutated")
        for seg in config["targetSegments"]:
            seg["conditions"].clear()
    assert json.dumps(org["versions"], sort_keys=True) == before


def test_state_loads_it_and_serves_it_over_http():
    with FakeServer.synthetic(n_flags=8, n_experiments=4, versions_per_config=3, seed=5) as server:
        client = server.client(rate_limit=None, max_retries=0)
        flags = client.flags.list(include_archived=True)
        assert len(flags) == 8
        assert len(client.flags.versions(flags[0]["id"])) == 3
    state = State.from_org(synthetic_org(8, 4, 3, seed=5))
    assert state.counts()["versions"] == 12 * 3


def test_builder_rollback_restores_an_earlier_version():
    config = {"id": "1", "key": "k", "enabled": False, "rolloutPercentage": 0, "tags": []}
    b = ConfigBuilder("flags", config, at=END - timedelta(days=3), by="a@example.com")
    b.change(END - timedelta(days=2), "a@example.com", enabled=True, rolloutPercentage=50)
    b.change(END - timedelta(days=1), "b@example.com", rolloutPercentage=100)
    b.rollback(END, "b@example.com")
    assert [v["flagConfig"]["rolloutPercentage"] for v in b.versions] == [0, 50, 100, 50]
    assert b.versions[-1]["flagConfig"] == b.versions[1]["flagConfig"]
    built = b.build()
    assert built["lastModifiedBy"] == "b@example.com" and built["rolloutPercentage"] == 50
    with pytest.raises(ValidationError) as err:
        b.rollback(END, "b@example.com", to=9)
    assert err.value.field == "to"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_flags": -1}, "n_flags"),
        ({"versions_per_config": 0}, "versions_per_config"),
        ({"n_experiments": 1.5}, "n_experiments"),
    ],
)
def test_bad_sizes_are_rejected(kwargs, field):
    with pytest.raises(ValidationError) as err:
        synthetic_org(**kwargs)
    assert err.value.field == field

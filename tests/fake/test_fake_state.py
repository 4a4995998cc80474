"""The fake's State, without HTTP: versions, clock, ids, validation, groups, round trips."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from expkit import _validate as client_rules
from expkit.errors import ValidationError
from expkit.fake import FakeClock, FakeError, IdGenerator, State


def _raises(status: int, field: str | None, fn, *args, **kwargs) -> FakeError:
    with pytest.raises(FakeError) as info:
        fn(*args, **kwargs)
    assert info.value.status == status, info.value.message
    if field is not None:
        assert info.value.field == field, info.value.message
        assert field in info.value.message
    return info.value


def test_clock_advances_only_forward():
    clock = FakeClock("2026-01-01T00:00:00Z")
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    assert clock.advance(hours=2) == datetime(2026, 1, 1, 2, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.advance(seconds=-1)


def test_ids_are_seeded_and_unique():
    a, b = IdGenerator(7), IdGenerator(7)
    first = [a.next_id() for _ in range(200)]
    assert first == [b.next_id() for _ in range(200)]
    assert len(set(first)) == 200 and all(i.isdigit() for i in first)
    c = IdGenerator(7)
    c.reserve(first[0])
    assert c.next_id() != first[0]


def test_from_org_keeps_order_and_synthesises_version_one(state: State, org, make_org):
    assert state.config_ids("flags") == ["11"]
    assert state.config_ids("flags", include_archived=True) == ["11", "12"]
    assert state.config_ids("flags", key="old-banner", include_archived=True) == ["12"]
    assert state.config_ids("flags", key="checkout") == []
    versions = state.versions("flags", "11")
    assert [v["version"] for v in versions] == [1]
    assert versions[0]["createdAt"] == "2025-12-03T10:00:00.000Z"
    assert "createdAt" not in versions[0]["flagConfig"]
    assert state.users("flags", "11", "treatment") == ["u1", "u2", "u3"]
    assert org == make_org(), "from_org must not mutate its input"


def test_every_mutation_writes_one_version_and_moves_last_modified(state: State, t0):
    steps = [
        lambda: state.edit_config("flags", "11", {"rolloutPercentage": 75}),
        lambda: state.add_inclusions("flags", "11", "control", ["x"]),
        lambda: state.remove_user_at("flags", "11", "treatment", 0),
        lambda: state.create_variant("flags", "11", {"key": "blue", "rolloutWeight": 2}),
        lambda: state.edit_variant("flags", "11", "blue", {"payload": [1, 2]}),
        lambda: state.remove_variant("flags", "11", "blue"),
        lambda: state.remove_config_deployment("flags", "11", "900"),
        lambda: state.add_config_deployments("flags", "11", ["900"]),
        lambda: state.edit_config("flags", "11", {"archive": True}),
    ]
    for n, step in enumerate(steps, start=2):
        step()
        versions = state.versions("flags", "11")
        assert [v["version"] for v in versions[:2]] == [n, n - 1]
        latest = versions[0]
        config = state.get_config("flags", "11")
        assert latest["createdAt"] == config["lastModifiedAt"]
        assert latest["createdBy"] == config["lastModifiedBy"] == "api@expkit.local"
        expected = {k: v for k, v in config.items() if not k.startswith(("created", "lastMod"))}
        assert latest["flagConfig"] == expected
    times = [v["createdAt"] for v in state.versions("flags", "11")]
    assert times == sorted(times, reverse=True) and len(set(times)) == len(times)
    assert state.clock.now() == t0 + timedelta(seconds=len(steps))
    assert state.get_config("flags", "11")["archived"] is True


def test_experiment_versions_drop_state(state: State):
    state.edit_config("experiments", "21", {"decision": "rollout", "rolledOutVariant": "treatment"})
    config = state.get_config("experiments", "21")
    assert config["state"] == "decision-made"
    assert "state" not in state.versions("experiments", "21")[0]["flagConfig"]


def test_variant_rename_moves_weights_segments_and_inclusions(state: State):
    segment = {
        "name": "US",
        "conditions": [{"type": "property", "prop": "country", "op": "is", "values": ["US"]}],
        "percentage": 100,
        "rolloutWeights": {"treatment": 1},
    }
    state.edit_config("flags", "11", {"targetSegments": [segment]})
    state.edit_variant("flags", "11", "treatment", {"key": "blue", "rolloutWeight": 3})
    config = state.get_config("flags", "11")
    assert [v["key"] for v in config["variants"]] == ["control", "blue"]
    assert config["rolloutWeights"] == {"control": 1, "blue": 3}
    assert config["targetSegments"][0]["rolloutWeights"] == {"blue": 1}
    assert state.users("flags", "11", "blue") == ["u1", "u2", "u3"]
    _raises(404, None, state.users, "flags", "11", "treatment")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rolloutPercentage": 101}, "rolloutPercentage"),
        ({"enabled": "yes"}, "enabled"),
        ({"evaluationMode": "edge"}, "evaluationMode"),
        ({"tags": ["a", 3]}, "tags[1]"),
        ({"variants": []}, "variants"),
        (
            {"targetSegments": [{"name": "s", "conditions": [], "percentage": 10}]},
            "targetSegments[0].rolloutWeights",
        ),
        (
            {
                "targetSegments": [
                    {
                        "name": "s",
                        "percentage": 10,
                        "rolloutWeights": {"control": 1},
                        "conditions": [{"type": "cohort", "prop": "x", "op": "is", "values": []}],
                    }
                ]
            },
            "targetSegments[0].conditions[0].type",
        ),
        (
            {
                "targetSegments": [
                    {
                        "name": "s",
                        "percentage": 10,
                        "rolloutWeights": {"control": 1},
                        "conditions": [
                            {"type": "property", "prop": "x", "op": "equals", "values": []}
                        ],
                    }
                ]
            },
            "targetSegments[0].conditions[0].op",
        ),
        (
            {
                "targetSegments": [
                    {
                        "name": "s",
                        "percentage": 10,
                        "rolloutWeights": {"nope": 1},
                        "conditions": [],
                    }
                ]
            },
            "targetSegments[0].rolloutWeights.nope",
        ),
    ],
)
def test_edit_validation_names_the_field_and_changes_nothing(state: State, body, field):
    before = state.get_config("flags", "11")
    n = len(state.versions("flags", "11"))
    _raises(400, field, state.edit_config, "flags", "11", body)
    assert state.get_config("flags", "11") == before
    assert len(state.versions("flags", "11")) == n


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "x"}, "projectId"),
        ({"projectId": "1"}, "key"),
        ({"projectId": "100", "key": "checkout-v2"}, "key"),
        ({"projectId": "1", "key": "k", "rolloutWeights": {"on": 1.5}}, "rolloutWeights.on"),
        ({"projectId": "1", "key": "k", "rolloutWeights": {"on": -1}}, "rolloutWeights.on"),
        ({"projectId": "1", "key": "k", "rolloutWeights": {"off": 1}}, "rolloutWeights.off"),
        ({"projectId": "1", "key": "k", "deployments": ["404"]}, "deployments[0]"),
        ({"projectId": "1", "key": "k", "colour": "red"}, "colour"),
    ],
)
def test_create_validation(state: State, body, field):
    _raises(400, field, state.create_config, "flags", body)


def test_keys_are_unique_per_project_not_across_the_org(state: State):
    # "checkout-v2" is a flag of project 100; the same key lives in another project (dev/prod)
    flag = state.create_config("flags", {"projectId": "200", "key": "checkout-v2"})
    experiment = state.create_config("experiments", {"projectId": 300, "key": "checkout-v2"})
    assert state.get_config("flags", flag)["projectId"] == "200"
    assert state.get_config("experiments", experiment)["projectId"] == "300"
    assert [c["id"] for c in state.configs("flags", key="checkout-v2", project_id="200")] == [flag]
    # within one project flags, experiments, mutexes and holdouts share one key space
    error = _raises(
        400, "key", state.create_config, "experiments", {"projectId": "200", "key": "checkout-v2"}
    )
    assert "project 200" in error.message and f"flag {flag}" in error.message
    mutex = {"projectId": "200", "name": "m", "key": "checkout-v2", "slots": [{"percentage": 100}]}
    _raises(400, "key", state.create_mutex, mutex)
    holdout = {"projectId": "300", "name": "h", "key": "checkout-v2", "holdoutPercentage": 5}
    _raises(400, "key", state.create_holdout, holdout)
    # a group's key is free in another project, then taken there too
    hid = state.create_holdout({**holdout, "projectId": "400"})
    assert state.holdout(hid)["key"] == "checkout-v2"
    _raises(400, "key", state.create_config, "flags", {"projectId": "400", "key": "checkout-v2"})


def test_inclusion_limits_and_index_removal(state: State):
    state.add_inclusions("flags", "11", "control", [f"user{i}" for i in range(2000)])
    _raises(400, "inclusions", state.add_inclusions, "flags", "11", "control", ["one-more"])
    # already-included users do not count twice
    state.add_inclusions("flags", "11", "control", ["user0"])
    _raises(400, "users", state.bulk_remove, "flags", "11", "control", [str(i) for i in range(101)])
    state.bulk_remove("flags", "11", "control", [f"user{i}" for i in range(100)])
    assert len(state.users("flags", "11", "control")) == 1900
    state.remove_user_at("flags", "11", "treatment", 1)
    assert state.users("flags", "11", "treatment") == ["u1", "u3"]
    _raises(404, None, state.remove_user_at, "flags", "11", "treatment", 2)
    _raises(400, "userIndex", state.remove_user_at, "flags", "11", "treatment", "x")
    state.bulk_remove("flags", "11", "treatment", ["c1"], cohorts=True)
    assert state.cohorts("flags", "11", "treatment") == []


def test_unknown_ids_are_404(state: State):
    _raises(404, None, state.get_config, "flags", "999")
    _raises(404, None, state.get_config, "experiments", "11")
    _raises(404, None, state.version_record, "flags", "11", 7)
    _raises(404, None, state.edit_deployment, "1", {"label": "x"})
    _raises(404, None, state.remove_config_deployment, "flags", "11", "901")


def test_timeline_start_inclusive_end_exclusive(state: State, t0):
    for pct in (10, 20, 30):
        state.edit_config("flags", "11", {"rolloutPercentage": pct})
    every, total = state.timeline()
    assert total == 6 and [r.ts for r in every] == sorted((r.ts for r in every), reverse=True)
    start = t0 + timedelta(seconds=1)
    end = t0 + timedelta(seconds=3)
    window, total = state.timeline(start.isoformat(), end.isoformat())
    assert total == 2
    assert [r.created_at for r in window] == [
        "2026-01-01T12:00:02.000Z",
        "2026-01-01T12:00:01.000Z",
    ]
    page, total = state.timeline(offset=2, limit=3)
    assert total == 6 and [r.version for r in page] == [2, 1, 1]


def test_deployments_validation(state: State):
    _raises(400, "type", state.create_deployment, {"projectId": "1", "label": "x", "type": "edge"})
    _raises(
        400, "label", state.create_deployment, {"projectId": "1", "label": "a b", "type": "client"}
    )
    did = state.create_deployment({"projectId": "1", "label": "api-2", "type": "server"})
    dep = next(d for d in state.deployment_list() if d["id"] == did)
    assert dep["key"].startswith("server-") and dep["deleted"] is False
    state.edit_deployment(did, {"archive": True})
    assert next(d for d in state.deployment_list() if d["id"] == did)["deleted"] is True


def test_mutex_slots_set_and_clear_parent_dependencies(state: State):
    bad = {"projectId": 100, "name": "m", "slots": [{"percentage": 60}, {"percentage": 30}]}
    _raises(400, "slots", state.create_mutex, bad)
    _raises(
        400,
        "key",
        state.create_mutex,
        {**bad, "key": "checkout-v2", "slots": [{"percentage": 100}]},
    )
    mid = state.create_mutex(
        {
            "projectId": 100,
            "name": "m",
            "slots": [{"percentage": 95, "experiments": [21]}, {"percentage": 5}],
        }
    )
    mutex = state.mutex(mid)
    assert [s["variantKey"] for s in mutex["slots"]] == ["slot-1", "slot-2"]
    assert state.get_config("experiments", "21")["parentDependencies"] == {
        "flags": {mid: ["slot-1"]},
        "operator": "all",
    }
    state.edit_mutex_slot(mid, 2, {"experiments": ["21"]})
    assert state.get_config("experiments", "21")["parentDependencies"]["flags"][mid] == ["slot-2"]
    _raises(404, None, state.edit_mutex_slot, mid, 3, {"individuals": []})
    state.edit_mutex(mid, {"archive": True, "name": "ignored"})
    assert state.mutex(mid)["deleted"] is True and state.mutex(mid)["name"] == "m"
    assert "parentDependencies" not in state.get_config("experiments", "21")


def test_holdouts(state: State):
    _raises(
        400,
        "holdoutPercentage",
        state.create_holdout,
        {"projectId": 1, "name": "h", "holdoutPercentage": 100},
    )
    _raises(
        400,
        "experiments[0]",
        state.create_holdout,
        {"projectId": 1, "name": "h", "holdoutPercentage": 5, "experiments": [11]},
    )
    hid = state.create_holdout(
        {"projectId": 1, "name": "h", "holdoutPercentage": 5, "experiments": [21]}
    )
    holdout = state.holdout(hid)
    assert holdout["key"].startswith("holdout-") and holdout["experiments"] == [21]
    assert hid in state.get_config("experiments", "21")["parentDependencies"]["flags"]
    state.edit_holdout(hid, {"experiments": [], "individualInclusion": ["a@b.c"]})
    assert state.holdout(hid)["individualInclusion"] == ["a@b.c"]
    assert "parentDependencies" not in state.get_config("experiments", "21")


def test_web_experiments_cannot_be_edited(org, t0):
    org["experiments"][0]["deliveryMethod"] = "web"
    state = State.from_org(org, clock=FakeClock(t0))
    _raises(405, None, state.edit_config, "experiments", "21", {"name": "x"})


def test_to_org_round_trip_and_reset(state: State, t0):
    state.edit_config("flags", "11", {"tags": ["a"]})
    org = state.to_org()
    again = State.from_org(copy.deepcopy(org), clock=FakeClock(t0)).to_org()
    assert again == org
    assert [v["version"] for v in org["versions"]["11"]] == [1, 2]
    state.reset()
    assert state.get_config("flags", "11")["tags"] == ["team:web"]
    assert len(state.versions("flags", "11")) == 1 and state.clock.now() == t0


def test_default_clock_starts_at_the_latest_org_time(org):
    state = State.from_org(org)
    assert state.clock.now() == datetime(2025, 12, 3, 10, tzinfo=UTC)


def test_warm_encodes_each_version_once(state: State):
    state.edit_config("flags", "11", {"rolloutPercentage": 5})
    assert state.warm() == 4
    assert state.warm() == 0
    assert state.warm(should_stop=lambda: True) == 0
    newest = state.version_records("flags", "11")[0]
    assert newest.to_dict()["flagConfig"]["rolloutPercentage"] == 5


def _snapshot(state: State):
    return state.to_org(), state.clock.now()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"experiments": [21], "name": 5}, "name"),
        ({"experiments": [21], "individualExclusion": [3]}, "individualExclusion[0]"),
        ({"individualInclusion": ["a"], "individualExclusion": [3]}, "individualExclusion[0]"),
        ({"experiments": [21], "archive": "yes"}, "archive"),
    ],
)
def test_invalid_holdout_edit_changes_nothing(state: State, body, field):
    hid = state.create_holdout({"projectId": 1, "name": "h", "holdoutPercentage": 5})
    before = _snapshot(state)
    _raises(400, field, state.edit_holdout, hid, body)
    assert _snapshot(state) == before


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s, m: s.edit_mutex_slot(m, 1, {"experiments": [21], "holdouts": ["999"]}), None),
        (lambda s, m: s.edit_mutex_slot(m, 1, {"experiments": [21], "individuals": [1]}), None),
        (lambda s, m: s.edit_mutex(m, {"name": "new", "description": 5}), "description"),
    ],
)
def test_invalid_mutex_edit_changes_nothing(state: State, call, field):
    mid = state.create_mutex(
        {"projectId": 1, "name": "m", "slots": [{"percentage": 50}, {"percentage": 50}]}
    )
    before = _snapshot(state)
    error = _raises(400, field, call, state, mid)
    assert error.field
    assert _snapshot(state) == before


@pytest.mark.parametrize(
    "body",
    [
        {"projectId": "1", "key": "k", "experimentType": "bogus"},
        {"projectId": "1", "key": "k", "stickyBucketing": "yes"},
    ],
)
def test_invalid_experiment_create_moves_neither_clock_nor_ids(state: State, body):
    before = _snapshot(state)
    _raises(400, None, state.create_config, "experiments", body)
    assert _snapshot(state) == before
    fresh = State.from_org(state.to_org(), clock=FakeClock(state.clock.now()))
    ok = {"projectId": "1", "key": "k"}
    assert state.create_config("experiments", ok) == fresh.create_config("experiments", ok)


@pytest.mark.parametrize("project_id", [{"a": 1}, ["1"], True, None, 1.5])
def test_deployment_create_checks_project_id(state: State, project_id):
    _raises(
        400,
        "projectId",
        state.create_deployment,
        {"projectId": project_id, "label": "x", "type": "client"},
    )


def test_an_experiment_is_in_one_slot_of_a_mutex(state: State):
    mid = state.create_mutex(
        {
            "projectId": 1,
            "name": "m",
            "slots": [{"percentage": 50, "experiments": [21]}, {"percentage": 50}],
        }
    )
    state.edit_mutex_slot(mid, 2, {"experiments": [21]})
    assert [s["experiments"] for s in state.mutex(mid)["slots"]] == [[], [21]]
    # clearing the slot it left must not drop the dependency on the slot it is in
    state.edit_mutex_slot(mid, 1, {"experiments": []})
    assert state.get_config("experiments", "21")["parentDependencies"]["flags"] == {mid: ["slot-2"]}
    before = _snapshot(state)
    _raises(400, "experiments[1]", state.edit_mutex_slot, mid, 1, {"experiments": [21, "21"]})
    twice = {
        "projectId": 1,
        "name": "m2",
        "slots": [{"percentage": 50, "experiments": [21]}, {"percentage": 50, "experiments": [21]}],
    }
    _raises(400, "slots[1].experiments[0]", state.create_mutex, twice)
    assert _snapshot(state) == before


_FILTER = {
    "group_type": "User",
    "subprop_key": "amplitude_day_of_week",
    "subprop_op": "is",
    "subprop_type": "day_time_prop",
    "subprop_value": ["Tuesday"],
}


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (1, "exposureEvent.filters[0]"),
        (
            {k: v for k, v in _FILTER.items() if k != "subprop_op"},
            "exposureEvent.filters[0].subprop_op",
        ),
        ({**_FILTER, "subprop_op": "set is"}, "exposureEvent.filters[0].subprop_op"),
        ({**_FILTER, "subprop_value": "Tuesday"}, "exposureEvent.filters[0].subprop_value"),
        ({**_FILTER, "subprop_type": None}, "exposureEvent.filters[0].subprop_type"),
    ],
)
def test_exposure_event_filters_are_checked(state: State, item, field):
    before = _snapshot(state)
    body = {"exposureEvent": {"event_type": "_active", "filters": [item]}}
    _raises(400, field, state.edit_config, "experiments", "21", body)
    assert _snapshot(state) == before


def test_documented_exposure_event_is_accepted(state: State):
    event = {"event_type": "_active", "filters": [_FILTER, {**_FILTER, "subprop_key": None}]}
    state.edit_config("experiments", "21", {"exposureEvent": event})
    assert state.get_config("experiments", "21")["exposureEvent"] == event


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf"), True, "1"])
def test_a_weight_the_client_refuses_the_fake_refuses(state: State, value):
    with pytest.raises(ValidationError):
        client_rules.rollout_weight(value, "rolloutWeight")
    body = {"key": "new", "rolloutWeight": value}
    _raises(400, "rolloutWeight", state.create_variant, "flags", "11", body)


@pytest.mark.parametrize("label", ["web prod", "web/prod", "wéb"])
def test_a_label_the_client_refuses_the_fake_refuses(state: State, label):
    with pytest.raises(ValidationError):
        client_rules.deployment_label(label)
    error = _raises(
        400, "label", state.create_deployment, {"projectId": "1", "label": label, "type": "client"}
    )
    assert "letters, digits" in error.message

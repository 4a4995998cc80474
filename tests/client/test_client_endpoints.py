"""Every endpoint of Client: method, path, query and body as they go on the wire."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from client_double import Call, DoubleAdapter, Reply

from expkit import Client, NotFoundError, ServerError, ValidationError

KINDS = ["flags", "experiments"]

SEGMENT_SNAKE = {
    "name": "US",
    "conditions": [{"type": "property", "prop": "country", "op": "is", "values": ["US"]}],
    "percentage": 50,
    "rollout_weights": {"on": 1},
    "bucketing_key": "amplitude_id",
}
SEGMENT_WIRE = {
    "name": "US",
    "conditions": [{"type": "property", "prop": "country", "op": "is", "values": ["US"]}],
    "percentage": 50,
    "rolloutWeights": {"on": 1},
    "bucketingKey": "amplitude_id",
}

# (call, reply body, method, path under /api/1/<kind>, query, request body, expected result)
CONFIG_CASES: list[tuple[str, Callable[[Any], Any], Any, str, str, dict, Any, Any]] = [
    ("get", lambda r: r.get("12"), {"id": "12"}, "GET", "/12", {}, None, {"id": "12"}),
    ("get-int-id", lambda r: r.get(12), {"id": "12"}, "GET", "/12", {}, None, {"id": "12"}),
    (
        "versions",
        lambda r: r.versions("12"),
        [{"version": 2}],
        "GET",
        "/12/versions",
        {},
        None,
        [{"version": 2}],
    ),
    (
        "version",
        lambda r: r.version("12", 3),
        {"version": 3},
        "GET",
        "/12/versions/3",
        {},
        None,
        {"version": 3},
    ),
    (
        "variants",
        lambda r: r.variants("12"),
        [{"key": "on"}],
        "GET",
        "/12/variants",
        {},
        None,
        [{"key": "on"}],
    ),
    (
        "variant",
        lambda r: r.variant("12", "on"),
        {"key": "on"},
        "GET",
        "/12/variants/on",
        {},
        None,
        {"key": "on"},
    ),
    (
        "variant-quoted",
        lambda r: r.variant("12", "a b/c"),
        {"key": "a b/c"},
        "GET",
        "/12/variants/a%20b%2Fc",
        {},
        None,
        {"key": "a b/c"},
    ),
    (
        "create_variant",
        lambda r: r.create_variant(
            "12", "v2", name="V2", description="d", payload={"a": [1]}, rollout_weight=2
        ),
        "OK",
        "POST",
        "/12/variants",
        {},
        {"key": "v2", "name": "V2", "description": "d", "payload": {"a": [1]}, "rolloutWeight": 2},
        "OK",
    ),
    (
        "create_variant-min",
        lambda r: r.create_variant("12", "v2"),
        "OK",
        "POST",
        "/12/variants",
        {},
        {"key": "v2"},
        "OK",
    ),
    (
        "edit_variant",
        lambda r: r.edit_variant("12", "on", key="on2", payload=None, rollout_weight=2.0),
        "OK",
        "PATCH",
        "/12/variants/on",
        {},
        {"key": "on2", "payload": None, "rolloutWeight": 2},
        "OK",
    ),
    (
        "edit_variant-name",
        lambda r: r.edit_variant("12", "on", name="On"),
        "ok",
        "PATCH",
        "/12/variants/on",
        {},
        {"name": "On"},
        "OK",
    ),
    (
        "remove_variant",
        lambda r: r.remove_variant("12", "on"),
        "OK",
        "DELETE",
        "/12/variants/on",
        {},
        None,
        "OK",
    ),
    (
        "users",
        lambda r: r.users("12", "on"),
        ["u1", "u2"],
        "GET",
        "/12/variants/on/users",
        {},
        None,
        ["u1", "u2"],
    ),
    (
        "cohorts",
        lambda r: r.cohorts("12", "on"),
        ["c1"],
        "GET",
        "/12/variants/on/cohorts",
        {},
        None,
        ["c1"],
    ),
    (
        "add_users",
        lambda r: r.add_users("12", "on", ["u1", "u2"]),
        "OK",
        "POST",
        "/12/variants/on/users",
        {},
        {"inclusions": ["u1", "u2"]},
        "OK",
    ),
    (
        "add_cohorts",
        lambda r: r.add_cohorts("12", "on", ("c1",)),
        "OK",
        "POST",
        "/12/variants/on/cohorts",
        {},
        {"inclusions": ["c1"]},
        "OK",
    ),
    (
        "remove_users",
        lambda r: r.remove_users("12", "on", ["u1"]),
        "OK",
        "DELETE",
        "/12/variants/on/bulk-delete-users",
        {},
        {"users": ["u1"]},
        "OK",
    ),
    # the API names the list "users" for cohorts too
    (
        "remove_cohorts",
        lambda r: r.remove_cohorts("12", "on", ["c1"]),
        "OK",
        "DELETE",
        "/12/variants/on/bulk-delete-cohorts",
        {},
        {"users": ["c1"]},
        "OK",
    ),
    (
        "remove_user_at",
        lambda r: r.remove_user_at("12", "on", 3),
        "OK",
        "DELETE",
        "/12/variants/on/users/3",
        {},
        None,
        "OK",
    ),
    (
        "remove_all_users",
        lambda r: r.remove_all_users("12", "on"),
        "",
        "DELETE",
        "/12/variants/on/users",
        {},
        None,
        None,
    ),
    (
        "deployments",
        lambda r: r.deployments("12"),
        [{"id": "7"}],
        "GET",
        "/12/deployments",
        {},
        None,
        [{"id": "7"}],
    ),
    (
        "add_deployments",
        lambda r: r.add_deployments("12", ["7", 8]),
        "OK",
        "POST",
        "/12/deployments",
        {},
        {"deployments": ["7", "8"]},
        "OK",
    ),
    (
        "remove_deployment",
        lambda r: r.remove_deployment("12", "7"),
        "OK",
        "DELETE",
        "/12/deployments/7",
        {},
        None,
        "OK",
    ),
    (
        "edit",
        lambda r: r.edit(
            "12",
            name="n",
            description="",
            enabled=True,
            archive=False,
            tags=["a"],
            rollout_percentage=25,
            evaluation_mode="local",
            bucketing_key="device_id",
            bucketing_salt="s",
            bucketing_unit="org id",
        ),
        "OK",
        "PATCH",
        "/12",
        {},
        {
            "name": "n",
            "description": "",
            "enabled": True,
            "archive": False,
            "tags": ["a"],
            "rolloutPercentage": 25,
            "evaluationMode": "local",
            "bucketingKey": "device_id",
            "bucketingSalt": "s",
            "bucketingUnit": "org id",
        },
        "OK",
    ),
    (
        "edit-segments-snake",
        lambda r: r.edit("12", target_segments=[SEGMENT_SNAKE]),
        "OK",
        "PATCH",
        "/12",
        {},
        {"targetSegments": [SEGMENT_WIRE]},
        "OK",
    ),
    (
        "edit-segments-camel",
        lambda r: r.edit("12", targetSegments=[SEGMENT_WIRE]),
        "OK",
        "PATCH",
        "/12",
        {},
        {"targetSegments": [SEGMENT_WIRE]},
        "OK",
    ),
    (
        "edit-clear-segments",
        lambda r: r.edit("12", target_segments=[]),
        "OK",
        "PATCH",
        "/12",
        {},
        {"targetSegments": []},
        "OK",
    ),
    (
        "create",
        lambda r: r.create(
            "9",
            "new-key",
            name="New",
            description="d",
            variants=[{"key": "on", "payload": {"x": 1}}, "off"],
            rollout_weights={"on": 1, "off": 0},
            target_segments=[SEGMENT_SNAKE],
            deployments=["7"],
            evaluation_mode="remote",
            bucketing_key="amplitude_id",
        ),
        {"id": 42, "url": "http://experiment.amplitude.com/amplitude/9/config/42"},
        "POST",
        "",
        {},
        {
            "projectId": "9",
            "key": "new-key",
            "name": "New",
            "description": "d",
            "variants": [{"key": "on", "payload": {"x": 1}}, {"key": "off"}],
            "rolloutWeights": {"on": 1, "off": 0},
            "targetSegments": [SEGMENT_WIRE],
            "deployments": ["7"],
            "evaluationMode": "remote",
            "bucketingKey": "amplitude_id",
        },
        {"id": "42", "url": "http://experiment.amplitude.com/amplitude/9/config/42"},
    ),
    (
        "create-min",
        lambda r: r.create(9, "k"),
        {"id": "1", "url": "u"},
        "POST",
        "",
        {},
        {"projectId": "9", "key": "k"},
        {"id": "1", "url": "u"},
    ),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("call", "reply", "method", "suffix", "query", "body", "expected"),
    [c[1:] for c in CONFIG_CASES],
    ids=[c[0] for c in CONFIG_CASES],
)
def test_config_endpoint_on_the_wire(
    client: Client, double: DoubleAdapter, kind, call, reply, method, suffix, query, body, expected
):
    double.reply(Reply(200, reply))
    result = call(getattr(client, kind))
    assert len(double.calls) == 1
    sent = double.calls[0]
    assert (sent.method, sent.path) == (method, f"/api/1/{kind}{suffix}")
    assert sent.query == query
    assert sent.body == body
    assert result == expected
    if body is not None:
        assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["Accept"] == "application/json"


def test_flags_and_experiments_share_one_class(client: Client):
    assert type(client.flags) is type(client.experiments)
    assert (client.flags.kind, client.experiments.kind) == ("flags", "experiments")


@pytest.mark.parametrize("kind", KINDS)
def test_list_sends_filters_and_limit(client: Client, double: DoubleAdapter, kind):
    double.reply(Reply(200, {kind: [{"id": "1"}], "nextCursor": None}))
    assert client.__getattribute__(kind).list(project_id="9", key="k", include_archived=True) == [
        {"id": "1"}
    ]
    sent = double.calls[0]
    assert (sent.method, sent.path) == ("GET", f"/api/1/{kind}")
    assert sent.query == {
        "projectId": ["9"],
        "key": ["k"],
        "includeArchived": ["true"],
        "limit": ["1000"],
    }


@pytest.mark.parametrize("kind", KINDS)
def test_iter_is_lazy(client: Client, double: DoubleAdapter, kind):
    double.reply(Reply(200, {kind: [{"id": "1"}, {"id": "2"}], "nextCursor": "2"}))
    it = getattr(client, kind).iter()
    assert double.calls == []
    assert next(it) == {"id": "1"}
    assert len(double.calls) == 1


def test_experiment_only_edit_fields(client: Client, double: DoubleAdapter):
    exposure = {
        "event_type": "_active",
        "filters": [
            {
                "group_type": "User",
                "subprop_key": "amplitude_day_of_week",
                "subprop_op": "is",
                "subprop_type": "day_time_prop",
                "subprop_value": ["Tuesday"],
            }
        ],
    }
    client.experiments.edit(
        "5",
        experiment_type="multi-arm-bandit",
        sticky_bucketing=True,
        start_date=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        end_date=None,
        exposure_event=exposure,
        decision="rollout",
        decision_reason="won",
        rolled_out_variant="treatment",
    )
    assert double.calls[0].body == {
        "experimentType": "multi-arm-bandit",
        "stickyBucketing": True,
        "startDate": "2026-01-02T03:04:05.678Z",
        "endDate": None,
        # the API spells the exposure event in snake_case: sent as given
        "exposureEvent": exposure,
        "decision": "rollout",
        "decisionReason": "won",
        "rolledOutVariant": "treatment",
    }


def test_experiment_dates_accept_date_and_iso_strings(client: Client, double: DoubleAdapter):
    client.experiments.edit("5", start_date=date(2026, 3, 1), end_date="2026-04-01T00:00:00Z")
    assert double.calls[0].body == {"startDate": "2026-03-01", "endDate": "2026-04-01T00:00:00Z"}


def test_experiment_create_takes_experiment_type(client: Client, double: DoubleAdapter):
    double.reply(Reply(200, {"id": "3", "url": "u"}))
    client.experiments.create("9", "exp", experiment_type="a-b-test")
    assert double.calls[0].body == {"projectId": "9", "key": "exp", "experimentType": "a-b-test"}


@pytest.mark.parametrize("field", ["decision", "experiment_type", "start_date", "exposure_event"])
def test_flags_refuse_experiment_only_fields(client: Client, double: DoubleAdapter, field):
    with pytest.raises(ValidationError) as info:
        client.flags.edit("5", **{field: "x"})
    assert info.value.field == field
    assert "rollout_percentage" in str(info.value)  # names the allowed fields
    assert double.calls == []


def _route(users: list[str]) -> Callable[[Call], Reply]:
    def handler(call: Call) -> Reply:
        if call.method == "GET":
            return Reply(200, users)
        return Reply(200, "OK")

    return handler


def test_remove_user_at_checks_expected_user(client: Client, double: DoubleAdapter):
    double.default = _route(["a", "b", "c"])
    client.flags.remove_user_at("1", "on", 1, expected="b")
    assert [(c.method, c.path) for c in double.calls] == [
        ("GET", "/api/1/flags/1/variants/on/users"),
        ("DELETE", "/api/1/flags/1/variants/on/users/1"),
    ]


def test_remove_user_at_refuses_when_index_moved(client: Client, double: DoubleAdapter):
    double.default = _route(["a", "c", "b"])
    with pytest.raises(ValidationError) as info:
        client.flags.remove_user_at("1", "on", 1, expected="b")
    assert info.value.field == "index"
    assert "'b'" in str(info.value) and "index 2" in str(info.value)
    assert [c.method for c in double.calls] == ["GET"]


def test_remove_user_at_refuses_past_the_end(client: Client, double: DoubleAdapter):
    double.default = _route(["a"])
    with pytest.raises(ValidationError, match="not included"):
        client.experiments.remove_user_at("1", "on", 5, expected="b")
    assert [c.method for c in double.calls] == ["GET"]


@pytest.mark.parametrize("index", [-1, 1.0, "2", True])
def test_remove_user_at_needs_a_non_negative_int(client: Client, double: DoubleAdapter, index):
    with pytest.raises(ValidationError) as info:
        client.flags.remove_user_at("1", "on", index)
    assert info.value.field == "index"
    assert double.calls == []


@pytest.mark.parametrize(
    ("method", "endpoint"),
    [("remove_users", "bulk-delete-users"), ("remove_cohorts", "bulk-delete-cohorts")],
)
def test_bulk_removal_chunks_by_100(client: Client, double: DoubleAdapter, method, endpoint):
    ids = [f"u{i}" for i in range(250)]
    getattr(client.flags, method)("1", "on", ids)
    assert [len(c.body["users"]) for c in double.calls] == [100, 100, 50]
    assert [u for c in double.calls for u in c.body["users"]] == ids
    assert {(c.method, c.path) for c in double.calls} == {
        ("DELETE", f"/api/1/flags/1/variants/on/{endpoint}")
    }


def test_bulk_removal_reports_what_was_removed_when_a_later_chunk_fails(
    client: Client, double: DoubleAdapter
):
    ids = [f"user{i}@example.com" for i in range(250)]
    double.reply(Reply(200, "OK"), Reply(404, "variant not found"))
    with pytest.raises(NotFoundError) as info:
        client.flags.remove_users("1", "on", ids)
    err = info.value
    assert err.removed == ids[:100]
    assert err.not_removed == ids[100:]
    assert "100 of 250 users were already removed" in str(err)
    assert "'user0@example.com'" in str(err)
    assert len(double.calls) == 2


def test_bulk_removal_first_chunk_failure_removed_nothing(client: Client, double: DoubleAdapter):
    double.reply(Reply(400, "bad"))
    with pytest.raises(Exception) as info:
        client.experiments.remove_cohorts("1", "on", ["c1", "c2"])
    assert info.value.removed == []
    assert info.value.not_removed == ["c1", "c2"]
    assert "already removed" not in str(info.value)


def test_bulk_removal_later_server_error_after_retries(client: Client, double: DoubleAdapter):
    ids = [str(i) for i in range(150)]
    double.reply(Reply(200, "OK"), *[Reply(503, "down")] * 10)
    with pytest.raises(ServerError) as info:
        client.flags.remove_users("1", "on", ids)
    assert info.value.removed == ids[:100]
    assert info.value.attempts == 6


def test_add_tags_reads_then_writes_the_merged_list(client: Client, double: DoubleAdapter):
    double.reply(Reply(200, {"id": "1", "tags": ["a", "b"]}))
    assert client.flags.add_tags("1", ["c", "a", "c"]) == ["a", "b", "c"]
    assert [(c.method, c.body) for c in double.calls] == [
        ("GET", None),
        ("PATCH", {"tags": ["a", "b", "c"]}),
    ]


def test_add_tags_without_change_writes_nothing(client: Client, double: DoubleAdapter):
    double.reply(Reply(200, {"id": "1", "tags": ["a"]}))
    assert client.experiments.add_tags("1", ["a"]) == ["a"]
    assert [c.method for c in double.calls] == ["GET"]


def test_remove_tags_keeps_the_others(client: Client, double: DoubleAdapter):
    double.reply(Reply(200, {"id": "1", "tags": ["a", "b", "c"]}))
    assert client.flags.remove_tags("1", ["b", "zzz"]) == ["a", "c"]
    assert double.calls[1].body == {"tags": ["a", "c"]}


def test_deployments_resource(client: Client, double: DoubleAdapter):
    double.reply(
        Reply(200, {"deployments": [{"id": 1, "deleted": True}]}),
        Reply(200, {"id": 77}),
        Reply(200, "OK"),
    )
    assert client.deployments.list() == [{"id": 1, "deleted": True}]
    assert client.deployments.create("9", "web_prod-2", "client") == {"id": "77"}
    assert client.deployments.edit("77", label="web", archive=True) == "OK"
    assert [(c.method, c.path, c.query, c.body) for c in double.calls] == [
        ("GET", "/api/1/deployments", {"limit": ["1000"]}, None),
        (
            "POST",
            "/api/1/deployments",
            {},
            {"projectId": "9", "label": "web_prod-2", "type": "client"},
        ),
        ("PATCH", "/api/1/deployments/77", {}, {"label": "web", "archive": True}),
    ]


def test_versions_resource_with_time_window(client: Client, double: DoubleAdapter):
    double.reply(
        Reply(200, {"versions": [{"version": 3}], "nextCursor": 3003}), Reply(200, {"versions": []})
    )
    out = client.versions.list(start=datetime(2026, 1, 1), end="2026-02-01T00:00:00Z")
    assert out == [{"version": 3}]
    first, second = double.calls
    assert (first.method, first.path) == ("GET", "/api/1/versions")
    assert first.query == {
        "start": ["2026-01-01T00:00:00.000Z"],
        "end": ["2026-02-01T00:00:00Z"],
        "limit": ["1000"],
    }
    assert second.query["cursor"] == ["3003"]


def test_versions_start_after_end_is_refused(client: Client, double: DoubleAdapter):
    with pytest.raises(ValidationError) as info:
        client.versions.list(start="2026-03-01", end=datetime(2026, 1, 1, tzinfo=UTC))
    assert info.value.field == "start"
    assert double.calls == []


def test_versions_bad_timestamp_is_refused(client: Client, double: DoubleAdapter):
    with pytest.raises(ValidationError) as info:
        client.versions.list(start="last tuesday")
    assert info.value.field == "start"
    assert double.calls == []


def test_mutexes_resource(client: Client, double: DoubleAdapter):
    double.reply(
        Reply(200, {"mutexes": [{"id": "m1"}], "nextCursor": None}),
        Reply(200, {"id": "m1", "slots": []}),
        Reply(200, ""),
        Reply(200, "OK"),
        Reply(
            200,
            {
                "id": 5,
                "url": "http://experiment.amplitude.com/amplitude/experiments/grouped-experiments",
            },
        ),
    )
    assert client.mutexes.list() == [{"id": "m1"}]
    assert client.mutexes.get("m1") == {"id": "m1", "slots": []}
    assert client.mutexes.edit("m1", name="M", description="", archive=False) is None
    client.mutexes.edit_slot("m1", 2, experiments=["123", 4], holdouts=[456], individuals=["u"])
    created = client.mutexes.create(
        "217854",
        "Checkout tests",
        [{"percentage": 40, "experiments": ["1"]}, {"percentage": 60}],
        key="checkout",
        evaluation_mode="local",
        bucketing_key="device_id",
        bucketing_salt="salt",
    )
    assert created["id"] == "5"
    assert [(c.method, c.path, c.body) for c in double.calls] == [
        ("GET", "/api/1/mutexes", None),
        ("GET", "/api/1/mutexes/m1", None),
        ("PATCH", "/api/1/mutexes/m1", {"name": "M", "description": "", "archive": False}),
        (
            "PATCH",
            "/api/1/mutexes/m1/slots/2",
            {"experiments": [123, 4], "holdouts": [456], "individuals": ["u"]},
        ),
        (
            "POST",
            "/api/1/mutexes",
            {
                "projectId": 217854,
                "name": "Checkout tests",
                "slots": [{"percentage": 40, "experiments": [1]}, {"percentage": 60}],
                "key": "checkout",
                "bucketingKey": "device_id",
                "bucketingSalt": "salt",
                "evaluationMode": "local",
            },
        ),
    ]


def test_holdouts_resource(client: Client, double: DoubleAdapter):
    double.reply(
        Reply(200, {"holdouts": [{"id": "h1"}]}),
        Reply(200, {"id": "h1"}),
        Reply(200, "OK"),
        Reply(200, {"id": "9", "url": "u"}),
    )
    assert client.holdouts.list() == [{"id": "h1"}]
    assert client.holdouts.get("h1") == {"id": "h1"}
    client.holdouts.edit(
        "h1",
        name="H",
        experiments=[1, "2"],
        individual_inclusion=["a"],
        individual_exclusion=["b"],
        archive=True,
    )
    assert client.holdouts.create("12", "H", 5, experiments=["3"], evaluation_mode="remote") == {
        "id": "9",
        "url": "u",
    }
    assert [(c.method, c.path, c.body) for c in double.calls] == [
        ("GET", "/api/1/holdouts", None),
        ("GET", "/api/1/holdouts/h1", None),
        (
            "PATCH",
            "/api/1/holdouts/h1",
            {
                "name": "H",
                "experiments": [1, 2],
                "individualInclusion": ["a"],
                "individualExclusion": ["b"],
                "archive": True,
            },
        ),
        (
            "POST",
            "/api/1/holdouts",
            {
                "projectId": 12,
                "name": "H",
                "holdoutPercentage": 5,
                "evaluationMode": "remote",
                "experiments": [3],
            },
        ),
    ]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.mutexes.create("1", "m", [{"percentage": 40}, {"percentage": 50}]),
        lambda c: c.mutexes.create("1", "m", [{"percentage": 0}, {"percentage": 100}]),
        lambda c: c.mutexes.create("1", "m", []),
        lambda c: c.mutexes.edit_slot("1", 0, experiments=[1]),
        lambda c: c.mutexes.edit_slot("1", 1),
        lambda c: c.mutexes.edit("1"),
        lambda c: c.holdouts.create("1", "h", 100),
        lambda c: c.holdouts.create("1", "h", 0),
        lambda c: c.holdouts.edit("1", experiments=["abc"]),
        lambda c: c.holdouts.edit("1"),
        lambda c: c.deployments.edit("1"),
    ],
)
def test_group_bodies_are_validated(client: Client, double: DoubleAdapter, call):
    with pytest.raises(ValidationError):
        call(client)
    assert double.calls == []

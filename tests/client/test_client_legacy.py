"""LegacyClient: every endpoint of the beta API (seed 000) on the wire."""

from __future__ import annotations

import pytest
from client_double import DoubleAdapter, Reply, make_session

from expkit import LegacyClient, ServerError, ValidationError

CASES = {
    "experiment": (lambda lc: lc.experiment("5"), {"id": "5"}, "GET", "/experiments/5", None),
    "experiment_versions": (
        lambda lc: lc.experiment_versions("5"),
        [],
        "GET",
        "/experiments/5/versions",
        None,
    ),
    "experiment_version": (
        lambda lc: lc.experiment_version("5", 2),
        {"version": 2},
        "GET",
        "/experiments/5/versions/2",
        None,
    ),
    "flag": (lambda lc: lc.flag("6"), {"id": "6"}, "GET", "/flags/6", None),
    "flag_versions": (lambda lc: lc.flag_versions("6"), [], "GET", "/flags/6/versions", None),
    "flag_version": (
        lambda lc: lc.flag_version("6", "1"),
        {"version": 1},
        "GET",
        "/flags/6/versions/1",
        None,
    ),
    "create_experiment": (
        lambda lc: lc.create_experiment(
            "9",
            "exp",
            name="Exp",
            description="d",
            variants=[{"key": "control"}, {"key": "treatment", "payload": "x"}],
            rollout_weights={"control": 1, "treatment": 1},
            target_segments=[
                {
                    "conditions": [
                        {"type": "property", "prop": "country", "op": "is", "values": ["US"]}
                    ]
                }
            ],
            deployments=["7"],
            experiment_type="no-harm",
            evaluation_mode="remote",
            sticky_bucketing=True,
            bucketing_key="device_id",
        ),
        {"id": "1", "key": "exp"},
        "POST",
        "/experiments/new",
        {
            "projectId": "9",
            "key": "exp",
            "variants": [{"key": "control"}, {"key": "treatment", "payload": "x"}],
            "name": "Exp",
            "description": "d",
            "rolloutWeights": {"control": 1, "treatment": 1},
            "targetSegments": [
                {
                    "conditions": [
                        {"type": "property", "prop": "country", "op": "is", "values": ["US"]}
                    ]
                }
            ],
            "deployments": ["7"],
            "experimentType": "no-harm",
            "evaluationMode": "remote",
            "stickyBucketing": True,
            "bucketingKey": "device_id",
        },
    ),
    "activate": (lambda lc: lc.activate("5"), "", "POST", "/experiments/5/activate", None),
    "deactivate": (lambda lc: lc.deactivate("5"), "", "POST", "/experiments/5/deactivate", None),
    "set_rollout_weights": (
        lambda lc: lc.set_rollout_weights("5", {"control": 1, "treatment": 3}),
        "",
        "POST",
        "/experiments/5/rollout-weights",
        {"rolloutWeights": {"control": 1, "treatment": 3}},
    ),
    "experiment variants": (
        lambda lc: lc.experiments.variants("5"),
        [],
        "GET",
        "/experiments/5/variants",
        None,
    ),
    "flag variant": (
        lambda lc: lc.flags.variant("6", "on"),
        {"key": "on"},
        "GET",
        "/flags/6/variants/on",
        None,
    ),
    "create variant": (
        lambda lc: lc.experiments.create_variant("5", "v3", payload={"a": 1}),
        "",
        "POST",
        "/experiments/5/variants",
        {"key": "v3", "payload": {"a": 1}},
    ),
    "edit variant": (
        lambda lc: lc.flags.edit_variant("6", "on", name="On"),
        "",
        "PATCH",
        "/flags/6/variants/on",
        {"name": "On"},
    ),
    "remove variant": (
        lambda lc: lc.flags.remove_variant("6", "on"),
        "",
        "DELETE",
        "/flags/6/variants/on",
        None,
    ),
    "users": (
        lambda lc: lc.experiments.users("5", "control"),
        ["u"],
        "GET",
        "/experiments/5/variants/control/users",
        None,
    ),
    "add users": (
        lambda lc: lc.experiments.add_users("5", "control", ["u"]),
        "",
        "POST",
        "/experiments/5/variants/control/users",
        {"inclusions": ["u"]},
    ),
    "remove user at": (
        lambda lc: lc.experiments.remove_user_at("5", "control", 0),
        "",
        "DELETE",
        "/experiments/5/variants/control/users/0",
        None,
    ),
    "remove all users": (
        lambda lc: lc.flags.remove_all_users("6", "on"),
        "",
        "DELETE",
        "/flags/6/variants/on/users",
        None,
    ),
}


@pytest.mark.parametrize(
    ("call", "reply", "method", "path", "body"), CASES.values(), ids=CASES.keys()
)
def test_legacy_endpoint_on_the_wire(
    legacy: LegacyClient, double: DoubleAdapter, call, reply, method, path, body
):
    double.reply(Reply(200, reply))
    call(legacy)
    sent = double.calls[0]
    assert (sent.method, sent.path, sent.body) == (method, path, body)
    assert "/api/1" not in sent.path


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("list_experiments", "/experiments/list", "experiments"),
        ("list_flags", "/flags/list", "flags"),
        ("list_deployments", "/deployments/list", "deployments"),
    ],
)
def test_legacy_lists_follow_the_cursor(
    legacy: LegacyClient, double: DoubleAdapter, method, path, key
):
    double.reply(
        Reply(200, {key: [{"id": "1"}], "nextCursor": 1}),
        Reply(200, {key: [{"id": "2"}], "nextCursor": None}),
    )
    assert getattr(legacy, method)() == [{"id": "1"}, {"id": "2"}]
    assert [(c.path, c.query) for c in double.calls] == [
        (path, {"limit": ["1000"]}),
        (path, {"limit": ["1000"], "cursor": ["1"]}),
    ]


def test_legacy_has_no_current_only_endpoints(legacy: LegacyClient):
    for name in ("remove_users", "cohorts", "add_cohorts", "edit", "create"):
        assert not hasattr(legacy.flags, name)


def test_legacy_create_is_not_retried(legacy: LegacyClient, double: DoubleAdapter):
    double.default = lambda c: Reply(503)
    with pytest.raises(ServerError):
        legacy.create_experiment("9", "k")
    assert len(double.calls) == 1


def test_legacy_activate_is_retried(legacy: LegacyClient, double: DoubleAdapter):
    double.reply(Reply(503), Reply(200, ""))
    legacy.activate("5")
    assert len(double.calls) == 2


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda lc: lc.create_experiment("9", "k", experiment_type="a-b-test"), "experiment_type"),
        (lambda lc: lc.create_experiment("9", "k", tags=["x"]), "tags"),
        (
            lambda lc: lc.create_experiment(
                "9",
                "k",
                target_segments=[
                    {
                        "conditions": [
                            {"type": "property", "prop": "p", "op": "set is", "values": []}
                        ]
                    }
                ],
            ),
            "target_segments[0].conditions[0].op",
        ),
        (lambda lc: lc.set_rollout_weights("5", {"control": -1}), "weights['control']"),
        (lambda lc: lc.set_rollout_weights("5", {}), "weights"),
        (
            lambda lc: lc.create_experiment("9", "k", variants=["a"], rollout_weights={"b": 1}),
            "rollout_weights['b']",
        ),
    ],
)
def test_legacy_validation(legacy: LegacyClient, double: DoubleAdapter, call, field):
    with pytest.raises(ValidationError) as info:
        call(legacy)
    assert info.value.field == field
    assert double.calls == []


def test_legacy_repr_hides_the_key(legacy: LegacyClient):
    assert repr(legacy) == "LegacyClient(base_url='https://api.example.test', region='us')"


def test_legacy_region_defaults_to_us_whatever_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AMPLITUDE_REGION", "eu")
    legacy = LegacyClient("k")
    assert legacy.region == "us"
    assert legacy.base_url == "https://management-api.experiment.amplitude.com"
    eu = LegacyClient("k", region="eu")
    assert eu.base_url == "https://management-api.experiment.eu.amplitude.com"


def test_legacy_takes_the_client_options_and_rejects_others(double: DoubleAdapter):
    with LegacyClient(
        "k", base_url="http://127.0.0.1:9", session=make_session(double), max_retries=0
    ) as legacy:
        double.reply(Reply(503, {"error": "down"}))
        with pytest.raises(ServerError):
            legacy.flag("1")
        assert legacy.request_count == 1
    with pytest.raises(TypeError, match="retries"):
        LegacyClient("k", retries=3)

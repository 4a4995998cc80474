"""Build, then send: builder twins return the Request a method sends; one Settings value;
one rule for a rollout weight; DNS and certificate failures fail at once."""

from __future__ import annotations

import dataclasses
import math
import socket
import ssl

import pytest
import requests
from client_double import API_KEY, BASE, DoubleAdapter, Reply, make_session
from urllib3.exceptions import MaxRetryError, NameResolutionError

import expkit
from expkit import Client, LegacyClient, Settings, TransportError, ValidationError
from expkit._request import ClientLike, Request
from expkit._validate import whole_weight
from expkit.edits._core import Target

# builders ------------------------------------------------------------------------------------


def test_a_builder_returns_the_request_and_sends_nothing(client: Client, double: DoubleAdapter):
    request = client.flags.build.edit_variant("1", "on", rollout_weight=2)
    assert double.calls == []
    assert request == Request("PATCH", "/api/1/flags/1/variants/on", {"rolloutWeight": 2})
    assert str(request) == 'PATCH /api/1/flags/1/variants/on {"rolloutWeight": 2}'
    assert request.to_dict() == {
        "method": "PATCH",
        "path": "/api/1/flags/1/variants/on",
        "body": {"rolloutWeight": 2},
    }
    client.send(request)
    (call,) = double.calls
    assert (call.method, call.path, call.body) == (request.method, request.path, request.body)


def test_the_method_sends_exactly_what_its_builder_builds(client: Client, double: DoubleAdapter):
    cases = [
        (lambda r: r.edit("1", rollout_percentage=30, enabled=True), "edit"),
        (lambda r: r.add_users("1", "on", ["u1", "u2"]), "add_users"),
        (lambda r: r.add_cohorts("1", "on", ["c1"]), "add_cohorts"),
        (lambda r: r.add_deployments("1", ["7"]), "add_deployments"),
        (lambda r: r.remove_all_users("1", "on"), "remove_all_users"),
    ]
    for call, name in cases:
        double.calls.clear()
        built = call(client.experiments.build)
        call(client.experiments)
        (sent,) = double.calls
        assert (sent.method, sent.path, sent.body) == (built.method, built.path, built.body), name


def test_bulk_removal_builds_one_request_per_hundred(client: Client):
    users = [f"u{i}" for i in range(250)]
    chunks = client.flags.build.remove_users("1", "on", users)
    assert [len(r.body["users"]) for r in chunks] == [100, 100, 50]
    assert {r.path for r in chunks} == {"/api/1/flags/1/variants/on/bulk-delete-users"}


def test_builders_carry_the_retry_policy(client: Client):
    assert client.flags.build.create("9", "k").retry is False
    assert client.flags.build.remove_variant("1", "on").retry is False
    assert client.flags.build.edit_variant("1", "on", key="renamed").retry is False
    assert client.flags.build.edit_variant("1", "on", key="on", name="On").retry is True
    assert client.deployments.build.create("9", "web", "client").retry is False
    assert client.mutexes.build.edit("7", name="m") == Request(
        "PATCH", "/api/1/mutexes/7", {"name": "m"}
    )
    assert client.holdouts.build.create("9", "h", 5).path == "/api/1/holdouts"


def test_builders_validate_before_anything_is_sent(client: Client, double: DoubleAdapter):
    with pytest.raises(ValidationError) as info:
        client.flags.build.edit("1", rollout_percentage=150)
    assert info.value.field == "rollout_percentage"
    assert double.calls == []


def test_legacy_builders(legacy: LegacyClient, double: DoubleAdapter):
    request = legacy.build.set_rollout_weights("5", {"control": 1, "treatment": 3.0})
    assert request == Request(
        "POST", "/experiments/5/rollout-weights", {"rolloutWeights": {"control": 1, "treatment": 3}}
    )
    assert legacy.build.activate("5") == Request("POST", "/experiments/5/activate")
    assert legacy.flags.build.add_users("1", "on", ["u"]).path == "/flags/1/variants/on/users"


def test_edits_request_is_the_request_model():
    assert expkit.edits.Request is Request
    request = Request("get", "/api/1/flags", params={"limit": 2, "includeArchived": True})
    assert request.method == "GET"
    assert str(request) == "GET /api/1/flags?limit=2&includeArchived=true"
    assert request.to_dict()["params"] == {"limit": 2, "includeArchived": True}
    assert hash(request) == hash(
        Request("GET", "/api/1/flags", None, {"limit": 2, "includeArchived": True})
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.path = "/x"  # type: ignore[misc]


def test_edit_plan_steps_show_and_send_the_builders_requests(client: Client, double: DoubleAdapter):
    target = Target(client, "1", "flags")
    step = target.edit_variant("on", rollout_weight=3)
    assert step.request == client.flags.build.edit_variant("1", "on", rollout_weight=3)
    step.send()
    (sent,) = double.calls
    assert (sent.method, sent.path, sent.body) == (
        "PATCH",
        "/api/1/flags/1/variants/on",
        {"rolloutWeight": 3},
    )
    remove = target.remove("on", "cohorts", ["c1"])
    assert remove.request.path == "/api/1/flags/1/variants/on/bulk-delete-cohorts"
    assert remove.request.body == {"users": ["c1"]}


def test_legacy_plan_steps_use_the_legacy_builders(legacy: LegacyClient, double: DoubleAdapter):
    target = Target(legacy, "5", "experiments")
    step = target.set_rollout_weights({"control": 1, "treatment": 1})
    assert step.request.path == "/experiments/5/rollout-weights"
    step.send()
    assert double.calls[0].path == "/experiments/5/rollout-weights"
    assert target.set_active(False).request == Request("POST", "/experiments/5/deactivate")


def test_clients_satisfy_the_client_protocol(client: Client, legacy: LegacyClient):
    assert isinstance(client, ClientLike)
    assert isinstance(legacy, ClientLike)


# one rule for a rollout weight ---------------------------------------------------------------


REFUSED = [1.5, -1, True, "2", math.nan, math.inf, None]
ACCEPTED = [(0, 0), (3, 3), (3.0, 3)]


@pytest.mark.parametrize("weight", REFUSED[:-1])
def test_edit_variant_refuses_a_weight_the_plans_refuse(
    client: Client, double: DoubleAdapter, weight
):
    assert whole_weight(weight) is None  # the rule edit plans apply (RolloutEdit)
    with pytest.raises(ValidationError) as info:
        client.flags.edit_variant("1", "on", rollout_weight=weight)
    assert info.value.field == "rollout_weight"
    assert "whole number" in str(info.value)
    assert double.calls == []


@pytest.mark.parametrize(("weight", "sent"), ACCEPTED)
def test_edit_variant_sends_whole_weights_as_integers(
    client: Client, double: DoubleAdapter, weight, sent
):
    assert whole_weight(weight) == sent
    client.flags.edit_variant("1", "on", rollout_weight=weight)
    assert double.calls[0].body == {"rolloutWeight": sent}
    assert type(double.calls[0].body["rolloutWeight"]) is int


def test_legacy_rollout_weights_follow_the_same_rule(legacy: LegacyClient, double: DoubleAdapter):
    with pytest.raises(ValidationError):
        legacy.set_rollout_weights("5", {"control": 1.5})
    assert double.calls == []


# settings ------------------------------------------------------------------------------------


def test_one_settings_value_is_passed_down_whole(double: DoubleAdapter):
    settings = Settings(timeout=5.0, max_retries=2, rate_limit=None, max_pages=50)
    client = Client(API_KEY, base_url=BASE, session=make_session(double), settings=settings)
    assert client.settings is settings
    assert client.http.settings is settings
    double.reply(Reply(200, {"id": "1"}))
    client.flags.get("1")
    assert double.calls[0].timeout == 5.0


def test_keyword_options_override_single_settings(double: DoubleAdapter):
    settings = Settings(timeout=5.0, max_retries=2)
    client = Client(
        API_KEY, base_url=BASE, session=make_session(double), settings=settings, max_retries=4
    )
    assert (client.settings.timeout, client.settings.max_retries) == (5.0, 4)
    assert Client(API_KEY, base_url=BASE).settings == Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.timeout = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("timeout", 0),
        ("max_retries", -1),
        ("backoff_factor", -1),
        ("max_retry_time", math.inf),
        ("rate_limit", 0),
        ("max_pages", 0),
    ],
)
def test_a_bad_setting_is_named(name, bad):
    with pytest.raises(ValidationError) as info:
        Client(API_KEY, base_url=BASE, settings=Settings(**{name: bad}))
    assert info.value.field == name
    with pytest.raises(ValidationError):
        Client(API_KEY, base_url=BASE, **{name: bad})


# failures a retry cannot fix -----------------------------------------------------------------


def _dns_failure(call) -> requests.ConnectionError:
    # what requests raises when the name does not resolve (urllib3 2.x)
    reason = NameResolutionError(
        "api.example.test", None, socket.gaierror(-2, "Name or service not known")
    )
    return requests.ConnectionError(MaxRetryError(None, BASE + call.path, reason))


def _certificate_failure(call) -> requests.exceptions.SSLError:
    inner = ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed certificate")
    return requests.exceptions.SSLError(MaxRetryError(None, BASE + call.path, inner))


@pytest.mark.parametrize(
    ("failure", "words"),
    [(_dns_failure, "cannot resolve the host name"), (_certificate_failure, "TLS certificate")],
    ids=["dns", "certificate"],
)
def test_dns_and_certificate_failures_fail_at_once_in_one_line(
    double: DoubleAdapter, failure, words
):
    client = Client(
        API_KEY, base_url=BASE, session=make_session(double), max_retries=5, rate_limit=None
    )
    double.default = failure
    with pytest.raises(TransportError) as info:
        client.flags.get("1")
    message = str(info.value)
    assert len(double.calls) == 1  # no retries
    assert words in message and "'api.example.test'" in message
    assert "\n" not in message and "…" not in message and "object at 0x" not in message
    assert "not retried" in message


def test_a_real_unresolvable_host_fails_at_once():
    # .invalid never resolves (RFC 6761); with or without a network the lookup fails
    client = Client(API_KEY, base_url="https://expkit-test.invalid", max_retries=5)
    with pytest.raises(TransportError) as info:
        client.flags.get("1")
    assert client.request_count == 1
    assert "expkit-test.invalid" in str(info.value)

"""Error mapping (one class per status) and keeping the API key out of every output."""

from __future__ import annotations

import logging
import pickle
import warnings

import pytest
import requests
from client_double import API_KEY, BASE, DoubleAdapter, Reply, make_session

from expkit import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    Client,
    ExpkitError,
    LegacyClient,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)


@pytest.mark.parametrize(
    ("status", "cls", "hint"),
    [
        (400, BadRequestError, "names the field"),
        (401, AuthenticationError, "AMPLITUDE_MANAGEMENT_API_KEY"),
        (403, PermissionDeniedError, "scope"),
        (404, NotFoundError, "check the id"),
        (429, RateLimitError, "rate limit"),
        (500, ServerError, "server failed"),
        (503, ServerError, "server failed"),
        (405, ApiError, "Web Experimentation"),
        (409, ApiError, None),
        (302, ApiError, "does not redirect"),
    ],
)
def test_status_maps_to_one_error_class(double: DoubleAdapter, status, cls, hint):
    client = Client(
        API_KEY, base_url=BASE, session=make_session(double), rate_limit=None, max_retries=0
    )
    double.default = lambda call: Reply(
        status, '{"error": "flagConfig.name is required"}', {"X-Request-Id": "req-9"}
    )
    with pytest.raises(ApiError) as info:
        client.flags.edit("12", name="x")
    err = info.value
    assert type(err) is cls
    assert isinstance(err, ExpkitError)
    assert (err.status_code, err.method, err.request_id) == (status, "PATCH", "req-9")
    assert err.url == f"{BASE}/api/1/flags/12"
    text = str(err)
    assert text.startswith(f"PATCH {BASE}/api/1/flags/12 returned {status}")
    assert "flagConfig.name is required" in text  # the server's text
    if hint:
        assert "HINT:" in text and hint in text
    assert err.body == '{"error": "flagConfig.name is required"}'


def test_401_hint_names_key_and_region(client: Client, double: DoubleAdapter):
    double.reply(Reply(401, "Invalid API key"))
    with pytest.raises(AuthenticationError) as info:
        client.flags.list()
    assert "AMPLITUDE_REGION" in str(info.value)


def test_transport_error_is_not_an_api_error(client: Client, double: DoubleAdapter):
    double.default = lambda c: requests.ConnectionError("refused")
    client.http.max_retries = 0
    with pytest.raises(TransportError) as info:
        client.http.request("GET", "/api/1/flags", retry=False)
    assert not isinstance(info.value, ApiError)
    assert isinstance(info.value, ExpkitError)


def test_validation_error_is_a_value_error():
    assert issubclass(ValidationError, ValueError)
    assert issubclass(ValidationError, ExpkitError)


def test_missing_key_fails_on_the_first_request_saying_where_to_set_it(double: DoubleAdapter):
    client = Client(base_url=BASE, session=make_session(double))
    assert "Client(" in repr(client)  # constructing works without a key
    with pytest.raises(ValidationError) as info:
        client.flags.list()
    err = info.value
    assert err.field == "api_key"
    assert "AMPLITUDE_MANAGEMENT_API_KEY" in str(err)
    assert "api_key=" in str(err)
    assert double.calls == []


def test_missing_key_on_the_legacy_client(double: DoubleAdapter):
    legacy = LegacyClient(base_url=BASE, session=make_session(double))
    with pytest.raises(ValidationError, match="AMPLITUDE_MANAGEMENT_API_KEY"):
        legacy.list_flags()
    assert double.calls == []


def test_key_from_the_environment(monkeypatch: pytest.MonkeyPatch, double: DoubleAdapter):
    monkeypatch.setenv("AMPLITUDE_MANAGEMENT_API_KEY", "env-key-123")
    client = Client(base_url=BASE, session=make_session(double), rate_limit=None)
    client.flags.remove_all_users("1", "on")
    assert double.calls[0].headers["Authorization"] == "Bearer env-key-123"


def test_non_string_key_is_refused_without_echoing_it():
    with pytest.raises(ValidationError) as info:
        Client(api_key=12345678)
    assert "12345678" not in str(info.value)


# the key never leaks ---------------------------------------------------------------------


def test_key_absent_from_reprs(client: Client):
    for obj in (client, client.http, client.flags, client.deployments, client.http.session):
        assert API_KEY not in repr(obj)
        assert API_KEY not in str(obj)
    assert repr(client) == f"Client(base_url='{BASE}', region=None)"
    assert API_KEY not in repr(vars(client.http))
    assert API_KEY not in repr(client.http.session.headers)


def test_key_absent_from_errors_even_when_the_server_echoes_it(
    client: Client, double: DoubleAdapter
):
    double.default = lambda call: Reply(401, f"invalid key {API_KEY}")
    with pytest.raises(AuthenticationError) as info:
        client.flags.get("1")
    assert API_KEY not in str(info.value)
    assert API_KEY not in info.value.body
    assert API_KEY not in repr(info.value)
    assert "<redacted>" in str(info.value)


def test_key_absent_from_transport_errors(client: Client, double: DoubleAdapter):
    double.default = lambda call: requests.ConnectionError(f"proxy said Bearer {API_KEY}")
    with pytest.raises(TransportError) as info:
        client.flags.create("1", "k")
    assert API_KEY not in str(info.value)


def test_key_absent_from_logs_and_warnings(double: DoubleAdapter, caplog: pytest.LogCaptureFixture):
    client = Client(
        API_KEY,
        base_url=BASE,
        session=make_session(double),
        rate_limit=1000,
        backoff_factor=0.001,
        max_retries=2,
    )
    double.reply(
        Reply(503, "down"),
        requests.ConnectionError("refused"),
        Reply(200, {"flags": [], "nextCursor": "1"}),
        Reply(200, {"flags": [], "nextCursor": "1"}),
    )
    double.default = lambda call: Reply(401, "bad key")
    with caplog.at_level(logging.DEBUG), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(PaginationError) as repeated:
            client.flags.list()
        with pytest.raises(AuthenticationError):
            client.flags.get("1")
    assert API_KEY not in str(repeated.value)
    assert caplog.records  # the layer does log: retries, each request
    assert API_KEY not in caplog.text
    assert all(API_KEY not in str(w.message) for w in caught)


def test_the_key_holder_cannot_be_pickled(client: Client):
    with pytest.raises(TypeError):
        pickle.dumps(client.http._secret)

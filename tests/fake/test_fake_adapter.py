"""FakeAdapter and in_process: the fake on a requests session, no thread and no socket."""

from __future__ import annotations

import socket
import threading
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests

from expkit.errors import AuthenticationError, NotFoundError, ServerError, TransportError
from expkit.fake import FakeAdapter, FakeClock, FakeServer, State, in_process

DEMO = Path(__file__).resolve().parents[2] / "data" / "fixtures" / "demo"


def test_the_client_reads_and_writes_the_state_in_process(fake: FakeAdapter):
    client = fake.client(max_retries=0, rate_limit=None)
    assert [f["key"] for f in client.flags.list()] == ["checkout-v2"]
    assert client.flags.users("11", "treatment") == ["u1", "u2", "u3"]
    client.flags.edit("11", rollout_percentage=75)
    assert fake.state.get_config("flags", "11")["rolloutPercentage"] == 75
    created = client.flags.create("100", "new-flag")
    assert fake.state.get_config("flags", created["id"])["key"] == "new-flag"
    assert fake.request_log[0][:2] == ("GET", "/api/1/flags")
    assert fake.request_log[2] == ("PATCH", "/api/1/flags/11", {})
    assert [m for m, _, _ in fake.request_log] == ["GET", "GET", "PATCH", "POST"]
    assert fake.request_count == 4
    fake.reset_log()
    assert fake.request_log == []


def test_same_answers_as_the_real_server(org):
    with FakeServer(State.from_org(org, clock=FakeClock("2026-01-01T12:00:00Z"))) as server:
        over_http = server.client(max_retries=0)
        expected = (over_http.flags.list(include_archived=True), over_http.versions.list())
    client = FakeAdapter(State.from_org(org, clock=FakeClock("2026-01-01T12:00:00Z"))).client()
    assert (client.flags.list(include_archived=True), client.versions.list()) == expected


def test_responses_behave_as_in_production(fake: FakeAdapter):
    session = fake.session()
    url = f"{fake.url}/api/1/flags/11"
    reply = session.get(url, headers={"Authorization": f"Bearer {fake.api_key}"})
    assert reply.status_code == 200 and reply.ok
    assert reply.json()["key"] == "checkout-v2"
    assert reply.headers["content-type"] == "application/json"
    # the Date header carries the fake clock, as FakeServer's does
    assert parsedate_to_datetime(reply.headers["Date"]) == fake.state.clock.now()
    missing = session.get(f"{fake.url}/api/1/flags/999", headers=reply.request.headers)
    assert missing.status_code == 404 and "999" in missing.json()["message"]
    with pytest.raises(requests.HTTPError):
        missing.raise_for_status()
    ok = session.patch(url, json={"enabled": False}, headers=reply.request.headers)
    assert ok.text == "OK" and ok.headers["content-type"].startswith("text/plain")


def test_errors_map_to_the_client_exceptions(fake: FakeAdapter):
    with pytest.raises(AuthenticationError):
        fake.client(api_key="wrong-key", max_retries=0).flags.list()
    with pytest.raises(NotFoundError):
        fake.client(max_retries=0).flags.get("999")


def test_faults_work_in_process(fake: FakeAdapter):
    client = fake.client(max_retries=0, rate_limit=None)
    fake.faults(error_rate=1.0)
    with pytest.raises(ServerError) as info:
        client.flags.get("11")
    assert info.value.status_code in (502, 503, 504)
    fake.faults(drop_rate=1.0)
    with pytest.raises(TransportError):
        client.flags.get("11")
    fake.faults()
    assert client.flags.get("11")["key"] == "checkout-v2"
    assert fake.request_count == 3


def test_the_client_retries_through_injected_errors(fake: FakeAdapter):
    # seed 0 fails some of the first requests; retries (no backoff) get through
    client = fake.client(max_retries=10, backoff_factor=0, rate_limit=None)
    fake.faults(error_rate=0.5, seed=0)
    assert client.flags.get("11")["key"] == "checkout-v2"
    assert len(fake.request_log) >= 1
    assert all(entry[:2] == ("GET", "/api/1/flags/11") for entry in fake.request_log)


def test_no_thread_and_no_socket(fake: FakeAdapter, monkeypatch: pytest.MonkeyPatch):
    before = set(threading.enumerate())

    def no_socket(*args: object, **kwargs: object) -> None:
        raise AssertionError("the in-process adapter opened a socket")

    monkeypatch.setattr(socket, "socket", no_socket)
    monkeypatch.setattr(socket, "create_connection", no_socket)
    client = fake.client()
    assert client.flags.get("11")["id"] == "11"
    assert set(threading.enumerate()) == before


def test_in_process_from_a_state_an_org_or_fixtures(org):
    state = State.from_org(org)
    assert in_process(state).flags.get("11")["key"] == "checkout-v2"
    assert state.client().experiments.get("21")["key"] == "pricing-test"
    assert in_process(org).experiments.get("21")["key"] == "pricing-test"
    assert in_process().flags.list() == []
    demo = in_process(DEMO)
    assert len(demo.flags.list()) > 0
    assert demo.base_url == "https://fake.expkit.invalid"


def test_legacy_client_in_process(fake: FakeAdapter):
    legacy = fake.legacy_client(max_retries=0)
    assert {f["key"] for f in legacy.list_flags()} >= {"checkout-v2"}
    assert fake.request_log[-1][:2] == ("GET", "/flags/list")


def test_a_server_adapter_shares_state_log_and_key(state: State):
    server = FakeServer(state)  # never started: no socket is needed for the adapter
    adapter = server.adapter()
    assert adapter.state is server.state and adapter.api_key == server.api_key
    adapter.client().flags.get("11")
    assert server.request_log == adapter.request_log == [("GET", "/api/1/flags/11", {})]


def test_an_adapter_server_serves_the_same_state_over_http(fake: FakeAdapter):
    with fake.server() as server:
        assert server.api_key == fake.api_key and server.state is fake.state
        assert server.client(max_retries=0).flags.get("11")["key"] == "checkout-v2"
    fake.client().flags.get("12")
    assert [path for _, path, _ in fake.request_log] == ["/api/1/flags/11", "/api/1/flags/12"]


def test_adapter_arguments_are_checked(state: State):
    server = FakeServer(state)
    with pytest.raises(ValueError, match="dispatcher"):
        FakeAdapter(state, dispatcher=server._dispatcher)
    with pytest.raises(ValueError, match="dispatcher"):
        FakeServer(state, dispatcher=server._dispatcher)

"""FakeServer: lifecycle, request log, seeded faults, the key, keep-alive."""

from __future__ import annotations

import http.client
import time

import pytest
import requests

from expkit.errors import TransportError
from expkit.fake import FakeServer, Faults, State


def _outcomes(server: FakeServer, n: int) -> list[object]:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    out: list[object] = []
    for _ in range(n):
        try:
            # a fresh connection per request: a dropped one must not poison the next
            out.append(requests.get(f"{server.url}/api/1/flags/11", headers=headers).status_code)
        except requests.ConnectionError:
            out.append("drop")
    return out


def test_faults_are_reproducible_from_the_seed(org):
    with FakeServer(State.from_org(org)) as server:
        server.faults(error_rate=0.3, drop_rate=0.2, seed=3)
        first = _outcomes(server, 40)
        server.faults(error_rate=0.3, drop_rate=0.2, seed=3)
        again = _outcomes(server, 40)
        server.faults(error_rate=0.3, drop_rate=0.2, seed=4)
        other = _outcomes(server, 40)
        server.faults()
        clean = _outcomes(server, 5)
    assert first == again
    assert first != other
    assert "drop" in first and 200 in first
    assert {o for o in first if isinstance(o, int) and o >= 500} <= {502, 503, 504}
    assert any(isinstance(o, int) and o >= 500 for o in first)
    assert clean == [200] * 5


def test_rate_limit_is_a_sliding_one_second_window():
    faults = Faults(rate_limit=3)
    assert [faults.decide(t) for t in (0.0, 0.1, 0.2, 0.3, 0.9)] == [None, None, None, 429, 429]
    assert faults.decide(1.05) is None  # the request at 0.0 left the window
    assert faults.decide(1.06) == 429
    assert faults.decide(1.25) is None


def test_fault_arguments_are_checked():
    with pytest.raises(ValueError, match="error_rate"):
        Faults(error_rate=1.5)
    with pytest.raises(ValueError, match="rate_limit"):
        Faults(rate_limit=0)


def test_client_retries_through_injected_errors(server: FakeServer):
    server.faults(error_rate=0.5, seed=1)
    client = server.client(max_retries=8, rate_limit=None, backoff_factor=0.001, backoff_max=0.01)
    for _ in range(10):
        assert client.flags.get("11")["id"] == "11"
    assert server.request_count > 10
    assert client.request_count == server.request_count


def test_dropped_connection_is_a_transport_error(server: FakeServer):
    server.faults(drop_rate=1.0)
    client = server.client(max_retries=0, rate_limit=None)
    with pytest.raises(TransportError):
        client.flags.get("11")


def test_latency_is_added(server: FakeServer, monkeypatch: pytest.MonkeyPatch):
    # the fake's sleeps are recorded (and still slept), not timed: a loaded machine only
    # stretches them
    from expkit.fake import _dispatch

    slept: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(_dispatch.time, "sleep", sleep)
    server.faults(latency=0.05)
    client = server.client(max_retries=0, rate_limit=None)
    assert client.flags.get("11")["id"] == "11"
    assert slept.count(0.05) == 1


def test_request_log(server: FakeServer, client):
    server.reset_log()
    client.flags.list(key="checkout-v2")
    client.flags.get("11")
    assert server.request_log == [
        ("GET", "/api/1/flags", {"key": "checkout-v2", "limit": "1000"}),
        ("GET", "/api/1/flags/11", {}),
    ]
    assert server.request_count == 2
    server.reset_log()
    assert server.request_log == [] and server.request_count == 0


def test_lifecycle_and_key_handling(org):
    server = FakeServer(State.from_org(org))
    with pytest.raises(RuntimeError, match="start"):
        _ = server.url
    assert server.api_key.startswith("fake-") and not server.api_key.startswith("ampex_")
    assert server.api_key != FakeServer().api_key
    assert server.start() is server.start()  # idempotent
    url = server.url
    assert url.startswith("http://127.0.0.1:")
    assert server.api_key not in repr(server)
    session = requests.Session()
    headers = {"Authorization": f"Bearer {server.api_key}"}
    assert session.get(f"{url}/api/1/flags/11", headers=headers).status_code == 200
    server.stop()
    server.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(f"{url}/api/1/flags/11", headers=headers, timeout=2)


def test_keep_alive_reuses_one_connection(server: FakeServer):
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    headers = {"Authorization": f"Bearer {server.api_key}"}
    sockets = []
    for _ in range(3):
        conn.request("GET", "/api/1/flags/11", headers=headers)
        reply = conn.getresponse()
        assert reply.status == 200 and reply.read()
        sockets.append(conn.sock)
    conn.close()
    assert sockets[0] is not None and all(s is sockets[0] for s in sockets)


def test_api_key_option(org):
    with FakeServer(State.from_org(org), api_key="fake-fixed") as server:
        reply = requests.get(
            f"{server.url}/api/1/flags", headers={"Authorization": "Bearer fake-fixed"}
        )
        assert reply.status_code == 200
        assert server.client().flags.get("11")["key"] == "checkout-v2"


def test_a_client_with_a_wrong_key_gets_an_authentication_error(server: FakeServer):
    from expkit.errors import AuthenticationError

    with pytest.raises(AuthenticationError, match="AMPLITUDE_MANAGEMENT_API_KEY"):
        server.client(api_key="wrong-key").flags.list()
    with pytest.raises(AuthenticationError):
        server.legacy_client(api_key="wrong-key").list_flags()
    assert server.client().flags.list() is not None

"""The client over real sockets: a local http.server on 127.0.0.1, the default adapter."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from expkit import Client, NotFoundError, ServerError, TransportError

KEY = "ampex_real_socket_key_4d2c"
CONCURRENT = 16


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.seen.append(
                (self.command, self.path, self.headers.get("Authorization"), raw)
            )
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        try:
            if self.path.startswith("/together"):
                # every request waits here until CONCURRENT of them are in flight at once:
                # only a client that really sends them concurrently gets past (no timing)
                try:
                    self.server.barrier.wait()
                except threading.BrokenBarrierError:
                    self._reply(500, b'{"error": "requests were not concurrent"}')
                else:
                    self._reply(200, b'{"ok": true}')
            elif self.path.startswith("/slow"):
                # answers only once the test is over: the client's timeout must fire first
                self.server.release.wait(60)
                self._reply(200, b'{"ok": true}')
            elif self.path.startswith("/flaky"):
                with self.server.lock:
                    self.server.flaky += 1
                    n = self.server.flaky
                if n < 3:
                    self._reply(503, b"busy", "text/plain")
                else:
                    self._reply(200, b"OK", "text/plain")
            elif self.path.startswith("/always503"):
                self._reply(503, b"busy", "text/plain")
            elif self.path.startswith("/api/1/flags/missing"):
                self._reply(404, b'{"error": "flag not found"}')
            elif self.command == "DELETE":
                self._reply(200, b"OK", "text/plain")
            else:
                self._reply(200, json.dumps({"flags": [{"id": "1"}], "nextCursor": None}).encode())
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    do_GET = do_POST = do_PATCH = do_DELETE = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str, str | None, bytes]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.flaky = 0
        # the timeout only unblocks a broken run; it bounds nothing the test asserts
        self.barrier = threading.Barrier(CONCURRENT, timeout=60)
        self.release = threading.Event()


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()


def make(server: Server, **options) -> Client:
    host, port = server.server_address[:2]
    return Client(KEY, base_url=f"http://{host}:{port}", rate_limit=None, **options)


def test_real_request_carries_auth_and_parses_json(server: Server):
    client = make(server)
    assert client.flags.list() == [{"id": "1"}]
    method, path, auth, _ = server.seen[0]
    assert (method, path, auth) == ("GET", "/api/1/flags?limit=1000", f"Bearer {KEY}")
    assert client.server_time is not None and client.server_time.tzinfo is not None


def test_real_delete_sends_a_json_body(server: Server):
    client = make(server)
    assert client.flags.remove_users("1", "on", ["a", "b"]) == "OK"
    method, path, _, raw = server.seen[0]
    assert (method, path) == ("DELETE", "/api/1/flags/1/variants/on/bulk-delete-users")
    assert json.loads(raw) == {"users": ["a", "b"]}


def test_real_errors_and_retries(server: Server):
    client = make(server, backoff_factor=0.001)
    with pytest.raises(NotFoundError, match="flag not found"):
        client.flags.get("missing")
    assert client.http.request("GET", "/flaky") == "OK"
    assert server.flaky == 3


def test_real_timeout_is_enforced(server: Server):
    client = make(server, timeout=0.05, max_retries=0)
    with pytest.raises(TransportError, match="timed out"):
        client.http.request("GET", "/slow")


def test_16_concurrent_requests_share_one_client_without_pool_warnings(
    server: Server, caplog: pytest.LogCaptureFixture
):
    # two rounds of 16 requests, each round held at a barrier on the server until all 16 are
    # in flight together: it passes however the threads are scheduled, and fails only if
    # the client (its pool, its limiter, a lock) serialises them
    client = make(server, timeout=90)
    with caplog.at_level(logging.WARNING, logger="urllib3"), ThreadPoolExecutor(CONCURRENT) as pool:
        results = list(
            pool.map(lambda _: client.http.request("GET", "/together"), range(2 * CONCURRENT))
        )
    assert results == [{"ok": True}] * (2 * CONCURRENT)
    assert server.max_in_flight == CONCURRENT  # every round had all 16 in flight, never more
    assert "Connection pool is full" not in caplog.text
    assert client.request_count == 2 * CONCURRENT


def test_refused_connection_is_a_transport_error():
    srv = Server()
    host, port = srv.server_address[:2]
    srv.server_close()  # nothing listens on the port any more
    client = Client(
        KEY, base_url=f"http://{host}:{port}", rate_limit=None, max_retries=1, backoff_factor=0.001
    )
    with pytest.raises(TransportError, match="after 2 attempts") as info:
        client.flags.get("1")
    assert KEY not in str(info.value)
    assert not isinstance(info.value, ServerError)
    # one readable line: the reason, not urllib3's nested reprs
    assert "object at 0x" not in str(info.value) and "\n" not in str(info.value)
    assert "refused" in str(info.value).lower()


def test_an_injected_adapter_that_retries_by_itself_still_gives_the_right_error(server: Server):
    # urllib3's Retry mounted on the adapter raises MaxRetryError -> requests RetryError
    # once it runs out; the client translates that once, to the status's ApiError class
    session = requests.Session()
    adapter = HTTPAdapter(
        max_retries=Retry(total=2, status_forcelist=[503], backoff_factor=0, allowed_methods=None)
    )
    session.mount("http://", adapter)
    client = make(server, session=session)
    with pytest.raises(ServerError) as info:
        client.http.request("GET", "/always503")
    err = info.value
    assert err.status_code == 503
    assert err.attempts == 3
    assert "after 3 attempts" in str(err)
    assert isinstance(err.__cause__, requests.exceptions.RetryError)
    assert sum(1 for seen in server.seen if seen[1] == "/always503") == 3

"""``FakeServer``: the fake org over real HTTP on 127.0.0.1, with fault injection.

A ``ThreadingHTTPServer`` (HTTP/1.1 keep-alive) runs in a daemon thread; each request is
logged, passed through the seeded fault injector, then served by the
:class:`~expkit.fake._routes.Router` under one lock (the State is not thread-safe; injected
latency is slept outside the lock, so concurrent clients still overlap). The same
:class:`~expkit.fake._dispatch.Dispatcher` serves the in-process
:class:`~expkit.fake._adapter.FakeAdapter`, for tests that need no socket.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Mapping
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from requests.structures import CaseInsensitiveDict

from expkit.fake._dispatch import Dispatcher, Faults, Fronted
from expkit.fake._routes import Response
from expkit.fake._state import FakeClock, IdGenerator, State

if TYPE_CHECKING:
    from expkit._client import Client
    from expkit._legacy import LegacyClient
    from expkit.fake._adapter import FakeAdapter

__all__ = ["FakeServer", "Faults"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # idle keep-alive connections are closed after this long
    timeout = 60
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes; without TCP_NODELAY, Nagle plus
        # delayed ACKs would add ~40 ms to every keep-alive request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the FakeServer keeps its own request log."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        # the Date header carries the fake clock, so snapshots of fixtures are deterministic
        return format_datetime(self.server.fake.state.clock.now(), usegmt=True)

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        # case-insensitive, as http.server's Message is
        headers = CaseInsensitiveDict(self.headers.items())
        response = self.server.fake._dispatch(self.command, self.path, headers, body)
        if response is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _serve


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # the default backlog of 5 drops SYNs when a client opens 16 pooled connections at once
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: FakeServer) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            open_connections = list(self.connections)
            self.connections.clear()
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class FakeServer(Fronted):
    """A fake Amplitude Experiment org served over HTTP on 127.0.0.1 (a free port by default).

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. ``api_key`` is
    generated per server unless given; only that key is accepted (401 otherwise). With
    ``warm=True`` (the default) :meth:`start` encodes the version history in a background
    thread, so the first walk of ``/api/1/versions`` costs what later ones do.
    """

    def __init__(
        self,
        state: State | None = None,
        *,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        warm: bool = True,
        dispatcher: Dispatcher | None = None,
    ) -> None:
        if dispatcher is None:
            dispatcher = Dispatcher(state, api_key=api_key)
        elif state is not None or api_key is not None:
            raise ValueError("give either dispatcher= or state/api_key, not both")
        self._dispatcher = dispatcher
        self._state = self._dispatcher.state
        self._api_key = self._dispatcher.api_key
        self._warm = warm
        self._host = host
        self._port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_fixtures(cls, directory: str | os.PathLike[str], **server_options: Any) -> FakeServer:
        """A server over a recorded fixtures directory; its clock starts at ``recorded_at``."""
        from expkit.fake._fixtures import load_fixtures

        org, manifest = load_fixtures(directory)
        clock = FakeClock(manifest["recorded_at"]) if manifest.get("recorded_at") else None
        return cls(State.from_org(org, clock=clock), **server_options)

    @classmethod
    def synthetic(
        cls,
        n_flags: int = 40,
        n_experiments: int = 15,
        versions_per_config: int = 20,
        seed: int = 0,
        **server_options: Any,
    ) -> FakeServer:
        """A server over a generated org (deterministic for a given ``seed``)."""
        from expkit.fake._synth import synthetic_org

        org = synthetic_org(
            n_flags=n_flags,
            n_experiments=n_experiments,
            versions_per_config=versions_per_config,
            seed=seed,
        )
        return cls(State.from_org(org, ids=IdGenerator(seed)), **server_options)

    # ----- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeServer:
        """Starts serving in a daemon thread (idempotent); returns self."""
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self._host, self._port), self)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"expkit-fake-{httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        if self._warm:
            # encode the version history in the background, newest first (the order clients
            # page through it), so the first walk of /api/1/versions is not paying for it
            threading.Thread(
                target=self._state.warm,
                kwargs={"should_stop": lambda: self._httpd is not httpd},
                name=f"expkit-fake-warm-{httpd.server_address[1]}",
                daemon=True,
            ).start()
        return self

    def stop(self) -> None:
        """Stops serving and closes every open connection (idempotent)."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._httpd = None
        self._thread = None
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._httpd is not None else "stopped"
        return f"FakeServer({where}, {self._state!r})"

    # ----- what users touch --------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash); the server must be started."""
        if self._httpd is None:
            raise RuntimeError("the FakeServer is not running; call start() or use `with`")
        host, port = self._httpd.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}"

    @property
    def api_key(self) -> str:
        """The only key this server accepts."""
        return self._api_key

    @property
    def state(self) -> State:
        """The org being served, for assertions and direct set-up."""
        return self._state

    def client(self, **client_options: Any) -> Client:
        """An ``expkit.Client`` pointed at this server, with its key unless ``api_key=`` says."""
        from expkit._client import Client

        client_options.setdefault("api_key", self._api_key)
        return Client(base_url=self.url, **client_options)

    def legacy_client(self, **client_options: Any) -> LegacyClient:
        """An ``expkit.LegacyClient`` pointed at this server (the beta paths, no prefix)."""
        from expkit._legacy import LegacyClient

        client_options.setdefault("api_key", self._api_key)
        return LegacyClient(base_url=self.url, **client_options)

    def adapter(self) -> FakeAdapter:
        """A ``requests`` adapter serving this server's state in-process (no socket), sharing
        its key, request log, faults and lock."""
        from expkit.fake._adapter import FakeAdapter

        return FakeAdapter(dispatcher=self._dispatcher)

    # ----- serving -----------------------------------------------------------------------

    def _dispatch(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> Response | None:
        return self._dispatcher.dispatch(method, target, headers, body)

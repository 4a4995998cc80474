"""``FakeAdapter``: the fake org mounted on a ``requests`` session, in the same process.

Like httpx's ``MockTransport``: a transport over a handler, here the fake's
:class:`~expkit.fake._routes.Router` behind the shared
:class:`~expkit.fake._dispatch.Dispatcher` (request log, faults, lock). No thread, no socket,
no ``atexit``: a request becomes a call, and the reply is built into a ``requests.Response``
through :meth:`HTTPAdapter.build_response`, so ``.json()``, ``.text``, headers and
``raise_for_status()`` behave as they do against the real server.

::

    from expkit.fake import FakeAdapter, State, in_process

    client = in_process("data/fixtures/demo")        # a Client over the demo org
    fake = FakeAdapter(State.from_org(org))           # or keep the adapter for assertions
    client = fake.client()
    fake.request_log, fake.state
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from email.utils import format_datetime
from http.client import responses as _REASONS
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse

from expkit.fake._dispatch import Dispatcher, Fronted
from expkit.fake._state import FakeClock, State

if TYPE_CHECKING:
    from expkit._client import Client
    from expkit._legacy import LegacyClient
    from expkit.fake._server import FakeServer

__all__ = ["IN_PROCESS_URL", "FakeAdapter", "in_process"]

# a reserved top-level domain (RFC 2606): a request that missed the adapter could not reach
# anything; https so that the client's "plain http only on loopback" rule holds as is
IN_PROCESS_URL = "https://fake.expkit.invalid"


class FakeAdapter(Fronted, HTTPAdapter):
    """A ``requests`` transport adapter that serves requests from a fake :class:`State`.

    Mount it on a session (``session.mount("https://", adapter)``) or let :meth:`client`
    do it. Only ``api_key`` is accepted (401 otherwise), as with :class:`FakeServer`;
    :meth:`faults` injects latency, 5xx, 429 and dropped connections (a drop raises
    ``requests.ConnectionError``), and :attr:`request_log` records every request.
    """

    def __init__(
        self,
        state: State | None = None,
        *,
        api_key: str | None = None,
        dispatcher: Dispatcher | None = None,
    ) -> None:
        super().__init__(max_retries=0)
        if dispatcher is None:
            dispatcher = Dispatcher(state, api_key=api_key)
        elif state is not None or api_key is not None:
            raise ValueError("give either dispatcher= or state/api_key, not both")
        self._dispatcher = dispatcher

    def __repr__(self) -> str:
        return f"FakeAdapter({self.state!r})"

    @classmethod
    def from_fixtures(cls, directory: str | os.PathLike[str]) -> FakeAdapter:
        """An adapter over recorded fixtures, its clock at the recording's time."""
        from expkit.fake._fixtures import load_fixtures

        org, manifest = load_fixtures(directory)
        clock = FakeClock(manifest["recorded_at"]) if manifest.get("recorded_at") else None
        return cls(State.from_org(org, clock=clock))

    # ----- what users touch --------------------------------------------------------------

    @property
    def state(self) -> State:
        """The org being served, for assertions and direct set-up."""
        return self._dispatcher.state

    @property
    def api_key(self) -> str:
        """The only key this adapter accepts."""
        return self._dispatcher.api_key

    @property
    def url(self) -> str:
        """The base URL the clients of :meth:`client` use (it never leaves the process)."""
        return IN_PROCESS_URL

    def session(self) -> requests.Session:
        """A new ``requests.Session`` with this adapter mounted for every URL."""
        session = requests.Session()
        session.mount("https://", self)
        session.mount("http://", self)
        return session

    def client(self, **client_options: Any) -> Client:
        """An ``expkit.Client`` served by this adapter (its key unless ``api_key=`` says)."""
        from expkit._client import Client

        client_options.setdefault("api_key", self.api_key)
        client_options.setdefault("base_url", IN_PROCESS_URL)
        client_options.setdefault("session", self.session())
        return Client(**client_options)

    def legacy_client(self, **client_options: Any) -> LegacyClient:
        """An ``expkit.LegacyClient`` served by this adapter (the beta paths, no prefix)."""
        from expkit._legacy import LegacyClient

        client_options.setdefault("api_key", self.api_key)
        client_options.setdefault("base_url", IN_PROCESS_URL)
        client_options.setdefault("session", self.session())
        return LegacyClient(**client_options)

    def server(self, **server_options: Any) -> FakeServer:
        """A :class:`FakeServer` (not started) serving the same state over real HTTP, sharing
        this adapter's key, request log, faults and lock."""
        from expkit.fake._server import FakeServer

        return FakeServer(dispatcher=self._dispatcher, **server_options)

    # ----- the transport -----------------------------------------------------------------

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Serves ``request`` from the fake and returns the response."""
        parts = urlsplit(request.url or "")
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body
        if body is None:
            raw_body = b""
        elif isinstance(body, str):
            raw_body = body.encode("utf-8")
        elif isinstance(body, bytes):
            raw_body = body
        else:  # a file-like or iterable body: requests streams those
            raw_body = b"".join(
                chunk.encode() if isinstance(chunk, str) else chunk for chunk in body
            )
        reply = self._dispatcher.dispatch(
            request.method or "GET", target, request.headers, raw_body
        )
        if reply is None:
            raise requests.ConnectionError(
                "the fake dropped the connection (injected fault)", request=request
            )
        headers = {
            "Content-Type": reply.content_type,
            "Content-Length": str(len(reply.body)),
            # the Date header carries the fake clock, as FakeServer's does
            "Date": format_datetime(self.state.clock.now(), usegmt=True),
            **reply.headers,
        }
        raw = HTTPResponse(
            body=io.BytesIO(reply.body),
            headers=headers,
            status=reply.status,
            reason=_REASONS.get(reply.status, ""),
            preload_content=False,
            decode_content=False,
            request_method=request.method,
            request_url=request.url,
        )
        return self.build_response(request, raw)

    def close(self) -> None:
        """Nothing to close: no connections are pooled."""


def in_process(
    source: State | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    **client_options: Any,
) -> Client:
    """An ``expkit.Client`` over a fake org served in-process (no thread, no socket).

    ``source`` is a :class:`State`, an org dict (as ``State.to_org()`` gives), a recorded
    fixtures directory, or None for an empty org. Keep a :class:`FakeAdapter` instead when
    the test needs the state or the request log.
    """
    return _adapter_for(source).client(**client_options)


def _adapter_for(source: State | Mapping[str, Any] | str | os.PathLike[str] | None) -> FakeAdapter:
    if source is None or isinstance(source, State):
        return FakeAdapter(source)
    if isinstance(source, Mapping):
        return FakeAdapter(State.from_org(source))
    return FakeAdapter.from_fixtures(source)

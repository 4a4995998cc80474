"""The client tests' double for the HTTP layer: a requests adapter mounted on the client's session.

Responses are built with ``HTTPAdapter.build_response`` from real urllib3 responses, so
``.json()``, ``.text`` and headers behave exactly as in production. No monkeypatching.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.response import HTTPResponse

API_KEY = "ampex_TESTKEY_do_not_leak_8f3a"
BASE = "https://api.example.test"


@dataclass
class Call:
    """One request as the double saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]
    at: float
    thread: int = 0
    timeout: Any = None


@dataclass
class Reply:
    """What the double answers: a status, a body (JSON-encoded unless str/bytes), headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], "Reply | Exception"]


class DoubleAdapter(HTTPAdapter):
    """Records every request; answers from a queue of replies, then from ``default``."""

    def __init__(self, default: Handler | None = None) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.queue: deque[Reply | Exception] = deque()
        self.default = default or (lambda call: Reply(200, "OK"))
        self._lock = threading.Lock()

    def reply(self, *replies: Reply | Exception) -> DoubleAdapter:
        self.queue.extend(replies)
        return self

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url)
        raw_body = request.body
        if isinstance(raw_body, bytes):
            raw_body = raw_body.decode()
        body = json.loads(raw_body) if raw_body else None
        call = Call(
            method=request.method,
            path=parts.path,
            query=parse_qs(parts.query),
            body=body,
            headers=dict(request.headers),
            at=time.monotonic(),
            thread=threading.get_ident(),
            timeout=kwargs.get("timeout"),
        )
        with self._lock:
            self.calls.append(call)
            answer = self.queue.popleft() if self.queue else None
        if answer is None:
            answer = self.default(call)
        if isinstance(answer, Exception):
            raise answer
        payload = answer.body
        if payload is None:
            data = b""
        elif isinstance(payload, bytes):
            data = payload
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = json.dumps(payload).encode()
        headers = dict(answer.headers)
        if payload is not None and not isinstance(payload, str | bytes):
            headers.setdefault("Content-Type", "application/json")
        raw = HTTPResponse(
            body=io.BytesIO(data),
            status=answer.status,
            headers=headers,
            preload_content=False,
            decode_content=False,
        )
        return self.build_response(request, raw)


def make_session(adapter: DoubleAdapter) -> requests.Session:
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session

"""Failures during a snapshot: cancelled work, shape-checked feed pages, vanished configs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import expkit
from expkit.errors import ApiError, TransportError
from expkit.fake import FakeServer


@pytest.fixture(scope="module")
def synthetic() -> Iterator[FakeServer]:
    with FakeServer.synthetic(n_flags=30, n_experiments=10, versions_per_config=3, seed=3) as s:
        yield s


class FailingSession(requests.Session):
    """Sends requests normally, fails the ``fail_at``-th, and notes any sent after ``raised``."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.sent = 0
        self.raised = threading.Event()
        self.after_raise: list[str] = []
        self._lock = threading.Lock()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self.raised.is_set():
                self.after_raise.append(str(url))
            self.sent += 1
            number = self.sent
        if number == self.fail_at:
            raise requests.ConnectionError("injected: connection refused")
        return super().request(method, url, *args, **kwargs)


def _expkit_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("expkit-fetch")]


@pytest.mark.parametrize("fail_at", [2, 5, 20, 60])
def test_a_failed_snapshot_sends_no_request_after_raising(
    synthetic: FakeServer, fail_at: int
) -> None:
    total = synthetic.client(rate_limit=None)
    expkit.snapshot(total, progress=False)
    assert total.request_count > 100
    session = FailingSession(fail_at)
    client = expkit.Client(
        api_key=synthetic.api_key,
        base_url=synthetic.url,
        session=session,
        rate_limit=None,
        max_retries=0,
    )
    with pytest.raises(TransportError, match="injected"):
        try:
            expkit.snapshot(client, progress=False, max_workers=4)
        finally:
            session.raised.set()
    # the pools were shut down before the exception got here: no worker is left to send
    assert _expkit_threads() == []
    assert session.after_raise == []
    # queued work was cancelled: at most the requests already on the wire finished
    assert session.sent < total.request_count


def test_a_failed_inclusion_fetch_sends_no_request_after_raising(synthetic: FakeServer) -> None:
    session = FailingSession(10)
    client = expkit.Client(
        api_key=synthetic.api_key,
        base_url=synthetic.url,
        session=session,
        rate_limit=None,
        max_retries=0,
    )
    with pytest.raises(TransportError):
        try:
            expkit.fetch_inclusions(client, progress=False, max_workers=4)
        finally:
            session.raised.set()
    assert _expkit_threads() == []
    assert session.after_raise == []


def _answer_feed_with(
    client: expkit.Client, monkeypatch: pytest.MonkeyPatch, body: Any
) -> list[str]:
    paths: list[str] = []
    real = client.http.request

    def request(method: str, path: str, **kwargs: Any) -> Any:
        paths.append(path)
        if path == "/api/1/versions":
            return body
        return real(method, path, **kwargs)

    monkeypatch.setattr(client.http, "request", request)
    return paths


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ("<html><body>Sign in</body></html>", "text (an HTML page?)"),
        ({"versions": [1, 2, 3]}, "item 0 is a int"),
        ({"versions": "none"}, "an object with keys"),
        (42, "a int"),
    ],
)
def test_a_feed_page_of_another_shape_names_the_endpoint(
    synthetic: FakeServer, monkeypatch: pytest.MonkeyPatch, body: Any, what: str
) -> None:
    client = synthetic.client(rate_limit=None)
    _answer_feed_with(client, monkeypatch, body)
    with pytest.raises(ApiError) as info:
        expkit.snapshot(client, progress=False)
    message = str(info.value)
    assert "/api/1/versions" in message and what in message
    assert "Sign in" not in message  # the body is described, never quoted
    assert _expkit_threads() == []


def test_a_config_whose_versions_404_is_taken_as_vanished(
    synthetic: FakeServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = synthetic.client(rate_limit=None)
    flag = client.flags.list()[0]
    gone = str(flag["id"])
    real = client.http.send

    def send(request: Any, **kwargs: Any) -> Any:
        path = request.path
        if path.endswith(f"/flags/{gone}/versions"):
            # ... which answers 404: it was deleted meanwhile
            raise expkit.NotFoundError(404, request.method, client.http.url_for(path))
        body = real(request, **kwargs)
        if path == "/api/1/versions" and isinstance(body, dict):
            # the feed misses this config, so the snapshot asks for its /versions ...
            body["versions"] = [v for v in body["versions"] if str(v["flagConfig"]["id"]) != gone]
        return body

    # every request, the first feed page's and the paginated ones', goes through send
    monkeypatch.setattr(client.http, "send", send)
    with caplog.at_level(logging.WARNING, logger="expkit"):
        snap = expkit.snapshot(client, progress=False)
    assert gone in snap.configs["id"].tolist()
    assert gone not in snap.versions["config_id"].tolist()
    assert len(snap.versions) > 0
    assert any("disappeared while fetching its versions" in r.message for r in caplog.records)

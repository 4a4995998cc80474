"""What the fake's route families share: the request and response types and page helpers.

No sockets here: :class:`~._routes.Router` maps a method and a target to a handler of one
family (configs, variants and inclusions, deployments, groups), each a mixin over
:class:`RouterBase` calling the matching family of :class:`~._state.State`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from expkit.fake._common import FakeError
from expkit.fake._state import State

__all__ = ["MAX_LIMIT", "Request", "Response", "RouterBase"]

MAX_LIMIT = 1000
CREATE_URL = "http://experiment.amplitude.com/amplitude/{project_id}/config/{id}"
GROUP_URL = "http://experiment.amplitude.com/amplitude/experiments/grouped-experiments"
_JSON = "application/json"
_TEXT = "text/plain; charset=utf-8"
_MISSING: Any = object()


@dataclass
class Response:
    """A status, a body and its content type."""

    status: int
    body: bytes
    content_type: str = _JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    """What a handler sees: path parameters, the query (last value wins) and the body."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    raw_body: bytes
    _parsed: Any = _MISSING

    def json(self) -> Any:
        """The body parsed as JSON; 400 naming the problem when it is not."""
        if self._parsed is _MISSING:
            text = self.raw_body.decode("utf-8", errors="replace").strip()
            if not text:
                self._parsed = None
            else:
                try:
                    self._parsed = json.loads(text)
                except ValueError as exc:
                    raise FakeError(400, f"request body is not valid JSON: {exc}") from None
        return self._parsed

    def body(self) -> dict[str, Any]:
        """The body as a JSON object; 400 when missing or not an object."""
        value = self.json()
        if value is None:
            raise FakeError(400, "a JSON object request body is required")
        if not isinstance(value, dict):
            raise FakeError(400, f"request body must be a JSON object, got {type(value).__name__}")
        return value

    def required(self, name: str, expected: str | None = None) -> Any:
        """Field ``name`` of the body object; 400 naming it (and ``expected``) when missing."""
        body = self.body()
        if name not in body:
            detail = f"{name}: is required" + (f" ({expected})" if expected else "")
            raise FakeError(400, detail, field=name)
        return body[name]


def _inclusions(request: Request) -> Any:
    return request.required("inclusions", "an array of strings")


def _bulk_values(request: Request) -> Any:
    return request.required("users", "an array of at most 100 strings")


def _ok() -> Response:
    return Response(200, b"OK", _TEXT)


def _json(value: Any) -> Response:
    return Response(200, json.dumps(value, separators=(",", ":")).encode())


def _error(exc: FakeError) -> Response:
    return Response(exc.status, json.dumps(exc.body()).encode())


def _join(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


def _page(items_key: str, items: list[bytes], next_cursor: int | None) -> Response:
    cursor = b"null" if next_cursor is None else b'"%d"' % next_cursor
    body = b'{"' + items_key.encode() + b'":' + _join(items) + b',"nextCursor":' + cursor + b"}"
    return Response(200, body)


def _page_window(query: Mapping[str, str]) -> tuple[int, int]:
    """``(offset, limit)`` from ``cursor`` and ``limit``; ``limit`` capped at 1000."""
    limit = MAX_LIMIT
    if "limit" in query:
        try:
            limit = int(query["limit"])
        except ValueError:
            raise FakeError(
                400, f"limit: must be an integer, got {query['limit']!r}", field="limit"
            ) from None
        if limit < 1:
            raise FakeError(400, f"limit: must be at least 1, got {limit}", field="limit")
        limit = min(limit, MAX_LIMIT)
    offset = 0
    if query.get("cursor") not in (None, "", "null"):
        try:
            offset = int(query["cursor"])
        except ValueError:
            raise FakeError(
                400, f"cursor: must be an offset, got {query['cursor']!r}", field="cursor"
            ) from None
        if offset < 0:
            raise FakeError(400, f"cursor: must be non-negative, got {offset}", field="cursor")
    return offset, limit


def _flag_param(query: Mapping[str, str], name: str) -> bool:
    value = query.get(name)
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise FakeError(400, f"{name}: must be true or false, got {value!r}", field=name)


Handler = Callable[[Request], Response]


class RouterBase:
    """The state a family of routes serves."""

    state: State

"""The request model: what a resource method builds and the HTTP layer sends.

A leaf module (it imports nothing from expkit), so the client, the edit plans and the fake can
all share these shapes:

* ``Request``: one HTTP call (method, path under the base URL, query params, JSON body), a
  frozen value. Resource methods build one and hand it to the HTTP layer; an edit plan keeps
  the very same object for ``preview()`` / ``requests()`` and for ``apply()``.
* ``Settings``: timeouts, retries, backoff, rate limit and page bound, one frozen value passed
  down whole from ``Client(...)`` to the HTTP layer.
* ``ClientLike`` / ``EndpointsLike``: the typed ``Protocol`` of a client that edit plans and
  fetch helpers accept instead of ``Any``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode

__all__ = [
    "ClientLike",
    "EndpointsLike",
    "Request",
    "RequestBuilderLike",
    "Settings",
]


@dataclass(frozen=True)
class Request:
    """One HTTP call: method, path (under the client's base URL), query params and JSON body.

    ``retry`` says whether the HTTP layer may repeat it after a lost reply or a 5xx: creates,
    renames and index-based removals must not be repeated. It is a sending policy, not part
    of what is sent, so it does not take part in equality.
    """

    method: str
    path: str
    body: Any = None
    params: Mapping[str, Any] | None = None
    retry: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", self.method.upper())
        if self.params is not None:
            # frozen in spirit: a private copy, so a caller mutating its dict changes nothing
            object.__setattr__(self, "params", dict(self.params))

    @property
    def json(self) -> Any:
        """The JSON body (an alias of ``body``, as ``requests`` names it)."""
        return self.body

    @property
    def target(self) -> str:
        """The path with its query string, e.g. ``/api/1/flags?limit=1000``."""
        if not self.params:
            return self.path
        return self.path + "?" + urlencode(_query(self.params), doseq=True)

    def to_dict(self) -> dict[str, Any]:
        """The request as a plain dict (``method``, ``path``, ``body``; ``params`` if any)."""
        out: dict[str, Any] = {"method": self.method, "path": self.path, "body": self.body}
        if self.params:
            out["params"] = dict(self.params)
        return out

    def __str__(self) -> str:
        text = f"{self.method} {self.target}"
        if self.body is not None:
            text += " " + json.dumps(self.body, sort_keys=True)
        return text

    def __hash__(self) -> int:
        return hash((self.method, self.path, _freeze(self.body), _freeze(self.params)))


def _query(params: Mapping[str, Any]) -> dict[str, Any]:
    """Query values as the wire has them: booleans as ``true``/``false``, None dropped."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


@dataclass(frozen=True)
class Settings:
    """How the HTTP layer sends: timeouts, retries, backoff, rate limit, page bound.

    One value, passed down whole (``Client(settings=...)`` or the keyword arguments of
    ``Client``, which build one). Validated by the HTTP layer when a client is made.

    * ``timeout``: seconds per request, or ``(connect, read)``.
    * ``max_retries``: retries of one call after a 5xx (502/503/504) or a dropped connection.
    * ``backoff_factor`` / ``backoff_max`` / ``backoff_jitter``: the wait before retry ``n`` is
      ``backoff_factor * 2**(n-1)`` capped at ``backoff_max``, plus up to ``backoff_jitter``
      (a fraction) of random jitter, unless the server sends ``Retry-After``.
    * ``max_retry_time``: total seconds one call may spend waiting on retries; it bounds the
      429 retries (which have no count of their own) and the 5xx/drop retries alike.
    * ``rate_limit``: requests per second, client-side (None: no cap). After a 429 the rate
      drops to ``rate_limit * rate_limit_decrease`` (and pauses for ``Retry-After``), then
      climbs back by ``rate_limit_increase`` of ``rate_limit`` per successful response.
    * ``max_pages``: pages one list may have before the paginator raises (a server that
      hands out new cursors forever cannot hang a caller).
    """

    timeout: float | tuple[float, float] = 30.0
    max_retries: int = 5
    backoff_factor: float = 0.5
    backoff_max: float = 30.0
    backoff_jitter: float = 0.25
    max_retry_time: float = 120.0
    rate_limit: float | None = 100.0
    rate_limit_decrease: float = 0.5
    rate_limit_increase: float = 0.05
    min_rate: float = 1.0
    max_pages: int = 10_000

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed."""
        from dataclasses import replace

        return replace(self, **changes)


class RequestBuilderLike(Protocol):
    """The builder twin of a flags/experiments resource: returns Requests, sends nothing."""

    def edit_variant(
        self,
        id: str,
        variant_key: str,
        *,
        key: str | None = ...,
        name: str | None = ...,
        description: str | None = ...,
        payload: Any = ...,
        rollout_weight: float | None = ...,
    ) -> Request: ...

    def add_users(self, id: str, variant_key: str, users: Iterable[str]) -> Request: ...

    def remove_users(
        self, id: str, variant_key: str, users: Iterable[str]
    ) -> tuple[Request, ...]: ...


class EndpointsLike(Protocol):
    """What ``client.flags`` / ``client.experiments`` offer on every client (legacy too)."""

    kind: str

    @property
    def build(self) -> Any: ...

    def users(self, id: str, variant_key: str) -> list[str]: ...

    def edit_variant(
        self,
        id: str,
        variant_key: str,
        *,
        key: str | None = ...,
        name: str | None = ...,
        description: str | None = ...,
        payload: Any = ...,
        rollout_weight: float | None = ...,
    ) -> Any: ...

    def add_users(self, id: str, variant_key: str, users: Iterable[str]) -> Any: ...


@runtime_checkable
class ClientLike(Protocol):
    """A client as edit plans and fetch helpers use it: ``Client``, ``LegacyClient``, a double.

    ``send`` sends a built ``Request`` (with its retry policy) and returns the parsed reply;
    ``paginate`` lazily yields the items of a cursor-paginated list, guarded (see ``_http``).
    """

    base_url: str

    @property
    def flags(self) -> Any: ...

    @property
    def experiments(self) -> Any: ...

    def send(self, request: Request) -> Any: ...

    def paginate(
        self, path: str, items_key: str, *, params: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]: ...

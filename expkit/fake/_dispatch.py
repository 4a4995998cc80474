"""What every transport of the fake shares: the request log, fault injection and the lock.

:class:`Dispatcher` is the one place a request meets the fake, whichever way it came: a real
socket (:class:`~._server.FakeServer`) or a ``requests`` adapter in the same process
(:class:`~._adapter.FakeAdapter`). It logs the request, draws its faults, sleeps the injected
latency outside the lock, then serves it through the :class:`~._routes.Router` under one
lock (the State is not thread-safe).
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

from expkit.fake._routes import Response, Router
from expkit.fake._state import State

__all__ = ["Dispatcher", "Faults"]

# transient gateway errors: what a flaky API returns, and what clients are right to retry
_SERVER_ERRORS = (502, 503, 504)


class Faults:
    """Seeded fault injection: latency, random 5xx, 429 past a rate, dropped connections.

    Every request draws the same three numbers from one ``random.Random(seed)``, whatever
    happens to it, so a given sequence of requests meets the same faults for the same seed.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        error_rate: float = 0.0,
        rate_limit: float | None = None,
        drop_rate: float = 0.0,
        seed: int = 0,
    ) -> None:
        for name, value in (("error_rate", error_rate), ("drop_rate", drop_rate)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        if latency < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {latency!r}")
        if rate_limit is not None and rate_limit <= 0:
            raise ValueError(f"rate_limit must be > 0 requests per second, got {rate_limit!r}")
        self.latency = latency
        self.error_rate = error_rate
        self.rate_limit = rate_limit
        self.drop_rate = drop_rate
        self.seed = seed
        self._rng = random.Random(seed)
        self._window: deque[float] = deque()

    def decide(self, now: float) -> str | int | None:
        """``"drop"``, an error status (429 or 5xx) or None for this request."""
        drop, error, which = self._rng.random(), self._rng.random(), self._rng.random()
        if self.rate_limit is not None:
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if len(self._window) >= self.rate_limit:
                return 429
            self._window.append(now)
        if drop < self.drop_rate:
            return "drop"
        if error < self.error_rate:
            return _SERVER_ERRORS[int(which * len(_SERVER_ERRORS))]
        return None

    def __repr__(self) -> str:
        return (
            f"Faults(latency={self.latency!r}, error_rate={self.error_rate!r}, "
            f"rate_limit={self.rate_limit!r}, drop_rate={self.drop_rate!r}, seed={self.seed!r})"
        )


class Dispatcher:
    """Serves requests to one State: logged, fault-injected, one at a time."""

    def __init__(self, state: State | None = None, *, api_key: str | None = None) -> None:
        self.state = state if state is not None else State()
        self.api_key = api_key or f"fake-{secrets.token_hex(16)}"
        self.router = Router(self.state, api_key=self.api_key)
        self._lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._log: list[tuple[str, str, dict[str, str]]] = []
        self._faults = Faults()

    def __repr__(self) -> str:
        return f"Dispatcher({self.state!r})"

    def set_faults(self, faults: Faults) -> Faults:
        """Uses ``faults`` for the requests that follow; returns it."""
        with self._log_lock:
            self._faults = faults
        return faults

    @property
    def request_log(self) -> list[tuple[str, str, dict[str, str]]]:
        """``(method, path, query)`` of every request received, in arrival order (a copy)."""
        with self._log_lock:
            return list(self._log)

    @property
    def request_count(self) -> int:
        """How many requests arrived (faulted ones included)."""
        with self._log_lock:
            return len(self._log)

    def reset_log(self) -> None:
        """Forgets the requests logged so far."""
        with self._log_lock:
            self._log.clear()

    def dispatch(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> Response | None:
        """The response to one request, or None when an injected fault drops it."""
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._log_lock:
            self._log.append((method, parts.path, query))
            faults = self._faults
            decision = faults.decide(time.monotonic())
        if faults.latency:
            time.sleep(faults.latency)
        if decision == "drop":
            return None
        if decision == 429:
            return _fault_response(429, "Too many requests")
        if isinstance(decision, int):
            return _fault_response(decision, "injected server error")
        try:
            with self._lock:
                return self.router.handle(method, target, headers, body)
        except Exception as exc:  # a bug in the fake must reach the client as a 500, not a hang
            return _fault_response(500, f"fake server error: {type(exc).__name__}: {exc}")


def _fault_response(status: int, message: str) -> Response:
    return Response(status, json.dumps({"status": status, "message": message}).encode())


class Fronted:
    """What the two transports over a ``Dispatcher`` share: fault injection and the log.

    ``FakeAdapter`` (in-process) and ``FakeServer`` (HTTP) both hand requests to one
    dispatcher; these are its controls as either one shows them.
    """

    _dispatcher: Dispatcher

    def faults(
        self,
        latency: float = 0.0,
        error_rate: float = 0.0,
        rate_limit: float | None = None,
        drop_rate: float = 0.0,
        seed: int = 0,
    ) -> Faults:
        """Sets fault injection for the requests that follow (all zero turns it off).

        ``latency`` seconds per request, ``error_rate`` chance of a 502/503/504,
        ``rate_limit`` requests per second (sliding 1 s window) past which 429 is served,
        ``drop_rate`` chance of closing the connection without a response.
        """
        return self._dispatcher.set_faults(
            Faults(
                latency=latency,
                error_rate=error_rate,
                rate_limit=rate_limit,
                drop_rate=drop_rate,
                seed=seed,
            )
        )

    @property
    def request_log(self) -> list[tuple[str, str, dict[str, str]]]:
        """``(method, path, query)`` of every request received, in arrival order (a copy)."""
        return self._dispatcher.request_log

    @property
    def request_count(self) -> int:
        """How many requests arrived (faulted ones included)."""
        return self._dispatcher.request_count

    def reset_log(self) -> None:
        """Forgets the requests logged so far."""
        self._dispatcher.reset_log()

"""Clock and ids of the fake: an injectable settable clock and seeded id generator."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta
from typing import Any

from expkit.fake._common import FakeError, _bad

__all__ = ["FakeClock", "IdGenerator", "iso"]


class FakeClock:
    """A settable UTC clock; ``now()`` only moves when ``advance()`` is called."""

    def __init__(self, start: datetime | str | None = None) -> None:
        if start is None:
            start = datetime.now(UTC).replace(microsecond=0)
        self._now = _as_datetime(start, "start")

    def now(self) -> datetime:
        """The current fake time, tz-aware UTC."""
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Moves the clock forward by ``timedelta(**delta)``; returns the new time."""
        step = timedelta(**delta)
        if step < timedelta(0):
            raise ValueError("a FakeClock only moves forward")
        self._now += step
        return self._now

    def __repr__(self) -> str:
        return f"FakeClock({iso(self._now)!r})"


class IdGenerator:
    """Seeded, collision-free numeric string ids and random tokens."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rng = random.Random(seed)
        self._used: set[str] = set()

    def reserve(self, ident: Any) -> None:
        """Marks an existing id as taken."""
        self._used.add(str(ident))

    def next_id(self) -> str:
        """A fresh 7-digit numeric id, as a string."""
        while True:
            ident = str(self._rng.randrange(1_000_000, 10_000_000))
            if ident not in self._used:
                self._used.add(ident)
                return ident

    def token(self, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        """A random string of ``n`` characters."""
        return "".join(self._rng.choice(alphabet) for _ in range(n))

    def __repr__(self) -> str:
        return f"IdGenerator(seed={self.seed!r})"


def iso(when: datetime) -> str:
    """``2026-11-20T09:00:00.000Z``: the API's timestamp form."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _as_datetime(value: datetime | str, field: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise _bad(field, f"{value!r} is not an ISO 8601 timestamp") from None
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    raise _bad(field, f"expected an ISO 8601 timestamp, got {value!r}")


def _time_key(value: Any) -> str:
    """A sortable key of a timestamp: the API's canonical form, parsed only when it is not."""
    if (
        isinstance(value, str)
        and len(value) == 24
        and value[10] == "T"
        and value[19] == "."
        and value[23] == "Z"
    ):
        return value
    if not value:
        return ""
    try:
        return iso(_as_datetime(value, "createdAt"))
    except FakeError:
        return ""

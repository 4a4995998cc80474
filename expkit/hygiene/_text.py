"""How findings' details say numbers, times and names."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["date", "days", "mask_email", "plural", "quoted"]

_DAY = pd.Timedelta(days=1)


def days(delta: pd.Timedelta | None) -> int:
    """Whole days in ``delta`` (0 when unknown)."""
    return 0 if delta is None else int(delta // _DAY)


def plural(n: int, word: str) -> str:
    """``1 day``, ``2,000 users``."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def date(stamp: pd.Timestamp | None) -> str:
    """``2026-08-17`` (``unknown`` when None)."""
    return "unknown" if stamp is None else stamp.strftime("%Y-%m-%d")


def quoted(values: Iterable[str]) -> str:
    """``'a', 'b'``."""
    return ", ".join(repr(v) for v in values)


def mask_email(value: str) -> str:
    """``j…@example.com``: enough to recognise the address, not to copy it."""
    local, _, domain = value.partition("@")
    return f"{local[:1]}…@{domain}"

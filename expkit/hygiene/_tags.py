"""expkit's dated tags: ``expkit:expires=YYYY-MM-DD`` and ``expkit:snooze-until=YYYY-MM-DD``.

A date is a calendar day in UTC; it takes effect at its start (00:00 UTC): a config tagged
``expkit:expires=2026-11-20`` has expired from 2026-11-20 00:00 UTC on, and one tagged
``expkit:snooze-until=2026-11-20`` is silent until then. A tag whose date is not a real
``YYYY-MM-DD`` day (from 1900 to 2261) is reported (rule ``bad-tag``) and has no effect, never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd

__all__ = ["TagDate", "dated_tags", "earliest", "latest", "parse_day"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# days a nanosecond timestamp holds, and whose age (now - day) a Timedelta holds
_FIRST = date(1900, 1, 1)
_LAST = date(2261, 12, 31)


@dataclass(frozen=True)
class TagDate:
    """One dated tag of a config: the tag as written, and its day (None when not a date)."""

    tag: str
    value: str
    day: pd.Timestamp | None  # 00:00 UTC of the day

    @property
    def valid(self) -> bool:
        return self.day is not None


def parse_day(value: str) -> pd.Timestamp | None:
    """``2026-11-20`` as 00:00 UTC of that day; None unless it is exactly a real YYYY-MM-DD."""
    text = value.strip()
    if not _DATE.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:  # 2026-02-30, 2026-13-01
        return None
    if not _FIRST <= day <= _LAST:  # beyond what a nanosecond timestamp holds: not meant
        return None
    return pd.Timestamp(day.year, day.month, day.day, tz="UTC")


def dated_tags(tags: Iterable[str], prefix: str) -> list[TagDate]:
    """The tags that start with ``prefix``, in the order given, each with its parsed day."""
    out = []
    for tag in tags:
        if isinstance(tag, str) and tag.startswith(prefix):
            value = tag[len(prefix) :]
            out.append(TagDate(tag, value, parse_day(value)))
    return out


def earliest(found: Iterable[TagDate]) -> pd.Timestamp | None:
    """The earliest valid day among ``found`` (None when none is valid)."""
    days = [t.day for t in found if t.day is not None]
    return min(days) if days else None


def latest(found: Iterable[TagDate]) -> pd.Timestamp | None:
    """The latest valid day among ``found`` (None when none is valid)."""
    days = [t.day for t in found if t.day is not None]
    return max(days) if days else None

"""A small hand-built org served by the fake (in-process), for snapshot and fetch tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from expkit.fake import FakeAdapter
from expkit.fake._state import FakeClock, State
from tests.support import FETCH_NOW as NOW
from tests.support import fetch_org as make_org


@pytest.fixture
def org() -> dict[str, Any]:
    return make_org()


@pytest.fixture
def server(org: dict[str, Any]) -> Iterator[FakeAdapter]:
    # in-process: these tests need a client, a state and a request log, not a socket
    yield FakeAdapter(State.from_org(org, clock=FakeClock(NOW)))

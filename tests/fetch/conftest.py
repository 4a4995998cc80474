"""A small hand-built org served by the fake, for snapshot and fetch tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fetch_org import NOW, make_org

from expkit.fake import FakeServer
from expkit.fake._state import FakeClock, State


@pytest.fixture
def org() -> dict[str, Any]:
    return make_org()


@pytest.fixture
def server(org: dict[str, Any]) -> Iterator[FakeServer]:
    with FakeServer(State.from_org(org, clock=FakeClock(NOW))) as fake:
        yield fake

"""Fixtures of the fake's tests: the small org (``tests.support.small_org``) served in-process
(``fake``, ``client``) and, for the tests that need real HTTP, over a socket (``server``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from expkit.fake import FakeAdapter, FakeClock, FakeServer, State
from tests.support import T0, small_org


@pytest.fixture
def t0() -> datetime:
    """The start of the fake clock in these tests."""
    return T0


@pytest.fixture
def make_org():
    """A factory of fresh copies of the small org."""
    return small_org


@pytest.fixture
def org() -> dict[str, Any]:
    return small_org()


@pytest.fixture
def state(org: dict[str, Any]) -> State:
    return State.from_org(org, clock=FakeClock(T0))


@pytest.fixture
def fake(state: State) -> FakeAdapter:
    """The state served in-process: no thread, no socket."""
    return FakeAdapter(state)


@pytest.fixture
def server(fake: FakeAdapter) -> Iterator[FakeServer]:
    """The same state over real HTTP, sharing ``fake``'s key and request log."""
    with fake.server() as served:
        yield served


@pytest.fixture
def client(fake: FakeAdapter):
    client = fake.client(max_retries=0, rate_limit=None)
    yield client
    client.close()

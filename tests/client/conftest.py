"""Fixtures of the client tests: clients wired to the ``client_double`` HTTP double.

The double and its helpers live in ``client_double`` (a uniquely named module) so that the
test modules can import them whichever other test folders share the pytest run.
"""

from __future__ import annotations

from typing import Any

import pytest
from client_double import API_KEY, BASE, DoubleAdapter, make_session

from expkit import Client, LegacyClient

# a fixed host, no rate limit, and retries that wait milliseconds
FAST: dict[str, Any] = {
    "base_url": BASE,
    "rate_limit": None,
    "backoff_factor": 0.001,
    "backoff_max": 0.01,
}


@pytest.fixture
def double() -> DoubleAdapter:
    return DoubleAdapter()


@pytest.fixture
def client(double: DoubleAdapter) -> Client:
    return Client(API_KEY, session=make_session(double), **FAST)


@pytest.fixture
def legacy(double: DoubleAdapter) -> LegacyClient:
    return LegacyClient(API_KEY, session=make_session(double), **FAST)

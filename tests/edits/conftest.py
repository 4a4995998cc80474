"""Fixtures for the edit-plan tests: a tiny org, and an in-memory client for pure logic."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import MemoryClient
from tests.support import edits_org as make_org


@pytest.fixture
def org() -> dict[str, Any]:
    return make_org()


@pytest.fixture
def memory(org: dict[str, Any]) -> MemoryClient:
    return MemoryClient(org)

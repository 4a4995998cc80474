"""Fixtures of the hygiene tests: a fresh hand-built org per test."""

from __future__ import annotations

import pytest
from hygiene_org import Org


@pytest.fixture
def org() -> Org:
    return Org()

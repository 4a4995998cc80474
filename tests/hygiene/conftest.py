"""Fixtures of the hygiene tests: a fresh hand-built org per test."""

from __future__ import annotations

import pytest

from tests.support import HygieneOrg as Org


@pytest.fixture
def org() -> Org:
    return Org()

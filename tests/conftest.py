"""Shared test set-up: headless matplotlib, closed figures, no live API key."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _no_live_key(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """Tests never see a real key, and the audit log goes to a temporary directory."""
    monkeypatch.delenv("AMPLITUDE_MANAGEMENT_API_KEY", raising=False)
    monkeypatch.delenv("AMPLITUDE_REGION", raising=False)
    monkeypatch.delenv("EXPKIT_FIXTURES", raising=False)
    monkeypatch.setenv("EXPKIT_AUDIT_LOG", str(tmp_path_factory.mktemp("audit") / "audit.jsonl"))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")

"""Fixtures of the report tests: a small synthetic org recorded as fixtures, for the CLI
(the hand-built orgs come from ``tests.support``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def recorded_org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic org, recorded to a fixtures directory through the real recorder."""
    from expkit.fake import FakeServer
    from expkit.fake._record import record

    out = tmp_path_factory.mktemp("fixtures") / "small"
    server = FakeServer.synthetic(n_flags=12, n_experiments=4, versions_per_config=4, seed=3)
    with server, server.client() as client:
        record(client, out, progress=False)
    return out

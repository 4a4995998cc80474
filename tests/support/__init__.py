"""Test builders shared by the test packages: ``from tests.support import ...``.

One synthetic-org builder (:class:`OrgBuilder`, on top of ``expkit.fake._synth``) and the
small orgs built with it; the pandas-based helpers (``HygieneOrg``, ``NOW``, the versions
frames) load on first use so that tests that need no pandas do not import it.
"""

from __future__ import annotations

import importlib
from typing import Any

from tests.support.doubles import MemoryClient
from tests.support.orgs import (
    DEPLOY_KEY,
    FETCH_NOW,
    NOW_DT,
    T0,
    OrgBuilder,
    days_ago,
    edits_org,
    fetch_org,
    small_org,
)

_LAZY = {
    "NOW": "tests.support.snapshots",
    "HygieneOrg": "tests.support.snapshots",
    "VERSIONS_DTYPES": "tests.support.versions",
    "concat": "tests.support.versions",
    "flag_config": "tests.support.versions",
    "versions_frame": "tests.support.versions",
}

__all__ = [
    "DEPLOY_KEY",
    "FETCH_NOW",
    "NOW",
    "NOW_DT",
    "T0",
    "VERSIONS_DTYPES",
    "HygieneOrg",
    "MemoryClient",
    "OrgBuilder",
    "concat",
    "days_ago",
    "edits_org",
    "fetch_org",
    "flag_config",
    "small_org",
    "versions_frame",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tests.support' has no attribute {name!r}")

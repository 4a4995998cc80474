"""Where bundled data lives."""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def demo_fixtures() -> Path:
    """The directory of the bundled demo org's recorded fixtures."""
    return _REPO_ROOT / "data" / "fixtures" / "demo"


def default_fixtures() -> Path:
    """``EXPKIT_FIXTURES`` if set, else the bundled demo org."""
    env = os.environ.get("EXPKIT_FIXTURES")
    return Path(env) if env else demo_fixtures()

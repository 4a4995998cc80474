"""Where bundled data lives."""

from __future__ import annotations

import os
from pathlib import Path

# shipped inside the package so every install has it; data/fixtures/demo in the repository
# is a link to it
_PACKAGE_DATA = Path(__file__).resolve().parent / "data"


def demo_fixtures() -> Path:
    """The directory of the bundled demo org's recorded fixtures."""
    return _PACKAGE_DATA / "fixtures" / "demo"


def default_fixtures() -> Path:
    """``EXPKIT_FIXTURES`` if set, else the bundled demo org."""
    env = os.environ.get("EXPKIT_FIXTURES")
    return Path(env) if env else demo_fixtures()

"""The plot tests reuse the hand-built versions frames of tests/history."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "history"))

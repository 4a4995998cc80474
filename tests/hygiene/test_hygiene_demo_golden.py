"""The demo org's findings, row for row, as the single-module hygiene wrote them before the
split into rule families (golden/demo_findings.csv). A refactor of the rules must not move a
single detail, date or action. If the demo org or a rule changes on purpose, regenerate:

    EXPKIT_REGEN_GOLDEN=1 python -m pytest tests/hygiene/test_hygiene_demo_golden.py

and review the diff of the CSV like code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

import expkit
from expkit import hygiene
from expkit._paths import demo_fixtures
from expkit.fake import FakeServer

GOLDEN = Path(__file__).parent / "golden" / "demo_findings.csv"


def test_demo_org_findings_match_the_golden_file() -> None:
    with FakeServer.from_fixtures(demo_fixtures()) as server:
        snap = expkit.snapshot(server.client(rate_limit=None), progress=False)
    found = hygiene.check(snap)
    if os.environ.get("EXPKIT_REGEN_GOLDEN"):
        hygiene.write_findings(found, GOLDEN)
    pd.testing.assert_frame_equal(found, hygiene.read_findings(GOLDEN), check_exact=True)

"""The code rules on the demo org and its source tree (data/fixtures/demo-code), as
scripts/make_demo_org.py's CODE_SCENARIOS says, and the cleanup list they lead to."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

import expkit
from expkit import hygiene
from expkit._paths import demo_fixtures
from expkit.fake import FakeServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_demo_org
    finally:
        sys.path.pop(0)
    with FakeServer.from_fixtures(demo_fixtures()) as server:
        snap = expkit.snapshot(server.client(rate_limit=None), progress=False)
    keys = dict(zip(snap.configs["key"], snap.configs["kind"], strict=True))
    keys.update(dict.fromkeys(make_demo_org.CODE_EXTRA_KEYS))
    refs = expkit.code_refs(demo_fixtures().parent / "demo-code", keys, progress=False)
    return make_demo_org, snap, refs, hygiene.check(snap, refs=refs)


def test_the_code_rules_find_the_demo_scenarios(demo) -> None:
    script, snap, _, found = demo
    by_rule = {rule: set(found.loc[found["rule"] == rule, "key"]) for rule in script.CODE_SCENARIOS}
    assert by_rule["archived-but-referenced"] == set(
        script.CODE_SCENARIOS["archived-but-referenced"]
    )
    assert set(script.CODE_SCENARIOS["unreferenced"]) <= by_rule["unreferenced"]
    # every live config is either read by the tree or unreferenced, never both
    live = snap.configs[~snap.configs["archived"].fillna(False).astype(bool)]
    read = set(found.loc[found["rule"] == "unreferenced", "key"]) ^ set(live["key"])
    assert {"express-pay-button", "checkout-tipping", "payments-kill-switch"} <= read
    # the rest of the findings are the ones without code (the golden file's)
    without = hygiene.check(snap)
    other = found[~found["rule"].isin(list(script.CODE_SCENARIOS))].reset_index(drop=True)
    assert other[["rule", "key", "detail"]].equals(without[["rule", "key", "detail"]])


def test_safe_to_archive_is_said_for_the_stale_unreferenced_config(demo) -> None:
    _, _, _, found = demo
    row = found[(found["rule"] == "unreferenced") & (found["key"] == "android-offline-mode")]
    assert row["action"].iloc[0].startswith("Safe to archive: inactive")


def test_the_missing_key_is_reported_without_an_id(demo) -> None:
    _, _, _, found = demo
    row = found[found["key"] == "legacy-coupon-banner"].iloc[0]
    assert row["rule"] == "archived-but-referenced"
    assert pd.isna(row["id"]) and pd.isna(row["kind"])
    assert "banner.js:7" in row["detail"]


def test_the_demo_cleanup_list(demo) -> None:
    _, snap, refs, found = demo
    cleanup = hygiene.cleanup(found, snap, refs)
    assert cleanup[["key", "rule", "keep"]].values.tolist() == [
        ["black-friday-2025-banner", "inactive", "off"],
        ["checkout-address-autocomplete-exp", "fully-rolled-out", "treatment"],
        ["express-pay-button", "fully-rolled-out", "on"],
        ["search-ranking-v2", "fully-rolled-out", "treatment"],
    ]
    # the permanent kill switch is referenced and disabled, but must stay
    assert "payments-kill-switch" not in set(cleanup["key"])

"""The demo source tree (data/fixtures/demo-code) plays the roles notes/docs describe."""

from __future__ import annotations

import json
from pathlib import Path

import expkit

DATA = Path(__file__).resolve().parents[2] / "data" / "fixtures"
CODE = DATA / "demo-code"


def demo_keys() -> dict[str, str]:
    api = DATA / "demo" / "api" / "1"
    flags = json.loads((api / "flags.json").read_text())["flags"]
    experiments = json.loads((api / "experiments.json").read_text())["experiments"]
    return {f["key"]: "flag" for f in flags} | {e["key"]: "experiment" for e in experiments}


def test_demo_roles():
    keys = demo_keys() | {"legacy-coupon-banner": None}
    df = expkit.code_refs(CODE, keys, progress=False)
    found = set(df["key"])
    # archived (or missing from the org) and still referenced
    assert {"wallet-v1", "search-spellcheck-exp", "legacy-coupon-banner"} <= found
    assert df.loc[df["key"] == "legacy-coupon-banner", "kind"].isna().all()
    # archived and gone from code: only in prose without quotes, or in a vendored directory
    assert not {"holiday-2025-theme", "cart-drawer-exp"} & found
    # stale (fully rolled out / inactive) and referenced: the cleanup list's input
    assert {
        "express-pay-button",
        "search-ranking-v2",
        "checkout-address-autocomplete-exp",
        "black-friday-2025-banner",
    } <= found
    # stale and unreferenced: safe to archive
    assert "android-offline-mode" not in found
    # live and referenced; a longer name containing a key never counts
    assert {"checkout-tipping", "wallet-v2", "checkout-one-page-exp", "pricing-anchor-exp"} <= found
    assert (df.loc[df["key"] == "checkout-tipping", "line"] == 6).all()
    # live and unreferenced
    assert not {"tmp-test-flag", "graphql-batching", "color-theme-picker"} & found
    assert df.attrs["binary"] == 1  # web/src/logo.gif holds a quoted key but is binary


def test_demo_alias_only_reference():
    keys = demo_keys()
    assert "ios-widgets" not in set(expkit.code_refs(CODE, keys, progress=False)["key"])
    df = expkit.code_refs(CODE, keys, aliases="cases", progress=False)
    hit = df[df["key"] == "ios-widgets"]
    assert hit["alias"].tolist() == ["iosWidgets"]
    assert hit["path"].str.endswith("ios/Sources/Demo/Paywall.swift").all()

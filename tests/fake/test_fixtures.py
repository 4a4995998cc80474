"""Fixture files: the deterministic writer, the reader, and the bundled demo org."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from expkit._paths import demo_fixtures
from expkit.errors import ValidationError
from expkit.fake import FakeServer, State, load_fixtures
from expkit.fake._fixtures import dump_json, path_segment, write_json

REPO = Path(__file__).resolve().parents[2]
DEMO = demo_fixtures()
RECORDED_AT = datetime(2026, 11, 20, 9, tzinfo=UTC)


def _demo_script():
    name = "make_demo_org"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "make_demo_org.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def demo() -> tuple[dict, dict]:
    return load_fixtures(DEMO)


def _by_key(org: dict) -> dict[str, dict]:
    return {c["key"]: c for kind in ("flags", "experiments") for c in org[kind]}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---- the writer and the reader


def test_dump_json_is_deterministic_sorted_indented_utf8():
    data = dump_json({"b": [1, {"z": None, "a": "é"}], "a": True})
    assert (
        data
        == b'{\n  "a": true,\n  "b": [\n    1,\n    {\n      "a": "\xc3\xa9",\n      "z": null\n    }\n  ]\n}\n'
    )
    assert dump_json({"a": 1, "b": 2}) == dump_json({"b": 2, "a": 1})


def test_write_json_creates_parents(tmp_path):
    path = write_json(tmp_path / "api" / "1" / "x.json", [1, 2])
    assert path.read_bytes() == b"[\n  1,\n  2\n]\n"


@pytest.mark.parametrize(
    ("value", "segment"),
    [("on", "on"), ("a b/c", "a%20b%2Fc"), ("..", "%2E%2E"), (".", "%2E"), ("v1.2", "v1.2")],
)
def test_path_segment_quotes_and_never_walks_up(value, segment):
    assert path_segment(value) == segment


def test_load_demo_matches_its_manifest(demo):
    org, manifest = demo
    counts = manifest["counts"]
    assert manifest["recorded_at"] == "2026-11-20T09:00:00Z"
    assert len(org["flags"]) == counts["flags"] >= 40
    assert len(org["experiments"]) == counts["experiments"] >= 15
    assert len(org["deployments"]) == counts["deployments"]
    assert len(org["mutexes"]) == counts["mutexes"] and len(org["holdouts"]) == counts["holdouts"]
    assert sum(len(v) for v in org["versions"].values()) == counts["versions"]
    users = sum(len(v["users"]) for inc in org["inclusions"].values() for v in inc.values())
    assert users == counts["users"]
    for versions in org["versions"].values():
        assert [v["version"] for v in versions] == list(range(1, len(versions) + 1))


def test_loader_tolerates_missing_optional_files(tmp_path):
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root)
    flag = json.loads((root / "api/1/flags.json").read_text())["flags"][0]
    base = root / "api/1/flags" / flag["id"]
    (base / "versions.json").unlink()
    shutil.rmtree(base / "variants")
    (root / "manifest.json").unlink()
    (root / "api/1/holdouts.json").unlink()
    org, manifest = load_fixtures(root)
    assert manifest == {}
    assert flag["id"] not in org["versions"] and flag["id"] not in org["inclusions"]
    assert len(org["holdouts"]) == 1  # from the per-id file
    state = State.from_org(org)
    assert len(state.versions("flags", flag["id"])) == 1  # the fake makes up version 1


def test_loader_without_list_files_reads_per_id_files(tmp_path):
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root)
    (root / "api/1/experiments.json").unlink()
    org, _ = load_fixtures(root)
    full, _ = load_fixtures(DEMO)
    assert {e["id"] for e in org["experiments"]} == {e["id"] for e in full["experiments"]}


def test_loader_errors_name_the_problem(tmp_path):
    with pytest.raises(ValidationError, match="does not exist"):
        load_fixtures(tmp_path / "nope")
    with pytest.raises(ValidationError, match="api/1"):
        load_fixtures(tmp_path)
    bad = tmp_path / "bad"
    (bad / "api/1").mkdir(parents=True)
    (bad / "api/1/flags.json").write_text("{not json")
    with pytest.raises(ValidationError, match=r"flags\.json is not valid JSON"):
        load_fixtures(bad)


# ---- the demo org


def test_demo_fixtures_are_the_recording_of_the_demo_script(tmp_path):
    fresh = _demo_script().make(tmp_path / "demo")
    committed = sorted(p.relative_to(DEMO) for p in DEMO.rglob("*") if p.is_file())
    recorded = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    assert committed == recorded
    for relative in committed:
        assert (DEMO / relative).read_bytes() == (fresh / relative).read_bytes(), relative


def test_demo_is_small_and_says_it_is_synthetic(demo):
    size = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file())
    assert size < 5_000_000
    assert "synthetic" in demo[1]["source"]


_SECRETISH = (
    re.compile(r"ampex_", re.I),
    re.compile(r"bearer\s", re.I),
    re.compile(r"authorization", re.I),
    re.compile(r"fake-[0-9a-f]{16,}"),
    re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{32,}(?![0-9a-fA-F])"),
    re.compile(r"(?:client|server)-[A-Za-z0-9]{16,}"),
)
_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{24,}")


def _looks_random(token: str) -> bool:
    return bool(
        re.search(r"\d", token) and re.search(r"[a-z]", token) and re.search(r"[A-Z]", token)
    )


def test_demo_fixtures_hold_no_secret():
    for path in DEMO.rglob("*.json"):
        text = path.read_text(encoding="utf-8")
        for pattern in _SECRETISH:
            hit = pattern.search(text)
            assert hit is None, f"{path}: {hit.group(0)!r}"
        for token in _TOKEN.findall(text):
            assert not _looks_random(token), f"{path}: key-like token {token!r}"
    deployments = json.loads((DEMO / "api/1/deployments.json").read_text())["deployments"]
    assert [d["key"] for d in deployments] == [
        f"<deployment-key:{i}>" for i in range(1, len(deployments) + 1)
    ]


def test_demo_has_one_clear_case_of_every_hygiene_rule(demo):
    org, _ = demo
    c = _by_key(org)
    versions = org["versions"]
    deployments = {d["id"]: d for d in org["deployments"]}

    def last_change(key: str) -> datetime:
        return _when(versions[c[key]["id"]][-1]["createdAt"])

    def live(config: dict) -> list[str]:
        return [d for d in config["deployments"] if not deployments[d]["deleted"]]

    # fully-rolled-out: 100% to one variant, unchanged for 94 days
    flag = c["express-pay-button"]
    assert flag["enabled"] and flag["rolloutPercentage"] == 100 and live(flag)
    assert [v["key"] for v in flag["variants"]] == ["on"] and not flag["targetSegments"]
    assert RECORDED_AT - last_change("express-pay-button") >= timedelta(days=94)
    assert RECORDED_AT - last_change("express-pay-button") < timedelta(days=95)
    # inactive: disabled for 60 days; enabled at 0%
    assert not c["black-friday-2025-banner"]["enabled"]
    assert RECORDED_AT - last_change("black-friday-2025-banner") >= timedelta(days=60)
    offline = c["android-offline-mode"]
    assert (
        offline["enabled"] and offline["rolloutPercentage"] == 0 and not offline["targetSegments"]
    )
    # no-deployment: none at all, or only a soft-deleted one
    assert c["referral-rewards-v2"]["enabled"] and c["referral-rewards-v2"]["deployments"] == []
    invoice = c["invoice-pdf-v2"]
    assert invoice["enabled"] and invoice["deployments"] and not live(invoice)
    # empty-condition and zero-percent-segment
    conds = [x for s in c["pricing-annual-toggle"]["targetSegments"] for x in s["conditions"]]
    assert any(x["values"] == [] for x in conds)
    assert any(s["percentage"] == 0 for s in c["autocomplete-typo-tolerance"]["targetSegments"])
    # weight-mismatch: a weight naming a missing variant; a variant with no weight
    cart = c["cart-upsell-carousel"]
    assert set(cart["rolloutWeights"]) - {v["key"] for v in cart["variants"]} == {"treatment-old"}
    checklist = c["onboarding-checklist-v3"]
    assert {v["key"] for v in checklist["variants"]} - set(checklist["rolloutWeights"]) == {
        "spacious"
    }
    # dangling-dependency: on an archived flag, and on an id that does not exist
    ids = {x["id"]: x for x in c.values()}
    group_ids = {g["id"] for g in org["mutexes"] + org["holdouts"]}
    (parent,) = c["wallet-apple-pay"]["parentDependencies"]["flags"]
    assert ids[parent]["archived"] and ids[parent]["key"] == "wallet-v1"
    (missing,) = c["3ds-challenge-v2"]["parentDependencies"]["flags"]
    assert missing not in ids and missing not in group_ids
    # inclusion-overload: a variant with >= 1,800 users (under the API's 2,000)
    counts = [len(v["users"]) for v in org["inclusions"][c["ios-beta-program"]["id"]].values()]
    assert any(1800 <= n < 2000 for n in counts)
    # pii-inclusion: e-mail inclusions
    users = org["inclusions"][c["support-priority-queue"]["id"]]["on"]["users"]
    assert sum("@" in u for u in users) >= 2
    # long-running-experiment: running, started 150 days ago, no decision
    exp = c["checkout-one-page-exp"]
    assert exp["state"] == "running" and exp["decision"] is None and exp["enabled"]
    assert exp["startDate"] == (RECORDED_AT - timedelta(days=150)).strftime("%Y-%m-%d")
    # undocumented: no description and/or no tags
    assert c["tmp-test-flag"]["description"] == "" and c["tmp-test-flag"]["tags"] == []
    assert c["graphql-batching"]["tags"] == []
    assert not c["push-digest"]["description"].strip()
    # recent-change: changed within the last 7 days
    assert RECORDED_AT - last_change("search-filters-redesign") < timedelta(days=7)
    # a description the report must escape
    assert any("<script>alert(1)</script>" in x["description"] for x in c.values())


def test_demo_histories_are_real(demo):
    org, _ = demo
    times = [_when(v["createdAt"]) for vs in org["versions"].values() for v in vs]
    assert RECORDED_AT - min(times) > timedelta(days=500)
    assert max(times) <= RECORDED_AT
    assert len({v["createdBy"] for vs in org["versions"].values() for v in vs}) >= 6
    ramp = [
        v["flagConfig"]["rolloutPercentage"]
        for v in org["versions"][_by_key(org)["express-pay-button"]["id"]]
    ]
    assert [p for p in ramp if p] == [5, 25, 50, 100]
    assert any(e["state"] == "decision-made" for e in org["experiments"])
    assert any(e["state"] == "planning" for e in org["experiments"])
    assert any(c["archived"] for kind in ("flags", "experiments") for c in org[kind])


def test_hygiene_finds_exactly_the_demo_scenarios():
    import expkit
    from expkit import hygiene

    with FakeServer.from_fixtures(DEMO) as server:
        snap = expkit.snapshot(server.client(rate_limit=None), progress=False)
    findings = hygiene.check(snap)
    found: dict[str, set[str]] = {}
    for rule, key in zip(findings["rule"], findings["key"], strict=True):
        found.setdefault(rule, set()).add(key)
    script = _demo_script()
    expected = {rule: set(keys) for rule, keys in script.SCENARIOS.items()}
    # the code rules need code references (tests/hygiene/test_hygiene_code_rules.py)
    assert set(expected) | set(script.CODE_SCENARIOS) == set(hygiene.RULES)
    assert set(script.CODE_SCENARIOS) == {r.id for r in hygiene.RULES.values() if r.needs_refs}
    assert found == expected
    # snoozed configs have problems, held back until their date
    snoozed = {z["key"]: z for z in findings.attrs["snoozed"]}
    assert set(snoozed) == set(script.SNOOZED)
    assert all(z["silenced"] > 0 for z in snoozed.values())

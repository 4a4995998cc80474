"""report.write with code references: where in code, cleanup.csv, not-checked code rules,
the snoozed footnote, and findings about keys no config has in the week-over-week match."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from expkit import hygiene, report
from expkit.errors import ValidationError
from tests.support import HygieneOrg as Org


def refs_frame(*rows: tuple[str, str | None, str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": pd.array([r[0] for r in rows], dtype="string"),
            "kind": pd.array([r[1] for r in rows], dtype="string"),
            "path": pd.array([r[2] for r in rows], dtype="string"),
            "line": pd.array([r[3] for r in rows], dtype="Int64"),
        }
    )


def org() -> Org:
    o = Org()
    o.flag("off", enabled=False, history=[(200, {"enabled": True}), (60, {})])
    o.flag("gone", archived=True)
    o.flag("unread")
    o.flag("snoozed", enabled=False, tags=["t", "expkit:snooze-until=2026-12-24"])
    return o


REFS = refs_frame(
    *((("off", "flag", f"src/f{i}.ts", i)) for i in range(1, 6)),
    ("gone", "flag", "src/old.py", 4),
    ("deleted", None, "src/old.py", 9),
)


def test_where_in_code_and_cleanup_csv(tmp_path: Path) -> None:
    snap = org().snapshot()
    found = hygiene.check(snap, refs=REFS)
    out = report.write(found, snap, tmp_path, refs=REFS, plots=False)
    assert sorted(p.name for p in out.iterdir()) == sorted([*report.FILES, *report.CODE_FILES])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Where in code" in html
    # the first three places, then a count
    assert "src/f1.ts:1, src/f2.ts:2, src/f3.ts:3 (+2 more)" in html
    assert "src/old.py:9" in html
    cleanup = pd.read_csv(out / "cleanup.csv")
    assert cleanup["key"].tolist() == ["off"]
    assert cleanup.loc[0, "keep"] == "off" and cleanup.loc[0, "references"] == 5
    for rule_id in ("archived-but-referenced", "unreferenced"):
        row = re.search(rf"<code>{rule_id}</code>.*?</tr>", html.split('id="rules"')[1], re.S)
        assert row and "not checked" not in row.group(0)
    # findings.csv round-trips the finding without an id
    back = hygiene.read_findings(out / "findings.csv")
    assert back[back["key"] == "deleted"]["id"].isna().all()


def test_without_refs_the_code_rules_are_not_checked(tmp_path: Path) -> None:
    snap = org().snapshot()
    out = report.write(hygiene.check(snap), snap, tmp_path, plots=False)
    assert not (out / "cleanup.csv").exists()
    html = (out / "report.html").read_text(encoding="utf-8")
    for rule_id in ("archived-but-referenced", "unreferenced"):
        row = re.search(rf"<code>{rule_id}</code>.*?</tr>", html, re.S)
        assert row and "not checked" in row.group(0)
    assert "No code was scanned" in html and "Where in code" not in html
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "_No code was scanned: `archived-but-referenced` and `unreferenced` not checked._" in (
        summary
    )


def test_snoozed_configs_are_listed_in_a_footnote(tmp_path: Path) -> None:
    snap = org().snapshot()
    found = hygiene.check(snap)
    assert "snoozed" not in set(found["key"])
    out = report.write(found, snap, tmp_path, plots=False)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert re.search(r"<code>snoozed</code> until 2026-12-24 \(\d findings? held back\)", html)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "Snoozed until a date (no findings shown): snoozed until 2026-12-24" in summary


def test_noisy_keys_are_named(tmp_path: Path) -> None:
    snap = org().snapshot()
    refs = REFS.copy()
    refs.attrs["noisy_keys"] = {"off": 5}
    out = report.write(hygiene.check(snap, refs=refs), snap, tmp_path, refs=refs, plots=False)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "probably also as an ordinary word: <code>off</code> (5)" in html


def test_compare_matches_findings_without_an_id_by_key() -> None:
    snap = org().snapshot()
    now = hygiene.check(snap, refs=REFS)
    before = hygiene.check(snap, refs=REFS.iloc[:-1])  # "deleted" was not in the code yet
    comparison = report.compare(now, before)
    assert comparison.new["key"].tolist() == ["deleted"]
    assert comparison.resolved.empty
    assert report.compare(now, now).new.empty


def test_refs_must_be_a_frame(tmp_path: Path) -> None:
    snap = org().snapshot()
    with pytest.raises(ValidationError) as err:
        report.write(hygiene.check(snap), snap, tmp_path, refs="src/")  # type: ignore[arg-type]
    assert err.value.field == "refs"


def test_the_footer_names_the_rules_that_look_at_archived_configs(tmp_path: Path) -> None:
    snap = org().snapshot()
    out = report.write(hygiene.check(snap, refs=REFS), snap, tmp_path, refs=REFS, plots=False)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert (
        "Archived configs are skipped by every rule except <code>archived-but-referenced</code>, "
        "<code>bad-tag</code>, <code>pii-inclusion</code> and <code>recent-change</code>."
    ) in html
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "safe to remove from the code: cleanup.csv" in summary

"""`expkit refs` and `expkit report --code`: the demo org against its demo source tree."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from expkit import hygiene
from expkit._paths import demo_fixtures
from expkit.cli import main

CODE = demo_fixtures().parent / "demo-code"


def test_refs_prints_every_place_and_a_summary(capsys) -> None:
    assert main(["refs", str(CODE), "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"{CODE}/web/src/banner.js:3: black-friday-2025-banner (flag)" in lines
    assert f"{CODE}/web/src/search/ranking.ts:13: search-spellcheck-exp (experiment)" in lines
    # the vendored copy and the binary file are not read; prose without quotes never counts
    assert not any("node_modules" in line or "logo.gif" in line for line in lines)
    assert not any(line.endswith("holiday-2025-theme (flag)") for line in lines)
    assert lines[0].startswith("expkit: no AMPLITUDE_MANAGEMENT_API_KEY set; using the offline")
    summary = [line for line in lines[1:] if line.startswith("expkit: ")]
    assert summary == [
        "expkit: 18 references to 16 keys in 10 files scanned (1 binary file skipped)"
    ]


def test_refs_out_writes_the_csv_atomically(tmp_path: Path, capsys) -> None:
    out = tmp_path / "refs.csv"
    out.write_text("last week's\n", encoding="utf-8")
    argv = ["refs", str(CODE), "--out", str(out), "--no-progress", "--key", "legacy-coupon-banner"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "banner.js:3" not in printed  # the places go to the file
    assert printed.splitlines()[-1] == f"  {out}"
    refs = pd.read_csv(out)
    assert list(refs.columns) == ["key", "kind", "path", "line", "column", "text", "alias"]
    assert len(refs) == 19
    legacy = refs[refs["key"] == "legacy-coupon-banner"]
    assert legacy["path"].tolist() == [f"{CODE}/web/src/banner.js"]
    assert legacy["kind"].isna().all()  # a key the org does not know has no kind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refs.csv"]  # no temp file left


def test_refs_aliases_find_other_spellings(capsys) -> None:
    assert main(["refs", str(CODE), "--no-progress"]) == 0
    assert "ios-widgets" not in capsys.readouterr().out
    assert main(["refs", str(CODE), "--no-progress", "--aliases", "cases"]) == 0
    assert "Paywall.swift:10: ios-widgets (flag)" in capsys.readouterr().out


def test_refs_exclude(capsys) -> None:
    assert main(["refs", str(CODE), "--no-progress", "--exclude", "web/"]) == 0
    out = capsys.readouterr().out
    assert "/web/" not in out and "Flags.kt:5: wallet-v1" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (
            ["refs", "/no/such/tree"],
            "expkit refs: error: /no/such/tree: no such file or directory.",
        ),
        (
            ["refs", str(CODE), "--out", "{tmp}"],
            "is a directory; give a file name such as refs.csv.",
        ),
        (
            ["refs", str(CODE), "--out", "{tmp}/missing/refs.csv"],
            "does not exist.",
        ),
        (
            ["report", "--out", "{tmp}/r", "--code", "/no/such/tree"],
            "expkit report: error: --code /no/such/tree: no such file or directory.",
        ),
    ],
)
def test_bad_paths_exit_2_in_one_line(argv, words, tmp_path: Path, capsys) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and words in err
    assert not (tmp_path / "r").exists()  # bad input is found before anything is fetched


def test_report_code_prints_the_scan_and_the_cleanup_file(tmp_path: Path, capsys) -> None:
    out = tmp_path / "report"
    assert main(["report", "--out", str(out), "--code", str(CODE), "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "expkit: 18 references to 16 keys in 10 files scanned (1 binary file skipped)" in lines
    assert f"  {out / 'cleanup.csv'}" in lines
    found = hygiene.read_findings(out / "findings.csv")
    code_rules = found[found["rule"].isin(["archived-but-referenced", "unreferenced"])]
    # without --key legacy-coupon-banner only the archived configs are found
    assert sorted(code_rules.loc[code_rules["rule"] == "archived-but-referenced", "key"]) == [
        "search-spellcheck-exp",
        "wallet-v1",
    ]
    unread = set(code_rules.loc[code_rules["rule"] == "unreferenced", "key"])
    assert {"android-offline-mode", "tmp-test-flag", "ios-widgets"} <= unread
    assert "express-pay-button" not in unread


def test_an_api_error_exits_3_in_one_line(monkeypatch, capsys) -> None:
    import expkit
    from expkit.fake import FakeServer

    with FakeServer.synthetic(n_flags=3, n_experiments=1, versions_per_config=2) as server:
        client = server.client(api_key="wrong-key-1234567", max_retries=0)
        monkeypatch.setattr(expkit, "connect", lambda *args, **kwargs: client)
        assert main(["refs", str(CODE), "--no-progress"]) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith("expkit refs: ") and "\n" not in err
    assert "401" in err and "wrong-key-1234567" not in err

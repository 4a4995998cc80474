"""`expkit report` end to end: the demo org, a recorded org, options and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from expkit import hygiene, report
from expkit.cli import main


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    """One `expkit report` on the bundled demo org (no key, no --fixtures), saving a snapshot."""
    out = tmp_path_factory.mktemp("demo") / "report"
    snap = out.parent / "snap"
    code = main(["report", "--out", str(out), "--save-snapshot", str(snap), "--no-progress"])
    return out, snap, code


def test_demo_report_writes_the_three_files(demo_run, capsys: pytest.CaptureFixture) -> None:
    out, snap, code = demo_run
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", "report.html", "summary.md"]
    assert (snap / "meta.json").is_file()


def test_every_rule_fires_on_the_demo_org(demo_run) -> None:
    out, _, _ = demo_run
    found = hygiene.read_findings(out / "findings.csv")
    assert set(found["rule"]) == set(hygiene.RULES)
    html = (out / "report.html").read_text(encoding="utf-8")
    for rule_id in hygiene.RULES:
        assert f'id="rule-{rule_id}"' in html
    # the demo description with a script tag is shown escaped, never as markup
    assert "<script>alert(1)</script>" not in html
    assert "<h1>demo org (synthetic, offline)</h1>" in html


def test_demo_findings_are_exact_where_the_demo_says_so(demo_run) -> None:
    out, _, _ = demo_run
    found = hygiene.read_findings(out / "findings.csv").set_index(["rule", "key"])
    assert "for 94 days" in found.loc[("fully-rolled-out", "express-pay-button"), "detail"]
    overload = found.loc[("inclusion-overload", "ios-beta-program")]
    assert overload["severity"] == "warning"
    assert "1,850 users" in overload["detail"]


def test_output_and_fail_on(tmp_path: Path, recorded_org: Path, capsys) -> None:
    out = tmp_path / "a"
    code = main(
        [
            "report",
            "--fixtures",
            str(recorded_org),
            "--out",
            str(out),
            "--no-progress",
            "--fail-on",
            "warning",
        ]
    )
    # the recorded org has warnings
    assert code == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    # recorded fixtures are neither the demo org nor a sign that no key is set
    assert lines[0].startswith(f"expkit: using the offline fixtures in {recorded_org} (fake")
    found = hygiene.read_findings(out / "findings.csv")
    counts = found["severity"].value_counts()
    assert lines[1] == (
        f"expkit: {report._counted(len(found), 'finding')}: "
        f"{report._counted(counts.get('error', 0), 'error')}, "
        f"{report._counted(counts.get('warning', 0), 'warning')}, "
        f"{counts.get('info', 0)} info (16 configs checked)"
    )
    assert lines[2:5] == [
        f"  {out / name}" for name in ("report.html", "findings.csv", "summary.md")
    ]
    assert "--fail-on warning" in captured.err

    # with every warning and error rule off (a TOML config) the same org passes
    config = tmp_path / "hygiene.toml"
    loud = [r.id for r in hygiene.RULES.values() if r.severity != "info"]
    config.write_text("[hygiene]\ndisabled = [" + ", ".join(f'"{r}"' for r in loud) + "]\n")
    code = main(
        [
            "report",
            "--fixtures",
            str(recorded_org),
            "--out",
            str(tmp_path / "b"),
            "--no-progress",
            "--fail-on",
            "warning",
            "--config",
            str(config),
            "--previous",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    # disabled rules are not compared: their findings are not "resolved"
    assert "since the previous report: 0 new, 0 resolved" in printed
    html = (tmp_path / "b" / "report.html").read_text(encoding="utf-8")
    assert "Since the last report" in html and "not checked" in html


def test_stale_days_option(tmp_path: Path, demo_run, capsys) -> None:
    _, snap, _ = demo_run
    code = main(
        [
            "report",
            "--out",
            str(tmp_path / "r"),
            "--no-progress",
            "--stale-days",
            "100",
            "--previous",
            str(snap),
        ]
    )
    assert code == 0
    found = hygiene.read_findings(tmp_path / "r" / "findings.csv")
    stale = found.loc[found["rule"] == "fully-rolled-out", "key"].tolist()
    assert stale == ["checkout-address-autocomplete-exp"]  # 120 days; 94 and 45 are not ≥ 100
    out = capsys.readouterr().out
    # the previous snapshot is checked with the same thresholds: the org did not change
    assert "since the previous report: 0 new, 0 resolved" in out


def test_bad_input_exits_2_with_a_message(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "missing.toml"
    assert main(["report", "--out", str(tmp_path / "r"), "--config", str(missing)]) == 2
    assert "missing.toml" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "r"), "--previous", str(tmp_path)]) == 2
    assert "previous" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "r"), "--stale-days", "-3"]) == 2
    assert "stale_days" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_user_errors_exit_2_without_a_traceback(tmp_path: Path, capsys) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("disabled = 5\n")
    cases = [
        (["snapshot", "--fixtures", str(tmp_path / "nope"), "--out", str(tmp_path / "s")], "nope"),
        (["snapshot", "--out", str(afile)], "afile"),
        (["report", "--out", str(afile)], "afile"),
        (["report", "--out", str(afile / "sub")], "afile"),
        (["report", "--out", str(tmp_path / "r"), "--config", str(bad_toml)], "disabled"),
        (["report", "--out", str(tmp_path / "r"), "--config", str(tmp_path)], "directory"),
    ]
    for argv, named in cases:
        assert main([*argv, "--no-progress"]) == 2, argv
        captured = capsys.readouterr()
        assert f"expkit {argv[0]}: error: " in captured.err, argv
        assert named in captured.err and "Traceback" not in captured.err, argv
        # a bad --out is caught before anything is fetched
        assert "findings" not in captured.out and "snapshot of" not in captured.out, argv
    assert not (tmp_path / "r").exists() and not (tmp_path / "s").exists()


def test_first_line_with_a_key_and_fixtures(
    tmp_path: Path, recorded_org: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("AMPLITUDE_MANAGEMENT_API_KEY", "not-a-real-key-123")
    argv = ["report", "--fixtures", str(recorded_org), "--out", str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "offline" in first and str(recorded_org) in first
    assert "no AMPLITUDE_MANAGEMENT_API_KEY" not in first and "demo org" not in first


@pytest.mark.parametrize(
    ("flag", "tty", "bars"),
    [
        (None, False, False),
        (None, True, True),
        ("--progress", False, True),
        ("--no-progress", True, False),
    ],
)
def test_progress_bars_default_to_a_terminal_only(
    recorded_org: Path, tmp_path: Path, monkeypatch, capsys, flag, tty, bars
) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: tty, raising=False)
    argv = ["snapshot", "--fixtures", str(recorded_org), "--out", str(tmp_path / "snap")]
    assert main(argv + ([flag] if flag else [])) == 0
    assert ("inclusions" in capsys.readouterr().err) is bars

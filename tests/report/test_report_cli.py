"""`expkit report` end to end: the demo org, a recorded org, options and exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from expkit import hygiene
from expkit.cli import main


def _counted(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


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
    # without --code the code rules are said to be not checked
    html = (out / "report.html").read_text(encoding="utf-8")
    for rule_id in ("archived-but-referenced", "unreferenced"):
        row = re.search(rf"<code>{rule_id}</code>.*?</tr>", html, flags=re.S)
        assert row and "not checked" in row.group(0)
    assert "No code was scanned" in html and "Where in code" not in html


@pytest.fixture(scope="module")
def demo_code_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """`expkit report --code` on the demo org and its source tree, with the one deleted key."""
    import sys

    from expkit._paths import demo_fixtures

    out = tmp_path_factory.mktemp("demo-code") / "report"
    code_dir = demo_fixtures().parent / "demo-code"
    argv = ["report", "--out", str(out), "--code", str(code_dir), "--no-progress"]
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    try:
        import make_demo_org
    finally:
        sys.path.pop(0)
    for key in make_demo_org.CODE_EXTRA_KEYS:
        argv += ["--key", key]
    return out, main(argv), str(code_dir)


def test_every_rule_fires_on_the_demo_org(demo_code_run, capsys) -> None:
    out, code, code_dir = demo_code_run
    assert code == 0
    found = hygiene.read_findings(out / "findings.csv")
    assert set(found["rule"]) == set(hygiene.RULES)
    html = (out / "report.html").read_text(encoding="utf-8")
    for rule_id in hygiene.RULES:
        assert f'id="rule-{rule_id}"' in html
    # the demo description with a script tag is shown escaped, never as markup
    assert "<script>alert(1)</script>" not in html
    assert "<h1>demo org (synthetic, offline)</h1>" in html
    # the code rules ran: where in code is shown, and cleanup.csv written
    assert "Where in code" in html and "No code was scanned" not in html
    assert f"{code_dir}/web/src/banner.js:3" in html
    assert sorted(p.name for p in out.iterdir()) == [
        "cleanup.csv",
        "findings.csv",
        "report.html",
        "summary.md",
    ]
    cleanup = pd.read_csv(out / "cleanup.csv")
    assert dict(zip(cleanup["key"], cleanup["keep"], strict=True)) == {
        "black-friday-2025-banner": "off",
        "checkout-address-autocomplete-exp": "treatment",
        "express-pay-button": "on",
        "search-ranking-v2": "treatment",
    }
    # snoozed configs are named in the footnote
    assert "gift-wrap-option</code> until 2026-12-15" in html


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
        f"expkit: {_counted(len(found), 'finding')}: "
        f"{_counted(counts.get('error', 0), 'error')}, "
        f"{_counted(counts.get('warning', 0), 'warning')}, "
        f"{counts.get('info', 0)} info (16 configs checked)"
    )
    assert lines[2:5] == [
        f"  {out / name}" for name in ("report.html", "findings.csv", "summary.md")
    ]
    # findings are not a failure of the command: one line on stderr, no "error:"
    assert captured.err.splitlines() == [
        f"expkit: failing (--fail-on warning): {_counted(int(counts.get('error', 0) + counts.get('warning', 0)), 'finding')} at warning or worse."
    ]

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
    # and the line says which rules were compared
    # (nor are the code rules: no --code, so they did not run)
    code_rules = [r for r in ("archived-but-referenced", "unreferenced") if r not in loud]
    compared = len(hygiene.RULES) - len(loud) - 1 - len(code_rules)
    assert f"({compared} of {len(hygiene.RULES)} rules compared; not compared: " in printed
    not_compared = printed.split("not compared: ")[1].split(")")[0].split(", ")
    assert sorted(not_compared) == sorted([*loud, "recent-change", *code_rules])
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
    n = len(hygiene.RULES)
    assert (
        f"({n - 3} of {n} rules compared; not compared: archived-but-referenced, recent-change, "
        "unreferenced)"
    ) in out


def test_bad_input_exits_2_with_a_message(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "missing.toml"
    assert main(["report", "--out", str(tmp_path / "r"), "--config", str(missing)]) == 2
    assert "missing.toml" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "r"), "--previous", str(tmp_path)]) == 2
    assert "previous" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "r"), "--stale-days", "-3"]) == 2
    # said in CLI terms: the option, not the Python argument
    err = capsys.readouterr().err
    assert "--stale-days must be a whole number of days ≥ 0, not -3." in err
    assert "stale_days" not in err
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


# --------------------------------------------------------------------------- exit codes


def _one_line(capsys: pytest.CaptureFixture, command: str = "report") -> str:
    """The single stderr line of a failed command (and nothing fetched: stdout is empty)."""
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"expkit {command}: error: ") and lines[0].endswith(".")
    assert "Traceback" not in captured.err
    return lines[0]


def _corrupt_previous(demo_run, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Broken --previous inputs, each with the words its error must contain."""
    out, snap, _ = demo_run
    cases: dict[str, tuple[Path, str]] = {}

    def copy_snapshot(name: str) -> Path:
        import shutil

        target = tmp_path / name
        shutil.copytree(snap, target)
        return target

    truncated = copy_snapshot("truncated-meta")
    meta = (truncated / "meta.json").read_text()
    (truncated / "meta.json").write_text(meta[: len(meta) // 2])
    cases["truncated meta.json"] = (truncated, "truncated meta.json")

    empty = copy_snapshot("empty-parquet")
    (empty / "configs.parquet").write_bytes(b"")
    cases["0-byte parquet"] = (empty, "snapshot")

    cut = copy_snapshot("cut-parquet")
    data = (cut / "versions.parquet").read_bytes()
    (cut / "versions.parquet").write_bytes(data[: len(data) // 3])
    cases["truncated parquet"] = (cut, "snapshot")

    junk = tmp_path / "junk.csv"
    junk.write_bytes(b'rule,severity\n"unclosed,\x00\xff\n')
    cases["junk findings.csv"] = (junk, "findings")

    renamed = tmp_path / "renamed.csv"
    text = (out / "findings.csv").read_text(encoding="utf-8")
    renamed.write_text(text.replace("severity", "level", 1), encoding="utf-8")
    cases["renamed column"] = (renamed, "findings")

    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    cases["binary findings.csv"] = (binary, "findings")

    not_csv = tmp_path / "notes.txt"
    not_csv.write_text("hello")
    cases["not a csv"] = (not_csv, "findings.csv")
    return cases


def test_a_corrupt_previous_is_bad_input_in_one_line_naming_the_file(
    demo_run, tmp_path: Path, capsys
) -> None:
    for what, (path, words) in _corrupt_previous(demo_run, tmp_path).items():
        argv = ["report", "--out", str(tmp_path / "r"), "--no-progress", "--previous", str(path)]
        assert main(argv) == 2, what
        line = _one_line(capsys)
        assert f"--previous {path}" in line and words in line, (what, line)
        assert "internal error" not in line and "bug" not in line, (what, line)
    # found before anything was fetched or written
    assert not (tmp_path / "r").exists()


def test_debug_shows_the_traceback(demo_run, tmp_path: Path, capsys) -> None:
    path, _ = _corrupt_previous(demo_run, tmp_path)["truncated meta.json"]
    argv = ["report", "--out", str(tmp_path / "r"), "--previous", str(path), "--debug"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1].startswith("expkit report: error: --previous ")


def _connect_to(client):
    def connect(fixtures=None, *, quiet=False, **options):
        return client

    return connect


def test_an_api_error_exits_3_in_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    import expkit
    from expkit.fake import FakeServer

    with FakeServer.synthetic(n_flags=3, n_experiments=1, versions_per_config=2) as server:
        client = server.client(api_key="wrong-key-1234567", max_retries=0)
        monkeypatch.setattr(expkit, "connect", _connect_to(client))
        assert main(["report", "--out", str(tmp_path / "r"), "--no-progress"]) == 3
    line = _one_line(capsys)
    assert "401" in line and "wrong-key-1234567" not in line


def test_a_network_failure_exits_3_in_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    import socket

    import expkit

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    client = expkit.Client(api_key="k" * 20, base_url=f"http://127.0.0.1:{port}", max_retries=0)
    monkeypatch.setattr(expkit, "connect", _connect_to(client))
    argv = ["snapshot", "--out", str(tmp_path / "s"), "--no-progress"]
    assert main(argv) == 3
    _one_line(capsys, "snapshot")
    assert main(["report", "--out", str(tmp_path / "r"), "--no-progress"]) == 3
    _one_line(capsys)
    assert not (tmp_path / "s").exists() and not (tmp_path / "r").exists()


def test_a_bug_is_neither_findings_nor_bad_input(tmp_path: Path, monkeypatch, capsys) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("something\nunexpected")

    monkeypatch.setattr(hygiene, "check", broken)
    assert main(["report", "--out", str(tmp_path / "r"), "--no-progress"]) == 70
    line = _one_line(capsys)
    assert "internal error (RuntimeError: something unexpected)" in line
    assert "--debug" in line


def test_a_bad_region_in_the_environment_is_said_in_cli_terms(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("AMPLITUDE_REGION", "mars")
    monkeypatch.setenv("AMPLITUDE_MANAGEMENT_API_KEY", "not-a-real-key-123")
    assert main(["report", "--out", str(tmp_path / "r")]) == 2
    line = _one_line(capsys)
    assert "AMPLITUDE_REGION='mars' is not a region" in line and "--region" in line
    assert "region=" not in line.replace("AMPLITUDE_REGION=", "")


def test_a_bad_flag_prints_the_report_usage_and_exits_2(capsys) -> None:
    assert main(["report", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: expkit report ")
    assert err.splitlines()[-1] == "expkit report: error: unrecognized arguments: --bogus."
    assert main(["report", "--fail-on", "loud"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: expkit report ") and "invalid choice: 'loud'" in err


def test_report_help_shows_a_description_defaults_and_exit_codes(capsys) -> None:
    assert main(["report", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Write report.html, findings.csv and summary.md" in text
    assert "(default: report)" in text and "(default: from --config, else 30)" in text
    # --previous says which rules it compares
    assert "compared except recent-change" in text
    for row in ("0 done", "1 findings at or above --fail-on", "2 bad input", "3 the API"):
        assert row in text


def _summary_counts(out: Path) -> str:
    import re

    text = (out / "summary.md").read_text(encoding="utf-8")
    new, resolved, still = re.search(
        r"\*\*(\d+) new · (\d+) resolved · (\d+) still open", text
    ).groups()
    return f"{new} new, {resolved} resolved, {still} still open"


def test_the_comparison_line_agrees_with_the_report(demo_run, tmp_path: Path, capsys) -> None:
    out, _, _ = demo_run
    found = hygiene.read_findings(out / "findings.csv")
    # a week ago: two findings were not there yet, and one since fixed was
    earlier = found.iloc[2:].copy()
    gone = found.iloc[[0]].copy()
    gone["id"] = "999999"
    earlier = pd.concat([earlier, gone], ignore_index=True)
    hygiene.write_findings(earlier, tmp_path / "earlier.csv")
    no_inclusions = tmp_path / "snap"
    assert main(["snapshot", "--out", str(no_inclusions), "--no-inclusions"]) == 0
    capsys.readouterr()
    for previous in (tmp_path / "earlier.csv", no_inclusions):
        report_dir = tmp_path / f"r-{previous.name}"
        assert main(["report", "--out", str(report_dir), "--previous", str(previous)]) == 0
        printed = capsys.readouterr().out
        line = next(x for x in printed.splitlines() if "since the previous report" in x)
        assert _summary_counts(report_dir) in line, previous
        if previous.suffix == ".csv":
            assert "since the previous report: 2 new, 1 resolved" in line
    # the snapshot without inclusions leaves the inclusion rules out, and says so
    assert (
        "not compared: archived-but-referenced, inclusion-overload, pii-inclusion, "
        "recent-change, unreferenced)"
    ) in line

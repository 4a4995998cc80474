"""The report suggests an `expkit archive` command per stale rule group, and it runs (issue 14)."""

from __future__ import annotations

import re
import shlex

import expkit
from expkit import cli


def test_the_report_suggests_a_runnable_archive_command_per_stale_group(tmp_path, capsys):
    client = expkit.connect(quiet=True)
    snap = expkit.snapshot(client, progress=False)
    findings = expkit.hygiene.check(snap)
    out = expkit.report.write(findings, snap, tmp_path / "report", plots=False)
    summary = (out / "summary.md").read_text()
    page = (out / "report.html").read_text()
    commands = re.findall(r"Try: `(expkit archive [^`]+)`", summary)
    assert sorted(commands) == [
        "expkit archive --findings report/findings.csv --rule fully-rolled-out --dry-run",
        "expkit archive --findings report/findings.csv --rule inactive --dry-run",
    ]
    for command in commands:
        assert f"<code>{command}</code>" in page
    # the suggestion is only for the stale groups
    assert "--rule undocumented" not in summary

    argv = shlex.split(commands[1])[1:]
    argv[argv.index("report/findings.csv")] = str(out / "findings.csv")
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "archive 2 config(s): 2 ready, 0 blocked, 0 no-op" in printed
    assert "dry run: 2 dry run" in printed

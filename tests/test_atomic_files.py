"""Files a user keeps are replaced whole: a failure mid-write leaves the old file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from expkit import report
from expkit._atomic import append_line, atomic_path, write_text_atomic


def test_write_text_atomic_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    target.write_text("old")
    write_text_atomic(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]


def test_a_failure_mid_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "findings.csv"
    target.write_text("old,complete\n")
    with pytest.raises(OSError, match="disk full"), atomic_path(target) as tmp:
        tmp.write_text("new,half")
        raise OSError("disk full")
    assert target.read_text() == "old,complete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["findings.csv"]


def test_report_write_failing_part_way_keeps_last_weeks_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import expkit
    from expkit import hygiene
    from expkit._paths import demo_fixtures
    from expkit.fake import FakeServer

    with FakeServer.from_fixtures(demo_fixtures()) as server:
        snap = expkit.snapshot(server.client(), progress=False)
    found = hygiene.check(snap)
    out = report.write(found, snap, tmp_path, plots=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    real_replace = os.replace
    calls: list[str] = []

    def full_disk(src: str, dst: str) -> None:
        calls.append(str(dst))
        if len(calls) == 3:  # report.html and summary.md went through; findings.csv fails
            raise OSError("No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        report.write(found.iloc[:1], snap, tmp_path, plots=False)
    assert calls[-1].endswith("findings.csv")
    # the file that failed is last week's, whole; no temporary file is left behind
    assert (out / "findings.csv").read_bytes() == before["findings.csv"]
    assert sorted(p.name for p in out.iterdir()) == sorted(before)


def test_append_line_adds_whole_lines(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    append_line(log, '{"a": 1}')
    append_line(log, '{"b": "é"}')
    assert log.read_text(encoding="utf-8") == '{"a": 1}\n{"b": "é"}\n'

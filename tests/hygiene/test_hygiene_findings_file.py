"""findings.csv: written atomically, read back exactly, and a broken one named, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expkit import hygiene
from expkit.errors import ExpkitError, ValidationError
from tests.support import NOW
from tests.support import HygieneOrg as Org


def _findings(org: Org) -> pd.DataFrame:
    org.flag("zz-off", enabled=False, description="")
    org.flag("aa-nowhere", deployments=[])
    leaky = org.flag("bb-leaky")
    org.include(leaky, "on", ["x@example.com"])
    return hygiene.check(org.snapshot())


@pytest.fixture
def good_csv(tmp_path: Path, org: Org) -> Path:
    path = tmp_path / "findings.csv"
    hygiene.write_findings(_findings(org), path)
    return path


def _broken(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_write_then_read_is_exact(good_csv: Path) -> None:
    back = hygiene.read_findings(good_csv)
    pd.testing.assert_frame_equal(back, _findings(Org()))
    assert good_csv.read_bytes().endswith(b"\r\n")  # RFC 4180 row ends


def _lines(good: bytes) -> list[bytes]:
    assert good.endswith(b"\r\n")
    return good[:-2].split(b"\r\n")


def _joined(lines: list[bytes]) -> bytes:
    return b"\r\n".join(lines) + b"\r\n"


CASES = {
    "empty": (lambda good: b"", "empty"),
    "blank lines only": (lambda good: b"\r\n\n", "empty"),
    "binary junk": (lambda good: bytes(range(256)) * 4, "not UTF-8"),
    "cut mid-row": (lambda good: good[: len(good) - 7], "part-way through a row"),
    "cut inside a quoted cell": (
        lambda good: _joined([*_lines(good), b'weight-mismatch,error,"cut off, mid']),
        "is not valid CSV (unexpected end of data)",
    ),
    "column renamed": (
        lambda good: good.replace(b"severity", b"sev", 1),
        "no column 'severity' (its columns: 'rule', 'sev',",
    ),
    "a row with an extra field": (
        lambda good: _joined([ls[0], ls[1] + b",extra", *ls[2:]] if (ls := _lines(good)) else []),
        "line 2 has 11 fields, the header 10",
    ),
    "unknown severity": (
        lambda good: good.replace(b",error,", b",critical,", 1),
        "line 2 has severity 'critical'",
    ),
    "unreadable since": (
        lambda good: good.replace(b"Z,", b"Z-nonsense,", 1),
        "not an ISO 8601 time",
    ),
    "a row missing its action": (
        lambda good: _joined(
            [_lines(good)[0], b"weight-mismatch,error,flag,k,1,100,d,,,", *_lines(good)[1:]]
        ),
        "line 2 has no action",
    ),
    "html page": (lambda good: b"<html><body>502 Bad Gateway</body></html>\n", "no column"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_file_raises_one_clear_error(good_csv: Path, case: str) -> None:
    make, problem = CASES[case]
    path = _broken(good_csv.with_name("broken.csv"), make(good_csv.read_bytes()))
    with pytest.raises(hygiene.FindingsFileError) as err:
        hygiene.read_findings(path)
    assert isinstance(err.value, ValidationError) and isinstance(err.value, ExpkitError)
    assert problem in str(err.value)
    assert str(path) in str(err.value)
    assert err.value.path == str(path)
    assert err.value.__cause__ is None  # no pandas or csv internals in the chain


def test_errors_name_the_physical_line_past_multi_line_cells(tmp_path: Path) -> None:
    header = ",".join(hygiene.FINDINGS_COLUMNS)
    path = _broken(
        tmp_path / "findings.csv",
        _joined(
            [
                header.encode(),
                b'undocumented,info,flag,k,1,100,"two\r\nlines",,act,',
                b"undocumented,severe,flag,k2,2,100,d,,act,",
            ]
        ),
    )
    with pytest.raises(hygiene.FindingsFileError, match="line 4 has severity 'severe'"):
        hygiene.read_findings(path)


def test_a_missing_file_or_a_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(hygiene.FindingsFileError, match="does not exist"):
        hygiene.read_findings(tmp_path / "nope.csv")
    with pytest.raises(hygiene.FindingsFileError, match="directory"):
        hygiene.read_findings(tmp_path)


def test_extra_columns_are_ignored_and_blank_lines_skipped(good_csv: Path) -> None:
    lines = _lines(good_csv.read_bytes())
    widened = [lines[0] + b",note"] + [line + b",x" for line in lines[1:]]
    good_csv.write_bytes(_joined(widened) + b"\n")
    pd.testing.assert_frame_equal(hygiene.read_findings(good_csv), _findings(Org()))


def test_a_failed_write_leaves_the_previous_file_whole(
    good_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = good_csv.read_bytes()

    def boom(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="No space"):
        hygiene.write_findings(hygiene.empty_findings(), good_csv)
    assert good_csv.read_bytes() == before
    assert sorted(p.name for p in good_csv.parent.iterdir()) == ["findings.csv"]


text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cells=st.lists(
        st.tuples(text, st.sampled_from(hygiene.SEVERITIES), st.one_of(st.none(), text)),
        min_size=1,
        max_size=4,
    )
)
def test_any_text_survives_the_round_trip(tmp_path_factory: pytest.TempPathFactory, cells) -> None:
    # formula starts, quotes, commas, line breaks (also \r and U+2028) inside cells
    rows = [
        {
            "rule": "r" + detail[:3],
            "severity": severity,
            "kind": "flag",
            "key": detail or None,
            "id": str(i),
            "project_id": None,
            "detail": "d" + detail,
            "since": NOW if i % 2 else None,
            "action": "=" + detail,
            "owner": owner or None,
        }
        for i, (detail, severity, owner) in enumerate(cells)
    ]
    frame = pd.DataFrame(rows, columns=list(hygiene.FINDINGS_COLUMNS))
    frame = frame.astype(dict(hygiene.FINDINGS_COLUMNS))
    path = tmp_path_factory.mktemp("rt") / "findings.csv"
    hygiene.write_findings(frame, path)
    pd.testing.assert_frame_equal(hygiene.read_findings(path), frame)


def test_cli_report_exits_2_on_a_junk_previous(tmp_path: Path) -> None:
    junk = _broken(tmp_path / "findings.csv", b"rule,severity\nfully-rolled-out,err")
    run = subprocess.run(
        [sys.executable, "-m", "expkit", "report", "--previous", str(junk), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AMPLITUDE_MANAGEMENT_API_KEY": ""},
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert str(junk) in run.stderr and "truncated" in run.stderr

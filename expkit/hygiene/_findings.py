"""The findings frame: its schema and order, and ``findings.csv`` written and read back."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from expkit._atomic import write_text_atomic
from expkit.errors import ValidationError
from expkit.hygiene._registry import SEVERITIES

__all__ = [
    "FINDINGS_COLUMNS",
    "SEVERITY_DTYPE",
    "FindingsFileError",
    "empty_findings",
    "findings_frame",
    "read_findings",
    "write_findings",
]

# ordered from least to most severe, so ``severity >= "warning"`` works
SEVERITY_DTYPE = pd.CategoricalDtype(["info", "warning", "error"], ordered=True)

FINDINGS_COLUMNS: MappingProxyType[str, Any] = MappingProxyType(
    {
        "rule": "string",
        "severity": SEVERITY_DTYPE,
        "kind": "string",
        "key": "string",
        "id": "string",
        "project_id": "string",
        "detail": "string",
        "since": "datetime64[ns, UTC]",
        "action": "string",
        "owner": "string",
    }
)

# every finding has these; an empty cell means the file was cut or edited by hand
_REQUIRED = ("rule", "severity", "detail", "action")


class FindingsFileError(ValidationError):
    """A ``findings.csv`` that cannot be read back: missing, not a CSV, truncated, or with
    renamed columns or impossible values. ``path`` names the file, ``problem`` says what is
    wrong. A ``ValidationError`` (bad input), so the CLI exits 2 on it.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(
            f"{self.path!r} is not a findings CSV that expkit can read: {problem}",
            field="findings",
            value=self.path,
            allowed=f"a findings.csv written by expkit (columns {', '.join(FINDINGS_COLUMNS)})",
        )


def empty_findings() -> pd.DataFrame:
    """An empty findings frame with the declared columns and dtypes."""
    return findings_frame([])


def findings_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows (one dict per finding) as the findings frame: declared dtypes, and sorted by
    severity (worst first), then rule, then key, then id.
    """
    frame = _cast_findings(pd.DataFrame(list(rows), columns=list(FINDINGS_COLUMNS)))
    if frame.empty:
        return frame
    order = frame.assign(_rank=frame["severity"].cat.codes)
    order = order.sort_values(
        ["_rank", "rule", "key", "id"], ascending=[False, True, True, True], kind="stable"
    )
    return order.drop(columns="_rank").reset_index(drop=True)


def _cast_findings(frame: pd.DataFrame) -> pd.DataFrame:
    out: dict[str, pd.Series[Any]] = {}
    for col, dtype in FINDINGS_COLUMNS.items():
        values = frame[col]
        if col == "since":
            out[col] = pd.to_datetime(values, utc=True, format="ISO8601").astype(dtype)
        else:
            out[col] = values.astype(object).where(values.notna(), None).astype(dtype)
    return pd.DataFrame(out).reset_index(drop=True)


# a spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_findings(findings: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Writes ``findings`` as the report's ``findings.csv``; ``read_findings`` reads it back.

    Text from the API (keys, owners, details) that a spreadsheet would run as a formula is
    written with a leading ``'``, so opening the CSV in Excel or Sheets shows it as text;
    a value that itself starts with ``'`` gets one more, so reading back is exact. The file
    is replaced atomically: a crash leaves the old file or the new one, never half of one.
    Rows end with CRLF, as RFC 4180 and spreadsheets expect.
    """
    out: dict[str, list[Any]] = {}
    for col in findings.columns:
        values = findings[col].astype(object).where(findings[col].notna(), None)
        if col == "since":
            # the API's times have milliseconds: a fixed "%S" format would cut them off
            out[str(col)] = [
                None if t is None else t.isoformat().replace("+00:00", "Z") for t in values
            ]
        else:
            out[str(col)] = [_csv_text(v) for v in values]
    # CRLF row ends (RFC 4180): the csv writer then quotes every cell holding a \r or a \n;
    # with "\n" alone it leaves a lone \r unquoted, and the file no longer reads back
    text = pd.DataFrame(out, columns=findings.columns).to_csv(index=False, lineterminator="\r\n")
    write_text_atomic(path, text)


def _csv_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith((*_FORMULA_STARTS, "'")):
        return "'" + value
    return value


def _csv_untext(value: Any) -> Any:
    return value[1:] if isinstance(value, str) and value.startswith("'") else value


def read_findings(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A findings frame read back from the ``findings.csv`` a report wrote (same dtypes).

    Raises ``FindingsFileError`` (naming the file and what is wrong) for a file that is
    missing, empty, not UTF-8 text, not a well-formed CSV, cut off part-way through a row,
    lacks one of the columns, or holds an impossible value (an unknown severity, an
    unreadable time, an empty rule, detail or action). Extra columns are ignored.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise FindingsFileError(file, "the file does not exist") from None
    except IsADirectoryError:
        raise FindingsFileError(file, "it is a directory, not a file") from None
    except OSError as exc:
        raise FindingsFileError(file, f"it cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise FindingsFileError(file, "the file is empty (no header row)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FindingsFileError(file, f"it is not UTF-8 text (byte {exc.start})") from None
    if not text.endswith(("\n", "\r")):
        # every row a CSV writer writes ends with a line break: this one was cut off
        raise FindingsFileError(file, "it ends part-way through a row (truncated?)")
    rows = _csv_rows(file, text)
    header, body = rows[0][1], rows[1:]
    lines = [line for line, _ in body]
    missing = [c for c in FINDINGS_COLUMNS if c not in header]
    if missing:
        found = ", ".join(repr(c) for c in header[:12]) or "none"
        raise FindingsFileError(file, f"no column {missing[0]!r} (its columns: {found})")
    for line, row in body:
        if len(row) != len(header):
            raise FindingsFileError(
                file, f"line {line} has {len(row)} fields, the header {len(header)}"
            )
    columns: dict[str, list[Any]] = {}
    for index, name in enumerate(header):
        if name in FINDINGS_COLUMNS and name not in columns:  # the first of repeated names
            columns[name] = [
                _csv_untext(row[index]) if row[index] != "" else None for _, row in body
            ]
    _check_values(file, columns, lines)
    raw = pd.DataFrame({col: pd.Series(columns[col], dtype=object) for col in FINDINGS_COLUMNS})
    return _cast_findings(raw)


def _csv_rows(file: Path, text: str) -> list[tuple[int, list[str]]]:
    """(the line a row ends on, its cells) per row; blank lines skipped."""
    # newline="": line breaks inside quoted cells stay as written
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = [(reader.line_num, row) for row in reader if row]
    except csv.Error as exc:
        raise FindingsFileError(file, f"line {reader.line_num} is not valid CSV ({exc})") from None
    if not rows:
        raise FindingsFileError(file, "the file is empty (no header row)")
    return rows


def _check_values(file: Path, columns: Mapping[str, list[Any]], lines: list[int]) -> None:
    """Impossible values, named with their line, before pandas would turn them into NaN."""
    for col in _REQUIRED:
        for line, value in zip(lines, columns[col], strict=True):
            if value is None:
                raise FindingsFileError(file, f"line {line} has no {col} (truncated or edited?)")
    for line, value in zip(lines, columns["severity"], strict=True):
        if value not in SEVERITIES:
            raise FindingsFileError(
                file,
                f"line {line} has severity {value!r}; allowed: {', '.join(SEVERITIES)}",
            )
    since = pd.Series(columns["since"], dtype=object)
    try:
        pd.to_datetime(since, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        # the same conversion cell by cell, to name the first bad one
        for line, value in zip(lines, columns["since"], strict=True):
            try:
                pd.to_datetime(pd.Series([value], dtype=object), utc=True, format="ISO8601")
            except (ValueError, TypeError):
                raise FindingsFileError(
                    file, f"line {line} has since {value!r}, not an ISO 8601 time"
                ) from None
        raise FindingsFileError(file, f"its since column is not ISO 8601 times ({exc})") from None

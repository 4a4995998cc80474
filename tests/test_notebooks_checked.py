"""The root conftest hands the checked cells' expected outputs to nbval: a wrong number in a
checked cell fails the run, tables (text/plain beside text/html) included."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
TABLE = "import pandas as pd\npd.DataFrame({'variant': ['a', 'b'], 'weight': [1, 3]})"


def _write(pytester: pytest.Pytester, weight: int) -> None:
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makeini("[pytest]\naddopts = --nbval-lax --nbval-current-env -p no:cacheprovider\n")
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1 + 1)", id="count"),
        nbformat.v4.new_code_cell(f"# NBVAL_CHECK_OUTPUT\n{TABLE}", id="table"),
    ]
    folder = pytester.mkdir("notebooks")
    nbformat.write(book, folder / "book.ipynb")
    table = f"  variant  weight\n0       a       1\n1       b       {weight}"
    expected = {
        "book.ipynb": {
            "count": [{"output_type": "stream", "name": "stdout", "text": "2\n"}],
            "table": [
                {
                    "output_type": "execute_result",
                    "data": {"text/plain": table},
                    "metadata": {},
                    "execution_count": None,
                }
            ],
        }
    }
    (folder / "expected_outputs.json").write_text(json.dumps(expected))


def test_checked_cells_pass_when_right(pytester: pytest.Pytester):
    _write(pytester, weight=3)
    pytester.runpytest_subprocess("notebooks").assert_outcomes(passed=2)


def test_a_wrong_number_in_a_checked_table_fails(pytester: pytest.Pytester):
    _write(pytester, weight=4)
    result = pytester.runpytest_subprocess("notebooks")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*b       3*"])

"""The notebooks are committed as sources: every output cleared, no key, starting from
connect(); the expected outputs of `# NBVAL_CHECK_OUTPUT` cells live beside them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(HERE.glob("*.ipynb"))
EXPECTED = json.loads((HERE / "expected_outputs.json").read_text())
KEY_LIKE = re.compile(r"ampex_[A-Za-z0-9]{6,}|Bearer\s+[A-Za-z0-9_\-]{12,}|api_key\s*=\s*['\"]")
CHECK = "# NBVAL_CHECK_OUTPUT"


def _code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_the_three_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == [
        "01_explore.ipynb",
        "02_flag_hygiene.ipynb",
        "03_rollout_tweaking.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_cleared(path: Path):
    dirty = [i for i, c in enumerate(_code_cells(path)) if c["outputs"] or c["execution_count"]]
    assert dirty == [], f"{path.name}: cells {dirty} carry outputs; run scripts/clear_notebooks.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_checked_cell_has_a_text_expectation_and_nothing_else_has(path: Path):
    checked = {c["id"] for c in _code_cells(path) if CHECK in "".join(c["source"])}
    expected = EXPECTED.get(path.name, {})
    assert set(expected) == checked, "run scripts/clear_notebooks.py --execute"
    for outputs in expected.values():
        assert outputs, "a checked cell must print something to compare"
        for out in outputs:
            assert set(out.get("data", {})) <= {"text/plain"}, "expectations are text only"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_key_and_starts_with_connect(path: Path):
    assert not KEY_LIKE.search(path.read_text())
    code = ["".join(c["source"]) for c in _code_cells(path)]
    first_connect = next(i for i, src in enumerate(code) if "expkit.connect()" in src)
    assert "client = expkit.connect()" in code[first_connect]
    assert first_connect <= 1, "only a parameters cell may come before the connection"


@pytest.mark.parametrize("path", NOTEBOOKS[:2], ids=lambda p: p.name)
def test_deterministic_numbers_are_checked(path: Path):
    assert EXPECTED[path.name]

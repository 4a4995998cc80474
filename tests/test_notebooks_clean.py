"""The notebooks are committed as sources: every output cleared, no key, starting from
connect(); the expected outputs of `# NBVAL_CHECK_OUTPUT` cells live beside them."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(HERE.glob("*.ipynb"))
EXPECTED = json.loads((HERE / "expected_outputs.json").read_text())
KEY_LIKE = re.compile(r"ampex_[A-Za-z0-9]{6,}|Bearer\s+[A-Za-z0-9_\-]{12,}|api_key\s*=\s*['\"]")
CHECK = "# NBVAL_CHECK_OUTPUT"


def _committed_text(path: Path, root: Path = HERE.parent) -> str:
    """The notebook as git will commit it (the index), else the working file.

    Running and saving a notebook in JupyterLab changes only the working file; what must stay
    cleared is what gets committed, so exploring the notebooks never breaks this suite.
    """
    relative = path.relative_to(root).as_posix()
    try:
        shown = subprocess.run(
            ["git", "show", f":{relative}"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:  # no git on this machine: an unpacked sdist
        return path.read_text()
    return shown.stdout if shown.returncode == 0 else path.read_text()


def _notebook(path: Path) -> dict:
    return json.loads(_committed_text(path))


def _code_cells(path: Path) -> list[dict]:
    return [c for c in _notebook(path)["cells"] if c["cell_type"] == "code"]


def test_the_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == [
        "01_explore.ipynb",
        "02_flag_hygiene.ipynb",
        "03_rollout_tweaking.ipynb",
        "04_cleanup.ipynb",
        "05_time_travel.ipynb",
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
    assert not KEY_LIKE.search(_committed_text(path))
    code = ["".join(c["source"]) for c in _code_cells(path)]
    first_connect = next(i for i, src in enumerate(code) if "expkit.connect()" in src)
    assert "client = expkit.connect()" in code[first_connect]
    assert first_connect <= 1, "only a parameters cell may come before the connection"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_deterministic_numbers_are_checked(path: Path):
    assert EXPECTED[path.name]


def test_hygiene_parameters_are_the_first_code_cell():
    import ast

    first = _code_cells(HERE / "02_flag_hygiene.ipynb")[0]
    assert "parameters" in first["metadata"].get("tags", [])
    # papermill injects its values after this cell: it may only assign them
    tree = ast.parse("".join(first["source"]))
    assert tree.body and all(isinstance(node, ast.Assign) for node in tree.body)


def test_tweaking_checks_each_apply_and_undo_on_the_server():
    code = "\n".join("".join(c["source"]) for c in _code_cells(HERE / "03_rollout_tweaking.ipynb"))
    for editor in ("editor", "payload_editor", "inclusions_editor"):
        for button in ("preview_button", "apply_button", "undo_button"):
            assert f"{editor}.{button}.click()" in code
    # the flag it changes is picked by hand on a live org
    assert "flag_key = None" in code and "raise RuntimeError" in code


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_saved_widget_state(path: Path):
    # widget state (progress bars, editors) is output too, saved in the notebook's metadata
    assert "widgets" not in _notebook(path)["metadata"]


def _script():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "clear_notebooks", HERE.parent / "scripts" / "clear_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_clear_drops_outputs_counts_and_widget_state():
    import nbformat

    book = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    book.cells = [cell]
    book.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    cleared = _script().clear(book)
    assert cleared.cells[0].outputs == [] and cleared.cells[0].execution_count is None
    assert "widgets" not in cleared.metadata


def test_execute_runs_in_this_environment(tmp_path: Path):
    # like nbval's --nbval-current-env: never a kernel registered for another Python
    import sys

    import nbformat

    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell("import sys; print(sys.executable)")]
    _script().execute(book, tmp_path)
    assert book.cells[0].outputs[0]["text"].strip() == sys.executable


def test_saving_outputs_in_jupyterlab_does_not_break_the_suite(tmp_path: Path):
    # a user ran and saved a notebook: the working file has outputs, the index has none
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell("1 + 1", id="a")]
    path = tmp_path / "notebooks" / "x.ipynb"
    path.parent.mkdir()
    nbformat.write(book, path)
    subprocess.run(["git", "add", "notebooks/x.ipynb"], cwd=tmp_path, check=True)
    book.cells[0].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    book.cells[0].execution_count = 1
    nbformat.write(book, path)

    committed = json.loads(_committed_text(path, root=tmp_path))
    assert committed["cells"][0]["outputs"] == []
    assert json.loads(path.read_text())["cells"][0]["outputs"]
    # outside a work tree it falls back to the file itself
    loose = tmp_path.parent / f"{tmp_path.name}-loose.ipynb"
    loose.write_text(path.read_text())
    assert json.loads(_committed_text(loose, root=loose.parent))["cells"][0]["outputs"]

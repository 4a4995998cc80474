"""Clear the notebooks' outputs; keep what `# NBVAL_CHECK_OUTPUT` cells must print beside them.

nbval compares a checked cell's fresh output with an expected output. The notebooks are
committed with every output cleared, so the expected outputs of the checked cells live in
``notebooks/expected_outputs.json`` (notebook -> cell id -> text outputs); the root
``conftest.py`` hands them to nbval when it collects a notebook.

    python scripts/clear_notebooks.py            # clear every output
    python scripts/clear_notebooks.py --execute  # re-run on the demo org, record the checked
                                                 # cells' outputs as expected, then clear
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = NOTEBOOKS / "expected_outputs.json"
MARK = "# NBVAL_CHECK_OUTPUT"


def _is_checked(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and MARK in cell.source


def _text_only(outputs: list) -> list[dict]:
    """Outputs reduced to what is stable and readable in a diff: streams and text/plain."""
    kept = []
    for out in outputs:
        if out.output_type == "stream":
            kept.append({"output_type": "stream", "name": out.name, "text": out.text})
        elif out.output_type in ("execute_result", "display_data") and "text/plain" in out.data:
            kept.append(
                {
                    "output_type": out.output_type,
                    "data": {"text/plain": out.data["text/plain"]},
                    "metadata": {},
                    **({"execution_count": None} if out.output_type == "execute_result" else {}),
                }
            )
    return kept


def expected_outputs(book: nbformat.NotebookNode) -> dict[str, list[dict]]:
    """Cell id -> expected text outputs, for the checked cells of an executed notebook."""
    return {cell.id: _text_only(cell.outputs) for cell in book.cells if _is_checked(cell)}


def clear(book: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with every output, execution count and saved widget state removed."""
    book.metadata.pop("widgets", None)
    for cell in book.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    return book


def execute(book: nbformat.NotebookNode, cwd: Path) -> None:
    """Runs every cell in a kernel of this Python environment (as ``--nbval-current-env``
    does), never a ``python3`` kernel registered for another one; no live API key."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    for var in ("AMPLITUDE_MANAGEMENT_API_KEY", "AMPLITUDE_REGION", "EXPKIT_FIXTURES"):
        os.environ.pop(var, None)
    manager = KernelManager(
        kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager()
    )
    resources = {"metadata": {"path": str(cwd)}}
    NotebookClient(book, km=manager, timeout=300, resources=resources).execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="re-run and record expectations")
    args = parser.parse_args()
    expected = json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        book = nbformat.read(path, as_version=4)
        nbformat.validator.normalize(book)
        if args.execute:
            execute(book, NOTEBOOKS)
            expected[path.name] = expected_outputs(book)
        nbformat.write(clear(book), path)
        print(f"{path.name}: cleared")
    if args.execute:
        EXPECTED.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
        print(f"{EXPECTED.name}: written")


if __name__ == "__main__":
    main()

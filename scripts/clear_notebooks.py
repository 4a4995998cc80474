"""Clear the notebooks' outputs, keeping the expected output of `# NBVAL_CHECK_OUTPUT` cells.

nbval compares a checked cell's fresh output with the output stored in the notebook, so those
cells keep theirs (text only: it is the assertion); every other cell is committed cleared.

    python scripts/clear_notebooks.py            # clear (keeps stored expected outputs)
    python scripts/clear_notebooks.py --execute  # re-run on the demo org, then store the
                                                 # checked cells' outputs and clear the rest
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
MARK = "# NBVAL_CHECK_OUTPUT"
TEXT_KEYS = {"text/plain"}


def _is_checked(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and MARK in cell.source


def _text_only(outputs: list) -> list:
    kept = []
    for out in outputs:
        if out.output_type == "stream":
            kept.append(out)
        elif out.output_type in ("execute_result", "display_data"):
            data = {k: v for k, v in out.data.items() if k in TEXT_KEYS}
            if data:
                out.data = data
                out.metadata = {}
                kept.append(out)
    return kept


def clean(book: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with unchecked cells cleared and checked cells reduced to text."""
    count = 0
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        if _is_checked(cell) and cell.outputs:
            count += 1
            cell.outputs = _text_only(cell.outputs)
            cell.execution_count = count
        else:
            cell.outputs = []
            cell.execution_count = None
    return book


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="re-run before clearing")
    args = parser.parse_args()
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        book = nbformat.read(path, as_version=4)
        if args.execute:
            from nbclient import NotebookClient

            for var in ("AMPLITUDE_MANAGEMENT_API_KEY", "AMPLITUDE_REGION", "EXPKIT_FIXTURES"):
                os.environ.pop(var, None)
            NotebookClient(
                book, timeout=300, resources={"metadata": {"path": str(NOTEBOOKS)}}
            ).execute()
        nbformat.validator.normalize(book)
        nbformat.write(clean(book), path)
        print(f"{path.name}: cleared")


if __name__ == "__main__":
    main()

"""Session-wide test set-up, also for the notebooks nbval runs in a kernel of this process.

- Set before any kernel starts, so notebooks inherit it: no live API key (tests and notebooks
  always use the offline demo org) and the edit audit log in a temporary directory.
- The notebooks are committed with every output cleared; the expected outputs of their
  `# NBVAL_CHECK_OUTPUT` cells live in ``notebooks/expected_outputs.json`` and are handed to
  nbval here, when it collects a notebook (``scripts/clear_notebooks.py --execute`` writes them).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import IPyNbFile

pytest_plugins = ("pytester",)

EXPECTED_OUTPUTS = Path(__file__).resolve().parent / "notebooks" / "expected_outputs.json"


def pytest_configure(config):
    os.environ.pop("AMPLITUDE_MANAGEMENT_API_KEY", None)
    os.environ.pop("AMPLITUDE_REGION", None)
    os.environ.pop("EXPKIT_FIXTURES", None)
    os.environ.setdefault("MPLBACKEND", "Agg")
    audit_dir = tempfile.mkdtemp(prefix="expkit-test-audit-")
    os.environ["EXPKIT_AUDIT_LOG"] = os.path.join(audit_dir, "audit.jsonl")


class NotebookWithExpectedOutputs(IPyNbFile):
    """nbval's notebook collector, with the checked cells' expected outputs from the sidecar.

    The expectations are text only, so a checked table (a DataFrame also renders as
    text/html) is compared on its text/plain, which holds the same numbers.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skip_compare = (*self.skip_compare, "text/html")

    def collect(self):
        items = list(super().collect())
        expected = json.loads(EXPECTED_OUTPUTS.read_text()).get(self.path.name, {})
        checked = (item for item in items if item.cell.get("id") in expected)
        for count, item in enumerate(checked, start=1):
            item.cell.outputs = [nbformat.from_dict(o) for o in expected[item.cell["id"]]]
            item.cell.execution_count = count
        return items


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path, parent):
    collected = yield
    if file_path.suffix != ".ipynb" or not collected:
        return collected
    return [
        NotebookWithExpectedOutputs.from_parent(parent, path=file_path)
        if type(node) is IPyNbFile
        else node
        for node in collected
    ]

"""Session-wide test set-up, also for the notebooks nbval runs in a kernel of this process.

Set before any kernel starts, so notebooks inherit it: no live API key (the notebooks and tests
always use the offline demo org) and the edit audit log in a temporary directory.
"""

from __future__ import annotations

import os
import tempfile


def pytest_configure(config):
    os.environ.pop("AMPLITUDE_MANAGEMENT_API_KEY", None)
    os.environ.pop("AMPLITUDE_REGION", None)
    os.environ.pop("EXPKIT_FIXTURES", None)
    os.environ.setdefault("MPLBACKEND", "Agg")
    audit_dir = tempfile.mkdtemp(prefix="expkit-test-audit-")
    os.environ["EXPKIT_AUDIT_LOG"] = os.path.join(audit_dir, "audit.jsonl")

import subprocess
import sys

import expkit

EXPECTED = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ExpkitError",
    "LegacyClient",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "Settings",
    "Snapshot",
    "SnapshotError",
    "TransportError",
    "ValidationError",
    "__version__",
    "changes",
    "code_refs",
    "compare",
    "connect",
    "diff_versions",
    "edits",
    "errors",
    "fake",
    "fetch_deployments",
    "fetch_experiments",
    "fetch_flags",
    "fetch_inclusions",
    "fetch_versions",
    "frames",
    "hygiene",
    "plots",
    "report",
    "rollout_history",
    "snapshot",
    "widgets",
]


def test_all_is_pinned_and_sorted():
    assert expkit.__all__ == EXPECTED


def test_every_public_name_resolves():
    for name in expkit.__all__:
        assert getattr(expkit, name) is not None, name


def test_import_is_light():
    code = (
        "import sys, expkit; heavy = [m for m in ('pandas', 'matplotlib', 'ipywidgets') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""

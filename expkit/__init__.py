"""expkit: Amplitude Experiment's Management API in Jupyter.

Public names are re-exported here and loaded lazily, so ``import expkit`` stays light:
pandas, matplotlib and ipywidgets are imported only when a name that needs them is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from expkit._version import __version__
from expkit.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ExpkitError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)

# public name -> (module, attribute); attribute None means the module itself
_LAZY: dict[str, tuple[str, str | None]] = {
    "Client": ("expkit._client", "Client"),
    "Settings": ("expkit._request", "Settings"),
    "LegacyClient": ("expkit._legacy", "LegacyClient"),
    "connect": ("expkit._connect", "connect"),
    "code_refs": ("expkit._code_refs", "code_refs"),
    "Snapshot": ("expkit._snapshot", "Snapshot"),
    "SnapshotError": ("expkit._snapshot", "SnapshotError"),
    "snapshot": ("expkit._fetch", "snapshot"),
    "fetch_flags": ("expkit._fetch", "fetch_flags"),
    "fetch_experiments": ("expkit._fetch", "fetch_experiments"),
    "fetch_versions": ("expkit._fetch", "fetch_versions"),
    "fetch_inclusions": ("expkit._fetch", "fetch_inclusions"),
    "fetch_deployments": ("expkit._fetch", "fetch_deployments"),
    "rollout_history": ("expkit._history", "rollout_history"),
    "diff_versions": ("expkit._history", "diff_versions"),
    "changes": ("expkit._history", "changes"),
    "compare": ("expkit._compare", "compare"),
    "edits": ("expkit.edits", None),
    "errors": ("expkit.errors", None),
    "fake": ("expkit.fake", None),
    "frames": ("expkit.frames", None),
    "hygiene": ("expkit.hygiene", None),
    "plots": ("expkit.plots", None),
    "report": ("expkit.report", None),
    "widgets": ("expkit.widgets", None),
}

__all__ = [
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

if TYPE_CHECKING:
    from expkit import edits, fake, frames, hygiene, plots, report, widgets
    from expkit._client import Client
    from expkit._code_refs import code_refs
    from expkit._compare import compare
    from expkit._connect import connect
    from expkit._fetch import (
        fetch_deployments,
        fetch_experiments,
        fetch_flags,
        fetch_inclusions,
        fetch_versions,
        snapshot,
    )
    from expkit._history import changes, diff_versions, rollout_history
    from expkit._legacy import LegacyClient
    from expkit._request import Settings
    from expkit._snapshot import Snapshot, SnapshotError


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'expkit' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

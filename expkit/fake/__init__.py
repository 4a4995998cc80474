"""A stateful fake Amplitude Experiment org, served over real HTTP on 127.0.0.1.

::

    from expkit.fake import FakeServer

    with FakeServer.from_fixtures("data/fixtures/demo") as server:
        client = server.client()

``State`` holds the org with no HTTP (flags, experiments, deployments, mutexes, holdouts,
inclusions, version history); ``FakeServer`` serves it over a socket; ``FakeAdapter`` serves
it in-process on a ``requests`` session (``in_process(...)`` and ``State.client()`` give a
``Client`` over it, no thread or socket); ``FakeClock`` is its injectable clock. ``load_fixtures``, ``synthetic_org`` and ``record`` come from the fixtures, synthetic
org and recorder modules, loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from expkit.fake._adapter import FakeAdapter, in_process
from expkit.fake._server import FakeServer, Faults
from expkit.fake._state import FakeClock, FakeError, IdGenerator, State

# public name -> (module, attribute), imported on first use
_LAZY: dict[str, tuple[str, str]] = {
    "load_fixtures": ("expkit.fake._fixtures", "load_fixtures"),
    "synthetic_org": ("expkit.fake._synth", "synthetic_org"),
    "record": ("expkit.fake._record", "record"),
}

__all__ = [
    "FakeAdapter",
    "FakeClock",
    "FakeError",
    "FakeServer",
    "Faults",
    "IdGenerator",
    "State",
    "in_process",
    "load_fixtures",
    "record",
    "synthetic_org",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module_name, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module_name), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'expkit.fake' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""Pausing Python's cyclic garbage collector around bulk work.

Parsing and flattening tens of thousands of API records allocates hundreds of thousands of
small, acyclic dicts that the caller keeps. Each allocation burst triggers collections that
walk everything the process holds and find nothing to free: measured on 95 MB of versions,
``json.loads`` of every page took 3.81 s with the collector running and 0.87 s paused. The
pause is process-wide, so it is reference-counted across threads: the collector comes back
when the last pauser leaves, and only if it was on when the first one came.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")

_lock = threading.Lock()
_state = {"depth": 0, "was_enabled": False}


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """A context in which the cyclic garbage collector does not run."""
    with _lock:
        if _state["depth"] == 0:
            _state["was_enabled"] = gc.isenabled()
            gc.disable()
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0 and _state["was_enabled"]:
                gc.enable()


def pausing(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """``func`` run with the collector paused (see ``paused``)."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with paused():
            return func(*args, **kwargs)

    return wrapper

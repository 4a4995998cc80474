"""Where the memory of bulk work goes: Arrow's allocator and glibc's free heap.

Two allocators keep what bulk work freed resident, and a snapshot's peak RSS is mostly
what they keep, not what it holds (``benchmarks/bench_memory.py``, 2,500 configs x 25
versions, 95 MB of JSON):

- Arrow's default pool (mimalloc) kept ~106 MB resident to read one 62,500-row column of
  JSON text from Parquet, row group by row group, with ~15 MB allocated at any time; the
  system allocator kept 38 MB (22 MB once trimmed). ``arrow_system_pool`` makes the system
  allocator Arrow's default while bulk work runs (buffers free to the pool they came from,
  so switching is safe), reference-counted across threads like ``_gc.paused``.
- glibc keeps the free pages left by large, short-lived buffers (response bodies, parsed
  pages) until they are reused: 29 MB after the versions feed. ``release_freed_heap``
  hands them back (``malloc_trim``; nothing where there is no glibc). It takes milliseconds.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

import pyarrow as pa

_P = ParamSpec("_P")
_R = TypeVar("_R")

_lock = threading.Lock()
_state: dict[str, Any] = {"depth": 0, "previous": None}


@contextlib.contextmanager
def arrow_system_pool() -> Iterator[None]:
    """A context in which Arrow allocates from the system allocator (see the module doc)."""
    with _lock:
        if _state["depth"] == 0:
            _state["previous"] = pa.default_memory_pool()
            pa.set_memory_pool(pa.system_memory_pool())
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                pa.set_memory_pool(_state["previous"])
                _state["previous"] = None


def lean(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """``func`` run in ``arrow_system_pool``."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with arrow_system_pool():
            return func(*args, **kwargs)

    return wrapper


def release_freed_heap() -> None:
    """Returns the free pages of the C heap to the OS (glibc's ``malloc_trim``; else nothing)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")  # glibc; musl and others have no such file
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)

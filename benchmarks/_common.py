"""Shared set-up of the benchmarks: a synthetic org served by the fake in its own process.

The fake runs in a child process, as the real API runs on another machine: in-process, its
JSON encoding would compete with the client for the GIL and the benchmark would measure
both sides at once. Latency is injected by the fake (``FakeServer.faults(latency=...)``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import multiprocessing as mp
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import expkit

T = TypeVar("T")

FULL_FLAGS = 2000
FULL_EXPERIMENTS = 500
FULL_VERSIONS = 25
LATENCY = 0.05
RATE = 100.0  # the API's limit, requests per second per project


def parser(description: str, *, default_scale: float = 1.0) -> argparse.ArgumentParser:
    """The shared command line: ``--scale F`` shrinks the org by F for a quick run."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--scale", type=float, default=default_scale, help="shrink the org by this factor"
    )
    p.add_argument("--latency", type=float, default=LATENCY, help="injected latency (s)")
    p.add_argument("--seed", type=int, default=0, help="synthetic org seed")
    return p


def sizes(scale: float, flags: int = FULL_FLAGS, experiments: int = FULL_EXPERIMENTS) -> dict:
    """Org size at ``scale`` (at least one flag and one experiment)."""
    return {
        "n_flags": max(1, round(flags / scale)),
        "n_experiments": max(1, round(experiments / scale)),
    }


@dataclass
class Fake:
    """Handle on the fake running in a child process."""

    url: str
    api_key: str
    _conn: Any

    def client(self, **options: Any) -> expkit.Client:
        return expkit.Client(api_key=self.api_key, base_url=self.url, **options)

    def call(self, command: str, *args: Any) -> Any:
        self._conn.send((command, args))
        ok, value = self._conn.recv()
        if not ok:
            raise RuntimeError(value)
        return value

    def request_count(self) -> int:
        return int(self.call("count"))

    def latency(self, seconds: float) -> None:
        self.call("latency", seconds)


def _serve(conn: Any, org_options: dict[str, Any], latency: float) -> None:
    from expkit.fake import FakeServer

    server = FakeServer.synthetic(**org_options)
    server.faults(latency=latency)
    server.start()
    conn.send((server.url, server.api_key))
    try:
        while True:
            command, args = conn.recv()
            try:
                if command == "stop":
                    conn.send((True, None))
                    return
                if command == "count":
                    conn.send((True, server.request_count))
                elif command == "latency":
                    server.faults(latency=args[0])
                    conn.send((True, None))
                elif command == "counts":
                    conn.send((True, server.state.counts()))
                else:
                    conn.send((False, f"unknown command {command!r}"))
            except Exception as exc:  # report to the parent instead of dying silently
                conn.send((False, repr(exc)))
    finally:
        server.stop()


@contextlib.contextmanager
def serve(
    *, n_flags: int, n_experiments: int, versions_per_config: int, seed: int, latency: float
) -> Iterator[Fake]:
    """Serves a synthetic org from a child process; yields a handle with its url and key."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    options = {
        "n_flags": n_flags,
        "n_experiments": n_experiments,
        "versions_per_config": versions_per_config,
        "seed": seed,
    }
    proc = ctx.Process(target=_serve, args=(child, options, latency), daemon=True)
    proc.start()
    if not parent.poll(600):
        proc.kill()
        raise RuntimeError("the fake did not start within 600 s")
    url, key = parent.recv()
    try:
        yield Fake(url, key, parent)
    finally:
        with contextlib.suppress(Exception):
            parent.send(("stop", ()))
            parent.recv()
        proc.join(10)
        if proc.is_alive():
            proc.kill()


def timed(func: Callable[[], T]) -> tuple[T, float]:
    """``func()`` and its wall time in seconds."""
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def pages(n: int, size: int = 1000) -> int:
    """Requests a cursor list of ``n`` items takes (an empty list still takes one)."""
    return max(1, math.ceil(n / size))


def loads_without_gc(bodies: list[bytes]) -> float:
    """Seconds to ``json.loads`` every body with the cyclic GC paused, as expkit parses."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for body in bodies:
            json.loads(body)
        return time.perf_counter() - start
    finally:
        gc.enable()


def line(name: str, figures: dict[str, Any]) -> str:
    """The final ``name: key=value ...`` line."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 100 else f"{v:.1f}"
        return str(v)

    return f"{name}: " + " ".join(f"{k}={fmt(v)}" for k, v in figures.items())

"""Memory: a snapshot's peak RSS against the JSON it receives, at full and 5× scale.

The fake serves a synthetic org (2,000 flags + 500 experiments × 25 versions at full scale)
from one child process; the snapshot runs in another, fresh child process that reports its
own peak RSS (``getrusage(RUSAGE_SELF).ru_maxrss``), the bytes of JSON it received (a
``requests`` response hook) and the wall time of ``expkit.snapshot``; then the same process
saves the snapshot (its peak RSS after ``save``), and a third fresh process loads it (peak RSS
and time of ``Snapshot.load``). Each scale prints one ``key=value`` line. ``--factors 1,5``
chooses the scales (5 = five times the full org).
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import FULL_EXPERIMENTS, FULL_FLAGS, FULL_VERSIONS, line, parser, serve


def _peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _measure(conn: Any, url: str, api_key: str, directory: str) -> None:
    """In a fresh process: take one snapshot and save it; report peak RSS, JSON bytes, time."""
    import expkit

    received = [0]
    lock = threading.Lock()

    def count(response: Any, *args: Any, **kwargs: Any) -> None:
        size = len(response.content)  # reads the body: other threads run meanwhile
        with lock:
            received[0] += size

    client = expkit.Client(api_key=api_key, base_url=url, rate_limit=None)
    client.http.session.hooks["response"].append(count)
    base_rss = _peak()
    start = time.perf_counter()
    snap = expkit.snapshot(client, progress=False)
    seconds = time.perf_counter() - start
    peak = _peak()
    snap.save(directory)
    conn.send(
        {
            "json_mb": received[0] / 1e6,
            "peak_rss_mb": peak / 1e6,
            "import_rss_mb": base_rss / 1e6,
            "versions": len(snap.versions),
            "configs": len(snap.configs),
            "seconds": seconds,
            "requests": client.request_count,
            "save_peak_rss_mb": _peak() / 1e6,
        }
    )


def _load(conn: Any, directory: str) -> None:
    """In a fresh process: load the saved snapshot; report peak RSS and time."""
    import expkit

    start = time.perf_counter()
    expkit.Snapshot.load(directory)
    conn.send({"load_s": time.perf_counter() - start, "load_peak_rss_mb": _peak() / 1e6})


def run(factor: float, seed: int, latency: float) -> dict[str, Any]:
    """One scale: the figures of a snapshot of an org ``factor`` times the full one."""
    n_flags = max(1, round(FULL_FLAGS * factor))
    n_experiments = max(1, round(FULL_EXPERIMENTS * factor))
    # spawn: each measuring process starts clean, sharing no pages with this one
    ctx = mp.get_context("spawn")
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(
            n_flags=n_flags,
            n_experiments=n_experiments,
            versions_per_config=FULL_VERSIONS,
            seed=seed,
            latency=latency,
        ) as fake,
    ):
        directory = str(Path(tmp) / "snapshot")
        result: dict[str, Any] = _in_child(ctx, _measure, fake.url, fake.api_key, directory)
        result |= _in_child(ctx, _load, directory)
    ratio = result["peak_rss_mb"] / result["json_mb"] if result["json_mb"] else float("nan")
    return {
        "factor": factor,
        "configs": result["configs"],
        "versions": result["versions"],
        "json_mb": result["json_mb"],
        "peak_rss_mb": result["peak_rss_mb"],
        "import_rss_mb": result["import_rss_mb"],
        "rss_per_json": ratio,
        "snapshot_s": result["seconds"],
        "requests": result["requests"],
        "save_peak_rss_mb": result["save_peak_rss_mb"],
        "load_peak_rss_mb": result["load_peak_rss_mb"],
        "load_s": result["load_s"],
    }


def _in_child(ctx: Any, target: Any, *args: Any) -> dict[str, Any]:
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=target, args=(child, *args))
    proc.start()
    result: dict[str, Any] = parent.recv()
    proc.join()
    return result


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--factors", default="1,5", help="org sizes, as multiples of the full org")
    p.set_defaults(latency=0.0)  # memory and CPU time, not the network
    args = p.parse_args()
    for text in args.factors.split(","):
        factor = float(text) / args.scale
        print(line("memory", run(factor, args.seed, args.latency)), flush=True)


if __name__ == "__main__":
    main()

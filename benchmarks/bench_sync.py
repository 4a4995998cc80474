"""Sync benchmark: configs and versions of a synthetic org at 50 ms latency.

Compares ``expkit.snapshot(client, inclusions=False)`` with
- the floor: the minimal number of requests for the same data (cursor pages of 1,000, taken
  one after another at the latency, never above 100 requests/s), plus one ``json.loads`` of
  every byte those pages return, timed here in the same run;
- the naive loop: list flags and experiments, then ``versions(id)`` per config, sequentially.

Full scale is 2,000 flags + 500 experiments × 25 versions; ``--scale F`` shrinks the org.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    FULL_VERSIONS,
    RATE,
    Fake,
    line,
    loads_without_gc,
    parser,
    serve,
    sizes,
    timed,
)

import expkit

LISTS = (
    ("/api/1/flags", {"includeArchived": "true"}),
    ("/api/1/experiments", {"includeArchived": "true"}),
    ("/api/1/versions", {}),
    ("/api/1/deployments", {}),
    ("/api/1/mutexes", {}),
    ("/api/1/holdouts", {}),
)


def raw_bodies(fake: Fake) -> tuple[list[bytes], float]:
    """Every page of every list the snapshot reads, as raw bytes (cursor pages of 1,000),
    and the seconds the requests took (the fake serving and sending them: no JSON parse)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {fake.api_key}"
    bodies = []
    serving = 0.0
    for path, params in LISTS:
        cursor = None
        while True:
            query: dict[str, Any] = {**params, "limit": 1000}
            if cursor is not None:
                query["cursor"] = cursor
            start = time.perf_counter()
            response = session.get(fake.url + path, params=query, timeout=300)
            serving += time.perf_counter() - start
            response.raise_for_status()
            bodies.append(response.content)
            body = json.loads(response.content)
            cursor = body.get("nextCursor") if isinstance(body, dict) else None
            if cursor in (None, ""):
                break
    session.close()
    return bodies, serving


def naive_sync(client: expkit.Client) -> int:
    """The loop people write first: list, then one versions request per config."""
    n = 0
    for resource in (client.flags, client.experiments):
        for config in resource.list(include_archived=True):
            n += len(resource.versions(config["id"]))
    return n


def measure(
    fake: Fake, latency: float, *, naive: bool = True, repeat: int = 3, log: bool = True
) -> dict[str, Any]:
    """Runs expkit, the floor and (optionally) the naive loop against ``fake``.

    expkit and the floor are measured ``repeat`` times, interleaved, and the best of each is
    kept: the machine is shared, and the minimum is the least disturbed figure of both.
    """
    expkit_runs, loads_runs, loads_nogc_runs, serve_runs = [], [], [], []
    for _ in range(repeat):
        client = fake.client()
        snap, seconds = timed(lambda c=client: expkit.snapshot(c, inclusions=False, progress=False))
        expkit_runs.append(seconds)
        requests_expkit = client.request_count
        fake.latency(0.0)
        bodies, serving = raw_bodies(fake)
        serve_runs.append(serving)
        fake.latency(latency)
        start = time.perf_counter()
        for body in bodies:
            json.loads(body)
        loads_runs.append(time.perf_counter() - start)
        loads_nogc_runs.append(loads_without_gc(bodies))
    expkit_s, loads_s = min(expkit_runs), min(loads_runs)
    n_min = len(bodies)
    floor_s = max(n_min * latency, n_min / RATE) + loads_s
    # expkit pauses the cyclic GC while parsing; the strict floor does too
    floor_nogc_s = max(n_min * latency, n_min / RATE) + min(loads_nogc_runs)
    mb = sum(len(b) for b in bodies) / 1e6
    if log:
        print(
            f"org: {len(snap.configs):,} configs, {len(snap.versions):,} versions, "
            f"{mb:.1f} MB of JSON in {n_min} pages"
        )
        runs = ", ".join(f"{s:.2f}" for s in expkit_runs)
        print(f"expkit snapshot(inclusions=False): {runs} s; {requests_expkit} requests")
        print(
            f"floor: {n_min} requests x {latency * 1000:.0f} ms + json.loads "
            f"{loads_s:.2f} s = {floor_s:.2f} s "
            f"(GC paused while parsing, as expkit does: {floor_nogc_s:.2f} s)"
        )
        print(f"the fake serving those pages (no latency, no parsing): {min(serve_runs):.2f} s")
    figures: dict[str, Any] = {
        "expkit_s": expkit_s,
        "floor_s": floor_s,
        "floor_nogc_s": floor_nogc_s,
    }
    if naive:
        naive_client = fake.client()
        _, naive_s = timed(lambda: naive_sync(naive_client))
        figures["naive_s"] = naive_s
        if log:
            print(f"naive loop: {naive_s:.2f} s, {naive_client.request_count} requests")
    figures["expkit/floor"] = expkit_s / floor_s
    figures["expkit/floor_nogc"] = expkit_s / floor_nogc_s
    if naive:
        figures["naive/expkit"] = figures["naive_s"] / expkit_s
    figures["requests_expkit"] = requests_expkit
    figures["requests_floor"] = n_min
    if naive:
        figures["requests_naive"] = naive_client.request_count
    figures["json_mb"] = round(mb, 1)
    figures["fake_serve_s"] = min(serve_runs)
    return figures


def run(
    scale: float,
    latency: float,
    seed: int,
    *,
    naive: bool = True,
    repeat: int = 3,
    log: bool = True,
) -> dict[str, Any]:
    """Serves the org at ``scale`` and measures it."""
    with serve(**sizes(scale), versions_per_config=FULL_VERSIONS, seed=seed, latency=latency) as f:
        return measure(f, latency, naive=naive, repeat=repeat, log=log)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--no-naive", dest="naive", action="store_false", help="skip the naive loop")
    p.add_argument("--repeat", type=int, default=3, help="runs of expkit and floor (best kept)")
    args = p.parse_args()
    figures = run(args.scale, args.latency, args.seed, naive=args.naive, repeat=args.repeat)
    print(line("sync", {"scale": args.scale, **figures}))


if __name__ == "__main__":
    main()

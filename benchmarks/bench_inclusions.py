"""Inclusions benchmark: users and cohorts of every variant of 500 configs at 50 ms latency.

``expkit.fetch_inclusions`` (concurrent, under the client's 100 requests/s limiter) against
the rate-limit floor (requests / 100 per second) and against the sequential loop (one request
after the other). ``--scale F`` divides the number of configs by F.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RATE, line, parser, serve, sizes, timed

import expkit

CONFIGS = 500


def sequential(client: expkit.Client, variants: Any) -> int:
    """The plain loop: users, then cohorts, of each variant, one request at a time."""
    n = 0
    for cid, kind, vkey in variants[["config_id", "kind", "variant_key"]].itertuples(index=False):
        resource = client.flags if kind == "flag" else client.experiments
        n += len(resource.users(cid, vkey)) + len(resource.cohorts(cid, vkey))
    return n


def run(
    scale: float,
    latency: float,
    seed: int,
    *,
    max_workers: int = 8,
    sequential_loop: bool = True,
    log: bool = True,
) -> dict[str, Any]:
    org = sizes(scale, flags=CONFIGS * 4 // 5, experiments=CONFIGS // 5)
    with serve(**org, versions_per_config=2, seed=seed, latency=latency) as fake:
        setup = fake.client(rate_limit=None)
        variants = expkit.snapshot(setup, inclusions=False, progress=False).variants
        client = fake.client()
        frame, expkit_s = timed(
            lambda: expkit.fetch_inclusions(
                client, variants, max_workers=max_workers, progress=False
            )
        )
        n_requests = client.request_count
        floor_s = n_requests / RATE
        figures: dict[str, Any] = {
            "configs": int(variants["config_id"].nunique()),
            "variants": len(variants),
            "inclusions": len(frame),
            "requests": n_requests,
            "expkit_s": expkit_s,
            "floor_s": floor_s,
            "expkit/floor": expkit_s / floor_s,
        }
        if log:
            print(
                f"{figures['configs']} configs, {len(variants)} variants, "
                f"{len(frame):,} inclusions, {n_requests} requests"
            )
            print(f"expkit fetch_inclusions(max_workers={max_workers}): {expkit_s:.2f} s")
            print(f"floor at {RATE:.0f} requests/s: {floor_s:.2f} s")
        if sequential_loop:
            seq_client = fake.client()
            _, seq_s = timed(lambda: sequential(seq_client, variants))
            figures["sequential_s"] = seq_s
            figures["sequential/expkit"] = seq_s / expkit_s
            if log:
                print(f"sequential loop: {seq_s:.2f} s")
    return figures


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=8, help="expkit's max_workers")
    p.add_argument(
        "--no-sequential", dest="sequential", action="store_false", help="skip the plain loop"
    )
    args = p.parse_args()
    figures = run(
        args.scale,
        args.latency,
        args.seed,
        max_workers=args.workers,
        sequential_loop=args.sequential,
    )
    print(line("inclusions", {"scale": args.scale, **figures}))


if __name__ == "__main__":
    main()

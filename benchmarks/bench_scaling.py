"""Scaling: the sync and flatten figures at 10×, 100× and 1000× fewer configs.

Runs ``bench_sync`` and ``bench_flatten`` at ``--scale`` × 10, × 100 and × 1000, to show how
cost grows with the org (the full-size figures are the two scripts' own runs).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_flatten
import bench_sync
from _common import line, parser, sizes

FACTORS = (10, 100, 1000)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--no-naive", dest="naive", action="store_false", help="skip the naive loop")
    args = p.parse_args()
    figures: dict[str, Any] = {"scale": args.scale}
    print(
        f"{'fewer':>6} {'configs':>8} {'versions':>9} {'sync_s':>7} {'floor_s':>8} "
        f"{'naive_s':>8} {'requests':>8} {'flatten_s':>9} {'loads_s':>8}"
    )
    for factor in FACTORS:
        scale = args.scale * factor
        sync = bench_sync.run(scale, args.latency, args.seed, naive=args.naive, log=False)
        flat = bench_flatten.run(scale, args.seed, log=False)
        n_configs = sum(sizes(scale).values())
        naive = f"{sync['naive_s']:8.2f}" if args.naive else f"{'-':>8}"
        print(
            f"{factor:>5}x {n_configs:>8,} {flat['records']:>9,} {sync['expkit_s']:7.2f} "
            f"{sync['floor_s']:8.2f} {naive} {sync['requests_expkit']:>8} "
            f"{flat['frames_s']:9.3f} {flat['loads_s']:8.3f}"
        )
        figures[f"sync_s@{factor}x"] = sync["expkit_s"]
        figures[f"floor_s@{factor}x"] = sync["floor_s"]
        if args.naive:
            figures[f"naive_s@{factor}x"] = sync["naive_s"]
        figures[f"requests@{factor}x"] = sync["requests_expkit"]
        figures[f"flatten_s@{factor}x"] = flat["frames_s"]
        figures[f"loads_s@{factor}x"] = flat["loads_s"]
    print(line("scaling", figures))


if __name__ == "__main__":
    main()

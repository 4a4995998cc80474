"""Refresh benchmark: requests and time of ``snap.refresh(client)`` after 10 changes.

Takes a snapshot (inclusions included) of a synthetic org at 50 ms latency, changes 10
configs (8 flags, 2 experiments) through the API, then times the refresh against a fresh
snapshot, and checks both are equal. ``--scale F`` divides the org by F.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import FULL_VERSIONS, line, parser, serve, sizes, timed

import expkit


def change_ten(client: expkit.Client, snap: expkit.Snapshot) -> list[str]:
    """Edits 8 flags and 2 experiments; returns their ids."""
    configs = snap.configs[~snap.configs["archived"].fillna(False).astype(bool)]
    flags = configs.loc[configs["kind"] == "flag", "id"].tolist()[:8]
    exps = configs.loc[configs["kind"] == "experiment", "id"].tolist()[: 10 - len(flags)]
    for i, cid in enumerate(flags):
        client.flags.edit(cid, rollout_percentage=(17 * i) % 100)
    for cid in exps:
        client.experiments.edit(cid, description="changed by bench_refresh")
    return flags + exps


def run(scale: float, latency: float, seed: int, *, log: bool = True) -> dict[str, Any]:
    with serve(**sizes(scale), versions_per_config=FULL_VERSIONS, seed=seed, latency=latency) as f:
        client = f.client()
        snap, snapshot_s = timed(lambda: expkit.snapshot(client, progress=False))
        snapshot_requests = client.request_count
        changed = change_ten(f.client(), snap)
        n_variants = int(snap.variants["config_id"].isin(changed).sum())
        client = f.client()
        refreshed, refresh_s = timed(lambda: snap.refresh(client, progress=False))
        refresh_requests = client.request_count
        fresh = expkit.snapshot(f.client(), progress=False)
    equal = refreshed.equals(fresh)
    figures = {
        "changed": len(changed),
        "refresh_s": refresh_s,
        "refresh_requests": refresh_requests,
        "inclusion_requests": 2 * n_variants,
        "other_requests": refresh_requests - 2 * n_variants,
        "snapshot_s": snapshot_s,
        "snapshot_requests": snapshot_requests,
        "snapshot/refresh": snapshot_s / refresh_s,
        "equal_to_fresh": equal,
    }
    if log:
        print(
            f"org: {len(snap.configs):,} configs, {len(snap.versions):,} versions, "
            f"{len(snap.inclusions):,} inclusions"
        )
        print(f"snapshot: {snapshot_s:.2f} s, {snapshot_requests} requests")
        print(
            f"refresh after {len(changed)} changes: {refresh_s:.2f} s, {refresh_requests} "
            f"requests ({2 * n_variants} of them inclusions of {n_variants} changed variants)"
        )
        print(f"refreshed snapshot equals a fresh one: {equal}")
    return figures


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    print(line("refresh", {"scale": args.scale, **run(args.scale, args.latency, args.seed)}))


if __name__ == "__main__":
    main()

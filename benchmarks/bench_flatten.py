"""Flatten benchmark: 60,000 version records (~80 MB of JSON) → frames.

Times, on the same payload (the exact bytes the fake's ``/api/1/versions`` serves):
- ``json.loads`` of the payload (the reference: frames should cost at most half of it), also
  with the cyclic GC paused (``loads_nogc_s``), as expkit's flatteners run: the strict reference;
- ``frames_s``: what a snapshot flattens from it, the ``versions`` frame of every record plus
  the configs / variants / segments / conditions frames of each config's latest version;
- ``every_config_s``: the heavier case of all four config frames from all 60,000 configs;
- ``pandas.json_normalize(records, max_level=1)`` alone (no typing, no nested frames), and the
  versions frame built on top of it (normalize, pick, cast), the alternative implementation.
Each figure is the best of ``--repeat`` runs. ``--scale F`` divides the record count by F.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd
from _common import FULL_VERSIONS, line, loads_without_gc, parser

from expkit import frames
from expkit._schema import SCHEMA
from expkit.fake import FakeServer

RECORDS = 60_000


def payload(scale: float, seed: int) -> bytes:
    """The feed's JSON body of ``RECORDS / scale`` versions of a synthetic org."""
    n_configs = max(2, round(RECORDS / scale / FULL_VERSIONS))
    n_experiments = max(1, n_configs // 5)
    server = FakeServer.synthetic(
        n_flags=n_configs - n_experiments,
        n_experiments=n_experiments,
        versions_per_config=FULL_VERSIONS,
        seed=seed,
    )
    records, _ = server.state.timeline()
    return b'{"versions":[' + b",".join(r.raw() for r in records) + b'],"nextCursor":null}'


def best(func: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def latest_configs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    latest: dict[Any, dict[str, Any]] = {}
    for rec in records:
        fc = rec["flagConfig"]
        current = latest.get(fc["id"])
        if current is None or rec["version"] > current["version"]:
            latest[fc["id"]] = rec
    return [rec["flagConfig"] for rec in latest.values()]


def snapshot_frames(records: list[dict[str, Any]]) -> None:
    frames.versions(records)
    current = latest_configs(records)
    for name in ("configs", "variants", "segments", "conditions"):
        getattr(frames, name)(current)


def every_config_frames(records: list[dict[str, Any]]) -> None:
    configs = [rec["flagConfig"] for rec in records]
    for name in ("configs", "variants", "segments", "conditions"):
        getattr(frames, name)(configs)


def versions_via_json_normalize(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The versions frame the json_normalize way: normalize, pick columns, cast once."""
    flat = pd.json_normalize(records, max_level=1)
    out = pd.DataFrame(
        {
            "config_id": flat["flagConfig.id"].astype("string"),
            "kind": pd.Series("flag", index=flat.index, dtype="string"),
            "config_key": flat["flagConfig.key"].astype("string"),
            "version": flat["version"].astype("Int64"),
            "created_at": pd.to_datetime(flat["createdAt"], utc=True, format="ISO8601").astype(
                "datetime64[ns, UTC]"
            ),
            "created_by": flat["createdBy"].astype("string"),
            "enabled": flat["flagConfig.enabled"].astype("boolean"),
            "rollout_percentage": flat["flagConfig.rolloutPercentage"].astype("Float64"),
            "rollout_weights": flat["flagConfig.rolloutWeights"],
            "n_segments": flat["flagConfig.targetSegments"].map(len).astype("Int64"),
            "config": [r["flagConfig"] for r in records],
            "extra": [{} for _ in records],
        }
    )
    assert list(out.columns) == list(SCHEMA["versions"])
    return out.sort_values(["config_id", "version"], kind="stable", ignore_index=True)


def run(scale: float, seed: int, *, repeat: int = 3, log: bool = True) -> dict[str, Any]:
    body = payload(scale, seed)
    records = json.loads(body)["versions"]
    loads_s = best(lambda: json.loads(body), repeat)
    loads_nogc_s = best(lambda: loads_without_gc([body]), repeat)
    frames_s = best(lambda: snapshot_frames(records), repeat)
    every_s = best(lambda: every_config_frames(records), repeat)
    normalize_s = best(lambda: pd.json_normalize(records, max_level=1), repeat)
    alt_s = best(lambda: versions_via_json_normalize(records), repeat)
    direct_versions_s = best(lambda: frames.versions(records), repeat)
    if log:
        n_configs = len({r["flagConfig"]["id"] for r in records})
        print(
            f"{len(records):,} version records of {n_configs:,} configs, {len(body) / 1e6:.1f} MB"
        )
        print(f"json.loads: {loads_s:.3f} s ({loads_nogc_s:.3f} s with the GC paused)")
        print(f"expkit frames (versions + current config frames): {frames_s:.3f} s")
        print(f"expkit config frames of every version's config: {every_s:.3f} s")
        print(f"versions frame, direct pass: {direct_versions_s:.3f} s")
        print(f"versions frame via json_normalize + cast: {alt_s:.3f} s")
        print(f"json_normalize(max_level=1) alone: {normalize_s:.3f} s")
    return {
        "records": len(records),
        "json_mb": round(len(body) / 1e6, 1),
        "loads_s": loads_s,
        "frames_s": frames_s,
        "every_config_s": every_s,
        "normalize_s": normalize_s,
        "loads_nogc_s": loads_nogc_s,
        "frames/loads": frames_s / loads_s,
        "frames/loads_nogc": frames_s / loads_nogc_s,
        "normalize/frames": normalize_s / frames_s,
        "versions_direct_s": direct_versions_s,
        "versions_normalize_s": alt_s,
        "normalize/direct": alt_s / direct_versions_s,
    }


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3, help="runs per figure (best kept)")
    args = p.parse_args()
    print(line("flatten", {"scale": args.scale, **run(args.scale, args.seed, repeat=args.repeat)}))


if __name__ == "__main__":
    main()

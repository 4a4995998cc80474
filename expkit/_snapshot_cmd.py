"""``expkit snapshot``: the command (the cli package takes it over; kept apart from the library)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from expkit._fetch import snapshot

if TYPE_CHECKING:
    import argparse


def snapshot_command(args: argparse.Namespace) -> int:
    """``expkit snapshot --out DIR``: take a snapshot of the org and save it; returns 0."""
    from expkit._connect import connect

    options: dict[str, Any] = {}
    if getattr(args, "region", None):
        options["region"] = args.region
    client = connect(getattr(args, "fixtures", None), quiet=False, **options)
    snap = snapshot(
        client,
        inclusions=bool(getattr(args, "inclusions", True)),
        progress=bool(getattr(args, "progress", True)),
    )
    out = snap.save(args.out)
    counts = snap.counts()
    print(
        f"expkit: snapshot of {counts['configs']:,} configs, {counts['versions']:,} versions, "
        f"{counts['inclusions']:,} inclusions taken at {snap.taken_at.isoformat()} "
        f"saved to {out}"
    )
    return 0

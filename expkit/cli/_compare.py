"""``expkit compare``: what differs between two projects (environments) of an org."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from expkit.cli import _options as opt
from expkit.cli._errors import EXIT_API, EXIT_BAD_INPUT, EXIT_BUG, EXIT_OK, InputError, epilog

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[opt.Parser]) -> opt.Parser:
    parser = sub.add_parser(
        "compare",
        help="list what differs between two projects (missing configs, weights, payloads, ...)",
        description="Compare the flags and experiments of two projects: enabled, rollout %, "
        "weights, variants and payloads, segments and conditions, bucketing, tags. Ids, "
        "deployments, salts, timestamps and authors are ignored. Prints a summary; --out "
        "writes every difference as CSV (key, kind, field, source, target, status).",
        epilog=epilog(EXIT_OK, EXIT_BAD_INPUT, EXIT_API, EXIT_BUG),
        formatter_class=opt.HelpFormatter,
    )
    parser.add_argument("source", metavar="SOURCE", help="the source project id (e.g. staging)")
    parser.add_argument("target", metavar="TARGET", help="the target project id (e.g. prod)")
    parser.add_argument("--out", metavar="FILE", help="write the differences to this CSV file")
    parser.add_argument(
        "--snapshot",
        metavar="DIR",
        help="compare a saved snapshot (expkit snapshot --out DIR) instead of fetching the org",
    )
    opt.add_source_options(parser)
    opt.add_debug_option(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Takes (or loads) a snapshot, compares the projects, prints and writes; exit code."""
    import pandas as pd

    import expkit
    from expkit._atomic import atomic_path

    if args.source == args.target:
        raise InputError(f"SOURCE and TARGET are both {args.source}; give two projects.")
    if args.out is not None:
        out = Path(args.out)
        if out.is_dir():
            raise InputError(f"--out {args.out} is a directory; give a CSV file name.")
        if not out.parent.exists():
            raise InputError(f"--out {args.out}: the folder {out.parent} does not exist.")
    if args.snapshot is not None:
        snap = expkit.Snapshot.load(args.snapshot)
    else:
        opt.check_fixtures_dir(args.fixtures)
        opt.check_region_env(args)
        options: dict[str, Any] = {}
        if args.region:
            options["region"] = args.region
        client = expkit.connect(args.fixtures, **options)
        snap = expkit.snapshot(client, inclusions=False, progress=opt.resolve_progress(args))
    drift = expkit.compare(snap, args.source, args.target)
    counts = drift["status"].value_counts().to_dict()
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no drift"
    keys = drift["key"].nunique()
    print(
        f"expkit compare: {args.source} → {args.target}: {len(drift)} difference(s) in "
        f"{keys} config(s) ({summary})."
    )
    for row in drift.head(20).to_dict("records"):
        name = row["field"]
        field = "" if name is None or name is pd.NA else f" {name}"
        print(f"  {row['kind']} {row['key']}{field}: {row['status']}")
    if len(drift) > 20:
        print(f"  ... {len(drift) - 20} more" + ("" if args.out else " (--out FILE for all)"))
    if args.out is not None:
        with atomic_path(args.out) as tmp:
            drift.to_csv(tmp, index=False)
        print(f"expkit compare: wrote {args.out}")
    return EXIT_OK

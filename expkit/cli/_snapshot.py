"""``expkit snapshot``: take a snapshot of an org and save it (Parquet) for ``--previous``."""

from __future__ import annotations

import argparse
from typing import Any

from expkit.cli import _options as opt
from expkit.cli._errors import EXIT_API, EXIT_BAD_INPUT, EXIT_BUG, EXIT_OK, epilog

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[opt.Parser]) -> opt.Parser:
    parser = sub.add_parser(
        "snapshot",
        help="save a snapshot of an org (Parquet) for a later report --previous",
        description="Save a snapshot of an org (every frame, Parquet) for a later "
        "`expkit report --previous`.",
        epilog=epilog(EXIT_OK, EXIT_BAD_INPUT, EXIT_API, EXIT_BUG),
        formatter_class=opt.HelpFormatter,
    )
    opt.add_source_options(parser)
    parser.add_argument(
        "--out", metavar="DIR", required=True, help="snapshot directory, created if missing"
    )
    parser.add_argument(
        "--no-inclusions",
        dest="inclusions",
        action="store_false",
        help="skip variant inclusions, two requests per variant (default: fetch them)",
    )
    opt.add_debug_option(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Takes the snapshot and saves it; returns the exit code."""
    import expkit

    # bad input is found before minutes of fetching, not after
    opt.check_out_dir(args.out)
    opt.check_fixtures_dir(args.fixtures)
    opt.check_region_env(args)
    options: dict[str, Any] = {}
    if args.region:
        options["region"] = args.region
    client = expkit.connect(args.fixtures, **options)
    snap = expkit.snapshot(client, inclusions=args.inclusions, progress=opt.resolve_progress(args))
    out = snap.save(args.out)
    counts = snap.counts()
    print(
        f"expkit: snapshot of {counts['configs']:,} configs, {counts['versions']:,} versions, "
        f"{counts['inclusions']:,} inclusions taken at {snap.taken_at.isoformat()} "
        f"saved to {out}"
    )
    return EXIT_OK

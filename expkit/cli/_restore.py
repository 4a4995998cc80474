"""``expkit restore``: write a flag or experiment as it was at an earlier version."""

from __future__ import annotations

import argparse
from typing import Any

from expkit.cli import _options as opt
from expkit.cli._errors import EXIT_API, EXIT_BAD_INPUT, EXIT_BUG, EXIT_OK, epilog

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[opt.Parser]) -> opt.Parser:
    parser = sub.add_parser(
        "restore",
        help="restore a flag or experiment to an earlier version (as a new version)",
        description="Restore a flag or experiment to the way it was at VERSION, written as a "
        "new version through the fewest requests; verified by re-reading it and logged in the "
        "audit log. Inclusions are not in versions and stay as they are. Prints the changes "
        "first; --dry-run sends nothing, --yes applies.",
        epilog=epilog(EXIT_OK, EXIT_BAD_INPUT, EXIT_API, EXIT_BUG),
        formatter_class=opt.HelpFormatter,
    )
    parser.add_argument("id", metavar="ID", help="the flag's or experiment's id")
    parser.add_argument("version", metavar="VERSION", type=int, help="the version to restore")
    parser.add_argument(
        "--kind", choices=("flags", "experiments"), default="flags", help="default: flags"
    )
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="restore without the parts that no longer validate (a deleted deployment, ...)",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="show the requests, send nothing")
    mode.add_argument("--yes", action="store_true", help="apply the restore")
    opt.add_source_options(parser)
    opt.add_debug_option(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Loads the restore plan, prints it, applies it with --yes; returns the exit code."""
    import expkit
    from expkit.edits import RestoreEdit

    opt.check_fixtures_dir(args.fixtures)
    opt.check_region_env(args)
    options: dict[str, Any] = {}
    if args.region:
        options["region"] = args.region
    client = expkit.connect(args.fixtures, **options)
    plan = RestoreEdit.load(
        client, args.id, args.version, kind=args.kind, allow_partial=args.allow_partial
    )
    for line in plan.left:
        print(f"  left: {line}")
    plan.validate()  # a blocked restore is bad input: exit 2, the reason on stderr
    changes = plan.changes()
    if not changes:
        print(
            f"expkit restore: {args.kind[:-1]} {args.id} already matches version "
            f"{args.version}; nothing to send."
        )
        return EXIT_OK
    print(f"expkit restore: {args.kind[:-1]} {args.id} to version {args.version}:")
    for line in changes:
        print(f"  {line}")
    result = plan.apply(dry_run=args.dry_run, progress=opt.resolve_progress(args))
    for request in result.requests:
        print(f"  {'would send' if args.dry_run else 'sent'}: {request}")
    print(f"expkit restore: {result.outcome}" + (", verified" if result.verified else ""))
    return EXIT_OK

"""The ``expkit`` command: ``report``, ``snapshot``, ``serve``, ``record`` and ``archive``.

This module only parses arguments; each subcommand's work lives beside the feature it runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

# subcommand -> "module:function"; the function takes the parsed args and returns an exit code
_HANDLERS = {
    "report": "expkit.report:report_command",
    "snapshot": "expkit._fetch:snapshot_command",
    "serve": "expkit.fake._cli:serve_command",
    "record": "expkit.fake._record:record_command",
    "archive": "expkit._archive_cli:archive_command",
}


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fixtures",
        metavar="DIR",
        help="serve this fixtures directory instead of the live API "
        "(default when no AMPLITUDE_MANAGEMENT_API_KEY is set: the bundled demo org)",
    )
    parser.add_argument("--region", choices=["us", "eu"], help="live API region (default: us)")
    _add_progress_option(parser)


def _add_progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress bars (default: when stderr is a terminal, so CI logs stay clean)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``expkit`` command."""
    parser = argparse.ArgumentParser(
        prog="expkit",
        description="Amplitude Experiment's Management API from the command line.",
    )
    parser.add_argument("--version", action="version", version="%(prog)s 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    report = sub.add_parser(
        "report",
        help="write the weekly flag-hygiene report (HTML, CSV, Markdown)",
        description="Write report.html, findings.csv and summary.md for an org: the live org "
        "when AMPLITUDE_MANAGEMENT_API_KEY is set, else the bundled demo org.",
    )
    _add_source_options(report)
    report.add_argument("--out", metavar="DIR", default="report", help="output directory")
    report.add_argument(
        "--previous", metavar="DIR", help="an earlier snapshot directory, for week over week"
    )
    report.add_argument("--config", metavar="FILE", help="TOML file of hygiene thresholds")
    report.add_argument("--stale-days", type=int, metavar="N", help="days before a flag is stale")
    report.add_argument(
        "--fail-on",
        choices=["error", "warning"],
        help="exit 1 when a finding of this severity (or worse) exists",
    )
    report.add_argument(
        "--save-snapshot", metavar="DIR", help="also save the snapshot taken, for --previous"
    )

    snap = sub.add_parser(
        "snapshot",
        help="save a snapshot of an org (Parquet) for later --previous comparisons",
    )
    _add_source_options(snap)
    snap.add_argument("--out", metavar="DIR", required=True, help="snapshot directory")
    snap.add_argument(
        "--no-inclusions",
        dest="inclusions",
        action="store_false",
        help="skip variant inclusions (two requests per variant)",
    )

    serve = sub.add_parser("serve", help="serve a fake org over HTTP on 127.0.0.1")
    serve.add_argument("--fixtures", metavar="DIR", help="fixtures directory (default: demo org)")
    serve.add_argument("--port", type=int, default=8765, help="port (0 = any free port)")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to bind")

    record = sub.add_parser(
        "record", help="record an org's GET responses as fixtures (key scrubbed)"
    )
    record.add_argument("--out", metavar="DIR", required=True, help="fixtures directory to write")
    record.add_argument("--base-url", metavar="URL", help="server to record (default: live API)")
    record.add_argument("--region", choices=["us", "eu"], help="live API region (default: us)")
    record.add_argument(
        "--hash-emails", action="store_true", help="replace e-mail inclusions by stable hashes"
    )
    _add_progress_option(record)

    from expkit._archive_cli import add_parser as add_archive_parser

    add_archive_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``expkit`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from expkit.errors import ExpkitError

    if getattr(args, "progress", False) is None:
        args.progress = sys.stderr.isatty()
    module_name, func_name = _HANDLERS[args.command].split(":")
    try:
        # a bad output path is found before minutes of fetching, not after
        _check_out_dir(getattr(args, "out", None))
        handler = getattr(importlib.import_module(module_name), func_name)
        return int(handler(args) or 0)
    except (ExpkitError, OSError) as exc:
        # user errors (bad paths, files, keys) get one line, not a traceback
        print(f"expkit {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _check_out_dir(out: str | None) -> None:
    """Raise if ``--out`` cannot become a directory: it, or a folder above it, is a file."""
    if out is None:
        return
    from expkit.errors import ValidationError

    for path in (Path(out), *Path(out).parents):
        if path.exists():
            if not path.is_dir():
                raise ValidationError(
                    f"--out {out!r} cannot be a directory: {str(path)!r} is a file",
                    field="out",
                    value=out,
                    allowed="a directory (created if missing)",
                )
            return


if __name__ == "__main__":
    sys.exit(main())

"""The ``expkit`` command: ``report``, ``snapshot``, ``refs``, ``archive``, ``restore``,
``compare``, ``serve`` and ``record``.

The top floor of the package: each command module parses its options and calls the library
through its public names, as a user's script would. Library modules never parse arguments
or print; everything a command says is said here.

Exit codes (every command, and in every ``--help``): 0 done; 1 ``report --fail-on`` found
findings that severe; 2 bad input (arguments, files, config, a corrupt ``--previous``); 3 the
API or the network failed; 70 a bug. Every failure is one line on stderr (``--debug`` adds
the traceback); argparse's usage errors print the command's own usage and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from expkit._version import __version__
from expkit.cli import _archive, _compare, _record, _refs, _report, _restore, _serve, _snapshot
from expkit.cli._errors import (
    EXIT_API,
    EXIT_BAD_INPUT,
    EXIT_BUG,
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    epilog,
    report_failure,
)
from expkit.cli._options import HelpFormatter, Parser

__all__ = [
    "EXIT_API",
    "EXIT_BAD_INPUT",
    "EXIT_BUG",
    "EXIT_FINDINGS",
    "EXIT_OK",
    "build_parser",
    "main",
]


def _build() -> tuple[Parser, dict[str, Parser]]:
    parser = Parser(
        prog="expkit",
        description="Amplitude Experiment's Management API from the command line.",
        epilog=epilog(EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_API, EXIT_BUG),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands = {
        command.prog.split()[-1]: command
        for command in (
            _report.add_parser(sub),
            _snapshot.add_parser(sub),
            _refs.add_parser(sub),
            _serve.add_parser(sub),
            _record.add_parser(sub),
            _restore.add_parser(sub),
            _compare.add_parser(sub),
            _archive.add_parser(sub),
        )
    }
    return parser, commands


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``expkit`` command."""
    return _build()[0]


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``expkit`` command; returns its exit code (see the module docstring)."""
    parser, commands = _build()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            # a bad flag after the command gets that command's usage, not the top-level one
            commands.get(args.command, parser).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version and usage errors (2)
        if exc.code is None:
            return EXIT_OK
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print(f"expkit {args.command}: interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # every failure is one line, with the exit code of its kind
        return report_failure(args.command, exc, debug=args.debug, stream=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())

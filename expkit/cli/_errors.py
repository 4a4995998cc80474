"""Exit codes, and every failure turned into one line on stderr.

=====  ==========================================================================
code   meaning
=====  ==========================================================================
0      done
1      ``report --fail-on``: findings at or above that severity
2      bad input: arguments, files, config, a corrupt ``--previous`` snapshot or CSV
3      the API or the network failed (``ApiError``, ``TransportError``)
70     an internal error (a bug in expkit): ``--debug`` shows the traceback
130    interrupted (Ctrl-C)
=====  ==========================================================================
"""

from __future__ import annotations

import re
import traceback
from typing import TextIO

import requests

from expkit.errors import ApiError, ExpkitError, TransportError

__all__ = [
    "EXIT_API",
    "EXIT_BAD_INPUT",
    "EXIT_BUG",
    "EXIT_FINDINGS",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "InputError",
    "epilog",
    "exit_code",
    "one_line",
    "report_failure",
]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_API = 3
EXIT_BUG = 70  # sysexits' EX_SOFTWARE: neither findings, nor bad input, nor the API
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT

_MEANINGS = {
    EXIT_OK: "done",
    EXIT_FINDINGS: "findings at or above --fail-on",
    EXIT_BAD_INPUT: "bad input: arguments, files, config, a corrupt --previous",
    EXIT_API: "the API or the network failed",
    EXIT_BUG: "an internal error (a bug in expkit; --debug shows the traceback)",
}


class InputError(ExpkitError):
    """Bad input found by the command itself, said in CLI terms (``--port``, ``--out``)."""


def epilog(*codes: int) -> str:
    """The exit-code table shown at the end of a command's ``--help``."""
    lines = ["exit codes:"]
    lines += [f"  {code:<3} {_MEANINGS[code]}" for code in codes]
    lines.append("Failures are one line on stderr; add --debug for the traceback.")
    return "\n".join(lines)


def exit_code(exc: BaseException) -> int:
    """The exit code for an exception that ended a command."""
    if isinstance(exc, ApiError | TransportError | requests.RequestException):
        return EXIT_API
    if isinstance(exc, ExpkitError | OSError):
        # ExpkitError here is bad input (a ValidationError, a corrupt snapshot, ...);
        # OSError is a path that cannot be read or written
        return EXIT_BAD_INPUT
    return EXIT_BUG


# "... does not exist Allowed: ..." -> "... does not exist. Allowed: ..."
_SENTENCE_BEFORE = re.compile(r"(?<=[^.!?:\s])\s+(?=(?:Allowed|HINT):)")


def one_line(exc: BaseException) -> str:
    """The exception's message on one line, ending with a full stop."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}"
    else:
        text = " ".join(str(exc).split()) or type(exc).__name__
    text = _SENTENCE_BEFORE.sub(". ", text)
    if not text.endswith((".", "!", "?", "…")):
        text += "."
    return text


def report_failure(command: str, exc: BaseException, *, debug: bool, stream: TextIO) -> int:
    """Writes ``exc`` as one line (after its traceback with ``debug``); returns the exit code."""
    if debug:
        traceback.print_exception(exc, file=stream)
    code = exit_code(exc)
    if code == EXIT_BUG:
        what = f"{type(exc).__name__}: {one_line(exc).rstrip('.')}"
        line = f"expkit {command}: error: internal error ({what}); this is a bug in expkit."
        if not debug:
            line += " Run again with --debug to see the traceback."
    else:
        line = f"expkit {command}: error: {one_line(exc)}"
    print(line, file=stream)
    return code

"""Options the commands share, the help format, and checks of values in CLI terms."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from expkit._http import _is_loopback
from expkit.cli._errors import InputError

__all__ = [
    "ENV_KEY",
    "ENV_REGION",
    "REGIONS",
    "HelpFormatter",
    "Parser",
    "add_debug_option",
    "add_progress_option",
    "add_region_option",
    "add_source_options",
    "check_config_file",
    "check_fixtures_dir",
    "check_host",
    "check_out_dir",
    "check_port",
    "check_region_env",
    "check_stale_days",
    "resolve_progress",
]

ENV_KEY = "AMPLITUDE_MANAGEMENT_API_KEY"
ENV_REGION = "AMPLITUDE_REGION"
REGIONS = ("us", "eu")


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors end with a full stop like every other message."""

    def error(self, message: str) -> NoReturn:
        super().error(message if message.endswith((".", "?", "!")) else message + ".")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the epilog's table as written and shows each option's default.

    A default is added as ``(default: X)`` unless the help already says it or there is none
    to show (None, False): those options say in words what happens when they are left out.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            "default" in text
            or not action.option_strings
            or action.default in (None, False, argparse.SUPPRESS)
        ):
            return text
        return text + " (default: %(default)s)"


def add_debug_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on a failure, print the traceback before the one-line error",
    )


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress bars (default: only when stderr is a terminal, so CI logs stay clean)",
    )


def add_region_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--region",
        choices=REGIONS,
        help=f"live API region (default: {ENV_REGION} if set, else us)",
    )


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """``--fixtures``, ``--region`` and ``--progress``: where the org comes from."""
    parser.add_argument(
        "--fixtures",
        metavar="DIR",
        help="read the org from this fixtures directory (an offline fake) instead of the live "
        f"API (default: the live API when {ENV_KEY} is set, else the bundled demo org)",
    )
    add_region_option(parser)
    add_progress_option(parser)


def resolve_progress(args: argparse.Namespace) -> bool:
    """``--progress``/``--no-progress``, else whether stderr is a terminal."""
    progress = getattr(args, "progress", None)
    return sys.stderr.isatty() if progress is None else bool(progress)


# --------------------------------------------------------------------------- checks


def check_out_dir(value: str | None, flag: str = "--out") -> None:
    """Bad input if ``value`` cannot become a directory: it, or a folder above it, is a file."""
    if value is None:
        return
    for path in (Path(value), *Path(value).parents):
        if path.exists():
            if not path.is_dir():
                raise InputError(
                    f"{flag} {value} cannot be a directory: {path} is a file. "
                    "Give a new or existing directory."
                )
            return


def check_fixtures_dir(value: str | None, flag: str = "--fixtures") -> None:
    """Bad input unless ``value`` (when given) is an existing directory."""
    if value is None:
        return
    path = Path(value)
    if not path.exists():
        raise InputError(f"{flag} {value}: no such directory.")
    if not path.is_dir():
        raise InputError(f"{flag} {value} is a file; give a fixtures directory.")


def check_config_file(value: str | None) -> None:
    """Bad input unless ``--config`` (when given) is an existing file."""
    if value is None:
        return
    path = Path(value)
    if not path.exists():
        raise InputError(f"--config {value}: no such file (a TOML file of hygiene settings).")
    if path.is_dir():
        raise InputError(f"--config {value} is a directory, not a TOML file.")


def check_region_env(args: argparse.Namespace) -> None:
    """Bad input when ``--region`` is not given and ``AMPLITUDE_REGION`` names no region."""
    if getattr(args, "region", None) is not None:
        return
    env = os.environ.get(ENV_REGION)
    if env and env.strip().lower() not in REGIONS:
        raise InputError(
            f"{ENV_REGION}={env!r} is not a region; set it to us or eu, or pass --region us|eu."
        )


def check_port(port: int) -> None:
    """Bad input unless ``--port`` is 0 (any free port) or 1–65535."""
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port} is not a port; use 1–65535, or 0 for any free port.")


def check_host(host: str) -> None:
    """Bad input unless ``--host`` is a loopback address (the fake serves plain http)."""
    if not _is_loopback(host):
        raise InputError(
            f"--host {host} is not a loopback address; the fake serves plain http, so it binds "
            "only to 127.0.0.1, ::1 or localhost."
        )


def check_stale_days(value: int | None) -> None:
    """Bad input unless ``--stale-days`` (when given) is ≥ 0."""
    if value is not None and value < 0:
        raise InputError(f"--stale-days must be a whole number of days ≥ 0, not {value}.")

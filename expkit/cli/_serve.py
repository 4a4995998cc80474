"""``expkit serve``: serve a fixtures directory (the demo org by default) until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import TextIO

from expkit.cli import _options as opt
from expkit.cli._errors import EXIT_BAD_INPUT, EXIT_BUG, EXIT_OK, InputError, epilog

__all__ = ["DEFAULT_PORT", "add_parser", "run"]

DEFAULT_PORT = 8765


def add_parser(sub: argparse._SubParsersAction[opt.Parser]) -> opt.Parser:
    parser = sub.add_parser(
        "serve",
        help="serve a fake org over HTTP on 127.0.0.1 until Ctrl-C",
        description="Serve a fake org (recorded fixtures, the bundled demo org by default) over "
        "plain HTTP on a loopback address until Ctrl-C; prints the URL and the key it accepts.",
        epilog=epilog(EXIT_OK, EXIT_BAD_INPUT, EXIT_BUG),
        formatter_class=opt.HelpFormatter,
    )
    parser.add_argument(
        "--fixtures", metavar="DIR", help="fixtures directory (default: the bundled demo org)"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port, 1–65535, or 0 for any free port"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (127.0.0.1, ::1, localhost)"
    )
    opt.add_debug_option(parser)
    parser.set_defaults(run=run)
    return parser


def run(
    args: argparse.Namespace,
    *,
    stop: threading.Event | None = None,
    out: TextIO | None = None,
) -> int:
    """Serves ``--fixtures`` on ``--host``/``--port`` until Ctrl-C (or ``stop`` is set).

    Prints the URL, the key to use and an example to ``out`` (default: stdout); returns the
    exit code. Bad input raises ``InputError`` before anything listens.
    """
    from expkit._paths import demo_fixtures
    from expkit.fake import FakeServer

    out = out if out is not None else sys.stdout
    host: str = args.host
    port: int = args.port
    opt.check_port(port)
    opt.check_host(host)
    opt.check_fixtures_dir(args.fixtures)
    fixtures = Path(args.fixtures) if args.fixtures else demo_fixtures()
    server = FakeServer.from_fixtures(fixtures, host=host, port=port)
    try:
        server.start()
    except OSError as exc:
        raise InputError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; pick another --port "
            "(0 = any free port)."
        ) from exc
    counts = server.state.counts()
    key = server.api_key
    print(
        f"expkit: serving {fixtures} ({counts['flags']} flags, {counts['experiments']} "
        f"experiments, {counts['versions']} versions) at {server.url}\n"
        f"  API key (accepted by this fake only): {key}\n"
        "  Python:\n"
        f'    client = expkit.Client(api_key="{key}", base_url="{server.url}")\n'
        "  curl:\n"
        f'    curl -H "Authorization: Bearer {key}" "{server.url}/api/1/flags?limit=5"\n'
        "Press Ctrl-C to stop.",
        file=out,
        flush=True,
    )
    waiter = stop if stop is not None else threading.Event()
    try:
        while not waiter.wait(0.5):
            pass
    except KeyboardInterrupt:
        print("\nexpkit: stopped.", file=out)
    finally:
        server.stop()
    return EXIT_OK

"""``expkit serve``: serve a fixtures directory (the demo org by default) until Ctrl-C."""

from __future__ import annotations

import argparse
import ipaddress
import sys
import threading
from pathlib import Path
from typing import TextIO

from expkit.errors import ExpkitError
from expkit.fake._server import FakeServer

__all__ = ["serve_command"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(
    args: argparse.Namespace,
    *,
    stop: threading.Event | None = None,
    out: TextIO | None = None,
) -> int:
    """Serves ``--fixtures`` on ``--host``/``--port`` until Ctrl-C (or ``stop`` is set).

    Prints the URL, the key to use and an example; returns the exit code.
    """
    from expkit._paths import demo_fixtures

    out = out if out is not None else sys.stdout
    host = getattr(args, "host", None) or "127.0.0.1"
    port = getattr(args, "port", None)
    port = 8765 if port is None else port
    if not _is_loopback(host):
        print(
            f"expkit serve: --host {host} is not a loopback address; the fake serves plain "
            "http, so it binds only to 127.0.0.1, ::1 or localhost.",
            file=sys.stderr,
        )
        return 2
    fixtures = Path(args.fixtures) if getattr(args, "fixtures", None) else demo_fixtures()
    if not fixtures.is_dir():
        print(f"expkit serve: no fixtures directory at {fixtures}", file=sys.stderr)
        return 2
    try:
        server = FakeServer.from_fixtures(fixtures, host=host, port=port)
    except ExpkitError as exc:
        print(f"expkit serve: {exc}", file=sys.stderr)
        return 2
    try:
        server.start()
    except OSError as exc:
        print(
            f"expkit serve: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr
        )
        return 1
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
    return 0

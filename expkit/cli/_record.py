"""``expkit record``: write an org's GET responses as fixtures (the key scrubbed)."""

from __future__ import annotations

import argparse
import json
import os
from urllib.parse import urlsplit

from expkit._http import _is_loopback
from expkit.cli import _options as opt
from expkit.cli._errors import EXIT_API, EXIT_BAD_INPUT, EXIT_BUG, EXIT_OK, InputError, epilog
from expkit.errors import ValidationError

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[opt.Parser]) -> opt.Parser:
    parser = sub.add_parser(
        "record",
        help="record an org's GET responses as fixtures (key scrubbed)",
        description="Record every GET response of an org (live, or a fake at --base-url) as a "
        f"fixtures directory that --fixtures and `expkit serve` read; the key comes from "
        f"{opt.ENV_KEY} and is never written.",
        epilog=epilog(EXIT_OK, EXIT_BAD_INPUT, EXIT_API, EXIT_BUG),
        formatter_class=opt.HelpFormatter,
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        required=True,
        help="fixtures directory to write (new, empty, or an earlier recording it replaces)",
    )
    parser.add_argument(
        "--base-url", metavar="URL", help="server to record (default: the live API of --region)"
    )
    opt.add_region_option(parser)
    parser.add_argument(
        "--hash-emails",
        action="store_true",
        help="replace e-mail addresses by stable hashes (default: kept as recorded)",
    )
    opt.add_progress_option(parser)
    opt.add_debug_option(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Records the org into ``--out``; returns the exit code."""
    from expkit import Client
    from expkit.fake import record

    opt.check_out_dir(args.out)
    opt.check_region_env(args)
    key = os.environ.get(opt.ENV_KEY) or None
    if key is None:
        if args.base_url and _is_loopback(urlsplit(args.base_url).hostname or ""):
            raise InputError(
                f"set {opt.ENV_KEY} to the key the fake server printed (`expkit serve` shows "
                f"it): {opt.ENV_KEY}=<key> expkit record --base-url {args.base_url} "
                f"--out {args.out}"
            )
        raise InputError(
            f"no API key; set {opt.ENV_KEY} to a Management API key "
            f"(and {opt.ENV_REGION} or --region for the EU)."
        )
    try:
        client = Client(api_key=key, region=args.region, base_url=args.base_url)
    except ValidationError as exc:
        if exc.field != "base_url":
            raise
        raise InputError(f"--base-url {args.base_url}: use {exc.allowed}.") from exc
    with client:
        out = record(
            client,
            args.out,
            hash_emails=args.hash_emails,
            progress=opt.resolve_progress(args),
        )
    counts = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["counts"]
    summary = ", ".join(f"{counts[k]:,} {k}" for k in ("flags", "experiments", "versions"))
    print(f"recorded {summary} into {out}")
    return EXIT_OK

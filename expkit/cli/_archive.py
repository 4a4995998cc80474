"""``expkit archive``: from a report's findings.csv to a lifecycle plan, dry run or applied.

Prints the plan (one row per config: ready / blocked / no-op, with the reason), then refuses
unless told ``--dry-run`` (re-read the server and check every config, send nothing) or
``--yes`` (apply). Blocked and no-op configs are reported, never sent, and do not fail the
command; a config whose request failed (or whose outcome is unknown) exits 3.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from expkit.cli import _options as opt
from expkit.cli._errors import EXIT_API, EXIT_BAD_INPUT, EXIT_BUG, EXIT_OK, InputError, epilog

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ACTIONS", "add_parser", "run"]

# LifecycleEdit's ACTIONS, spelled out so that building the parser imports nothing heavy
ACTIONS = ("archive", "unarchive", "disable", "enable")


def add_parser(sub: argparse._SubParsersAction[opt.Parser]) -> opt.Parser:
    parser = sub.add_parser(
        "archive",
        help="archive (or disable, enable, unarchive) the configs of a findings.csv",
        description="Plan a lifecycle action for the configs of a report's findings.csv, "
        "print the plan (ready / blocked / no-op, with reasons), then check it against the "
        "server (--dry-run) or apply it (--yes). Blocked configs are never sent: one a live "
        "config depends on, one in a mutex or holdout group, one tagged expkit:permanent, a "
        "running experiment, and with --code one still referenced in code.",
        epilog=epilog(EXIT_OK, EXIT_BAD_INPUT, EXIT_API, EXIT_BUG),
        formatter_class=opt.HelpFormatter,
    )
    parser.add_argument(
        "--findings",
        metavar="CSV",
        required=True,
        help="a findings.csv written by `expkit report`",
    )
    parser.add_argument(
        "--rule",
        metavar="R",
        action="append",
        help="only the configs with a finding of this rule, repeatable (default: every rule)",
    )
    parser.add_argument(
        "--kind", choices=["flags", "experiments"], help="only this kind (default: both)"
    )
    parser.add_argument("--action", choices=ACTIONS, default="archive", help="what to do")
    parser.add_argument(
        "--code",
        metavar="PATH",
        action="append",
        help="a source tree to scan, repeatable: a config whose key is in it is blocked "
        "(default: no scan)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="send configs referenced in code anyway (overrides that block only)",
    )
    parser.add_argument(
        "--allow-large",
        action="store_true",
        help="allow a plan needing more than 10%% of the API's 100,000 requests/day",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run",
        action="store_true",
        help="re-read the server and check every config; send nothing",
    )
    mode.add_argument("--yes", action="store_true", help="apply the plan")
    opt.add_source_options(parser)
    opt.add_debug_option(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Plans the action, prints it, and dry-runs or applies it; returns the exit code."""

    import expkit
    from expkit import hygiene
    from expkit.edits import LifecycleEdit

    opt.check_fixtures_dir(args.fixtures)
    opt.check_region_env(args)
    findings = _select(hygiene.read_findings(args.findings), args.rule)
    progress = opt.resolve_progress(args)
    if findings.empty:
        print("expkit archive: no findings match; nothing to do.")
        return EXIT_OK
    refs = None
    if args.code:
        keys = sorted({str(k) for k in findings["key"].dropna()})
        refs = expkit.code_refs(args.code, keys, progress=progress)
    options: dict[str, Any] = {}
    if args.region:
        options["region"] = args.region
    client = expkit.connect(args.fixtures, **options)
    plan = LifecycleEdit.load(
        client,
        findings,
        action=args.action,
        kind=args.kind,
        refs=refs,
        force=args.force,
        allow_large=args.allow_large,
    )
    counts = plan.counts()
    print(
        f"expkit archive: {args.action} {len(plan.ids)} config(s): {counts['ready']} ready, "
        f"{counts['blocked']} blocked, {counts['no-op']} no-op; about {plan.n_requests:,} "
        "request(s)"
    )
    print(_table(plan.preview()))
    if not (args.dry_run or args.yes):
        print(
            "expkit archive: error: refusing to act without --dry-run (check the plan against "
            "the server, send nothing) or --yes (apply it).",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    result = plan.apply(dry_run=args.dry_run, progress=progress)
    print(f"expkit archive: {result.outcome}: " + _counted(result.counts()))
    sent = result.frame()
    sent = sent[~sent["status"].isin(["blocked", "no-op"])]
    if not sent.empty:
        print(_table(sent.drop(columns=["action"])))
    if not args.dry_run:
        if plan.audit_log is not None:
            print(f"expkit archive: audit log {plan.audit_log}")
        if getattr(client, "fake", None) is not None:
            print("expkit archive: an offline fake org: its changes end with this command.")
    return EXIT_OK if result.ok else EXIT_API


def _select(frame: pd.DataFrame, rules: list[str] | None) -> pd.DataFrame:
    """The findings of the given rules (all when None); an unknown rule is bad input."""
    if not rules:
        return frame
    from expkit import hygiene

    known = set(hygiene.RULES) | {str(r) for r in frame["rule"].dropna()}
    unknown = [r for r in rules if r not in known]
    if unknown:
        raise InputError(
            f"--rule {', '.join(unknown)}: no such rule; allowed: {', '.join(sorted(known))}."
        )
    return frame[frame["rule"].isin(rules)]


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in counts.items()) or "no configs"


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "(no configs)"
    return frame.astype(object).where(frame.notna(), "").to_string(index=False)

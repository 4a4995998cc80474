"""``expkit report``: snapshot the org, check it, write the report (HTML, CSV, Markdown)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expkit.cli import _options as opt
from expkit.cli import _refs
from expkit.cli._errors import (
    EXIT_API,
    EXIT_BAD_INPUT,
    EXIT_BUG,
    EXIT_FINDINGS,
    EXIT_OK,
    InputError,
    epilog,
    one_line,
)
from expkit.errors import ApiError, TransportError

if TYPE_CHECKING:
    import pandas as pd

    from expkit import Snapshot
    from expkit.hygiene import HygieneConfig

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[opt.Parser]) -> opt.Parser:
    parser = sub.add_parser(
        "report",
        help="write the weekly flag-hygiene report (HTML, CSV, Markdown)",
        description="Write report.html, findings.csv and summary.md for an org: the live org "
        f"when {opt.ENV_KEY} is set, else the bundled demo org.",
        epilog=epilog(EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_API, EXIT_BUG),
        formatter_class=opt.HelpFormatter,
    )
    opt.add_source_options(parser)
    parser.add_argument(
        "--out", metavar="DIR", default="report", help="output directory, created if missing"
    )
    parser.add_argument(
        "--previous",
        metavar="PATH",
        help="an earlier snapshot directory (expkit snapshot --out, report --save-snapshot), "
        "report directory or findings.csv: adds what is new and resolved since then, by rule "
        "and config; every rule that ran both times is compared except recent-change (it "
        "follows the calendar) and, when either side has no inclusions, inclusion-overload "
        "and pii-inclusion (default: no comparison)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML file of hygiene thresholds, [hygiene] or [tool.expkit.hygiene] "
        "(default: the built-in thresholds)",
    )
    parser.add_argument(
        "--stale-days",
        type=int,
        metavar="N",
        help="days one variant must have served everyone before fully-rolled-out fires "
        "(default: from --config, else 30)",
    )
    parser.add_argument(
        "--fail-on",
        choices=["error", "warning"],
        help="exit 1 when a finding of this severity (or worse) exists (default: exit 0)",
    )
    parser.add_argument(
        "--code",
        nargs="+",
        action="extend",
        default=[],
        metavar="PATH",
        help="also scan these source trees for the org's keys: adds the code rules "
        "(archived-but-referenced, unreferenced), a 'where in code' column and cleanup.csv, "
        "the configs safe to remove from the code (default: no code scanned; the code rules "
        "are not checked)",
    )
    _refs.add_code_options(parser)
    parser.add_argument(
        "--save-snapshot",
        metavar="DIR",
        help="also save the snapshot taken, for a later --previous (default: not saved)",
    )
    opt.add_debug_option(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Snapshots the org, checks it and writes the report; returns the exit code."""
    import expkit
    from expkit import hygiene, report

    # bad input is found before minutes of fetching, not after
    opt.check_out_dir(args.out)
    opt.check_out_dir(args.save_snapshot, "--save-snapshot")
    opt.check_fixtures_dir(args.fixtures)
    opt.check_config_file(args.config)
    opt.check_stale_days(args.stale_days)
    opt.check_region_env(args)
    _refs.check_code_paths(args.code, "--code")
    cfg = _config(args)
    previous = _load_previous(args.previous) if args.previous else None

    options: dict[str, Any] = {}
    if args.region:
        options["region"] = args.region
    client = expkit.connect(args.fixtures, **options)
    snap = expkit.snapshot(client, progress=opt.resolve_progress(args))
    if args.save_snapshot:
        saved = snap.save(args.save_snapshot)
        print(f"expkit: snapshot saved to {saved}")
    refs = None
    if args.code:
        keys = dict(zip(snap.configs["key"].tolist(), snap.configs["kind"].tolist(), strict=True))
        refs = _refs.scan(args, args.code, keys)
    findings = hygiene.check(snap, config=cfg, refs=refs)
    org = _source_label(args.fixtures) if client.fake is not None else client.base_url
    out = report.write(findings, snap, args.out, previous=previous, config=cfg, org=org, refs=refs)

    counts = findings["severity"].value_counts()
    n_error, n_warning = int(counts.get("error", 0)), int(counts.get("warning", 0))
    print(
        f"expkit: {_counted(len(findings), 'finding')}: {_counted(n_error, 'error')}, "
        f"{_counted(n_warning, 'warning')}, {int(counts.get('info', 0)):,} info "
        f"({_counted(len(snap.configs), 'config')} checked)"
    )
    if refs is not None:
        for line in _refs.scan_summary(refs):
            print(line)
    for name in (*report.FILES, *(report.CODE_FILES if refs is not None else ())):
        print(f"  {out / name}")
    if previous is not None:
        print(_comparison_line(findings, previous, snap, cfg, code_checked=refs is not None))

    if args.fail_on:
        failing = findings["severity"] >= args.fail_on
        if bool(failing.any()):
            print(
                f"expkit: failing (--fail-on {args.fail_on}): "
                f"{_counted(int(failing.sum()), 'finding')} at {args.fail_on} or worse.",
                file=sys.stderr,
            )
            return EXIT_FINDINGS
    return EXIT_OK


def _config(args: argparse.Namespace) -> HygieneConfig:
    from expkit import hygiene

    cfg = hygiene.HygieneConfig.from_toml(args.config) if args.config else hygiene.HygieneConfig()
    if args.stale_days is not None:
        cfg = cfg.replace(stale_days=args.stale_days)
    return cfg


def _load_previous(value: str) -> Snapshot | pd.DataFrame:
    """The snapshot or findings ``--previous`` names; bad input (one line) if unreadable."""
    import pyarrow as pa

    import expkit
    from expkit import hygiene

    path = Path(value)
    if not path.exists():
        raise InputError(f"--previous {value}: no such file or directory.")
    if path.is_file() and path.suffix.lower() != ".csv":
        raise InputError(f"--previous {value} is a file but not a findings.csv.")
    snapshot_dir = path.is_dir() and (path / "meta.json").is_file()
    csv = path if path.is_file() else path / "findings.csv"
    if not snapshot_dir and not csv.is_file():
        raise InputError(
            f"--previous {value} is neither a snapshot directory (expkit snapshot --out), a "
            "report directory (expkit report --out) nor a findings.csv."
        )
    try:
        if snapshot_dir:
            return expkit.Snapshot.load(path)
        return hygiene.read_findings(csv)
    except (ApiError, TransportError):
        raise
    except (
        expkit.ExpkitError,
        OSError,
        ValueError,  # json, pandas (ParserError, EmptyDataError) and most pyarrow errors
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        pa.ArrowException,
    ) as exc:
        what = "snapshot" if snapshot_dir else "findings CSV"
        detail = one_line(exc).rstrip(".")
        if isinstance(exc, json.JSONDecodeError):
            detail = f"meta.json is not valid JSON: {detail}"
        raise InputError(f"--previous {value}: cannot read it as a {what} ({detail}).") from exc


def _comparison_line(
    findings: pd.DataFrame,
    previous: Any,
    snap: Any,
    cfg: HygieneConfig,
    *,
    code_checked: bool = False,
) -> str:
    """What changed since ``previous``, and which rules that covers: as ``report.write`` does."""
    import expkit
    from expkit import hygiene, report

    code_rules = report.code_rules()
    if isinstance(previous, expkit.Snapshot):
        before = hygiene.check(previous, config=cfg)
        partial = not previous.with_inclusions or not snap.with_inclusions
        # a snapshot holds no code: its code rules did not run
        no_code = True
    else:
        before = previous
        partial = not snap.with_inclusions
        no_code = not bool(before["rule"].isin(code_rules).any())
    # what report.write leaves out of the week-over-week comparison, said to the user
    left_out = {
        *report.CALENDAR_RULES,
        *cfg.disabled,
        *(report.INCLUSION_RULES if partial else ()),
        *(code_rules if no_code or not code_checked else ()),
    }
    comparison = report.compare(findings, before, ignore_rules=left_out)
    compared = [rule for rule in hygiene.RULES if rule not in left_out]
    not_compared = sorted(rule for rule in hygiene.RULES if rule in left_out)
    line = (
        f"expkit: since the previous report: {len(comparison.new):,} new, "
        f"{len(comparison.resolved):,} resolved, {len(comparison.still_open):,} still open "
        f"({len(compared)} of {len(hygiene.RULES)} rules compared"
    )
    if not_compared:
        line += f"; not compared: {', '.join(not_compared)}"
    return line + ")"


def _source_label(fixtures: str | None) -> str:
    """What the report's title calls an offline org: the demo org, or a fixtures directory."""
    from expkit._paths import default_fixtures, demo_fixtures

    source = Path(fixtures) if fixtures is not None else default_fixtures()
    if source.resolve() == demo_fixtures().resolve():
        return "demo org (synthetic, offline)"
    return f"fixtures {source.name} (offline)"


def _counted(n: int, noun: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"

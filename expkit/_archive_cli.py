"""``expkit archive``: from a report's findings.csv to a lifecycle plan, dry run or applied.

A command module (it prints; the library never does). Exit codes: 0 done (blocked and
no-op configs included: they are reported, never sent), 2 bad input or refused (no
``--dry-run``/``--yes``, an unreadable findings file, an unknown rule, a plan above the
quota share), 3 an API failure (a request failed, or a config's outcome is unknown).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expkit.errors import ApiError, ExpkitError, TransportError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_API = 3

STALE_RULES = ("fully-rolled-out", "inactive")
# LifecycleEdit's ACTIONS, spelled out so that building the parser imports nothing heavy
ACTIONS = ("archive", "unarchive", "disable", "enable")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Adds the ``archive`` subcommand to an argparse subparsers object."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "archive",
        help="archive (or disable, enable, unarchive) the configs of a findings file",
        description="Plan a lifecycle action for the configs of a report's findings.csv, "
        "print the plan (ready / blocked / no-op, with reasons), then check it against the "
        "server (--dry-run) or apply it (--yes). Blocked configs are never sent.",
    )
    parser.add_argument(
        "--findings", metavar="CSV", required=True, help="a findings.csv from `expkit report`"
    )
    parser.add_argument(
        "--rule",
        metavar="R",
        action="append",
        default=None,
        help="only the configs with a finding of this rule (repeatable)",
    )
    parser.add_argument("--kind", choices=["flags", "experiments"], help="only this kind")
    parser.add_argument(
        "--action", choices=list(ACTIONS), default="archive", help="default: archive"
    )
    parser.add_argument(
        "--code",
        metavar="PATH",
        action="append",
        default=None,
        help="source tree to scan: a config whose key appears in it is blocked (repeatable)",
    )
    parser.add_argument(
        "--force", action="store_true", help="send configs referenced in code (only that block)"
    )
    parser.add_argument(
        "--allow-large",
        action="store_true",
        help="allow a plan above 10%% of the API's 100,000 requests/day quota",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run", action="store_true", help="check the plan against the server; send nothing"
    )
    mode.add_argument("--yes", action="store_true", help="apply the plan")
    parser.add_argument(
        "--fixtures",
        metavar="DIR",
        help="act on a fake over this fixtures directory instead of the live API "
        "(default when no AMPLITUDE_MANAGEMENT_API_KEY is set: the bundled demo org)",
    )
    parser.add_argument("--region", choices=["us", "eu"], help="live API region (default: us)")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress bars (default: when stderr is a terminal)",
    )
    return parser


def archive_command(args: argparse.Namespace) -> int:
    """Runs ``expkit archive``; returns the exit code."""
    try:
        return _archive(args)
    except ValidationError as exc:
        print(f"expkit archive: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ApiError, TransportError) as exc:
        print(f"expkit archive: API error: {exc}", file=sys.stderr)
        return EXIT_API
    except (ExpkitError, OSError) as exc:
        print(f"expkit archive: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def read_findings_csv(path: str | Path) -> pd.DataFrame:
    """A findings.csv as a frame of text columns; ValidationError when it cannot be used."""
    import pandas as pd

    from expkit import hygiene

    reader = getattr(hygiene, "read_findings", None)
    if reader is not None:
        frame: pd.DataFrame = reader(path)
    else:
        if not Path(path).is_file():
            raise ValidationError(
                f"--findings {str(path)!r}: no such file.",
                field="findings",
                value=str(path),
                allowed="a findings.csv written by `expkit report`",
            )
        try:
            frame = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError(
                f"--findings {str(path)!r} is not a CSV: {exc}",
                field="findings",
                value=str(path),
                allowed="a findings.csv written by `expkit report`",
            ) from None
    missing = [c for c in ("rule", "id", "kind") if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"--findings {str(path)!r} has no {', '.join(missing)} column(s); it has "
            f"{', '.join(map(str, frame.columns)) or 'none'}.",
            field="findings",
            value=str(path),
            allowed="a findings.csv with rule, id and kind columns",
        )
    return frame


def select(frame: pd.DataFrame, rules: list[str] | None) -> pd.DataFrame:
    """The findings of the given rules (all when None); an unknown rule is refused."""
    if not rules:
        return frame
    from expkit import hygiene

    known = set(getattr(hygiene, "RULES", {})) | {str(r) for r in frame["rule"].dropna()}
    unknown = [r for r in rules if r not in known]
    if unknown:
        raise ValidationError(
            f"--rule {', '.join(unknown)}: no such rule; allowed: {', '.join(sorted(known))}.",
            field="rule",
            value=unknown,
            allowed=tuple(sorted(known)),
        )
    return frame[frame["rule"].isin(rules)]


def _code_refs(paths: list[str], keys: list[str], progress: bool) -> pd.DataFrame:
    import expkit

    scan = getattr(expkit, "code_refs", None)
    if scan is None:
        raise ValidationError(
            "--code is not available in this version of expkit (expkit.code_refs is "
            "missing); run without --code.",
            field="code",
            value=paths,
            allowed="no --code",
        )
    refs: pd.DataFrame = scan(paths, keys, progress=progress)
    return refs


def _archive(args: argparse.Namespace) -> int:
    import pandas as pd

    import expkit
    from expkit.edits import LifecycleEdit

    findings = select(read_findings_csv(args.findings), args.rule)
    progress = bool(getattr(args, "progress", False))
    if findings.empty:
        print("expkit archive: no findings match; nothing to do.")
        return EXIT_OK
    refs = None
    if args.code:
        keys = sorted({str(k) for k in findings.get("key", pd.Series(dtype="string")).dropna()})
        refs = _code_refs(args.code, keys, progress)
    options: dict[str, Any] = {}
    if getattr(args, "region", None):
        options["region"] = args.region
    client = expkit.connect(getattr(args, "fixtures", None), **options)
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
            "expkit archive: refusing to act without --dry-run (check the plan against the "
            "server, send nothing) or --yes (apply it).",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    result = plan.apply(dry_run=args.dry_run, progress=progress)
    print(f"expkit archive: {result.outcome}: " + _counted(result.counts()))
    changed = result.frame()
    changed = changed[~changed["status"].isin(["blocked", "no-op"])]
    if not changed.empty:
        print(_table(changed.drop(columns=["action"])))
    if plan.audit_log is not None and not args.dry_run:
        print(f"expkit archive: audit log {plan.audit_log}")
    if getattr(client, "_fake_server", None) is not None and not args.dry_run:
        print("expkit archive: this was an offline fake org: its changes end with this command")
    return EXIT_OK if result.ok else EXIT_API


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in counts.items()) or "no configs"


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "(no configs)"
    return frame.fillna("").to_string(index=False)

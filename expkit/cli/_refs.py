"""``expkit refs``: where the org's config keys are in source trees (``expkit.code_refs``).

Also the code options ``expkit report --code`` shares: which keys to look for besides the
org's, aliases and excludes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expkit.cli import _options as opt
from expkit.cli._errors import EXIT_API, EXIT_BAD_INPUT, EXIT_BUG, EXIT_OK, InputError, epilog

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["add_code_options", "add_parser", "check_code_paths", "run", "scan"]

# how many places `expkit refs` prints before "... and N more" (the CSV has them all)
_MAX_PRINTED = 200


def add_parser(sub: argparse._SubParsersAction[opt.Parser]) -> opt.Parser:
    parser = sub.add_parser(
        "refs",
        help="find where the org's config keys are in source trees",
        description="List every place a config key of the org stands between quotes in the "
        "files under PATH (git-tracked and untracked files, .gitignore honoured; node_modules, "
        "build output and binary files skipped): the live org when "
        f"{opt.ENV_KEY} is set, else the bundled demo org.",
        epilog=epilog(EXIT_OK, EXIT_BAD_INPUT, EXIT_API, EXIT_BUG),
        formatter_class=opt.HelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="source trees or files to scan")
    opt.add_source_options(parser)
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write every reference to this CSV (key, kind, path, line, column, text, alias), "
        "replaced atomically (default: print them)",
    )
    add_code_options(parser)
    opt.add_debug_option(parser)
    parser.set_defaults(run=run)
    return parser


def add_code_options(parser: argparse.ArgumentParser) -> None:
    """``--key``, ``--aliases`` and ``--exclude``: what a code scan looks for and skips."""
    parser.add_argument(
        "--key",
        dest="extra_keys",
        action="append",
        default=[],
        metavar="KEY",
        help="also look for this key, e.g. of a config deleted long ago (repeatable; "
        "default: only the org's keys)",
    )
    parser.add_argument(
        "--aliases",
        choices=["cases"],
        help="also look for each key in camelCase, snake_case and SCREAMING_SNAKE "
        "(default: the key as written)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip files or directories matching this gitignore-style glob (repeatable; "
        "default: only the built-in excludes)",
    )


def check_code_paths(paths: list[str], flag: str = "") -> None:
    """Bad input unless every path exists (before minutes of fetching, not after)."""
    for value in paths:
        if not Path(value).expanduser().exists():
            raise InputError(f"{flag + ' ' if flag else ''}{value}: no such file or directory.")


def check_out_file(value: str | None) -> None:
    """Bad input when ``--out`` is a directory or its folder does not exist."""
    if value is None:
        return
    path = Path(value)
    if path.is_dir():
        raise InputError(f"--out {value} is a directory; give a file name such as refs.csv.")
    if not path.parent.is_dir():
        raise InputError(f"--out {value}: the folder {path.parent} does not exist.")


def scan(args: argparse.Namespace, paths: list[str], keys: dict[str, Any]) -> pd.DataFrame:
    """``expkit.code_refs`` over ``paths`` for ``keys`` (key → kind) plus ``--key`` keys."""
    import expkit

    wanted: dict[str, Any] = dict(keys)
    for key in args.extra_keys:
        wanted.setdefault(key, None)
    return expkit.code_refs(
        [str(Path(p).expanduser()) for p in paths],
        wanted,
        aliases=args.aliases,
        exclude=args.exclude or None,
        progress=opt.resolve_progress(args),
    )


def org_keys(client: Any) -> dict[str, Any]:
    """Every config key of the org, archived ones included → "flag" | "experiment"."""
    keys: dict[str, Any] = {}
    for resource, kind in ((client.flags, "flag"), (client.experiments, "experiment")):
        for config in resource.iter(include_archived=True):
            key = config.get("key")
            if isinstance(key, str) and key:
                keys.setdefault(key, kind)
    return keys


def scan_summary(refs: pd.DataFrame) -> list[str]:
    """What a scan found and skipped, in lines for the terminal."""
    attrs = refs.attrs
    files = attrs.get("files")
    n_keys = refs["key"].nunique() if not refs.empty else 0
    line = f"expkit: {_counted(len(refs), 'reference')} to {_counted(n_keys, 'key')}"
    if isinstance(files, int):
        line += f" in {_counted(files, 'file')} scanned"
    skipped = [
        _counted(int(attrs[name]), what)
        for name, what in (("binary", "binary file"), ("skipped", "unreadable file"))
        if attrs.get(name)
    ]
    if skipped:
        line += f" ({', '.join(skipped)} skipped)"
    out = [line]
    noisy = attrs.get("noisy_keys") or {}
    if noisy:
        named = ", ".join(f"{k} ({n:,})" for k, n in sorted(noisy.items(), key=lambda kn: -kn[1]))
        out.append(
            f"expkit: matched in very many places, probably also as an ordinary word: {named}"
        )
    return out


def run(args: argparse.Namespace) -> int:
    """Scans the paths for the org's keys; prints or writes the references."""
    import expkit
    from expkit.hygiene._code import write_csv

    check_code_paths(args.paths)
    check_out_file(args.out)
    opt.check_fixtures_dir(args.fixtures)
    opt.check_region_env(args)
    options: dict[str, Any] = {}
    if args.region:
        options["region"] = args.region
    client = expkit.connect(args.fixtures, **options)
    refs = scan(args, args.paths, org_keys(client))
    if args.out:
        write_csv(refs, args.out)
    else:
        for path, line, key, kind in zip(
            refs["path"].head(_MAX_PRINTED),
            refs["line"].head(_MAX_PRINTED),
            refs["key"].head(_MAX_PRINTED),
            refs["kind"].head(_MAX_PRINTED),
            strict=True,
        ):
            print(f"{path}:{line}: {key}" + (f" ({kind})" if isinstance(kind, str) else ""))
        if len(refs) > _MAX_PRINTED:
            print(f"... and {len(refs) - _MAX_PRINTED:,} more (--out FILE writes them all)")
    for line in scan_summary(refs):
        print(line)
    if args.out:
        print(f"  {args.out}")
    return EXIT_OK


def _counted(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"

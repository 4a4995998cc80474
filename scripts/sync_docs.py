"""Rewrite the generated parts of the docs from the code: the schema table and the CLI help.

A generated part sits between ``<!-- generated: NAME -->`` and ``<!-- end generated -->``
in a docs page. ``python scripts/sync_docs.py`` rewrites every one; ``--check`` only says
which are stale (exit 1), which is what the docs tests run.

- ``schema`` (docs/frames.md): ``expkit._schema.markdown()``, the one schema table.
- ``cli-help`` (docs/cli.md): ``expkit --help`` and each command's ``--help``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
_PART = re.compile(
    r"(?P<open><!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(?P<close><!-- end generated -->)",
    re.S,
)


def schema_table() -> str:
    from expkit._schema import markdown

    return markdown().rstrip("\n") + "\n"


def _help(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "expkit", *args, "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    ).stdout
    return out.rstrip("\n")


def _commands(top_help: str) -> list[str]:
    """The subcommands the top-level help lists (one per line, indented by four spaces)."""
    section = top_help.split("positional arguments:", 1)[-1].split("\n\n", 1)[0]
    listed = re.findall(r"^ {4}([a-z][\w-]*)(?: |$)", section, re.M)
    if listed:
        return listed
    found = re.search(r"\{([\w,-]+)\}", top_help)  # no metavar: usage shows {a,b}
    return found.group(1).split(",") if found else []


def cli_help() -> str:
    top = _help()
    parts = ["```text", "$ expkit --help", top, "```", ""]
    for command in _commands(top):
        parts += ["```text", f"$ expkit {command} --help", _help(command), "```", ""]
    return "\n".join(parts)


GENERATORS: dict[str, Callable[[], str]] = {"schema": schema_table, "cli-help": cli_help}


def sync(*, check: bool = False, docs: Path = DOCS) -> list[str]:
    """Rewrite (or, with ``check``, only compare) every generated part; returns the stale ones."""
    stale: list[str] = []
    cache: dict[str, str] = {}
    for page in sorted(docs.glob("*.md")):
        text = page.read_text(encoding="utf-8")

        def replace(match: re.Match[str], page: Path = page) -> str:
            name = match["name"]
            if name not in GENERATORS:
                raise SystemExit(f"{page.name}: unknown generated part {name!r}")
            if name not in cache:
                cache[name] = GENERATORS[name]()
            if match["body"] != cache[name]:
                stale.append(f"{page.relative_to(ROOT)}: {name}")
            return match["open"] + cache[name] + match["close"]

        new = _PART.sub(replace, text)
        if not check and new != text:
            tmp = page.with_suffix(".md.tmp")
            tmp.write_text(new, encoding="utf-8")
            os.replace(tmp, page)
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a part is stale")
    args = parser.parse_args(argv)
    stale = sync(check=args.check)
    for item in stale:
        print(("stale: " if args.check else "rewrote: ") + item)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())

"""The docs site builds with ``mkdocs build --strict``, and the docs say what the code does.

- the site builds with no warning (broken links and anchors, pages left out of the nav);
- the generated parts (schema table, CLI help) match the code (scripts/sync_docs.py);
- every public name, hygiene rule and CLI command is documented;
- the README stays short, keeps the test command CI reads, and links every page.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
README_MAX_BYTES = 15 * 1024


def _nav_pages() -> list[str]:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    pages: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            pages.append(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(config["nav"])
    return pages


def _sync_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_docs", ROOT / "scripts" / "sync_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean"]
    proc = subprocess.run(
        [*command, "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    for page in _nav_pages():
        name = "index.html" if page == "index.md" else f"{page[:-3]}/index.html"
        assert (site / name).is_file(), name
    # the images the pages show are part of the site
    assert (site / "report.png").is_file()
    assert {p.name for p in (site / "gallery").glob("*.png")} == {
        p.name for p in (DOCS / "gallery").glob("*.png")
    }
    # the architecture page leads with the layer plan
    html = (site / "architecture" / "index.html").read_text(encoding="utf-8")
    assert html.index("The plan: layers") < html.index("Where things live")
    # no request to a font or script CDN: the site reads offline
    assert "fonts.googleapis.com" not in (site / "index.html").read_text(encoding="utf-8")


def test_every_markdown_page_is_in_the_nav() -> None:
    assert sorted(_nav_pages()) == sorted(p.name for p in DOCS.glob("*.md"))


def test_generated_parts_match_the_code() -> None:
    stale = _sync_docs().sync(check=True)
    assert stale == [], f"run `python scripts/sync_docs.py`: {stale}"


def test_schema_table_on_the_frames_page_is_the_codes() -> None:
    from expkit._schema import SCHEMA

    text = (DOCS / "frames.md").read_text(encoding="utf-8")
    for frame, columns in SCHEMA.items():
        assert f"**`{frame}`**" in text
        for column, dtype in columns.items():
            assert f"| `{column}` | `{dtype}` |" in text, (frame, column)


def test_every_public_name_is_documented() -> None:
    import expkit

    text = _docs_text()
    missing = [name for name in expkit.__all__ if not re.search(rf"\b{re.escape(name)}\b", text)]
    assert missing == []


def test_every_hygiene_rule_is_documented() -> None:
    from expkit import hygiene

    text = (DOCS / "hygiene.md").read_text(encoding="utf-8")
    missing = [rule for rule in hygiene.RULES if f"`{rule}`" not in text]
    assert missing == []


def test_every_command_has_a_section() -> None:
    sync_docs = _sync_docs()
    commands = sync_docs._commands(sync_docs._help())
    assert {"report", "snapshot", "serve", "record"} <= set(commands)
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for command in commands:
        assert f"## `expkit {command}`" in text, command


def test_readme_is_short_and_links_every_page() -> None:
    size = README.stat().st_size
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move detail to docs/"
    text = README.read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((docs/[\w./-]+?)(?:#[\w-]*)?\)", text))
    for target in linked:
        assert (ROOT / target).exists(), target
    pages = {f"docs/{page}" for page in _nav_pages()}
    assert pages <= linked, sorted(pages - linked)


def test_readme_keeps_the_test_command_ci_reads() -> None:
    # .ci/run runs the line two lines after the marker (the marker, the fence, the command)
    lines = README.read_text(encoding="utf-8").splitlines()
    at = lines.index("<!-- test-command -->")
    assert lines[at + 1] == "```bash"
    command = lines[at + 2]
    assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -e '.[test")
    assert "-m pytest" in command
    assert lines[at + 3] == "```"


@pytest.mark.parametrize("target", ["docs/report.png", "docs/gallery/rollout_history.png"])
def test_readme_images_exist(target: str) -> None:
    assert f"]({target})" in README.read_text(encoding="utf-8")
    assert (ROOT / target).is_file()

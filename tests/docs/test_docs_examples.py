"""The Python examples in README.md and docs/*.md run, in order, against the demo fake org.

Each page's ```python blocks run one after another in one namespace (so a page reads like a
notebook), starting with ``expkit`` imported and ``client`` on a fresh fake of the bundled
demo org. A renamed function or a changed signature fails here, not in a reader's notebook.

A block that needs a live org is marked and skipped (nothing else is):
- a ``<!-- skip: why -->`` comment on the line before its fence, or
- ``title="live ..."`` on its fence (the site shows that title above the block).
A block documented to raise says so with ``<!-- raises: ValidationError -->`` before it; the
test fails unless it raises that exception (by class name, anywhere in its MRO).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(?P<fence>`{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^<!--\s*(?P<word>skip|raises)\s*:?\s*(?P<arg>.*?)\s*-->$")


@dataclass(frozen=True)
class Block:
    """One fenced ```python block of a page."""

    path: Path
    line: int  # 1-based line of the first code line
    code: str
    skip: str | None  # why it is skipped, or None
    raises: str | None  # exception class name it must raise, or None


def python_blocks(path: Path) -> list[Block]:
    """Every ```python block of a Markdown file, with its skip / raises markers."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i].strip()) if not lines[i].startswith(" ") else None
        if match is None:
            i += 1
            continue
        fence, info = match["fence"], match["info"].strip()
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        words = shlex.split(info) if info else []
        if words and words[0] in ("python", "py"):
            attrs = dict(w.split("=", 1) for w in words[1:] if "=" in w)
            skip = raises = None
            prev = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = _MARKER.match(prev)
            if marker and marker["word"] == "skip":
                skip = marker["arg"] or "marked skip"
            elif marker and marker["word"] == "raises":
                raises = marker["arg"]
            if attrs.get("title", "").lower().startswith("live"):
                skip = attrs["title"]
            blocks.append(Block(path, i + 2, "\n".join(lines[i + 1 : end]), skip, raises))
        i = end + 1
    return blocks


def run_blocks(blocks: list[Block], namespace: dict[str, object]) -> int:
    """Run the blocks in order in one namespace; returns how many ran."""
    ran = 0
    for block in blocks:
        if block.skip is not None:
            continue
        # padded with blank lines so a traceback names the Markdown file and its line
        code = compile("\n" * (block.line - 1) + block.code, str(block.path), "exec")
        if block.raises is None:
            exec(code, namespace)
        else:
            try:
                exec(code, namespace)
            except Exception as exc:
                names = {cls.__name__ for cls in type(exc).__mro__}
                if block.raises not in names:
                    raise AssertionError(
                        f"{block.path.name}:{block.line} raised {type(exc).__name__}, "
                        f"documented to raise {block.raises}"
                    ) from exc
            else:
                raise AssertionError(
                    f"{block.path.name}:{block.line} is documented to raise {block.raises}, "
                    "and raised nothing"
                )
        ran += 1
    return ran


@pytest.fixture
def docs_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch working directory that looks like a clone: ``data/`` is the repository's."""
    (tmp_path / "data").symlink_to(ROOT / "data", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_examples_run_against_the_demo_org(page: Path, docs_cwd: Path) -> None:
    import expkit
    from expkit.fake import FakeServer

    blocks = python_blocks(page)
    with FakeServer.from_fixtures(ROOT / "data" / "fixtures" / "demo") as server:
        namespace: dict[str, object] = {
            "__name__": f"docs_{page.stem}",
            "expkit": expkit,
            "client": server.client(),
        }
        ran = run_blocks(blocks, namespace)
    assert ran == sum(b.skip is None for b in blocks)


def test_most_examples_run_and_skips_say_why() -> None:
    blocks = [b for page in PAGES for b in python_blocks(page)]
    skipped = [b for b in blocks if b.skip is not None]
    assert len(blocks) >= 30, "the parser found too few ```python blocks"
    assert len(skipped) <= len(blocks) // 5, [f"{b.path.name}:{b.line}" for b in skipped]
    assert all(b.skip.strip() for b in skipped)
    # every page with code runs some of it
    for page in PAGES:
        page_blocks = python_blocks(page)
        if page_blocks:
            assert any(b.skip is None for b in page_blocks), page.name


def test_a_renamed_function_fails_the_page(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n```python\nimport expkit\n```\n\ntext\n\n"
        "```python\nexpkit.snapshot_everything(client)\n```\n",
        encoding="utf-8",
    )
    blocks = python_blocks(page)
    assert [b.line for b in blocks] == [4, 10]
    with pytest.raises(AttributeError, match="snapshot_everything") as info:
        run_blocks(blocks, {"client": None})
    # the traceback points at the Markdown line
    assert any(
        entry.path == page and entry.lineno == 9 for entry in info.traceback
    )  # 0-based in pytest's traceback


def test_markers_skip_or_expect_an_exception(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- skip: needs a live org -->\n```python\nraise SystemExit(3)\n```\n\n"
        '```python title="live org only"\nraise SystemExit(3)\n```\n\n'
        "<!-- raises: ValidationError -->\n```python\n"
        "import expkit\nexpkit.frames.configs('not a list')\n```\n\n"
        "<!-- raises: ValidationError -->\n```python\nx = 1\n```\n",
        encoding="utf-8",
    )
    blocks = python_blocks(page)
    assert [b.skip for b in blocks] == ["needs a live org", "live org only", None, None]
    assert blocks[2].raises == "ValidationError"
    assert run_blocks(blocks[:3], {}) == 1
    with pytest.raises(AssertionError, match="raised nothing"):
        run_blocks(blocks[3:], {})

"""Code references: where config keys still appear in source trees.

``code_refs(paths, keys)`` lists every place a key stands between quote characters
(``'``, ``"`` or `````), the way code reads a flag (``client.variant("checkout-tipping")``),
never where it is only part of a longer name. It is the code side of the hygiene rules
``archived-but-referenced`` and ``unreferenced`` and of the report's cleanup list.

How a scan works, and why:

- Files come from ``git ls-files -co --exclude-standard`` when a path lies in a git work
  tree (exactly git's idea of what is ignored, and fast); otherwise from a walk of the tree
  that does not follow symlinked directories, so a symlink loop cannot trap it. Vendored and
  generated directories (``DEFAULT_EXCLUDES``) and ``exclude=`` globs are dropped either way.
- Each file is read as bytes and split once at its quote characters; a set intersection of
  the pieces with the keys (and their aliases) is the prefilter, so the cost hardly depends
  on the number of keys and only files with a hit pay for line numbers and decoding. Files with a NUL byte near the start are binary and skipped, as git does; other
  bytes are decoded as UTF-8 with replacement, so a Latin-1 file never stops a scan.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expkit.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

# the result's columns and dtypes, in order
COLUMNS: dict[str, str] = {
    "key": "string",  # config key
    "kind": "string",  # "flag" | "experiment" from a Snapshot or mapping, else <NA>
    "path": "string",  # the given path joined with the file's path below it (posix)
    "line": "Int64",  # 1-based line number
    "column": "Int64",  # 1-based column (characters) of the key's first character
    "text": "string",  # the source line (a window around the key when the line is long)
    "alias": "string",  # the spelling found when it is not the key itself, else <NA>
}

QUOTES = "'\"`"
# vendored, generated and tool directories, and minified files: never scanned
DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git/",
    ".hg/",
    ".svn/",
    "node_modules/",
    "bower_components/",
    ".venv/",
    "venv/",
    "dist/",
    "build/",
    "__pycache__/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".tox/",
    "*.min.js",
    "*.min.css",
    "*.map",
)
ALIAS_CASES = ("camelCase", "snake_case", "SCREAMING_SNAKE", "kebab-case")
NOISY = 200  # a key matched in more places than this is listed in attrs["noisy_keys"]
BINARY_SNIFF = 8000  # bytes looked at for a NUL, as git does
MAX_TEXT = 400  # longer source lines are cut to a window around the key


# ------------------------------------------------------------------ inputs


def _key_kinds(keys: Any) -> dict[str, list[str | None]]:
    """key -> kinds (``[None]`` when the input does not say) from any accepted ``keys``."""
    import pandas as pd

    frame = getattr(keys, "configs", None)
    if isinstance(frame, pd.DataFrame):  # a Snapshot
        keys = frame
    if isinstance(keys, pd.DataFrame):
        if "key" not in keys.columns:
            raise ValidationError(
                "code_refs: keys is a DataFrame without a 'key' column",
                field="keys",
                value=list(keys.columns),
                allowed="a Snapshot, a frame with key (and kind) columns, keys, or key -> kind",
            )
        kinds = keys["kind"] if "kind" in keys.columns else pd.Series(None, index=keys.index)
        pairs: Iterable[tuple[Any, Any]] = zip(keys["key"], kinds, strict=True)
    elif isinstance(keys, Mapping):
        pairs = keys.items()
    elif isinstance(keys, str | bytes) or not isinstance(keys, Iterable):
        raise ValidationError(
            f"code_refs: keys must be an iterable of config keys, got {type(keys).__name__}",
            field="keys",
            value=keys if isinstance(keys, str) else type(keys).__name__,
            allowed="a Snapshot, an iterable of keys (e.g. ['a', 'b']), or a key -> kind mapping",
        )
    else:
        pairs = ((k, None) for k in keys)
    out: dict[str, list[str | None]] = {}
    for key, kind in pairs:
        _check_spelling(key, "keys")
        kind = None if kind is None or kind is pd.NA or kind != kind else kind
        if kind is not None and not isinstance(kind, str):
            raise ValidationError(
                f"code_refs: the kind of key {key!r} must be a string, got {kind!r}",
                field="keys",
                value=kind,
                allowed='"flag", "experiment" or None',
            )
        kinds_of = out.setdefault(key, [])
        if kind not in kinds_of:
            kinds_of.append(kind)
    for kinds_of in out.values():
        if len(kinds_of) > 1 and None in kinds_of:
            kinds_of.remove(None)
    return out


def _check_spelling(spelling: Any, field_name: str) -> None:
    if not isinstance(spelling, str) or not spelling:
        raise ValidationError(
            f"code_refs: every entry of {field_name} must be a non-empty string, got {spelling!r}",
            field=field_name,
            value=spelling,
            allowed="non-empty strings without quote characters or line breaks",
        )
    bad = set(spelling) & set(QUOTES + "\r\n")
    if bad:
        raise ValidationError(
            f"code_refs: {field_name} entry {spelling!r} contains {''.join(sorted(bad))!r}, "
            "so it can never stand between quotes",
            field=field_name,
            value=spelling,
            allowed="non-empty strings without quote characters or line breaks",
        )


_WORD = re.compile(r"[A-Z]+(?![a-z])[0-9]*|[A-Z]?[a-z]+[0-9]*|[0-9]+[a-z]*")


def case_aliases(key: str) -> list[str]:
    """The key in camelCase, snake_case, SCREAMING_SNAKE and kebab-case (the key itself left out).

    Words are split at ``-``, ``_``, ``.``, ``/``, ``:``, spaces and lower-to-upper case
    changes; digits stay with their word (``search-ranking-v2`` -> ``searchRankingV2``,
    ``3ds-check`` -> ``3dsCheck``).
    """
    words: list[str] = []
    for chunk in re.split(r"[-_.\s/:]+", key):
        words.extend(w.lower() for w in _WORD.findall(chunk))
    if not words:
        return []
    spellings = [
        words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:]),
        "_".join(words),
        "_".join(words).upper(),
        "-".join(words),
    ]
    seen: list[str] = []
    for s in spellings:
        if s != key and s not in seen:
            seen.append(s)
    return seen


def _alias_table(keys: Iterable[str], aliases: Any) -> dict[str, list[str]]:
    """key -> alias spellings from ``aliases`` (None, True, "cases", a mapping, or a list)."""
    known = list(keys)
    known_set = set(known)
    out: dict[str, list[str]] = {k: [] for k in known}
    allowed = (
        'None, True or "cases" (case conventions), a mapping key -> [aliases], '
        'or a list combining them, e.g. ["cases", {"my-key": ["MY_OLD_KEY"]}]'
    )

    def add(key: str, alias: str) -> None:
        if alias != key and alias not in out[key]:
            out[key].append(alias)

    def one(item: Any) -> None:
        if item is None or item is False:
            return
        if item is True or item == "cases":
            for key in known:
                for alias in case_aliases(key):
                    add(key, alias)
            return
        if isinstance(item, Mapping):
            for key, given in item.items():
                if key not in known_set:
                    raise ValidationError(
                        f"code_refs: aliases names key {key!r}, which is not among the keys "
                        "scanned",
                        field="aliases",
                        value=key,
                        allowed="keys that are scanned",
                    )
                spellings = [given] if isinstance(given, str) else given
                if not isinstance(spellings, Iterable):
                    raise ValidationError(
                        f"code_refs: aliases for {key!r} must be a string or a list of strings",
                        field="aliases",
                        value=given,
                        allowed="a string or a list of strings",
                    )
                for alias in spellings:
                    _check_spelling(alias, "aliases")
                    add(key, alias)
            return
        raise ValidationError(
            f"code_refs: aliases entry {item!r} is not understood",
            field="aliases",
            value=item,
            allowed=allowed,
        )

    if isinstance(aliases, list | tuple):
        for item in aliases:
            one(item)
    else:
        one(aliases)
    return out


@dataclass(frozen=True)
class _Target:
    key: str
    kind: str | None
    alias: str | None


def _spelling_table(
    key_kinds: Mapping[str, list[str | None]], alias_of: Mapping[str, list[str]]
) -> dict[bytes, list[_Target]]:
    """spelling (UTF-8) -> the rows it produces; a real key's spelling is never an alias."""
    table: dict[bytes, list[_Target]] = {}
    for key, kinds in key_kinds.items():
        table[key.encode()] = [_Target(key, kind, None) for kind in kinds]
    for key, spellings in alias_of.items():
        for alias in spellings:
            if alias in key_kinds:
                continue
            table.setdefault(alias.encode(), []).extend(
                _Target(key, kind, alias) for kind in key_kinds[key]
            )
    return table


_TO_DOUBLE_QUOTE = bytes.maketrans(b"'`", b'""')


def _quoted(data: bytes) -> list[bytes]:
    """Every run of bytes standing between two quote characters (of any of the three kinds).

    One ``translate`` and one ``split``, both C loops: about twice as fast as a regex that
    yields the same runs. The first and last pieces stand outside quotes and are dropped.
    """
    return data.translate(_TO_DOUBLE_QUOTE).split(b'"')[1:-1]


# ------------------------------------------------------------------- files


def _glob_regex(pattern: str) -> tuple[re.Pattern[str], bool, bool]:
    """A gitignore-style glob as (regex, anchored, directories only)."""
    dir_only = pattern.endswith("/")
    pattern = pattern.strip("/") if dir_only else pattern
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z"), anchored, dir_only


@dataclass
class _Excludes:
    """gitignore-style globs over paths relative to a scan root.

    A glob without ``/`` matches a file or directory name at any depth (``*.min.js``,
    ``fixtures``); with ``/`` it matches from the root (``src/generated``, ``**/gen/*.ts``);
    a trailing ``/`` matches directories only. A matched directory excludes all below it.
    """

    patterns: list[tuple[re.Pattern[str], bool, bool]] = field(default_factory=list)
    _dirs: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def of(cls, globs: Iterable[str]) -> _Excludes:
        return cls([_glob_regex(g) for g in globs])

    def _hit(self, rel: str, is_dir: bool) -> bool:
        name = rel.rsplit("/", 1)[-1]
        for regex, anchored, dir_only in self.patterns:
            if dir_only and not is_dir:
                continue
            if regex.match(rel if anchored else name):
                return True
        return False

    def dir_excluded(self, rel: str) -> bool:
        """Whether the directory, or any directory above it, is excluded (memoised)."""
        known = self._dirs.get(rel)
        if known is None:
            parent = rel.rpartition("/")[0]
            known = (bool(parent) and self.dir_excluded(parent)) or self._hit(rel, True)
            self._dirs[rel] = known
        return known

    def file_excluded(self, rel: str) -> bool:
        """Whether the file, or any directory above it, is excluded."""
        parent = rel.rpartition("/")[0]
        return (bool(parent) and self.dir_excluded(parent)) or self._hit(rel, False)


def _check_excludes(exclude: Any) -> list[str]:
    if exclude is None:
        return []
    globs = [exclude] if isinstance(exclude, str) else exclude
    if not isinstance(globs, Iterable) or not all(isinstance(g, str) and g for g in globs):
        raise ValidationError(
            f"code_refs: exclude must be a glob or a list of globs, got {exclude!r}",
            field="exclude",
            value=exclude,
            allowed='gitignore-style globs, e.g. ["*.test.ts", "src/generated/"]',
        )
    return list(globs)


def _check_paths(paths: Any) -> list[Path]:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    if not isinstance(paths, Iterable):
        raise ValidationError(
            f"code_refs: paths must be a path or a list of paths, got {type(paths).__name__}",
            field="paths",
            value=type(paths).__name__,
            allowed="a str or os.PathLike, or a list of them",
        )
    out: list[Path] = []
    for p in paths:
        if not isinstance(p, str | os.PathLike):
            raise ValidationError(
                f"code_refs: each path must be a str or os.PathLike, got {p!r}",
                field="paths",
                value=p,
                allowed="a str or os.PathLike",
            )
        path = Path(p)
        if not path.exists():
            raise ValidationError(
                f"code_refs: path {str(p)!r} does not exist",
                field="paths",
                value=str(p),
                allowed="existing files or directories",
            )
        mode = os.R_OK | (os.X_OK if path.is_dir() else 0)
        if not os.access(path, mode):
            raise ValidationError(
                f"code_refs: path {str(p)!r} is not readable",
                field="paths",
                value=str(p),
                allowed="files and directories this user can read",
            )
        out.append(path)
    if not out:
        raise ValidationError(
            "code_refs: paths is empty",
            field="paths",
            value=[],
            allowed="at least one file or directory",
        )
    return out


def _git_files(root: Path) -> list[str] | None:
    """Files below ``root`` that git does not ignore (relative, posix), or None when no git."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(
            [git, "-C", str(root), "ls-files", "-co", "--exclude-standard", "-z"],
            capture_output=True,
            check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None
    names = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    # a conflicted file is listed once per stage
    return list(dict.fromkeys(n for n in names if n))


def _git_tree(root: Path, names: list[str], excludes: _Excludes, depth: int = 0) -> Iterator[str]:
    """git's file list, entering untracked nested repositories (listed as ``dir/``)."""
    for name in names:
        if not name.endswith("/"):
            yield name
            continue
        name = name.rstrip("/")
        if depth > 8 or excludes.dir_excluded(name):
            continue
        inner = _git_files(root / name)
        below = (
            _walk_files(root / name, excludes)
            if inner is None
            else _git_tree(root / name, inner, excludes, depth + 1)
        )
        yield from (f"{name}/{rel}" for rel in below)


def _walk_files(root: Path, excludes: _Excludes) -> Iterator[str]:
    """Files below ``root`` (relative, posix), not entering symlinked or excluded directories."""
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if not excludes.dir_excluded(rel):
                    subdirs.append(rel)
            else:
                # files and symlinks to files; a symlink to a directory fails to open as a
                # file later and is dropped there
                yield rel
        stack.extend(reversed(subdirs))


@dataclass
class _File:
    path: str  # as reported
    abspath: str  # to open


def _list_files(roots: list[Path], excludes: _Excludes) -> tuple[list[_File], dict[str, str]]:
    files: list[_File] = []
    listing: dict[str, str] = {}
    seen: set[str] = set()
    for root in roots:
        shown = root.as_posix()
        base = str(root)
        real_root = os.path.realpath(root)
        if not root.is_dir():
            listing[shown] = "file"
            rels: Iterable[str] = [""]
        else:
            git = _git_files(root)
            listing[shown] = "walk" if git is None else "git"
            rels = _walk_files(root, excludes) if git is None else _git_tree(root, git, excludes)
        for rel in rels:
            if rel and excludes.file_excluded(rel):
                continue
            # overlapping roots ("src", "src/app") list a file once
            real = f"{real_root}{os.sep}{rel}" if rel else real_root
            if real in seen:
                continue
            seen.add(real)
            if rel:
                prefix = "" if shown == "." else shown.rstrip("/") + "/"
                files.append(_File(prefix + rel, f"{base}{os.sep}{rel}"))
            else:
                files.append(_File(shown, base))
    return files, listing


# -------------------------------------------------------------------- scan


def _read(path: str) -> bytes | None:
    """The file's bytes, or None when it is not a regular file.

    O_NONBLOCK so that opening a FIFO returns at once instead of waiting for a writer.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        chunks = []
        while True:
            chunk = os.read(fd, max(st.st_size + 1, 65536))
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _window(line: str, col: int) -> str:
    if len(line) <= MAX_TEXT:
        return line
    start = max(0, min(col - MAX_TEXT // 2, len(line) - MAX_TEXT))
    end = start + MAX_TEXT
    return ("…" if start else "") + line[start:end] + ("…" if end < len(line) else "")


def _positions(data: bytes, hits: AbstractSet[bytes]) -> list[tuple[int, bytes]]:
    """(offset, spelling) of every hit standing between quotes, in file order.

    ``bytes.find`` per spelling (a C substring search) rather than a second regex pass: the
    spellings found in a file are few, and most files have none.
    """
    quotes = QUOTES.encode()
    out = []
    for token in hits:
        n = len(token)
        i = data.find(token, 1)
        while i != -1:
            if data[i - 1] in quotes and data[i + n : i + n + 1] in _QUOTE_BYTES:
                out.append((i, token))
            i = data.find(token, i + 1)
    out.sort()
    return out


_QUOTE_BYTES = frozenset(bytes([q]) for q in QUOTES.encode())


def _rows_of(
    path: str,
    data: bytes,
    table: Mapping[bytes, list[_Target]],
    hits: AbstractSet[bytes],
    rows: dict[str, list[Any]],
) -> None:
    line_no = 1
    counted_to = 0
    for start, token in _positions(data, hits):
        line_no += data.count(b"\n", counted_to, start)
        counted_to = start
        line_start = data.rfind(b"\n", 0, start) + 1
        line_end = data.find(b"\n", start)
        raw = data[line_start : line_end if line_end != -1 else len(data)]
        line = raw.decode("utf-8", "replace").rstrip("\r")
        col = len(data[line_start:start].decode("utf-8", "replace")) + 1
        text = _window(line, col)
        for target in table[token]:
            rows["key"].append(target.key)
            rows["kind"].append(target.kind)
            rows["path"].append(path)
            rows["line"].append(line_no)
            rows["column"].append(col)
            rows["text"].append(text)
            rows["alias"].append(target.alias)


def empty_frame() -> pd.DataFrame:
    """A result with no rows and the result's columns and dtypes."""
    import pandas as pd

    return pd.DataFrame({c: pd.Series([], dtype=d) for c, d in COLUMNS.items()})


def code_refs(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    keys: Any,
    *,
    aliases: Any = None,
    exclude: str | Iterable[str] | None = None,
    progress: bool = True,
    noisy: int = NOISY,
) -> pd.DataFrame:
    """Every place a config key stands between quotes in the files under ``paths``.

    ``keys``: config keys (an iterable), a Snapshot or a configs frame (then ``kind`` is
    filled), or a mapping key -> kind. ``aliases``: ``"cases"`` (or True) also looks for each
    key in camelCase, snake_case, SCREAMING_SNAKE and kebab-case; a mapping key -> [spellings]
    adds literal aliases; a list combines both. ``exclude``: gitignore-style globs on top of
    ``DEFAULT_EXCLUDES``. Returns one row per match with columns ``COLUMNS`` (key, kind,
    path, line, column, text, alias), sorted by path, line and column. ``df.attrs`` says what
    was scanned: ``files``, ``bytes``, ``binary`` (files skipped as binary), ``skipped`` and
    ``skipped_files`` (unreadable files), ``listing`` (per path: "git", "walk" or "file")
    and ``noisy_keys`` (key -> matches, for keys matched in more than ``noisy`` places).
    """
    import pandas as pd
    from tqdm.auto import tqdm

    roots = _check_paths(paths)
    key_kinds = _key_kinds(keys)
    alias_of = _alias_table(key_kinds, aliases)
    excludes = _Excludes.of([*DEFAULT_EXCLUDES, *_check_excludes(exclude)])
    if not isinstance(noisy, int) or isinstance(noisy, bool) or noisy < 1:
        raise ValidationError(
            f"code_refs: noisy must be a positive int, got {noisy!r}",
            field="noisy",
            value=noisy,
            allowed="an int >= 1",
        )

    files, listing = _list_files(roots, excludes)
    table = _spelling_table(key_kinds, alias_of)
    rows: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    attrs: dict[str, Any] = {
        "files": 0,
        "bytes": 0,
        "binary": 0,
        "skipped": 0,
        "skipped_files": [],
        "listing": listing,
        "noisy_keys": {},
    }
    if table:
        wanted = frozenset(table)
        bar = tqdm(files, desc="code refs", unit="files", disable=not progress, leave=False)
        try:
            for f in bar:
                try:
                    data = _read(f.abspath)
                    if data is None:
                        continue  # a directory (symlinked, or a git submodule), FIFO, device
                except FileNotFoundError:
                    continue  # a dangling symlink, or a tracked file deleted from disk
                except OSError:
                    attrs["skipped"] += 1
                    attrs["skipped_files"].append(f.path)
                    continue
                if data.find(b"\0", 0, BINARY_SNIFF) != -1:
                    attrs["binary"] += 1
                    continue
                attrs["files"] += 1
                attrs["bytes"] += len(data)
                hits = wanted.intersection(_quoted(data))
                if hits:
                    _rows_of(f.path, data, table, hits, rows)
        finally:
            bar.close()
    if not rows["key"]:
        df = empty_frame()
    else:
        df = pd.DataFrame(rows).astype(COLUMNS)
        df = df.sort_values(["path", "line", "column", "key"], kind="stable").reset_index(drop=True)
        counts = df["key"].value_counts()
        attrs["noisy_keys"] = {str(k): int(n) for k, n in counts.items() if n > noisy}
    df.attrs.update(attrs)
    return df

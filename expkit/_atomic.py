"""Files a user keeps are replaced whole: a crash leaves the old file or the new one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path``; on success it replaces ``path`` in one rename.

    Write the new content to the yielded path. If the block raises, ``path`` is left as it
    was and the temporary file is removed. The data is flushed to disk before the rename, so
    a power cut cannot leave a renamed but empty file.
    """
    target = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Writes ``text`` (UTF-8, line ends as given) to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def append_line(path: str | os.PathLike[str], line: str) -> None:
    """Appends ``line`` and a newline to a log in one write, flushed to disk.

    One ``write`` on a file opened with ``O_APPEND`` lands whole at the end, so concurrent
    writers never interleave inside a line, and a crash loses at most the line being written.
    """
    data = (line + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)

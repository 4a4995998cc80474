"""``Snapshot``: every frame of an org, taken together; saved and loaded atomically, verified.

A snapshot directory holds one Parquet file per frame (``expkit._schema.FRAMES``) and a
``meta.json`` that records, for each file, its row count and SHA-256, so ``load`` can tell a
complete snapshot from a damaged one and say which file is wrong.

``save`` never writes into the target: it writes a temporary directory beside it
(``.NAME.tmp-*``), flushes every file, and only then swaps it in with renames. Replacing an
earlier snapshot moves the old directory aside (``.NAME.old-*``), renames the new one into
place and removes the old one. A process killed at any moment leaves either the complete old
snapshot or the complete new one at the target; if it is killed between the two renames the
target is briefly missing, and ``load`` reads the complete old one from its aside directory
(the next ``save`` puts it back first and clears the leftovers).

Fetching (``expkit.snapshot``) and ``refresh`` live in the fetch layer (``expkit._fetch``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from expkit import _gc, _memory
from expkit._schema import FRAMES
from expkit._share import Sharer
from expkit._version import __version__
from expkit.errors import ValidationError

if TYPE_CHECKING:
    from expkit._client import Client

__all__ = ["FRAME_NAMES", "Snapshot", "SnapshotError"]

FRAME_NAMES: tuple[str, ...] = FRAMES
_FORMAT = 2  # 2: meta.json records rows and sha256 per file; 1 (no checksums) still loads
_READABLE_FORMATS = (1, 2)
_META = "meta.json"
_CHUNK = 1 << 20

Timestamp = datetime | date | str


class SnapshotError(ValidationError):
    """A snapshot directory that cannot be loaded (or replaced): names the file and the fault.

    A ``ValidationError`` (``field="path"``): the bad input is the directory given.
    """

    def __init__(self, message: str, *, path: str | os.PathLike[str], file: str | None = None):
        self.path = str(path)
        self.file = file
        super().__init__(
            message,
            field="path",
            value=self.path,
            allowed="a complete directory written by Snapshot.save (save it again to repair it)",
        )
        self._message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt from its own arguments (multiprocessing pickles exceptions)
        return (_restore_snapshot_error, (self._message, self.path, self.file))


def _restore_snapshot_error(message: str, path: str, file: str | None) -> SnapshotError:
    return SnapshotError(message, path=path, file=file)


def _utc(value: Timestamp | None, field: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        when = pd.Timestamp(value)
    except (TypeError, ValueError):
        when = None
    if when is None or pd.isna(when):
        raise ValidationError(
            f"{field} must be a datetime, a date or an ISO 8601 string, got {value!r}.",
            field=field,
            value=value,
            allowed="a datetime, a date, or a string like '2026-01-31T12:00:00Z'",
        )
    return when.tz_localize(UTC) if when.tzinfo is None else when.tz_convert(UTC)


def _fs_step(what: str) -> None:
    """Called before and after each file-system change of ``save``.

    A no-op; the crash tests replace it to kill the process at an exact step.
    """


@dataclass(frozen=True, eq=False, repr=False)
class Snapshot:
    """Every frame of an org, taken together, with when (``taken_at``, UTC) and from where.

    Frames follow ``expkit.frames.SCHEMA``. ``save(dir)`` / ``Snapshot.load(dir)`` round-trip
    exactly (Parquet), atomically and verified; ``refresh(client)`` returns a new, up-to-date
    snapshot cheaply.
    """

    configs: pd.DataFrame
    variants: pd.DataFrame
    segments: pd.DataFrame
    conditions: pd.DataFrame
    versions: pd.DataFrame
    inclusions: pd.DataFrame
    deployments: pd.DataFrame
    groups: pd.DataFrame
    taken_at: pd.Timestamp
    source: str | None = None
    with_inclusions: bool = True

    def __post_init__(self) -> None:
        for name in FRAME_NAMES:
            if not isinstance(getattr(self, name), pd.DataFrame):
                raise ValidationError(
                    f"Snapshot.{name} must be a DataFrame, got {type(getattr(self, name)).__name__}",
                    field=name,
                    value=type(getattr(self, name)).__name__,
                    allowed="a pandas DataFrame following expkit.frames.SCHEMA",
                )
        object.__setattr__(self, "taken_at", _utc(self.taken_at, "taken_at"))

    # ----------------------------------------------------------------- views

    def frames(self) -> dict[str, pd.DataFrame]:
        """The frames by name, in schema order."""
        return {name: getattr(self, name) for name in FRAME_NAMES}

    def counts(self) -> dict[str, int]:
        """Rows per frame."""
        return {name: len(df) for name, df in self.frames().items()}

    def equals(self, other: object) -> bool:
        """Whether ``other`` is a snapshot with equal frames (values and dtypes) and taken_at."""
        if not isinstance(other, Snapshot) or self.taken_at != other.taken_at:
            return False
        for name in FRAME_NAMES:
            try:
                pd.testing.assert_frame_equal(getattr(self, name), getattr(other, name))
            except AssertionError:
                return False
        return True

    def _summary(self) -> list[tuple[str, str]]:
        counts = self.counts()
        kinds: Mapping[Any, Any] = (
            self.configs["kind"].value_counts().to_dict() if len(self.configs) else {}
        )
        configs = f"{counts['configs']:,}"
        if len(self.configs):
            configs += (
                f" ({int(kinds.get('flag', 0)):,} flags, "
                f"{int(kinds.get('experiment', 0)):,} experiments)"
            )
        rows = [("taken_at", self.taken_at.isoformat()), ("source", self.source or "unknown")]
        rows.append(("configs", configs))
        for name in FRAME_NAMES[1:]:
            text = f"{counts[name]:,}"
            if name == "inclusions" and not self.with_inclusions:
                text += " (not fetched)"
            rows.append((name, text))
        return rows

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self._summary())
        return f"Snapshot({inner})"

    def _repr_html_(self) -> str:
        from html import escape

        body = "".join(
            f"<tr><th style='text-align:left'>{escape(k)}</th><td style='text-align:left'>"
            f"{escape(v)}</td></tr>"
            for k, v in self._summary()
        )
        return f"<table><caption>expkit Snapshot</caption>{body}</table>"

    # ----------------------------------------------------------------- persistence

    @_memory.lean
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Writes the snapshot to directory ``path`` (Parquet + ``meta.json``); returns it.

        Atomic: the files are written to a temporary directory beside ``path`` and swapped in
        when complete, so an earlier snapshot at ``path`` stays loadable until then.
        ``meta.json`` records each file's rows and SHA-256, checked by ``load``. Dict and list
        cells are stored as JSON text and every dtype is recorded, so ``Snapshot.load(path)``
        gives frames equal to these. ``path`` must be new, empty, or an earlier snapshot.
        """
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        _recover(out)
        _check_replaceable(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        try:
            meta: dict[str, Any] = {
                "format": _FORMAT,
                "expkit_version": __version__,
                "taken_at": self.taken_at.isoformat(),
                "source": self.source,
                "with_inclusions": self.with_inclusions,
                "counts": self.counts(),
                "dtypes": {},
                "json_columns": {},
                "files": {},
            }
            for name, df in self.frames().items():
                json_cols = [col for col in df.columns if df[col].dtype == object]
                file = f"{name}.parquet"
                _fs_step(f"write {file}")
                _write_parquet(df, json_cols, tmp / file)
                meta["files"][file] = {"rows": len(df), "sha256": _sha256(tmp / file)}
                _fsync(tmp / file)
                _fs_step(f"wrote {file}")
                # pairs, not a dict: meta.json has sorted keys, and column order must survive
                meta["dtypes"][name] = [[col, str(dtype)] for col, dtype in df.dtypes.items()]
                meta["json_columns"][name] = json_cols
            _fs_step(f"write {_META}")
            # meta.json last: a directory without it is never taken for a snapshot
            (tmp / _META).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
            _fsync(tmp / _META)
            _fsync(tmp)
            _fs_step(f"wrote {_META}")
            _swap(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out

    @classmethod
    @_gc.pausing
    @_memory.lean
    def load(cls, path: str | os.PathLike[str]) -> Snapshot:
        """The snapshot saved in directory ``path`` by ``Snapshot.save``, verified.

        Raises ``SnapshotError`` naming the file and the fault when ``meta.json`` is missing
        or unreadable, a Parquet file is missing, empty, truncated or changed (its SHA-256 or
        row count differs from ``meta.json``), or its columns were renamed or dropped.
        """
        src = _readable_dir(Path(path))
        meta = _read_meta(src)
        missing = [
            f"{name}.parquet" for name in FRAME_NAMES if not (src / f"{name}.parquet").is_file()
        ]
        if missing:
            raise SnapshotError(
                f"{src}: incomplete snapshot, missing {', '.join(missing)}; save it again",
                path=src,
                file=missing[0],
            )
        share = Sharer()  # equal parts of the JSON cells become one object, as in snapshot()
        loaded = {name: _read_frame(src, name, meta, share) for name in FRAME_NAMES}
        return cls(
            **loaded,
            taken_at=pd.Timestamp(meta["taken_at"]),
            source=meta.get("source"),
            with_inclusions=bool(meta.get("with_inclusions", True)),
        )

    # ----------------------------------------------------------------- refresh

    def refresh(
        self,
        client: Client,
        *,
        inclusions: bool | None = None,
        unversioned: bool = False,
        progress: bool = True,
        max_workers: int = 8,
    ) -> Snapshot:
        """A new snapshot, updated with only what changed since ``taken_at``.

        Asks ``/api/1/versions?start=taken_at`` which configs changed, re-fetches just those
        (one GET each, or the list when that takes fewer requests) and their inclusions
        (``inclusions=None``: if this snapshot has them; ``True`` on a snapshot without them
        fetches those of every config; ``False`` leaves none). Deployments and mutex/holdout
        groups have no versions: they are re-fetched when a changed config refers to one this
        snapshot does not know, or always with ``unversioned=True`` (three more requests).
        """
        from expkit._fetch import refresh  # the fetch layer sits above this module

        return refresh(
            self,
            client,
            inclusions=inclusions,
            unversioned=unversioned,
            progress=progress,
            max_workers=max_workers,
        )


# --------------------------------------------------------------------------- saving


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    """Flushes a file (or a directory's entries) to disk, where the platform allows it."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:  # e.g. directories on Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _siblings(out: Path, tag: str) -> list[Path]:
    """Leftover ``.NAME.tmp-*`` / ``.NAME.old-*`` directories of ``out``, newest first."""
    if not out.parent.is_dir():
        return []
    found = [p for p in out.parent.glob(f".{out.name}.{tag}-*") if p.is_dir()]
    return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)


def _recover(out: Path) -> None:
    """Undoes what an interrupted ``save`` left: puts an aside snapshot back, clears temps."""
    if not out.exists():
        for old in _siblings(out, "old"):
            if (old / _META).is_file():
                _fs_step("restore aside")
                os.replace(old, out)
                break
    for leftover in _siblings(out, "old") + _siblings(out, "tmp"):
        shutil.rmtree(leftover, ignore_errors=True)


def _check_replaceable(out: Path) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise SnapshotError(f"{out} is a file, not a snapshot directory", path=out)
    names = {p.name for p in out.iterdir()}
    ours = {_META} | {f"{name}.parquet" for name in FRAME_NAMES}
    if names and (_META not in names or names - ours):
        others = sorted(names - ours) or sorted(names)
        raise SnapshotError(
            f"{out} is not a snapshot directory (it holds {', '.join(others[:5])}); "
            "refusing to replace it: save to a new or empty directory",
            path=out,
        )


def _swap(tmp: Path, out: Path) -> None:
    """Puts the complete ``tmp`` directory at ``out``, replacing what is there."""
    if not out.exists():
        _fs_step("rename new")
        os.replace(tmp, out)
        _fs_step("renamed new")
        _fsync(out.parent)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    aside.rmdir()  # a free name beside the target; os.replace wants it absent (or empty)
    _fs_step("rename old aside")
    os.replace(out, aside)
    _fs_step("rename new")
    os.replace(tmp, out)
    _fsync(out.parent)
    _fs_step("remove old")
    shutil.rmtree(aside, ignore_errors=True)
    _fs_step("removed old")


# --------------------------------------------------------------------------- loading


def _readable_dir(src: Path) -> Path:
    """``src``, or the complete earlier snapshot an interrupted ``save`` left beside it."""
    if not src.exists():
        for old in _siblings(src, "old"):
            if (old / _META).is_file():
                return old
    if not (src / _META).is_file():
        raise SnapshotError(
            f"{src} is not a snapshot directory (no {_META}); write one with snap.save()",
            path=src,
            file=_META,
        )
    return src


def _read_meta(src: Path) -> dict[str, Any]:
    meta_path = src / _META
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(
            f"{meta_path}: unreadable or truncated {_META} ({exc}); save the snapshot again",
            path=src,
            file=_META,
        ) from None
    if not isinstance(meta, dict):
        raise SnapshotError(
            f"{meta_path}: {_META} is not a JSON object; save the snapshot again",
            path=src,
            file=_META,
        )
    if meta.get("format") not in _READABLE_FORMATS:
        raise SnapshotError(
            f"{src}: snapshot format {meta.get('format')!r} is not supported "
            f"(this expkit reads {', '.join(map(str, _READABLE_FORMATS))})",
            path=src,
            file=_META,
        )
    required = ["taken_at", "dtypes", "json_columns"] + (["files"] if meta["format"] >= 2 else [])
    lacking = [k for k in required if k not in meta]
    if not lacking:
        lacking = [
            f"{k}.{name}"
            for k in ("dtypes", "json_columns") + (("files",) if meta["format"] >= 2 else ())
            for name in FRAME_NAMES
            if not isinstance(meta[k], dict)
            or (k == "files" and f"{name}.parquet" not in meta[k])
            or (k != "files" and name not in meta[k])
        ]
    if lacking:
        raise SnapshotError(
            f"{meta_path}: {_META} lacks {', '.join(lacking[:5])}; save the snapshot again",
            path=src,
            file=_META,
        )
    return meta


def _read_frame(src: Path, name: str, meta: dict[str, Any], share: Sharer) -> pd.DataFrame:
    file = f"{name}.parquet"
    where = src / file

    def fail(what: str) -> SnapshotError:
        return SnapshotError(f"{where}: {what}; save the snapshot again", path=src, file=file)

    data = where.read_bytes()
    if not data:
        raise fail("the file is empty (0 bytes)")
    recorded = meta.get("files", {}).get(file) if meta["format"] >= 2 else None
    if recorded is not None:
        digest = hashlib.sha256(data).hexdigest()
        if digest != recorded.get("sha256"):
            raise fail(
                f"checksum mismatch (sha256 {digest[:12]}… on disk, "
                f"{str(recorded.get('sha256'))[:12]}… in {_META}): the file is truncated "
                "or was changed after it was saved"
            )
    dtypes = dict(meta["dtypes"][name])
    json_cols = set(meta["json_columns"][name])
    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        names = parquet.schema_arrow.names
        n_rows = parquet.metadata.num_rows
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ValueError, …
        raise fail(f"not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    lacking = [c for c in dtypes if c not in names]
    if lacking:
        unknown = [c for c in names if c not in dtypes]
        also = f" (it has {', '.join(map(str, unknown))} instead)" if unknown else ""
        raise fail(f"columns {', '.join(lacking)} are missing or renamed{also}")
    rows = recorded.get("rows") if recorded is not None else meta.get("counts", {}).get(name)
    if isinstance(rows, int) and rows != n_rows:
        raise fail(f"{n_rows} rows, but {_META} records {rows}")
    plain = [c for c in dtypes if c not in json_cols]
    try:
        table = pd.read_parquet(io.BytesIO(data), engine="pyarrow", columns=plain)
        # JSON cells parsed and shared a row group at a time: the whole column as text, then
        # as dicts, took a load of 62,500 versions to 1,056 MB peak RSS; 277-284 MB this way
        parsed = {c: _json_column(parquet, c, share, fail) for c in dtypes if c in json_cols}
    except SnapshotError:
        raise
    except Exception as exc:
        raise fail(f"not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    del data
    cols: dict[str, Any] = {}
    for col, dtype in dtypes.items():
        if col in parsed:
            cols[col] = parsed[col]
            continue
        try:
            cols[col] = table[col].astype(dtype).array
        except (TypeError, ValueError) as exc:
            raise fail(f"column {col!r} does not hold {dtype} values ({exc})") from None
    return pd.DataFrame(cols, columns=list(dtypes), index=pd.RangeIndex(n_rows))


def _json_column(
    parquet: pq.ParquetFile, col: str, share: Sharer, fail: Callable[[str], SnapshotError]
) -> Any:
    """The JSON cells of ``col`` parsed, a row group at a time, equal parts shared.

    ``_JSON_CELLS`` cells are parsed as one JSON array, so their dicts share key strings (the
    decoder reuses a key within one call; a call per cell gave every config its own keys).
    """
    one = share.fields if col == "config" else share.intern
    values: list[Any] = []
    for batch in parquet.iter_batches(batch_size=_ROW_GROUP, columns=[col]):
        texts = batch.column(0).to_pylist()
        for start in range(0, len(texts), _JSON_CELLS):
            some = texts[start : start + _JSON_CELLS]
            try:
                cells = json.loads(
                    "[" + ",".join(t if isinstance(t, str) else "null" for t in some) + "]"
                )
            except ValueError:
                cells = []
            if len(cells) != len(some):  # a cell that is not one JSON value: name it
                cells = [_json_cell(t, col, fail) for t in some]
            values += [one(v) for v in cells]
        del texts
    return pd.Series(values, dtype=object).array


_JSON_CELLS = 256  # cells parsed by one json.loads: their dicts share key strings, and the
# unshared parse of 256 configs is ~2 MB (of 8,192: 70 MB, a load's peak)


def _json_cell(text: Any, col: str, fail: Callable[[str], SnapshotError]) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise fail(f"column {col!r} does not hold JSON text ({exc})") from None


_ROW_GROUP = 4096  # rows per Parquet row group: what save encodes and load parses at once


def _write_parquet(df: pd.DataFrame, json_cols: list[str], path: Path) -> None:
    """``df`` as Parquet, JSON cells as text, one row group of ``_ROW_GROUP`` rows at a time.

    Encoding the whole frame at once held every config's JSON text twice (as Python strings
    and as Arrow's copy): 555 MB peak RSS to save 62,500 versions taken in 267 MB.
    """
    schema: pa.Schema | None = None
    writer: pq.ParquetWriter | None = None
    try:
        for start in range(0, max(len(df), 1), _ROW_GROUP):
            part = df.iloc[start : start + _ROW_GROUP]
            encoded = {
                col: (
                    pd.array([_dump(v) for v in part[col].tolist()], dtype="string")
                    if col in json_cols
                    else part[col].array
                )
                for col in df.columns
            }
            frame = pd.DataFrame(encoded, columns=list(df.columns))
            table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(path, schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()

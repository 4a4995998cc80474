"""The code side of hygiene: where a key is in the code, and the code-cleanup list.

``locations(refs)`` reads an ``expkit.code_refs`` frame (key, kind, path, line, ...) into
key → places (``path:line``). ``cleanup(findings, snapshot, refs)`` lists the configs that
are safe to remove from the code (``fully-rolled-out`` or ``inactive``, still referenced) with
the value the code should keep: the input a person, or a refactoring tool such as Piranha,
needs. ``write_cleanup`` writes it as ``cleanup.csv``, atomically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pandas as pd

from expkit.errors import ValidationError

if TYPE_CHECKING:
    from expkit._fetch import Snapshot

__all__ = ["CLEANUP_COLUMNS", "cleanup", "locations", "places_of", "write_cleanup", "write_csv"]

# the rules whose findings make a config removable from the code, and why
_STALE_RULES = ("fully-rolled-out", "inactive")

CLEANUP_COLUMNS: MappingProxyType[str, str] = MappingProxyType(
    {
        "key": "string",
        "kind": "string",
        "id": "string",
        "project_id": "string",
        "rule": "string",  # fully-rolled-out | inactive
        "keep": "string",  # the variant everyone gets, or "off"
        "references": "Int64",  # places in the code
        "files": "string",  # the files, "; "-separated
        "lines": "string",  # every place, path:line, "; "-separated
    }
)


def locations(refs: pd.DataFrame | None) -> dict[str, tuple[tuple[str | None, str], ...]]:
    """Key → its places in the code, (kind or None, ``path:line``), in the frame's order;
    the same place twice (two aliases on one line) once."""
    if refs is None or refs.empty:
        return {}
    from expkit.hygiene._context import _column_values

    n = len(refs)
    kinds = _column_values(refs["kind"]) if "kind" in refs.columns else [None] * n
    paths = _column_values(refs["path"]) if "path" in refs.columns else [None] * n
    lines = _column_values(refs["line"]) if "line" in refs.columns else [None] * n
    out: dict[str, list[tuple[str | None, str]]] = {}
    seen: set[tuple[str, str | None, str]] = set()
    for key, kind, path, line in zip(_column_values(refs["key"]), kinds, paths, lines, strict=True):
        if key is None:
            continue
        where = f"{path}:{line}" if line is not None else str(path)
        kind_ = str(kind) if kind is not None else None
        if (str(key), kind_, where) in seen:
            continue
        seen.add((str(key), kind_, where))
        out.setdefault(str(key), []).append((kind_, where))
    return {k: tuple(v) for k, v in out.items()}


def places_of(
    table: Mapping[str, tuple[tuple[str | None, str], ...]], key: Any, kind: Any
) -> tuple[str, ...]:
    """The places of ``key`` of ``kind`` in a ``locations`` table (rows without a kind
    count for every kind)."""
    if key is None or (isinstance(key, float) and key != key) or key is pd.NA:
        return ()
    kind_ = None if kind is None or kind is pd.NA else str(kind)
    return tuple(w for k, w in table.get(str(key), ()) if k is None or kind_ is None or k == kind_)


def cleanup(
    findings: pd.DataFrame,
    snapshot: Snapshot | Any,
    refs: pd.DataFrame,
) -> pd.DataFrame:
    """The configs safe to remove from the code, one row each (columns ``CLEANUP_COLUMNS``).

    A config is listed when ``findings`` (``hygiene.check(snapshot, ...)``) has a
    ``fully-rolled-out`` or ``inactive`` finding for it and ``refs`` (``expkit.code_refs``)
    finds its key in the code. ``keep`` is what the code should do once the flag is gone:
    the variant everyone gets (``fully-rolled-out``), or ``off`` (``inactive``: nobody gets a
    variant, so the code's fallback is what users see). ``lines`` names every place
    (``path:line``). Sorted by key.
    """
    from expkit.hygiene._context import Context
    from expkit.hygiene._read import sole_variant

    if not isinstance(refs, pd.DataFrame) or "key" not in refs.columns:
        raise ValidationError(
            "refs must be the DataFrame expkit.code_refs returns (with a 'key' column)",
            field="refs",
            value=type(refs).__name__,
            allowed="a code-references DataFrame (key, kind, path, line, ...)",
        )
    ctx = Context.build(snapshot, refs=refs)
    table = locations(refs)
    stale = findings[findings["rule"].isin(_STALE_RULES)]
    rows = []
    seen: set[str] = set()
    for rec in stale.astype(object).to_dict("records"):
        cid = rec.get("id")
        if not isinstance(cid, str) or cid in seen:
            continue
        entry = ctx.entries.get(cid)
        places = places_of(table, rec.get("key"), rec.get("kind"))
        if entry is None or not places:
            continue
        seen.add(cid)
        keep = sole_variant(entry.state) if rec.get("rule") == "fully-rolled-out" else "off"
        rows.append(
            {
                "key": rec.get("key"),
                "kind": rec.get("kind"),
                "id": cid,
                "project_id": rec.get("project_id"),
                "rule": rec.get("rule"),
                "keep": keep or "off",
                "references": len(places),
                "files": "; ".join(dict.fromkeys(p.rpartition(":")[0] for p in places)),
                "lines": "; ".join(places),
            }
        )
    frame = pd.DataFrame(rows, columns=list(CLEANUP_COLUMNS))
    frame = frame.astype(dict(CLEANUP_COLUMNS))
    return frame.sort_values(["key", "id"], kind="stable").reset_index(drop=True)


def write_cleanup(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Writes the cleanup list as CSV, atomically (text a spreadsheet would run as a
    formula gets a leading ``'``, as in ``findings.csv``)."""
    write_csv(frame, path)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Any frame as CSV the way ``findings.csv`` is written: atomically, CRLF rows, text a
    spreadsheet would run as a formula prefixed with ``'`` (e.g. ``refs.csv``)."""
    from expkit._atomic import write_text_atomic
    from expkit.hygiene._findings import _csv_text

    out = {
        str(col): [_csv_text(v) for v in frame[col].astype(object).where(frame[col].notna(), None)]
        for col in frame.columns
    }
    text = pd.DataFrame(out, columns=frame.columns).to_csv(index=False, lineterminator="\r\n")
    write_text_atomic(path, text)

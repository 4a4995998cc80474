"""Recorded fixtures: one JSON file per GET path, read back into the fake's org dict.

The layout (CONTRACT.md) mirrors the URL paths under the fixtures directory::

    manifest.json
    api/1/flags.json                       {"flags": [...], "nextCursor": null}
    api/1/flags/{id}.json                  the flag
    api/1/flags/{id}/versions.json         newest first
    api/1/flags/{id}/variants.json
    api/1/flags/{id}/variants/{key}/users.json, .../cohorts.json
    api/1/flags/{id}/deployments.json
    api/1/experiments... (the same), api/1/deployments.json,
    api/1/mutexes.json, api/1/mutexes/{id}.json, api/1/holdouts.json, api/1/holdouts/{id}.json

Files are written deterministically (sorted keys, 2-space indent, trailing newline, UTF-8),
so recording the same org twice gives byte-identical files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from expkit.errors import ValidationError

__all__ = ["dump_json", "load_fixtures", "path_segment", "write_json"]

KINDS = ("flags", "experiments")
GROUPS = ("mutexes", "holdouts")


def dump_json(value: Any) -> bytes:
    """``value`` as deterministic JSON bytes: sorted keys, indent 2, trailing newline."""
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def write_json(path: str | os.PathLike[str], value: Any) -> Path:
    """Writes ``value`` with :func:`dump_json` (creating parent directories); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dump_json(value))
    return path


def path_segment(value: Any) -> str:
    """A URL path segment as a file name: URL-quoted, and never ``.`` or ``..``."""
    text = quote(str(value), safe="")
    # "." and ".." are valid keys but would walk the directory tree
    return text.replace(".", "%2E") if set(text) == {"."} else text


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}).",
            field="fixtures",
            value=str(path),
            allowed="the JSON files written by `expkit record`",
        ) from exc


def _read_optional(path: Path, default: Any) -> Any:
    return _read(path) if path.is_file() else default


def _listed(api: Path, name: str) -> list[dict[str, Any]]:
    """The items of ``api/1/{name}.json``, each replaced by its own ``{name}/{id}.json`` when
    recorded; without the list file, every per-id file (sorted by id)."""
    listing = _read_optional(api / f"{name}.json", None)
    folder = api / name
    if listing is None:
        if not folder.is_dir():
            return []
        files = sorted(folder.glob("*.json"), key=lambda p: (len(p.stem), p.stem))
        return [_read(p) for p in files]
    items = listing.get(name) if isinstance(listing, dict) else listing
    out = []
    for item in items or []:
        detail = folder / f"{path_segment(item['id'])}.json"
        out.append(_read(detail) if detail.is_file() else item)
    return out


def load_fixtures(directory: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(org, manifest)`` read from a fixtures directory written by ``expkit record``.

    Optional files may be missing: without ``versions.json`` a config has no recorded
    history, without ``users.json``/``cohorts.json`` a variant has no inclusions, without
    ``manifest.json`` the manifest is ``{}``.
    """
    root = Path(directory)
    api = root / "api" / "1"
    if not root.is_dir() or not api.is_dir():
        raise ValidationError(
            f"fixtures directory {str(root)!r} does not exist."
            if not root.is_dir()
            else f"{str(root)!r} holds no recorded API responses (no api/1/ directory).",
            field="directory",
            value=str(root),
            allowed="a directory written by `expkit record` (e.g. data/fixtures/demo)",
        )
    manifest = _read_optional(root / "manifest.json", {})
    org: dict[str, Any] = {
        "flags": [],
        "experiments": [],
        "deployments": [],
        "mutexes": [],
        "holdouts": [],
        "versions": {},
        "inclusions": {},
    }
    for kind in KINDS:
        configs = _listed(api, kind)
        org[kind] = configs
        for config in configs:
            cid = str(config["id"])
            base = api / kind / path_segment(cid)
            versions = _read_optional(base / "versions.json", [])
            if versions:
                org["versions"][cid] = sorted(versions, key=lambda v: int(v["version"]))
            per_variant: dict[str, dict[str, list[str]]] = {}
            for variant in config.get("variants") or []:
                folder = base / "variants" / path_segment(variant["key"])
                users = _read_optional(folder / "users.json", [])
                cohorts = _read_optional(folder / "cohorts.json", [])
                if users or cohorts:
                    per_variant[variant["key"]] = {"users": users, "cohorts": cohorts}
            if per_variant:
                org["inclusions"][cid] = per_variant
    deployments = _read_optional(api / "deployments.json", {})
    org["deployments"] = (
        deployments.get("deployments", []) if isinstance(deployments, dict) else deployments
    )
    for name in GROUPS:
        org[name] = _listed(api, name)
    return org, manifest

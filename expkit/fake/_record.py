"""The recorder: every GET response of an org, written as fixtures (secrets scrubbed).

:func:`record` walks the lists (``includeArchived=true``, all pages), then each config's
get, versions, variants, per-variant users and cohorts, and deployments, and each mutex and
holdout group, concurrently (the client is thread-safe and rate-limited). Everything is
fetched before anything is written, so a failed recording leaves the previous one intact.

Scrubbing: the Authorization header is never part of a body, so it is never written (the
files are checked for the key anyway); deployment keys (SDK secrets) become
``<deployment-key:N>``; with ``hash_emails=True`` every e-mail address in any string becomes
``sha256:<first 12 hex digits>@hashed.invalid``, the same for the same address everywhere.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from expkit.errors import ExpkitError, ValidationError
from expkit.fake._fixtures import GROUPS, KINDS, dump_json, path_segment

if TYPE_CHECKING:
    from expkit._client import Client

__all__ = ["hash_email", "record"]

HASHED_DOMAIN = "hashed.invalid"
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_WORKERS = 8

Files = dict[tuple[str, ...], Any]  # path segments (no ".json") -> response body


def hash_email(address: str) -> str:
    """``sha256:<12 hex>@hashed.invalid``: a stable stand-in for an e-mail address
    (case-insensitive, so ``Ann@X.com`` and ``ann@x.com`` hash alike)."""
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:12]
    return f"sha256:{digest}@{HASHED_DOMAIN}"


def _hash_emails_in(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        if found.lower().endswith("@" + HASHED_DOMAIN):
            return found
        return hash_email(found)

    return _EMAIL.sub(replace, text)


def _map_strings(value: Any, func: Callable[[str], str]) -> Any:
    """``value`` with ``func`` applied to every string value (dict keys untouched)."""
    if isinstance(value, str):
        return func(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, func) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, func) for v in value]
    return value


def _url(segments: Iterable[str]) -> str:
    return "/" + "/".join(quote(str(s), safe="") for s in segments)


def _fetch_config(client: Client, kind: str, cid: str) -> Files:
    http = client.http
    base = ("api", "1", kind, cid)
    files: Files = {base: http.request("GET", _url(base))}
    for sub in ("versions", "deployments"):
        files[(*base, sub)] = http.request("GET", _url((*base, sub))) or []
    variants = http.request("GET", _url((*base, "variants"))) or []
    files[(*base, "variants")] = variants
    for variant in variants:
        folder = (*base, "variants", str(variant["key"]))
        for sub in ("users", "cohorts"):
            files[(*folder, sub)] = http.request("GET", _url((*folder, sub))) or []
    return files


def _fetch_group(client: Client, name: str, gid: str) -> Files:
    path = ("api", "1", name, gid)
    return {path: client.http.request("GET", _url(path))}


def _source(client: Client) -> str:
    parts = urlsplit(client.base_url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _prepare(out: Path) -> None:
    """Clears a previous recording in ``out``; refuses any other non-empty directory."""
    if out.exists() and not out.is_dir():
        raise ValidationError(
            f"--out {str(out)!r} is a file.",
            field="out_dir",
            value=str(out),
            allowed="a new or empty directory, or an earlier recording",
        )
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not (out / "manifest.json").is_file():
        raise ValidationError(
            f"--out {str(out)!r} is not empty and holds no earlier recording (manifest.json); "
            "refusing to write into it.",
            field="out_dir",
            value=str(out),
            allowed="a new or empty directory, or an earlier recording",
        )
    if (out / "api").is_dir():
        shutil.rmtree(out / "api")
    (out / "manifest.json").unlink()


def record(
    client: Client,
    out_dir: str | os.PathLike[str],
    *,
    hash_emails: bool = False,
    progress: bool = True,
    source: str | None = None,
) -> Path:
    """Records every GET response of the org behind ``client`` into ``out_dir``; returns it.

    ``source`` (default: the client's base URL) goes into ``manifest.json``, with
    ``recorded_at`` (the server's clock at the end of the recording), what was scrubbed,
    the expkit version and counts. An earlier recording in ``out_dir`` is replaced.
    """
    from tqdm.auto import tqdm

    from expkit._version import __version__

    out = Path(out_dir)
    http = client.http
    files: Files = {}
    lists: dict[str, list[dict[str, Any]]] = {}
    for kind in KINDS:
        lists[kind] = list(
            http.paginate(f"/api/1/{kind}", kind, params={"includeArchived": "true"})
        )
    for name in ("deployments", *GROUPS):
        lists[name] = list(http.paginate(f"/api/1/{name}", name))
    for name, items in lists.items():
        body: dict[str, Any] = {name: items}
        if name != "deployments":
            body["nextCursor"] = None
        files[("api", "1", name)] = body

    jobs: list[tuple[Callable[..., Files], str, str]] = [
        (_fetch_config, kind, str(c["id"])) for kind in KINDS for c in lists[kind]
    ]
    jobs += [(_fetch_group, name, str(g["id"])) for name in GROUPS for g in lists[name]]
    with (
        ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="expkit-record") as pool,
        tqdm(total=len(jobs), desc="recording", unit="object", disable=not progress) as bar,
    ):
        futures = [pool.submit(func, client, name, ident) for func, name, ident in jobs]
        for future in as_completed(futures):
            files.update(future.result())
            bar.update(1)

    _scrub_deployment_keys(files, lists["deployments"])
    if hash_emails:
        files = {path: _map_strings(body, _hash_emails_in) for path, body in files.items()}
    when = client.server_time or datetime.now(UTC)
    manifest = {
        "recorded_at": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": source if source is not None else _source(client),
        "scrubbed": {
            "api_key": "never written",
            "deployment_keys": "replaced by <deployment-key:N>",
            "emails": f"sha256:<12 hex>@{HASHED_DOMAIN}" if hash_emails else None,
        },
        "expkit_version": __version__,
        "counts": _counts(files, lists),
    }
    encoded = {
        Path(*(path_segment(s) for s in path)).with_suffix(".json"): dump_json(body)
        for path, body in files.items()
    }
    _check_no_key(client, encoded)
    _prepare(out)
    for relative, data in sorted(encoded.items()):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (out / "manifest.json").write_bytes(dump_json(manifest))
    return out


def _scrub_deployment_keys(files: Files, deployments: list[dict[str, Any]]) -> None:
    """Replaces every deployment ``key`` by a placeholder numbered in list order."""
    placeholders: dict[str, str] = {}

    def placeholder(dep: dict[str, Any]) -> dict[str, Any]:
        did = str(dep.get("id"))
        if did not in placeholders:
            placeholders[did] = f"<deployment-key:{len(placeholders) + 1}>"
        return {**dep, "key": placeholders[did]} if "key" in dep else dep

    listing = files[("api", "1", "deployments")]
    listing["deployments"] = [placeholder(d) for d in deployments]
    for path, body in files.items():
        if path[-1] == "deployments" and len(path) == 5 and isinstance(body, list):
            files[path] = [placeholder(d) if isinstance(d, dict) else d for d in body]


def _check_no_key(client: Client, encoded: dict[Path, bytes]) -> None:
    secret = getattr(client.http, "_secret", None)
    key = secret.reveal() if secret is not None else None
    if not key or len(key) < 8:
        return
    needle = key.encode()
    for path, data in encoded.items():
        if needle in data:
            raise ExpkitError(
                f"the API key appears in the response recorded as {path}; nothing was written. "
                "Rotate the key if this server echoes it."
            )


def _counts(files: Files, lists: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    counts = {name: len(items) for name, items in lists.items()}
    counts["versions"] = sum(
        len(body) for path, body in files.items() if path[-1] == "versions" and len(path) == 5
    )
    for sub in ("users", "cohorts"):
        counts[sub] = sum(
            len(body) for path, body in files.items() if path[-1] == sub and len(path) == 7
        )
    counts["files"] = len(files)
    return counts

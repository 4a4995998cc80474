"""Fetch helpers (client → records → frames) and ``Snapshot``: every frame of an org at once.

The snapshot is fast by design: versions come from the bulk ``/api/1/versions`` feed (1,000
per page) instead of one request per config; the cursor lists run side by side; inclusions
(two requests per variant) start as soon as a config list has arrived and run concurrently
under the client's rate limiter; per-config version requests are made only for configs the
feed cannot serve. ``Snapshot.refresh`` asks the feed what changed since ``taken_at`` and
re-fetches only those configs.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
from tqdm.auto import tqdm

from expkit import _gc, frames
from expkit.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    import argparse

    from expkit._client import Client

__all__ = [
    "Snapshot",
    "fetch_deployments",
    "fetch_experiments",
    "fetch_flags",
    "fetch_inclusions",
    "fetch_versions",
    "snapshot",
    "snapshot_command",
]

logger = logging.getLogger("expkit")

FRAME_NAMES = (
    "configs",
    "variants",
    "segments",
    "conditions",
    "versions",
    "inclusions",
    "deployments",
    "groups",
)
_RESOURCE = {"flag": "flags", "experiment": "experiments"}
_PAGE = 1000  # the API's page cap: what one list request returns at most
_FORMAT = 1  # snapshot directory format, bumped on incompatible changes

Timestamp = datetime | date | str
_T = TypeVar("_T")


# --------------------------------------------------------------------------- small helpers


def _bar(progress: bool, desc: str, unit: str, total: int | None = None) -> tqdm:
    return tqdm(
        desc=desc, unit=unit, total=total, disable=not progress, leave=False, dynamic_ncols=True
    )


def _collect(items: Iterable[_T], bar: tqdm) -> list[_T]:
    out: list[_T] = []
    for item in items:
        out.append(item)
        bar.update(1)
    return out


def _check_workers(max_workers: Any) -> int:
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ValidationError(
            f"max_workers must be a positive integer, got {max_workers!r}.",
            field="max_workers",
            value=max_workers,
            allowed="an integer ≥ 1 (the client's rate limit still applies)",
        )
    return max_workers


def _check_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(
            f"{field} must be True or False, got {value!r}.",
            field=field,
            value=value,
            allowed=(True, False),
        )
    return value


def _check_kind(kind: Any) -> str:
    if kind not in _RESOURCE:
        raise ValidationError(
            f"kind must be 'flag' or 'experiment', got {kind!r}.",
            field="kind",
            value=kind,
            allowed=tuple(_RESOURCE),
        )
    return str(kind)


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


def _server_now(client: Client) -> pd.Timestamp:
    """The server's clock if a response told it, else this machine's (both UTC)."""
    when = client.server_time
    return pd.Timestamp(when if when is not None else datetime.now(UTC)).tz_convert(UTC)


def _id(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


class _Pool:
    """A thread pool that cancels queued work and re-raises as soon as one task fails."""

    def __init__(self, max_workers: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="expkit")

    def submit(self, fn: Callable[..., _T], *args: Any) -> Future[_T]:
        return self._executor.submit(fn, *args)

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._executor.shutdown(wait=exc_type is None, cancel_futures=exc_type is not None)


def _results(futures: list[Future[_T]]) -> list[_T]:
    """Every result in order; the first failure is raised without waiting for the rest."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            if fut.exception() is not None:
                raise fut.exception()  # type: ignore[misc]
    return [f.result() for f in futures]


# --------------------------------------------------------------------------- inclusions


@dataclass(frozen=True)
class _Variant:
    config_id: str
    kind: str
    config_key: str | None
    variant_key: str


def _variants_of(records: Iterable[Mapping[str, Any]], kind: str) -> list[_Variant]:
    out = []
    for rec in records:
        for variant in rec.get("variants") or []:
            if isinstance(variant, Mapping) and isinstance(variant.get("key"), str):
                out.append(_Variant(_id(rec.get("id")), kind, rec.get("key"), variant["key"]))
    return out


def _frame_variants(variants: pd.DataFrame) -> list[_Variant]:
    """The variants of a ``variants`` frame, in its row order."""
    return [
        _Variant(_id(cid), _check_kind(kind), None if pd.isna(key) else key, vkey)
        for cid, kind, key, vkey in variants[
            ["config_id", "kind", "config_key", "variant_key"]
        ].itertuples(index=False)
        if isinstance(vkey, str)
    ]


def _inclusion_list(client: Client, target: _Variant, field: str, bar: tqdm) -> list[str]:
    resource = getattr(client, _RESOURCE[target.kind])
    try:
        values = getattr(resource, field)(target.config_id, target.variant_key)
    except NotFoundError:
        # the variant went away after the config list was read; the next refresh sees the
        # change (it has a version after taken_at), so the snapshot stays consistent
        logger.warning(
            "%s %s: variant %r disappeared while fetching its %s",
            target.kind,
            target.config_id,
            target.variant_key,
            field,
        )
        values = []
    bar.update(1)
    return values


def _submit_inclusions(
    pool: _Pool, client: Client, targets: list[_Variant], bar: tqdm
) -> list[tuple[_Variant, Future[list[str]], Future[list[str]]]]:
    if targets:
        bar.total = (bar.total or 0) + 2 * len(targets)
        bar.refresh()
    return [
        (
            t,
            pool.submit(_inclusion_list, client, t, "users", bar),
            pool.submit(_inclusion_list, client, t, "cohorts", bar),
        )
        for t in targets
    ]


def _inclusion_records(
    submitted: list[tuple[_Variant, Future[list[str]], Future[list[str]]]],
) -> list[dict[str, Any]]:
    _results([f for _, users, cohorts in submitted for f in (users, cohorts)])
    return [
        {
            "config_id": t.config_id,
            "kind": t.kind,
            "config_key": t.config_key,
            "variant_key": t.variant_key,
            "users": users.result(),
            "cohorts": cohorts.result(),
        }
        for t, users, cohorts in submitted
    ]


# --------------------------------------------------------------------------- fetch helpers


def _fetch_configs(
    client: Client,
    kind: str,
    project_id: str | None,
    include_archived: bool,
    progress: bool,
) -> pd.DataFrame:
    resource = getattr(client, _RESOURCE[kind])
    items = resource.iter(project_id=project_id, include_archived=include_archived)
    with _bar(progress, _RESOURCE[kind], f" {_RESOURCE[kind]}") as bar:
        records = _collect(items, bar)
    return frames.configs(records, kind=kind)


def fetch_flags(
    client: Client,
    *,
    project_id: str | None = None,
    include_archived: bool = False,
    progress: bool = True,
) -> pd.DataFrame:
    """The ``configs`` frame of every flag (all pages)."""
    return _fetch_configs(client, "flag", project_id, include_archived, progress)


def fetch_experiments(
    client: Client,
    *,
    project_id: str | None = None,
    include_archived: bool = False,
    progress: bool = True,
) -> pd.DataFrame:
    """The ``configs`` frame of every experiment (all pages)."""
    return _fetch_configs(client, "experiment", project_id, include_archived, progress)


@_gc.pausing
def fetch_versions(
    client: Client,
    *,
    start: Timestamp | None = None,
    end: Timestamp | None = None,
    config_id: str | None = None,
    kind: str = "flag",
    progress: bool = True,
) -> pd.DataFrame:
    """The ``versions`` frame of every flag and experiment, created in ``[start, end)``.

    Without ``config_id`` this reads the bulk ``/api/1/versions`` feed (1,000 per page; the
    kind of each version is inferred from its ``flagConfig``). With ``config_id`` (and
    ``kind``), it reads that one config's versions.
    """
    lo, hi = _utc(start, "start"), _utc(end, "end")
    kind = _check_kind(kind)
    if config_id is None:
        with _bar(progress, "versions", " versions") as bar:
            records = _collect(client.versions.iter(start=lo, end=hi), bar)
        return frames.versions(records)
    resource = getattr(client, _RESOURCE[kind])
    records = resource.versions(config_id)
    df = frames.versions(records, kind=kind)
    keep = pd.Series(True, index=df.index)
    if lo is not None:
        keep &= df["created_at"] >= lo
    if hi is not None:
        keep &= df["created_at"] < hi
    return df[keep.fillna(False).astype(bool)].reset_index(drop=True)


def fetch_inclusions(
    client: Client,
    variants: pd.DataFrame | Iterable[Mapping[str, Any]] | None = None,
    *,
    max_workers: int = 8,
    progress: bool = True,
) -> pd.DataFrame:
    """The ``inclusions`` frame: users and cohorts of each variant (two requests per variant).

    ``variants``: a ``variants`` frame (e.g. a filtered ``snap.variants``), config records
    (as ``client.flags.list()`` returns; kinds inferred), or None for every variant of every
    flag and experiment. Requests run concurrently (``max_workers``) under the rate limit.
    """
    _check_workers(max_workers)
    if variants is None:
        flags = client.flags.list(include_archived=True)
        exps = client.experiments.list(include_archived=True)
        targets = _variants_of(flags, "flag") + _variants_of(exps, "experiment")
    elif isinstance(variants, pd.DataFrame):
        missing = {"config_id", "kind", "config_key", "variant_key"} - set(variants.columns)
        if missing:
            raise ValidationError(
                f"variants frame lacks columns {sorted(missing)}",
                field="variants",
                value=sorted(variants.columns),
                allowed="a variants frame (expkit.frames.variants / snap.variants)",
            )
        targets = _frame_variants(variants)
    else:
        records = frames._records(variants)
        kinds = [frames._infer_config_kind(r) for r in records]
        targets = [t for r, k in zip(records, kinds, strict=True) for t in _variants_of([r], k)]
    with _Pool(max_workers) as pool, _bar(progress, "inclusions", " requests") as bar:
        submitted = _submit_inclusions(pool, client, targets, bar)
        records_out = _inclusion_records(submitted)
    return frames.inclusions(records_out)


def fetch_deployments(
    client: Client, *, mask_keys: bool = True, progress: bool = True
) -> pd.DataFrame:
    """The ``deployments`` frame (all pages); keys masked unless ``mask_keys=False``."""
    with _bar(progress, "deployments", " deployments") as bar:
        records = _collect(client.deployments.iter(), bar)
    return frames.deployments(records, mask_keys=mask_keys)


# --------------------------------------------------------------------------- snapshot


def _sort(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The canonical row order, so a refreshed snapshot equals a fresh one."""
    if name == "configs":
        keys = ["id", "kind"]
    elif name == "versions":
        keys = ["config_id", "version", "kind"]
    elif name in ("deployments", "groups"):
        return df.reset_index(drop=True)
    else:
        # stable: rows of one config keep their own order (variants, segment/condition index)
        keys = ["config_id", "kind"]
    return df.sort_values(keys, kind="stable", na_position="last", ignore_index=True)


def _concat(name: str, parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return frames.empty(name)
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    return pd.concat(parts, ignore_index=True)


def _fallback_versions(
    feed: list[Mapping[str, Any]], configs: list[tuple[str, str]], since: pd.Timestamp | None
) -> list[tuple[str, str]]:
    """Configs whose history the feed cannot serve (no version, or gaps in 1..n)."""
    if since is not None:
        return []
    seen: dict[str, set[int]] = {}
    for rec in feed:
        fc = rec.get("flagConfig")
        number = rec.get("version")
        if isinstance(fc, Mapping) and isinstance(number, int):
            seen.setdefault(_id(fc.get("id")), set()).add(number)
    out = []
    for cid, kind in configs:
        numbers = seen.get(cid)
        if not numbers or len(numbers) != max(numbers) or min(numbers) != 1:
            out.append((cid, kind))
    return out


_FEED = "/api/1/versions"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ms(value: Any) -> int | None:
    """Milliseconds since the epoch of an API timestamp, or None."""
    if not isinstance(value, str):
        return None
    try:
        when = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(when):
        return None
    when = when.tz_localize(UTC) if when.tzinfo is None else when.tz_convert(UTC)
    return int(when.value // 1_000_000)


def _at_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _earliest(groups: Iterable[list[dict[str, Any]]]) -> pd.Timestamp | None:
    """The earliest ``createdAt`` of the configs: no version of theirs is older."""
    found = [ms for recs in groups for r in recs if (ms := _ms(r.get("createdAt"))) is not None]
    return pd.Timestamp(_at_ms(min(found))) if found else None


def _iso_ms(when: datetime) -> str:
    """The API's timestamp form, to the millisecond (what ``start``/``end`` take)."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class _Feed:
    """Reads the ``/api/1/versions`` feed as time windows side by side.

    Pages of one cursor must be read one after another, windows of ``start``/``end`` need
    not. The first request asks for the newest page; when more pages follow, everything
    left is at or before that page's oldest version (``T``) and, except versions of configs
    no list shows, at or after the configs' earliest ``createdAt``. So ``[earliest, T]`` is
    split into windows read concurrently (the first one open-ended), a window that holds more
    than a page is split again the same way, and versions at a window's edge, read twice, are
    de-duplicated. The number of parts follows the density the page just read shows.
    """

    def __init__(
        self, client: Client, pool: _Pool, *, since: pd.Timestamp | None, windows: int, bar: tqdm
    ) -> None:
        self._client = client
        self._pool = pool
        self._since = None if since is None else _ms(since.isoformat())
        self._windows = windows
        self._bar = bar
        self._pending: dict[Future[Any], tuple[int | None, int | None]] = {}

    def start(self) -> None:
        """Asks for the newest page (call early: it runs while the config lists load)."""
        self._submit(self._since, None)

    def _submit(self, start: int | None, end: int | None) -> None:
        self._pending[self._pool.submit(self._page, start, end)] = (start, end)

    def _page(self, start: int | None, end: int | None) -> tuple[list[dict[str, Any]], Any]:
        params: dict[str, Any] = {"limit": _PAGE}
        if start is not None:
            params["start"] = _iso_ms(_at_ms(start))
        if end is not None:
            params["end"] = _iso_ms(_at_ms(end))
        body = self._client.http.request("GET", _FEED, params=params)
        if isinstance(body, list):
            items, cursor = body, None
        else:
            items = list((body or {}).get("versions") or [])
            cursor = (body or {}).get("nextCursor")
        self._bar.update(len(items))
        return items, (None if cursor in (None, "") else cursor)

    def _rest(self, start: int | None, end: int | None, cursor: Any) -> list[dict[str, Any]]:
        """The rest of one window by its cursor, page after page."""
        params: dict[str, Any] = {"cursor": cursor}
        if start is not None:
            params["start"] = _iso_ms(_at_ms(start))
        if end is not None:
            params["end"] = _iso_ms(_at_ms(end))
        return _collect(self._client.http.paginate(_FEED, "versions", params=params), self._bar)

    def finish(
        self, earliest: pd.Timestamp | None, kinds: Mapping[str, str]
    ) -> tuple[list[dict[str, Any]], pd.DataFrame]:
        """Every version record (each once) and their frame, once all windows are read.

        Each window is flattened as it arrives, while the others are still on the wire.
        """
        low = _ms(earliest.isoformat()) if earliest is not None else None
        seen: set[tuple[str, Any]] = set()
        out: list[dict[str, Any]] = []
        parts: list[pd.DataFrame] = []
        while self._pending:
            done, _ = wait(self._pending, return_when=FIRST_COMPLETED)
            for fut in done:
                start, end = self._pending.pop(fut)
                result = fut.result()
                if isinstance(result, tuple):
                    items, cursor = result
                    if cursor is not None:
                        self._split(items, cursor, start, end, low)
                else:
                    items = result
                fresh = []
                for rec in items:
                    fc = rec.get("flagConfig")
                    key = (_id(fc.get("id")) if isinstance(fc, Mapping) else "", rec.get("version"))
                    if key not in seen:
                        seen.add(key)
                        fresh.append(rec)
                out.extend(fresh)
                parts.append(frames.versions(fresh, kind=kinds))
        return out, _concat("versions", parts)

    def _split(
        self,
        items: list[dict[str, Any]],
        cursor: Any,
        start: int | None,
        end: int | None,
        low: int | None,
    ) -> None:
        oldest = _ms(items[-1].get("createdAt")) if items else None
        newest = _ms(items[0].get("createdAt")) if items else None
        lower = start if start is not None else low
        if oldest is None or newest is None or lower is None or lower >= oldest:
            # no usable times: follow the cursor, as a plain reader would
            self._pending[self._pool.submit(self._rest, start, end, cursor)] = (start, end)
            return
        # versions left ≈ this page's density over the span left; one window per page of them
        span = max(newest - oldest, 1)
        expected = len(items) * (oldest - lower) / span
        parts = max(2, min(self._windows, math.ceil(expected / _PAGE) + 1))
        step = (oldest + 1 - lower) / parts
        edges = [lower + round(step * i) for i in range(parts)] + [oldest + 1]
        for i in range(parts):
            if edges[i + 1] > edges[i]:
                self._submit(start if i == 0 else edges[i], edges[i + 1])


def _config_versions(client: Client, cid: str, kind: str) -> list[dict[str, Any]]:
    return getattr(client, _RESOURCE[kind]).versions(cid)


@_gc.pausing
def snapshot(
    client: Client,
    *,
    since: Timestamp | None = None,
    inclusions: bool = True,
    progress: bool = True,
    max_workers: int = 8,
) -> Snapshot:
    """Every frame of the org, taken together: a ``Snapshot``.

    ``since`` limits the versions frame to versions created from then on (all by default);
    ``inclusions=False`` skips variant inclusions (two requests per variant, the costly part).
    ``taken_at`` is the server's clock when the snapshot started (else this machine's).
    """
    since_ts = _utc(since, "since")
    _check_bool(inclusions, "inclusions")
    _check_workers(max_workers)
    with _bar(progress, "deployments", " deployments") as bar:
        # first and alone: its Date header says when the snapshot started
        deployment_records = _collect(client.deployments.iter(), bar)
    taken_at = _server_now(client)

    bars = {
        name: _bar(progress, name, unit)
        for name, unit in (
            ("configs", " configs"),
            ("versions", " versions"),
            ("groups", " groups"),
            ("inclusions", " requests"),
        )
    }
    windows = max(2, max_workers)
    try:
        # two pools: thousands of queued inclusion requests must not delay the feed's pages
        with _Pool(windows + 4) as pool, _Pool(max_workers) as inclusion_pool:
            feed_reader = _Feed(client, pool, since=since_ts, windows=windows, bar=bars["versions"])
            feed_reader.start()
            lists = {
                pool.submit(
                    _collect, client.flags.iter(include_archived=True), bars["configs"]
                ): "flag",
                pool.submit(
                    _collect, client.experiments.iter(include_archived=True), bars["configs"]
                ): "experiment",
            }
            mutex_f = pool.submit(_collect, client.mutexes.iter(), bars["groups"])
            holdout_f = pool.submit(_collect, client.holdouts.iter(), bars["groups"])
            config_records: dict[str, list[dict[str, Any]]] = {}
            submitted: list[Any] = []
            pending = set(lists)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    kind = lists[fut]
                    config_records[kind] = fut.result()
                    if inclusions:
                        targets = _variants_of(config_records[kind], kind)
                        submitted += _submit_inclusions(
                            inclusion_pool, client, targets, bars["inclusions"]
                        )
            configs_seen = [
                (_id(r.get("id")), kind) for kind, recs in config_records.items() for r in recs
            ]
            kinds = dict(configs_seen)
            records = config_records["flag"] + config_records["experiment"]
            # flattened now, while the feed's windows are still on the wire
            config_frames = {
                name: _sort(name, getattr(frames, name)(records, kind=kinds))
                for name in ("configs", "variants", "segments", "conditions")
            }
            feed, versions_frame = feed_reader.finish(_earliest(config_records.values()), kinds)
            fallbacks = _fallback_versions(feed, configs_seen, since_ts)
            extra_versions = _results(
                [pool.submit(_config_versions, client, cid, kind) for cid, kind in fallbacks]
            )
            inclusion_records = _inclusion_records(submitted)
            groups_records = (mutex_f.result(), holdout_f.result())
    finally:
        for bar in bars.values():
            bar.close()

    if fallbacks:
        replaced = {cid for cid, _ in fallbacks}
        versions_frame = _concat(
            "versions",
            [
                versions_frame[~versions_frame["config_id"].isin(replaced)],
                frames.versions([r for recs in extra_versions for r in recs], kind=kinds),
            ],
        )
    return Snapshot(
        **config_frames,
        versions=_sort("versions", versions_frame),
        inclusions=_sort("inclusions", frames.inclusions(inclusion_records)),
        deployments=frames.deployments(deployment_records),
        groups=_concat(
            "groups",
            [
                frames.groups(groups_records[0], kind="mutex"),
                frames.groups(groups_records[1], kind="holdout"),
            ],
        ),
        taken_at=taken_at,
        source=client.base_url,
        with_inclusions=inclusions,
    )


@dataclass(frozen=True, eq=False, repr=False)
class Snapshot:
    """Every frame of an org, taken together, with when (``taken_at``, UTC) and from where.

    Frames follow ``expkit.frames.SCHEMA``. ``save(dir)`` / ``Snapshot.load(dir)`` round-trip
    exactly (Parquet); ``refresh(client)`` returns a new, up-to-date snapshot cheaply.
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
        kinds = self.configs["kind"].value_counts() if len(self.configs) else {}
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

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Writes the snapshot to directory ``path`` (Parquet + ``meta.json``); returns it.

        Dict and list cells are stored as JSON text and decoded by ``load``, and every dtype is
        recorded, so ``Snapshot.load(path)`` gives frames equal to these.
        """
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        meta: dict[str, Any] = {
            "format": _FORMAT,
            "expkit_version": _version(),
            "taken_at": self.taken_at.isoformat(),
            "source": self.source,
            "with_inclusions": self.with_inclusions,
            "counts": self.counts(),
            "dtypes": {},
            "json_columns": {},
        }
        for name, df in self.frames().items():
            encoded = {}
            json_cols = []
            for col in df.columns:
                if df[col].dtype == object:
                    json_cols.append(col)
                    encoded[col] = pd.array([_dump(v) for v in df[col].tolist()], dtype="string")
                else:
                    encoded[col] = df[col].array
            table = pd.DataFrame(encoded, columns=list(df.columns))
            table.to_parquet(out / f"{name}.parquet", engine="pyarrow", index=False)
            # pairs, not a dict: meta.json has sorted keys, and column order must survive
            meta["dtypes"][name] = [[col, str(dtype)] for col, dtype in df.dtypes.items()]
            meta["json_columns"][name] = json_cols
        (out / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return out

    @classmethod
    @_gc.pausing
    def load(cls, path: str | os.PathLike[str]) -> Snapshot:
        """The snapshot saved in directory ``path`` by ``Snapshot.save``."""
        src = Path(path)
        meta_path = src / "meta.json"
        if not meta_path.is_file():
            raise ValidationError(
                f"{src} is not a snapshot directory (no meta.json); write one with snap.save()",
                field="path",
                value=str(src),
                allowed="a directory written by Snapshot.save",
            )
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != _FORMAT:
            raise ValidationError(
                f"{src}: snapshot format {meta.get('format')!r} is not supported",
                field="path",
                value=meta.get("format"),
                allowed=(_FORMAT,),
            )
        missing = [
            f"{name}.parquet" for name in FRAME_NAMES if not (src / f"{name}.parquet").is_file()
        ]
        if missing:
            raise ValidationError(
                f"{src}: incomplete snapshot, missing {', '.join(missing)}; save it again",
                field="path",
                value=str(src),
                allowed="a directory written by Snapshot.save",
            )
        loaded = {}
        for name in FRAME_NAMES:
            table = pd.read_parquet(src / f"{name}.parquet", engine="pyarrow")
            dtypes = dict(meta["dtypes"][name])
            cols = {}
            for col, dtype in dtypes.items():
                if col in meta["json_columns"][name]:
                    cols[col] = pd.Series(
                        [None if pd.isna(v) else json.loads(v) for v in table[col].tolist()],
                        dtype=object,
                    ).array
                else:
                    cols[col] = table[col].astype(dtype).array
            loaded[name] = pd.DataFrame(cols, columns=list(dtypes), index=pd.RangeIndex(len(table)))
        return cls(
            **loaded,
            taken_at=pd.Timestamp(meta["taken_at"]),
            source=meta.get("source"),
            with_inclusions=bool(meta.get("with_inclusions", True)),
        )

    # ----------------------------------------------------------------- refresh

    @_gc.pausing
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
        fetches those of every config; ``False`` leaves none). Deployments and mutex/holdout groups
        have no versions: they are re-fetched when a changed config refers to one this snapshot
        does not know, or always with ``unversioned=True`` (three more requests).
        """
        _check_workers(max_workers)
        with_inclusions = self.with_inclusions if inclusions is None else inclusions
        _check_bool(with_inclusions, "inclusions")
        _check_bool(unversioned, "unversioned")

        with _bar(progress, "versions", " versions") as bar:
            feed: list[dict[str, Any]] = []
            taken_at = None
            for rec in client.versions.iter(start=self.taken_at):
                if taken_at is None:
                    # the first page's Date: anything later shows up in the next refresh
                    taken_at = _server_now(client)
                feed.append(rec)
                bar.update(1)
        if taken_at is None:
            taken_at = _server_now(client)

        known = set(
            zip(self.versions["config_id"].tolist(), self.versions["version"].tolist(), strict=True)
        )
        new_versions = []
        for rec in feed:
            fc = rec.get("flagConfig")
            if not isinstance(fc, Mapping):
                continue
            if (_id(fc.get("id")), rec.get("version")) not in known:
                new_versions.append(rec)
        kinds = dict(zip(self.configs["id"].tolist(), self.configs["kind"].tolist(), strict=True))
        changed: dict[str, str] = {}
        for rec in new_versions:
            cid = _id(rec["flagConfig"].get("id"))
            changed.setdefault(cid, kinds.get(cid) or frames._infer_config_kind(rec["flagConfig"]))
        kinds.update(changed)

        records = self._changed_configs(client, changed, progress=progress, max_workers=max_workers)
        targets = [
            t
            for kind in _RESOURCE
            for t in _variants_of([r for r in records if changed[_id(r.get("id"))] == kind], kind)
        ]
        # a snapshot taken without inclusions has none to keep: fetch those of every config
        fetch_all = with_inclusions and not self.with_inclusions
        if fetch_all:
            unchanged = self.variants[~self.variants["config_id"].isin(set(changed))]
            targets = _frame_variants(unchanged) + targets
        deployments, groups = self.deployments, self.groups
        with _Pool(max_workers) as pool:
            inc_bar = _bar(progress, "inclusions", " requests")
            with inc_bar:
                submitted = (
                    _submit_inclusions(pool, client, targets, inc_bar) if with_inclusions else []
                )
                refetch_deployments, refetch_groups = self._unknown_refs(records, unversioned)
                dep_f = pool.submit(client.deployments.list) if refetch_deployments else None
                mutex_f = pool.submit(client.mutexes.list) if refetch_groups else None
                holdout_f = pool.submit(client.holdouts.list) if refetch_groups else None
                inclusion_records = _inclusion_records(submitted)
                if dep_f is not None:
                    deployments = frames.deployments(dep_f.result())
                if mutex_f is not None and holdout_f is not None:
                    groups = _concat(
                        "groups",
                        [
                            frames.groups(mutex_f.result(), kind="mutex"),
                            frames.groups(holdout_f.result(), kind="holdout"),
                        ],
                    )

        ids = set(changed)
        fetched = {_id(r.get("id")) for r in records}

        def merged(name: str, old: pd.DataFrame, new: pd.DataFrame, key: str) -> pd.DataFrame:
            keep = old[~old[key].isin(ids)] if ids else old
            return _sort(name, _concat(name, [keep, new]))

        inclusions_frame = frames.empty("inclusions")
        if fetch_all:
            inclusions_frame = _sort("inclusions", frames.inclusions(inclusion_records))
        elif with_inclusions:
            inclusions_frame = merged(
                "inclusions", self.inclusions, frames.inclusions(inclusion_records), "config_id"
            )
        versions = _concat("versions", [self.versions, frames.versions(new_versions, kind=kinds)])
        gone = ids - fetched
        if gone:
            logger.warning("configs %s have new versions but could not be fetched", sorted(gone))
        return Snapshot(
            configs=merged("configs", self.configs, frames.configs(records, kind=kinds), "id"),
            variants=merged(
                "variants", self.variants, frames.variants(records, kind=kinds), "config_id"
            ),
            segments=merged(
                "segments", self.segments, frames.segments(records, kind=kinds), "config_id"
            ),
            conditions=merged(
                "conditions", self.conditions, frames.conditions(records, kind=kinds), "config_id"
            ),
            versions=_sort("versions", versions),
            inclusions=inclusions_frame,
            deployments=deployments,
            groups=groups,
            taken_at=taken_at,
            source=client.base_url,
            with_inclusions=with_inclusions,
        )

    def _changed_configs(
        self, client: Client, changed: Mapping[str, str], *, progress: bool, max_workers: int
    ) -> list[dict[str, Any]]:
        """The current records of ``changed`` configs, by GET each or by list, whichever is fewer."""
        by_kind: dict[str, list[str]] = {}
        for cid, kind in changed.items():
            by_kind.setdefault(kind, []).append(cid)
        out: list[dict[str, Any]] = []
        with _Pool(max_workers) as pool, _bar(progress, "configs", " configs") as bar:
            tasks: list[Future[Any]] = []
            present = set(self.configs["id"].tolist())
            for kind, cids in by_kind.items():
                resource = getattr(client, _RESOURCE[kind])
                known = int((self.configs["kind"] == kind).sum())
                new = sum(1 for c in cids if c not in present)
                pages = max(1, math.ceil((known + new) / _PAGE))
                if pages < len(cids):
                    tasks.append(pool.submit(_pick, resource, set(cids), bar))
                else:
                    tasks.extend(pool.submit(_get_or_none, resource, cid, bar) for cid in cids)
            for result in _results(tasks):
                if isinstance(result, list):
                    out.extend(result)
                elif result is not None:
                    out.append(result)
        return out

    def _unknown_refs(self, records: list[dict[str, Any]], unversioned: bool) -> tuple[bool, bool]:
        if unversioned:
            return True, True
        deployment_ids = set(self.deployments["id"].dropna().tolist())
        group_ids = set(self.groups["id"].dropna().tolist()) | set(self.configs["id"].tolist())
        deployments = groups = False
        for rec in records:
            for dep in rec.get("deployments") or []:
                deployments |= _id(dep) not in deployment_ids
            parents = (rec.get("parentDependencies") or {}).get("flags") or {}
            if isinstance(parents, Mapping):
                groups |= any(_id(p) not in group_ids for p in parents)
        return deployments, groups


def _pick(resource: Any, cids: set[str], bar: tqdm) -> list[dict[str, Any]]:
    out = []
    for rec in resource.iter(include_archived=True):
        if _id(rec.get("id")) in cids:
            out.append(rec)
            bar.update(1)
    return out


def _get_or_none(resource: Any, cid: str, bar: tqdm) -> dict[str, Any] | None:
    try:
        rec = resource.get(cid)
    except NotFoundError:
        return None
    bar.update(1)
    return rec


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _version() -> str:
    from expkit import __version__

    return __version__


# --------------------------------------------------------------------------- CLI


def snapshot_command(args: argparse.Namespace) -> int:
    """``expkit snapshot --out DIR``: take a snapshot of the org and save it; returns 0."""
    from expkit._connect import connect

    options: dict[str, Any] = {}
    if getattr(args, "region", None):
        options["region"] = args.region
    client = connect(getattr(args, "fixtures", None), quiet=False, **options)
    snap = snapshot(
        client,
        inclusions=bool(getattr(args, "inclusions", True)),
        progress=bool(getattr(args, "progress", True)),
    )
    out = snap.save(args.out)
    counts = snap.counts()
    print(
        f"expkit: snapshot of {counts['configs']:,} configs, {counts['versions']:,} versions, "
        f"{counts['inclusions']:,} inclusions taken at {snap.taken_at.isoformat()} "
        f"saved to {out}"
    )
    return 0

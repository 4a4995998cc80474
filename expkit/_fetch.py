"""Fetch helpers (client → records → frames), ``snapshot`` and ``refresh``.

The snapshot is fast by design: versions come from the bulk ``/api/1/versions`` feed (1,000
per page) instead of one request per config; the cursor lists run side by side; inclusions
(two requests per variant) start as soon as a config list has arrived and run concurrently
under the client's rate limiter; per-config version requests are made only for configs the
feed cannot serve. ``refresh`` asks the feed what changed since ``taken_at`` and re-fetches
only those configs.

Failure stops everything: when one request fails, a shared cancel event is set, queued work
is cancelled and every worker checks the event before each request it sends; the pools are
shut down (waiting for requests already on the wire) before the exception reaches the caller,
so no request is sent after it. Pages are flattened as they arrive and their records dropped,
so a snapshot holds the frames, not the frames and every parsed page besides.

The ``Snapshot`` type (frames, save/load, equality) lives in ``expkit._snapshot``.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
from tqdm.auto import tqdm

from expkit import _gc, _memory, frames
from expkit._share import Sharer
from expkit._snapshot import FRAME_NAMES, Snapshot, SnapshotError, _utc
from expkit.errors import ApiError, NotFoundError, ValidationError

if TYPE_CHECKING:
    from expkit._client import Client

__all__ = [
    "FRAME_NAMES",
    "Snapshot",
    "SnapshotError",
    "fetch_deployments",
    "fetch_experiments",
    "fetch_flags",
    "fetch_inclusions",
    "fetch_versions",
    "refresh",
    "snapshot",
]

logger = logging.getLogger("expkit")

_RESOURCE = {"flag": "flags", "experiment": "experiments"}
_PAGE = 1000  # the API's page cap: what one list request returns at most

Timestamp = datetime | date | str
_T = TypeVar("_T")


# --------------------------------------------------------------------------- small helpers


def _bar(progress: bool, desc: str, unit: str, total: int | None = None) -> tqdm:
    return tqdm(
        desc=desc, unit=unit, total=total, disable=not progress, leave=False, dynamic_ncols=True
    )


class _Cancelled(Exception):
    """Raised in a worker that was about to send a request after the work was cancelled."""


def _checked(items: Iterable[_T], cancel: threading.Event | None) -> Iterator[_T]:
    """``items``, checking ``cancel`` before each step (a lazy list sends a page request then)."""
    it = iter(items)
    while True:
        if cancel is not None and cancel.is_set():
            raise _Cancelled()
        try:
            yield next(it)
        except StopIteration:
            return


def _collect(items: Iterable[_T], bar: tqdm, cancel: threading.Event | None = None) -> list[_T]:
    out: list[_T] = []
    for item in _checked(items, cancel):
        out.append(item)
        bar.update(1)
    return out


def _pages(items: Iterable[_T], bar: tqdm) -> Iterator[list[_T]]:
    """``items`` in lists of ``_PAGE``, the bar updated per item."""
    page: list[_T] = []
    for item in items:
        page.append(item)
        bar.update(1)
        if len(page) == _PAGE:
            yield page
            page = []
    if page:
        yield page


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


def _server_now(client: Client) -> pd.Timestamp:
    """The server's clock if a response told it, else this machine's (both UTC)."""
    when = client.server_time
    return pd.Timestamp(when if when is not None else datetime.now(UTC)).tz_convert(UTC)


def _id(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


class _Cancel(threading.Event):
    """Set when a job fails; holds the first failure, which is what the caller gets."""

    def __init__(self) -> None:
        super().__init__()
        self.failure: BaseException | None = None
        self._lock = threading.Lock()

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            if self.failure is None:
                self.failure = exc
        self.set()


class _Pool:
    """A thread pool whose work stops as soon as one task fails.

    A task that fails sets the shared ``cancel`` event at once; tasks run only while it is
    clear, and workers check it before each request (``_checked``, ``_guard``). Leaving the
    pool by an exception sets it too, cancels queued tasks and waits for the running ones
    (each stops before its next request), so once the exception reaches the caller no request
    of this pool is sent any more. The caller gets the first failure, not a ``_Cancelled``
    of some task that stopped because of it. Pools of one job share one ``cancel``.
    """

    def __init__(self, max_workers: int, cancel: _Cancel | None = None) -> None:
        self.cancel = cancel if cancel is not None else _Cancel()
        self._executor = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="expkit-fetch"
        )

    def submit(self, fn: Callable[..., _T], *args: Any) -> Future[_T]:
        return self._executor.submit(self._run, fn, *args)

    def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        _guard(self.cancel)
        try:
            return fn(*args)
        except _Cancelled:
            raise
        except BaseException as exc:
            self.cancel.fail(exc)
            raise

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is not None:
            if not isinstance(exc, _Cancelled):
                self.cancel.fail(exc)
            self.cancel.set()
        self._executor.shutdown(wait=True, cancel_futures=exc is not None)
        failure = self.cancel.failure
        if isinstance(exc, _Cancelled) and failure is not None and failure is not exc:
            raise failure.with_traceback(failure.__traceback__) from None


def _guard(cancel: threading.Event | None) -> None:
    """Raises ``_Cancelled`` when the work was cancelled: call it before sending a request."""
    if cancel is not None and cancel.is_set():
        raise _Cancelled()


def _results(futures: list[Future[_T]]) -> list[_T]:
    """Every result in order; the first failure is raised without waiting for the rest."""
    pending = set(futures)
    cancelled: BaseException | None = None
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            exc = fut.exception()
            if isinstance(exc, _Cancelled):
                cancelled = exc  # the failure that caused it is raised elsewhere
            elif exc is not None:
                raise exc
    if cancelled is not None:
        raise cancelled
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


class _Inclusions:
    """The users and cohorts of many variants, read by a few workers from one queue.

    A future per request, all queued up front, costs ~1.8 KB each: 43 MB for the 23,400
    requests of the full synthetic org. Here each worker takes the next variant from a shared
    queue until it is empty, so the pool holds at most ``workers`` futures per ``add``.
    Each worker checks the pool's cancel event before every request it sends.
    """

    def __init__(self, pool: _Pool, client: Client, bar: tqdm, workers: int) -> None:
        self._pool = pool
        self._client = client
        self._bar = bar
        self._workers = workers
        self._targets: list[_Variant] = []
        self._queue: deque[int] = deque()
        self._lists: dict[int, tuple[list[str], list[str]]] = {}
        self._futures: list[Future[None]] = []

    def add(self, targets: list[_Variant]) -> None:
        """Queues the variants' two lists (a worker that finds the queue empty has ended)."""
        if not targets:
            return
        self._bar.total = (self._bar.total or 0) + 2 * len(targets)
        self._bar.refresh()
        first = len(self._targets)
        self._targets += targets
        self._queue.extend(range(first, len(self._targets)))
        for _ in range(min(self._workers, len(targets))):
            self._futures.append(self._pool.submit(self._drain))

    def _drain(self) -> None:
        while True:
            try:
                i = self._queue.popleft()
            except IndexError:
                return
            target = self._targets[i]
            lists = []
            for field in ("users", "cohorts"):
                _guard(self._pool.cancel)
                lists.append(_inclusion_list(self._client, target, field, self._bar))
            self._lists[i] = (lists[0], lists[1])

    def records(self) -> list[dict[str, Any]]:
        """One record per variant, in the order added, once every list is read."""
        _results(self._futures)
        out = []
        for i, t in enumerate(self._targets):
            users, cohorts = self._lists[i]
            out.append(
                {
                    "config_id": t.config_id,
                    "kind": t.kind,
                    "config_key": t.config_key,
                    "variant_key": t.variant_key,
                    "users": users,
                    "cohorts": cohorts,
                }
            )
        return out


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
@_memory.lean
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
        # a page at a time, equal parts shared, as snapshot() does: the whole feed parsed
        # first would hold every version's own copy of its config (~540 MB at 62,500)
        share = Sharer()
        columns = frames._version_columns([])
        with _bar(progress, "versions", " versions") as bar:
            for page in _pages(client.versions.iter(start=lo, end=hi), bar):
                records = frames._records(page)
                share(records)
                flat = frames._version_columns(records)
                _share_columns(share, flat)
                _extend(columns, flat)
        del share
        return frames._versions_frame(columns, None)
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
        reader = _Inclusions(pool, client, bar, max_workers)
        reader.add(targets)
        records_out = reader.records()
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
    seen: _Seen, configs: list[tuple[str, str]], since: pd.Timestamp | None
) -> list[tuple[str, str]]:
    """Configs whose history the feed cannot serve (no version, or gaps in 1..n)."""
    if since is not None:
        return []
    return [(cid, kind) for cid, kind in configs if not seen.complete(cid)]


class _Seen:
    """The (config, version number) pairs the feed has read: one bit per number per config.

    A set of numbers per config cost ~2 KB a config (5 MB at 2,500 configs x 25 versions);
    an int whose bit ``n`` says "version n was read" costs ~30 B. A number that is not a small
    positive int (never from the API, but a page can say anything) goes in a plain set.
    """

    _LIMIT = 1 << 16

    def __init__(self) -> None:
        self._bits: dict[str, int] = {}
        self._other: set[tuple[str, Any]] = set()
        self._odd: set[str] = set()  # configs with an int number outside 1.._LIMIT

    def add(self, cid: str, number: Any) -> bool:
        """Records the pair; False when it was read before."""
        if type(number) is int and 0 < number < self._LIMIT:
            bits = self._bits.get(cid, 0)
            bit = 1 << number
            if bits & bit:
                return False
            self._bits[cid] = bits | bit
            return True
        key = (cid, number if isinstance(number, Hashable) else repr(number))
        if key in self._other:
            return False
        self._other.add(key)
        if isinstance(number, int):
            self._odd.add(cid)
        return True

    def complete(self, cid: str) -> bool:
        """Whether the numbers read of ``cid`` are exactly 1..n (n ≥ 1)."""
        bits = self._bits.get(cid, 0)
        return bool(bits) and cid not in self._odd and bits == (1 << bits.bit_length()) - 2


def _extend(columns: dict[str, list[Any]], more: Mapping[str, list[Any]]) -> None:
    for name, values in more.items():
        columns[name] += values


def _share_columns(share: Sharer, columns: dict[str, list[Any]]) -> None:
    """The columns beside ``config`` share its objects too: weights, extras, who wrote it."""
    intern = share.intern
    for name in ("rollout_weights", "extra"):
        values = columns[name]
        for i, value in enumerate(values):
            values[i] = intern(value)
    intern.strings(columns["created_by"])


def _feed_items(client: Client, params: Mapping[str, Any], body: Any) -> tuple[list[Any], Any]:
    """The version objects and next cursor of one feed page, after checking its shape."""
    url = client.http.url_for(_FEED, params)
    items: Any
    if isinstance(body, list):
        items, cursor = body, None
    elif isinstance(body, dict):
        items = body.get("versions")
        cursor = body.get("nextCursor")
        if items is None and not set(body) - {"versions", "nextCursor"}:
            items = []
        if not isinstance(items, list):
            raise _shape_error(url, f"an object with keys {sorted(map(str, body))[:8]}")
    else:
        what = "text (an HTML page?)" if isinstance(body, str) else f"a {type(body).__name__}"
        raise _shape_error(url, what)
    _check_versions(url, items)
    return items, (None if cursor in (None, "") else cursor)


def _check_versions(url: str, items: list[Any]) -> None:
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _shape_error(url, f"a list whose item {i} is a {type(item).__name__}")


def _shape_error(url: str, what: str) -> ApiError:
    # the body itself is not quoted: a page echoing request headers would carry the key
    return ApiError(
        200,
        "GET",
        url,
        f"unexpected page: {what}",
        hint="expected a JSON object with a list of version objects under 'versions'",
    )


_FEED = "/api/1/versions"
_PARSED_PAGES = 3  # feed pages parsed but not yet flattened, at most
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
        self,
        client: Client,
        pool: _Pool,
        *,
        since: pd.Timestamp | None,
        windows: int,
        bar: tqdm,
    ) -> None:
        self._client = client
        self._pool = pool
        self._since = None if since is None else _ms(since.isoformat())
        self._windows = windows
        self._bar = bar
        self._pending: dict[Future[Any], tuple[int | None, int | None]] = {}
        self._share = Sharer()
        self._seen = _Seen()
        # parsed pages not yet flattened, at most this many at once: a parsed page is several
        # times its JSON, its flattened rows are not
        self._parsed = threading.BoundedSemaphore(_PARSED_PAGES)

    def start(self) -> None:
        """Asks for the newest page (call early: it runs while the config lists load)."""
        self._submit(self._since, None)

    def _submit(self, start: int | None, end: int | None) -> None:
        self._pending[self._pool.submit(self._page, start, end)] = (start, end)

    def _page(
        self, start: int | None, end: int | None
    ) -> tuple[dict[str, list[Any]], Any, int | None, int | None, int]:
        """One window's first page, flattened: its columns, cursor, oldest/newest times, size."""
        params: dict[str, Any] = {"limit": _PAGE}
        if start is not None:
            params["start"] = _iso_ms(_at_ms(start))
        if end is not None:
            params["end"] = _iso_ms(_at_ms(end))
        _guard(self._pool.cancel)
        with self._parsed:
            _guard(self._pool.cancel)
            body = self._client.http.request("GET", _FEED, params=params)
            items, cursor = _feed_items(self._client, params, body)
            del body
            oldest = _ms(items[-1].get("createdAt")) if items else None
            newest = _ms(items[0].get("createdAt")) if items else None
            self._bar.update(len(items))
            return self._flatten(items), cursor, oldest, newest, len(items)

    def _rest(self, start: int | None, end: int | None, cursor: Any) -> dict[str, list[Any]]:
        """The rest of one window by its cursor, page after page, flattened page by page."""
        params: dict[str, Any] = {"cursor": cursor}
        if start is not None:
            params["start"] = _iso_ms(_at_ms(start))
        if end is not None:
            params["end"] = _iso_ms(_at_ms(end))
        url = self._client.http.url_for(_FEED, params)
        pages = self._client.http.paginate(_FEED, "versions", params=params)
        columns = frames._version_columns([])
        for chunk in _pages(_checked(pages, self._pool.cancel), self._bar):
            _check_versions(url, chunk)
            _extend(columns, self._flatten(chunk))
        return columns

    def _flatten(self, items: list[dict[str, Any]]) -> dict[str, list[Any]]:
        """The frame's columns of the versions not seen before, configs shared with earlier ones.

        What is kept of a record is what the versions frame keeps; the rest of the page (and
        the parts equal to an earlier version's) is freed as soon as the caller drops it.
        """
        with self._share.lock:
            fresh = []
            for rec in items:
                fc = rec.get("flagConfig")
                cid = _id(fc.get("id")) if isinstance(fc, Mapping) else ""
                number = rec.get("version")
                if self._seen.add(cid, number):
                    fresh.append(rec)
            self._share(fresh)
            columns = frames._version_columns(fresh)
            _share_columns(self._share, columns)
        return columns

    def finish(
        self, earliest: pd.Timestamp | None, kinds: Mapping[str, str]
    ) -> tuple[_Seen, pd.DataFrame]:
        """The version numbers seen per config and the versions frame, once all windows are read.

        Each page is de-duplicated and shared in the worker that read it, as soon as it is
        parsed (at most ``_PARSED_PAGES`` parsed pages exist at once); the frame is built once
        at the end from the kept records (each ``flagConfig``, sharing the parts equal
        between versions of one config).
        """
        low = _ms(earliest.isoformat()) if earliest is not None else None
        kept = frames._version_columns([])
        while self._pending:
            done, _ = wait(self._pending, return_when=FIRST_COMPLETED)
            for fut in done:
                start, end = self._pending.pop(fut)
                result = fut.result()
                if isinstance(result, tuple):
                    rows, cursor, oldest, newest, count = result
                    if cursor is not None:
                        self._split(count, oldest, newest, cursor, start, end, low)
                else:
                    rows = result
                _extend(kept, rows)
                del rows, result
            del done, fut
        # the sharing tables (every distinct value, ~10 MB at 62,500 versions) are not needed
        # by the frame: dropped before it is built, the snapshot's busiest moment
        self._share = Sharer()
        _memory.release_freed_heap()
        # in the snapshot's order (config_id, version, kind): no sort of the frame after
        frame = frames._versions_frame(kept, kinds, by_kind=True)
        return self._seen, frame

    def _split(
        self,
        count: int,
        oldest: int | None,
        newest: int | None,
        cursor: Any,
        start: int | None,
        end: int | None,
        low: int | None,
    ) -> None:
        lower = start if start is not None else low
        if oldest is None or newest is None or lower is None or lower >= oldest:
            # no usable times: follow the cursor, as a plain reader would
            self._pending[self._pool.submit(self._rest, start, end, cursor)] = (start, end)
            return
        # versions left ≈ this page's density over the span left; one window per page of them
        span = max(newest - oldest, 1)
        expected = count * (oldest - lower) / span
        parts = max(2, min(self._windows, math.ceil(expected / _PAGE) + 1))
        step = (oldest + 1 - lower) / parts
        edges = [lower + round(step * i) for i in range(parts)] + [oldest + 1]
        for i in range(parts):
            if edges[i + 1] > edges[i]:
                self._submit(start if i == 0 else edges[i], edges[i + 1])


def _config_versions(client: Client, cid: str, kind: str) -> list[dict[str, Any]] | None:
    """The config's versions, or None when it is gone (404): it vanished mid-snapshot."""
    try:
        return getattr(client, _RESOURCE[kind]).versions(cid)
    except NotFoundError:
        # like a variant whose inclusions 404: the config was deleted after the list was read
        logger.warning("%s %s: disappeared while fetching its versions", kind, cid)
        return None


@_gc.pausing
@_memory.lean
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
    deployments_frame = frames.deployments(deployment_records)
    del deployment_records

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
    cancel = _Cancel()
    try:
        # two pools: thousands of queued inclusion requests must not delay the feed's pages;
        # one cancel event: a failure in either stops both
        with _Pool(_PARSED_PAGES + 4, cancel) as pool, _Pool(max_workers, cancel) as inclusion_pool:
            feed_reader = _Feed(client, pool, since=since_ts, windows=windows, bar=bars["versions"])
            feed_reader.start()
            lists = {
                pool.submit(
                    _collect, client.flags.iter(include_archived=True), bars["configs"], cancel
                ): "flag",
                pool.submit(
                    _collect,
                    client.experiments.iter(include_archived=True),
                    bars["configs"],
                    cancel,
                ): "experiment",
            }
            mutex_f = pool.submit(_collect, client.mutexes.iter(), bars["groups"], cancel)
            holdout_f = pool.submit(_collect, client.holdouts.iter(), bars["groups"], cancel)
            config_records: dict[str, list[dict[str, Any]]] = {}
            reader = _Inclusions(inclusion_pool, client, bars["inclusions"], max_workers)
            pending = set(lists)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    kind = lists.pop(fut)
                    config_records[kind] = fut.result()
                    if inclusions:
                        reader.add(_variants_of(config_records[kind], kind))
            # a finished future holds its result: drop them, or the records outlive the frames
            del done, fut
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
            earliest = _earliest(config_records.values())
            del records, config_records
            seen, versions_frame = feed_reader.finish(earliest, kinds)
            fallbacks = _fallback_versions(seen, configs_seen, since_ts)
            extra_versions = _results(
                [pool.submit(_config_versions, client, cid, kind) for cid, kind in fallbacks]
            )
            inclusion_records = reader.records()
            groups_records = (mutex_f.result(), holdout_f.result())
    finally:
        for bar in bars.values():
            bar.close()

    # a config whose /versions answered 404 is gone: the feed's versions of it are kept
    replaced = {
        cid for (cid, _), recs in zip(fallbacks, extra_versions, strict=True) if recs is not None
    }
    if replaced:
        extra = [r for recs in extra_versions if recs for r in recs]
        Sharer()(extra)
        versions_frame = _sort(
            "versions",
            _concat(
                "versions",
                [
                    versions_frame[~versions_frame["config_id"].isin(replaced)],
                    frames.versions(extra, kind=kinds),
                ],
            ),
        )
    return Snapshot(
        **config_frames,
        versions=versions_frame,
        inclusions=_sort("inclusions", frames.inclusions(inclusion_records)),
        deployments=deployments_frame,
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


@_gc.pausing
@_memory.lean
def refresh(
    snap: Snapshot,
    client: Client,
    *,
    inclusions: bool | None = None,
    unversioned: bool = False,
    progress: bool = True,
    max_workers: int = 8,
) -> Snapshot:
    """A new snapshot: ``snap`` updated with only what changed since its ``taken_at``.

    Asks ``/api/1/versions?start=taken_at`` which configs changed, re-fetches just those
    (one GET each, or the list when that takes fewer requests) and their inclusions
    (``inclusions=None``: if this snapshot has them; ``True`` on a snapshot without them
    fetches those of every config; ``False`` leaves none). Deployments and mutex/holdout groups
    have no versions: they are re-fetched when a changed config refers to one this snapshot
    does not know, or always with ``unversioned=True`` (three more requests).
    """
    _check_workers(max_workers)
    with_inclusions = snap.with_inclusions if inclusions is None else inclusions
    _check_bool(with_inclusions, "inclusions")
    _check_bool(unversioned, "unversioned")

    with _bar(progress, "versions", " versions") as bar:
        feed: list[dict[str, Any]] = []
        taken_at = None
        for rec in client.versions.iter(start=snap.taken_at):
            if not isinstance(rec, dict):
                raise _shape_error(
                    client.http.url_for(_FEED, {"start": str(snap.taken_at)}),
                    f"a list with a {type(rec).__name__} among the versions",
                )
            if taken_at is None:
                # the first page's Date: anything later shows up in the next refresh
                taken_at = _server_now(client)
            feed.append(rec)
            bar.update(1)
    if taken_at is None:
        taken_at = _server_now(client)

    known = set(
        zip(snap.versions["config_id"].tolist(), snap.versions["version"].tolist(), strict=True)
    )
    new_versions = []
    for rec in feed:
        fc = rec.get("flagConfig")
        if not isinstance(fc, Mapping):
            continue
        if (_id(fc.get("id")), rec.get("version")) not in known:
            new_versions.append(rec)
    kinds = dict(zip(snap.configs["id"].tolist(), snap.configs["kind"].tolist(), strict=True))
    changed: dict[str, str] = {}
    for rec in new_versions:
        cid = _id(rec["flagConfig"].get("id"))
        changed.setdefault(cid, kinds.get(cid) or frames._infer_config_kind(rec["flagConfig"]))
    kinds.update(changed)

    records = _changed_configs(snap, client, changed, progress=progress, max_workers=max_workers)
    targets = [
        t
        for kind in _RESOURCE
        for t in _variants_of([r for r in records if changed[_id(r.get("id"))] == kind], kind)
    ]
    # a snapshot taken without inclusions has none to keep: fetch those of every config
    fetch_all = with_inclusions and not snap.with_inclusions
    if fetch_all:
        unchanged = snap.variants[~snap.variants["config_id"].isin(set(changed))]
        targets = _frame_variants(unchanged) + targets
    deployments, groups = snap.deployments, snap.groups
    with _Pool(max_workers) as pool:
        inc_bar = _bar(progress, "inclusions", " requests")
        with inc_bar:
            refetch_deployments, refetch_groups = _unknown_refs(snap, records, unversioned)
            quiet = _bar(False, "", "")
            dep_f = (
                pool.submit(_collect, client.deployments.iter(), quiet, pool.cancel)
                if refetch_deployments
                else None
            )
            mutex_f = (
                pool.submit(_collect, client.mutexes.iter(), quiet, pool.cancel)
                if refetch_groups
                else None
            )
            holdout_f = (
                pool.submit(_collect, client.holdouts.iter(), quiet, pool.cancel)
                if refetch_groups
                else None
            )
            # after the three lists: they are not queued behind every variant's inclusions
            reader = _Inclusions(pool, client, inc_bar, max_workers)
            if with_inclusions:
                reader.add(targets)
            inclusion_records = reader.records()
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
            "inclusions", snap.inclusions, frames.inclusions(inclusion_records), "config_id"
        )
    versions = _concat("versions", [snap.versions, frames.versions(new_versions, kind=kinds)])
    gone = ids - fetched
    if gone:
        logger.warning("configs %s have new versions but could not be fetched", sorted(gone))
    return Snapshot(
        configs=merged("configs", snap.configs, frames.configs(records, kind=kinds), "id"),
        variants=merged(
            "variants", snap.variants, frames.variants(records, kind=kinds), "config_id"
        ),
        segments=merged(
            "segments", snap.segments, frames.segments(records, kind=kinds), "config_id"
        ),
        conditions=merged(
            "conditions", snap.conditions, frames.conditions(records, kind=kinds), "config_id"
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
    snap: Snapshot, client: Client, changed: Mapping[str, str], *, progress: bool, max_workers: int
) -> list[dict[str, Any]]:
    """The current records of ``changed`` configs, by GET each or by list, whichever is fewer."""
    by_kind: dict[str, list[str]] = {}
    for cid, kind in changed.items():
        by_kind.setdefault(kind, []).append(cid)
    out: list[dict[str, Any]] = []
    with _Pool(max_workers) as pool, _bar(progress, "configs", " configs") as bar:
        tasks: list[Future[Any]] = []
        present = set(snap.configs["id"].tolist())
        for kind, cids in by_kind.items():
            resource = getattr(client, _RESOURCE[kind])
            known = int((snap.configs["kind"] == kind).sum())
            new = sum(1 for c in cids if c not in present)
            pages = max(1, math.ceil((known + new) / _PAGE))
            if pages < len(cids):
                tasks.append(pool.submit(_pick, resource, set(cids), bar, pool.cancel))
            else:
                tasks.extend(pool.submit(_get_or_none, resource, cid, bar) for cid in cids)
        for result in _results(tasks):
            if isinstance(result, list):
                out.extend(result)
            elif result is not None:
                out.append(result)
    return out


def _unknown_refs(
    snap: Snapshot, records: list[dict[str, Any]], unversioned: bool
) -> tuple[bool, bool]:
    if unversioned:
        return True, True
    deployment_ids = set(snap.deployments["id"].dropna().tolist())
    group_ids = set(snap.groups["id"].dropna().tolist()) | set(snap.configs["id"].tolist())
    deployments = groups = False
    for rec in records:
        for dep in rec.get("deployments") or []:
            deployments |= _id(dep) not in deployment_ids
        parents = (rec.get("parentDependencies") or {}).get("flags") or {}
        if isinstance(parents, Mapping):
            groups |= any(_id(p) not in group_ids for p in parents)
    return deployments, groups


def _pick(
    resource: Any, cids: set[str], bar: tqdm, cancel: threading.Event | None = None
) -> list[dict[str, Any]]:
    out = []
    for rec in _checked(resource.iter(include_archived=True), cancel):
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

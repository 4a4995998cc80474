"""The HTTP layer: the only code in expkit that sends requests.

One ``requests.Session`` per client, Bearer auth, JSON bodies (DELETE included), a timeout on
every request, retries with backoff and jitter, a client-side rate limit, cursor pagination,
and the translation of every failure into ``expkit.errors``.

Retries are driven by urllib3's ``Retry`` (its total count, ``status_forcelist`` and
history), but per call and one level above the adapter rather than mounted on it as
``HTTPAdapter(max_retries=...)``. Three reasons:

* the policy differs per call (a GET or PATCH may be repeated, a create or an index-based
  user removal must not), while an adapter applies one ``Retry`` to every method it allows;
* every attempt then passes the client-side rate limiter and is counted in ``request_count``
  (adapter-level retries would go around both);
* any adapter mounted on the session (a test double, a recorder) sees each attempt, so the
  behaviour that runs in production is the behaviour the tests exercise.

The mounted ``HTTPAdapter`` itself does no retries and has a pool of 32 connections, enough
for the 16 concurrent requests a snapshot makes. The wait before retry ``n`` is the server's
``Retry-After`` (seconds or an HTTP date) when it sends one, else ``backoff_factor * 2**(n-1)``
capped at ``backoff_max``, plus up to 25 % random jitter; the retries of one call stop when
``max_retries`` is spent or the next wait would pass ``max_retry_time`` seconds since the
first attempt.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json as jsonlib
import logging
import math
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from expkit.errors import ApiError, TransportError, ValidationError, error_for_status

__all__ = [
    "ENV_KEY",
    "ENV_REGION",
    "HttpClient",
    "RateLimiter",
    "resolve_base_url",
]

logger = logging.getLogger("expkit.http")

ENV_KEY = "AMPLITUDE_MANAGEMENT_API_KEY"
ENV_REGION = "AMPLITUDE_REGION"

REGIONS = ("us", "eu")
API_HOSTS = {
    "us": "https://experiment.amplitude.com",
    "eu": "https://experiment.eu.amplitude.com",
}
LEGACY_HOSTS = {
    "us": "https://management-api.experiment.amplitude.com",
    "eu": "https://management-api.experiment.eu.amplitude.com",
}

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_PAGE_SIZE = 1000
POOL_SIZE = 32
_USER_AGENT = "expkit/0.1.0 (+python-requests)"


class _Secret:
    """Holds the API key; its repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None) -> None:
        self._value = value or None

    def __bool__(self) -> bool:
        return self._value is not None

    def reveal(self) -> str | None:
        return self._value

    def __repr__(self) -> str:
        return "<secret>" if self._value else "<missing>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("the API key holder cannot be pickled")


class _BearerAuth(requests.auth.AuthBase):
    """Adds ``Authorization: Bearer`` to each request (kept off ``session.headers``)."""

    def __init__(self, secret: _Secret) -> None:
        self._secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._secret.reveal()}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(<secret>)"


class RateLimiter:
    """Thread-safe token bucket holding one token, refilled at ``rate`` per second.

    A bucket of one spaces requests evenly, at least ``1 / rate`` apart, so no window of one
    second sees more than ``rate`` requests, whatever the number of threads. Callers wait
    their turn under a lock and the next slot is counted from the moment the previous caller
    was actually released: a thread that wakes late pushes the following ones later instead
    of letting them bunch up behind it. Only the waiting is serialised; the requests
    themselves still run concurrently.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (isinstance(rate, int | float) and not isinstance(rate, bool)) or not (
            rate > 0 and math.isfinite(rate)
        ):
            raise ValidationError(
                f"rate_limit must be a positive number of requests per second, got {rate!r}.",
                field="rate_limit",
                value=rate,
                allowed="a number > 0, or None to disable",
            )
        self.rate = float(rate)
        self._interval = 1.0 / self.rate
        self._clock = clock
        self._sleep = sleep
        self._next = -math.inf
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Waits for the next slot; returns the seconds waited."""
        with self._lock:
            start = now = self._clock()
            if self._next > now:
                self._sleep(self._next - now)
                now = max(self._clock(), self._next)
            self._next = now + self._interval
        return now - start

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self.rate:g}/s)"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(
    base_url: str | None, region: str | None, *, hosts: Mapping[str, str] = API_HOSTS
) -> tuple[str, str | None]:
    """``(base_url, region)``: ``base_url`` if given (validated), else the region's host.

    The region comes from ``region=``, else ``AMPLITUDE_REGION``, else ``us``. Plain
    ``http://`` is accepted only for loopback hosts (127.0.0.0/8, ::1, localhost).
    """
    if region is None:
        region = os.environ.get(ENV_REGION) or None
    if region is not None:
        if not isinstance(region, str) or region.strip().lower() not in REGIONS:
            raise ValidationError(
                f"Unknown region {region!r} (from region= or {ENV_REGION}).",
                field="region",
                value=region,
                allowed=REGIONS,
            )
        region = region.strip().lower()
    if base_url is None:
        region = region or "us"
        return hosts[region], region
    if not isinstance(base_url, str) or not base_url.strip():
        raise ValidationError(
            f"base_url must be a URL string, got {base_url!r}.",
            field="base_url",
            value=base_url,
            allowed="https://host[:port], or http:// for 127.0.0.1 / ::1 / localhost",
        )
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationError(
            f"base_url {base_url!r} is not an http(s) URL.",
            field="base_url",
            value=base_url,
            allowed="https://host[:port], or http:// for 127.0.0.1 / ::1 / localhost",
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationError(
            f"base_url {parts.scheme}://{host} must not carry credentials, a query or a fragment.",
            field="base_url",
            value=f"{parts.scheme}://{host}",
            allowed="scheme://host[:port][/path]",
        )
    if parts.scheme == "http" and not _is_loopback(host):
        raise ValidationError(
            f"base_url {base_url!r} uses plain http on a non-loopback host; the API key would "
            "travel unencrypted. Use https, or http only for 127.0.0.1, ::1 or localhost.",
            field="base_url",
            value=base_url,
            allowed="https://..., or http://127.0.0.1 / http://[::1] / http://localhost",
        )
    return url, region


def _retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta seconds or an HTTP date), or None."""
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    when = _parse_date_header(text)
    if when is None:
        return None
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _parse_date_header(value: str | None) -> datetime | None:
    """An HTTP date (``Date``, ``Retry-After``) as a tz-aware UTC datetime, or None."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


class _StatusResponse:
    """The two things ``Retry.increment`` reads from a response, taken from a requests one."""

    def __init__(self, status: int) -> None:
        self.status = status

    def get_redirect_location(self) -> bool:
        return False


def _body_text(response: requests.Response) -> str:
    """The body as text: its declared charset, else UTF-8 (JSON's encoding, RFC 8259).

    requests reads ``text/*`` without a charset as ISO-8859-1 and guesses when there is no
    Content-Type, which garbles non-ASCII names in JSON served that way.
    """
    if "charset=" in response.headers.get("Content-Type", "").lower():
        return response.text
    try:
        return response.content.decode("utf-8")
    except UnicodeDecodeError:
        return response.text


def _parse_success(response: requests.Response) -> Any:
    """JSON, the text ``OK`` (any case), or None for an empty body."""
    text = _body_text(response)
    if not text.strip():
        return None
    stripped = text.strip()
    if stripped.lower() == "ok":
        return "OK"
    content_type = response.headers.get("Content-Type", "")
    if "json" in content_type or stripped[:1] in '{["' or stripped[:1].isdigit():
        try:
            return jsonlib.loads(stripped)
        except ValueError:
            if "json" in content_type:
                raise
    return stripped


def _normalise_cursor(cursor: Any) -> str | None:
    """``nextCursor`` as the string to send back, or None when there is no next page."""
    if cursor is None or isinstance(cursor, bool):
        return None
    if isinstance(cursor, float) and cursor.is_integer():
        cursor = int(cursor)
    text = str(cursor).strip()
    return text or None


def _is_transient(exc: requests.RequestException) -> bool:
    """Whether another attempt may succeed: a dropped or refused connection, a timeout.

    Certificate failures, malformed URLs or headers and undecodable bodies fail the same
    way every time, so they are raised at once.
    """
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(
        exc,
        requests.ConnectionError | requests.Timeout | requests.exceptions.ChunkedEncodingError,
    )


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class HttpClient:
    """Sends requests for one client: auth, retries, rate limit, errors, pagination."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float | tuple[float, float] = 30.0,
        max_retries: int = 5,
        rate_limit: float | None = 100.0,
        session: requests.Session | None = None,
        backoff_factor: float = 0.5,
        backoff_max: float = 30.0,
        backoff_jitter: float = 0.25,
        max_retry_time: float = 120.0,
        key_hint: str = ENV_KEY,
    ) -> None:
        _check_timeout(timeout)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValidationError(
                f"max_retries must be a non-negative integer, got {max_retries!r}.",
                field="max_retries",
                value=max_retries,
                allowed="an int >= 0",
            )
        for name, value in (
            ("backoff_factor", backoff_factor),
            ("backoff_max", backoff_max),
            ("backoff_jitter", backoff_jitter),
            ("max_retry_time", max_retry_time),
        ):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or value < 0
                or not math.isfinite(value)
            ):
                raise ValidationError(
                    f"{name} must be a non-negative number of seconds, got {value!r}.",
                    field=name,
                    value=value,
                    allowed="a finite number >= 0",
                )
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_time = float(max_retry_time)
        self._backoff_factor = float(backoff_factor)
        self._backoff_max = float(backoff_max)
        self._backoff_jitter = float(backoff_jitter)
        self._secret = _Secret(_clean_key(api_key, key_hint))
        self._key_hint = key_hint
        self._auth = _BearerAuth(self._secret)
        self.rate_limiter = RateLimiter(rate_limit) if rate_limit is not None else None
        self._retry = Retry(
            total=max_retries,
            connect=None,
            read=None,
            redirect=0,
            status=None,
            other=None,
            # the caller decides per call whether the method may repeat
            allowed_methods=None,
            status_forcelist=RETRY_STATUSES,
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self.session = session
        self._headers = {
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        }
        self._lock = threading.Lock()
        self._request_count = 0
        self._server_time: datetime | None = None

    @property
    def request_count(self) -> int:
        """Requests sent so far, retries included."""
        return self._request_count

    @property
    def server_time(self) -> datetime | None:
        """The ``Date`` header of the most recent response, tz-aware UTC, or None."""
        return self._server_time

    @property
    def has_key(self) -> bool:
        return bool(self._secret)

    def __repr__(self) -> str:
        return f"HttpClient(base_url={self.base_url!r})"

    def close(self) -> None:
        """Closes the session's pooled connections."""
        self.session.close()

    def _missing_key_error(self) -> ValidationError:
        return ValidationError(
            "No Amplitude Management API key: pass Client(api_key=...) or set the "
            f"{self._key_hint} environment variable (and {ENV_REGION}=us|eu for the region). "
            "Create keys from the 'Management API' link in the Experiment sidebar.",
            field="api_key",
            value=None,
            allowed=f"a Management API key, from api_key= or {self._key_hint}",
        )

    def url_for(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """The full URL for ``path`` (relative to ``base_url``) and query ``params``."""
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params, doseq=True)
        return url

    def _send_once(
        self, method: str, url: str, params: dict[str, Any] | None, json: Any
    ) -> requests.Response:
        if self.rate_limiter is not None:
            self.rate_limiter.acquire()
        with self._lock:
            self._request_count += 1
        kwargs: dict[str, Any] = {
            "params": params,
            "headers": self._headers,
            "auth": self._auth,
            "timeout": self.timeout,
            "allow_redirects": False,
        }
        if json is not None:
            kwargs["json"] = json
        return self.session.request(method, url, **kwargs)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        retry: bool = True,
    ) -> Any:
        """Sends one request; returns parsed JSON, the text ``"OK"``, or None (empty body).

        ``path`` is relative to ``base_url`` and starts with ``/``. With ``retry=False`` the
        request is sent exactly once (creates, index-based deletes).
        """
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValidationError(
                f"path must start with '/', got {path!r}.",
                field="path",
                value=path,
                allowed="a path relative to base_url, e.g. '/api/1/flags'",
            )
        if not self._secret:
            raise self._missing_key_error()
        method = method.upper()
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None} or None
        url = self.base_url + path
        shown_url = self.url_for(path, query)
        retry_state: Retry | None = self._retry.new() if retry else None
        attempts = 0
        started = time.monotonic()
        while True:
            attempts += 1
            t0 = time.monotonic()
            try:
                response = self._send_once(method, url, query, json)
            except requests.exceptions.RetryError as exc:
                # an injected session whose adapter retries by itself ran out of attempts
                # on error statuses: a response did come back, so this is an ApiError
                raise self._adapter_retry_error(method, shown_url, exc, url) from exc
            except requests.RequestException as exc:
                delay = self._next_delay(
                    retry_state if _is_transient(exc) else None,
                    method,
                    shown_url,
                    started,
                    error=exc,
                    response=None,
                )
                if delay is None:
                    raise self._transport_error(method, shown_url, exc, attempts) from exc
                retry_state = delay[1]
                logger.info(
                    "%s %s failed (%s); retry %d in %.2fs",
                    method,
                    shown_url,
                    type(exc).__name__,
                    attempts,
                    delay[0],
                )
                time.sleep(delay[0])
                continue
            self._note_date(response)
            elapsed_ms = (time.monotonic() - t0) * 1000
            logger.debug(
                "%s %s -> %d (%.0f ms)", method, shown_url, response.status_code, elapsed_ms
            )
            if response.status_code in RETRY_STATUSES:
                delay = self._next_delay(
                    retry_state, method, shown_url, started, error=None, response=response
                )
                if delay is not None:
                    retry_state = delay[1]
                    logger.info(
                        "%s %s returned %d; retry %d in %.2fs",
                        method,
                        shown_url,
                        response.status_code,
                        attempts,
                        delay[0],
                    )
                    response.close()
                    time.sleep(delay[0])
                    continue
            if response.status_code >= 300:
                note = None
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                if retry and retry_after is not None and response.status_code in RETRY_STATUSES:
                    asked = f"The server asked to wait {retry_after:g} s (Retry-After); expkit"
                    if time.monotonic() - started + retry_after > self.max_retry_time:
                        note = (
                            f"{asked} gives up when the next wait would pass "
                            f"max_retry_time={self.max_retry_time:g} s."
                        )
                    else:
                        note = f"{asked} had spent its retries (max_retries={self.max_retries})."
                raise self._api_error(method, shown_url, response, attempts, note=note)
            try:
                return _parse_success(response)
            except ValueError as exc:
                raise ApiError(
                    response.status_code,
                    method,
                    shown_url,
                    self._redact(_body_text(response)),
                    attempts=attempts,
                    hint="the server sent a body that is not valid JSON.",
                ) from exc

    def _next_delay(
        self,
        retry_state: Retry | None,
        method: str,
        url: str,
        started: float,
        *,
        error: Exception | None,
        response: requests.Response | None,
    ) -> tuple[float, Retry] | None:
        """``(seconds to wait, next Retry)`` if another attempt is allowed, else None."""
        if retry_state is None:
            return None
        if response is not None:
            status = response.status_code
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            if not retry_state.is_retry(method, status, has_retry_after=retry_after is not None):
                return None
            shim: Any = _StatusResponse(status)
        else:
            retry_after = None
            shim = None
        try:
            new_state = retry_state.increment(method, url, response=shim, error=error)
        except MaxRetryError:
            return None
        wait = retry_after if retry_after is not None else self._backoff(len(new_state.history))
        if time.monotonic() - started + wait > self.max_retry_time:
            return None
        return wait, new_state

    def _backoff(self, retry_number: int) -> float:
        # urllib3's get_backoff_time() waits 0 s before the first retry and adds jitter in
        # absolute seconds; a rate-limited API wants a pause from the first retry on, with
        # jitter proportional to the wait so that concurrent clients spread out.
        base = min(self._backoff_max, self._backoff_factor * 2 ** (retry_number - 1))
        return base * (1.0 + random.uniform(0.0, self._backoff_jitter))

    def _note_date(self, response: requests.Response) -> None:
        when = _parse_date_header(response.headers.get("Date"))
        if when is not None:
            with self._lock:
                self._server_time = when

    def _api_error(
        self,
        method: str,
        url: str,
        response: requests.Response,
        attempts: int,
        *,
        note: str | None = None,
    ) -> ApiError:
        cls = error_for_status(response.status_code)
        request_id = (
            response.headers.get("X-Request-Id")
            or response.headers.get("X-Amzn-RequestId")
            or response.headers.get("X-Amz-Request-Id")
        )
        try:
            body = _body_text(response)
        except Exception:
            body = ""
        body = self._redact(body)
        hint = None
        if cls is ApiError and 300 <= response.status_code < 400:
            hint = "the API does not redirect; check base_url."
        elif response.status_code == 405:
            hint = (
                "this object cannot be edited through the API (Web Experimentation and "
                "Guides and Surveys experiments return 405)."
            )
        if note:
            hint = f"{hint or cls.hint or ''} {note}".strip()
        return cls(
            response.status_code,
            method,
            url,
            body,
            attempts=attempts,
            request_id=request_id,
            hint=hint,
        )

    def _adapter_retry_error(
        self, method: str, url: str, exc: requests.exceptions.RetryError, raw_url: str
    ) -> ApiError:
        reason = exc.args[0].reason if exc.args and isinstance(exc.args[0], MaxRetryError) else exc
        found = re.search(r"too many (\d{3}) error responses", str(reason))
        status = int(found.group(1)) if found else 0
        adapter_retry = getattr(self.session.get_adapter(raw_url), "max_retries", None)
        total = getattr(adapter_retry, "total", None)
        attempts = total + 1 if isinstance(total, int) and not isinstance(total, bool) else 1
        cls = error_for_status(status) if status else ApiError
        return cls(
            status,
            method,
            url,
            self._redact(str(reason)),
            attempts=attempts,
            hint=None if status else "the session's adapter gave up retrying.",
        )

    def _redact(self, text: str) -> str:
        key = self._secret.reveal()
        if key and key in text:
            text = text.replace(key, "<redacted>")
        return text

    def _transport_error(
        self, method: str, url: str, exc: requests.RequestException, attempts: int
    ) -> TransportError:
        if isinstance(exc, requests.Timeout):
            what = f"timed out (timeout={self.timeout!r}s)"
        elif isinstance(exc, requests.ConnectionError):
            what = "could not connect or the connection dropped"
        else:
            what = f"failed ({type(exc).__name__})"
        detail = self._redact(str(exc))
        if len(detail) > 300:
            detail = detail[:300] + "…"
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return TransportError(
            f"{method} {url} {what}{tries}: {detail}. HINT: check the network and base_url "
            f"({self.base_url}); raise Client(timeout=...) for slow links."
        )

    def paginate(
        self,
        path: str,
        items_key: str,
        *,
        params: Mapping[str, Any] | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Lazily yields every item of a cursor-paginated list, following ``nextCursor``.

        ``nextCursor`` may be a number, a numeric (or opaque) string, ``""``, ``null`` or
        missing; the last three end the list, and so does a cursor seen before.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValidationError(
                f"limit must be an integer from 1 to {MAX_PAGE_SIZE}, got {limit!r}.",
                field="limit",
                value=limit,
                allowed=f"1..{MAX_PAGE_SIZE} (the API caps pages at {MAX_PAGE_SIZE})",
            )
        return self._pages(path, items_key, dict(params or {}), limit)

    def _pages(
        self, path: str, items_key: str, params: dict[str, Any], limit: int
    ) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            query = {**params, "limit": limit}
            if cursor is not None:
                query["cursor"] = cursor
            body = self.request("GET", path, params=query)
            if isinstance(body, list):
                yield from body
                return
            items = body.get(items_key) if isinstance(body, dict) else None
            shape_ok = isinstance(body, dict) and (
                isinstance(items, list)
                or (items is None and not set(body) - {items_key, "nextCursor"})
            )
            if not shape_ok:
                # a page in another shape is an error: reading it as empty would lose data
                raise ApiError(
                    200,
                    "GET",
                    self.url_for(path, query),
                    self._redact(str(body))[:200],
                    hint=f"expected a JSON object with a list under {items_key!r}.",
                )
            yield from items or []
            next_cursor = _normalise_cursor(body.get("nextCursor"))
            if next_cursor is None:
                return
            if next_cursor in seen or next_cursor == cursor:
                logger.warning(
                    "GET %s: nextCursor %r repeated; stopping to avoid a loop", path, next_cursor
                )
                return
            seen.add(next_cursor)
            cursor = next_cursor


def _clean_key(api_key: str | None, key_hint: str) -> str | None:
    """The key without surrounding whitespace (a pasted newline); refused if unusable.

    A key with a space, a control or a non-ASCII character inside cannot travel in a header:
    http.client would raise a plain ValueError that prints it. The error here never does.
    """
    key = api_key.strip() if isinstance(api_key, str) else api_key
    if not key:
        return None
    if not all(ch.isascii() and ch.isprintable() and not ch.isspace() for ch in key):
        raise ValidationError(
            f"The API key (from api_key= or {key_hint}) contains a space, a control or a "
            "non-ASCII character; copy the key again from the 'Management API' page.",
            field="api_key",
            value="<hidden>",
            allowed="printable ASCII characters without spaces",
        )
    return key


def _check_timeout(timeout: Any) -> None:
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    ok = 1 <= len(values) <= 2 and all(
        isinstance(v, int | float) and not isinstance(v, bool) and v > 0 and math.isfinite(v)
        for v in values
    )
    if not ok:
        raise ValidationError(
            f"timeout must be a positive number of seconds (or a (connect, read) pair), "
            f"got {timeout!r}.",
            field="timeout",
            value=timeout,
            allowed="a number > 0, or (connect, read)",
        )

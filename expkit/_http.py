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

import base64
import email.utils
import ipaddress
import json as jsonlib
import logging
import math
import os
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, quote_plus, urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NameResolutionError
from urllib3.util.retry import Retry

from expkit._request import Request, Settings
from expkit.errors import (
    ApiError,
    ExpkitError,
    PaginationError,
    TransportError,
    ValidationError,
    error_for_status,
)

__all__ = [
    "ENV_KEY",
    "ENV_REGION",
    "HttpClient",
    "RateLimiter",
    "Redactor",
    "check_settings",
    "path_segment",
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

# 5xx statuses retried within max_retries; 429 has its own, time-bounded budget
SERVER_RETRY_STATUSES = frozenset({502, 503, 504})
RETRY_STATUSES = SERVER_RETRY_STATUSES | {429}
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
    """Thread-safe token bucket holding one token, refilled at ``rate`` per second; 429-aware.

    A bucket of one spaces requests evenly, at least ``1 / rate`` apart, so no window of one
    second sees more than ``rate`` requests, whatever the number of threads. Callers wait
    their turn under a lock and the next slot is counted from the moment the previous caller
    was actually released: a thread that wakes late pushes the following ones later instead
    of letting them bunch up behind it. Only the waiting is serialised; the requests
    themselves still run concurrently.

    The rate adapts as TCP's congestion window does (AIMD): ``throttle()`` (a 429) multiplies
    it by ``decrease`` (not below ``min_rate``) and, with a ``Retry-After``, holds every
    thread until that many seconds have passed; each ``recover()`` (a success) adds
    ``increase * max_rate`` back, up to the configured ``max_rate``. As TCP cuts its window
    once per loss event, not once per lost packet, a 429 answering a request sent before
    the last cut (``sent_at``) does not cut again: eight threads refused by one burst halve
    the rate once, not eight times down to ``min_rate``.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        decrease: float = 0.5,
        increase: float = 0.05,
        min_rate: float = 1.0,
    ) -> None:
        if not _finite(rate) or not rate > 0:
            raise ValidationError(
                f"rate_limit must be a positive number of requests per second, got {rate!r}.",
                field="rate_limit",
                value=rate,
                allowed="a number > 0, or None to disable",
            )
        self.max_rate = float(rate)
        self.rate = float(rate)
        self._decrease = decrease
        self._step = increase * self.max_rate
        self._min_rate = min(min_rate, self.max_rate)
        self._clock = clock
        self._sleep = sleep
        self._next = -math.inf
        self._last_cut = -math.inf
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Waits for the next slot; returns the seconds waited."""
        with self._lock:
            start = now = self._clock()
            if self._next > now:
                self._sleep(self._next - now)
                now = max(self._clock(), self._next)
            self._next = now + 1.0 / self.rate
        return now - start

    def throttle(self, retry_after: float | None = None, *, sent_at: float | None = None) -> None:
        """The server said 429: lower the rate, and pause everyone for ``retry_after`` s.

        ``sent_at`` (this limiter's clock) is when the refused request went out; a request
        sent before the last cut was sent at the old rate, so its 429 does not cut again.
        """
        with self._lock:
            if sent_at is None or sent_at >= self._last_cut:
                self.rate = max(self._min_rate, self.rate * self._decrease)
                self._last_cut = self._clock()
            if retry_after is not None:
                self._next = max(self._next, self._clock() + retry_after)

    def recover(self) -> None:
        """A request succeeded: climb back towards ``max_rate`` by one step."""
        if self.rate >= self.max_rate:
            return
        with self._lock:
            self.rate = min(self.max_rate, self.rate + self._step)

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self.rate:g}/s, max_rate={self.max_rate:g}/s)"


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
    """Sends requests for one client: auth, retries, rate limit, errors, pagination.

    ``settings`` (an ``expkit.Settings``) holds every timeout, retry, rate-limit and paging
    option; ``clock`` and ``sleep`` are injectable so tests drive retries and the limiter
    deterministically.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        settings: Settings | None = None,
        session: requests.Session | None = None,
        key_hint: str = ENV_KEY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        settings = settings if settings is not None else Settings()
        check_settings(settings)
        self.settings = settings
        self.base_url = base_url
        self._clock = clock
        self._sleep = sleep
        self._secret = _Secret(_clean_key(api_key, key_hint))
        self._redactor = Redactor(self._secret.reveal())
        self._key_hint = key_hint
        self._auth = _BearerAuth(self._secret)
        self.rate_limiter = (
            RateLimiter(
                settings.rate_limit,
                clock=clock,
                sleep=sleep,
                decrease=settings.rate_limit_decrease,
                increase=settings.rate_limit_increase,
                min_rate=settings.min_rate,
            )
            if settings.rate_limit is not None
            else None
        )
        # urllib3's Retry counts the 5xx and dropped-connection retries of one call (its total,
        # status_forcelist and history). 429s are kept out of it on purpose: they have their
        # own budget, bounded by the total wait (max_retry_time) rather than by a count, and
        # they must slow the shared limiter down, which Retry (one call's state) cannot do.
        self._retry = Retry(
            total=settings.max_retries,
            connect=None,
            read=None,
            redirect=0,
            status=None,
            other=None,
            # the caller decides per call whether the method may repeat
            allowed_methods=None,
            status_forcelist=SERVER_RETRY_STATUSES,
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

    # settings, read through ---------------------------------------------------------------

    @property
    def timeout(self) -> float | tuple[float, float]:
        return self.settings.timeout

    @property
    def max_retries(self) -> int:
        return self.settings.max_retries

    @max_retries.setter
    def max_retries(self, value: int) -> None:
        self.settings = self.settings.replace(max_retries=value)
        check_settings(self.settings)
        self._retry = self._retry.new(total=value)

    @property
    def max_retry_time(self) -> float:
        return float(self.settings.max_retry_time)

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

    def __reduce__(self) -> Any:
        raise TypeError("an HttpClient holds the API key and cannot be pickled")

    def close(self) -> None:
        """Closes the session's pooled connections."""
        self.session.close()

    def redact(self, text: str) -> str:
        """``text`` with the key (any case, base64, URL-quoted) replaced by ``<redacted>``."""
        return self._redactor(text)

    _redact = redact

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
        with self._lock:
            self._request_count += 1
        kwargs: dict[str, Any] = {
            "params": params,
            "headers": self._headers,
            "auth": self._auth,
            "timeout": self.settings.timeout,
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
        """Builds a ``Request`` and sends it (see ``send``)."""
        if not isinstance(method, str):
            raise ValidationError(
                f"method must be an HTTP method name, got {method!r}.",
                field="method",
                value=method,
                allowed=("GET", "POST", "PATCH", "PUT", "DELETE"),
            )
        return self.send(Request(method, path, json, params, retry=retry))

    def send(self, request: Request, *, retry: bool | None = None) -> Any:
        """Sends ``request``; returns parsed JSON, the text ``"OK"``, or None (empty body).

        ``request.path`` is relative to ``base_url`` and starts with ``/``. ``retry`` (default:
        ``request.retry``) allows repeats after a 5xx or a lost connection; with False the
        request is sent once, except after a 429 (the server refused it without acting on it).
        ``Settings(max_retries=0)`` turns every retry off, 429s included.
        """
        path = request.path
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValidationError(
                f"path must start with '/', got {path!r}.",
                field="path",
                value=path,
                allowed="a path relative to base_url, e.g. '/api/1/flags'",
            )
        if not self._secret:
            raise self._missing_key_error()
        allow = request.retry if retry is None else retry
        method = request.method
        query = _wire_query(request.params) or None
        url = self.base_url + path
        shown_url = self.url_for(path, query)
        retry_state: Retry | None = self._retry.new() if allow else None
        throttled = 0  # 429s answered so far in this call
        attempts = 0
        started = self._clock()
        while True:
            attempts += 1
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            t0 = self._clock()  # when the request goes out (after the limiter's wait)
            failure: requests.RequestException | None = None
            try:
                response = self._send_once(method, url, query, request.body)
            except requests.RequestException as exc:
                failure = exc
            if failure is not None:
                # raised outside the except block, from a sanitised copy: the original
                # exception keeps the prepared request (its Authorization header) and must
                # not ride along in __context__ / __cause__ or a pickle
                error, wait = self._after_failure(
                    failure, method, shown_url, url, attempts, retry_state, started
                )
                if error is not None:
                    raise error from _sanitised(failure, self._redactor)
                assert wait is not None
                retry_state = wait[1]
                logger.info(
                    "%s %s failed (%s); retry %d in %.2fs",
                    method,
                    shown_url,
                    type(failure).__name__,
                    attempts,
                    wait[0],
                )
                self._sleep(wait[0])
                continue
            self._note_date(response)
            status = response.status_code
            elapsed_ms = (self._clock() - t0) * 1000
            logger.debug("%s %s -> %d (%.0f ms)", method, shown_url, status, elapsed_ms)
            if status == 429:
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                if self.rate_limiter is not None:
                    self.rate_limiter.throttle(retry_after, sent_at=t0)
                throttled += 1
                wait_429 = retry_after if retry_after is not None else self._backoff(throttled)
                if (
                    self.settings.max_retries > 0
                    and self._clock() - started + wait_429 <= self.settings.max_retry_time
                ):
                    logger.info(
                        "%s %s returned 429; retry %d in %.2fs",
                        method,
                        shown_url,
                        attempts,
                        wait_429,
                    )
                    response.close()
                    self._sleep(wait_429)
                    continue
                raise self._api_error(
                    method,
                    shown_url,
                    response,
                    attempts,
                    note=self._gave_up_note(retry_after, started),
                )
            if status in SERVER_RETRY_STATUSES:
                delay = self._next_delay(
                    retry_state, method, shown_url, started, error=None, response=response
                )
                if delay is not None:
                    retry_state = delay[1]
                    logger.info(
                        "%s %s returned %d; retry %d in %.2fs",
                        method,
                        shown_url,
                        status,
                        attempts,
                        delay[0],
                    )
                    response.close()
                    self._sleep(delay[0])
                    continue
            if status >= 300:
                note = None
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                if allow and retry_after is not None and status in SERVER_RETRY_STATUSES:
                    note = self._gave_up_note(retry_after, started)
                raise self._api_error(method, shown_url, response, attempts, note=note)
            if self.rate_limiter is not None:
                self.rate_limiter.recover()
            bad_json: ValueError | None = None
            try:
                return _parse_success(response)
            except ValueError as exc:
                bad_json = exc
            raise ApiError(
                status,
                method,
                shown_url,
                _excerpt(self._redactor(_body_text(response))),
                attempts=attempts,
                hint="the server sent a body that is not valid JSON.",
            ) from _sanitised(bad_json, self._redactor)

    def _gave_up_note(self, retry_after: float | None, started: float) -> str | None:
        if retry_after is None:
            if self.settings.max_retries == 0:
                return "max_retries=0 turns retries off."
            return (
                f"expkit gives up on 429s when the next wait would pass "
                f"max_retry_time={self.settings.max_retry_time:g} s."
            )
        asked = f"The server asked to wait {retry_after:g} s (Retry-After); expkit"
        if self.settings.max_retries == 0:
            return f"{asked} had spent its retries (max_retries=0)."
        if self._clock() - started + retry_after > self.settings.max_retry_time:
            return (
                f"{asked} gives up when the next wait would pass "
                f"max_retry_time={self.settings.max_retry_time:g} s."
            )
        return f"{asked} had spent its retries (max_retries={self.settings.max_retries})."

    def _after_failure(
        self,
        exc: requests.RequestException,
        method: str,
        shown_url: str,
        raw_url: str,
        attempts: int,
        retry_state: Retry | None,
        started: float,
    ) -> tuple[ExpkitError | None, tuple[float, Retry] | None]:
        """The error to raise for a failed attempt, or the wait before the next one."""
        if isinstance(exc, requests.exceptions.RetryError):
            # an injected session whose adapter retries by itself ran out of attempts
            # on error statuses: a response did come back, so this is an ApiError
            return self._adapter_retry_error(method, shown_url, exc, raw_url), None
        fatal = _fatal_reason(exc)
        if fatal is not None:
            host = urlsplit(raw_url).hostname or raw_url
            return (
                TransportError(
                    f"{method} {shown_url} failed: {fatal.format(host=host)} "
                    f"(not retried). HINT: check the network, the host name in base_url "
                    f"({self.base_url}) and the system's certificates."
                ),
                None,
            )
        delay = self._next_delay(
            retry_state if _is_transient(exc) else None,
            method,
            shown_url,
            started,
            error=exc,
            response=None,
        )
        if delay is None:
            return self._transport_error(method, shown_url, exc, attempts), None
        return None, delay

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
        if self._clock() - started + wait > self.settings.max_retry_time:
            return None
        return wait, new_state

    def _backoff(self, retry_number: int) -> float:
        # urllib3's get_backoff_time() waits 0 s before the first retry and adds jitter in
        # absolute seconds; a rate-limited API wants a pause from the first retry on, with
        # jitter proportional to the wait so that concurrent clients spread out.
        s = self.settings
        base = min(float(s.backoff_max), float(s.backoff_factor) * 2.0 ** (retry_number - 1))
        return base * (1.0 + random.uniform(0.0, float(s.backoff_jitter)))

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
        body = self._redactor(body)
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
            self._redactor(str(reason)),
            attempts=attempts,
            hint=None if status else "the session's adapter gave up retrying.",
        )

    def _transport_error(
        self, method: str, url: str, exc: requests.RequestException, attempts: int
    ) -> TransportError:
        if isinstance(exc, requests.Timeout):
            what = f"timed out (timeout={self.settings.timeout!r}s)"
        elif isinstance(exc, requests.ConnectionError):
            what = "could not connect or the connection dropped"
        else:
            what = f"failed ({type(exc).__name__})"
        detail = _excerpt(self._redactor(_readable(exc)), 300)
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return TransportError(
            f"{method} {url} {what}{tries}: {detail}. HINT: check the network and base_url "
            f"({self.base_url}); raise Client(timeout=...) for slow links."
        )

    # replies of a given shape ----------------------------------------------------------------

    def expect_object(self, body: Any, what: str, path: str = "") -> dict[str, Any]:
        """``body`` if it is a JSON object, else ``ExpkitError`` with a redacted excerpt."""
        if isinstance(body, dict):
            return body
        raise ExpkitError(
            f"{what}{_at(self, path)}: expected a JSON object, got "
            f"{_excerpt(self._redactor(_show(body)))!r}."
        )

    def expect_list(self, body: Any, what: str, path: str = "") -> list[Any]:
        """``body`` if it is a JSON array (None reads as empty), else ``ExpkitError``."""
        if body is None:
            return []
        if isinstance(body, list):
            return body
        raise ExpkitError(
            f"{what}{_at(self, path)}: expected a JSON array, got "
            f"{_excerpt(self._redactor(_show(body)))!r}."
        )

    def get_object(self, request: Request, what: str) -> dict[str, Any]:
        """Sends ``request``; its reply, checked to be a JSON object."""
        return self.expect_object(self.send(request), what, request.path)

    def get_list(self, request: Request, what: str) -> list[Any]:
        """Sends ``request``; its reply, checked to be a JSON array."""
        return self.expect_list(self.send(request), what, request.path)

    # pagination -----------------------------------------------------------------------------

    def paginate(
        self,
        path: str,
        items_key: str,
        *,
        params: Mapping[str, Any] | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Lazily yields every item of a cursor-paginated list (see ``pages``)."""
        pages = self.pages(path, items_key, params=params, limit=limit)
        return (item for page in pages for item in page)

    def pages(
        self,
        path: str,
        items_key: str,
        *,
        params: Mapping[str, Any] | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> Iterator[list[dict[str, Any]]]:
        """Lazily yields a cursor-paginated list page by page, each a list of objects.

        The one paginator of expkit, guarded against a server that misbehaves:

        * ``nextCursor`` may be a number, a numeric (or opaque) string, ``""``, ``null`` or
          missing; the last three end the list;
        * a cursor seen before raises ``PaginationError`` naming the endpoint and the cursor
          (before that page is fetched again: no duplicates reach the caller);
        * more than ``Settings.max_pages`` pages raises ``PaginationError``;
        * a page that is not an object with a list of objects under ``items_key`` (or a
          bare list of objects) raises ``ApiError`` naming the endpoint, with a short
          redacted excerpt of the page.
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
    ) -> Iterator[list[dict[str, Any]]]:
        seen: set[str] = set()
        cursor: str | None = None
        max_pages = self.settings.max_pages
        fetched = 0
        while True:
            if fetched >= max_pages:
                raise PaginationError(
                    f"GET {self.url_for(path)}: more than max_pages={max_pages} pages "
                    f"(last cursor {cursor!r}); stopped. HINT: raise Client(max_pages=...) "
                    "if the list really is that long, else the server keeps handing out "
                    "new cursors.",
                    endpoint=path,
                    cursor=cursor,
                )
            query = {**params, "limit": limit}
            if cursor is not None:
                query["cursor"] = cursor
            body = self.send(Request("GET", path, params=query))
            fetched += 1
            items, next_cursor = self._check_page(body, path, items_key, query)
            yield items
            if next_cursor is None:
                return
            if next_cursor in seen or next_cursor == cursor:
                raise PaginationError(
                    f"GET {self.url_for(path)}: the server repeated the cursor "
                    f"{next_cursor!r}; stopped before reading any page twice (the "
                    f"{fetched} pages read are complete, the rest of the list is not).",
                    endpoint=path,
                    cursor=next_cursor,
                )
            seen.add(next_cursor)
            cursor = next_cursor

    def _check_page(
        self, body: Any, path: str, items_key: str, query: Mapping[str, Any]
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The page's objects and its next cursor, or ApiError for a page in another shape."""
        if isinstance(body, list):
            items: Any = body
            next_cursor = None
        elif isinstance(body, dict):
            items = body.get(items_key)
            if items is None and not set(body) - {items_key, "nextCursor"}:
                items = []
            next_cursor = _normalise_cursor(body.get("nextCursor"))
        else:
            items = None
            next_cursor = None
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            # a page in another shape is an error: reading it as empty would lose data
            raise ApiError(
                200,
                "GET",
                self.url_for(path, _wire_query(query)),
                _excerpt(self._redactor(_show(body))),
                hint=f"expected a JSON object with a list of objects under {items_key!r}.",
            )
        return items, next_cursor


class Redactor:
    """Replaces the API key in text: as given, in any letter case, URL-quoted, and base64.

    Servers and proxies echo headers in odd ways: ``Authorization: BEARER KEY``, a base64 dump
    of the raw request, a URL-encoded copy. The base64 form of the key depends on where it
    sits in the encoded bytes (three alignments), so each alignment's stable middle is
    searched for and the whole base64 run holding it is replaced.
    """

    __slots__ = ("_patterns",)

    def __init__(self, key: str | None) -> None:
        self._patterns: list[re.Pattern[str]] = []
        if not key:
            return
        plain = {key, quote(key, safe=""), quote_plus(key)}
        self._patterns.append(
            re.compile("|".join(re.escape(p) for p in sorted(plain, key=len, reverse=True)), re.I)
        )
        raw = key.encode()
        cores: set[str] = set()
        for offset in range(3):
            encoded = base64.b64encode(b"\0" * offset + raw).decode()
            first = 1 if offset else 0  # the first group mixes in the prefix
            last = (offset + len(raw)) // 3  # groups past this one mix in the suffix
            core = encoded[4 * first : 4 * last]
            if len(core) >= 8:
                cores.add(core)
                cores.add(core.replace("+", "-").replace("/", "_"))
        if cores:
            alternatives = "|".join(re.escape(c) for c in sorted(cores))
            self._patterns.append(
                re.compile(rf"[A-Za-z0-9+/_-]*(?:{alternatives})[A-Za-z0-9+/_=-]*")
            )

    def __call__(self, text: str) -> str:
        for pattern in self._patterns:
            text = pattern.sub("<redacted>", text)
        return text

    def __repr__(self) -> str:
        return "Redactor(<secret>)"

    def __reduce__(self) -> Any:
        raise TypeError("a Redactor holds the API key and cannot be pickled")


def _sanitised(exc: BaseException, redact: Callable[[str], str]) -> BaseException:
    """A copy of ``exc`` with a redacted message and no request, response or chain.

    requests exceptions keep the prepared request (``Authorization`` header included), and
    a ``__context__`` may hold more; the copy keeps only the type and the redacted text.
    """
    message = redact(str(exc))
    copy: BaseException
    try:
        copy = type(exc)(message)
    except Exception:
        copy = (
            requests.RequestException(message)
            if isinstance(exc, requests.RequestException)
            else ExpkitError(message)
        )
    if isinstance(copy, requests.RequestException):
        copy.request = None
        copy.response = None
    copy.__cause__ = None
    copy.__context__ = None
    copy.__suppress_context__ = True
    return copy


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: args, urllib3's ``reason``, the cause/context chain."""
    stack: list[Any] = [exc]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        stack.extend(item.args)
        stack.append(getattr(item, "reason", None))
        stack.append(item.__cause__)
        stack.append(item.__context__)


def _fatal_reason(exc: BaseException) -> str | None:
    """A failure that another attempt cannot fix, as a sentence with ``{host}``, else None."""
    for cause in _causes(exc):
        if isinstance(cause, NameResolutionError | socket.gaierror):
            return "cannot resolve the host name {host!r} (DNS lookup failed)"
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError | requests.exceptions.SSLError):
            return "the TLS certificate of {host!r} could not be verified"
    return None


def _at(http: HttpClient, path: str) -> str:
    return f" (GET {http.url_for(path)})" if path else ""


def path_segment(value: Any, field: str) -> str:
    """A path segment: an id or key, URL-quoted (variant keys may hold spaces or '/')."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    # "." and ".." would be dropped from the URL path, sending the request to the parent
    if not isinstance(value, str) or not value.strip() or value in ("", ".", ".."):
        raise ValidationError(
            f"{field} must be a non-empty string other than '.' or '..', got {value!r}.",
            field=field,
            value=value,
            allowed="a non-empty string other than '.' or '..'",
        )
    return quote(value, safe="")


def _readable(exc: BaseException) -> str:
    """The innermost reason of a requests failure, without urllib3's object reprs."""
    text = str(exc)
    for cause in _causes(exc):
        if not isinstance(cause, requests.RequestException | MaxRetryError) and str(cause):
            text = str(cause)
    return re.sub(r"<[^<>]* object at 0x[0-9a-fA-F]+>:?\s*", "", text).strip() or text


def _excerpt(text: str, limit: int = 200) -> str:
    """A one-line excerpt of at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _show(body: Any) -> str:
    try:
        return body if isinstance(body, str) else jsonlib.dumps(body)[:2000]
    except (TypeError, ValueError):
        return repr(body)[:2000]


def _wire_query(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: _query_value(v) for k, v in (params or {}).items() if v is not None}


def check_settings(settings: Settings) -> None:
    """Raises ValidationError naming the first setting that is out of range."""
    if not isinstance(settings, Settings):
        raise ValidationError(
            f"settings must be an expkit.Settings, got {type(settings).__name__}.",
            field="settings",
            value=type(settings).__name__,
            allowed="expkit.Settings(...)",
        )
    _check_timeout(settings.timeout)
    for name in ("max_retries", "max_pages"):
        value = getattr(settings, name)
        low = 0 if name == "max_retries" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValidationError(
                f"{name} must be an integer >= {low}, got {value!r}.",
                field=name,
                value=value,
                allowed=f"an int >= {low}",
            )
    for name in ("backoff_factor", "backoff_max", "backoff_jitter", "max_retry_time"):
        value = getattr(settings, name)
        if not _finite(value) or value < 0:
            raise ValidationError(
                f"{name} must be a non-negative number of seconds, got {value!r}.",
                field=name,
                value=value,
                allowed="a finite number >= 0",
            )
    if settings.rate_limit is not None and (
        not _finite(settings.rate_limit) or settings.rate_limit <= 0
    ):
        raise ValidationError(
            f"rate_limit must be a positive number of requests per second, got "
            f"{settings.rate_limit!r}.",
            field="rate_limit",
            value=settings.rate_limit,
            allowed="a number > 0, or None to disable",
        )
    if not _finite(settings.rate_limit_decrease) or not 0 < settings.rate_limit_decrease <= 1:
        raise ValidationError(
            f"rate_limit_decrease must be in (0, 1], got {settings.rate_limit_decrease!r}.",
            field="rate_limit_decrease",
            value=settings.rate_limit_decrease,
            allowed="a fraction in (0, 1]",
        )
    for name in ("rate_limit_increase", "min_rate"):
        value = getattr(settings, name)
        if not _finite(value) or value <= 0:
            raise ValidationError(
                f"{name} must be a positive number, got {value!r}.",
                field=name,
                value=value,
                allowed="a finite number > 0",
            )


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


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

"""The exceptions expkit raises.

::

    ExpkitError
    ├── ValidationError(ExpkitError, ValueError)   bad input caught before any request
    ├── TransportError                              no response: timeout, connection, DNS, TLS
    ├── PaginationError                             a list's cursors loop or pass max_pages
    └── ApiError(status_code, method, url, body)    a response came back
        ├── BadRequestError 400
        ├── AuthenticationError 401
        ├── PermissionDeniedError 403
        ├── NotFoundError 404
        ├── RateLimitError 429
        └── ServerError 5xx

Lower-level errors (requests, urllib3) are translated once, in the HTTP layer, and raised
``from`` a sanitised copy of the original (its message redacted, its request, response and
chain dropped), so neither an error, nor its ``__cause__``/``__context__`` chain, nor its
pickle holds the API key. Messages say what happened, to what, and what to do next.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ExpkitError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "ValidationError",
    "error_for_status",
]


class ExpkitError(Exception):
    """Base class of every error expkit raises."""


class ValidationError(ExpkitError, ValueError):
    """Bad input, caught before any request was sent.

    ``field`` names the offending field, ``value`` is what was given and ``allowed``
    describes what is accepted.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        allowed: str | Iterable[Any] | None = None,
    ) -> None:
        if allowed is not None and not isinstance(allowed, str):
            allowed = ", ".join(repr(a) for a in allowed)
        self.field = field
        self.value = value
        self.allowed = allowed
        parts = [message]
        if allowed is not None and "allowed" not in message.lower():
            parts.append(f"Allowed: {allowed}.")
        super().__init__(" ".join(parts))


class TransportError(ExpkitError):
    """No response came back: a timeout, a refused or dropped connection."""


class PaginationError(ExpkitError):
    """A paginated list misbehaved: a cursor came back twice, or it passed ``max_pages``.

    ``endpoint`` is the list's path and ``cursor`` the cursor in question.
    """

    def __init__(self, message: str, *, endpoint: str, cursor: str | None = None) -> None:
        self.endpoint = endpoint
        self.cursor = cursor
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_error, (type(self), self.args, self.__dict__))


class ApiError(ExpkitError):
    """The server answered with an error status."""

    status_code: int | None = None
    hint: str | None = None

    def __init__(
        self,
        status_code: int,
        method: str,
        url: str,
        body: str = "",
        *,
        attempts: int = 1,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.method = method.upper()
        self.url = url
        self.body = body
        self.attempts = attempts
        self.request_id = request_id
        if hint is not None:
            self.hint = hint
        text = (body or "").strip()
        if len(text) > 500:
            text = text[:500] + "…"
        message = f"{self.method} {url} returned {status_code}"
        if text:
            message += f": {text}"
        if attempts > 1:
            message += f" (after {attempts} attempts)"
        if self.hint:
            message += f". HINT: {self.hint}"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # the default rebuilds from args (the message) alone, which __init__ cannot take;
        # rebuild from the message and the attributes as they are (multiprocessing pickles)
        return (_restore_error, (type(self), self.args, self.__dict__))


def _restore_error(
    cls: type[ExpkitError], args: tuple[Any, ...], state: dict[str, Any]
) -> ExpkitError:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class BadRequestError(ApiError):
    """400: the input is missing or invalid."""

    status_code = 400
    hint = "the server rejected the request body; its message names the field."


class AuthenticationError(ApiError):
    """401: the API key is invalid, revoked, or for another region."""

    status_code = 401
    hint = (
        "check AMPLITUDE_MANAGEMENT_API_KEY (a Management API key, not a deployment key) "
        "and AMPLITUDE_REGION (us or eu): a key works only in its own region."
    )


class PermissionDeniedError(ApiError):
    """403: the key has no access to this project or environment."""

    status_code = 403
    hint = "the key's scope does not include this project; use a key created for it."


class NotFoundError(ApiError):
    """404: no such flag, experiment, variant, deployment or version."""

    status_code = 404
    hint = "check the id (ids are strings; find them with client.flags.list())."


class RateLimitError(ApiError):
    """429: over the per-project rate limit (100 requests/s, 100,000/day)."""

    status_code = 429
    hint = (
        "over the rate limit (100 requests/s and 100,000/day per project); "
        "lower Client(rate_limit=...) or wait."
    )


class ServerError(ApiError):
    """5xx: the server failed."""

    hint = "the server failed; retry later."


_STATUS_TO_ERROR: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_for_status(status_code: int) -> type[ApiError]:
    """The ApiError subclass for an HTTP status code."""
    if status_code in _STATUS_TO_ERROR:
        return _STATUS_TO_ERROR[status_code]
    if status_code >= 500:
        return ServerError
    return ApiError

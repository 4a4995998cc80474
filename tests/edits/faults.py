"""A test-side requests adapter that injects one fault into a chosen write, deterministically.

Mounted on the client's session in front of a real ``FakeServer``: it forwards requests to
the fake (so the fake applies them) and fails the chosen write before or after forwarding.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

WRITES = ("POST", "PATCH", "PUT", "DELETE")

# a fault is "<what>-<when>": "after" forwards the write first (the server applies it and
# the answer is lost or replaced), "before" never lets it reach the server
FAULTS = (
    "500-after",
    "500-before",
    "drop-after",
    "drop-before",
    "timeout-after",
    "timeout-before",
    "interrupt-after",
)
# not a fault of the matrix: a 200 for a write that never reached the server ("ok-before")


def _response(request: requests.PreparedRequest, status: int, message: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps({"message": message}).encode()
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
    response.url = request.url or ""
    response.request = request
    response.reason = "Internal Server Error"
    return response


class FaultAdapter(HTTPAdapter):
    """Fails the writes numbered in ``faults`` (1-based, counting every write attempt).

    ``faults[n] = "500-after"`` etc. (see FAULTS). With ``repeat=True`` the fault also hits
    every immediate repeat of that write (the client's retries), so it is final. Reads fail
    with a dropped connection while ``reads_down`` is true or once ``writes_before_reads_fail``
    writes have gone out.
    """

    def __init__(self) -> None:
        super().__init__()
        self.faults: dict[int, str] = {}
        self.repeat = False
        self.n_writes = 0
        self.writes: list[tuple[str, str, Any]] = []
        self.injected: list[tuple[int, str, str, str]] = []
        self.reads_down = False
        self.writes_before_reads_fail: int | None = None
        self._last_fault: tuple[str, str, bytes | str | None, str] | None = None

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        method = request.method or ""
        path = requests.utils.urlparse(request.url).path
        if method not in WRITES:
            limit = self.writes_before_reads_fail
            if self.reads_down or (limit is not None and self.n_writes >= limit):
                raise requests.exceptions.ConnectionError("injected: connection reset on read")
            return super().send(request, **kwargs)
        self.n_writes += 1
        body = json.loads(request.body) if request.body else None
        self.writes.append((method, str(path), body))
        fault = self.faults.get(self.n_writes)
        key = (method, str(path), request.body)
        if fault is None and self.repeat and self._last_fault and self._last_fault[:3] == key:
            fault = self._last_fault[3]
        if fault is None:
            self._last_fault = None
            return super().send(request, **kwargs)
        self._last_fault = (*key, fault)
        self.injected.append((self.n_writes, method, str(path), fault))
        what, when = fault.split("-")
        if when == "after":
            super().send(request, **kwargs).close()
        if what == "ok":
            # the server says OK and keeps the old value
            ok = _response(request, 200, "")
            ok._content, ok.reason = b'"OK"', "OK"
            return ok
        if what == "500":
            return _response(request, 500, f"injected 500 {when} the write")
        if what == "drop":
            raise requests.exceptions.ConnectionError(f"injected: connection dropped {when}")
        if what == "timeout":
            if when == "before":
                raise requests.exceptions.ConnectTimeout("injected: connect timed out")
            raise requests.exceptions.ReadTimeout("injected: read timed out")
        if what == "interrupt":
            raise KeyboardInterrupt
        raise AssertionError(f"unknown fault {fault!r}")

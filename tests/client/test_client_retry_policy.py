"""Which failures are retried, how long expkit waits, and when it gives up."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

import pytest
import requests
from client_double import API_KEY, BASE, DoubleAdapter, Reply, make_session

from expkit import (
    Client,
    RateLimitError,
    ServerError,
    TransportError,
)

# which failures are retried --------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.SSLError("certificate verify failed"),
        requests.exceptions.InvalidHeader("bad header"),
        requests.exceptions.InvalidURL("bad url"),
        requests.exceptions.ContentDecodingError("bad gzip"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_failures_a_retry_cannot_fix_are_raised_at_once(
    client: Client, double: DoubleAdapter, error
):
    double.default = lambda call: error
    with pytest.raises(TransportError) as info:
        client.flags.get("1")
    assert len(double.calls) == 1
    # raised from a sanitised copy: same type and text, no request (headers) or chain
    cause = info.value.__cause__
    assert type(cause) is type(error) and str(cause) == str(error)
    assert cause.request is None and cause.__context__ is None
    assert "attempts" not in str(info.value)


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ConnectionError("reset"),
        requests.exceptions.ConnectTimeout("slow connect"),
        requests.exceptions.ReadTimeout("slow read"),
        requests.exceptions.ChunkedEncodingError("dropped mid-body"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_transient_failures_are_retried(client: Client, double: DoubleAdapter, error):
    double.reply(error, Reply(200, {"id": "1"}))
    assert client.flags.get("1") == {"id": "1"}
    assert len(double.calls) == 2


# Retry-After as an HTTP date -------------------------------------------------------------


def test_a_future_retry_after_date_is_waited_for(
    client: Client, double: DoubleAdapter, monkeypatch: pytest.MonkeyPatch
):
    slept: list[float] = []
    monkeypatch.setattr(client.http, "_sleep", slept.append)  # the wait asked for, not waited
    # HTTP dates have whole seconds: "now + 60 s" asks for a wait of 59 to 60 s (less the
    # time this test takes to get there, well under the 30 s margin even on a loaded machine)
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    double.reply(Reply(429, "Too many requests", {"Retry-After": when}), Reply(200, {"id": "1"}))
    assert client.flags.get("1") == {"id": "1"}
    assert len(double.calls) == 2
    assert len(slept) == 1 and 30 < slept[0] <= 60


# giving up --------------------------------------------------------------------------------


def test_giving_up_on_retry_after_names_the_cap_that_stopped_it(double: DoubleAdapter):
    client = Client(
        API_KEY, base_url=BASE, session=make_session(double), rate_limit=None, max_retries=0
    )
    double.reply(Reply(429, "Too many requests", {"Retry-After": "1"}))
    with pytest.raises(RateLimitError) as info:
        client.flags.get("1")
    assert "max_retries=0" in str(info.value)
    assert "max_retry_time" not in str(info.value)
    client = Client(
        API_KEY, base_url=BASE, session=make_session(double), rate_limit=None, max_retry_time=5
    )
    double.reply(Reply(429, "Too many requests", {"Retry-After": "60"}))
    with pytest.raises(RateLimitError) as info:
        client.flags.get("1")
    assert "max_retry_time=5" in str(info.value)


def test_a_variant_rename_is_not_retried(client: Client, double: DoubleAdapter):
    # once applied, the old path is gone: a repeat after a lost reply would 404 (as for
    # remove_variant), reporting a failure for a rename that happened
    double.default = lambda call: Reply(503, "down")
    with pytest.raises(ServerError) as info:
        client.flags.edit_variant("1", "on", key="enabled", rollout_weight=1)
    assert len(double.calls) == 1 and info.value.attempts == 1
    double.reply(Reply(503), Reply(200, "OK"))
    assert client.flags.edit_variant("1", "on", key="on", name="On") == "OK"
    assert len(double.calls) == 3

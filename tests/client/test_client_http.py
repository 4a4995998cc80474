"""The HTTP layer: retries, Retry-After, rate limit, pagination, bodies, timeouts, URLs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from itertools import pairwise

import pytest
import requests
from client_double import API_KEY, BASE, DoubleAdapter, Reply, make_session

from expkit import (
    ApiError,
    Client,
    LegacyClient,
    RateLimitError,
    ServerError,
    Settings,
    TransportError,
    ValidationError,
)
from expkit._http import HttpClient, RateLimiter, _retry_after_seconds
from expkit._request import Request


def make_client(double: DoubleAdapter, **options) -> Client:
    options = {"rate_limit": None, "backoff_factor": 0.001, "backoff_max": 0.01, **options}
    return Client(API_KEY, base_url=BASE, session=make_session(double), **options)


# retries ---------------------------------------------------------------------------------


def test_429_then_success_is_retried_after_retry_after(
    client: Client, double: DoubleAdapter, monkeypatch: pytest.MonkeyPatch
):
    slept: list[float] = []
    monkeypatch.setattr(client.http, "_sleep", slept.append)  # no real waiting, no timing
    double.reply(Reply(429, "Too many requests", {"Retry-After": "0.3"}), Reply(200, {"id": "1"}))
    assert client.flags.get("1") == {"id": "1"}
    assert slept == [0.3]  # exactly the Retry-After, before the second attempt
    assert len(double.calls) == 2
    assert client.request_count == 2


def test_retry_after_as_http_date_is_honoured(client: Client, double: DoubleAdapter):
    past = "Wed, 21 Oct 2015 07:28:00 GMT"  # in the past: retry at once
    double.reply(Reply(503, "", {"Retry-After": past}), Reply(200, "OK"))
    assert client.flags.edit("1", name="x") == "OK"
    assert len(double.calls) == 2


def test_retry_after_parsing():
    now = datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC)
    assert _retry_after_seconds("Sun, 22 Nov 2026 08:00:05 GMT", now=now) == 5.0
    assert _retry_after_seconds("Sun, 22 Nov 2026 07:00:00 GMT", now=now) == 0.0
    assert _retry_after_seconds("7", now=now) == 7.0
    assert _retry_after_seconds("1.5", now=now) == 1.5
    assert _retry_after_seconds("soon", now=now) is None
    assert _retry_after_seconds(None) is None


def test_retry_after_beyond_the_time_cap_gives_up_at_once(double: DoubleAdapter):
    client = make_client(double, max_retry_time=1.0)
    double.reply(Reply(429, "Too many requests", {"Retry-After": "3600"}))
    with pytest.raises(RateLimitError) as info:
        client.flags.get("1")
    assert len(double.calls) == 1
    assert "rate limit" in str(info.value)
    assert "asked to wait 3600 s (Retry-After)" in str(info.value)


def test_503_storm_gives_up_after_the_cap_naming_the_attempts(double: DoubleAdapter):
    client = make_client(double, max_retries=3)
    double.default = lambda call: Reply(503, "Service Unavailable")
    with pytest.raises(ServerError) as info:
        client.flags.list()
    err = info.value
    assert len(double.calls) == 4
    assert err.attempts == 4
    assert err.status_code == 503
    assert "after 4 attempts" in str(err)
    assert "GET https://api.example.test/api/1/flags?limit=1000 returned 503" in str(err)
    assert client.request_count == 4


def test_retry_backoff_grows(double: DoubleAdapter, monkeypatch: pytest.MonkeyPatch):
    client = make_client(double, max_retries=3, backoff_factor=0.05, backoff_max=1.0)
    slept: list[float] = []
    monkeypatch.setattr(client.http, "_sleep", slept.append)  # the waits, not the clock
    double.default = lambda call: Reply(502)
    with pytest.raises(ServerError):
        client.flags.get("1")
    assert len(double.calls) == 4
    # 0.05, 0.1, 0.2 seconds (+ up to 25 % jitter), one before each retry
    assert len(slept) == 3
    for wait, base in zip(slept, (0.05, 0.1, 0.2), strict=True):
        assert base <= wait <= base * 1.25
    for retry, base in [(1, 0.05), (2, 0.1), (3, 0.2), (6, 1.0), (10, 1.0)]:
        waits = [client.http._backoff(retry) for _ in range(50)]
        assert all(base <= w <= base * 1.25 for w in waits)
        assert len(set(waits)) > 1  # jittered


def test_max_retries_zero_sends_once(double: DoubleAdapter):
    client = make_client(double, max_retries=0)
    double.default = lambda call: Reply(503)
    with pytest.raises(ServerError) as info:
        client.flags.get("1")
    assert len(double.calls) == 1 and info.value.attempts == 1
    assert "attempts" not in str(info.value)


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_retried_statuses(client: Client, double: DoubleAdapter, status):
    double.reply(Reply(status), Reply(200, []))
    assert client.flags.variants("1") == []
    assert len(double.calls) == 2


@pytest.mark.parametrize("status", [500, 400, 401, 403, 404])
def test_other_statuses_are_not_retried(client: Client, double: DoubleAdapter, status):
    double.default = lambda call: Reply(status, "nope")
    with pytest.raises(ApiError):
        client.flags.get("1")
    assert len(double.calls) == 1


NOT_RETRIED = {
    "flags.create": lambda c: c.flags.create("9", "k"),
    "experiments.create": lambda c: c.experiments.create("9", "k"),
    "create_variant": lambda c: c.flags.create_variant("1", "v"),
    "remove_user_at": lambda c: c.flags.remove_user_at("1", "on", 0),
    "deployments.create": lambda c: c.deployments.create("9", "web", "client"),
    "mutexes.create": lambda c: c.mutexes.create("9", "m", [{"percentage": 100}]),
    "holdouts.create": lambda c: c.holdouts.create("9", "h", 5),
    "remove_variant": lambda c: c.flags.remove_variant("1", "on"),
    "remove_deployment": lambda c: c.flags.remove_deployment("1", "7"),
}


@pytest.mark.parametrize("call", NOT_RETRIED.values(), ids=NOT_RETRIED.keys())
def test_creates_and_index_deletes_are_never_retried(client: Client, double: DoubleAdapter, call):
    double.default = lambda c: Reply(503, "down")
    with pytest.raises(ServerError) as info:
        call(client)
    assert len(double.calls) == 1
    assert info.value.attempts == 1


def test_post_create_is_not_retried_on_a_dropped_connection(client: Client, double: DoubleAdapter):
    double.default = lambda c: requests.ConnectionError("connection reset")
    with pytest.raises(TransportError):
        client.flags.create("9", "k")
    assert len(double.calls) == 1


RETRIED_WRITES = {
    "edit": lambda c: c.flags.edit("1", enabled=False),
    "edit_variant": lambda c: c.flags.edit_variant("1", "on", rollout_weight=1),
    "add_users": lambda c: c.flags.add_users("1", "on", ["u"]),
    "add_cohorts": lambda c: c.experiments.add_cohorts("1", "on", ["c"]),
    "remove_users": lambda c: c.flags.remove_users("1", "on", ["u"]),
    "remove_cohorts": lambda c: c.flags.remove_cohorts("1", "on", ["c"]),
    "remove_all_users": lambda c: c.flags.remove_all_users("1", "on"),
    "add_deployments": lambda c: c.flags.add_deployments("1", ["7"]),
    "deployments.edit": lambda c: c.deployments.edit("7", archive=True),
    "mutexes.edit_slot": lambda c: c.mutexes.edit_slot("7", 1, individuals=["u"]),
    "holdouts.edit": lambda c: c.holdouts.edit("7", name="h"),
}


@pytest.mark.parametrize("call", RETRIED_WRITES.values(), ids=RETRIED_WRITES.keys())
def test_idempotent_writes_are_retried(client: Client, double: DoubleAdapter, call):
    double.reply(Reply(503), Reply(429), Reply(200, "OK"))
    assert call(client) == "OK"
    assert len(double.calls) == 3
    assert double.calls[0].body == double.calls[2].body


def test_connection_errors_are_retried_then_succeed(client: Client, double: DoubleAdapter):
    double.reply(requests.ConnectionError("refused"), requests.ReadTimeout("slow"), Reply(200, {}))
    assert client.flags.get("1") == {}
    assert len(double.calls) == 3


def test_connection_errors_exhausted_raise_transport_error_from_the_original(double: DoubleAdapter):
    client = make_client(double, max_retries=2)
    double.default = lambda c: requests.ConnectionError("refused")
    with pytest.raises(TransportError) as info:
        client.flags.get("1")
    assert isinstance(info.value.__cause__, requests.ConnectionError)
    assert "after 3 attempts" in str(info.value)
    assert "GET https://api.example.test/api/1/flags/1" in str(info.value)
    assert len(double.calls) == 3


def test_timeout_is_a_transport_error(double: DoubleAdapter):
    client = make_client(double, max_retries=0, timeout=2.5)
    double.default = lambda c: requests.ReadTimeout("read timed out")
    with pytest.raises(TransportError, match=r"timed out \(timeout=2.5s\)"):
        client.flags.get("1")


# timeouts, headers ---------------------------------------------------------------------------


def test_every_request_has_the_default_timeout(client: Client, double: DoubleAdapter):
    double.reply(Reply(200, {"flags": []}), Reply(200, {}), Reply(200, "OK"))
    client.flags.list()
    client.flags.get("1")
    client.flags.remove_users("1", "on", ["u"])
    assert [c.timeout for c in double.calls] == [30.0, 30.0, 30.0]


def test_custom_timeout_is_sent(double: DoubleAdapter):
    client = make_client(double, timeout=(3.0, 10.0))
    client.flags.remove_all_users("1", "on")
    assert double.calls[0].timeout == (3.0, 10.0)


@pytest.mark.parametrize("timeout", [0, -1, "30", None, (1, 2, 3), float("inf")])
def test_bad_timeouts_are_refused(timeout):
    with pytest.raises(ValidationError) as info:
        Client(API_KEY, timeout=timeout)
    assert info.value.field == "timeout"


def test_delete_carries_a_json_body(client: Client, double: DoubleAdapter):
    client.flags.remove_users("1", "on", ["a", "b"])
    call = double.calls[0]
    assert call.method == "DELETE" and call.body == {"users": ["a", "b"]}
    assert call.headers["Content-Type"] == "application/json"


def test_bearer_auth_header(client: Client, double: DoubleAdapter):
    client.flags.remove_all_users("1", "on")
    assert double.calls[0].headers["Authorization"] == f"Bearer {API_KEY}"


# success bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        ({"a": 1}, {}, {"a": 1}),
        ([1, 2], {}, [1, 2]),
        ("OK", {"Content-Type": "text/plain"}, "OK"),
        ("ok", {}, "OK"),
        ('"OK"', {"Content-Type": "application/json"}, "OK"),
        ("", {}, None),
        ("  \n", {}, None),
        ("Done", {"Content-Type": "text/plain"}, "Done"),
    ],
)
def test_success_bodies(client: Client, double: DoubleAdapter, body, headers, expected):
    double.reply(Reply(200, body, headers))
    assert client.http.request("PATCH", "/api/1/flags/1", json={"name": "x"}) == expected


def test_invalid_json_is_an_api_error(client: Client, double: DoubleAdapter):
    double.reply(Reply(200, "{not json", {"Content-Type": "application/json"}))
    with pytest.raises(ApiError, match="not valid JSON"):
        client.flags.get("1")


def test_http_request_path_must_be_relative(client: Client, double: DoubleAdapter):
    with pytest.raises(ValidationError):
        client.http.request("GET", "https://elsewhere.test/api/1/flags")
    assert double.calls == []


def test_http_request_drops_none_params_and_encodes_bools(client: Client, double: DoubleAdapter):
    double.reply(Reply(200, {}))
    client.http.request("GET", "/api/1/flags", params={"a": None, "b": False, "c": 3})
    assert double.calls[0].query == {"b": ["false"], "c": ["3"]}


# server time, counting ---------------------------------------------------------------------


def test_server_time_comes_from_the_date_header(client: Client, double: DoubleAdapter):
    assert client.server_time is None
    double.reply(Reply(200, {}, {"Date": "Fri, 20 Nov 2026 09:00:00 GMT"}))
    client.flags.get("1")
    assert client.server_time == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert client.server_time.utcoffset().total_seconds() == 0
    double.reply(Reply(200, {}))  # no Date header: keeps the last known value
    client.flags.get("1")
    assert client.server_time == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_request_count_counts_every_attempt(client: Client, double: DoubleAdapter):
    double.reply(Reply(503), Reply(200, {}), Reply(200, {}))
    client.flags.get("1")
    client.flags.get("2")
    assert client.request_count == 3 == len(double.calls)


# pagination --------------------------------------------------------------------------------


@pytest.mark.parametrize("last", ["missing", None, ""], ids=["missing", "null", "empty"])
@pytest.mark.parametrize(
    ("c1", "c2"),
    [(2, 4), ("2", "4"), (2, "4"), (2.0, 4.0)],
    ids=["ints", "strings", "mixed", "floats"],
)
def test_pagination_follows_every_cursor_form(client: Client, double: DoubleAdapter, c1, c2, last):
    final = {"flags": [{"id": "5"}]}
    if last != "missing":
        final["nextCursor"] = last
    double.reply(
        Reply(200, {"flags": [{"id": "1"}, {"id": "2"}], "nextCursor": c1}),
        Reply(200, {"flags": [{"id": "3"}, {"id": "4"}], "nextCursor": c2}),
        Reply(200, final),
    )
    assert [f["id"] for f in client.flags.list()] == ["1", "2", "3", "4", "5"]
    assert [c.query.get("cursor") for c in double.calls] == [None, ["2"], ["4"]]
    assert all(c.query["limit"] == ["1000"] for c in double.calls)


def test_pagination_accepts_a_bare_list(client: Client, double: DoubleAdapter):
    double.reply(Reply(200, [{"id": "d1"}]))
    assert client.deployments.list() == [{"id": "d1"}]


def test_paginate_limit_and_params(client: Client, double: DoubleAdapter):
    one, two, three = ({"id": i} for i in (1, 2, 3))
    double.reply(
        Reply(200, {"holdouts": [one, two], "nextCursor": 2}), Reply(200, {"holdouts": [three]})
    )
    out = list(client.http.paginate("/api/1/holdouts", "holdouts", params={"x": "y"}, limit=2))
    assert out == [one, two, three]
    assert double.calls[1].query == {"x": ["y"], "limit": ["2"], "cursor": ["2"]}


@pytest.mark.parametrize("limit", [0, 1001, -5, True, 10.0])
def test_paginate_limit_is_capped_at_1000(client: Client, double: DoubleAdapter, limit):
    with pytest.raises(ValidationError) as info:
        client.http.paginate("/api/1/flags", "flags", limit=limit)
    assert info.value.field == "limit"
    assert "1000" in str(info.value)
    assert double.calls == []


# rate limiting -----------------------------------------------------------------------------


class FakeClock:
    def __init__(self, start: float, *, oversleep: float = 0.0) -> None:
        self.now = start
        self.oversleep = oversleep
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds + self.oversleep


def test_rate_limiter_spaces_requests_with_a_fake_clock():
    clock = FakeClock(100.0)
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.1, 0.1, 0.1])
    assert clock.slept == pytest.approx([0.1, 0.1, 0.1])
    clock.now = 200.0  # idle for a long time: no burst credit is saved up beyond one token
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(0.1)


def test_rate_limiter_counts_from_the_actual_release_when_sleep_overshoots():
    clock = FakeClock(0.0, oversleep=0.03)
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    released = []
    for _ in range(5):
        limiter.acquire()
        released.append(clock.now)
    gaps = [b - a for a, b in pairwise(released)]
    assert all(g >= 0.1 for g in gaps)


@pytest.mark.parametrize("rate", [0, -1, float("nan"), "100", True])
def test_rate_limit_must_be_positive(rate):
    with pytest.raises(ValidationError) as info:
        Client(API_KEY, rate_limit=rate)
    assert info.value.field == "rate_limit"


def test_rate_limiter_holds_100_per_second_across_8_threads(double: DoubleAdapter):
    # a fake clock: time moves only when the limiter sleeps (under its lock), so every
    # release time is known exactly, however the 8 threads are scheduled
    clock = _SharedClock()
    http = HttpClient(
        BASE,
        API_KEY,
        settings=Settings(rate_limit=100),
        session=make_session(double),
        clock=clock,
        sleep=clock.sleep,
    )
    n_threads, per_thread = 8, 20
    errors: list[BaseException] = []
    start = threading.Barrier(n_threads, timeout=60)  # the timeout only unblocks a broken run

    def work():
        try:
            start.wait()
            for _ in range(per_thread):
                http.send(Request("DELETE", "/api/1/flags/1/variants/on/users"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(double.calls) == n_threads * per_thread
    assert len({c.thread for c in double.calls}) == n_threads
    # the first request goes at once; each of the other 159 waited for its slot, 10 ms
    # after the one before, whichever thread sent it: releases at 0, 0.01, ..., 1.59 s,
    # so no one-second window holds more than 100
    releases = [0.0, *clock.after_sleeps]
    assert len(releases) == n_threads * per_thread
    assert releases == pytest.approx([i / 100 for i in range(len(releases))])
    busiest = max(
        sum(1 for t in releases[i:] if t - begin < 1.0 - 1e-9) for i, begin in enumerate(releases)
    )
    assert busiest == 100


class _SharedClock:
    """A fake clock for many threads: ``sleep`` advances it (the limiter sleeps under its lock)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.after_sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
            self.after_sleeps.append(self.now)


def test_rate_limit_none_disables_the_limiter(double: DoubleAdapter):
    client = make_client(double, rate_limit=None)
    assert client.http.rate_limiter is None


# base URL and region -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://127.9.8.7:1/", "http://127.9.8.7:1"),
        ("http://localhost:9000", "http://localhost:9000"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://experiment.example.com/", "https://experiment.example.com"),
    ],
)
def test_base_url_accepted(base_url, expected):
    client = Client(API_KEY, base_url=base_url)
    assert client.base_url == expected


@pytest.mark.parametrize(
    "base_url",
    [
        "http://experiment.amplitude.com",
        "http://10.0.0.1:80",
        "http://128.0.0.1",
        "ftp://127.0.0.1",
        "127.0.0.1:8765",
        "",
        "https://user:pw@host.test",
    ],
)
def test_base_url_refused(base_url):
    with pytest.raises(ValidationError) as info:
        Client(API_KEY, base_url=base_url)
    assert info.value.field == "base_url"


def test_regions_pick_the_documented_hosts(monkeypatch: pytest.MonkeyPatch):
    assert Client(API_KEY).base_url == "https://experiment.amplitude.com"
    assert Client(API_KEY, region="us").base_url == "https://experiment.amplitude.com"
    assert Client(API_KEY, region="EU").base_url == "https://experiment.eu.amplitude.com"
    monkeypatch.setenv("AMPLITUDE_REGION", "eu")
    client = Client(API_KEY)
    assert (client.base_url, client.region) == ("https://experiment.eu.amplitude.com", "eu")
    assert LegacyClient(API_KEY, region=None).base_url == (
        "https://management-api.experiment.eu.amplitude.com"
    )
    assert LegacyClient(API_KEY).base_url == "https://management-api.experiment.amplitude.com"


def test_unknown_region_is_refused(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ValidationError) as info:
        Client(API_KEY, region="apac")
    assert info.value.field == "region"
    assert "'us', 'eu'" in str(info.value)
    monkeypatch.setenv("AMPLITUDE_REGION", "mars")
    with pytest.raises(ValidationError, match="AMPLITUDE_REGION"):
        Client(API_KEY)


def test_default_session_pool_fits_16_concurrent_requests():
    client = Client(API_KEY)
    adapter = client.http.session.get_adapter("https://experiment.amplitude.com")
    assert adapter._pool_maxsize >= 16


def test_injected_session_is_used_as_is(double: DoubleAdapter):
    session = make_session(double)
    client = Client(API_KEY, base_url=BASE, session=session, rate_limit=None)
    assert client.http.session is session
    assert session.get_adapter(BASE) is double


def test_client_is_a_context_manager(double: DoubleAdapter):
    with make_client(double) as client:
        client.flags.remove_all_users("1", "on")
    assert len(double.calls) == 1

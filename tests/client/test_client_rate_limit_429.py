"""429s: their own time-bounded retry budget, and a client-side rate that drops and climbs back.

Driven with an injected clock and sleep: nothing here waits or measures real time.
"""

from __future__ import annotations

import itertools

import pytest
from client_double import API_KEY, BASE, DoubleAdapter, Reply, make_session

from expkit import RateLimitError, ServerError, Settings
from expkit._http import HttpClient, RateLimiter
from expkit._request import Request


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_http(double: DoubleAdapter, clock: FakeClock, **settings) -> HttpClient:
    options = {"rate_limit": None, "backoff_factor": 0.5, "backoff_jitter": 0.0, **settings}
    return HttpClient(
        BASE,
        API_KEY,
        settings=Settings(**options),
        session=make_session(double),
        clock=clock,
        sleep=clock.sleep,
    )


GET = Request("GET", "/api/1/flags/1")


def test_429s_do_not_spend_the_5xx_retry_budget(double: DoubleAdapter):
    clock = FakeClock()
    http = make_http(double, clock, max_retries=1, max_retry_time=100)
    throttled = [Reply(429, "slow down", {"Retry-After": "1"})] * 5
    double.reply(*throttled, Reply(503), Reply(200, {"id": "1"}))
    assert http.send(GET) == {"id": "1"}
    assert len(double.calls) == 7
    assert clock.sleeps == [1, 1, 1, 1, 1, 0.5]  # five Retry-Afters, then one 5xx backoff


def test_the_5xx_budget_is_still_counted(double: DoubleAdapter):
    clock = FakeClock()
    http = make_http(double, clock, max_retries=2, max_retry_time=100)
    double.reply(Reply(429), Reply(503), Reply(429), Reply(503), Reply(503), Reply(200, {}))
    with pytest.raises(ServerError) as info:
        http.send(GET)
    assert len(double.calls) == 5 and info.value.attempts == 5


def test_429_retries_stop_when_the_total_wait_would_pass_max_retry_time(double: DoubleAdapter):
    clock = FakeClock()
    http = make_http(double, clock, max_retries=5, max_retry_time=35)
    double.default = lambda call: Reply(429, "slow down", {"Retry-After": "10"})
    with pytest.raises(RateLimitError) as info:
        http.send(GET)
    assert clock.sleeps == [10, 10, 10]  # a fourth wait would end at 40 s > 35 s
    assert len(double.calls) == 4
    assert "max_retry_time=35" in str(info.value)


def test_429s_without_retry_after_back_off_exponentially(double: DoubleAdapter):
    clock = FakeClock()
    http = make_http(double, clock, max_retries=5, max_retry_time=100)
    double.reply(Reply(429), Reply(429), Reply(429), Reply(200, {}))
    assert http.send(GET) == {}
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_a_429_on_a_create_is_retried_because_the_server_did_not_act(double: DoubleAdapter):
    clock = FakeClock()
    http = make_http(double, clock, max_retry_time=100)
    double.reply(Reply(429, "", {"Retry-After": "2"}), Reply(200, {"id": 5}))
    create = Request("POST", "/api/1/flags", {"projectId": "1", "key": "k"}, retry=False)
    assert http.send(create) == {"id": 5}
    assert len(double.calls) == 2


def test_a_5xx_on_a_create_is_still_not_retried(double: DoubleAdapter):
    http = make_http(double, FakeClock(), max_retry_time=100)
    double.reply(Reply(503), Reply(200, {"id": 5}))
    with pytest.raises(ServerError):
        http.send(Request("POST", "/api/1/flags", {"key": "k"}, retry=False))
    assert len(double.calls) == 1


# the limiter ---------------------------------------------------------------------------------


def test_the_limiter_halves_on_a_429_and_climbs_back_gradually():
    clock = FakeClock()
    limiter = RateLimiter(100, clock=clock, sleep=clock.sleep, decrease=0.5, increase=0.05)
    limiter.throttle()
    assert limiter.rate == 50
    limiter.throttle()
    assert limiter.rate == 25
    rates = []
    for _ in range(20):
        limiter.recover()
        rates.append(limiter.rate)
    assert rates[:3] == [30, 35, 40]  # additive: 5 % of the configured rate per success
    assert rates[14:] == [100] * 6  # back at the configured rate, never above it
    assert all(a <= b for a, b in itertools.pairwise(rates))


def test_one_burst_of_429s_cuts_the_rate_once_not_once_per_refused_request():
    # eight threads' requests go out at the full rate and are all refused by one burst:
    # like TCP's one window cut per loss event, that halves the rate once, not to the floor
    clock = FakeClock()
    limiter = RateLimiter(100, clock=clock, sleep=clock.sleep, decrease=0.5)
    sent = []
    for _ in range(8):
        limiter.acquire()
        sent.append(clock())
    clock.now += 0.05  # the answers come back
    for sent_at in sent:
        limiter.throttle(sent_at=sent_at)
    assert limiter.rate == 50
    limiter.acquire()  # a request sent at the lowered rate and refused too: cut again
    limiter.throttle(sent_at=clock())
    assert limiter.rate == 25
    limiter.throttle()  # without sent_at every 429 cuts (the caller does not know)
    assert limiter.rate == 12.5


def test_the_limiter_never_drops_below_its_floor():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep, min_rate=2)
    for _ in range(10):
        limiter.throttle()
    assert limiter.rate == 2


def test_retry_after_holds_every_caller_of_the_limiter():
    clock = FakeClock()
    limiter = RateLimiter(100, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.throttle(retry_after=3)
    waited = limiter.acquire()  # any thread's next request waits out the Retry-After
    assert waited == pytest.approx(3)
    assert limiter.acquire() == pytest.approx(1 / 50)  # then spaced at the lowered rate


def test_the_client_slows_down_on_429_and_recovers_on_success(double: DoubleAdapter):
    clock = FakeClock()
    http = make_http(double, clock, rate_limit=100, max_retry_time=100)
    limiter = http.rate_limiter
    assert limiter is not None
    double.reply(Reply(429, "", {"Retry-After": "1"}), Reply(429, "", {"Retry-After": "1"}))
    http.send(GET)  # then the default: 200 OK
    assert limiter.rate == 25 + 5  # halved twice, then one success
    for _ in range(20):
        http.send(GET)
    assert limiter.rate == 100


def test_settings_validate_the_limiter_options():
    from expkit import ValidationError

    for name, bad in [("rate_limit_decrease", 0), ("rate_limit_decrease", 1.5), ("min_rate", 0)]:
        with pytest.raises(ValidationError) as info:
            HttpClient(BASE, API_KEY, settings=Settings(**{name: bad}))
        assert info.value.field == name

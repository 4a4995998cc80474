"""Edge cases found in review: key hygiene, path segments, body decoding, connect options."""

from __future__ import annotations

import email.utils
import json
import pickle
from datetime import UTC, datetime, timedelta

import pytest
import requests
from client_double import API_KEY, BASE, DoubleAdapter, Reply, make_session

import expkit
from expkit import (
    ApiError,
    BadRequestError,
    Client,
    LegacyClient,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)

# the key ---------------------------------------------------------------------------------


@pytest.mark.parametrize("padded", [API_KEY + "\n", API_KEY + "\r\n", f"  {API_KEY}\t"])
def test_a_key_with_surrounding_whitespace_is_trimmed(
    monkeypatch: pytest.MonkeyPatch, double: DoubleAdapter, padded
):
    # a key pasted from a file or a CRLF .env keeps its newline; http.client would refuse the
    # header with a raw ValueError that prints the key
    client = Client(padded, base_url=BASE, session=make_session(double), rate_limit=None)
    client.flags.remove_all_users("1", "on")
    monkeypatch.setenv("AMPLITUDE_MANAGEMENT_API_KEY", padded)
    client = Client(base_url=BASE, session=make_session(double), rate_limit=None)
    client.flags.remove_all_users("1", "on")
    assert [c.headers["Authorization"] for c in double.calls] == [f"Bearer {API_KEY}"] * 2


@pytest.mark.parametrize("bad", ["ampex_ab\ncd", "ampex ab", "ampex_\u2019ab", "ampex_\x00"])
def test_a_key_that_cannot_go_in_a_header_is_refused_without_echoing_it(bad):
    with pytest.raises(ValidationError) as info:
        Client(bad, base_url=BASE)
    assert info.value.field == "api_key"
    assert "ampex" not in str(info.value) and "ampex" not in repr(info.value.value)
    assert "AMPLITUDE_MANAGEMENT_API_KEY" in str(info.value)


def test_a_blank_key_counts_as_no_key(double: DoubleAdapter):
    client = Client("   ", base_url=BASE, session=make_session(double))
    with pytest.raises(ValidationError) as info:
        client.flags.list()
    assert info.value.field == "api_key"
    assert double.calls == []


# path segments ---------------------------------------------------------------------------

DOT_SEGMENT_CALLS = {
    "edit_variant": lambda c, s: c.flags.edit_variant("1", s, name="x"),
    "remove_variant": lambda c, s: c.experiments.remove_variant("1", s),
    "remove_all_users": lambda c, s: c.flags.remove_all_users("1", s),
    "remove_deployment": lambda c, s: c.flags.remove_deployment("1", s),
    "version": lambda c, s: c.flags.version("1", s),
    "edit": lambda c, s: c.flags.edit(s, archive=True),
    "get": lambda c, s: c.experiments.get(s),
    "mutexes.edit": lambda c, s: c.mutexes.edit(s, name="x"),
    "holdouts.get": lambda c, s: c.holdouts.get(s),
    "deployments.edit": lambda c, s: c.deployments.edit(s, archive=True),
    "legacy.experiment": lambda c, s: c.legacy.experiment(s),
    "legacy.activate": lambda c, s: c.legacy.activate(s),
}


@pytest.mark.parametrize("segment", [".", ".."])
@pytest.mark.parametrize("call", DOT_SEGMENT_CALLS.values(), ids=DOT_SEGMENT_CALLS.keys())
def test_dot_segments_are_refused_before_sending(double: DoubleAdapter, call, segment):
    # requests removes "." and ".." from URL paths: edit_variant("1", "..", name=...) would
    # PATCH /api/1/flags/1/, renaming the flag itself
    client = Client(API_KEY, base_url=BASE, session=make_session(double), rate_limit=None)
    client.legacy = LegacyClient(API_KEY, base_url=BASE, session=make_session(double))
    with pytest.raises(ValidationError) as info:
        call(client, segment)
    assert info.value.value == segment
    assert "'.'" in str(info.value) and "'..'" in str(info.value)
    assert double.calls == []


# connect ---------------------------------------------------------------------------------


@pytest.mark.parametrize("with_key", [True, False])
def test_connect_with_base_url_gives_a_client_on_that_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], with_key
):
    monkeypatch.delenv("AMPLITUDE_MANAGEMENT_API_KEY", raising=False)
    options = {"api_key": API_KEY} if with_key else {}
    client = expkit.connect(base_url="http://127.0.0.1:8765", rate_limit=50, **options)
    assert client.base_url == "http://127.0.0.1:8765"
    assert client.http.rate_limiter.rate == 50
    assert not hasattr(client, "_fake_server")
    assert client.request_count == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8765" in out and API_KEY not in out


def test_connect_refuses_fixtures_and_base_url_together(tmp_path):
    with pytest.raises(ValidationError) as info:
        expkit.connect(tmp_path, base_url="http://127.0.0.1:8765")
    assert info.value.field == "base_url"


# decoding bodies -------------------------------------------------------------------------

NAME = "Caf\u00e9 \u2013 \u6d4b\u8bd5"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json"])
def test_bodies_without_a_charset_are_read_as_utf8(
    client: Client, double: DoubleAdapter, content_type
):
    # requests reads text/* without a charset as ISO-8859-1; JSON is UTF-8 (RFC 8259)
    headers = {"Content-Type": content_type} if content_type else {}
    double.reply(Reply(200, json.dumps({"name": NAME}, ensure_ascii=False).encode(), headers))
    assert client.flags.get("1") == {"name": NAME}
    double.reply(Reply(400, f"name {NAME} is taken".encode(), headers))
    with pytest.raises(BadRequestError) as info:
        client.flags.edit("1", name=NAME)
    assert info.value.body == f"name {NAME} is taken"
    assert NAME in str(info.value)


def test_a_declared_charset_is_honoured(client: Client, double: DoubleAdapter):
    body = '{"name": "Caf\u00e9"}'.encode("latin-1")
    double.reply(Reply(200, body, {"Content-Type": "application/json; charset=iso-8859-1"}))
    assert client.flags.get("1") == {"name": "Caf\u00e9"}


def test_an_invalid_json_success_body_is_redacted_too(client: Client, double: DoubleAdapter):
    double.reply(Reply(200, f'{{"echo": "{API_KEY}"', {"Content-Type": "application/json"}))
    with pytest.raises(ApiError, match="not valid JSON") as info:
        client.flags.get("1")
    assert API_KEY not in str(info.value) and API_KEY not in info.value.body


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


# page shapes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        {"data": [{"id": "1"}], "nextCursor": None},
        {"flags": {"id": "1"}},
        {"flags": "1,2"},
    ],
    ids=["other-key", "object", "string"],
)
def test_a_page_without_its_list_is_an_error_not_an_empty_result(
    client: Client, double: DoubleAdapter, page
):
    double.reply(Reply(200, page))
    with pytest.raises(ApiError) as info:
        client.flags.list()
    assert "'flags'" in str(info.value)
    assert "GET https://api.example.test/api/1/flags?limit=1000" in str(info.value)


@pytest.mark.parametrize("page", [{}, {"nextCursor": None}, {"flags": None}, {"flags": []}])
def test_an_empty_page_is_an_empty_result(client: Client, double: DoubleAdapter, page):
    double.reply(Reply(200, page))
    assert client.flags.list() == []


# Retry-After as an HTTP date -------------------------------------------------------------


def test_a_future_retry_after_date_is_waited_for(client: Client, double: DoubleAdapter):
    # HTTP dates have whole seconds: "now + 2 s" asks for a wait of more than 1 s
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    double.reply(Reply(429, "Too many requests", {"Retry-After": when}), Reply(200, {"id": "1"}))
    assert client.flags.get("1") == {"id": "1"}
    first, second = double.calls
    assert second.at - first.at >= 1.0


# base_url --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given", ["https://experiment.amplitude.com/api/1", "https://experiment.amplitude.com/api/1/"]
)
def test_a_base_url_copied_with_the_api_prefix_is_not_doubled(double: DoubleAdapter, given):
    # the API documents give the base URL as https://experiment.amplitude.com/api/1
    client = Client(API_KEY, base_url=given, session=make_session(double), rate_limit=None)
    assert client.base_url == "https://experiment.amplitude.com"
    double.reply(Reply(200, {"flags": []}))
    client.flags.list()
    assert double.calls[0].path == "/api/1/flags"


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


# errors cross process boundaries -----------------------------------------------------------


def test_api_errors_survive_pickling(client: Client, double: DoubleAdapter):
    # multiprocessing / concurrent.futures send exceptions back pickled
    double.reply(Reply(404, "no such flag", {"X-Request-Id": "r-1"}))
    with pytest.raises(NotFoundError) as info:
        client.flags.get("1")
    err = info.value
    err.removed = ["u1"]  # what a bulk removal adds
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is NotFoundError
    assert str(copy) == str(err)
    assert (copy.status_code, copy.method, copy.url, copy.body) == (
        404,
        "GET",
        f"{BASE}/api/1/flags/1",
        "no such flag",
    )
    assert (copy.attempts, copy.request_id, copy.hint, copy.removed) == (
        1,
        "r-1",
        err.hint,
        ["u1"],
    )

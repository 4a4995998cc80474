"""The API key: trimmed, refused when unusable, and never in an error, its chain or its pickle."""

from __future__ import annotations

import json
import pickle

import pytest
from client_double import API_KEY, BASE, DoubleAdapter, Reply, make_session

from expkit import (
    ApiError,
    BadRequestError,
    Client,
    NotFoundError,
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

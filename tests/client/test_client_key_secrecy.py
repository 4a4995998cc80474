"""The API key: trimmed, refused when unusable, and never in an error, its chain or its pickle."""

from __future__ import annotations

import base64
import contextlib
import json
import pickle
from urllib.parse import quote

import pytest
import requests
from client_double import API_KEY, BASE, DoubleAdapter, Reply, make_session

from expkit import (
    ApiError,
    BadRequestError,
    Client,
    NotFoundError,
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


# the error chain and pickles ------------------------------------------------------------------


def _chain(err: BaseException):
    """``err`` and everything reachable through __cause__ / __context__."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [err]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__]
    return seen


def _dump(err: BaseException) -> bytes:
    """Every byte an exception chain could carry: each link pickled, args and attributes."""
    out = b""
    for link in _chain(err):
        with contextlib.suppress(Exception):  # an unpicklable link is checked by its parts
            out += pickle.dumps(link)
        out += repr(link.args).encode() + repr(vars(link)).encode()
        request = getattr(link, "request", None)
        if request is not None:
            out += repr(dict(request.headers)).encode()
    return out


def _connection_error_holding_the_request(call) -> requests.ConnectionError:
    # what requests really raises: the exception carries the prepared request, with the
    # Authorization header, and a urllib3 error inside
    prepared = requests.Request(
        call.method, BASE + call.path, headers={"Authorization": call.headers["Authorization"]}
    ).prepare()
    return requests.ConnectionError("connection reset by peer", request=prepared)


@pytest.mark.parametrize("max_retries", [0, 2])
def test_a_transport_error_chain_and_pickle_never_hold_the_key(double: DoubleAdapter, max_retries):
    client = Client(
        API_KEY,
        base_url=BASE,
        session=make_session(double),
        rate_limit=None,
        max_retries=max_retries,
        backoff_factor=0.001,
    )
    double.default = _connection_error_holding_the_request
    with pytest.raises(TransportError) as info:
        client.flags.get("1")
    err = info.value
    assert double.calls[0].headers["Authorization"] == f"Bearer {API_KEY}"  # it was there
    assert len(_chain(err)) == 2  # the error and its sanitised cause, nothing else
    assert type(err.__cause__) is requests.ConnectionError
    assert err.__cause__.request is None
    assert API_KEY.encode() not in _dump(err)
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err)


def test_an_error_echoing_the_key_in_its_message_is_redacted_in_the_chain(
    client: Client, double: DoubleAdapter
):
    double.default = lambda call: requests.exceptions.InvalidHeader(
        f"bad header Authorization: Bearer {API_KEY}"
    )
    with pytest.raises(TransportError) as info:
        client.flags.get("1")
    assert API_KEY.encode() not in _dump(info.value)
    assert "<redacted>" in str(info.value.__cause__)


def test_an_invalid_json_body_chain_is_sanitised(client: Client, double: DoubleAdapter):
    double.reply(Reply(200, f'{{"echo": "{API_KEY}"', {"Content-Type": "application/json"}))
    with pytest.raises(ApiError) as info:
        client.flags.get("1")
    assert API_KEY.encode() not in _dump(info.value)


def _variants(key: str) -> dict[str, str]:
    b64 = base64.b64encode
    return {
        "upper": key.upper(),
        "lower": key.lower(),
        "bearer-upper": f"BEARER {key.upper()}",
        "base64-key": b64(key.encode()).decode(),
        "base64-header": b64(f"Authorization: Bearer {key}".encode()).decode(),
        "base64-basic": b64(f"{key}:".encode()).decode(),
        "base64-offset-1": b64(f"x{key}y".encode()).decode(),
        "base64-offset-2": b64(f"xy{key}".encode()).decode(),
        "base64-urlsafe": base64.urlsafe_b64encode(f"Bearer {key}".encode()).decode(),
        "url-quoted": quote(key, safe=""),
    }


@pytest.mark.parametrize("name", list(_variants(API_KEY)))
def test_case_and_base64_variants_of_the_key_are_redacted(
    client: Client, double: DoubleAdapter, name
):
    echoed = _variants(API_KEY)[name]
    double.reply(Reply(400, f"bad request; you sent {echoed} here"))
    with pytest.raises(BadRequestError) as info:
        client.flags.get("1")
    err = info.value
    assert echoed not in str(err) and echoed not in err.body
    assert "<redacted>" in err.body
    assert echoed.encode() not in pickle.dumps(err)
    assert "bad request; you sent" in err.body and "here" in err.body  # the rest is kept


def test_redaction_leaves_unrelated_text_alone():
    from expkit._http import Redactor

    redact = Redactor(API_KEY)
    text = "flag enabled; base64 " + base64.b64encode(b"some other secret value").decode()
    assert redact(text) == text
    assert Redactor(None)("anything") == "anything"
    with pytest.raises(TypeError):
        pickle.dumps(redact)

"""Edge cases found in review: key hygiene, path segments, body decoding, connect options."""

from __future__ import annotations

import pytest
from client_double import API_KEY, BASE, DoubleAdapter, make_session

from expkit import Client, ValidationError

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

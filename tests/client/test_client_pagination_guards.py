"""The one paginator: page shapes, repeated cursors, the page bound."""

from __future__ import annotations

import pytest
from client_double import API_KEY, BASE, DoubleAdapter, Reply, make_session

from expkit import ApiError, Client, ExpkitError, PaginationError, Settings, ValidationError

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


# cursors ------------------------------------------------------------------------------------


def test_a_repeated_cursor_raises_naming_the_endpoint_and_the_cursor(
    client: Client, double: DoubleAdapter
):
    double.default = lambda call: Reply(200, {"deployments": [{"id": "d"}], "nextCursor": "7"})
    pages = client.http.pages("/api/1/deployments", "deployments")
    assert next(pages) == [{"id": "d"}]
    assert next(pages) == [{"id": "d"}]  # the page at cursor 7, read once
    with pytest.raises(PaginationError) as info:
        next(pages)  # it names cursor 7 again: raised before fetching it twice
    assert len(double.calls) == 2
    assert info.value.endpoint == "/api/1/deployments" and info.value.cursor == "7"
    assert "/api/1/deployments" in str(info.value) and "'7'" in str(info.value)


def test_a_cursor_cycle_raises_and_returns_no_duplicates(client: Client, double: DoubleAdapter):
    double.reply(
        Reply(200, {"mutexes": [{"id": 1}], "nextCursor": 1}),
        Reply(200, {"mutexes": [{"id": 2}], "nextCursor": 2}),
        Reply(200, {"mutexes": [{"id": 3}], "nextCursor": 1}),
    )
    seen = []
    with pytest.raises(PaginationError) as info:
        for item in client.mutexes.iter():
            seen.append(item)
    assert seen == [{"id": 1}, {"id": 2}, {"id": 3}]  # each once
    assert len(double.calls) == 3
    assert info.value.cursor == "1"


# the page bound -------------------------------------------------------------------------------


def test_a_server_that_hands_out_new_cursors_forever_stops_at_max_pages(double: DoubleAdapter):
    client = Client(
        API_KEY, base_url=BASE, session=make_session(double), rate_limit=None, max_pages=5
    )
    double.default = lambda call: Reply(
        200, {"flags": [{"id": "x"}], "nextCursor": str(len(double.calls))}
    )
    with pytest.raises(PaginationError) as info:
        client.flags.list()
    assert len(double.calls) == 5
    assert "max_pages=5" in str(info.value) and "/api/1/flags" in str(info.value)
    assert info.value.endpoint == "/api/1/flags"


def test_max_pages_has_a_documented_default_and_is_validated(double: DoubleAdapter):
    assert Settings().max_pages == 10_000
    client = Client(API_KEY, base_url=BASE, session=make_session(double))
    assert client.settings.max_pages == 10_000
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValidationError) as info:
            Client(API_KEY, base_url=BASE, max_pages=bad)
        assert info.value.field == "max_pages"


def test_exactly_max_pages_pages_is_fine(double: DoubleAdapter):
    client = Client(
        API_KEY, base_url=BASE, session=make_session(double), rate_limit=None, max_pages=3
    )
    double.reply(
        Reply(200, {"flags": [{"id": "1"}], "nextCursor": "a"}),
        Reply(200, {"flags": [{"id": "2"}], "nextCursor": "b"}),
        Reply(200, {"flags": [{"id": "3"}]}),
    )
    assert [f["id"] for f in client.flags.list()] == ["1", "2", "3"]


# every page is shape-checked ------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [{"flags": [1, 2, 3]}, [1, 2, 3], {"flags": ["a"]}, "<html>oops</html>", 42],
    ids=["ints-under-key", "bare-ints", "strings", "html", "number"],
)
def test_a_page_that_is_not_a_list_of_objects_raises_naming_the_endpoint(
    client: Client, double: DoubleAdapter, page
):
    double.reply(Reply(200, page))
    with pytest.raises(ApiError) as info:
        client.flags.list()
    assert "/api/1/flags" in str(info.value)
    assert "list of objects" in str(info.value)


def test_a_later_bad_page_raises_too(client: Client, double: DoubleAdapter):
    double.reply(
        Reply(200, {"versions": [{"id": "1"}], "nextCursor": "2"}),
        Reply(200, "<html>maintenance</html>"),
    )
    with pytest.raises(ApiError, match="maintenance"):
        client.versions.list()


def test_the_shape_error_excerpt_is_redacted_and_short(client: Client, double: DoubleAdapter):
    echo = f"<html>{'x' * 50}<pre>Authorization: Bearer {API_KEY}</pre>{'y' * 5000}</html>"
    double.reply(Reply(200, echo, {"Content-Type": "text/html"}))
    with pytest.raises(ApiError) as info:
        client.flags.list()
    text = str(info.value)
    assert API_KEY not in text and "<redacted>" in text
    assert len(info.value.body) <= 201


def test_pages_yields_page_by_page_for_the_fetch_layer(client: Client, double: DoubleAdapter):
    double.reply(
        Reply(200, {"versions": [{"v": 1}, {"v": 2}], "nextCursor": "n"}),
        Reply(200, {"versions": [{"v": 3}]}),
    )
    assert list(client.versions.pages()) == [[{"v": 1}, {"v": 2}], [{"v": 3}]]
    double.reply(Reply(200, {"versions": [{"v": 1}]}))
    assert list(client.pages("/api/1/versions", "versions")) == [[{"v": 1}]]


def test_a_single_object_reply_of_the_wrong_shape_is_an_expkit_error(
    client: Client, double: DoubleAdapter
):
    double.reply(Reply(200, [f"Bearer {API_KEY}"]))
    with pytest.raises(ExpkitError) as info:
        client.flags.get("1")
    assert "/api/1/flags/1" in str(info.value)
    assert API_KEY not in str(info.value)

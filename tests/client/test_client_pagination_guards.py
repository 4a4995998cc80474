"""The one paginator: page shapes, repeated cursors, the page bound."""

from __future__ import annotations

import pytest
from client_double import DoubleAdapter, Reply

from expkit import (
    ApiError,
    Client,
)

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

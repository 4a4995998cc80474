"""Property test: any run of pages, in any cursor spelling, is read whole and in order."""

from __future__ import annotations

from client_double import API_KEY, BASE, DoubleAdapter, Reply, make_session
from hypothesis import given, settings
from hypothesis import strategies as st

from expkit import Client

cursor_form = st.sampled_from(["int", "str", "float"])
last_form = st.sampled_from(["missing", "null", "empty"])


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=6),
    forms=st.lists(cursor_form, min_size=6, max_size=6),
    last=last_form,
)
def test_every_page_is_read_once_in_order(sizes, forms, last):
    double = DoubleAdapter()
    offset = 0
    items = []
    for page, size in enumerate(sizes):
        batch = [{"id": str(offset + i)} for i in range(size)]
        items.extend(batch)
        offset += size
        body = {"experiments": batch}
        if page < len(sizes) - 1:
            # the cursor is the offset of the next page (API-NOTES §1.6); a unique token
            # keeps empty pages from repeating a cursor
            token = offset * 10 + page
            body["nextCursor"] = {"int": token, "str": str(token), "float": float(token)}[
                forms[page]
            ]
        elif last != "missing":
            body["nextCursor"] = None if last == "null" else ""
        double.reply(Reply(200, body))
    client = Client(API_KEY, base_url=BASE, session=make_session(double), rate_limit=None)
    assert client.experiments.list() == items
    assert len(double.calls) == len(sizes)
    sent = [c.query.get("cursor", [None])[0] for c in double.calls]
    assert sent[0] is None
    assert all(s is not None and s.isdigit() for s in sent[1:])

"""snake_case <-> camelCase: names of fields convert, data (variant keys, ids) never does."""

from __future__ import annotations

import pytest
from client_double import DoubleAdapter, Reply

from expkit import Client, ExpkitError
from expkit._wire import camel_to_snake, segment_to_wire, snake_to_camel


@pytest.mark.parametrize(
    ("snake", "camel"),
    [
        ("rollout_weights", "rolloutWeights"),
        ("target_segments", "targetSegments"),
        ("bucketing_key", "bucketingKey"),
        ("key", "key"),
        ("individual_inclusion", "individualInclusion"),
    ],
)
def test_names_round_trip(snake, camel):
    assert snake_to_camel(snake) == camel
    assert camel_to_snake(camel) == snake
    assert snake_to_camel(camel) == camel
    assert camel_to_snake(snake) == snake


def test_segment_weights_keep_variant_keys_as_given():
    seg = {
        "name": "s",
        "conditions": [{"type": "property", "prop": "gp:plan_type", "op": "is", "values": []}],
        "percentage": 1,
        "rollout_weights": {"new_variant": 1, "oldVariant": 2},
    }
    out = segment_to_wire(seg)
    assert out["rolloutWeights"] == {"new_variant": 1, "oldVariant": 2}
    assert out["conditions"][0]["prop"] == "gp:plan_type"
    assert "rolloutWeights" not in seg  # input untouched


def test_create_keeps_variant_keys_with_underscores(client: Client, double: DoubleAdapter):
    double.reply(Reply(200, {"id": "1", "url": "u"}))
    client.flags.create("9", "k", variants=[{"key": "new_flow"}], rollout_weights={"new_flow": 1})
    assert double.calls[0].body["rolloutWeights"] == {"new_flow": 1}
    assert double.calls[0].body["variants"] == [{"key": "new_flow"}]


@pytest.mark.parametrize(
    ("call", "reply"),
    [
        (lambda c: c.flags.get("1"), [1, 2]),
        (lambda c: c.flags.versions("1"), {"versions": []}),
        (lambda c: c.flags.create("9", "k"), "OK"),
    ],
)
def test_unexpected_body_shapes_are_reported(client: Client, double: DoubleAdapter, call, reply):
    double.reply(Reply(200, reply))
    with pytest.raises(ExpkitError, match="expected a JSON"):
        call(client)

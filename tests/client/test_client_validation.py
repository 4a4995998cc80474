"""Validation before sending: each bad input names field, value and what is allowed."""

from __future__ import annotations

import math

import pytest
from client_double import DoubleAdapter

from expkit import Client, ValidationError
from expkit import _validate as v
from expkit._validate import CONDITION_OPS


def seg(**overrides):
    base = {
        "name": "s",
        "conditions": [{"type": "property", "prop": "country", "op": "is", "values": ["US"]}],
        "percentage": 10,
        "rollout_weights": {"on": 1},
    }
    base.update(overrides)
    return base


def cond(**overrides):
    base = {"type": "property", "prop": "country", "op": "is", "values": ["US"]}
    base.update(overrides)
    return base


# (call, field, bad value, text expected among the allowed values)
CASES = {
    "condition type": (
        lambda c: c.flags.edit("1", target_segments=[seg(conditions=[cond(type="cohort")])]),
        "target_segments[0].conditions[0].type",
        "cohort",
        "'property'",
    ),
    "condition op": (
        lambda c: c.flags.edit("1", target_segments=[seg(conditions=[cond(op="equals")])]),
        "target_segments[0].conditions[0].op",
        "equals",
        "'set does not contain'",
    ),
    "condition values not a list": (
        lambda c: c.flags.edit("1", target_segments=[seg(conditions=[cond(values="US")])]),
        "target_segments[0].conditions[0].values",
        "US",
        "list of strings",
    ),
    "condition values not strings": (
        lambda c: c.flags.edit("1", target_segments=[seg(conditions=[cond(values=["a", 3])])]),
        "target_segments[0].conditions[0].values[1]",
        3,
        "string",
    ),
    "condition missing prop": (
        lambda c: c.flags.edit(
            "1", target_segments=[seg(conditions=[{"type": "property", "op": "is", "values": []}])]
        ),
        "target_segments[0].conditions[0].prop",
        None,
        "prop",
    ),
    "segment missing percentage": (
        lambda c: c.flags.edit(
            "1", target_segments=[{"name": "s", "conditions": [], "rolloutWeights": {}}]
        ),
        "target_segments[0].percentage",
        None,
        "percentage",
    ),
    "segment percentage": (
        lambda c: c.experiments.edit("1", target_segments=[seg(percentage=101)]),
        "target_segments[0].percentage",
        101,
        "0..100",
    ),
    "segment weight negative": (
        lambda c: c.flags.edit("1", target_segments=[seg(rollout_weights={"on": -1})]),
        "target_segments[0].rollout_weights['on']",
        -1,
        ">= 0",
    ),
    "rollout percentage": (
        lambda c: c.flags.edit("1", rollout_percentage=-0.5),
        "rollout_percentage",
        -0.5,
        "0..100",
    ),
    "rollout percentage nan": (
        lambda c: c.flags.edit("1", rollout_percentage=math.nan),
        "rollout_percentage",
        "nan",
        "0..100",
    ),
    "rollout percentage bool": (
        lambda c: c.flags.edit("1", rollout_percentage=True),
        "rollout_percentage",
        True,
        "0..100",
    ),
    "create weights not integers": (
        lambda c: c.flags.create("9", "k", variants=[{"key": "on"}], rollout_weights={"on": 1.5}),
        "rollout_weights['on']",
        1.5,
        "integer",
    ),
    "create weights negative": (
        lambda c: c.flags.create("9", "k", rollout_weights={"on": -2}),
        "rollout_weights['on']",
        -2,
        "integer >= 0",
    ),
    "create weights unknown variant": (
        lambda c: c.flags.create(
            "9", "k", variants=[{"key": "on"}], rollout_weights={"on": 1, "of": 1}
        ),
        "rollout_weights['of']",
        "of",
        "'on'",
    ),
    "create segment weights unknown variant": (
        lambda c: c.experiments.create(
            "9",
            "k",
            variants=["control", "treatment"],
            target_segments=[seg(rollout_weights={"control": 1, "treatmnt": 1})],
        ),
        "target_segments[0].rollout_weights['treatmnt']",
        "treatmnt",
        "'treatment'",
    ),
    "variant weight negative": (
        lambda c: c.flags.edit_variant("1", "on", rollout_weight=-1),
        "rollout_weight",
        -1,
        ">= 0",
    ),
    "variant weight not a number": (
        lambda c: c.flags.create_variant("1", "v", rollout_weight="2"),
        "rollout_weight",
        "2",
        ">= 0",
    ),
    "payload not json": (
        lambda c: c.flags.edit_variant("1", "on", payload={"when": object}),
        "payload",
        None,
        "JSON value",
    ),
    "payload nan": (
        lambda c: c.flags.create_variant("1", "v", payload={"x": math.inf}),
        "payload",
        None,
        "JSON value",
    ),
    "create variant payload": (
        lambda c: c.flags.create("9", "k", variants=[{"key": "on", "payload": {1, 2}}]),
        "variants[0].payload",
        None,
        "JSON value",
    ),
    "evaluation mode": (
        lambda c: c.flags.edit("1", evaluation_mode="edge"),
        "evaluation_mode",
        "edge",
        "'local', 'remote'",
    ),
    "deployment type": (
        lambda c: c.deployments.create("9", "web", "mobile"),
        "type",
        "mobile",
        "'client', 'server'",
    ),
    "deployment label": (
        lambda c: c.deployments.create("9", "web prod!", "client"),
        "label",
        "web prod!",
        "letters, digits",
    ),
    "experiment type": (
        lambda c: c.experiments.edit("1", experiment_type="no-harm"),
        "experiment_type",
        "no-harm",
        "'a-b-test', 'multi-arm-bandit'",
    ),
    "decision": (
        lambda c: c.experiments.edit("1", decision="ship-it"),
        "decision",
        "ship-it",
        "'rollout', 'rollback', 'continue-running'",
    ),
    "too many inclusions": (
        lambda c: c.flags.add_users("1", "on", [f"u{i}" for i in range(2001)]),
        "users",
        2001,
        "at most 2000",
    ),
    "inclusions as a string": (
        lambda c: c.flags.add_users("1", "on", "u1"),
        "users",
        "u1",
        "list of strings",
    ),
    "no inclusions": (
        lambda c: c.flags.add_cohorts("1", "on", []),
        "cohorts",
        [],
        "non-empty",
    ),
    "unknown edit field": (
        lambda c: c.flags.edit("1", rollout_weights={"on": 1}),
        "rollout_weights",
        {"on": 1},
        "'target_segments'",
    ),
    "unknown create field": (
        lambda c: c.flags.create("9", "k", colour="red"),
        "colour",
        "red",
        "'variants'",
    ),
    "empty edit": (lambda c: c.flags.edit("1"), "fields", {}, "'name'"),
    "empty variant edit": (
        lambda c: c.flags.edit_variant("1", "on"),
        "fields",
        {},
        "'rollout_weight'",
    ),
    "enabled not bool": (lambda c: c.flags.edit("1", enabled="yes"), "enabled", "yes", "True"),
    "tags a string": (lambda c: c.flags.edit("1", tags="prod"), "tags", "prod", "list of strings"),
    "name None": (lambda c: c.flags.edit("1", name=None), "name", None, "string"),
    "name empty": (lambda c: c.flags.edit("1", name=" "), "name", " ", "non-empty string"),
    "create project id": (lambda c: c.flags.create("", "k"), "project_id", "", "string"),
    "create key": (lambda c: c.flags.create("9", ""), "key", "", "non-empty string"),
    "variant key missing": (
        lambda c: c.flags.create("9", "k", variants=[{"name": "x"}]),
        "variants[0].key",
        None,
        "non-empty string",
    ),
    "variant key duplicate": (
        lambda c: c.flags.create("9", "k", variants=["on", "on"]),
        "variants[1].key",
        "on",
        "unique",
    ),
    "variant weight inside variants": (
        lambda c: c.flags.create("9", "k", variants=[{"key": "on", "rollout_weight": 1}]),
        "variants[0].rollout_weight",
        "rolloutWeight",
        "'payload'",
    ),
    "id with slash": (lambda c: c.flags.get("1/../2"), "id", "1/../2", "string"),
    "empty variant key": (lambda c: c.flags.users("1", ""), "variant_key", "", "non-empty"),
    "exposure op": (
        lambda c: c.experiments.edit(
            "1",
            exposure_event={
                "event_type": "e",
                "filters": [{"subprop_op": "set is", "subprop_value": ["x"]}],
            },
        ),
        "exposure_event.filters[0].subprop_op",
        "set is",
        "'glob does not match'",
    ),
    "deployment ids": (
        lambda c: c.flags.add_deployments("1", "7"),
        "deployment_ids",
        "7",
        "list of id",
    ),
    "include_archived": (
        lambda c: c.flags.list(include_archived="yes"),
        "include_archived",
        "yes",
        "True",
    ),
}


@pytest.mark.parametrize(("call", "field", "value", "allowed"), CASES.values(), ids=CASES.keys())
def test_bad_input_is_refused_before_sending(
    client: Client, double: DoubleAdapter, call, field, value, allowed
):
    with pytest.raises(ValidationError) as info:
        call(client)
    err = info.value
    assert err.field == field
    if value not in (None, "nan"):
        assert err.value == value
    assert allowed in str(err)
    assert err.allowed
    assert double.calls == []


@pytest.mark.parametrize("op", CONDITION_OPS)
def test_all_14_ops_are_accepted(client: Client, double: DoubleAdapter, op):
    client.flags.edit("1", target_segments=[seg(conditions=[cond(op=op)])])
    assert double.calls[0].body["targetSegments"][0]["conditions"][0]["op"] == op


def test_there_are_14_ops():
    assert len(CONDITION_OPS) == 14 == len(set(CONDITION_OPS))


def test_2000_inclusions_are_accepted(client: Client, double: DoubleAdapter):
    client.flags.add_users("1", "on", [f"u{i}" for i in range(2000)])
    assert len(double.calls[0].body["inclusions"]) == 2000


def test_valid_payload_kinds(client: Client, double: DoubleAdapter):
    for payload in ({"a": [1, None]}, "text", 3, 2.5, True, [1]):
        client.flags.edit_variant("1", "on", payload=payload)
    assert [c.body["payload"] for c in double.calls] == [
        {"a": [1, None]},
        "text",
        3,
        2.5,
        True,
        [1],
    ]


def test_segment_weights_may_be_fractional_and_edit_does_not_know_variants(
    client: Client, double: DoubleAdapter
):
    # in an edit the variants are not in the body, so weight keys cannot be checked
    client.flags.edit("1", target_segments=[seg(rollout_weights={"anything": 0.5})])
    assert double.calls[0].body["targetSegments"][0]["rolloutWeights"] == {"anything": 0.5}


def test_validation_does_not_mutate_the_input(client: Client, double: DoubleAdapter):
    segments = [seg()]
    before = repr(segments)
    client.flags.edit("1", target_segments=segments)
    assert repr(segments) == before


@pytest.mark.parametrize(
    ("check", "bad", "message", "field", "allowed"),
    [
        (
            lambda x: v.string_list(x, "tags"),
            "a",
            "tags must be a list of strings",
            "tags",
            "a list of strings",
        ),
        (
            lambda x: v.id_list(x, "deployments"),
            {"a": 1},
            "deployments must be a list of ids",
            "deployments",
            "a list of id strings",
        ),
        (
            lambda x: v.numeric_ids(x, "experiments"),
            5,
            "experiments must be a list of ids",
            "experiments",
            "a list of numeric ids",
        ),
        (
            lambda x: v.segments(x),
            b"x",
            "target_segments must be a list of segments",
            "target_segments",
            "a list of dicts",
        ),
        (
            lambda x: v.variants(x),
            None,
            "variants must be a list of variants",
            "variants",
            "a list of dicts with a 'key'",
        ),
        (
            lambda x: v.mutex_slots(x),
            "s",
            "slots must be a list of slots",
            "slots",
            "a list of dicts with 'percentage'",
        ),
        (
            lambda x: v.segments([seg(conditions=x)]),
            "c",
            "target_segments[0].conditions must be a list",
            "target_segments[0].conditions",
            "a list of conditions",
        ),
        (
            lambda x: v.segments([x]),
            3,
            "target_segments[0] must be a dict",
            "target_segments[0]",
            "{name, conditions, percentage, rollout_weights}",
        ),
        (
            lambda x: v.variants([x]),
            3,
            "variants[0] must be a dict",
            "variants[0]",
            "{key, name, description, payload}",
        ),
        (lambda x: v.condition(x, "c"), [1], "c must be a dict", "c", "{type, prop, op, values}"),
    ],
)
def test_list_and_dict_checks_name_the_field(check, bad, message, field, allowed):
    with pytest.raises(ValidationError) as info:
        check(bad)
    assert str(info.value).startswith(f"{message}, got ")
    assert info.value.field == field
    assert info.value.value == bad
    assert info.value.allowed == allowed

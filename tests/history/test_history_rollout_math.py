"""The shared rollout math (expkit._rollout) on hand-written configs."""

from __future__ import annotations

import math

import pytest

from expkit._rollout import (
    EVERYONE_ELSE,
    allocated_pct,
    effective,
    effective_everyone_else,
    fully_rolled_out_variant,
    percentage_value,
    populations,
    segment_allocates,
    shares,
    variant_keys,
    weight_value,
)


def _config(**fields):
    base = {
        "enabled": True,
        "variants": [{"key": "control"}, {"key": "treatment"}],
        "rolloutPercentage": 50,
        "rolloutWeights": {"control": 1, "treatment": 3},
        "targetSegments": [],
    }
    base.update(fields)
    return base


def test_shares_divides_by_the_sum_over_the_variants_only():
    assert shares({"a": 1, "b": 3, "ghost": 4}, ["a", "b"]) == {"a": 0.25, "b": 0.75}


def test_shares_gives_zero_to_a_variant_without_weight_and_keeps_order():
    result = shares({"b": 2}, ["a", "b", "c"])
    assert list(result) == ["a", "b", "c"]
    assert result == {"a": 0.0, "b": 1.0, "c": 0.0}


def test_shares_all_zero_weights_give_nobody_a_variant():
    assert shares({"a": 0, "b": 0}, ["a", "b"]) == {"a": 0.0, "b": 0.0}
    assert shares(None, ["a"]) == {"a": 0.0}
    assert shares({}, []) == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3.0),
        (2.5, 2.5),
        ("4", 4.0),
        (-1, 0.0),
        (True, 0.0),
        (None, 0.0),
        ("x", 0.0),
        (math.inf, 0.0),
    ],
)
def test_weight_value_reads_only_non_negative_finite_numbers(value, expected):
    assert weight_value(value) == expected


def test_percentage_value_clips_and_missing_is_nan():
    assert percentage_value(150) == 100.0
    assert percentage_value(-5) == 0.0
    assert percentage_value("25") == 25.0
    assert math.isnan(percentage_value(None))
    assert math.isnan(percentage_value("abc"))


def test_effective_everyone_else_is_enabled_times_percentage_times_share():
    assert effective_everyone_else(_config()) == {"control": 12.5, "treatment": 37.5}


def test_disabled_config_gives_zero_to_everyone():
    assert effective_everyone_else(_config(enabled=False)) == {"control": 0.0, "treatment": 0.0}
    assert allocated_pct(_config(enabled=False)) == 0.0


def test_missing_percentage_is_unknown_not_zero():
    config = _config()
    del config["rolloutPercentage"]
    values = effective_everyone_else(config)
    assert all(math.isnan(v) for v in values.values())


def test_snake_case_configs_are_read_too():
    config = {
        "enabled": True,
        "variants": [{"key": "on"}],
        "rollout_percentage": 20,
        "rollout_weights": {"on": 1},
    }
    assert effective_everyone_else(config) == {"on": 20.0}


def test_variant_keys_fall_back_to_weight_keys_without_variants():
    assert variant_keys({"rolloutWeights": {"x": 1, "y": 0}}) == ["x", "y"]
    assert variant_keys({"variants": [{"key": "a"}, {"key": "a"}, {"name": "no key"}]}) == ["a"]
    assert variant_keys({}) == []


def test_populations_lists_everyone_else_then_segments():
    config = _config(
        targetSegments=[
            {"name": "Beta", "percentage": 100, "rolloutWeights": {"treatment": 1}},
            {"percentage": 10, "rolloutWeights": {"control": 1, "treatment": 1}},
        ]
    )
    pops = populations(config)
    assert [(p.name, p.index) for p in pops] == [
        (EVERYONE_ELSE, None),
        ("Beta", 0),
        ("segment 2", 1),
    ]
    keys = variant_keys(config)
    assert pops[1].effective(keys) == {"control": 0.0, "treatment": 100.0}
    assert pops[2].effective(keys) == {"control": 5.0, "treatment": 5.0}
    assert pops[2].effective(keys, enabled=False) == {"control": 0.0, "treatment": 0.0}


def test_effective_with_unknown_enabled_is_nan():
    values = effective(50, {"a": 1}, ["a"], enabled=None)
    assert math.isnan(values["a"])


def test_segment_allocates_needs_a_percentage_and_a_weight():
    keys = ["a", "b"]
    assert segment_allocates({"percentage": 10, "rolloutWeights": {"a": 1}}, keys)
    assert not segment_allocates({"percentage": 0, "rolloutWeights": {"a": 1}}, keys)
    assert not segment_allocates({"percentage": 50, "rolloutWeights": {"a": 0, "b": 0}}, keys)
    assert not segment_allocates({"percentage": 50, "rolloutWeights": {"ghost": 1}}, keys)


def test_fully_rolled_out_variant():
    config = _config(rolloutPercentage=100, rolloutWeights={"control": 0, "treatment": 7})
    assert fully_rolled_out_variant(config) == "treatment"
    assert fully_rolled_out_variant(_config()) is None
    assert fully_rolled_out_variant(_config(rolloutPercentage=100, enabled=False)) is None


def test_helpers_do_not_mutate_the_config():
    config = _config(targetSegments=[{"name": "S", "percentage": 5, "rolloutWeights": {"a": 1}}])
    before = repr(config)
    populations(config)
    effective_everyone_else(config)
    allocated_pct(config)
    assert repr(config) == before

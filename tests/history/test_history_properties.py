"""Properties of rollout_history and diff_versions over generated configs (hypothesis)."""

from __future__ import annotations

import copy
import random

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import expkit
from tests.support import versions_frame

keys = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=0, max_size=4, unique=True)
weight = st.one_of(st.integers(0, 5), st.just(None))


@st.composite
def configs(draw):
    variants = draw(keys)
    weights = {k: w for k in variants if (w := draw(weight)) is not None}
    segments = [
        {
            "name": f"s{i}",
            "percentage": draw(st.integers(0, 100)),
            "rolloutWeights": {k: draw(st.integers(0, 3)) for k in variants},
            "conditions": [
                {
                    "prop": "country",
                    "op": "is",
                    "values": draw(st.lists(st.sampled_from("xyz"), max_size=3)),
                }
            ],
        }
        for i in range(draw(st.integers(0, 3)))
    ]
    return {
        "enabled": draw(st.booleans()),
        "variants": [{"key": k} for k in variants],
        "rolloutPercentage": draw(st.integers(0, 100)),
        "rolloutWeights": weights,
        "targetSegments": segments,
    }


@settings(max_examples=25, deadline=None)
@given(st.lists(configs(), min_size=1, max_size=4))
def test_effective_percentages_add_up_to_the_allocated_percentage(cfgs):
    history = expkit.rollout_history(versions_frame(cfgs))
    for (version, _segment), rows in history.groupby(["version", "segment"], sort=False):
        cfg = cfgs[int(version) - 1]
        total = float(rows["effective_pct"].sum())
        pct = float(rows["percentage"].iloc[0])
        any_weight = bool((rows["weight"].fillna(0) > 0).any())
        expected = (
            pct if cfg["enabled"] and any_weight and rows["variant_key"].notna().all() else 0.0
        )
        assert abs(total - expected) < 1e-9
        shares = rows["share"].astype(float)
        assert ((shares >= 0) & (shares <= 1)).all()
        assert abs(shares.sum() - (1.0 if any_weight else 0.0)) < 1e-9


@settings(max_examples=25, deadline=None)
@given(configs(), st.randoms(use_true_random=False))
def test_shuffling_lists_is_never_a_change_and_a_config_equals_itself(cfg, rnd: random.Random):
    shuffled = copy.deepcopy(cfg)
    rnd.shuffle(shuffled["variants"])
    rnd.shuffle(shuffled["targetSegments"])
    for segment in shuffled["targetSegments"]:
        for condition in segment["conditions"]:
            rnd.shuffle(condition["values"])
    assert expkit.diff_versions(cfg, shuffled).empty
    forward = expkit.diff_versions({}, cfg)
    backward = expkit.diff_versions(cfg, {})
    assert set(forward["path"]) == set(backward["path"])
    assert set(forward["change"]) <= {"added"} and set(backward["change"]) <= {"removed"}
    assert isinstance(forward, pd.DataFrame)

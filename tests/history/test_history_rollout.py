"""expkit.rollout_history on hand-built version lists, with exact expected numbers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import expkit
from expkit._history import HISTORY_SCHEMA
from expkit.errors import ValidationError
from tests.support import concat, versions_frame
from tests.support import flag_config as config


def _everyone_else(history: pd.DataFrame) -> pd.DataFrame:
    return history[history["segment_index"].isna()]


def _pivot(history: pd.DataFrame) -> dict[int, dict[str, float]]:
    rows = _everyone_else(history)
    return {
        int(v): dict(zip(g["variant_key"], g["effective_pct"].astype(float), strict=True))
        for v, g in rows.groupby("version")
    }


def test_ramp_10_50_100_gives_exact_effective_percentages():
    frame = versions_frame([config(percentage=p) for p in (10, 50, 100)])
    history = expkit.rollout_history(frame)
    assert _pivot(history) == {
        1: {"control": 5.0, "treatment": 5.0},
        2: {"control": 25.0, "treatment": 25.0},
        3: {"control": 50.0, "treatment": 50.0},
    }
    assert history["percentage"].tolist() == [10.0, 10.0, 50.0, 50.0, 100.0, 100.0]
    assert history["share"].tolist() == [0.5] * 6
    assert history["segment"].unique().tolist() == ["everyone else"]


def test_disabled_span_is_zero_and_flagged():
    frame = versions_frame(
        [config(percentage=50), config(percentage=50, enabled=False), config(percentage=50)]
    )
    history = expkit.rollout_history(frame)
    assert _pivot(history)[2] == {"control": 0.0, "treatment": 0.0}
    assert _pivot(history)[3] == {"control": 25.0, "treatment": 25.0}
    assert history.groupby("version")["enabled"].first().tolist() == [True, False, True]
    # the share of weights is still reported while disabled: only effective_pct drops
    assert history.loc[history["version"] == 2, "share"].tolist() == [0.5, 0.5]


def test_weight_change_1_1_to_1_3():
    frame = versions_frame(
        [
            config(weights={"control": 1, "treatment": 1}),
            config(weights={"control": 1, "treatment": 3}),
        ]
    )
    history = expkit.rollout_history(frame)
    assert _pivot(history) == {
        1: {"control": 50.0, "treatment": 50.0},
        2: {"control": 25.0, "treatment": 75.0},
    }
    v2 = history[history["version"] == 2]
    assert v2["weight"].tolist() == [1.0, 3.0]
    assert v2["share"].tolist() == [0.25, 0.75]


def test_renamed_variant_changes_the_key_from_that_version_on():
    frame = versions_frame(
        [
            config(variants=["off", "on"], weights={"off": 1, "on": 1}, percentage=20),
            config(
                variants=["off", "new-checkout"],
                weights={"off": 1, "new-checkout": 1},
                percentage=20,
            ),
            config(
                variants=["off", "new-checkout", "extra"],
                weights={"off": 1, "new-checkout": 2, "extra": 1},
                percentage=20,
            ),
        ]
    )
    history = expkit.rollout_history(frame)
    assert _pivot(history) == {
        1: {"off": 10.0, "on": 10.0},
        2: {"off": 10.0, "new-checkout": 10.0},
        3: {"off": 5.0, "new-checkout": 10.0, "extra": 5.0},
    }


def test_all_zero_weights_give_nobody_a_variant():
    frame = versions_frame([config(weights={"control": 0, "treatment": 0}, percentage=100)])
    history = expkit.rollout_history(frame)
    assert history["share"].tolist() == [0.0, 0.0]
    assert history["effective_pct"].tolist() == [0.0, 0.0]
    assert history["weight"].tolist() == [0.0, 0.0]


def test_segments_get_their_own_rows_by_name_and_index():
    segments = [
        {
            "name": "Employees",
            "percentage": 100,
            "rolloutWeights": {"treatment": 1},
            "conditions": [],
        },
        {"name": "Beta", "percentage": 40, "rolloutWeights": {"control": 1, "treatment": 3}},
    ]
    frame = versions_frame([config(percentage=0, segments=segments)])
    history = expkit.rollout_history(frame)
    by = {
        (seg, var): pct
        for seg, var, pct in zip(
            history["segment"], history["variant_key"], history["effective_pct"], strict=True
        )
    }
    assert by == {
        ("everyone else", "control"): 0.0,
        ("everyone else", "treatment"): 0.0,
        ("Employees", "control"): 0.0,
        ("Employees", "treatment"): 100.0,
        ("Beta", "control"): 10.0,
        ("Beta", "treatment"): 30.0,
    }
    assert history["segment_index"].tolist()[:2] == [pd.NA, pd.NA]
    assert history["segment_index"].dropna().tolist() == [0, 0, 1, 1]
    # a variant the segment's weights do not name has weight <NA> (not given), share 0
    employees_control = history[
        (history["segment"] == "Employees") & (history["variant_key"] == "control")
    ]
    assert employees_control["weight"].isna().all()


def test_missing_fields_are_unknown_not_zero():
    cfg = config()
    del cfg["rolloutPercentage"]
    del cfg["enabled"]
    frame = versions_frame([cfg])
    frame["enabled"] = pd.array([pd.NA], dtype="boolean")
    frame["rollout_percentage"] = pd.array([pd.NA], dtype="Float64")
    history = expkit.rollout_history(frame)
    assert history["percentage"].isna().all()
    assert history["enabled"].isna().all()
    assert history["effective_pct"].isna().all()
    assert history["share"].tolist() == [0.5, 0.5]


def test_frame_columns_fill_in_what_the_config_dict_lacks():
    frame = versions_frame([config(percentage=30)])
    frame["config"] = [{"variants": [{"key": "a"}, {"key": "b"}]}]
    frame["rollout_weights"] = [{"a": 1, "b": 1}]
    history = expkit.rollout_history(frame)
    assert history["effective_pct"].tolist() == [15.0, 15.0]


def test_config_cells_as_json_text_are_read():
    frame = versions_frame([config(percentage=30, weights={"control": 1, "treatment": 2})])
    frame["config"] = [json.dumps(frame["config"].iloc[0])]
    frame["rollout_weights"] = [None]
    history = expkit.rollout_history(frame)
    assert history["effective_pct"].tolist() == [10.0, 20.0]
    assert expkit.changes(frame)["path"].tolist() == ["(created)"]


def test_version_without_variants_keeps_a_row():
    frame = versions_frame([config(variants=[], weights={}, percentage=100, enabled=False)])
    history = expkit.rollout_history(frame)
    assert len(history) == 1
    assert history["variant_key"].isna().all()
    assert history["effective_pct"].tolist() == [0.0]
    assert history["enabled"].tolist() == [False]


def test_columns_and_dtypes_are_declared_even_when_empty():
    empty = versions_frame([]).iloc[0:0]
    history = expkit.rollout_history(empty)
    assert list(history.columns) == list(HISTORY_SCHEMA)
    assert {c: str(t) for c, t in history.dtypes.items()} == dict(HISTORY_SCHEMA)
    full = expkit.rollout_history(versions_frame([config()]))
    assert {c: str(t) for c, t in full.dtypes.items()} == dict(HISTORY_SCHEMA)


def test_several_configs_are_sorted_by_config_then_version():
    a = versions_frame([config(percentage=10), config(percentage=20)], config_id="2", key="b-flag")
    b = versions_frame(
        [config(variants=["on"], percentage=100)], config_id="1", key="a-flag", kind="experiment"
    )
    history = expkit.rollout_history(concat(a, b))
    assert history["config_id"].tolist() == ["1", "2", "2", "2", "2"]
    assert history["kind"].tolist()[0] == "experiment"
    assert history["created_by"].tolist()[0] == "ana@example.com"
    assert str(history["created_at"].iloc[0]) == "2026-01-01 00:00:00+00:00"


def test_input_is_not_mutated():
    frame = versions_frame([config(percentage=10), config(percentage=50)])
    before = frame.copy(deep=True)
    expkit.rollout_history(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_bad_input_raises_validation_error():
    with pytest.raises(ValidationError, match="versions_frame"):
        expkit.rollout_history([{"version": 1}])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="config_id"):
        expkit.rollout_history(pd.DataFrame({"version": [1]}))


def test_a_versions_frame_read_back_from_csv_gives_the_same_history_and_changes(tmp_path):
    frame = versions_frame(
        [
            config(percentage=10, segments=[{"name": "Beta", "percentage": 50}]),
            config(percentage=50, weights={"control": 1, "treatment": 3}, enabled=False),
        ]
    )
    path = tmp_path / "versions.csv"
    frame.to_csv(path, index=False)  # dict cells are written as Python literals, not JSON
    back = pd.read_csv(path)
    expected = expkit.rollout_history(frame)
    got = expkit.rollout_history(back)
    assert got["effective_pct"].tolist() == expected["effective_pct"].tolist()
    assert got["segment"].tolist() == expected["segment"].tolist()
    assert expkit.changes(back)["path"].tolist() == expkit.changes(frame)["path"].tolist()

"""expkit.diff_versions and expkit.changes: field-level, identity-matched diffs."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest

import expkit
from expkit._history import CHANGES_SCHEMA, DIFF_SCHEMA
from expkit.errors import ValidationError
from tests.support import concat, versions_frame
from tests.support import flag_config as config

SEGMENTS = [
    {
        "name": "Employees",
        "conditions": [
            {"type": "property", "prop": "gp:email", "op": "contains", "values": ["@acme.com"]}
        ],
        "percentage": 100,
        "bucketingKey": "amplitude_id",
        "rolloutWeights": {"treatment": 1},
    },
    {
        "name": "North America",
        "conditions": [
            {
                "type": "property",
                "prop": "country",
                "op": "is",
                "values": ["United States", "Canada"],
            },
            {"type": "property", "prop": "platform", "op": "is", "values": ["iOS"]},
        ],
        "percentage": 20,
        "bucketingKey": "amplitude_id",
        "rolloutWeights": {"control": 1, "treatment": 1},
    },
]


def _base():
    return config(
        segments=SEGMENTS,
        variants=["control", "treatment"],
        description="Checkout redesign",
        tags=["team:checkout"],
    )


def _rows(diff: pd.DataFrame) -> list[tuple]:
    return list(diff.astype(object).where(diff.notna(), None).itertuples(index=False, name=None))


def test_identical_configs_have_no_rows_and_the_declared_columns():
    diff = expkit.diff_versions(_base(), _base())
    assert diff.empty
    assert list(diff.columns) == list(DIFF_SCHEMA)
    assert {c: str(t) for c, t in diff.dtypes.items()} == dict(DIFF_SCHEMA)


def test_reordered_segments_variants_conditions_and_values_are_no_change():
    new = _base()
    new["targetSegments"].reverse()
    new["variants"].reverse()
    new["targetSegments"][0]["conditions"].reverse()
    new["targetSegments"][0]["conditions"][1]["values"].reverse()
    new["rolloutWeights"] = dict(reversed(list(new["rolloutWeights"].items())))
    assert expkit.diff_versions(_base(), new).empty


def test_changed_condition_value_is_one_row_with_its_path():
    new = _base()
    new["targetSegments"][1]["conditions"][0]["values"] = ["United States", "Mexico"]
    assert _rows(expkit.diff_versions(_base(), new)) == [
        (
            "target_segments[North America].conditions[country].values",
            '["United States", "Canada"]',
            '["United States", "Mexico"]',
            "changed",
        )
    ]


def test_variant_payload_change_shows_old_and_new_json():
    old = _base()
    old["variants"][1]["payload"] = {"layout": "single-page", "steps": [1, 2]}
    new = copy.deepcopy(old)
    new["variants"][1]["payload"] = {"layout": "two-step", "steps": [1, 2]}
    new["variants"].reverse()
    rows = _rows(expkit.diff_versions(old, new))
    assert rows == [
        (
            "variants[treatment].payload",
            '{"layout": "single-page", "steps": [1, 2]}',
            '{"layout": "two-step", "steps": [1, 2]}',
            "changed",
        )
    ]
    assert json.loads(rows[0][2]) == {"layout": "two-step", "steps": [1, 2]}


def test_added_and_removed_items_and_scalar_fields():
    new = _base()
    new["variants"].append({"key": "treatment-b"})
    new["rolloutWeights"] = {"control": 1, "treatment": 3, "treatment-b": 1}
    del new["targetSegments"][0]
    new["rolloutPercentage"] = 50
    new["enabled"] = False
    del new["description"]
    rows = {row[0]: row[1:] for row in _rows(expkit.diff_versions(_base(), new))}
    assert rows == {
        "variants[treatment-b]": (None, '{"key": "treatment-b"}', "added"),
        "rollout_weights.treatment": ("1", "3", "changed"),
        "rollout_weights.treatment-b": (None, "1", "added"),
        "target_segments[Employees]": (
            json.dumps(SEGMENTS[0], sort_keys=True, separators=(", ", ": ")),
            None,
            "removed",
        ),
        "rollout_percentage": ("100", "50", "changed"),
        "enabled": ("true", "false", "changed"),
        "description": ('"Checkout redesign"', None, "removed"),
    }


def test_renamed_variant_is_a_removal_and_an_addition():
    new = _base()
    new["variants"][1]["key"] = "new-checkout"
    new["rolloutWeights"] = {"control": 1, "new-checkout": 1}
    changes = dict(
        zip(
            expkit.diff_versions(_base(), new)["path"],
            expkit.diff_versions(_base(), new)["change"],
            strict=True,
        )
    )
    assert changes == {
        "variants[treatment]": "removed",
        "variants[new-checkout]": "added",
        "rollout_weights.treatment": "removed",
        "rollout_weights.new-checkout": "added",
    }


def test_numbers_compare_by_value_but_text_is_not_a_number():
    old = config(percentage=50)
    assert expkit.diff_versions(old, config(percentage=50.0)).empty
    old["bucketingSalt"] = 1
    new = copy.deepcopy(old)
    new["bucketingSalt"] = "1"
    assert _rows(expkit.diff_versions(old, new)) == [("bucketing_salt", "1", '"1"', "changed")]


def test_duplicate_condition_props_fall_back_to_position():
    old = config(
        segments=[
            {
                "name": "S",
                "percentage": 10,
                "conditions": [
                    {"prop": "country", "op": "is", "values": ["US"]},
                    {"prop": "country", "op": "is not", "values": ["CA"]},
                ],
            }
        ]
    )
    new = copy.deepcopy(old)
    new["targetSegments"][0]["conditions"][1]["values"] = ["MX"]
    assert expkit.diff_versions(old, new)["path"].tolist() == [
        "target_segments[S].conditions[1].values"
    ]


def test_rollout_weight_keys_and_parent_ids_are_kept_verbatim():
    old = config(weights={"myVariant": 1, "treatment": 1}, variants=["myVariant", "treatment"])
    old["parentDependencies"] = {"flags": {"12345": ["on"]}, "operator": "all"}
    new = copy.deepcopy(old)
    new["rolloutWeights"]["myVariant"] = 2
    new["parentDependencies"]["flags"]["12345"] = ["on", "off"]
    assert expkit.diff_versions(old, new)["path"].tolist() == [
        "rollout_weights.myVariant",
        "parent_dependencies.flags.12345",
    ]


def test_none_is_an_empty_config_and_bad_input_raises():
    diff = expkit.diff_versions(None, {"enabled": True})
    assert _rows(diff) == [("enabled", None, "true", "added")]
    with pytest.raises(ValidationError, match="old_config"):
        expkit.diff_versions("v1", {})  # type: ignore[arg-type]


def test_inputs_are_not_mutated():
    old, new = _base(), _base()
    new["targetSegments"].reverse()
    before = (json.dumps(old), json.dumps(new))
    expkit.diff_versions(old, new)
    assert (json.dumps(old), json.dumps(new)) == before


def test_changes_lists_every_consecutive_diff_with_who_and_when():
    one = versions_frame(
        [
            config(percentage=10),
            config(percentage=50),
            config(percentage=50),
            config(percentage=50, enabled=False),
        ],
        authors=["ana@example.com", "bo@example.com"],
    )
    two = versions_frame(
        [config(variants=["on"]), config(variants=["on"], percentage=5)],
        config_id="7",
        key="dark-mode",
        kind="experiment",
        start="2026-01-10T00:00:00Z",
    )
    log = expkit.changes(concat(two, one))
    assert list(log.columns) == list(CHANGES_SCHEMA)
    assert {c: str(t) for c, t in log.dtypes.items()} == dict(CHANGES_SCHEMA)
    got = [
        (cid, int(v), who, path, change)
        for cid, v, who, path, change in zip(
            log["config_id"],
            log["version"],
            log["created_by"],
            log["path"],
            log["change"],
            strict=True,
        )
    ]
    # oldest first across configs: Jan 1, Jan 8, Jan 10, Jan 17, Jan 22
    assert got == [
        ("101", 1, "ana@example.com", "(created)", "added"),
        ("101", 2, "bo@example.com", "rollout_percentage", "changed"),
        ("7", 1, "ana@example.com", "(created)", "added"),
        ("7", 2, "ana@example.com", "rollout_percentage", "changed"),
        ("101", 4, "bo@example.com", "enabled", "changed"),
    ]
    assert log.loc[1, "old"] == "10" and log.loc[1, "new"] == "50"
    assert log.loc[4, "created_at"] == pd.Timestamp("2026-01-22T00:00:00Z")
    assert log.loc[2, "kind"] == "experiment"
    assert log["created_at"].is_monotonic_increasing


def test_changes_of_a_frame_starting_after_version_1_says_so():
    frame = versions_frame([config(percentage=10), config(percentage=20)]).iloc[1:]
    log = expkit.changes(frame)
    assert log["path"].tolist() == ["(earliest in frame)"]
    assert log["version"].tolist() == [2]


def test_changes_needs_the_config_column():
    frame = versions_frame([config()]).drop(columns=["config"])
    with pytest.raises(ValidationError, match="config"):
        expkit.changes(frame)
    empty = expkit.changes(versions_frame([]).iloc[0:0])
    assert empty.empty and list(empty.columns) == list(CHANGES_SCHEMA)


def test_duplicate_segment_names_are_told_apart_by_occurrence():
    twin = [
        {"name": "Beta", "percentage": 10, "rolloutWeights": {"control": 1}},
        {"name": "Beta", "percentage": 20, "rolloutWeights": {"control": 1}},
    ]
    old = config(segments=twin)
    new = copy.deepcopy(old)
    new["targetSegments"][1]["percentage"] = 30
    assert _rows(expkit.diff_versions(old, new)) == [
        ("target_segments[Beta#2].percentage", "20", "30", "changed")
    ]

from __future__ import annotations

import copy
import json
from typing import Any

import pandas as pd
import pytest

from expkit import frames
from expkit._schema import FRAMES, SCHEMA, markdown
from expkit.errors import ValidationError

CONFIG_FRAMES = ("configs", "variants", "segments", "conditions")


def assert_schema(frame: pd.DataFrame, name: str) -> None:
    assert list(frame.columns) == list(SCHEMA[name])
    assert {col: str(dtype) for col, dtype in frame.dtypes.items()} == dict(SCHEMA[name])
    assert isinstance(frame.index, pd.RangeIndex)


def build(name: str, records: list[dict[str, Any]], **kwargs: Any) -> pd.DataFrame:
    return getattr(frames, name)(records, **kwargs)


# --------------------------------------------------------------------------- schema


def test_schema_covers_every_frame_function() -> None:
    assert set(FRAMES) == {
        "configs",
        "variants",
        "segments",
        "conditions",
        "versions",
        "inclusions",
        "deployments",
        "groups",
    }
    assert frames.SCHEMA is SCHEMA
    for name in FRAMES:
        assert callable(getattr(frames, name))


def test_schema_uses_only_declared_dtypes() -> None:
    allowed = {"string", "Int64", "Float64", "boolean", "datetime64[ns, UTC]", "object"}
    for name in FRAMES:
        assert set(SCHEMA[name].values()) <= allowed, name


def test_design_columns_are_all_present() -> None:
    # the columns DESIGN.md promises (extra columns are allowed, missing ones are not)
    design = {
        "configs": "id kind project_id key name description enabled archived evaluation_mode "
        "bucketing_key bucketing_salt bucketing_unit rollout_percentage rollout_weights "
        "n_variants n_segments deployments tags parent_ids state experiment_type decision "
        "start_date end_date created_by created_at last_modified_by last_modified_at",
        "variants": "config_id kind config_key variant_key name description payload "
        "rollout_weight share",
        "segments": "config_id kind config_key segment_index name percentage bucketing_key "
        "rollout_weights n_conditions",
        "conditions": "config_id kind config_key segment_index condition_index type prop op values",
        "versions": "config_id kind config_key version created_at created_by enabled "
        "rollout_percentage rollout_weights n_segments config",
        "inclusions": "config_id kind config_key variant_key inclusion_type value",
        "deployments": "id project_id label key deleted",
        "groups": "id kind project_id key name deleted",
    }
    for name, cols in design.items():
        missing = [c for c in cols.split() if c not in SCHEMA[name]]
        assert missing == [], name


@pytest.mark.parametrize("name", FRAMES)
def test_empty_input_gives_declared_columns_and_dtypes(name: str) -> None:
    assert_schema(build(name, []), name)
    assert_schema(frames.empty(name), name)
    assert len(frames.empty(name)) == 0


def test_empty_rejects_unknown_frame() -> None:
    with pytest.raises(ValidationError) as info:
        frames.empty("flags")
    assert info.value.field == "name"
    assert "configs" in str(info.value)


def test_markdown_lists_every_column_once() -> None:
    text = markdown()
    for name in FRAMES:
        assert f"**`{name}`**" in text
        for col, dtype in SCHEMA[name].items():
            assert f"| `{col}` | `{dtype}` |" in text


# --------------------------------------------------------------------------- configs


def test_configs_columns_dtypes_and_values(flag: dict, experiment: dict) -> None:
    df = frames.configs([flag, experiment])
    assert_schema(df, "configs")
    assert df["id"].tolist() == ["101", "202"]
    assert df["kind"].tolist() == ["flag", "experiment"]
    row = df.iloc[0]
    assert row["key"] == "new-checkout"
    assert row["enabled"] is True or bool(row["enabled"]) is True
    assert row["rollout_percentage"] == 25.0
    assert row["rollout_weights"] == {"on": 3, "off": 1}
    assert row["n_variants"] == 2
    assert row["n_segments"] == 2
    assert row["deployments"] == ["11", "12"]
    assert row["tags"] == ["squad:checkout"]
    assert row["parent_ids"] == ["12345"]
    assert row["created_at"] == pd.Timestamp("2022-09-09T15:29:47.940Z")
    assert row["last_modified_at"] == pd.Timestamp("2023-01-25T11:43:41.073Z")


def test_experiment_fields_are_empty_for_flags(flag: dict, experiment: dict) -> None:
    df = frames.configs([flag, experiment]).set_index("id")
    for col in ("state", "experiment_type", "decision", "start_date", "end_date"):
        assert pd.isna(df.loc["101", col]), col
    assert df.loc["202", "state"] == "running"
    assert df.loc["202", "experiment_type"] == "a-b-test"
    assert df.loc["202", "sticky_bucketing"] == False  # noqa: E712 (a numpy/pandas bool)
    assert pd.isna(df.loc["202", "decision"])
    assert pd.isna(df.loc["202", "end_date"])


def test_date_only_and_iso_timestamps_both_parse(experiment: dict) -> None:
    exp = dict(experiment, startDate="2023-07-29", endDate="2023-09-23T10:26:00.996Z")
    row = frames.configs([exp]).iloc[0]
    assert row["start_date"] == pd.Timestamp("2023-07-29", tz="UTC")
    assert row["end_date"] == pd.Timestamp("2023-09-23 10:26:00.996", tz="UTC")
    offset = dict(experiment, startDate="2023-07-29T12:00:00+02:00")
    assert frames.configs([offset]).iloc[0]["start_date"] == pd.Timestamp(
        "2023-07-29 10:00", tz="UTC"
    )


def test_unparseable_or_out_of_range_timestamps_become_nat(experiment: dict) -> None:
    bad = [
        dict(experiment, startDate="not a date"),
        dict(experiment, startDate="9999-12-31"),
        dict(experiment, startDate=12345),
    ]
    df = frames.configs(bad)
    assert_schema(df, "configs")
    assert df["start_date"].isna().all()


def test_unknown_fields_are_kept_in_extra(flag: dict, experiment: dict) -> None:
    df = frames.configs([flag, experiment])
    extra = df.loc[0, "extra"]
    assert extra["brandNewField"] == {"nested": [1, 2]}
    # parentDependencies' allowed variants have no column, so the object is kept whole
    assert extra["parentDependencies"] == {"flags": {"12345": ["on"]}, "operator": "all"}
    assert "key" not in extra and "variants" not in extra and "targetSegments" not in extra
    assert df.loc[1, "extra"] == {}


def test_numeric_ids_become_strings(flag: dict) -> None:
    numeric = dict(flag, id=101, projectId=9000, deployments=[11, 12])
    df = frames.configs([numeric])
    assert df.loc[0, "id"] == "101"
    assert df.loc[0, "project_id"] == "9000"
    assert df.loc[0, "deployments"] == ["11", "12"]


def test_kind_argument(flag: dict, experiment: dict) -> None:
    assert frames.configs([flag], kind="experiment")["kind"].tolist() == ["experiment"]
    by_id = frames.configs([flag, experiment], kind={"101": "experiment"})
    assert by_id["kind"].tolist() == ["experiment", "experiment"]
    with pytest.raises(ValidationError) as info:
        frames.configs([flag], kind="flags")
    assert info.value.field == "kind"
    assert info.value.allowed is not None and "'flag'" in info.value.allowed
    with pytest.raises(ValidationError):
        frames.variants([flag], kind={"101": "feature"})
    with pytest.raises(ValidationError):
        frames.segments([flag], kind=3)  # type: ignore[arg-type]


def test_records_must_be_a_list_of_dicts(flag: dict) -> None:
    with pytest.raises(ValidationError) as info:
        frames.configs(flag)  # type: ignore[arg-type]
    assert info.value.field == "records"
    with pytest.raises(ValidationError) as info:
        frames.configs([flag, None])  # type: ignore[list-item]
    assert info.value.field == "records[1]"


@pytest.mark.parametrize("name", CONFIG_FRAMES)
def test_config_flatteners_do_not_mutate_input(name: str, flag: dict, experiment: dict) -> None:
    records = [flag, experiment]
    before = copy.deepcopy(records)
    df = build(name, records)
    assert records == before
    # cells are not the input's own containers: editing the frame leaves the records alone
    for col in ("rollout_weights", "deployments", "tags", "values", "extra"):
        if col in df.columns and len(df):
            cell = df[col].iloc[0]
            if isinstance(cell, dict):
                cell["mutated"] = 1
            else:
                cell.append("mutated")
    assert records == before


# --------------------------------------------------------------------------- variants


def test_variants_weights_shares_and_payload(flag: dict, experiment: dict) -> None:
    df = frames.variants([flag, experiment])
    assert_schema(df, "variants")
    assert df["variant_key"].tolist() == ["on", "off", "control", "treatment"]
    assert df["config_key"].tolist() == ["new-checkout"] * 2 + ["pricing-test"] * 2
    assert df["rollout_weight"].tolist() == [3.0, 1.0, 1.0, 1.0]
    assert df["share"].tolist() == [0.75, 0.25, 0.5, 0.5]
    assert json.loads(df.loc[0, "payload"]) == {"color": "blue"}
    assert pd.isna(df.loc[1, "payload"])
    assert df["kind"].tolist() == ["flag", "flag", "experiment", "experiment"]


def test_variant_payload_is_json_text_for_every_json_value(flag: dict) -> None:
    payloads = [{"a": [1, None]}, "plain string", 3, True, ["x"], "ünïcode"]
    cfg = dict(flag, variants=[{"key": f"v{i}", "payload": p} for i, p in enumerate(payloads)])
    df = frames.variants([cfg])
    assert [json.loads(text) for text in df["payload"]] == payloads
    assert df.loc[5, "payload"] == '"ünïcode"'


def test_variant_weight_falls_back_to_variant_field_and_zero_total(flag: dict) -> None:
    cfg = dict(
        flag,
        rolloutWeights={"on": 0},
        variants=[{"key": "on"}, {"key": "off", "rolloutWeight": 0}, {"key": "gone"}],
    )
    df = frames.variants([cfg])
    assert df["rollout_weight"].tolist()[:2] == [0.0, 0.0]
    assert pd.isna(df.loc[2, "rollout_weight"])
    # all weights 0: nobody gets a variant; a variant without a weight gets nothing
    assert df["share"].tolist() == [0.0, 0.0, 0.0]
    df2 = frames.variants([dict(cfg, rolloutWeights={"on": 2, "off": 6})])
    assert df2["share"].tolist() == [0.25, 0.75, 0.0]


def test_variant_extra_keeps_unknown_fields(flag: dict) -> None:
    cfg = dict(flag, variants=[{"key": "on", "newThing": 1, "rolloutWeight": 5}])
    df = frames.variants([cfg])
    assert df.loc[0, "extra"] == {"newThing": 1}


# --------------------------------------------------------------------------- segments, conditions


def test_two_segments_three_conditions(flag: dict) -> None:
    seg = frames.segments([flag])
    cond = frames.conditions([flag])
    assert_schema(seg, "segments")
    assert_schema(cond, "conditions")
    assert len(seg) == 2
    assert len(cond) == 6
    assert seg["segment_index"].tolist() == [0, 1]
    assert seg["n_conditions"].tolist() == [3, 3]
    assert seg["percentage"].tolist() == [50.0, 12.5]
    assert seg["name"].tolist() == ["Segment 1", "Segment 2"]
    assert seg.loc[0, "rollout_weights"] == {"on": 1, "off": 1}
    assert cond["segment_index"].tolist() == [0, 0, 0, 1, 1, 1]
    assert cond["condition_index"].tolist() == [0, 1, 2, 0, 1, 2]
    assert cond["prop"].tolist() == ["gp:prop0", "gp:prop1", "gp:prop2"] * 2
    assert cond.loc[4, "values"] == ["v1", "w"]
    assert set(cond["config_id"]) == {"101"}
    assert set(cond["config_key"]) == {"new-checkout"}


def test_conditions_values_always_a_list_of_str(flag: dict) -> None:
    cfg = dict(
        flag,
        targetSegments=[
            {
                "name": "s",
                "conditions": [
                    {"prop": "a", "op": "is", "type": "property", "values": None},
                    {"prop": "b", "op": "is", "type": "property"},
                    {"prop": "c", "op": "greater", "type": "property", "values": [3, 4.5, True]},
                    {"prop": "d", "op": "is", "type": "property", "values": [], "x": 1},
                ],
            }
        ],
    )
    df = frames.conditions([cfg])
    assert df["values"].tolist() == [[], [], ["3", "4.5", "true"], []]
    assert df.loc[3, "extra"] == {"x": 1}


def test_segments_skip_configs_without_segments(flag: dict, experiment: dict) -> None:
    no_segments = dict(flag, targetSegments=None)
    assert len(frames.segments([no_segments, experiment])) == 0
    assert len(frames.conditions([no_segments, experiment])) == 0
    assert frames.configs([no_segments])["n_segments"].tolist() == [0]


# --------------------------------------------------------------------------- versions


def test_versions_sorted_with_config_dict(version_records: list[dict]) -> None:
    df = frames.versions(version_records)
    assert_schema(df, "versions")
    assert df["config_id"].tolist() == ["101", "101", "202"]
    assert df["version"].tolist() == [1, 2, 1]
    assert df["kind"].tolist() == ["flag", "flag", "experiment"]
    assert df["enabled"].tolist() == [False, True, True]
    assert df["config_key"].tolist() == ["new-checkout", "new-checkout", "pricing-test"]
    assert df["n_segments"].tolist() == [2, 2, 0]
    assert df.loc[0, "config"] is version_records[2]["flagConfig"]
    assert df.loc[0, "created_at"] == pd.Timestamp("2022-09-09T15:29:47.940Z")
    assert df.loc[2, "rollout_weights"] == {"control": 1, "treatment": 1}


def test_versions_kind_mapping_beats_inference(version_records: list[dict]) -> None:
    df = frames.versions(version_records, kind={"202": "flag"})
    assert df["kind"].tolist() == ["flag", "flag", "flag"]


def test_versions_keep_unknown_top_level_fields(version_records: list[dict]) -> None:
    recs = [dict(version_records[0], comment="why")]
    assert frames.versions(recs).loc[0, "extra"] == {"comment": "why"}


def test_versions_do_not_mutate_input(version_records: list[dict]) -> None:
    before = copy.deepcopy(version_records)
    frames.versions(version_records)
    assert version_records == before


# --------------------------------------------------------------------------- inclusions


def test_inclusions_one_row_per_value_with_positions() -> None:
    recs = [
        {
            "config_id": "101",
            "kind": "flag",
            "config_key": "f",
            "variant_key": "on",
            "users": ["a@example.com", "b"],
            "cohorts": ["coh1"],
        },
        {"config_id": "202", "kind": "experiment", "config_key": "e", "variant_key": "x"},
    ]
    df = frames.inclusions(recs)
    assert_schema(df, "inclusions")
    assert df["value"].tolist() == ["a@example.com", "b", "coh1"]
    assert df["inclusion_type"].tolist() == ["user", "user", "cohort"]
    assert df["position"].tolist() == [0, 1, 0]
    assert set(df["variant_key"]) == {"on"}


# --------------------------------------------------------------------------- deployments, groups

KEY = "client-1a2b3c4d5e6f7g8h9i0jf3a9"


def test_deployment_keys_masked_by_default() -> None:
    recs = [
        {"id": "11", "projectId": "9000", "label": "web", "key": KEY, "deleted": False},
        {"id": 12, "projectId": 9000, "label": "old", "key": "short-key", "deleted": True, "x": 1},
    ]
    df = frames.deployments(recs)
    assert_schema(df, "deployments")
    assert df["key"].tolist() == ["clie…f3a9", "…"]
    assert KEY not in repr(df) and KEY not in df.to_csv()
    assert df["id"].tolist() == ["11", "12"]
    assert df["deleted"].tolist() == [False, True]
    assert df.loc[1, "extra"] == {"x": 1}
    assert frames.deployments(recs, mask_keys=False)["key"].tolist() == [KEY, "short-key"]


def test_groups_from_mutexes_and_holdouts() -> None:
    mutex = {
        "id": "7",
        "projectId": 9000,
        "name": "checkout mutex",
        "key": "mutex-key",
        "description": None,
        "slots": [{"name": "SLOT 1", "index": 1, "variantKey": "slot-1", "percentage": 100}],
    }
    holdout = {
        "id": "8",
        "projectId": "9000",
        "name": "Holdout",
        "key": "holdout-abcdefgh",
        "holdoutPercentage": 5,
        "deleted": False,
    }
    df = frames.groups([mutex, holdout])
    assert_schema(df, "groups")
    assert df["kind"].tolist() == ["mutex", "holdout"]
    assert df["project_id"].tolist() == ["9000", "9000"]
    assert df.loc[0, "extra"]["slots"][0]["variantKey"] == "slot-1"
    assert df.loc[1, "extra"] == {"holdoutPercentage": 5}
    assert frames.groups([holdout], kind="mutex")["kind"].tolist() == ["mutex"]
    with pytest.raises(ValidationError):
        frames.groups([holdout], kind="flag")

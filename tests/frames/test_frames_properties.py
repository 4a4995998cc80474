"""Property tests: arbitrary API-shaped records never crash a flattener or break the schema."""

from __future__ import annotations

import copy
from datetime import UTC
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expkit import frames
from expkit._schema import SCHEMA

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
json_value = st.recursive(
    scalar,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


def field(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The right type most of the time, else null or any JSON value (a wrong type)."""
    return st.one_of(strategy, strategy, st.none(), json_value)


ids = st.one_of(st.text(min_size=1, max_size=6), st.integers(0, 10**9))
text = st.text(max_size=10)
numbers = st.one_of(st.integers(-5, 200), st.floats(-5, 200))
timestamps = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.dates().map(lambda d: d.isoformat()),
    text,
)
weights = st.dictionaries(text, field(st.integers(0, 10)), max_size=3)
str_lists = st.lists(field(text), max_size=3)

condition = st.fixed_dictionaries(
    {},
    optional={
        "type": field(st.just("property")),
        "prop": field(text),
        "op": field(st.sampled_from(["is", "is not", "set contains"])),
        "values": field(str_lists),
        "newField": json_value,
    },
)
segment = st.fixed_dictionaries(
    {},
    optional={
        "name": field(text),
        "conditions": field(st.lists(field(condition), max_size=3)),
        "percentage": field(numbers),
        "bucketingKey": field(text),
        "rolloutWeights": field(weights),
        "newField": json_value,
    },
)
variant = st.fixed_dictionaries(
    {},
    optional={
        "key": field(text),
        "name": field(text),
        "description": field(text),
        "payload": json_value,
        "rolloutWeight": field(numbers),
        "newField": json_value,
    },
)
config_fields = st.fixed_dictionaries(
    {},
    optional={
        "id": field(ids),
        "projectId": field(ids),
        "key": field(text),
        "name": field(text),
        "description": field(text),
        "enabled": field(st.booleans()),
        "archived": field(st.booleans()),
        "deleted": field(st.booleans()),
        "evaluationMode": field(st.sampled_from(["remote", "local"])),
        "bucketingKey": field(text),
        "bucketingSalt": field(text),
        "bucketingUnit": field(text),
        "rolloutPercentage": field(numbers),
        "rolloutWeights": field(weights),
        "variants": field(st.lists(field(variant), max_size=3)),
        "targetSegments": field(st.lists(field(segment), max_size=3)),
        "deployments": field(st.lists(field(ids), max_size=3)),
        "tags": field(str_lists),
        "parentDependencies": field(
            st.fixed_dictionaries(
                {"flags": field(st.dictionaries(text, str_lists, max_size=2))},
                optional={"operator": st.just("all")},
            )
        ),
        "state": field(st.sampled_from(["planning", "running", "decision-made"])),
        "experimentType": field(text),
        "decision": field(text),
        "startDate": field(timestamps),
        "endDate": field(timestamps),
        "createdBy": field(text),
        "createdAt": field(timestamps),
        "lastModifiedBy": field(text),
        "lastModifiedAt": field(timestamps),
    },
)
unknown = st.dictionaries(st.text(min_size=1, max_size=6).map(lambda s: "x_" + s), json_value)
config = st.builds(lambda known, extra: {**extra, **known}, config_fields, unknown)
version = st.builds(
    lambda known, extra: {**extra, **known},
    st.fixed_dictionaries(
        {},
        optional={
            "version": field(st.integers(1, 50)),
            "createdAt": field(timestamps),
            "createdBy": field(text),
            "flagConfig": field(config),
        },
    ),
    unknown,
)
inclusion = st.fixed_dictionaries(
    {},
    optional={
        "config_id": field(ids),
        "kind": st.sampled_from(["flag", "experiment"]),
        "config_key": field(text),
        "variant_key": field(text),
        "users": field(str_lists),
        "cohorts": field(str_lists),
    },
)
deployment = st.builds(
    lambda known, extra: {**extra, **known},
    st.fixed_dictionaries(
        {},
        optional={
            "id": field(ids),
            "projectId": field(ids),
            "label": field(text),
            "key": field(text),
            "deleted": field(st.booleans()),
        },
    ),
    unknown,
)
group = st.builds(
    lambda known, extra: {**extra, **known},
    st.fixed_dictionaries(
        {},
        optional={
            "id": field(ids),
            "projectId": field(ids),
            "key": field(text),
            "name": field(text),
            "description": field(text),
            "deleted": field(st.booleans()),
            "slots": json_value,
            "holdoutPercentage": field(numbers),
        },
    ),
    unknown,
)


def check(frame: pd.DataFrame, name: str) -> None:
    schema = SCHEMA[name]
    assert list(frame.columns) == list(schema)
    assert {c: str(t) for c, t in frame.dtypes.items()} == dict(schema)
    assert isinstance(frame.index, pd.RangeIndex)
    for col, dtype in schema.items():
        cells = frame[col].dropna().tolist() if dtype != "object" else frame[col].tolist()
        if dtype == "string":
            assert all(isinstance(v, str) for v in cells), col
        if col in ("deployments", "tags", "parent_ids", "values"):
            assert all(isinstance(v, list) and all(isinstance(s, str) for s in v) for v in cells)
        if col in ("rollout_weights", "extra", "config"):
            assert all(isinstance(v, dict) for v in cells), col
        if col == "rollout_weights":
            assert all(isinstance(k, str) for v in cells for k in v)


def _items(value: Any) -> list[Any]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


@SETTINGS
@given(st.lists(config, max_size=4))
def test_config_frames_respect_schema(records: list[dict[str, Any]]) -> None:
    before = copy.deepcopy(records)
    cfg = frames.configs(records)
    check(cfg, "configs")
    assert len(cfg) == len(records)
    var = frames.variants(records)
    check(var, "variants")
    assert len(var) == sum(len(_items(r.get("variants"))) for r in records)
    assert var["share"].notna().all()
    seg = frames.segments(records)
    check(seg, "segments")
    segs = [s for r in records for s in _items(r.get("targetSegments"))]
    assert len(seg) == len(segs)
    cond = frames.conditions(records)
    check(cond, "conditions")
    assert len(cond) == sum(len(_items(s.get("conditions"))) for s in segs)
    assert set(cfg["kind"]) <= {"flag", "experiment"}
    assert records == before


@SETTINGS
@given(st.lists(version, max_size=5))
def test_versions_respect_schema(records: list[dict[str, Any]]) -> None:
    before = copy.deepcopy(records)
    df = frames.versions(records)
    check(df, "versions")
    assert len(df) == len(records)
    keys = list(zip(df["config_id"].fillna("\uffff"), df["version"].fillna(-1), strict=True))
    assert keys == sorted(keys, key=lambda k: (k[0] == "\uffff", k[0], k[1] == -1, k[1]))
    assert records == before


@SETTINGS
@given(st.lists(inclusion, max_size=4))
def test_inclusions_respect_schema(records: list[dict[str, Any]]) -> None:
    df = frames.inclusions(records)
    check(df, "inclusions")
    assert set(df["inclusion_type"]) <= {"user", "cohort"}
    assert (df["position"] >= 0).all()


@SETTINGS
@given(st.lists(deployment, max_size=4))
def test_deployments_respect_schema_and_never_show_keys(records: list[dict[str, Any]]) -> None:
    df = frames.deployments(records)
    check(df, "deployments")
    for rec, masked in zip(records, df["key"], strict=True):
        key = rec.get("key")
        if isinstance(key, str) and len(key) >= 9:
            assert masked != key and key not in str(masked)
    check(frames.deployments(records, mask_keys=False), "deployments")


@SETTINGS
@given(st.lists(group, max_size=4))
def test_groups_respect_schema(records: list[dict[str, Any]]) -> None:
    df = frames.groups(records)
    check(df, "groups")
    assert set(df["kind"]) <= {"mutex", "holdout"}


@SETTINGS
@given(
    st.lists(config, max_size=3), st.lists(version, max_size=3), st.lists(deployment, max_size=2)
)
def test_frames_of_any_records_survive_save_and_load(
    tmp_path_factory: Any, configs: list[Any], versions: list[Any], deployments: list[Any]
) -> None:
    import expkit

    built = {name: frames.empty(name) for name in SCHEMA}
    for name in ("configs", "variants", "segments", "conditions"):
        built[name] = getattr(frames, name)(configs)
    built["versions"] = frames.versions(versions)
    built["deployments"] = frames.deployments(deployments)
    snap = expkit.Snapshot(**built, taken_at="2026-01-01T00:00:00Z")
    loaded = expkit.Snapshot.load(snap.save(tmp_path_factory.mktemp("snap")))
    for name in SCHEMA:
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(snap, name), obj=name)

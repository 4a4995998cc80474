"""check() on arbitrary API-shaped configs and histories: never crashes, always the schema."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expkit import frames, hygiene

NOW = pd.Timestamp("2026-11-20T09:00:00Z")

keys = st.sampled_from(["on", "off", "control", "treatment", "ghost", ""])
odd = st.one_of(st.none(), st.booleans(), st.integers(-5, 200), st.floats(), st.text(max_size=3))
weights = st.dictionaries(keys, st.one_of(st.integers(0, 5), odd), max_size=4)
condition = st.fixed_dictionaries(
    {},
    optional={
        "type": st.just("property"),
        "prop": st.sampled_from(["country", "gp:email"]),
        "op": st.sampled_from(["is", "is not"]),
        "values": st.one_of(st.none(), st.lists(st.text(max_size=4), max_size=3)),
    },
)
segment = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.none(), st.text(max_size=5)),
        "percentage": st.one_of(st.integers(0, 100), odd),
        "rolloutWeights": st.one_of(weights, odd),
        "conditions": st.one_of(st.lists(condition, max_size=3), odd),
    },
)
config = st.fixed_dictionaries(
    {"id": st.sampled_from(["1", "2", "3", "4"])},
    optional={
        "key": st.text(max_size=6),
        "description": st.one_of(st.none(), st.text(max_size=6)),
        "enabled": st.one_of(st.booleans(), odd),
        "archived": st.booleans(),
        "rolloutPercentage": st.one_of(st.integers(0, 100), odd),
        "rolloutWeights": st.one_of(weights, odd),
        "variants": st.one_of(
            st.lists(st.one_of(st.fixed_dictionaries({"key": keys}), odd), max_size=3), odd
        ),
        "targetSegments": st.one_of(st.lists(segment, max_size=3), odd),
        "deployments": st.one_of(st.lists(st.sampled_from(["1", "9"]), max_size=2), odd),
        "tags": st.one_of(
            st.lists(
                st.sampled_from(
                    [
                        "t",
                        "expkit:permanent",
                        "expkit:expires=2026-01-01",
                        "expkit:expires=2027-01-01",
                        "expkit:expires=2026-02-30",
                        "expkit:snooze-until=2027-01-01",
                        "expkit:snooze-until=soon",
                    ]
                ),
                max_size=3,
            ),
            odd,
        ),
        "stickyBucketing": st.one_of(st.booleans(), odd),
        "bucketingSalt": st.one_of(st.sampled_from(["a", "b"]), odd),
        "exposureEvent": st.one_of(st.none(), st.just({"event_type": "seen", "filters": []}), odd),
        "parentDependencies": st.one_of(
            st.fixed_dictionaries(
                {"flags": st.dictionaries(st.sampled_from(["1", "77"]), st.lists(keys, max_size=2))}
            ),
            odd,
        ),
        "state": st.sampled_from(["running", "planning", "decision-made"]),
        "startDate": st.sampled_from(["2025-01-01", "2026-11-19", "garbage"]),
        "decision": st.one_of(st.none(), st.just("rollout")),
    },
)
version = st.fixed_dictionaries(
    {
        "version": st.integers(1, 30),
        "createdAt": st.sampled_from(
            ["2025-01-01T00:00:00Z", "2026-11-15T00:00:00Z", "2026-11-20T09:00:00Z", "bad"]
        ),
        "createdBy": st.one_of(st.none(), st.just("a@example.com")),
        "flagConfig": config,
    }
)
inclusion = st.fixed_dictionaries(
    {
        "config_id": st.sampled_from(["1", "2"]),
        "kind": st.just("flag"),
        "config_key": st.just("k"),
        "variant_key": keys,
        "users": st.lists(st.sampled_from(["u1", "a@b.example", "x"]), max_size=4),
        "cohorts": st.lists(st.just("c1"), max_size=1),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    configs=st.lists(config, max_size=4, unique_by=lambda c: c["id"]),
    versions=st.lists(version, max_size=6),
    inclusions=st.lists(inclusion, max_size=3),
    refs=st.one_of(
        st.none(),
        st.lists(
            st.tuples(
                st.sampled_from(["", "a", "k", "gone"]),
                st.sampled_from(["flag", "experiment", None]),
            ),
            max_size=4,
        ).map(
            lambda rows: pd.DataFrame(
                {
                    "key": [k for k, _ in rows],
                    "kind": pd.array([kind for _, kind in rows], dtype="string"),
                    "path": ["src/a.ts"] * len(rows),
                    "line": pd.array(range(1, len(rows) + 1), dtype="Int64"),
                }
            )
        ),
    ),
)
def test_check_never_crashes_and_keeps_the_schema(configs, versions, inclusions, refs) -> None:
    snap = SimpleNamespace(
        configs=frames.configs(configs),
        variants=frames.variants(configs),
        segments=frames.segments(configs),
        conditions=frames.conditions(configs),
        versions=frames.versions(versions),
        inclusions=frames.inclusions(inclusions),
        deployments=frames.deployments([{"id": "1", "deleted": False}]),
        groups=frames.empty("groups"),
        taken_at=NOW,
    )
    found = hygiene.check(snap, refs=refs)
    assert found.dtypes.to_dict() == dict(hygiene.FINDINGS_COLUMNS)
    assert set(found["rule"]) <= set(hygiene.RULES)
    # a key found in code that no config has is the only finding without a config id
    no_id = found["id"].isna()
    assert set(found.loc[no_id, "rule"]) <= {"archived-but-referenced"}
    assert found.loc[~no_id, "id"].isin(snap.configs["id"]).all()
    assert not found[~no_id].duplicated(["rule", "id"]).any()
    assert not found[no_id].duplicated(["rule", "key", "kind"]).any()
    # snoozed configs have no findings at all
    snoozed = {z["id"] for z in found.attrs["snoozed"]}
    assert not found["id"].isin(snoozed).any()
    since = found["since"].dropna()
    assert (since <= NOW).all()

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
        "tags": st.one_of(st.lists(st.sampled_from(["t", "expkit:permanent"]), max_size=2), odd),
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
)
def test_check_never_crashes_and_keeps_the_schema(configs, versions, inclusions) -> None:
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
    found = hygiene.check(snap)
    assert found.dtypes.to_dict() == dict(hygiene.FINDINGS_COLUMNS)
    assert set(found["rule"]) <= set(hygiene.RULES)
    assert found["id"].isin(snap.configs["id"]).all()
    assert not found.duplicated(["rule", "id"]).any()
    since = found["since"].dropna()
    assert (since <= NOW).all()

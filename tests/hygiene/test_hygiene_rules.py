"""Each rule fires on a hand-built org and stays quiet on its near miss."""

from __future__ import annotations

import pandas as pd
import pytest

from expkit import hygiene
from tests.support import NOW
from tests.support import HygieneOrg as Org


def findings(org: Org, rule: str, **overrides) -> pd.DataFrame:
    found = hygiene.check(org.snapshot(), **overrides)
    return found[found["rule"] == rule].reset_index(drop=True)


def keys(org: Org, rule: str, **overrides) -> list[str]:
    return findings(org, rule, **overrides)["key"].tolist()


def test_a_healthy_org_has_no_findings(org: Org) -> None:
    org.flag("healthy")
    org.experiment("healthy-exp", startDate="2026-11-01")
    found = hygiene.check(org.snapshot())
    assert found.empty
    assert list(found.columns) == list(hygiene.FINDINGS_COLUMNS)


# --------------------------------------------------------------------------- fully-rolled-out


def test_fully_rolled_out_counts_days_from_the_start_of_the_run(org: Org) -> None:
    org.flag(
        "ramped",
        rolloutPercentage=100,
        history=[(200, {"rolloutPercentage": 10}), (94, {}), (40, {"description": "edited"})],
        description="edited",
    )
    found = findings(org, "fully-rolled-out")
    assert found["key"].tolist() == ["ramped"]
    row = found.iloc[0]
    assert row["since"] == NOW - pd.Timedelta(days=94)
    assert "for 94 days" in row["detail"] and "'on'" in row["detail"]
    assert row["severity"] == "warning"
    assert row["owner"] == "editor@example.com"


@pytest.mark.parametrize(("days", "fires"), [(30, True), (29.99, False)])
def test_fully_rolled_out_boundary_is_exactly_stale_days(org: Org, days: float, fires: bool):
    org.flag(
        "ramped", rolloutPercentage=100, history=[(100, {"rolloutPercentage": 50}), (days, {})]
    )
    assert keys(org, "fully-rolled-out") == (["ramped"] if fires else [])


def test_fully_rolled_out_stale_days_is_configurable(org: Org) -> None:
    org.flag("ramped", rolloutPercentage=100, history=[(200, {"rolloutPercentage": 5}), (40, {})])
    assert keys(org, "fully-rolled-out") == ["ramped"]
    assert keys(org, "fully-rolled-out", stale_days=41) == []


def test_fully_rolled_out_needs_one_variant_with_all_the_weight(org: Org) -> None:
    org.flag(
        "split",
        rolloutPercentage=100,
        variants=[{"key": "a"}, {"key": "b"}],
        rolloutWeights={"a": 1, "b": 1},
    )
    org.flag(
        "one-weight",
        rolloutPercentage=100,
        variants=[{"key": "a"}, {"key": "b"}],
        rolloutWeights={"a": 0, "b": 3},
    )
    assert keys(org, "fully-rolled-out") == ["one-weight"]
    assert "'b'" in findings(org, "fully-rolled-out").loc[0, "detail"]


def test_fully_rolled_out_not_when_a_segment_serves_something_else(org: Org) -> None:
    segment = {
        "name": "internal",
        "percentage": 100,
        "rolloutWeights": {"on": 0, "off": 1},
        "conditions": [{"type": "property", "prop": "country", "op": "is", "values": ["DE"]}],
    }
    org.flag(
        "diverging",
        rolloutPercentage=100,
        variants=[{"key": "on"}, {"key": "off"}],
        rolloutWeights={"on": 1, "off": 0},
        targetSegments=[segment],
    )
    same = dict(segment, rolloutWeights={"on": 1, "off": 0})
    org.flag(
        "redundant-segment",
        rolloutPercentage=100,
        variants=[{"key": "on"}, {"key": "off"}],
        rolloutWeights={"on": 1, "off": 0},
        targetSegments=[same],
    )
    assert keys(org, "fully-rolled-out") == ["redundant-segment"]


def test_fully_rolled_out_switching_variant_restarts_the_clock(org: Org) -> None:
    org.flag(
        "switched",
        rolloutPercentage=100,
        variants=[{"key": "a"}, {"key": "b"}],
        rolloutWeights={"a": 0, "b": 1},
        history=[(300, {"rolloutWeights": {"a": 1, "b": 0}}), (10, {})],
    )
    assert keys(org, "fully-rolled-out") == []


def test_permanent_tag_suppresses_staleness_rules(org: Org) -> None:
    org.flag("kept-on", rolloutPercentage=100, tags=["team:core", "expkit:permanent"])
    org.flag("kill-switch", enabled=False, tags=["expkit:permanent"])
    org.experiment("holdback", startDate="2025-01-01", tags=["expkit:permanent"])
    found = hygiene.check(org.snapshot())
    staleness = {r.id for r in hygiene.RULES.values() if r.staleness}
    assert staleness == {"fully-rolled-out", "inactive", "long-running-experiment"}
    assert not set(found["rule"]) & staleness
    # the tag is not documentation: the kill switch still has no team tag
    assert found.loc[found["key"] == "kill-switch", "rule"].tolist() == ["undocumented"]


def test_permanent_tag_name_is_configurable(org: Org) -> None:
    org.flag("kept-on", rolloutPercentage=100, tags=["team:core", "keep"])
    assert keys(org, "fully-rolled-out") == ["kept-on"]
    assert keys(org, "fully-rolled-out", permanent_tag="keep") == []


def test_archived_configs_are_skipped_by_most_rules(org: Org) -> None:
    archived = org.flag(
        "gone",
        archived=True,
        enabled=False,
        description="",
        tags=[],
        deployments=[],
        history=[(400, {}), (3, {})],
    )
    org.include(archived, "on", ["someone@example.com"])
    found = hygiene.check(org.snapshot())
    assert sorted(found["rule"]) == ["pii-inclusion", "recent-change"]
    included = {r.id for r in hygiene.RULES.values() if r.includes_archived}
    # bad-tag: a bad date on an archived config is still wrong; archived-but-referenced: only
    # with refs, and only about archived configs
    assert included == {
        "pii-inclusion",
        "recent-change",
        "bad-tag",
        "archived-but-referenced",
    }


def test_deleted_configs_are_ignored(org: Org) -> None:
    org.flag("deleted", deleted=True, enabled=False, description="")
    assert hygiene.check(org.snapshot()).empty


# --------------------------------------------------------------------------- inactive


def test_inactive_disabled_since_the_version_that_disabled_it(org: Org) -> None:
    org.flag("off", enabled=False, history=[(300, {"enabled": True}), (45, {}), (5, {})])
    found = findings(org, "inactive", recent_days=1)
    assert found["key"].tolist() == ["off"]
    assert found.loc[0, "since"] == NOW - pd.Timedelta(days=45)
    assert found.loc[0, "detail"].startswith("disabled, for 45 days")


@pytest.mark.parametrize(("days", "fires"), [(30, True), (29.5, False)])
def test_inactive_boundary(org: Org, days: float, fires: bool) -> None:
    org.flag("off", enabled=False, history=[(300, {"enabled": True}), (days, {})])
    assert keys(org, "inactive") == (["off"] if fires else [])


def test_inactive_zero_percent_with_no_allocating_segment(org: Org) -> None:
    org.flag("zero", rolloutPercentage=0)
    org.flag("zero-weights", rolloutWeights={"on": 0})
    segment = {"name": "beta", "percentage": 100, "rolloutWeights": {"on": 1}, "conditions": []}
    org.flag("segment-only", rolloutPercentage=0, targetSegments=[segment])
    found = findings(org, "inactive")
    assert found["key"].tolist() == ["zero", "zero-weights"]
    assert found.loc[0, "detail"].startswith("enabled but allocates nobody")
    assert keys(org, "inactive", inactive_days=401) == []


def test_inactive_an_unknown_rollout_percentage_is_not_zero(org: Org) -> None:
    org.flag("zeroed", rolloutPercentage=0, history=[(300, {"rolloutPercentage": None}), (10, {})])
    org.flag("unknown", rolloutPercentage=None)
    assert keys(org, "inactive") == []
    assert findings(org, "inactive", inactive_days=10)["since"].tolist() == [
        NOW - pd.Timedelta(days=10)
    ]


# --------------------------------------------------------------------------- no-deployment


def test_no_deployment(org: Org) -> None:
    org.flag("nowhere", deployments=[], history=[(400, {"deployments": ["1"]}), (12, {})])
    org.flag("only-deleted", deployments=["2"])
    org.flag("unknown-deployment", deployments=["99"])
    org.flag("deployed", deployments=["1", "2"])
    org.flag("off-and-nowhere", deployments=[], enabled=False)
    found = findings(org, "no-deployment")
    assert found["key"].tolist() == ["nowhere", "only-deleted", "unknown-deployment"]
    assert found.loc[0, "since"] == NOW - pd.Timedelta(days=12)
    assert "(2)" in found.loc[1, "detail"]


# --------------------------------------------------------------------------- segments


def _segment(name: str, percentage: float, weights: dict, values: list[str]) -> dict:
    return {
        "name": name,
        "percentage": percentage,
        "rolloutWeights": weights,
        "conditions": [
            {"type": "property", "prop": "country", "op": "is", "values": ["DE"]},
            {"type": "property", "prop": "platform", "op": "is", "values": values},
        ],
    }


def test_empty_condition(org: Org) -> None:
    org.flag("empty", targetSegments=[_segment("beta", 50, {"on": 1}, [])])
    org.flag("full", targetSegments=[_segment("beta", 50, {"on": 1}, ["ios"])])
    found = findings(org, "empty-condition")
    assert found["key"].tolist() == ["empty"]
    assert found.loc[0, "detail"] == "segment 1 ('beta'), condition 2 (platform is): no values"
    assert found.loc[0, "severity"] == "error"


def test_zero_percent_segment(org: Org) -> None:
    org.flag(
        "zero-seg",
        targetSegments=[
            _segment("ok", 10, {"on": 1}, ["ios"]),
            _segment("excluded", 0, {"on": 1}, ["ios"]),
        ],
    )
    org.flag("zero-weight-seg", targetSegments=[_segment("w", 100, {"on": 0}, ["ios"])])
    org.flag("small-seg", targetSegments=[_segment("tiny", 1, {"on": 1}, ["ios"])])
    found = findings(org, "zero-percent-segment")
    assert found["key"].tolist() == ["zero-seg", "zero-weight-seg"]
    assert found.loc[0, "detail"] == "segment 2 ('excluded'): 0%"
    assert "no variant has a positive weight" in found.loc[1, "detail"]


# --------------------------------------------------------------------------- weight-mismatch


def test_weight_mismatch(org: Org) -> None:
    org.flag(
        "ghost",
        variants=[{"key": "on"}],
        rolloutWeights={"on": 1, "treatment-b": 1},
        history=[(300, {"rolloutWeights": {"on": 1}}), (20, {})],
    )
    org.flag(
        "unweighted",
        variants=[{"key": "a"}, {"key": "b"}],
        rolloutWeights={"a": 1},
    )
    org.flag("no-weights", rolloutWeights={}, rolloutPercentage=20)
    org.flag(
        "segment-ghost",
        targetSegments=[_segment("s", 100, {"gone": 1}, ["ios"])],
    )
    org.flag(
        "segment-subset",
        variants=[{"key": "a"}, {"key": "b"}],
        rolloutWeights={"a": 1, "b": 0},
        targetSegments=[_segment("s", 100, {"b": 1}, ["ios"])],
    )
    found = findings(org, "weight-mismatch")
    assert found["key"].tolist() == ["ghost", "no-weights", "segment-ghost", "unweighted"]
    by_key = found.set_index("key")["detail"]
    assert by_key["ghost"] == "weights name 'treatment-b', not a variant"
    assert by_key["unweighted"] == "variant 'b' has no weight"
    assert "no variant has a weight" in by_key["no-weights"]
    assert by_key["segment-ghost"] == "segment 1 ('s') weights name 'gone', not a variant"
    assert found.set_index("key").loc["ghost", "since"] == NOW - pd.Timedelta(days=20)


# --------------------------------------------------------------------------- dangling-dependency


def _depends_on(*parents: str, variants: tuple[str, ...] = ("on",)) -> dict:
    return {"flags": {p: list(variants) for p in parents}, "operator": "all"}


def test_dangling_dependency_missing_archived_disabled(org: Org) -> None:
    live = org.flag("parent-live")
    off = org.flag("parent-off", enabled=False, history=[(400, {"enabled": True}), (50, {})])
    gone = org.flag("parent-archived", archived=True)
    org.mutex("555")
    org.mutex("556", deleted=True)
    org.flag("child-ok", parentDependencies=_depends_on(live["id"]))
    org.flag(
        "child-of-mutex",
        parentDependencies={"flags": {"555": ["slot-2"]}, "operator": "all"},
    )
    org.flag("child-missing", parentDependencies=_depends_on("424242"))
    org.flag(
        "child-off",
        parentDependencies=_depends_on(off["id"]),
        history=[(300, {}), (10, {"description": "x"}), (1, {})],
    )
    org.flag("child-archived", parentDependencies=_depends_on(gone["id"]))
    org.flag(
        "child-deleted-mutex",
        parentDependencies={"flags": {"556": ["slot-1"]}, "operator": "all"},
    )
    org.flag(
        "child-bad-slot",
        parentDependencies={"flags": {"555": ["slot-9"]}, "operator": "all"},
    )
    org.flag("child-bad-variant", parentDependencies=_depends_on(live["id"], variants=("x",)))
    found = findings(org, "dangling-dependency").set_index("key")
    assert sorted(found.index) == [
        "child-archived",
        "child-bad-slot",
        "child-bad-variant",
        "child-deleted-mutex",
        "child-missing",
        "child-off",
    ]
    assert "parent 424242 does not exist" in found.loc["child-missing", "detail"]
    assert "is disabled" in found.loc["child-off", "detail"]
    assert "is archived" in found.loc["child-archived", "detail"]
    assert "mutex" in found.loc["child-deleted-mutex", "detail"]
    assert "no slot 'slot-9'" in found.loc["child-bad-slot", "detail"]
    assert "no variant 'x'" in found.loc["child-bad-variant", "detail"]
    # the child depended on it for 300 days; the parent has been off for 50
    assert found.loc["child-off", "since"] == NOW - pd.Timedelta(days=50)
    assert found.loc["child-missing", "since"] == NOW - pd.Timedelta(days=400)


# --------------------------------------------------------------------------- inclusions


def test_inclusion_overload_warning_and_error(org: Org) -> None:
    near = org.flag("near", variants=[{"key": "on"}, {"key": "off"}])
    org.include(near, "on", [f"user-{i}" for i in range(1800)])
    below = org.flag("below")
    org.include(below, "on", [f"user-{i}" for i in range(1799)])
    full = org.flag("full")
    org.include(full, "on", [f"user-{i}" for i in range(2000)])
    found = findings(org, "inclusion-overload").set_index("key")
    assert sorted(found.index) == ["full", "near"]
    assert found.loc["near", "severity"] == "warning"
    assert found.loc["full", "severity"] == "error"
    assert "1,800 users" in found.loc["near", "detail"]
    assert pd.isna(found.loc["near", "since"])
    assert keys(org, "inclusion-overload", inclusion_warning=1900) == ["full"]


def test_pii_inclusion_masks_what_it_quotes(org: Org) -> None:
    leaky = org.flag("leaky")
    org.include(leaky, "on", ["user-1", "jane.doe@example.com", "bob@corp.example.org"])
    clean = org.flag("clean")
    org.include(clean, "on", ["user-1", "not-an-email@", "@handle", "a@b"])
    found = findings(org, "pii-inclusion")
    assert found["key"].tolist() == ["leaky"]
    detail = found.loc[0, "detail"]
    assert "2 inclusions in variant 'on'" in detail
    assert "j…@example.com" in detail
    assert "jane.doe" not in detail


# --------------------------------------------------------------------------- experiments


@pytest.mark.parametrize(("days", "fires"), [(90, True), (89, False)])
def test_long_running_experiment_boundary(org: Org, days: int, fires: bool) -> None:
    start = (NOW - pd.Timedelta(days=days)).strftime("%Y-%m-%d")
    org.experiment("exp", startDate=start)
    # the date-only start is midnight UTC, a few hours before NOW's day boundary
    found = findings(org, "long-running-experiment", now=NOW.normalize())
    assert found["key"].tolist() == (["exp"] if fires else [])
    if fires:
        assert found.loc[0, "detail"] == f"running for 90 days (since {start}) with no decision"


def test_long_running_experiment_needs_running_and_no_decision(org: Org) -> None:
    org.experiment("decided", startDate="2025-01-01", decision="rollout")
    org.experiment("planning", startDate="2025-01-01", state="planning")
    org.experiment("running", startDate="2025-01-01")
    org.experiment(
        "no-start",
        state=None,
        enabled=True,
        history=[(400, {"enabled": False}), (120, {})],
    )
    found = findings(org, "long-running-experiment").set_index("key")
    assert sorted(found.index) == ["running"]
    assert keys(org, "long-running-experiment", long_running_days=10_000) == []


def test_long_running_experiment_without_start_date_uses_versions(org: Org) -> None:
    exp = org.experiment("no-start", enabled=True, history=[(400, {"enabled": False}), (120, {})])
    exp.pop("state")
    found = findings(org, "long-running-experiment")
    assert found["key"].tolist() == []  # unknown state and no start date: not known to run
    exp["startDate"] = None
    exp["state"] = "running"
    found = findings(org, "long-running-experiment")
    assert found["since"].tolist() == [NOW - pd.Timedelta(days=120)]


# --------------------------------------------------------------------------- documentation


def test_undocumented(org: Org) -> None:
    org.flag("no-desc", description="  ")
    org.flag("no-tags", tags=[])
    org.flag("neither", description=None, tags=["expkit:permanent"])
    found = findings(org, "undocumented").set_index("key")["detail"]
    assert found.to_dict() == {
        "neither": "no description and no tags",
        "no-desc": "no description",
        "no-tags": "no tags",
    }


@pytest.mark.parametrize(("days", "fires"), [(7, True), (7.001, False)])
def test_recent_change_window_includes_exactly_recent_days(org: Org, days: float, fires: bool):
    org.flag("changed", history=[(100, {}), (days, {})])
    found = findings(org, "recent-change")
    assert found["key"].tolist() == (["changed"] if fires else [])
    if fires:
        assert found.loc[0, "detail"] == "1 change in the last 7 days by v2@example.com"
        assert found.loc[0, "severity"] == "info"


def test_recent_change_counts_changes_and_authors(org: Org) -> None:
    org.flag("busy", history=[(100, {}), (6, {}), (3, {}), (1, {})])
    found = findings(org, "recent-change")
    assert found.loc[0, "detail"] == (
        "3 changes in the last 7 days by v2@example.com, v3@example.com, v4@example.com"
    )
    assert found.loc[0, "since"] == NOW - pd.Timedelta(days=6)
    assert keys(org, "recent-change", recent_days=2) == ["busy"]


def test_recent_change_says_what_changed_over_the_window(org: Org) -> None:
    org.flag("moved", rolloutPercentage=50, history=[(100, {"rolloutPercentage": 10}), (3, {})])
    org.flag("new", history=[(2, {})])
    org.flag(
        "renamed-variant",
        variants=[{"key": "b"}],
        rolloutWeights={"b": 1},
        history=[(90, {"variants": [{"key": "a"}], "rolloutWeights": {"a": 1}}), (1, {})],
    )
    found = findings(org, "recent-change").set_index("key")["detail"]
    assert found["moved"].endswith(": rollout_percentage 10 → 50")
    assert found["new"].endswith(": created")
    assert "+variants[b]" in found["renamed-variant"]
    assert "-variants[a]" in found["renamed-variant"]

"""The wave-2 rules: mid-experiment-change, expired, bad-tag, the snooze tag, and the code
rules (archived-but-referenced, unreferenced) with hand-made code-references frames."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expkit import hygiene
from expkit.errors import ValidationError
from tests.support import NOW
from tests.support import HygieneOrg as Org


def findings(org: Org, rule: str, **options) -> pd.DataFrame:
    found = hygiene.check(org.snapshot(), **options)
    return found[found["rule"] == rule].reset_index(drop=True)


def keys(org: Org, rule: str, **options) -> list[str]:
    return findings(org, rule, **options)["key"].tolist()


def refs_frame(*rows: tuple[str, str | None, str, int]) -> pd.DataFrame:
    """A code-references frame as expkit.code_refs returns it: (key, kind, path, line)."""
    return pd.DataFrame(
        {
            "key": pd.array([r[0] for r in rows], dtype="string"),
            "kind": pd.array([r[1] for r in rows], dtype="string"),
            "path": pd.array([r[2] for r in rows], dtype="string"),
            "line": pd.array([r[3] for r in rows], dtype="Int64"),
            "column": pd.array([1] * len(rows), dtype="Int64"),
            "text": pd.array([f'"{r[0]}"' for r in rows], dtype="string"),
            "alias": pd.array([None] * len(rows), dtype="string"),
        }
    )


def day(days_ago: float) -> str:
    return (NOW - pd.Timedelta(days=days_ago)).strftime("%Y-%m-%d")


# --------------------------------------------------------------------------- mid-experiment-change


def running(org: Org, key: str, changes: list[tuple[float, dict]], *, start: float = 30, **final):
    """A running experiment started ``start`` days ago (50/50), then ``changes``."""
    base = {"rolloutWeights": {"control": 1, "treatment": 1}, "rolloutPercentage": 100}
    history = [
        (start + 10, {**base, "enabled": False, "startDate": None}),
        (start + 0.2, {**base, "startDate": day(start)}),  # started: enabled, start date set
        *((when, {"startDate": day(start), **change}) for when, change in changes),
    ]
    return org.experiment(key, startDate=day(start), history=history, **{**base, **final})


def test_mid_experiment_change_fires_on_weights_changed_after_the_start(org: Org) -> None:
    running(
        org,
        "moved",
        [(20, {"rolloutWeights": {"control": 1, "treatment": 2}})],
        rolloutWeights={"control": 1, "treatment": 2},
    )
    found = findings(org, "mid-experiment-change")
    assert found["key"].tolist() == ["moved"]
    row = found.iloc[0]
    assert row["severity"] == "warning"
    assert row["since"] == NOW - pd.Timedelta(days=20)
    assert f"started on {day(30)}" in row["detail"]
    assert "weights control 50%, treatment 50% → control 33.3%, treatment 66.7%" in row["detail"]
    assert f"on {day(20)}" in row["detail"]


def test_mid_experiment_change_ignores_changes_before_the_start_and_same_ratios(
    org: Org,
) -> None:
    # weights changed while in planning; then 1:1 → 2:2 is the same split
    org.experiment(
        "prepared",
        startDate=day(30),
        rolloutWeights={"control": 2, "treatment": 2},
        history=[
            (50, {"enabled": False, "startDate": None, "rolloutWeights": {"control": 1}}),
            (30.2, {"rolloutWeights": {"control": 1, "treatment": 1}}),
            (10, {}),
        ],
    )
    running(org, "untouched", [(10, {"description": "typo fixed"})])
    assert keys(org, "mid-experiment-change") == []


def test_a_ramp_up_counts_only_when_asked_a_ramp_down_always(org: Org) -> None:
    running(org, "ramped-up", [(20, {"rolloutPercentage": 100})], rolloutPercentage=100)
    org.created[-1]["rolloutPercentage"] = 100
    org.versions[org.created[-1]["id"]][1]["flagConfig"]["rolloutPercentage"] = 10
    running(org, "ramped-down", [(20, {"rolloutPercentage": 40})], rolloutPercentage=40)
    assert keys(org, "mid-experiment-change") == ["ramped-down"]
    assert "rollout 100% → 40%" in findings(org, "mid-experiment-change").loc[0, "detail"]
    assert keys(org, "mid-experiment-change", mid_experiment_ramp_up=True) == [
        "ramped-down",
        "ramped-up",
    ]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"bucketingSalt": "resalted"}, "bucketing salt changed"),
        ({"bucketingKey": "device_id"}, "bucketing key 'amplitude_id' → 'device_id'"),
        ({"stickyBucketing": True}, "sticky bucketing off → on"),
        (
            {"variants": [{"key": "control"}, {"key": "treatment"}, {"key": "b"}]},
            "variants +'b'",
        ),
        ({"exposureEvent": {"event_type": "seen", "filters": []}}, "exposure event changed"),
        (
            {
                "targetSegments": [
                    {"name": "beta", "percentage": 20, "rolloutWeights": {"control": 1}}
                ]
            },
            "segment 1 50% → 20%",
        ),
    ],
)
def test_mid_experiment_change_names_what_changed(org: Org, change: dict, words: str) -> None:
    before = {
        "bucketingSalt": "salt",
        "variants": [{"key": "control"}, {"key": "treatment"}],
        "bucketingKey": "amplitude_id",
        "stickyBucketing": False,
        "exposureEvent": None,
        "targetSegments": [{"name": "beta", "percentage": 50, "rolloutWeights": {"control": 1}}],
    }
    org.experiment(
        "changed",
        startDate=day(30),
        omit=(),
        rolloutWeights={"control": 1, "treatment": 1},
        **{**before, **change},
        history=[
            (40, {**before, "enabled": False, "startDate": None}),
            (30.2, before),
            (12, {}),
        ],
    )
    found = findings(org, "mid-experiment-change")
    assert found["key"].tolist() == ["changed"]
    assert words in found.loc[0, "detail"]
    assert found.loc[0, "since"] == NOW - pd.Timedelta(days=12)


def test_mid_experiment_change_only_for_running_undecided_experiments(org: Org) -> None:
    change = [(20, {"rolloutWeights": {"control": 1, "treatment": 3}})]
    final = {"rolloutWeights": {"control": 1, "treatment": 3}}
    running(org, "decided", change, decision="rollout", state="decision-made", **final)
    running(org, "planned", change, state="planning", **final)
    running(org, "archived-exp", change, archived=True, **final)
    org.flag(
        "a-flag",
        rolloutWeights={"on": 1},
        history=[(40, {}), (20, {"rolloutPercentage": 10})],
    )
    assert keys(org, "mid-experiment-change") == []


def test_mid_experiment_change_does_not_compare_fields_a_version_leaves_out(org: Org) -> None:
    # old versions without a salt (API drift) are not a salt change
    exp = running(org, "drifted", [(20, {})])
    for version in org.versions[exp["id"]][:2]:
        version["flagConfig"].pop("bucketingSalt", None)
    assert keys(org, "mid-experiment-change") == []


def test_mid_experiment_change_counts_many_changes_briefly(org: Org) -> None:
    changes = [(25 - i, {"rolloutWeights": {"control": 1, "treatment": 2 + i}}) for i in range(5)]
    running(org, "busy", changes, rolloutWeights={"control": 1, "treatment": 6})
    detail = findings(org, "mid-experiment-change").loc[0, "detail"]
    assert detail.endswith("(+2 more changes)")
    assert detail.count(" on ") == 1 + 3  # "started on" and three changes


# --------------------------------------------------------------------------- expired, bad-tag


@pytest.mark.parametrize(("expires_in_days", "fires"), [(-40, True), (0, True), (1, False)])
def test_expired_fires_from_the_expiry_day_on(org: Org, expires_in_days: int, fires: bool):
    # NOW is 09:00 UTC: a tag of today's date has expired, tomorrow's has not
    expiry = (NOW + pd.Timedelta(days=expires_in_days)).strftime("%Y-%m-%d")
    org.flag("dated", tags=["team:growth", f"expkit:expires={expiry}"])
    found = findings(org, "expired")
    assert found["key"].tolist() == (["dated"] if fires else [])
    if fires:
        assert found.loc[0, "since"] == pd.Timestamp(expiry, tz="UTC")
        assert f"expired on {expiry}" in found.loc[0, "detail"]
        assert found.loc[0, "severity"] == "warning"


def test_expired_takes_the_earliest_date_and_skips_archived_configs(org: Org) -> None:
    org.flag("two", tags=["expkit:expires=2026-10-01", "expkit:expires=2026-06-01", "t"])
    org.flag("gone", archived=True, tags=["expkit:expires=2026-01-01", "t"])
    found = findings(org, "expired")
    assert found["key"].tolist() == ["two"]
    assert "expired on 2026-06-01" in found.loc[0, "detail"]


def test_expires_tag_prefix_is_a_setting(org: Org) -> None:
    org.flag("custom", tags=["t", "sunset:2026-01-01"])
    assert keys(org, "expired") == []
    assert keys(org, "expired", expires_tag="sunset:") == ["custom"]
    with pytest.raises(ValidationError) as err:
        hygiene.HygieneConfig(expires_tag="x", snooze_tag="x")
    assert err.value.field == "snooze_tag"


@pytest.mark.parametrize(
    "bad",
    [
        "expkit:expires=2026-02-30",
        "expkit:expires=2026-1-5",
        "expkit:expires=31/12/2026",
        "expkit:expires=",
        "expkit:snooze-until=next week",
        "expkit:snooze-until=2026-13-01",
        "expkit:expires=0001-01-01",
        "expkit:snooze-until=9999-12-31",
    ],
)
def test_a_bad_tag_date_is_a_finding_not_a_crash(org: Org, bad: str) -> None:
    org.flag("bad", tags=["t", bad])
    found = hygiene.check(org.snapshot())
    assert found["rule"].tolist() == ["bad-tag"]
    assert repr(bad) in found.loc[0, "detail"] and "YYYY-MM-DD" in found.loc[0, "detail"]


def test_bad_tag_names_every_bad_tag_and_looks_at_archived_configs(org: Org) -> None:
    org.flag(
        "gone",
        archived=True,
        tags=["t", "expkit:expires=soon", "expkit:snooze-until=later", "expkit:expires=2027-01-01"],
    )
    org.flag("fine", tags=["t", "expkit:expires=2027-01-01", "expkit:snooze-until=2027-01-01"])
    found = findings(org, "bad-tag")
    assert found["key"].tolist() == ["gone"]
    detail = found.loc[0, "detail"]
    assert detail.startswith("tags 'expkit:expires=soon', 'expkit:snooze-until=later'")
    assert "2027" not in detail


# --------------------------------------------------------------------------- snooze


def problem_flag(org: Org, key: str, *tags: str) -> dict:
    """A flag with two findings (inactive, undocumented) and the given tags."""
    return org.flag(
        key,
        enabled=False,
        description="",
        tags=list(tags),
        history=[(200, {"enabled": True}), (90, {})],
    )


def test_snooze_silences_every_rule_until_the_day(org: Org) -> None:
    problem_flag(org, "snoozed", "expkit:snooze-until=2026-12-01")
    problem_flag(org, "awake")
    found = hygiene.check(org.snapshot())
    assert set(found["key"]) == {"awake"}
    assert found.attrs["snoozed"] == (
        {
            "key": "snoozed",
            "kind": "flag",
            "id": found.attrs["snoozed"][0]["id"],
            "until": "2026-12-01",
            "silenced": 2,  # inactive and undocumented (expkit's own tags do not count)
        },
    )


@pytest.mark.parametrize(("until_in_days", "silent"), [(1, True), (0, False), (-3, False)])
def test_snooze_ends_on_its_day(org: Org, until_in_days: int, silent: bool) -> None:
    until = (NOW + pd.Timedelta(days=until_in_days)).strftime("%Y-%m-%d")
    problem_flag(org, "snoozed", "t", f"expkit:snooze-until={until}")
    found = hygiene.check(org.snapshot())
    assert ("snoozed" in set(found["key"])) is not silent
    assert [z["key"] for z in found.attrs["snoozed"]] == (["snoozed"] if silent else [])


def test_a_bad_snooze_date_silences_nothing(org: Org) -> None:
    problem_flag(org, "sleepy", "t", "expkit:snooze-until=someday")
    found = hygiene.check(org.snapshot())
    assert set(found["rule"]) == {"inactive", "undocumented", "bad-tag"}
    assert found.attrs["snoozed"] == ()


def test_snooze_holds_back_code_findings_too(org: Org) -> None:
    org.flag("gone", archived=True, tags=["t", "expkit:snooze-until=2027-01-01"])
    found = hygiene.check(org.snapshot(), refs=refs_frame(("gone", "flag", "a.ts", 3)))
    assert "gone" not in set(found["key"])
    assert found.attrs["snoozed"][0]["silenced"] == 1


# --------------------------------------------------------------------------- code rules


def test_code_rules_are_not_run_without_refs(org: Org) -> None:
    org.flag("gone", archived=True)
    org.flag("live")
    found = hygiene.check(org.snapshot())
    assert not found["rule"].isin(["archived-but-referenced", "unreferenced"]).any()
    assert found.attrs["code_checked"] is False
    assert hygiene.check(org.snapshot(), refs=refs_frame()).attrs["code_checked"] is True


def test_archived_but_referenced_fires_for_archived_configs_in_the_code(org: Org) -> None:
    org.flag("gone", archived=True, history=[(300, {"archived": False}), (100, {})])
    org.flag("gone-quietly", archived=True)
    org.flag("live")
    refs = refs_frame(
        ("gone", "flag", "web/a.ts", 3),
        ("gone", "flag", "web/b.ts", 9),
        ("gone", "flag", "web/b.ts", 9),  # two aliases on one line: one place
        ("live", "flag", "web/a.ts", 4),
    )
    found = findings(org, "archived-but-referenced", refs=refs)
    assert found["key"].tolist() == ["gone"]
    row = found.iloc[0]
    assert row["severity"] == "error"
    assert row["since"] == NOW - pd.Timedelta(days=100)
    assert row["detail"] == (
        f"archived (since {day(100)}) but still in the code, 2 places: web/a.ts:3, web/b.ts:9"
    )


def test_archived_but_referenced_fires_for_keys_missing_from_the_org(org: Org) -> None:
    org.flag("live")
    refs = refs_frame(("deleted-long-ago", None, "a.py", 1), ("live", None, "a.py", 2))
    found = findings(org, "archived-but-referenced", refs=refs)
    assert found["key"].tolist() == ["deleted-long-ago"]
    row = found.iloc[0]
    assert pd.isna(row["id"]) and pd.isna(row["kind"]) and pd.isna(row["owner"])
    assert "no config has this key" in row["detail"] and "a.py:1" in row["detail"]
    assert "create the config" in row["action"]


def test_archived_but_referenced_respects_kinds_and_live_twins(org: Org) -> None:
    # archived in one project, live in another: the code may read the live one
    org.flag("twin", archived=True, projectId="100")
    org.flag("twin", projectId="200")
    # an archived flag whose key the code only uses as an experiment's key
    org.flag("other-kind", archived=True)
    org.experiment("other-kind", startDate="2026-11-01")
    refs = refs_frame(("twin", "flag", "a.ts", 1), ("other-kind", "experiment", "a.ts", 2))
    assert keys(org, "archived-but-referenced", refs=refs) == []


def test_unreferenced_fires_for_live_configs_the_code_does_not_read(org: Org) -> None:
    org.flag("read")
    org.flag("unread")
    org.flag("archived-unread", archived=True)
    refs = refs_frame(("read", "flag", "a.ts", 1))
    refs.attrs["files"] = 12
    found = findings(org, "unreferenced", refs=refs)
    assert found["key"].tolist() == ["unread"]
    assert found.loc[0, "severity"] == "info"
    assert found.loc[0, "detail"] == "not found in the scanned code (12 files scanned)"
    assert found.loc[0, "action"].startswith("If no code reads it")


def test_unreferenced_with_a_stale_rule_says_safe_to_archive(org: Org) -> None:
    org.flag("done", rolloutPercentage=100, history=[(200, {"rolloutPercentage": 5}), (60, {})])
    org.flag("off", enabled=False, history=[(200, {"enabled": True}), (60, {})])
    org.flag("kept", enabled=False, tags=["t", "expkit:permanent"], history=[(60, {})])
    found = findings(org, "unreferenced", refs=refs_frame()).set_index("key")
    assert found.loc["done", "action"].startswith("Safe to archive: fully rolled out to 'on'")
    assert found.loc["off", "action"].startswith("Safe to archive: inactive")
    assert "; inactive" in found.loc["off", "detail"]
    # permanent configs are never stale, so never "safe to archive"
    assert not found.loc["kept", "action"].startswith("Safe")


def test_refs_must_be_a_code_references_frame(org: Org) -> None:
    with pytest.raises(ValidationError) as err:
        hygiene.check(org.snapshot(), refs=["a.ts"])
    assert err.value.field == "refs"


@settings(max_examples=40, deadline=None)
@given(read=st.sets(st.sampled_from(["a", "b", "c", "d", "e"])))
def test_referenced_and_unreferenced_split_the_live_configs(read: set[str]) -> None:
    org = Org()
    for key in "abcde":
        org.flag(key, archived=key == "e")
    refs = refs_frame(*((k, "flag", "src/x.ts", i) for i, k in enumerate(sorted(read), 1)))
    found = hygiene.check(org.snapshot(), refs=refs)
    unread = set(found.loc[found["rule"] == "unreferenced", "key"])
    gone = set(found.loc[found["rule"] == "archived-but-referenced", "key"])
    assert unread == {"a", "b", "c", "d"} - read
    assert gone == {"e"} & read


# --------------------------------------------------------------------------- cleanup list


def test_cleanup_lists_stale_configs_still_in_the_code(org: Org) -> None:
    org.flag(
        "shipped",
        variants=[{"key": "control"}, {"key": "treatment"}],
        rolloutPercentage=100,
        rolloutWeights={"control": 0, "treatment": 1},
        history=[(200, {"rolloutWeights": {"control": 1, "treatment": 1}}), (60, {})],
    )
    org.flag("off", enabled=False, history=[(200, {"enabled": True}), (60, {})])
    org.flag("off-unread", enabled=False, history=[(200, {"enabled": True}), (60, {})])
    org.flag("kept", enabled=False, tags=["t", "expkit:permanent"], history=[(60, {})])
    org.flag("healthy")
    snap = org.snapshot()
    refs = refs_frame(
        ("shipped", "flag", "web/a.ts", 3),
        ("shipped", "flag", "web/b.ts", 7),
        ("off", None, "api/x.py", 1),
        ("kept", "flag", "api/x.py", 2),
        ("healthy", "flag", "api/x.py", 3),
    )
    found = hygiene.check(snap, refs=refs)
    cleanup = hygiene.cleanup(found, snap, refs)
    assert cleanup.dtypes.to_dict() == dict(hygiene.CLEANUP_COLUMNS)
    assert cleanup["key"].tolist() == ["off", "shipped"]
    rows = cleanup.set_index("key")
    assert rows.loc["shipped", "keep"] == "treatment"
    assert rows.loc["shipped", "rule"] == "fully-rolled-out"
    assert rows.loc["shipped", "lines"] == "web/a.ts:3; web/b.ts:7"
    assert rows.loc["shipped", "files"] == "web/a.ts; web/b.ts"
    assert rows.loc["shipped", "references"] == 2
    assert rows.loc["off", "keep"] == "off"
    assert rows.loc["off", "rule"] == "inactive"


def test_cleanup_is_empty_with_its_columns_when_nothing_is_stale(org: Org) -> None:
    org.flag("healthy")
    snap = org.snapshot()
    refs = refs_frame(("healthy", "flag", "a.ts", 1))
    cleanup = hygiene.cleanup(hygiene.check(snap, refs=refs), snap, refs)
    assert cleanup.empty
    assert list(cleanup.columns) == list(hygiene.CLEANUP_COLUMNS)
    with pytest.raises(ValidationError):
        hygiene.cleanup(hygiene.check(snap), snap, None)  # type: ignore[arg-type]


def test_a_deleted_config_still_in_the_code_is_missing_from_the_org(org: Org) -> None:
    org.experiment("removed-exp", deleted=True)
    found = findings(
        org, "archived-but-referenced", refs=refs_frame(("removed-exp", "experiment", "a.ts", 5))
    )
    assert found["key"].tolist() == ["removed-exp"]
    assert found.loc[0, "kind"] == "experiment" and pd.isna(found.loc[0, "id"])
    assert "no config has this key" in found.loc[0, "detail"]


@settings(max_examples=100, deadline=None)
@given(when=st.dates(), junk=st.text(max_size=12))
def test_tag_dates_parse_every_real_day_and_nothing_else(when, junk: str) -> None:
    from expkit.hygiene._tags import parse_day

    if 1900 <= when.year <= 2261:
        assert parse_day(when.isoformat()) == pd.Timestamp(when.isoformat(), tz="UTC")
    else:  # a findings frame could not hold it: a bad date, not a crash
        assert parse_day(when.isoformat()) is None
    parsed = parse_day(junk)  # never raises
    if parsed is not None:
        assert parsed.strftime("%Y-%m-%d") == junk.strip()

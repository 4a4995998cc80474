"""check(): the findings frame, configuration (kwargs, TOML), the registry, purity."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

from expkit import hygiene
from expkit.errors import ValidationError
from tests.support import NOW
from tests.support import HygieneOrg as Org


def messy(org: Org) -> Org:
    org.flag("zz-off", enabled=False, description="")
    org.flag("aa-nowhere", deployments=[])
    org.flag("mm-ghost", rolloutWeights={"on": 1, "gone": 1}, history=[(400, {}), (2, {})])
    leaky = org.flag("bb-leaky")
    org.include(leaky, "on", ["x@example.com"])
    return org


def test_columns_dtypes_and_order(org: Org) -> None:
    found = hygiene.check(messy(org).snapshot())
    assert found.dtypes.to_dict() == dict(hygiene.FINDINGS_COLUMNS)
    assert found.index.equals(pd.RangeIndex(len(found)))
    ranks = found["severity"].cat.codes.tolist()
    assert ranks == sorted(ranks, reverse=True)
    assert found["severity"].iloc[0] == "error"
    assert (found["severity"] >= "warning").sum() == (found["severity"] != "info").sum()
    for _, group in found.groupby("severity", observed=True):
        assert list(zip(group["rule"], group["key"], strict=True)) == sorted(
            zip(group["rule"], group["key"], strict=True)
        )
    assert set(found["kind"]) == {"flag"}
    assert set(found["project_id"]) == {"100"}
    assert found["action"].str.len().min() > 10


def test_empty_frame_has_the_same_columns_and_dtypes() -> None:
    empty = hygiene.empty_findings()
    assert empty.empty
    assert empty.dtypes.to_dict() == dict(hygiene.FINDINGS_COLUMNS)
    assert hygiene.check(Org().snapshot()).dtypes.to_dict() == dict(hygiene.FINDINGS_COLUMNS)


def test_registry_lists_the_rules_by_family() -> None:
    assert list(hygiene.RULES) == [
        # rollout
        "fully-rolled-out",
        "inactive",
        "zero-percent-segment",
        "weight-mismatch",
        "recent-change",
        "mid-experiment-change",
        # targeting
        "empty-condition",
        "inclusion-overload",
        "pii-inclusion",
        # dependencies
        "no-deployment",
        "dangling-dependency",
        # lifecycle
        "long-running-experiment",
        "undocumented",
        "expired",
        "bad-tag",
        "archived-but-referenced",
        "unreferenced",
    ]
    assert [r.id for r in hygiene.RULES.values() if r.needs_refs] == [
        "archived-but-referenced",
        "unreferenced",
    ]
    families = [rule.family for rule in hygiene.RULES.values()]
    assert list(dict.fromkeys(families)) == list(hygiene.FAMILIES)
    for rule in hygiene.RULES.values():
        assert rule.severity in hygiene.SEVERITIES
        assert rule.description and rule.func.__doc__
        assert "Fires" in rule.func.__doc__
        # a rule lives in the module of its family
        assert rule.func.__module__ == f"expkit.hygiene.rules.{rule.family}"
        assert rule.action and rule.default_action(hygiene.HygieneConfig().settings())


def test_check_does_not_mutate_the_snapshot(org: Org) -> None:
    snap = messy(org).snapshot()
    before = {name: copy.deepcopy(getattr(snap, name)) for name in vars(snap)}
    hygiene.check(snap)
    for name, frame in before.items():
        if isinstance(frame, pd.DataFrame):
            pd.testing.assert_frame_equal(getattr(snap, name), frame)


def test_now_defaults_to_snapshot_time_and_accepts_strings(org: Org) -> None:
    org.flag("ramped", rolloutPercentage=100, history=[(200, {"rolloutPercentage": 1}), (20, {})])
    snap = org.snapshot()
    assert "fully-rolled-out" not in set(hygiene.check(snap)["rule"])
    later = (NOW + pd.Timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S")  # naive → UTC
    found = hygiene.check(snap, now=later)
    assert found.loc[found["rule"] == "fully-rolled-out", "detail"].str.contains("30 days").all()
    with pytest.raises(ValidationError) as err:
        hygiene.check(snap, now="next tuesday")
    assert err.value.field == "now"


def test_overrides_disabled_and_severities(org: Org) -> None:
    snap = messy(org).snapshot()
    found = hygiene.check(snap, disabled=("undocumented", "recent-change"))
    assert not {"undocumented", "recent-change"} & set(found["rule"])
    found = hygiene.check(snap, severities={"no-deployment": "error"})
    assert found.loc[found["rule"] == "no-deployment", "severity"].tolist() == ["error"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"stale_days": -1}, "stale_days"),
        ({"stale_days": "30"}, "stale_days"),
        ({"stale_days": True}, "stale_days"),
        ({"inclusion_warning": 2500}, "inclusion_warning"),
        ({"disabled": ("no-such-rule",)}, "disabled"),
        ({"severities": {"inactive": "fatal"}}, "severities.inactive"),
        ({"stale_dayz": 3}, "stale_dayz"),
        ({"permanent_tag": ""}, "permanent_tag"),
    ],
)
def test_bad_settings_name_the_field(overrides: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        hygiene.check(Org().snapshot(), **overrides)
    assert err.value.field == field


def test_config_from_toml(tmp_path: Path, org: Org) -> None:
    path = tmp_path / "hygiene.toml"
    path.write_text(
        "[hygiene]\n"
        "stale-days = 45\n"
        "inclusion_warning = 100\n"
        'disabled = ["undocumented"]\n'
        "[hygiene.severities]\n"
        'no-deployment = "error"\n',
        encoding="utf-8",
    )
    cfg = hygiene.HygieneConfig.from_toml(path)
    assert cfg.stale_days == 45
    assert cfg.inclusion_warning == 100
    assert cfg.disabled == ("undocumented",)
    assert cfg.severity("no-deployment") == "error"
    assert cfg.severity("inactive") == "warning"
    assert cfg.long_running_days == 90

    org.flag("ramped", rolloutPercentage=100, history=[(200, {"rolloutPercentage": 1}), (40, {})])
    snap = org.snapshot()
    assert "fully-rolled-out" in set(hygiene.check(snap)["rule"])
    assert "fully-rolled-out" not in set(hygiene.check(snap, config=path)["rule"])
    # a keyword beats the file
    assert "fully-rolled-out" in set(hygiene.check(snap, config=str(path), stale_days=40)["rule"])


def test_config_from_pyproject_table_and_top_level(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.expkit.hygiene]\nrecent_days = 14\n", encoding="utf-8")
    assert hygiene.HygieneConfig.from_toml(pyproject).recent_days == 14
    flat = tmp_path / "flat.toml"
    flat.write_text("long_running_days = 60\n", encoding="utf-8")
    assert hygiene.HygieneConfig.from_toml(flat).long_running_days == 60


def test_bad_toml_files(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        hygiene.HygieneConfig.from_toml(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("stale_days = = 3\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid TOML"):
        hygiene.HygieneConfig.from_toml(broken)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[hygiene]\nstale = 3\n", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        hygiene.HygieneConfig.from_toml(unknown)
    assert err.value.field == "stale"
    assert "stale_days" in err.value.allowed


def test_csv_round_trip(tmp_path: Path, org: Org) -> None:
    found = hygiene.check(messy(org).snapshot())
    path = tmp_path / "findings.csv"
    found.to_csv(path, index=False)
    pd.testing.assert_frame_equal(hygiene.read_findings(path), found)
    empty = tmp_path / "empty.csv"
    hygiene.empty_findings().to_csv(empty, index=False)
    pd.testing.assert_frame_equal(hygiene.read_findings(empty), hygiene.empty_findings())


def test_read_findings_rejects_other_csvs(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="not a findings CSV"):
        hygiene.read_findings(path)


def test_owner_is_the_last_modifier(org: Org) -> None:
    org.flag("nowhere", deployments=[], lastModifiedBy="ana@example.com")
    org.flag("nowhere-2", deployments=[], lastModifiedBy=None)
    found = hygiene.check(org.snapshot()).set_index("key")["owner"]
    assert found["nowhere"] == "ana@example.com"
    assert found["nowhere-2"] == "v1@example.com"  # else the author of the last version


def test_since_falls_back_to_last_modified_without_versions(org: Org) -> None:
    org.flag("off", enabled=False)
    snap = org.snapshot()
    snap.versions = snap.versions.iloc[0:0]
    found = hygiene.check(snap)
    assert found.loc[found["rule"] == "inactive", "since"].tolist() == [
        NOW - pd.Timedelta(days=400)
    ]


@pytest.mark.parametrize("disabled", [5, [["undocumented"]], [None]])
def test_bad_disabled_values_name_the_field(disabled: object) -> None:
    with pytest.raises(ValidationError) as err:
        hygiene.HygieneConfig(disabled=disabled)  # type: ignore[arg-type]
    assert err.value.field == "disabled"
    with pytest.raises(ValidationError) as err:
        hygiene.HygieneConfig.from_mapping({"disabled": disabled})
    assert err.value.field == "disabled"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"disabled = 5\n", "disabled"),
        (b"[tool]\nexpkit = 5\n", r"\[tool\.expkit\]"),
        (b"[tool.expkit]\nhygiene = 5\n", "not a table"),
        (b"\xff\xfe stale_days = 3\n", "UTF-8"),
    ],
)
def test_bad_toml_content_gives_a_validation_error(
    tmp_path: Path, content: bytes, match: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=match):
        hygiene.HygieneConfig.from_toml(path)


def test_a_directory_is_not_a_toml_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not a file") as err:
        hygiene.HygieneConfig.from_toml(tmp_path)
    assert err.value.field == "config"


def test_top_level_settings_and_a_severities_table_both_apply(tmp_path: Path) -> None:
    path = tmp_path / "hygiene.toml"
    path.write_text(
        'stale_days = 45\n[hygiene.severities]\nno-deployment = "error"\n', encoding="utf-8"
    )
    cfg = hygiene.HygieneConfig.from_toml(path)
    assert cfg.stale_days == 45
    assert cfg.severity("no-deployment") == "error"
    both = tmp_path / "both.toml"
    both.write_text("stale_days = 45\n[hygiene]\nstale-days = 10\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="both") as err:
        hygiene.HygieneConfig.from_toml(both)
    assert err.value.field == "stale_days"


def test_config_pickles_and_deep_copies() -> None:
    import pickle

    cfg = hygiene.HygieneConfig(
        stale_days=45, disabled=("undocumented",), severities={"inactive": "error"}
    )
    for twin in (pickle.loads(pickle.dumps(cfg)), copy.deepcopy(cfg)):
        assert twin == cfg
        assert twin.severity("inactive") == "error"


def test_findings_remember_the_config_they_were_made_with(org: Org) -> None:
    cfg = hygiene.HygieneConfig(stale_days=45)
    found = hygiene.check(messy(org).snapshot(), config=cfg)
    assert found.attrs["hygiene_config"] == cfg
    assert found[found["severity"] == "error"].attrs["hygiene_config"] == cfg

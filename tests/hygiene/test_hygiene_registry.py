"""The rule registry: adding a rule is one decorated function; actions; refs; variant keys."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from expkit import hygiene
from expkit._rollout import variant_keys
from expkit.errors import ValidationError
from expkit.hygiene import _registry
from tests.support import HygieneOrg as Org


@pytest.fixture
def registry() -> Iterator[dict[str, hygiene.Rule]]:
    """The live registry, restored after the test (a test rule never leaks into others)."""
    saved = dict(_registry._RULES)
    try:
        yield _registry._RULES
    finally:
        _registry._RULES.clear()
        _registry._RULES.update(saved)


def test_adding_a_rule_is_one_decorated_function(registry: dict, org: Org) -> None:
    org.flag("no-name", name="")
    org.flag("named")

    @hygiene.rule(
        "unnamed",
        family="lifecycle",
        severity="info",
        description="No display name.",
        action="Give it a name (stale after {stale_days} days anyway).",
    )
    def unnamed(ctx: hygiene.Context) -> Iterator[hygiene.Finding]:
        """Fires for a config with an empty name."""
        for entry in ctx.configs():
            if not entry.row.get("name"):
                yield hygiene.Finding(entry.id, "no name")

    # by family (lifecycle is last), after the lifecycle rules already there
    assert list(hygiene.RULES)[-1] == "unnamed"
    assert hygiene.RULES["unnamed"].family == "lifecycle"
    found = hygiene.check(org.snapshot(), stale_days=12)
    mine = found[found["rule"] == "unnamed"]
    assert mine["key"].tolist() == ["no-name"]
    assert mine["severity"].tolist() == ["info"]
    # the registered action, with the run's settings filled in
    assert mine["action"].tolist() == ["Give it a name (stale after 12 days anyway)."]
    # the new id is a rule like any other for the settings
    assert "unnamed" not in set(hygiene.check(org.snapshot(), disabled=("unnamed",))["rule"])
    assert set(
        hygiene.check(org.snapshot(), severities={"unnamed": "error"}).query("rule == 'unnamed'")[
            "severity"
        ]
    ) == {"error"}


def test_a_rule_of_an_earlier_family_is_listed_with_its_family(registry: dict) -> None:
    @hygiene.rule("zz-rollout", family="rollout", severity="info", description="d", action="a")
    def zz(ctx: hygiene.Context) -> Iterator[hygiene.Finding]:
        """Fires never."""
        return iter(())

    ids = list(hygiene.RULES)
    assert ids.index("zz-rollout") == ids.index("mid-experiment-change") + 1
    assert ids.index("zz-rollout") < ids.index("empty-condition")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"family": "rollout", "severity": "critical"}, "severity"),
        ({"family": "misc", "severity": "info"}, "family"),
    ],
)
def test_the_decorator_refuses_bad_registrations(registry: dict, options: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        hygiene.rule("new-rule", description="d", action="a", **options)
    assert "new-rule" not in hygiene.RULES


def test_an_id_cannot_be_registered_twice(registry: dict) -> None:
    with pytest.raises(ValueError, match="registered twice"):
        hygiene.rule("inactive", family="rollout", severity="info", description="d", action="a")
    assert hygiene.RULES["inactive"].description.startswith("Disabled")


def test_registered_actions_follow_the_settings(org: Org) -> None:
    org.flag("off", enabled=False, tags=["team:x"])
    found = hygiene.check(org.snapshot(), permanent_tag="keep-me")
    action = found.loc[found["rule"] == "inactive", "action"].item()
    assert action.endswith("tag it 'keep-me'.")
    assert hygiene.RULES["inactive"].action.endswith("tag it {permanent_tag!r}.")


def test_refs_is_accepted_and_checked(org: Org) -> None:
    org.flag("off", enabled=False)
    snap = org.snapshot()
    refs = pd.DataFrame({"key": ["off"], "kind": ["flag"], "path": ["a.py"], "line": [3]})
    pd.testing.assert_frame_equal(hygiene.check(snap, refs=refs), hygiene.check(snap))
    assert hygiene.Context.build(snap, refs=refs).refs is refs
    with pytest.raises(ValidationError) as err:
        hygiene.check(snap, refs=["off"])  # type: ignore[arg-type]
    assert err.value.field == "refs"
    with pytest.raises(ValidationError, match="'key' column"):
        hygiene.check(snap, refs=pd.DataFrame({"path": ["a.py"]}))


# --------------------------------------------------------------------------- variant keys


def test_variant_keys_declared_or_from_weights() -> None:
    declared = {"variants": [{"key": "a"}, "b", {"key": "a"}, {"name": "no key"}, {"key": 3}]}
    assert variant_keys(declared) == ["a", "b", "3"]
    assert variant_keys(declared, from_weights=False) == ["a", "b", "3"]
    undeclared = {"rolloutWeights": {"x": 1, "y": 0}}
    assert variant_keys(undeclared) == ["x", "y"]
    assert variant_keys(undeclared, from_weights=False) == []
    assert variant_keys({"variants": [], "rolloutWeights": {"x": 1}}) == []


def test_weight_mismatch_and_allocation_read_an_undeclared_version_each_their_way(
    org: Org,
) -> None:
    # an old version with weights but no variants list: the rollout math serves 'on' by its
    # weight (so the segment allocates), while weight-mismatch cannot take weights as proof
    # of a variant, so that version is part of the mismatch run
    org.flag(
        "ghost",
        rolloutWeights={"on": 1, "gone": 1},
        targetSegments=[{"name": "S", "percentage": 50, "rolloutWeights": {"on": 1}}],
        history=[(300, {"variants": None}), (100, {})],
    )
    found = hygiene.check(org.snapshot()).set_index("rule")
    assert "zero-percent-segment" not in found.index
    assert found.loc["weight-mismatch", "since"] == org.now - pd.Timedelta(days=300)

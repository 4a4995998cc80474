"""expkit.compare and plots.drift: drift between two projects (issue 16)."""

from __future__ import annotations

import pandas as pd
import pytest

import expkit
from expkit._compare import COMPARE_SCHEMA, compare_configs
from expkit.errors import ValidationError
from expkit.fake import FakeServer, State
from tests.support import edits_org

SEGMENT = {
    "name": "Beta",
    "conditions": [{"type": "property", "prop": "country", "op": "is", "values": ["NZ", "AU"]}],
    "percentage": 50,
    "rolloutWeights": {"control": 0, "treatment": 1},
}


@pytest.fixture(scope="module")
def snap():
    """Project 100: flag new-checkout (+ a segment), experiment pricing-test, flag only-src.
    Project 200: new-checkout with other weights, payload, tags and no segment; only-dst."""
    with FakeServer(State.from_org(edits_org())) as server:
        client = server.client()
        client.flags.edit("1001", target_segments=[SEGMENT])
        client.flags.create("100", "only-src")
        dev = client.flags.create(
            "200",
            "new-checkout",
            variants=[{"key": "control", "payload": {"color": "grey"}}, {"key": "treatment"}],
            rollout_weights={"control": 1, "treatment": 3},
        )["id"]
        client.flags.edit(dev, enabled=True, rollout_percentage=100, tags=["team:checkout"])
        client.flags.edit_variant(dev, "treatment", payload={"color": "red"})
        client.flags.create("200", "only-dst")
        archived = client.flags.create("200", "pricing-old")["id"]
        client.flags.edit(archived, archive=True)
        yield expkit.snapshot(client, progress=False, inclusions=False)


def test_rows_say_what_differs(snap):
    drift = expkit.compare(snap, "100", "200")
    assert list(drift.columns) == list(COMPARE_SCHEMA)
    assert drift.dtypes.astype(str).tolist() == ["string"] * 6
    rows = {(r.key, r.field): (r.source, r.target, r.status) for r in drift.itertuples()}
    assert rows[("new-checkout", "weights.treatment")] == ("1", "3", "differs")
    assert rows[("new-checkout", "variants.treatment.payload")] == (
        '{"color": "blue"}',
        '{"color": "red"}',
        "differs",
    )
    assert rows[("new-checkout", "segments.Beta")] == ("present", pd.NA, "missing in target")
    assert rows[("only-src", pd.NA)][2] == "missing in target"
    assert rows[("only-dst", pd.NA)][2] == "missing in source"
    assert rows[("pricing-test", pd.NA)][2] == "missing in target"
    # ids, project ids, salts, deployments, authors and timestamps are not differences
    fields = set(drift["field"].dropna())
    assert not fields & {"id", "project_id", "bucketing_salt", "deployments", "created_by"}
    # one row for the missing segment, not one per segment field
    assert not any(f.startswith("segments.Beta.") for f in fields)
    # archived configs count as missing
    assert "pricing-old" not in set(drift["key"])


def test_reversed_projects_mirror_the_statuses(snap):
    a = expkit.compare(snap, "100", "200")
    b = expkit.compare(snap, 200, 100)
    assert len(a) == len(b)
    swap = {"missing in target": "missing in source", "missing in source": "missing in target"}
    assert sorted(a["status"].map(lambda s: swap.get(s, s))) == sorted(b["status"])


def test_equal_configs_give_no_rows_and_empty_keeps_columns(snap):
    drift = expkit.compare(snap, "100", "300")  # a project with nothing in it
    assert set(drift["status"]) == {"missing in target"}
    same = compare_configs({"key": "a", "enabled": True}, {"key": "a", "enabled": True})
    assert same.empty and list(same.columns) == list(COMPARE_SCHEMA)
    assert same.dtypes.astype(str).tolist() == ["string"] * 6


def test_conditions_compare_as_sets_of_values_but_order_of_segments_matters():
    seg2 = {**SEGMENT, "name": "Other"}
    a = {"key": "k", "targetSegments": [SEGMENT, seg2]}
    flipped = {
        **SEGMENT,
        "conditions": [{**SEGMENT["conditions"][0], "values": ["AU", "NZ"]}],
    }
    assert compare_configs(a, {"key": "k", "targetSegments": [flipped, seg2]}).empty
    moved = compare_configs(a, {"key": "k", "targetSegments": [seg2, SEGMENT]})
    assert list(moved["field"]) == ["segments"]


def test_bad_input(snap):
    with pytest.raises(ValidationError, match="both 100") as info:
        expkit.compare(snap, "100", "100")
    assert info.value.field == "target_project"
    with pytest.raises(ValidationError, match="project id"):
        expkit.compare(snap, "", "200")
    with pytest.raises(ValidationError, match="Snapshot"):
        expkit.compare(object(), "100", "200")


def test_drift_plot(snap):
    import matplotlib.pyplot as plt

    drift = expkit.compare(snap, "100", "200")
    ax = expkit.plots.drift(drift)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "flag new-checkout" in labels
    assert {t.get_text() for t in ax.get_legend().get_texts()} <= {
        "missing in target",
        "missing in source",
        "differs",
    }
    plt.close("all")
    empty = expkit.plots.drift(drift.iloc[0:0])
    assert empty.get_title() == "No drift between the projects"
    plt.close("all")
    with pytest.raises(ValidationError, match="columns"):
        expkit.plots.drift(pd.DataFrame({"x": [1]}))

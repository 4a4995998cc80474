"""expkit.plots.rollout_history under Agg: inspect the artists it draws."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

import expkit
from expkit import plots
from expkit.errors import ValidationError
from tests.support import concat, versions_frame
from tests.support import flag_config as config

START = pd.Timestamp("2026-01-01T00:00:00Z")


def _history(configs, **kwargs):
    return expkit.rollout_history(versions_frame(configs, **kwargs))


def _areas(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection) and c.get_gid() == "variant"]


def _spans(ax):
    return [p for p in ax.patches if p.get_gid() == "disabled"]


def _day(n: float) -> float:
    return float(mdates.date2num((START + pd.Timedelta(days=n)).tz_localize(None)))


def test_one_stacked_area_per_variant_and_axes_conventions():
    history = _history([config(percentage=p) for p in (10, 50, 100)])
    _, ax = plt.subplots()
    out = plots.rollout_history(history, ax=ax)
    assert out is ax
    assert len(plt.get_fignums()) == 1
    assert [a.get_label() for a in _areas(ax)] == ["control", "treatment"]
    assert ax.get_ylim() == (0.0, 100.0)
    assert "%" in ax.get_ylabel()
    assert ax.get_xlabel() == "Date (UTC)"
    assert "checkout-redesign" in ax.get_title(loc="left")
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["treatment", "control"]
    # the legend sits outside the plotting area, right of it
    assert legend.get_bbox_to_anchor().x0 >= ax.bbox.x1


def test_the_stack_reaches_the_total_effective_percentage():
    history = _history(
        [config(percentage=10), config(percentage=50, weights={"control": 1, "treatment": 3})]
    )
    ax = plots.rollout_history(history)
    control, treatment = _areas(ax)
    control_top = max(v[1] for v in control.get_paths()[0].vertices)
    treatment_top = max(v[1] for v in treatment.get_paths()[0].vertices)
    assert control_top == pytest.approx(12.5)
    assert treatment_top == pytest.approx(50.0)


def test_disabled_spans_are_shaded_from_disable_to_re_enable():
    history = _history(
        [
            config(percentage=20),
            config(percentage=20, enabled=False),
            config(percentage=20, enabled=False),
            config(percentage=40),
            config(percentage=40, enabled=False),
        ]
    )
    until = START + pd.Timedelta(days=40)
    ax = plots.rollout_history(history, until=until)
    spans = _spans(ax)
    assert len(spans) == 2
    extents = sorted((round(p.get_x(), 6), round(p.get_x() + p.get_width(), 6)) for p in spans)
    assert extents == [
        (round(_day(7), 6), round(_day(21), 6)),
        (round(_day(28), 6), round(_day(40), 6)),
    ]
    assert ax.get_xlim() == pytest.approx((_day(0), _day(40)))
    assert "disabled" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_no_disabled_span_no_shading_and_no_legend_entry():
    ax = plots.rollout_history(_history([config(percentage=10), config(percentage=20)]))
    assert _spans(ax) == []
    assert "disabled" not in [t.get_text() for t in ax.get_legend().get_texts()]


def test_version_markers_and_who_changed_annotations():
    history = _history(
        [config(percentage=p) for p in (10, 20, 30)], authors=["ana@example.com", "bo@example.com"]
    )
    _, ax = plt.subplots(figsize=(10, 4))
    plots.rollout_history(history, ax=ax)
    (markers,) = [c for c in ax.collections if c.get_gid() == "versions"]
    assert len(markers.get_offsets()) == 3
    labels = [t.get_text() for t in ax.texts if t.get_gid() == "who-changed"]
    assert sorted(labels) == ["v1 ana", "v2 bo", "v3 ana"]
    plt.close("all")
    _, ax = plt.subplots()
    plots.rollout_history(history, ax=ax, annotate=False)
    assert [t for t in ax.texts if t.get_gid() == "who-changed"] == []


def test_version_markers_are_hollow_when_the_rollout_did_not_move():
    history = _history([config(percentage=10), config(percentage=10), config(percentage=30)])
    ax = plots.rollout_history(history)
    (markers,) = [c for c in ax.collections if c.get_gid() == "versions"]
    filled = [tuple(face[:3]) != (1.0, 1.0, 1.0) for face in markers.get_facecolors()]
    assert filled == [True, False, True]


def test_annotations_that_would_overlap_are_left_out():
    # 30 versions an hour apart over a year-long axis: they cannot all fit
    history = _history([config(percentage=p) for p in range(1, 31)], step_days=1 / 24)
    _, ax = plt.subplots(figsize=(6, 3))
    plots.rollout_history(history, ax=ax, until=START + pd.Timedelta(days=365))
    labels = [t for t in ax.texts if t.get_gid() == "who-changed"]
    assert 1 <= len(labels) < 5
    # the newest move is the one kept first
    assert any(t.get_text().startswith("v30 ") for t in labels)


def test_renamed_and_added_variants_each_get_an_area():
    history = _history(
        [
            config(variants=["off", "on"], percentage=50),
            config(variants=["off", "new"], weights={"off": 1, "new": 1}, percentage=50),
            config(
                variants=["off", "new", "extra"],
                weights={"off": 1, "new": 1, "extra": 2},
                percentage=100,
            ),
        ]
    )
    ax = plots.rollout_history(history)
    assert [a.get_label() for a in _areas(ax)] == ["off", "on", "new", "extra"]
    assert len({tuple(a.get_facecolor()[0]) for a in _areas(ax)}) == 4


def test_twenty_variants_stay_colour_blind_safe_and_get_a_two_column_legend():
    from matplotlib.colors import to_hex

    keys = [f"v{i:02d}" for i in range(20)]
    history = _history([config(variants=keys, percentage=100)])
    ax = plots.rollout_history(history)
    areas = _areas(ax)
    assert len(areas) == 20
    # Okabe-Ito only; past 7 variants the colours repeat with a hatch
    styles = [(to_hex(a.get_facecolor()[0]).upper(), a.get_hatch()) for a in areas]
    assert {colour for colour, _ in styles} == set(plots.OKABE_ITO)
    assert len(set(styles)) == 20
    assert [hatch for _, hatch in styles[:7]] == [None] * 7
    assert all(hatch for _, hatch in styles[7:])
    legend = ax.get_legend()
    assert legend._ncols == 2
    legend_styles = {
        t.get_text(): (to_hex(h.get_facecolor()).upper(), h.get_hatch())
        for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
    }
    assert [legend_styles[k] for k in keys] == styles
    assert len(set(plots._palette(20))) == 20
    assert plots._palette(2) == ["#0072B2", "#E69F00"]


def test_kwargs_reach_fill_between():
    ax = plots.rollout_history(_history([config()]), alpha=0.4)
    assert {a.get_alpha() for a in _areas(ax)} == {0.4}


def test_config_selects_by_key_or_id_and_is_required_with_several():
    one = versions_frame([config(percentage=10)], config_id="1", key="alpha-flag")
    two = versions_frame([config(percentage=30)], config_id="2", key="beta-flag")
    history = expkit.rollout_history(concat(one, two))
    with pytest.raises(ValidationError, match="config=") as info:
        plots.rollout_history(history)
    assert info.value.field == "config"
    assert "alpha-flag" in str(info.value) and "beta-flag" in str(info.value)
    ax = plots.rollout_history(history, config="beta-flag")
    assert "beta-flag" in ax.get_title(loc="left")
    _, ax = plt.subplots()
    plots.rollout_history(history, config=1, ax=ax)
    assert "alpha-flag" in ax.get_title(loc="left")
    with pytest.raises(ValidationError, match="beta-flag"):
        plots.rollout_history(history, config="beta-flga")


def test_a_key_shared_by_a_flag_and_an_experiment_needs_the_id():
    one = versions_frame([config()], config_id="1", key="same")
    two = versions_frame([config()], config_id="2", key="same", kind="experiment")
    history = expkit.rollout_history(concat(one, two))
    with pytest.raises(ValidationError, match="config id"):
        plots.rollout_history(history, config="same")


def test_by_segment_returns_a_figure_of_small_multiples():
    segments = [
        {"name": "Employees", "percentage": 100, "rolloutWeights": {"treatment": 1}},
        {"name": "Beta", "percentage": 50, "rolloutWeights": {"control": 1, "treatment": 1}},
    ]
    history = _history(
        [config(percentage=10, segments=segments[:1]), config(percentage=20, segments=segments)]
    )
    fig = plots.rollout_history(history, by_segment=True)
    assert isinstance(fig, Figure)
    visible = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title(loc="left") for a in visible] == ["everyone else", "Employees", "Beta"]
    for axis in visible:
        assert axis.get_ylim() == (0.0, 100.0)
        assert len(_areas(axis)) == 2
    # Beta does not exist in version 1: that span is marked, not drawn as 0%
    absent = [[p for p in axis.patches if p.get_gid() == "absent"] for axis in visible]
    assert [len(a) for a in absent] == [0, 0, 1]
    (span,) = absent[2]
    assert (span.get_x(), span.get_x() + span.get_width()) == pytest.approx((_day(0), _day(7)))
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend_texts == ["treatment", "control", "no such segment"]
    employees = visible[1]
    treatment = _areas(employees)[1]
    assert max(v[1] for v in treatment.get_paths()[0].vertices) == pytest.approx(100.0)
    _, ax = plt.subplots()
    with pytest.raises(ValidationError, match="ax"):
        plots.rollout_history(history, by_segment=True, ax=ax)


def test_empty_history_gives_an_informative_empty_axes():
    empty = expkit.rollout_history(versions_frame([]).iloc[0:0])
    _, ax = plt.subplots()
    out = plots.rollout_history(empty, ax=ax)
    assert out is ax
    assert [t.get_text() for t in ax.texts] == ["No versions to plot"]
    assert _areas(ax) == []


def test_until_before_the_last_version_is_rejected_and_naive_times_are_utc():
    history = _history([config(), config()])
    with pytest.raises(ValidationError, match="until"):
        plots.rollout_history(history, until=START)
    _, ax = plt.subplots()
    plots.rollout_history(history, ax=ax, until="2026-02-01")
    assert ax.get_xlim()[1] == pytest.approx(_day(31))


def test_not_a_history_frame_is_rejected():
    with pytest.raises(ValidationError, match="rollout_history"):
        plots.rollout_history(versions_frame([config()]))


def test_versions_with_unknown_percentage_are_gaps_not_zeros():
    unknown = config()
    del unknown["rolloutPercentage"]
    history = _history([config(percentage=40), unknown, config(percentage=80)])
    assert history["effective_pct"].isna().sum() == 2
    ax = plots.rollout_history(history, until=START + pd.Timedelta(days=21))
    _, treatment = _areas(ax)
    xs = sorted({round(x, 6) for x, _ in treatment.get_paths()[0].vertices})
    # drawn over weeks 0-1 and 2-3 only: nothing between day 7 and day 14
    assert not any(_day(7) + 0.01 < x < _day(14) - 0.01 for x in xs)
    assert max(y for _, y in treatment.get_paths()[-1].vertices) == pytest.approx(80.0)


def test_color_per_variant_list_or_one_and_reserved_kwargs_name_the_field():
    from matplotlib.colors import to_hex

    history = _history([config(percentage=10), config(percentage=50)])
    _, ax = plt.subplots()
    plots.rollout_history(history, ax=ax, color={"treatment": "black"})
    colours = {a.get_label(): to_hex(a.get_facecolor()[0]) for a in _areas(ax)}
    assert colours == {"control": plots.OKABE_ITO[0].lower(), "treatment": "#000000"}
    legend = {
        t.get_text(): to_hex(h.get_facecolor())
        for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles, strict=True)
    }
    assert legend == {"treatment": "#000000", "control": plots.OKABE_ITO[0].lower()}
    _, ax = plt.subplots()
    plots.rollout_history(history, ax=ax, color=["red", "blue"])
    assert [to_hex(a.get_facecolor()[0]) for a in _areas(ax)] == ["#ff0000", "#0000ff"]
    fig = plots.rollout_history(history, by_segment=True, color="green")
    assert {to_hex(a.get_facecolor()[0]) for a in _areas(fig.axes[0])} == {to_hex("green")}
    with pytest.raises(ValidationError, match="color") as info:
        plots.rollout_history(history, color={"control": "not-a-colour"})
    assert info.value.field == "color"
    for name, value in (("step", "pre"), ("label", "x")):
        with pytest.raises(ValidationError, match=name) as info:
            plots.rollout_history(history, **{name: value})
        assert info.value.field == name


def test_by_segment_keeps_segments_that_share_a_name_apart():
    twin = [
        {"name": "Beta", "percentage": 10, "rolloutWeights": {"control": 1}},
        {"name": "Beta", "percentage": 80, "rolloutWeights": {"treatment": 1}},
    ]
    history = _history([config(percentage=10, segments=twin)])
    fig = plots.rollout_history(history, by_segment=True)
    visible = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title(loc="left") for a in visible] == ["everyone else", "Beta", "Beta#2"]
    tops = [
        {
            a.get_label(): max((y for p in a.get_paths() for _, y in p.vertices), default=0.0)
            for a in _areas(axis)
        }
        for axis in visible[1:]
    ]
    assert tops == [{"control": 10.0, "treatment": 0.0}, {"control": 0.0, "treatment": 80.0}]

"""expkit.plots.change_activity and expkit.plots.findings under Agg."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import subprocess
import sys

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from expkit import plots
from expkit.errors import ValidationError
from tests.support import concat, versions_frame
from tests.support import flag_config as config


def _versions():
    # Monday 2026-01-05: flags on days 0, 1, 15; an experiment on days 2 and 15
    flags = versions_frame([config()] * 3, start="2026-01-05T10:00:00Z", step_days=1)
    flags.loc[2, "created_at"] = pd.Timestamp("2026-01-20T10:00:00Z")
    experiments = versions_frame(
        [config()] * 2, config_id="9", kind="experiment", start="2026-01-07T10:00:00Z", step_days=13
    )
    return concat(flags, experiments)


def _heights(ax):
    return {c.get_label(): [round(p.get_height(), 6) for p in c.patches] for c in ax.containers}


def test_change_activity_stacks_weekly_counts_by_kind():
    _, ax = plt.subplots()
    out = plots.change_activity(_versions(), ax=ax)
    assert out is ax
    assert len(plt.get_fignums()) == 1
    # weeks starting Jan 5, Jan 12, Jan 19
    assert _heights(ax) == {"flag": [2, 0, 1], "experiment": [1, 0, 1]}
    flag_bars, experiment_bars = ax.containers
    assert [p.get_y() for p in experiment_bars.patches] == [2, 0, 1]
    starts = [mdates.num2date(p.get_x()).date().isoformat() for p in flag_bars.patches]
    assert starts == ["2026-01-05", "2026-01-12", "2026-01-19"]
    assert flag_bars.patches[0].get_width() == pytest.approx(7 * 0.8)
    assert ax.get_title(loc="left") == "Changes per week across the org"
    assert "count" in ax.get_ylabel()
    assert ax.get_xlabel() == "Date (UTC)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["flag", "experiment"]


def test_change_activity_other_frequencies_and_kwargs():
    ax = plots.change_activity(_versions(), freq="M", edgecolor="black")
    assert _heights(ax) == {"flag": [3], "experiment": [2]}
    assert "month" in ax.get_title(loc="left")
    _, ax = plt.subplots()
    plots.change_activity(_versions(), freq="D", ax=ax)
    assert sum(_heights(ax)["flag"]) == 3
    assert len(_heights(ax)["flag"]) == 16  # Jan 5 .. Jan 20, empty days included


def test_change_activity_bad_freq_and_empty_input():
    with pytest.raises(ValidationError, match="freq"):
        plots.change_activity(_versions(), freq="fortnightly")
    with pytest.raises(ValidationError, match="freq"):
        plots.change_activity(_versions().iloc[0:0], freq="nope")
    _, ax = plt.subplots()
    plots.change_activity(_versions().iloc[0:0], ax=ax)
    assert [t.get_text() for t in ax.texts] == ["No versions to count"]
    with pytest.raises(ValidationError, match="created_at"):
        plots.change_activity(pd.DataFrame({"kind": ["flag"]}))


def _bar_colors(ax):
    return {c.get_label(): to_hex(c.patches[0].get_facecolor()) for c in ax.containers}


def test_change_activity_color_per_kind_or_for_all():
    _, ax = plt.subplots()
    plots.change_activity(_versions(), ax=ax, color={"experiment": "black"}, linewidth=2)
    assert _bar_colors(ax) == {"flag": plots.KIND_COLORS["flag"].lower(), "experiment": "#000000"}
    assert ax.containers[0].patches[0].get_linewidth() == 2
    _, ax = plt.subplots()
    plots.change_activity(_versions(), ax=ax, color=["red", "blue"])
    assert _bar_colors(ax) == {"flag": "#ff0000", "experiment": "#0000ff"}
    _, ax = plt.subplots()
    plots.change_activity(_versions(), ax=ax, color="green")
    assert set(_bar_colors(ax).values()) == {to_hex("green")}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["flag", "experiment"]


def test_change_activity_bad_color_names_the_field():
    with pytest.raises(ValidationError, match="not-a-colour") as info:
        plots.change_activity(_versions(), color={"flag": "not-a-colour"})
    assert info.value.field == "color"
    with pytest.raises(ValidationError, match="color must be") as info:
        plots.change_activity(_versions(), color=42)
    assert info.value.field == "color"
    with pytest.raises(ValidationError, match="color"):
        plots.change_activity(_versions(), color=[])


def _findings():
    rows = [
        ("undocumented", "info"),
        ("undocumented", "info"),
        ("undocumented", "warning"),
        ("inclusion-overload", "error"),
        ("inclusion-overload", "warning"),
        ("stale", "warning"),
        ("stale", "warning"),
        ("stale", "warning"),
    ]
    frame = pd.DataFrame(rows, columns=["rule", "severity"]).astype("string")
    for column in ("kind", "key", "id", "detail", "action"):
        frame[column] = pd.array(["x"] * len(frame), dtype="string")
    frame["since"] = pd.Timestamp("2026-01-01T00:00:00Z")
    return frame


def test_findings_bars_by_rule_stacked_by_severity():
    _, ax = plt.subplots()
    out = plots.findings(_findings(), ax=ax)
    assert out is ax
    # errors first, then warnings, then totals; the first rule is drawn at the top
    labels = [t.get_text() for t in ax.get_yticklabels()]
    ys = list(ax.get_yticks())
    top_down = [label for _, label in sorted(zip(ys, labels, strict=True), reverse=True)]
    assert top_down == ["inclusion-overload", "stale", "undocumented"]
    widths = {c.get_label(): [p.get_width() for p in c.patches] for c in ax.containers}
    assert widths == {"error": [1, 0, 0], "warning": [1, 3, 1], "info": [0, 0, 2]}
    totals = sorted(t.get_text() for t in ax.texts)
    assert totals == ["2", "3", "3"]
    assert ax.get_xlabel() == "Findings (count)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["error", "warning", "info"]


def test_findings_skips_severities_with_no_findings():
    frame = _findings()
    frame = frame[frame["severity"] == "warning"]
    ax = plots.findings(frame)
    assert [c.get_label() for c in ax.containers] == ["warning"]


def test_findings_empty_and_invalid():
    _, ax = plt.subplots()
    plots.findings(_findings().iloc[0:0], ax=ax)
    assert "No findings" in ax.texts[0].get_text()
    bad = _findings()
    bad.loc[0, "severity"] = "critical"
    with pytest.raises(ValidationError, match="critical") as info:
        plots.findings(bad)
    assert info.value.field == "severity"
    with pytest.raises(ValidationError, match="severity"):
        plots.findings(pd.DataFrame({"rule": ["x"]}))


def test_findings_color_per_severity():
    _, ax = plt.subplots()
    plots.findings(_findings(), ax=ax, color={"error": "black"})
    assert _bar_colors(ax) == {
        "error": "#000000",
        "warning": plots.SEVERITY_COLORS["warning"].lower(),
        "info": plots.SEVERITY_COLORS["info"].lower(),
    }
    with pytest.raises(ValidationError, match="color"):
        plots.findings(_findings(), color=["red", "nope"])


def test_import_expkit_does_not_import_matplotlib():
    code = (
        "import sys, expkit; expkit.rollout_history; expkit.diff_versions; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_change_activity_multiple_periods_count_every_version():
    # flags on Jan 5, 6 and 20, experiments on Jan 7 and 20: two-week bins from Jan 5
    _, ax = plt.subplots()
    plots.change_activity(_versions(), freq="2W", ax=ax)
    assert _heights(ax) == {"flag": [2, 1], "experiment": [1, 1]}
    flag_bars = ax.containers[0]
    starts = [mdates.num2date(p.get_x()).date().isoformat() for p in flag_bars.patches]
    assert starts == ["2026-01-05", "2026-01-19"]
    assert flag_bars.patches[0].get_width() == pytest.approx(14 * 0.8)
    _, ax = plt.subplots()
    plots.change_activity(_versions(), freq="3D", ax=ax)
    assert sum(_heights(ax)["flag"]) == 3 and sum(_heights(ax)["experiment"]) == 2
    assert ax.get_title(loc="left") == "Changes per 3 days across the org"
    assert ax.get_ylabel() == "Versions created (count per 3 days)"


def test_findings_without_a_severity_are_an_error_not_dropped():
    for missing in ([0], list(range(len(_findings())))):
        bad = _findings()
        bad.loc[missing, "severity"] = pd.NA
        with pytest.raises(ValidationError, match="severity") as info:
            plots.findings(bad)
        assert info.value.field == "severity"
        assert "'error', 'warning', 'info'" in str(info.value)
    bad = _findings()
    bad.loc[2, "rule"] = pd.NA
    with pytest.raises(ValidationError, match="rule") as info:
        plots.findings(bad)
    assert info.value.field == "rule"


def test_no_plot_shows_or_saves(monkeypatch):
    from matplotlib.figure import Figure

    from expkit import rollout_history

    def refuse(*args, **kwargs):
        raise AssertionError("plots must not show() or savefig()")

    monkeypatch.setattr(plt, "show", refuse)
    monkeypatch.setattr(plt, "savefig", refuse)
    monkeypatch.setattr(Figure, "show", refuse)
    monkeypatch.setattr(Figure, "savefig", refuse)
    segments = [{"name": "Beta", "percentage": 50, "rolloutWeights": {"control": 1}}]
    history = rollout_history(versions_frame([config(segments=segments), config(enabled=False)]))
    plots.rollout_history(history)
    plots.rollout_history(history, by_segment=True)
    plots.change_activity(_versions())
    plots.findings(_findings())


@pytest.mark.parametrize(
    ("freq", "unit"),
    [("h", "hour"), ("6h", "6 hours"), ("W-MON", "week"), ("Y", "year")],
)
def test_change_activity_titles_name_the_period_in_words(freq, unit):
    _, ax = plt.subplots()
    plots.change_activity(_versions(), freq=freq, ax=ax)
    assert ax.get_title(loc="left") == f"Changes per {unit} across the org"
    assert ax.get_ylabel() == f"Versions created (count per {unit})"

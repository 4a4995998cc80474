"""Plots of rollout history, change activity and hygiene findings (matplotlib).

Every function takes the data first, keyword-only options after, draws on ``ax`` (the current
axes by default) and returns it; nothing here calls ``show()`` or ``savefig()``. Data
preparation is kept in small pure helpers (``_steps``, ``_activity``, ``_finding_counts``)
so the drawing code only draws.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import matplotlib
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import is_color_like, to_hex
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from expkit._history import require_frame
from expkit._rollout import EVERYONE_ELSE
from expkit.errors import ValidationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["change_activity", "drift", "findings", "rollout_history"]

# Okabe & Ito (2008), black left out: it reads as an outline, not as a variant
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442")
SEVERITY_COLORS = {"error": "#D55E00", "warning": "#E69F00", "info": "#56B4E9"}
KIND_COLORS = {"flag": "#0072B2", "experiment": "#E69F00"}
DISABLED_COLOR = "0.88"
ABSENT_COLOR = "white"
ABSENT_EDGE = "0.8"
_FREQ_NAMES = {
    "S": "second",
    "MIN": "minute",
    "H": "hour",
    "D": "day",
    "W": "week",
    "M": "month",
    "Q": "quarter",
    "Y": "year",
}
_HISTORY_COLUMNS = ("config_id", "config_key", "version", "created_at", "segment", "variant_key")


def _palette(n: int) -> list[str]:
    """``n`` colour-blind-safe colours: Okabe-Ito up to 7, tab10 up to 10, tab20 beyond."""
    if n <= len(OKABE_ITO):
        return list(OKABE_ITO[:n])
    if n <= 10:
        cmap = matplotlib.colormaps["tab10"]
        return [to_hex(cmap(i)) for i in range(n)]
    cmap = matplotlib.colormaps["tab20"]
    # dark shades first, then the light ones, so neighbours in a stack differ in hue
    order = [*range(0, 20, 2), *range(1, 20, 2)]
    return [to_hex(cmap(order[i % 20])) for i in range(n)]


def _empty(ax: Axes, message: str, *, title: str) -> Axes:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.35")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, loc="left")
    return ax


def _stack_colors(color: Any, defaults: Mapping[str, str], *, what: str) -> dict[str, Any]:
    """The colour of each stacked series (``defaults`` in stacking order) given a user's
    ``color=``: None (the defaults), one colour (for all), a mapping (series missing from it
    keep their default) or a sequence (in stacking order, cycled).
    """
    allowed = f"a colour, a dict {what} -> colour, or a list of colours in stacking order"
    if color is None:
        return dict(defaults)
    if is_color_like(color):
        return dict.fromkeys(defaults, color)
    if isinstance(color, Mapping):
        chosen = {**defaults, **{k: v for k, v in color.items() if k in defaults}}
        given = list(color.values())
    elif isinstance(color, Sequence) and not isinstance(color, str) and len(color) > 0:
        chosen = {k: color[i % len(color)] for i, k in enumerate(defaults)}
        given = list(color)
    else:
        raise ValidationError(
            f"color must be {allowed}, not {color!r}.", field="color", value=color, allowed=allowed
        )
    bad = [c for c in given if not is_color_like(c)]
    if bad:
        raise ValidationError(
            f"color has value(s) that are not matplotlib colours: {', '.join(map(repr, bad))}.",
            field="color",
            value=bad,
            allowed=allowed,
        )
    return chosen


def _date_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    # day ticks read "Nov 05", not a bare "05" beside a "2026-Nov" offset; the year goes to
    # the offset only
    ax.xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(
            locator,
            formats=["%Y", "%b", "%b %d", "%H:%M", "%H:%M", "%S.%f"],
            zero_formats=["", "%Y", "%b", "%b %d", "%H:%M", "%H:%M"],
            offset_formats=["", "%Y", "%Y", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"],
        )
    )
    ax.set_xlabel("Date (UTC)")


def _style(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)


def _num(when: Any) -> float:
    """A time as a matplotlib date number; naive times are taken as UTC."""
    stamp = pd.Timestamp(when)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return float(mdates.date2num(stamp.tz_localize(None)))


# --- rollout history -----------------------------------------------------------------------


def _select_config(history: pd.DataFrame, config: str | int | None) -> pd.DataFrame:
    ids = history[["config_id", "config_key"]].drop_duplicates("config_id")
    keys = [str(k) for k in ids["config_key"].dropna()]
    if config is None:
        if len(ids) <= 1:
            return history
        shown = ", ".join(repr(k) for k in keys[:8]) + (", …" if len(keys) > 8 else "")
        raise ValidationError(
            f"history holds {len(ids)} configs; pass config= with a config key or id "
            f"(for example {shown}).",
            field="config",
            value=None,
            allowed=keys[:8],
        )
    wanted = str(config)
    by_id = history[history["config_id"] == wanted]
    if not by_id.empty:
        return by_id
    by_key = history[history["config_key"] == wanted]
    matching = by_key["config_id"].unique().tolist()
    if len(matching) == 1:
        return by_key
    if len(matching) > 1:
        where = ""
        if "project_id" in by_key.columns:
            projects = sorted({str(p) for p in by_key["project_id"].dropna()})
            where = f" in projects {', '.join(projects)}" if len(projects) > 1 else ""
        raise ValidationError(
            f"config key {wanted!r} names {len(matching)} configs{where} (ids "
            f"{', '.join(map(str, matching))}: the same key in two projects, or a flag and an "
            "experiment); pass the config id instead.",
            field="config",
            value=config,
            allowed=matching,
        )
    close = difflib.get_close_matches(wanted, keys, n=5, cutoff=0.5) or keys[:5]
    raise ValidationError(
        f"no config with key or id {wanted!r} in the history. Did you mean one of "
        f"{', '.join(repr(k) for k in close)}?",
        field="config",
        value=config,
        allowed=close,
    )


@dataclass(frozen=True)
class _Steps:
    """One population's rollout, one row per version (the step starts at ``times[i]``)."""

    times: list[float]
    versions: list[int]
    authors: list[str]
    enabled: list[bool | None]
    present: list[bool]  # the population exists in the version (segments come and go)
    values: pd.DataFrame  # index: version position; columns: variant keys (effective %)


def _version_table(one: pd.DataFrame) -> pd.DataFrame:
    table = (
        one.sort_values("version", kind="stable")
        .drop_duplicates("version")[["version", "created_at", "created_by", "enabled"]]
        .reset_index(drop=True)
    )
    return table[table["created_at"].notna()].reset_index(drop=True)


def _steps(one: pd.DataFrame, segment: str, variants: list[str]) -> _Steps:
    """The rollout of one population of one config, every version of the config included."""
    table = _version_table(one)
    population = one[one["population"] == segment]
    if segment == EVERYONE_ELSE and "segment_index" in one.columns:
        population = population[population["segment_index"].isna()]
    present = table["version"].isin(population["version"]).tolist()
    rows = population[population["variant_key"].notna()]
    pivot = (
        rows.pivot_table(
            index="version",
            columns="variant_key",
            values="effective_pct",
            aggfunc="first",
            dropna=False,
        )
        if not rows.empty
        else pd.DataFrame(index=pd.Index([], name="version"))
    )
    values = (
        pivot.reindex(index=table["version"], columns=variants)
        .astype("float64")
        .fillna(0.0)
        .reset_index(drop=True)
    )
    # a version whose percentage or enabled flag is unknown stays a gap, not a 0
    if not rows.empty:
        unknown = rows.groupby("version")["effective_pct"].apply(lambda s: bool(s.isna().all()))
        gaps = unknown.reindex(table["version"]).fillna(False).to_numpy(dtype=bool)
        values.loc[gaps, :] = np.nan
    return _Steps(
        times=[_num(t) for t in table["created_at"]],
        versions=[int(v) for v in table["version"]],
        authors=[_who(a) for a in table["created_by"]],
        enabled=[None if pd.isna(e) else bool(e) for e in table["enabled"]],
        present=[bool(p) for p in present],
        values=values,
    )


def _who(author: Any) -> str:
    if author is None or pd.isna(author) or not str(author):
        return "?"
    return str(author).split("@", 1)[0]


def _end(steps: _Steps, until: Any) -> float:
    last = steps.times[-1]
    if until is not None:
        end = _num(until)
        if end < last:
            raise ValidationError(
                "until= is before the last version; pass a time after "
                f"{mdates.num2date(last):%Y-%m-%d %H:%M} UTC.",
                field="until",
                value=until,
                allowed="a time after the last version",
            )
        return end
    span = last - steps.times[0]
    return last + max(span * 0.1, 1.0)


def _runs(times: list[float], flags: list[bool], end: float) -> list[tuple[float, float]]:
    """Time spans over which ``flags`` hold, each from its version to the next change."""
    spans: list[tuple[float, float]] = []
    start: float | None = None
    for time, flag in zip(times, flags, strict=True):
        if flag and start is None:
            start = time
        elif not flag and start is not None:
            spans.append((start, time))
            start = None
    if start is not None:
        spans.append((start, end))
    return spans


def _disabled_spans(steps: _Steps, end: float) -> list[tuple[float, float]]:
    return _runs(steps.times, [e is False for e in steps.enabled], end)


def _absent_spans(steps: _Steps, end: float) -> list[tuple[float, float]]:
    return _runs(steps.times, [not p for p in steps.present], end)


def _moved(steps: _Steps) -> list[bool]:
    """Per version: did it change what anyone in this population gets (or the enabled flag)?"""
    out: list[bool] = []
    previous = None
    for i in range(len(steps.times)):
        row = (tuple(steps.values.iloc[i].round(6).fillna(-1)), steps.enabled[i])
        out.append(row != previous)
        previous = row
    return out


def _interesting(steps: _Steps) -> list[int]:
    """Version positions ordered for annotation: rollout moves first, newest first."""
    moved = _moved(steps)
    first = [i for i, m in enumerate(moved) if m]
    rest = [i for i, m in enumerate(moved) if not m]
    return first[::-1] + rest[::-1]


def _place(
    at: float,
    width: float,
    x0: float,
    x1: float,
    taken: list[tuple[float, float]],
    *,
    right_ok: bool,
) -> tuple[float, str, int] | None:
    """Left-aligned after the marker if free; else (``right_ok``) right-aligned before it."""
    options = ((at, "left", 1), (at - width, "right", -1))
    for left, ha, dx in options if right_ok else options[:1]:
        right = left + width
        if left >= x0 and right <= x1 and not any(left < b and a < right for a, b in taken):
            return left, ha, dx
    return None


def _annotate(ax: Axes, steps: _Steps, x0: float, x1: float, *, fontsize: float = 7.5) -> int:
    """Who changed what, above the versions where the labels fit without overlap."""
    width_px = max(ax.bbox.width, 1.0)
    per_px = (x1 - x0) / width_px
    char_px = fontsize * 0.56 * ax.figure.dpi / 72
    taken: list[tuple[float, float]] = []
    done: set[int] = set()
    order = _interesting(steps)
    # labels read as "the step starting here": left-aligned wherever possible, then the rest
    for i, right_ok in [*((i, False) for i in order), *((i, True) for i in order)]:
        if i in done:
            continue
        label = f"v{steps.versions[i]} {steps.authors[i]}"
        at = steps.times[i]
        width = (len(label) * char_px + 6) * per_px
        placed = _place(at, width, x0, x1, taken, right_ok=right_ok)
        if placed is None:
            continue
        left, ha, dx = placed
        right = left + width
        taken.append((left, right))
        done.add(i)
        ax.annotate(
            label,
            xy=(at, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(dx, -3),
            textcoords="offset points",
            ha=ha,
            va="top",
            fontsize=fontsize,
            color="0.15",
            gid="who-changed",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
        )
    return len(taken)


# fill_between options each area needs as drawn: a user's value would clash with ours
_RESERVED_FILL = {"step": "one step per version", "label": "the variant key", "gid": "'variant'"}


# past 7 variants no palette stays tellable apart for colour-blind readers: the Okabe-Ito
# colours repeat, hatched (unlike the "///" of disabled and ".." of absent spans)
_VARIANT_HATCHES = ("", "\\\\\\", "xxx")


def _variant_styles(variants: list[str], color: Any) -> dict[str, dict[str, Any]]:
    """Each variant's fill: an Okabe-Ito colour (or the user's ``color``), hatched in white
    from the eighth variant on, so up to 21 stacked variants stay distinct.
    """
    n = len(OKABE_ITO)
    defaults = {v: OKABE_ITO[i % n] for i, v in enumerate(variants)}
    colors = _stack_colors(color, defaults, what="variant")
    styles: dict[str, dict[str, Any]] = {}
    for i, variant in enumerate(variants):
        hatch = _VARIANT_HATCHES[(i // n) % len(_VARIANT_HATCHES)]
        styles[variant] = {
            "facecolor": colors[variant],
            "edgecolor": "white" if hatch else colors[variant],
            "hatch": hatch or None,
        }
    return styles


def _variant_order(one: pd.DataFrame) -> list[str]:
    ordered = one.sort_values(["version"], kind="stable")["variant_key"].dropna()
    return list(dict.fromkeys(str(v) for v in ordered))


def _draw_population(
    ax: Axes,
    steps: _Steps,
    styles: dict[str, dict[str, Any]],
    *,
    end: float,
    annotate: bool,
    **kwargs: Any,
) -> None:
    x = [*steps.times, end]
    lower = np.zeros(len(x))
    fill_kwargs = {"linewidth": 0, "alpha": 0.9, **kwargs}
    for variant in steps.values.columns:
        column = steps.values[variant].to_numpy(dtype=float)
        if not np.any(np.nan_to_num(column) > 0):
            # still in the legend: a variant at 0% everywhere is information too
            ax.fill_between([], [], [], label=variant, gid="variant", **styles[variant])
            continue
        upper = lower + np.append(column, column[-1])
        ax.fill_between(
            x,
            lower,
            upper,
            step="post",
            label=variant,
            gid="variant",
            **{**styles[variant], **fill_kwargs},
        )
        lower = upper
    for start, stop in _absent_spans(steps, end):
        ax.axvspan(
            start,
            stop,
            facecolor=ABSENT_COLOR,
            edgecolor=ABSENT_EDGE,
            hatch="..",
            linewidth=0,
            zorder=0,
            gid="absent",
            label="_absent",
        )
    for start, stop in _disabled_spans(steps, end):
        ax.axvspan(
            start,
            stop,
            facecolor=DISABLED_COLOR,
            edgecolor="0.7",
            hatch="///",
            linewidth=0,
            zorder=0,
            gid="disabled",
            label="_disabled",
        )
    # filled: the version moved the rollout; hollow: it changed something else
    ax.scatter(
        steps.times,
        [1.0] * len(steps.times),
        transform=ax.get_xaxis_transform(),
        marker="v",
        s=26,
        facecolors=["0.25" if m else "white" for m in _moved(steps)],
        edgecolors="0.25",
        linewidths=0.8,
        clip_on=False,
        zorder=3,
        gid="versions",
        label="_versions",
    )
    ax.set_xlim(steps.times[0], end)
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    _date_axis(ax)
    _style(ax)
    if annotate:
        _annotate(ax, steps, steps.times[0], end)


def _legend_handles(
    variants: list[str],
    styles: dict[str, dict[str, Any]],
    *,
    disabled: bool,
    absent: bool = False,
) -> list[Any]:
    handles: list[Any] = [Patch(label=v, **styles[v]) for v in reversed(variants)]
    if disabled:
        handles.append(
            Patch(facecolor=DISABLED_COLOR, edgecolor="0.7", hatch="///", label="disabled")
        )
    if absent:
        handles.append(
            Patch(
                facecolor=ABSENT_COLOR, edgecolor=ABSENT_EDGE, hatch="..", label="no such segment"
            )
        )
    return handles


def rollout_history(
    history: pd.DataFrame,
    *,
    config: str | int | None = None,
    ax: Axes | None = None,
    by_segment: bool = False,
    annotate: bool = True,
    until: datetime | pd.Timestamp | str | None = None,
    color: Any = None,
    **kwargs: Any,
) -> Axes | Figure:
    """Stacked step areas of each variant's effective % of everyone else over the versions.

    ``history`` is ``expkit.rollout_history(versions)``; ``config`` (key or id) picks one
    config when it holds several. Disabled spans are hatched, each version is a marker on
    the top edge, and ``annotate`` labels versions with who changed them where labels fit.
    ``until`` ends the last step (default: a little after the last version). ``color`` is one
    colour, a dict variant -> colour (other variants keep theirs) or a list of colours in
    stacking order; other ``kwargs`` go to ``fill_between``. Returns the Axes, or with ``by_segment=True`` a Figure of small
    multiples, one per population (everyone else and each segment, by name).
    """
    require_frame(
        history, _HISTORY_COLUMNS, name="history", source="expkit.rollout_history(versions)"
    )
    if by_segment and ax is not None:
        raise ValidationError(
            "by_segment=True draws a figure of several axes, so ax= cannot be used with it.",
            field="ax",
            value=ax,
            allowed="None when by_segment=True",
        )
    reserved = sorted(set(kwargs) & set(_RESERVED_FILL))
    if reserved:
        name = reserved[0]
        raise ValidationError(
            f"{name}= is set by rollout_history itself ({_RESERVED_FILL[name]}); leave it out.",
            field=name,
            value=kwargs[name],
            allowed="any fill_between option but " + ", ".join(_RESERVED_FILL),
        )
    one = _label_populations(_select_config(history, config))
    one = one[one["created_at"].notna()]
    title_key = str(one["config_key"].iloc[0]) if not one.empty else ""
    kind = str(one["kind"].iloc[0]) if not one.empty and "kind" in one else "config"
    if by_segment:
        return _by_segment(
            one,
            title_key=title_key,
            kind=kind,
            annotate=annotate,
            until=until,
            color=color,
            **kwargs,
        )
    ax = ax or plt.gca()
    title = f"Rollout of {kind} {title_key} to everyone else".replace("  ", " ")
    if one.empty:
        return _empty(ax, "No versions to plot", title=title)
    variants = _variant_order(one)
    styles = _variant_styles(variants, color)
    steps = _steps(one, EVERYONE_ELSE, variants)
    end = _end(steps, until)
    _draw_population(ax, steps, styles, end=end, annotate=annotate, **kwargs)
    ax.set_title(title, loc="left", pad=10)
    ax.set_ylabel("Users served (%)")
    handles = _legend_handles(variants, styles, disabled=bool(_disabled_spans(steps, end)))
    ax.legend(
        handles=handles,
        title="variant",
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        ncol=1 if len(handles) <= 12 else 2,
        fontsize="small",
    )
    return ax


def _label_populations(one: pd.DataFrame) -> pd.DataFrame:
    """``one`` with a ``population`` column: the segment's name, and for segments that share a
    name within a version "Beta#2", "Beta#3"… by position (as ``diff_versions`` names them).
    """
    label = one["segment"].astype("string")
    if "segment_index" in one.columns and not one.empty:
        rank = one.groupby(["version", "segment"], dropna=False)["segment_index"].rank(
            method="dense"
        )
        later = (rank > 1).fillna(False).to_numpy(dtype=bool)
        label[later] = label[later] + "#" + rank[later].astype(int).astype(str)
    return one.assign(population=label)


def _populations(one: pd.DataFrame) -> list[str]:
    names = one.sort_values(["version"], kind="stable")
    named = names[names["segment"] != EVERYONE_ELSE]
    if "segment_index" in named.columns:
        named = named.sort_values(["version", "segment_index"], kind="stable")
    return [EVERYONE_ELSE, *dict.fromkeys(str(s) for s in named["population"].dropna())]


def _by_segment(
    one: pd.DataFrame,
    *,
    title_key: str,
    kind: str,
    annotate: bool,
    until: Any,
    color: Any,
    **kwargs: Any,
) -> Figure:
    names = _populations(one)
    ncols = 2 if len(names) == 4 else min(3, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(3.9 * ncols + 1.4, 2.5 * nrows + 0.7),
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    flat = list(axes.flat)
    fig.suptitle(f"Rollout of {kind} {title_key} by population".replace("  ", " "))
    if one.empty:
        _empty(flat[0], "No versions to plot", title=EVERYONE_ELSE)
        for extra in flat[1:]:
            extra.set_visible(False)
        return fig
    variants = _variant_order(one)
    styles = _variant_styles(variants, color)
    any_disabled = any_absent = False
    end = None
    for axis, name in zip(flat, names, strict=False):
        steps = _steps(one, name, variants)
        end = _end(steps, until)
        _draw_population(
            axis, steps, styles, end=end, annotate=annotate and name == EVERYONE_ELSE, **kwargs
        )
        any_disabled = any_disabled or bool(_disabled_spans(steps, end))
        any_absent = any_absent or bool(_absent_spans(steps, end))
        axis.set_title(name, loc="left", fontsize="medium")
        axis.set_xlabel("")
    for axis in flat[len(names) :]:
        axis.set_visible(False)
    # sharex hides tick labels above hidden panels too: give them back to each column's last
    for col in range(ncols):
        last = max(r for r in range(nrows) if r * ncols + col < len(names))
        axes[last, col].tick_params(labelbottom=True)
    fig.supylabel("Users served (% of population)")
    fig.supxlabel("Date (UTC)")
    handles = _legend_handles(variants, styles, disabled=any_disabled, absent=any_absent)
    fig.legend(
        handles=handles,
        title="variant",
        loc="outside right center",
        frameon=False,
        fontsize="small",
        ncol=1 if len(handles) <= 12 else 2,
    )
    return fig


# --- change activity -----------------------------------------------------------------------


def _check_freq(freq: Any) -> None:
    try:
        pd.Period("2026-01-01", freq=freq)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValidationError(
            f"freq={freq!r} is not a period frequency pandas understands.",
            field="freq",
            value=freq,
            allowed=list(_FREQ_NAMES),
        ) from exc


def _unit(freq: str) -> str:
    """The period's name for titles: "week", "2 weeks", "month"; else the frequency as given."""
    offset = pd.Period("2026-01-01", freq=freq).freq
    base_offset: Any = offset.base
    base = pd.Period("2026-01-01", freq=base_offset).freqstr  # "M", where offsets say "ME"
    name = _FREQ_NAMES.get(base.upper().split("-")[0])
    if name is None:
        return str(freq)
    return name if offset.n == 1 else f"{offset.n} {name}s"


def _activity(versions_frame: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Versions created per period (rows, period starts) and kind (columns).

    A multiple such as ``"2W"`` bins whole base periods (weeks) in runs of that many, counted
    from the first one; ``to_period("2W")`` alone would give each time its own start.
    """
    times = versions_frame["created_at"]
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        times = pd.to_datetime(times, utc=True)
    times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    valid = times.notna().to_numpy()
    offset = pd.Period("2026-01-01", freq=freq).freq
    ordinals = times[valid].dt.to_period(offset.base).array.asi8
    if len(ordinals):
        ordinals = ordinals.min() + (ordinals - ordinals.min()) // offset.n * offset.n
    # from_ordinals is public pandas API that pandas-stubs does not declare
    periods: pd.PeriodIndex = cast(Any, pd.PeriodIndex).from_ordinals(ordinals, freq=offset)
    kinds = versions_frame["kind"].astype("string").fillna("other")[valid]
    frame = pd.DataFrame({"period": periods, "kind": kinds.to_numpy()})
    counts = frame.groupby(["period", "kind"]).size().unstack("kind", fill_value=0)
    index = cast(pd.PeriodIndex, counts.index)
    full = pd.period_range(index.min(), index.max(), freq=index.freq)
    counts = counts.reindex(full, fill_value=0)
    order = [k for k in KIND_COLORS if k in counts.columns] + sorted(
        k for k in counts.columns if k not in KIND_COLORS
    )
    return counts[order]


def change_activity(
    versions_frame: pd.DataFrame,
    *,
    freq: str = "W",
    ax: Axes | None = None,
    color: Any = None,
    **kwargs: Any,
) -> Axes:
    """Stacked bars of versions created per ``freq`` period (default weekly), by kind.

    ``versions_frame`` is ``expkit.frames.versions(records)`` (or ``snapshot.versions``);
    ``color`` is one colour for every kind, a dict kind -> colour (other kinds keep theirs)
    or a list of colours in stacking order (flag, experiment, then other kinds
    alphabetically, of those present); other ``kwargs`` go to ``Axes.bar``. Returns the Axes.
    """
    require_frame(
        versions_frame,
        ("kind", "created_at"),
        name="versions_frame",
        source="expkit.frames.versions(records)",
    )
    _check_freq(freq)
    ax = ax or plt.gca()
    unit = _unit(freq)
    title = f"Changes per {unit} across the org"
    valid = versions_frame[versions_frame["created_at"].notna()]
    if valid.empty:
        return _empty(ax, "No versions to count", title=title)
    counts = _activity(valid, freq)
    extra_colors = _palette(len(KIND_COLORS) + len(counts.columns))[len(KIND_COLORS) :]
    colors = _stack_colors(
        color,
        {
            kind: KIND_COLORS.get(kind, extra_colors[i % max(len(extra_colors), 1)])
            for i, kind in enumerate(counts.columns)
        },
        what="kind",
    )
    bar_kwargs = {"linewidth": 0, **kwargs}
    periods = cast(pd.PeriodIndex, counts.index)
    starts = periods.start_time
    lengths = (periods.end_time - starts) / timedelta(days=1)
    x = [float(mdates.date2num(s)) for s in starts]
    width = np.asarray(lengths, dtype=float) * 0.8
    bottom = np.zeros(len(counts))
    for kind in counts.columns:
        heights = counts[kind].to_numpy(dtype=float)
        ax.bar(
            x,
            heights,
            width=width,
            bottom=bottom,
            align="edge",
            color=colors[kind],
            label=kind,
            **bar_kwargs,
        )
        bottom = bottom + heights
    ax.set_xlim(x[0] - 0.5 * width[0], x[-1] + 1.5 * width[-1])
    ax.set_ylim(0, max(1.0, bottom.max() * 1.08))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _date_axis(ax)
    _style(ax)
    ax.set_title(title, loc="left")
    ax.set_ylabel(f"Versions created (count per {unit})")
    ax.legend(
        title="kind", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize="small"
    )
    return ax


# --- hygiene findings ----------------------------------------------------------------------

_SEVERITIES = ("error", "warning", "info")


def _finding_counts(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings per rule (rows, most severe and most frequent first) and severity (columns)."""
    severity = findings["severity"].astype("string")
    if severity.isna().any():
        raise ValidationError(
            f"findings has {int(severity.isna().sum())} row(s) without a severity.",
            field="severity",
            value=None,
            allowed=_SEVERITIES,
        )
    rules = findings["rule"].astype("string")
    if rules.isna().any():
        raise ValidationError(
            f"findings has {int(rules.isna().sum())} row(s) without a rule.",
            field="rule",
            value=None,
            allowed="a rule id (expkit.hygiene.check's rule column)",
        )
    unknown = sorted(set(severity) - set(_SEVERITIES))
    if unknown:
        raise ValidationError(
            f"findings has unknown severity value(s) {', '.join(repr(u) for u in unknown)}.",
            field="severity",
            value=unknown,
            allowed=_SEVERITIES,
        )
    table = pd.crosstab(rules, severity)
    table = table.reindex(columns=list(_SEVERITIES), fill_value=0)
    rank = table.assign(_total=table.sum(axis=1)).sort_values(
        ["error", "warning", "_total"], ascending=False, kind="stable"
    )
    return rank.drop(columns="_total")


def findings(
    findings: pd.DataFrame, *, ax: Axes | None = None, color: Any = None, **kwargs: Any
) -> Axes:
    """Horizontal bars of hygiene findings per rule, stacked by severity (error, warning, info).

    ``findings`` is ``expkit.hygiene.check(snapshot)``; ``color`` is one colour, a dict
    severity -> colour or a list of three colours (error, warning, info); other ``kwargs``
    go to ``Axes.barh``. Returns the Axes.
    """
    require_frame(
        findings, ("rule", "severity"), name="findings", source="expkit.hygiene.check(snapshot)"
    )
    ax = ax or plt.gca()
    title = "Hygiene findings by rule"
    if findings.empty:
        return _empty(ax, "No findings: nothing to clean up", title=title)
    counts = _finding_counts(findings)
    colors = _stack_colors(color, SEVERITY_COLORS, what="severity")
    bar_kwargs = {"linewidth": 0, **kwargs}
    y = np.arange(len(counts))[::-1]
    left = np.zeros(len(counts))
    for severity in _SEVERITIES:
        widths = counts[severity].to_numpy(dtype=float)
        if not widths.any():
            continue
        ax.barh(
            y,
            widths,
            left=left,
            height=0.7,
            color=colors[severity],
            label=severity,
            **bar_kwargs,
        )
        left = left + widths
    for yi, total in zip(y, left, strict=True):
        ax.annotate(
            f"{int(total)}",
            xy=(total, yi),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize="small",
            color="0.25",
        )
    ax.set_yticks(y, labels=list(counts.index))
    ax.set_xlim(0, left.max() * 1.12)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_title(title, loc="left")
    ax.set_xlabel("Findings (count)")
    ax.set_ylabel("Rule")
    ax.legend(
        title="severity",
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize="small",
    )
    return ax


def drift(drift: pd.DataFrame, *, ax: Axes | None = None, top: int = 20) -> Axes:
    """Differences per config between two projects (``expkit.compare``), stacked by status."""
    from expkit._compare import plot_drift

    return plot_drift(drift, ax=ax, top=top)

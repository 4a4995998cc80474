"""The weekly flag-hygiene report: findings + plots → ``report.html``, ``findings.csv``, ``summary.md``
(and ``cleanup.csv`` when code references are given).

``write(findings, snapshot, out_dir)`` renders the files (jinja2 templates in
``expkit/templates``, autoescaped: every string from the API is escaped in the HTML); the HTML is
self-contained (inline CSS, plots embedded as PNG data URIs) so it opens offline and can be
mailed. ``expkit report`` (in :mod:`expkit.cli`) runs it from the command line.
"""

from __future__ import annotations

import base64
import io
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from expkit import hygiene
from expkit._atomic import write_text_atomic
from expkit.errors import ValidationError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from expkit._fetch import Snapshot

__all__ = [
    "CALENDAR_RULES",
    "CODE_FILES",
    "FILES",
    "INCLUSION_RULES",
    "Comparison",
    "code_rules",
    "compare",
    "write",
]

FILES = ("report.html", "findings.csv", "summary.md")
# written besides FILES when code references (refs=) are given
CODE_FILES = ("cleanup.csv",)
# how many places the "where in code" column names before "+N more"
_MAX_PLACES = 3
# rules whose findings depend on the clock, not on the org's state: not compared week over week
CALENDAR_RULES = ("recent-change",)
# rules that need inclusions: not checked (nor compared) on a snapshot taken without them
INCLUSION_RULES = ("inclusion-overload", "pii-inclusion")
_NOT_COMPARED = CALENDAR_RULES
_INCLUSION_RULES = INCLUSION_RULES
_MAX_HISTORY_PLOTS = 6
_PLOT_DPI = 144
_HISTORY_WINDOW = pd.Timedelta(days=120)
_SEVERITY_LABELS = {"error": "Errors", "warning": "Warnings", "info": "Info"}
_SEVERITY_HINTS = {
    "error": "broken now: fix these first",
    "warning": "stale or risky: clean up",
    "info": "worth a look",
}


class Comparison(NamedTuple):
    """Findings of two reports matched by (rule, config id): new, resolved and still open."""

    new: pd.DataFrame
    resolved: pd.DataFrame
    still_open: pd.DataFrame


def compare(
    findings: pd.DataFrame,
    previous: pd.DataFrame,
    *,
    ignore_rules: Iterable[str] = _NOT_COMPARED,
) -> Comparison:
    """What changed between two findings frames, matched by (rule, id).

    ``new``: in ``findings`` only; ``resolved``: in ``previous`` only (rows from ``previous``);
    ``still_open``: in both (rows from ``findings``). Rules in ``ignore_rules`` (by default
    ``recent-change``, which follows the calendar, not the org) are left out of all three.
    """
    ignored = set(ignore_rules)
    current = findings[~findings["rule"].isin(ignored)]
    before = previous[~previous["rule"].isin(ignored)]
    now_keys = set(_identities(current))
    old_keys = set(_identities(before))

    def pick(frame: pd.DataFrame, keys: set[tuple[Any, Any]]) -> pd.DataFrame:
        mask = [k in keys for k in _identities(frame)]
        return frame[pd.Series(mask, index=frame.index, dtype=bool)].reset_index(drop=True)

    return Comparison(
        new=pick(current, now_keys - old_keys),
        resolved=pick(before, old_keys - now_keys),
        still_open=pick(current, now_keys & old_keys),
    )


def _identities(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(rule, config id) per finding; a finding about a key no config has (id empty) is
    matched by its key."""
    ids = frame["id"].astype(object).where(frame["id"].notna(), None).tolist()
    keys = frame["key"].astype(object).where(frame["key"].notna(), None).tolist()
    return [
        (str(rule), str(cid) if cid is not None else f"key:{key}")
        for rule, cid, key in zip(frame["rule"].astype(object), ids, keys, strict=True)
    ]


# --------------------------------------------------------------------------- write


def write(
    findings: pd.DataFrame,
    snapshot: Snapshot | Any,
    out_dir: str | os.PathLike[str],
    *,
    previous: Snapshot | pd.DataFrame | str | os.PathLike[str] | None = None,
    config: hygiene.HygieneConfig | None = None,
    org: str | None = None,
    plots: bool = True,
    refs: pd.DataFrame | None = None,
) -> Path:
    """Writes ``report.html``, ``findings.csv`` and ``summary.md`` to ``out_dir``; returns it.

    ``findings`` is ``hygiene.check(snapshot, ...)``. ``previous`` adds a week-over-week
    section: an earlier ``Snapshot``, a snapshot directory (``expkit snapshot --out``), an
    earlier report directory or ``findings.csv``, or a findings frame; snapshots are checked
    with ``config`` (default: the thresholds ``findings`` was made with, which
    ``hygiene.check`` keeps in ``findings.attrs``, else ``HygieneConfig()``).
    ``org`` names the org in the title (default: from ``snapshot.source``).

    ``refs``: the code references (``expkit.code_refs``) ``findings`` was checked with
    (``hygiene.check(snapshot, refs=refs)``): the findings table gains a "where in code"
    column, and ``cleanup.csv`` lists the configs safe to remove from the code
    (``hygiene.cleanup``). Without refs, the rules that need them are marked not checked.
    Configs snoozed with ``expkit:snooze-until=`` are listed in a footnote.
    """
    path, _ = _write(
        findings, snapshot, out_dir, previous, config, org=org, with_plots=plots, refs=refs
    )
    return path


def _write(
    findings: pd.DataFrame,
    snapshot: Any,
    out_dir: str | os.PathLike[str],
    previous: Any,
    config: hygiene.HygieneConfig | None,
    *,
    org: str | None,
    with_plots: bool,
    refs: pd.DataFrame | None = None,
) -> tuple[Path, Comparison | None]:
    _check_findings(findings)
    if refs is not None and (not isinstance(refs, pd.DataFrame) or "key" not in refs.columns):
        raise ValidationError(
            f"refs must be the DataFrame expkit.code_refs returns (with a 'key' column), "
            f"not {type(refs).__name__}",
            field="refs",
            value=type(refs).__name__,
            allowed="None or a code-references DataFrame (key, kind, path, line, ...)",
        )
    made_with = findings.attrs.get("hygiene_config")
    if config is None and isinstance(made_with, hygiene.HygieneConfig):
        config = made_with
    cfg = config or hygiene.HygieneConfig()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValidationError(
            f"out_dir {str(out)!r} is a file, not a directory",
            field="out_dir",
            value=str(out),
            allowed="a directory (created if missing)",
        )
    code_checked = refs is not None or bool(findings.attrs.get("code_checked"))
    comparison, previous_time = _comparison(findings, previous, snapshot, cfg, code_checked)
    context = _context(
        findings,
        snapshot,
        cfg,
        comparison,
        previous_time,
        org=org,
        with_plots=with_plots,
        refs=refs,
        code_checked=code_checked,
    )
    env = _environment()
    out.mkdir(parents=True, exist_ok=True)
    # each file is replaced whole: a crash mid-write leaves last week's file, never half
    write_text_atomic(out / "report.html", env.get_template("report.html").render(context))
    write_text_atomic(out / "summary.md", env.get_template("summary.md").render(context))
    hygiene.write_findings(_ordered(findings), out / "findings.csv")
    if refs is not None:
        hygiene.write_cleanup(hygiene.cleanup(findings, snapshot, refs), out / "cleanup.csv")
    return out, comparison


def _check_findings(findings: Any) -> None:
    if not isinstance(findings, pd.DataFrame):
        raise ValidationError(
            f"findings must be a DataFrame from expkit.hygiene.check, not "
            f"{type(findings).__name__}",
            field="findings",
            value=type(findings).__name__,
            allowed="the DataFrame expkit.hygiene.check(snapshot) returns",
        )
    missing = [c for c in hygiene.FINDINGS_COLUMNS if c not in findings.columns]
    if missing:
        raise ValidationError(
            f"findings has no column {missing[0]!r}; pass expkit.hygiene.check(snapshot)",
            field="findings",
            value=sorted(findings.columns),
            allowed=list(hygiene.FINDINGS_COLUMNS),
        )


def _comparison(
    findings: pd.DataFrame,
    previous: Any,
    snapshot: Any,
    cfg: hygiene.HygieneConfig,
    code_checked: bool = False,
) -> tuple[Comparison | None, pd.Timestamp | None]:
    if previous is None:
        return None, None
    # rules not run this time cannot have been resolved
    ignore = [*_NOT_COMPARED, *cfg.disabled, *(() if code_checked else code_rules())]
    taken_at = None
    if isinstance(previous, pd.DataFrame):
        before = previous
    else:
        prev_snap = _load_previous(previous)
        if isinstance(prev_snap, pd.DataFrame):
            before = prev_snap
        else:
            before = hygiene.check(prev_snap, config=cfg)
            taken_at = getattr(prev_snap, "taken_at", None)
            # a snapshot has no code references: its code rules did not run
            ignore.extend(code_rules())
            # a snapshot without inclusions cannot say whether inclusion findings are new
            if not getattr(prev_snap, "with_inclusions", True):
                ignore.extend(_INCLUSION_RULES)
    if not getattr(snapshot, "with_inclusions", True):
        ignore.extend(_INCLUSION_RULES)
    _check_findings(before)
    if not before["rule"].isin(code_rules()).any():
        # a previous report without code findings most likely ran without --code
        ignore.extend(code_rules())
    return compare(findings, before, ignore_rules=ignore), taken_at


def code_rules() -> tuple[str, ...]:
    """The rules that need code references (``refs=``), e.g. ``unreferenced``."""
    return tuple(rule.id for rule in hygiene.RULES.values() if rule.needs_refs)


def _load_previous(previous: Any) -> Any:
    """A Snapshot or a findings frame from whatever ``previous`` names."""
    if not isinstance(previous, str | os.PathLike):
        return previous
    path = Path(previous)
    if path.is_file() and path.suffix == ".csv":
        return hygiene.read_findings(path)
    if path.is_dir() and (path / "meta.json").is_file():
        from expkit._fetch import Snapshot

        return Snapshot.load(path)
    if path.is_dir() and (path / "findings.csv").is_file():
        return hygiene.read_findings(path / "findings.csv")
    raise ValidationError(
        f"previous {str(path)!r} is neither a snapshot directory, a report directory nor a "
        "findings.csv",
        field="previous",
        value=str(path),
        allowed="a directory from `expkit snapshot --out` or `expkit report --out`, or a CSV",
    )


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class _Row:
    rule: str
    severity: str
    kind: str
    key: str
    id: str
    detail: str
    since: str
    age: str
    action: str
    owner: str
    project_id: str
    name: str
    description: str
    where: str = ""


def _text(value: Any) -> str:
    return (
        ""
        if value is None or value is pd.NA or (isinstance(value, float) and value != value)
        else str(value)
    )


def _rows(
    frame: pd.DataFrame,
    now: pd.Timestamp,
    about: Mapping[str, tuple[str, str]],
    places: Mapping[str, tuple[tuple[str | None, str], ...]] | None = None,
) -> list[_Row]:
    out = []
    for rec in frame.astype(object).to_dict("records"):
        raw_since = rec.get("since")
        since = raw_since if isinstance(raw_since, pd.Timestamp) and pd.notna(raw_since) else None
        age = ""
        if since is not None:
            days = int((now - since) // pd.Timedelta(days=1))
            age = "today" if days == 0 else f"{days:,} day{'s' if days != 1 else ''}"
        out.append(
            _Row(
                rule=_text(rec.get("rule")),
                severity=_text(rec.get("severity")),
                kind=_text(rec.get("kind")),
                key=_text(rec.get("key")) or _text(rec.get("id")),
                id=_text(rec.get("id")),
                detail=_text(rec.get("detail")),
                since=since.strftime("%Y-%m-%d") if since is not None else "",
                age=age,
                action=_text(rec.get("action")),
                owner=_text(rec.get("owner")),
                project_id=_text(rec.get("project_id")),
                name=about.get(_text(rec.get("id")), ("", ""))[0],
                description=about.get(_text(rec.get("id")), ("", ""))[1],
                where=_where(places, rec.get("key"), rec.get("kind")) if places else "",
            )
        )
    return out


def _where(places: Mapping[str, tuple[tuple[str | None, str], ...]], key: Any, kind: Any) -> str:
    """``a.ts:3, b.kt:5, c.py:1 (+2 more)``: the first few places of a key in the code."""
    from expkit.hygiene._code import places_of

    found = places_of(places, key, kind)
    more = len(found) - _MAX_PLACES
    return ", ".join(found[:_MAX_PLACES]) + (f" (+{more} more)" if more > 0 else "")


def _counts(frame: pd.DataFrame) -> dict[str, int]:
    severity = frame["severity"].astype("string")
    return {s: int((severity == s).sum()) for s in hygiene.SEVERITIES}


def _org_label(snapshot: Any, org: str | None) -> str:
    if org:
        return org
    source = getattr(snapshot, "source", None) or ""
    if "127.0.0.1" in source or "localhost" in source:
        return "local fake org"
    return source or "Amplitude Experiment"


def _context(
    findings: pd.DataFrame,
    snapshot: Any,
    cfg: hygiene.HygieneConfig,
    comparison: Comparison | None,
    previous_time: pd.Timestamp | None,
    *,
    org: str | None,
    with_plots: bool,
    refs: pd.DataFrame | None = None,
    code_checked: bool = False,
) -> dict[str, Any]:
    from expkit.hygiene._code import locations

    places = locations(refs) if refs is not None else None
    # the same `now` hygiene.check defaults to, so ages agree with the findings' details
    now = hygiene._resolve_now(snapshot, None)
    configs = getattr(snapshot, "configs", None)
    live = configs
    if configs is not None and not configs.empty:
        live = configs[~configs["archived"].fillna(False).astype(bool)]
    n_flags = int((live["kind"] == "flag").sum()) if live is not None else 0
    n_experiments = int((live["kind"] == "experiment").sum()) if live is not None else 0
    n_archived = len(configs) - len(live) if configs is not None and live is not None else 0
    with_inclusions = bool(getattr(snapshot, "with_inclusions", True))
    about = _about(configs)

    findings = _ordered(findings)
    groups: list[dict[str, Any]] = []
    for rule in hygiene.RULES.values():
        part = findings[findings["rule"] == rule.id]
        rows = _rows(part, now, about, places)
        actions = [r.action for r in rows if r.action]
        skipped = (
            rule.id in cfg.disabled
            or (rule.id in _INCLUSION_RULES and not with_inclusions)
            or (rule.needs_refs and not code_checked)
        )
        groups.append(
            {
                "id": rule.id,
                "severity": cfg.severity(rule.id),
                "description": rule.description,
                "staleness": rule.staleness,
                "includes_archived": rule.includes_archived,
                "rows": rows,
                "count": len(rows),
                "counts": _counts(part),
                "skipped": skipped,
                # one action shared by every finding is said once, above the table
                "shared_action": actions[0] if actions and len(set(actions)) == 1 else None,
                # otherwise the most common one stands for the group; each row has its own
                "action": Counter(actions).most_common(1)[0][0] if actions else "",
            }
        )
    order = {s: i for i, s in enumerate(hygiene.SEVERITIES)}
    # one order everywhere: severity, then rule, then key (findings.csv, html, summary.md)
    groups.sort(key=lambda g: (order.get(g["severity"], len(order)), g["id"]))
    with_findings = [g for g in groups if g["count"]]
    sections = [
        {
            "severity": sev,
            "label": _SEVERITY_LABELS[sev],
            "hint": _SEVERITY_HINTS[sev],
            "groups": [g for g in with_findings if _worst(g["counts"]) == sev],
        }
        for sev in hygiene.SEVERITIES
    ]
    table_rows = _rows(findings, now, about, places)
    counts = _counts(findings)
    wow = None
    if comparison is not None:
        wow = {
            "since": previous_time.strftime("%Y-%m-%d %H:%M UTC") if previous_time else None,
            "new": _rows(comparison.new, now, about, places),
            "resolved": _rows(comparison.resolved, now, about, places),
            "still_open": len(comparison.still_open),
            "ignored": list(_NOT_COMPARED),
            "disabled": list(cfg.disabled),
        }
    affected = int(findings.loc[findings["severity"] != "info", "id"].nunique())
    return {
        "title": "Flag hygiene report",
        "org": _org_label(snapshot, org),
        "taken_at": now.strftime("%Y-%m-%d %H:%M UTC"),
        "date": now.strftime("%Y-%m-%d"),
        "n_flags": n_flags,
        "n_experiments": n_experiments,
        "n_archived": n_archived,
        "n_findings": len(findings),
        "n_affected": affected,
        "counts": counts,
        "severity_labels": _SEVERITY_LABELS,
        "groups": groups,
        "with_findings": with_findings,
        "sections": [section for section in sections if section["groups"]],
        "table_rows": table_rows,
        "severity_rank": order,
        "datatables": _datatables_assets() if table_rows else None,
        "wow": wow,
        "with_inclusions": with_inclusions,
        "code_checked": code_checked,
        "code_rules": list(code_rules()),
        "with_where": places is not None,
        "snoozed": [dict(s) for s in findings.attrs.get("snoozed", ()) or ()],
        "noisy_keys": _noisy(refs),
        "config": cfg,
        "plots": _safe_plots(findings, snapshot, now, cfg) if with_plots else [],
        "version": _expkit_version(),
    }


def _noisy(refs: pd.DataFrame | None) -> list[tuple[str, int]]:
    """Keys ``code_refs`` matched in very many places (likely common words), most first."""
    noisy = refs.attrs.get("noisy_keys") if refs is not None else None
    if not isinstance(noisy, Mapping):
        return []
    return sorted(((str(k), int(n)) for k, n in noisy.items()), key=lambda kn: (-kn[1], kn[0]))


def _ordered(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings in the report's one order: severity (worst first), rule, key."""
    if findings.empty:
        return findings
    rank = {s: i for i, s in enumerate(hygiene.SEVERITIES)}
    keyed = findings.assign(
        _rank=findings["severity"].astype(object).map(rank).fillna(len(rank)),
        _key=findings["key"].astype("string").fillna(findings["id"].astype("string")),
    )
    ordered = keyed.sort_values(["_rank", "rule", "_key"], kind="stable")
    out = ordered.drop(columns=["_rank", "_key"])
    out.attrs = findings.attrs
    return out


def _datatables_assets() -> dict[str, str]:
    """DataTables (with SearchPanes and RowGroup) from itables' offline bundle, to inline.

    The report is one self-contained file opened from disk or an e-mail: no CDN. The module
    travels base64-encoded (it holds strings such as ``</script>``) and is imported from a
    blob URL; without JavaScript the same table shows as plain HTML.
    """
    from itables.options import dt_bundle

    bundle = Path(dt_bundle)
    return {
        "css": bundle.with_suffix(".css").read_text(encoding="utf-8"),
        "js_b64": base64.b64encode(bundle.read_bytes()).decode("ascii"),
    }


def _about(configs: pd.DataFrame | None) -> dict[str, tuple[str, str]]:
    """Config id → (name, description), shown beside each finding."""
    if configs is None or configs.empty:
        return {}
    return {
        _text(cid): (_text(name), _text(desc))
        for cid, name, desc in zip(
            configs["id"].astype(object),
            configs["name"].astype(object),
            configs["description"].astype(object),
            strict=True,
        )
    }


def _worst(counts: Mapping[str, int]) -> str:
    return next((s for s in hygiene.SEVERITIES if counts.get(s)), "info")


def _expkit_version() -> str:
    from expkit._version import __version__

    return __version__


# --------------------------------------------------------------------------- plots


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_PLOT_DPI, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _safe_plots(
    findings: pd.DataFrame, snapshot: Any, now: pd.Timestamp, cfg: hygiene.HygieneConfig
) -> list[dict[str, Any]]:
    """``_plots`` with mathtext off: keys and authors from the API may hold ``$...$``."""
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}):
        return _plots(findings, snapshot, now, cfg)


def _plots(
    findings: pd.DataFrame, snapshot: Any, now: pd.Timestamp, cfg: hygiene.HygieneConfig
) -> list[dict[str, Any]]:
    """The report's figures as PNG data URIs (pyplot is never touched: no global state).

    The rollout history of the configs with the most severe findings (worst first, in the
    report's order), each captioned with why it was picked; then the org's weekly changes,
    for context.
    """
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    from expkit import plots
    from expkit._history import rollout_history

    out: list[dict[str, Any]] = []
    versions = getattr(snapshot, "versions", None)
    if versions is None or versions.empty:
        return out
    with_versions = set(versions["config_id"].astype(str))
    picked: dict[str, dict[Any, Any]] = {}
    for rec in _ordered(findings).astype(object).to_dict("records"):
        cid = _text(rec.get("id"))
        if cid in with_versions and cid not in picked:
            picked[cid] = rec
    shown = list(picked)[:_MAX_HISTORY_PLOTS]
    history = rollout_history(versions[versions["config_id"].astype(str).isin(shown)])
    for cid in shown:
        rec = picked[cid]
        one = history[history["config_id"].astype(str) == cid]
        if one.empty:
            continue
        label = _text(rec.get("key")) or cid
        kind = _text(rec.get("kind")) or "config"
        # months of history squeeze the latest changes into a sliver: show the last months
        # (who-changed labels are placed for the full range, so they go when it is cut)
        trim = now - one["created_at"].min() > _HISTORY_WINDOW
        fig = Figure(figsize=(5.6, 3.0), layout="constrained")
        ax = plots.rollout_history(
            history, config=cid, ax=fig.add_subplot(), until=now, annotate=not trim
        )
        if trim:
            _trim_left(ax, mdates.date2num(now - _HISTORY_WINDOW))
        # the plot's own title names the population too, too long for half a page
        fig.axes[0].set_title(f"{kind} {label}", loc="left", pad=12)
        why = f"{_text(rec.get('severity'))} {_text(rec.get('rule'))}: {_text(rec.get('detail'))}"
        out.append(
            {
                "src": _png(fig),
                "alt": f"Rollout history of {label} (everyone else)",
                "caption": (
                    f"Why this one: {why}. Share of everyone else per variant over "
                    f"{'the last four months' if trim else 'its history'}; hatched: disabled; "
                    "▼ a version that moved the rollout, ▽ one that changed something else."
                ),
            }
        )
    fig = Figure(figsize=(5.6, 3.0), layout="constrained")
    year_ago = now - pd.Timedelta(days=365)
    recent_year = versions[versions["created_at"] >= year_ago]
    plots.change_activity(recent_year if not recent_year.empty else versions, ax=fig.add_subplot())
    out.append(
        {
            "src": _png(fig),
            "alt": "Changes per week across the org, last 12 months",
            "caption": (
                "For context: new versions per week across the org over the last 12 months, "
                "flags and experiments; a quiet org with many findings is one nobody tends."
            ),
        }
    )
    return out


def _trim_left(ax: Any, left: float) -> None:
    """Start the x axis at ``left``, dropping unclipped markers (version ticks) before it."""
    import numpy as np

    ax.set_xlim(left=left)
    for line in ax.get_lines():
        if line.get_clip_on():
            continue
        x = np.asarray(line.get_xdata(), dtype=float)
        keep = x >= left
        line.set_data(x[keep], np.asarray(line.get_ydata(), dtype=float)[keep])
    # the version markers are a scatter drawn outside the axes (clip off) on the top edge
    for collection in ax.collections:
        if collection.get_clip_on():
            continue
        offsets = np.asarray(collection.get_offsets(), dtype=float)
        if offsets.ndim != 2 or not len(offsets):
            continue
        keep = offsets[:, 0] >= left
        collection.set_offsets(offsets[keep])
        faces = collection.get_facecolors()
        if len(faces) == len(keep):
            collection.set_facecolors(faces[keep])


# --------------------------------------------------------------------------- templates


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("expkit", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _markdown_escape
    env.filters["code"] = _backticks_to_code
    env.filters["thousands"] = lambda n: f"{n:,}"
    env.filters["counted"] = _counted
    return env


def _counted(n: int, noun: str) -> str:
    """``1 error``, ``2 errors``, ``1,204 flags``; uncountable ``info`` stays as it is."""
    return f"{n:,} {noun if n == 1 or noun == 'info' else noun + 's'}"


def _backticks_to_code(value: Any) -> Any:
    """Our own rule descriptions: escaped, then `names` set in <code>."""
    from markupsafe import Markup, escape

    parts = str(escape(_text(value))).split("`")
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#~$"})


def _markdown_escape(value: Any) -> str:
    """Text from the API, made inert in Markdown (no links, emphasis, HTML, math or table breaks)."""
    return " ".join(_text(value).split()).translate(_MD_SPECIAL)

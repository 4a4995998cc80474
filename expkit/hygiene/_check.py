"""``check``: every registered rule over one snapshot → the findings frame."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from expkit.errors import ValidationError
from expkit.hygiene._config import HygieneConfig, resolve_config
from expkit.hygiene._context import ConfigEntry, Context
from expkit.hygiene._findings import findings_frame
from expkit.hygiene._registry import RULES
from expkit.hygiene._tags import dated_tags, latest

if TYPE_CHECKING:
    from expkit._fetch import Snapshot

__all__ = ["check"]


def check(
    snapshot: Snapshot | Any,
    now: datetime | pd.Timestamp | str | None = None,
    config: HygieneConfig | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    refs: pd.DataFrame | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """The findings of every rule on ``snapshot``: one row per (rule, config).

    Columns: rule, severity (ordered category info < warning < error), kind, key, id,
    project_id, detail, since (UTC), action, owner (the config's last modifier); sorted by
    severity (worst first), then rule, then key. No findings gives an empty frame with the
    same columns. ``now`` defaults to ``snapshot.taken_at``; ``config`` is a
    ``HygieneConfig``, a mapping or the path of a TOML file; ``overrides`` replace single
    settings (``stale_days=45``, ``disabled=("undocumented",)``). ``refs`` is a code-references
    frame (``expkit.code_refs``) for the rules that read code (``archived-but-referenced``,
    ``unreferenced``); without it those rules are not run.

    A config tagged ``expkit:snooze-until=YYYY-MM-DD`` gets no findings before that day.
    ``findings.attrs`` keeps what the report needs besides the rows: ``hygiene_config`` (the
    settings used), ``code_checked`` (whether refs were given) and ``snoozed`` (one dict per
    snoozed config: key, kind, id, until, silenced = the number of findings held back).
    """
    cfg = resolve_config(config)
    if overrides:
        cfg = cfg.replace(**overrides)
    ctx = Context.build(snapshot, now=now, config=cfg, refs=_check_refs(refs))
    snoozed = _snoozed(ctx)
    silenced: dict[str, int] = {}
    settings = cfg.settings()
    rows: list[dict[str, Any]] = []
    for rule in RULES.values():
        if rule.id in cfg.disabled or (rule.needs_refs and ctx.refs is None):
            continue
        default = cfg.severity(rule.id)
        action = rule.default_action(settings)
        for finding in rule(ctx):
            if finding.config_id in snoozed:
                silenced[finding.config_id] = silenced.get(finding.config_id, 0) + 1
                continue
            entry = ctx.entries.get(finding.config_id)
            rows.append(
                {
                    "rule": rule.id,
                    "severity": finding.severity or default,
                    "kind": entry.kind if entry is not None else finding.kind,
                    "key": entry.row.get("key") if entry is not None else finding.key,
                    "id": entry.id if entry is not None else None,
                    "project_id": entry.row.get("project_id") if entry is not None else None,
                    "detail": finding.detail,
                    "since": finding.since,
                    "action": finding.action or action,
                    "owner": _owner(entry) if entry is not None else None,
                }
            )
    found = findings_frame(rows)
    found.attrs["hygiene_config"] = cfg
    found.attrs["code_checked"] = ctx.refs is not None
    found.attrs["snoozed"] = tuple(
        {
            "key": entry.row.get("key"),
            "kind": entry.kind,
            "id": entry.id,
            "until": until.strftime("%Y-%m-%d"),
            "silenced": silenced.get(cid, 0),
        }
        for cid, (entry, until) in sorted(
            snoozed.items(), key=lambda item: (str(item[1][0].row.get("key")), item[0])
        )
    )
    return found


def _snoozed(ctx: Context) -> dict[str, tuple[ConfigEntry, pd.Timestamp]]:
    """Configs whose snooze tag's day is still to come → (entry, that day)."""
    out = {}
    for entry in ctx.configs(archived=True):
        until = latest(dated_tags(entry.tags, ctx.config.snooze_tag))
        if until is not None and ctx.now < until:
            out[entry.id] = (entry, until)
    return out


def _check_refs(refs: Any) -> pd.DataFrame | None:
    if refs is None:
        return None
    if not isinstance(refs, pd.DataFrame) or "key" not in refs.columns:
        raise ValidationError(
            f"refs must be the DataFrame expkit.code_refs returns (with a 'key' column), "
            f"not {type(refs).__name__}",
            field="refs",
            value=type(refs).__name__,
            allowed="None or a code-references DataFrame (key, kind, path, line, ...)",
        )
    return refs


def _owner(entry: ConfigEntry) -> Any:
    """The config's last modifier; else the author of its last version; else its creator."""
    owner = entry.row.get("last_modified_by")
    if owner:
        return owner
    if entry.history and entry.history[-1][2]:
        return entry.history[-1][2]
    return entry.row.get("created_by")

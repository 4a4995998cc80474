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
    frame (``expkit.code_refs``) for the rules that read code; no rule reads it yet. The
    settings used are kept in ``findings.attrs["hygiene_config"]``, so ``report.write`` shows
    and compares with them.
    """
    cfg = resolve_config(config)
    if overrides:
        cfg = cfg.replace(**overrides)
    ctx = Context.build(snapshot, now=now, config=cfg, refs=_check_refs(refs))
    settings = cfg.settings()
    rows: list[dict[str, Any]] = []
    for rule in RULES.values():
        if rule.id in cfg.disabled:
            continue
        default = cfg.severity(rule.id)
        action = rule.default_action(settings)
        for finding in rule(ctx):
            entry = ctx.entries[finding.config_id]
            rows.append(
                {
                    "rule": rule.id,
                    "severity": finding.severity or default,
                    "kind": entry.kind,
                    "key": entry.row.get("key"),
                    "id": entry.id,
                    "project_id": entry.row.get("project_id"),
                    "detail": finding.detail,
                    "since": finding.since,
                    "action": finding.action or action,
                    "owner": _owner(entry),
                }
            )
    found = findings_frame(rows)
    found.attrs["hygiene_config"] = cfg
    return found


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

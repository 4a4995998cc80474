"""Flag hygiene: pure rules over a :class:`~expkit.Snapshot` → one findings DataFrame.

``check(snapshot)`` runs every rule of ``RULES`` and returns one row per (rule, config): what
is wrong (``detail``), since when (``since``, read from the version history), what to do
(``action``) and who to ask (``owner``, the config's last modifier). Thresholds live in one
``HygieneConfig`` (defaults below), overridable per call (``check(snap, stale_days=45)``) and
from a TOML file (``HygieneConfig.from_toml(path)``).

Rules see the *current* state of each config (rebuilt from the snapshot's frames) and walk its
versions backwards to find when the condition started: ``since`` is the creation time of the
first version of the unbroken run of versions in which the condition holds, so unrelated edits
(a new description, a tag) do not reset the clock of a staleness rule. Without versions for a
config, ``since`` falls back to its ``last_modified_at`` (the condition has held at least
since then). Inclusions have no history, so their rules leave ``since`` empty.

The package, one concern per module:

- ``_config``: ``HygieneConfig`` (thresholds, switches, TOML loading);
- ``_context``: ``Context``, the per-snapshot view every rule shares;
- ``_registry``: ``Rule``, ``Finding`` and the ``@rule`` decorator that fills ``RULES``;
- ``_findings``: the findings frame (schema, order) and ``findings.csv`` I/O;
- ``rules/``: the rules, one module per family (rollout, targeting, dependencies, lifecycle);
- ``_tags``: expkit's dated tags (``expkit:expires=``, ``expkit:snooze-until=``);
- ``_code``: where keys are in the code, and the code-cleanup list (``cleanup.csv``);
- ``_check``: ``check``.

Nothing here sends a request or mutates its inputs; only ``write_findings`` writes a file.
"""

from __future__ import annotations

from expkit.hygiene import _context
from expkit.hygiene import rules as rules  # registers every rule
from expkit.hygiene._check import check
from expkit.hygiene._code import CLEANUP_COLUMNS, cleanup, write_cleanup
from expkit.hygiene._config import EXPIRES_TAG, PERMANENT_TAG, SNOOZE_TAG, HygieneConfig
from expkit.hygiene._config import _config_from_fields as _config_from_fields  # old pickles
from expkit.hygiene._context import ConfigEntry, Context
from expkit.hygiene._findings import (
    FINDINGS_COLUMNS,
    SEVERITY_DTYPE,
    FindingsFileError,
    empty_findings,
    read_findings,
    write_findings,
)
from expkit.hygiene._registry import FAMILIES, RULES, SEVERITIES, Finding, Rule, rule

# what expkit.report reads for the same `now` as check (private, kept for it)
_resolve_now = _context.resolve_now

__all__ = [
    "CLEANUP_COLUMNS",
    "EXPIRES_TAG",
    "FAMILIES",
    "FINDINGS_COLUMNS",
    "PERMANENT_TAG",
    "RULES",
    "SEVERITIES",
    "SEVERITY_DTYPE",
    "SNOOZE_TAG",
    "ConfigEntry",
    "Context",
    "Finding",
    "FindingsFileError",
    "HygieneConfig",
    "Rule",
    "check",
    "cleanup",
    "empty_findings",
    "read_findings",
    "rule",
    "write_cleanup",
    "write_findings",
]

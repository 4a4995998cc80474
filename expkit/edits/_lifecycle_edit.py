"""LifecycleEdit: archive, unarchive, disable or enable many flags and experiments at once.

The plan reads the org once (flags and experiments with archived ones, mutex groups,
holdouts), resolves the targets (a findings or configs frame, ids or keys) and gives each
config a row: ``ready`` (it will be sent), ``blocked`` (never sent, the reason names what
depends on it) or ``no-op`` (already in the target state).

Each ready config is one ``PATCH`` built by the client's builder twin
(``client.flags.build.edit(id, archive=True)``), a :class:`~expkit.edits.Step` with an
:class:`~expkit.edits.Effect` (the ``archived`` or ``enabled`` value it sets), so a re-read
tells whether it took effect. Configs are independent: one failure never rolls back the
others; the result gives every config its status, and ``undo()`` undoes exactly the ones
that were applied.
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

from expkit._atomic import append_line
from expkit._request import Request
from expkit.edits._core import (
    PROGRESS_MIN_STEPS,
    ApplyResult,
    EditClient,
    Effect,
    Step,
    StepResult,
    Target,
    _error_text,
    _is_legacy,
    normalise_kind,
    resolve_audit_log,
)
from expkit.errors import ExpkitError, NotFoundError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ACTIONS",
    "DAILY_QUOTA",
    "MAX_PLAN_REQUESTS",
    "PERMANENT_TAG",
    "PLAN_STATUSES",
    "QUOTA_SHARE",
    "RESULT_STATUSES",
    "ConfigResult",
    "LifecycleEdit",
    "LifecycleResult",
]

ACTIONS = ("archive", "unarchive", "disable", "enable")
# the actions that take a config out of service: these are the ones the blocks apply to
RETIRING = ("archive", "disable")
# action -> (the field it sets, the value it sets it to)
_SETS: dict[str, tuple[str, bool]] = {
    "archive": ("archived", True),
    "unarchive": ("archived", False),
    "disable": ("enabled", False),
    "enable": ("enabled", True),
}
# the PATCH argument that sets each field
_EDIT_ARG = {"archived": "archive", "enabled": "enabled"}
_DONE = {
    "archive": "archived",
    "unarchive": "not archived",
    "disable": "disabled",
    "enable": "enabled",
}

PERMANENT_TAG = "expkit:permanent"

# the API's documented daily quota (per project), and the share of it one plan may use
DAILY_QUOTA = 100_000
QUOTA_SHARE = 0.10
MAX_PLAN_REQUESTS = int(DAILY_QUOTA * QUOTA_SHARE)
# the list endpoints' page size cap: what one bulk re-read of n configs costs
PAGE_SIZE = 1000
# requests in flight at once: enough to keep 100 requests/s going at 50-100 ms of latency, and
# no more than the client's connection pool (16) holds
DEFAULT_WORKERS = 16

# a row of the plan
READY = "ready"
BLOCKED = "blocked"
NO_OP = "no-op"
PLAN_STATUSES = (READY, BLOCKED, NO_OP)

# a config's status in a result
APPLIED = "applied"
UNDONE = "undone"  # an undo's step took effect
FAILED = "failed"
UNKNOWN = "unknown"
CONFLICT = "conflict"
DRY_RUN = "dry run"
NOT_SENT = "not sent"
RESULT_STATUSES = (APPLIED, UNDONE, FAILED, UNKNOWN, BLOCKED, NO_OP, CONFLICT, DRY_RUN, NOT_SENT)

_SINGULAR = {"flags": "flag", "experiments": "experiment"}
# what a conflict check compares (when both reads carry the field)
_WATCHED = (
    "enabled",
    "archived",
    "deleted",
    "state",
    "tags",
    "parentDependencies",
    "lastModifiedAt",
    "lastModifiedBy",
)


# ----------------------------------------------------------------------------- the org


def _archived(config: Mapping[str, Any]) -> bool:
    return bool(config.get("archived") or config.get("deleted"))


def _value(config: Mapping[str, Any], name: str) -> bool:
    return _archived(config) if name == "archived" else bool(config.get("enabled"))


def _reader(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda state: _value(state["config"], name)


def _pages(n: int) -> int:
    return max(1, math.ceil(n / PAGE_SIZE))


@dataclass
class _Org:
    """What a plan reads: every config (archived ones too), mutex groups, holdouts."""

    configs: dict[str, tuple[str, dict[str, Any]]]
    mutexes: list[dict[str, Any]]
    holdouts: list[dict[str, Any]]
    # requests one full read costs (lists are paged by 1000)
    cost: int = 0
    _dependents: dict[str, list[str]] = field(default_factory=dict)
    _groups: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for cid, (_, config) in self.configs.items():
            parents = (config.get("parentDependencies") or {}).get("flags") or {}
            for parent in parents:
                self._dependents.setdefault(str(parent), []).append(cid)
        for mutex in self.mutexes:
            if _archived(mutex):
                continue
            for slot in mutex.get("slots") or []:
                where = f", slot {slot.get('index')}" if slot.get("index") is not None else ""
                for member in slot.get("experiments") or []:
                    self._groups.setdefault(str(member), []).append(
                        f"in mutex group {_name(mutex, where)}"
                    )
        for holdout in self.holdouts:
            if _archived(holdout):
                continue
            for member in holdout.get("experiments") or []:
                self._groups.setdefault(str(member), []).append(
                    f"in holdout group {_name(holdout)}"
                )

    def dependents(self, cid: str, action: str = "archive") -> list[tuple[str, dict[str, Any]]]:
        """The live configs whose parent dependencies name ``cid``: not archived (for
        ``disable``: not archived and enabled, as a disabled child never evaluates)."""
        out = []
        for dep in self._dependents.get(cid, []):
            kind, config = self.configs[dep]
            if dep == cid or _archived(config):
                continue
            if action == "disable" and not config.get("enabled"):
                continue
            out.append((kind, config))
        return out

    def groups(self, cid: str) -> list[str]:
        """The live mutex and holdout groups that contain ``cid``, described."""
        return list(self._groups.get(cid, []))


def _name(item: Mapping[str, Any], more: str = "") -> str:
    key = item.get("key") or item.get("name")
    return f"{key!r} (id {item.get('id')}{more})" if key else f"id {item.get('id')}{more}"


def _describe(kind: str, config: Mapping[str, Any]) -> str:
    return f"{_SINGULAR[kind]} {_name(config)}"


def _list_groups(client: Any, name: str) -> list[dict[str, Any]]:
    resource = getattr(client, name, None)
    if resource is None or not hasattr(resource, "list"):
        return []
    return [dict(g) for g in resource.list()]


def _read_org(client: Any) -> _Org:
    """Every config (archived ones too), mutex group and holdout: the four lists are read
    side by side (the client paces them), so a read costs one round trip per page, not four."""
    lists: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "flags": lambda: client.flags.list(include_archived=True),
        "experiments": lambda: client.experiments.list(include_archived=True),
        "mutexes": lambda: _list_groups(client, "mutexes"),
        "holdouts": lambda: _list_groups(client, "holdouts"),
    }
    with ThreadPoolExecutor(max_workers=len(lists)) as pool:
        futures = {name: pool.submit(read) for name, read in lists.items()}
        read = {name: future.result() for name, future in futures.items()}
    configs: dict[str, tuple[str, dict[str, Any]]] = {}
    cost = 2
    for kind in ("flags", "experiments"):
        cost += _pages(len(read[kind]))
        for config in read[kind]:
            configs[str(config["id"])] = (kind, dict(config))
    return _Org(configs, read["mutexes"], read["holdouts"], cost)


def _changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The watched fields that differ (a field one of the reads lacks is not compared)."""
    out = []
    for name in _WATCHED:
        if name in ("archived", "enabled"):
            if _value(old, name) != _value(new, name):
                out.append(name)
        elif name in old and name in new and old[name] != new[name]:
            out.append(name)
    return out


# ----------------------------------------------------------------------------- targets


def _frame_targets(frame: Any, kind: str | None) -> list[tuple[str | None, str]]:
    columns = [str(c) for c in frame.columns]
    missing = [c for c in ("id", "kind") if c not in columns and not (c == "kind" and kind)]
    if missing:
        raise ValidationError(
            f"targets: the frame has no {' and no '.join(repr(c) for c in missing)} column "
            f"(it has {', '.join(columns) or 'no columns'}); pass a findings frame "
            "(expkit.hygiene.check), a configs frame, or ids with kind=.",
            field="targets",
            value=columns,
            allowed="a DataFrame with 'id' and 'kind' columns",
        )
    out: list[tuple[str | None, str]] = []
    kinds = frame["kind"] if "kind" in columns else [None] * len(frame)
    for n, (raw_id, raw_kind) in enumerate(zip(frame["id"], kinds, strict=True)):
        if raw_id is None or (not isinstance(raw_id, str) and _isna(raw_id)):
            raise ValidationError(
                f"targets: row {n} has no id.",
                field="targets.id",
                value=None,
                allowed="a flag or experiment id in every row",
            )
        row_kind = None if raw_kind is None or _isna(raw_kind) else normalise_kind(str(raw_kind))
        if kind is not None and row_kind is not None and row_kind != kind:
            continue  # kind= filters a frame
        out.append((row_kind or kind, _id_text(raw_id)))
    return out


def _isna(value: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _id_text(value: Any) -> str:
    if isinstance(value, bool):
        raise ValidationError(
            f"targets: {value!r} is not an id or a key.",
            field="targets",
            value=value,
            allowed="ids (int or str) or keys",
        )
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text:
        raise ValidationError(
            "targets: an empty id or key.",
            field="targets",
            value=value,
            allowed="ids (int or str) or keys",
        )
    return text


def _resolve(targets: Any, kind: str | None, org: _Org) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, id, config) per target, in order, each config once; raises on unknown ones."""
    if hasattr(targets, "columns") and hasattr(targets, "iloc"):
        wanted = _frame_targets(targets, kind)
    else:
        if isinstance(targets, str | int) or not isinstance(targets, Iterable):
            targets = [targets]
        if hasattr(targets, "tolist"):
            targets = targets.tolist()
        wanted = [(kind, _id_text(t)) for t in targets]
    by_key: dict[str, list[str]] = {}
    for cid, (_, config) in org.configs.items():
        if config.get("key") is not None:
            by_key.setdefault(str(config["key"]), []).append(cid)
    out: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[str] = set()
    unknown: list[str] = []
    for want_kind, text in wanted:
        found = org.configs.get(text)
        if found is not None and want_kind in (None, found[0]):
            cid = text
        else:
            matches = [c for c in by_key.get(text, []) if want_kind in (None, org.configs[c][0])]
            if not matches:
                unknown.append(text)
                continue
            if len(matches) > 1:
                where = ", ".join(
                    f"{_SINGULAR[org.configs[c][0]]} id {c} in project "
                    f"{org.configs[c][1].get('projectId')}"
                    for c in matches
                )
                raise ValidationError(
                    f"targets: the key {text!r} names {len(matches)} configs ({where}); pass "
                    "the id of the one you mean. Nothing was sent.",
                    field="targets",
                    value=text,
                    allowed=tuple(matches),
                )
            cid = matches[0]
        if cid not in seen:
            seen.add(cid)
            out.append((org.configs[cid][0], cid, org.configs[cid][1]))
    if unknown:
        what = f" {kind}" if kind else " flags or experiments"
        listing = ", ".join(repr(u) for u in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise ValidationError(
            f"targets: no{what} with the id or key {listing}{more} (archived ones included). "
            "Nothing was sent.",
            field="targets",
            value=unknown,
            allowed="ids or keys of existing flags and experiments",
        )
    return out


def _refs_index(refs: Any) -> dict[str, list[str]]:
    """key -> ``path:line`` places, from a frame like ``expkit.code_refs`` returns."""
    if refs is None:
        return {}
    columns = [str(c) for c in getattr(refs, "columns", [])]
    if "key" not in columns:
        raise ValidationError(
            f"refs: a code references frame needs a 'key' column (it has "
            f"{', '.join(columns) or 'none'}).",
            field="refs",
            value=columns,
            allowed="a DataFrame from expkit.code_refs (key, path, line, ...)",
        )
    paths = refs["path"] if "path" in columns else [None] * len(refs)
    lines = refs["line"] if "line" in columns else [None] * len(refs)
    out: dict[str, list[str]] = {}
    for key, path, line in zip(refs["key"], paths, lines, strict=True):
        if key is None or _isna(key):
            continue
        place = "" if path is None or _isna(path) else str(path)
        if place and line is not None and not _isna(line):
            place += f":{int(line)}"
        out.setdefault(str(key), []).append(place or "(somewhere)")
    return out


# ----------------------------------------------------------------------------- rows


@dataclass
class _Row:
    kind: str
    id: str
    config: dict[str, Any]
    status: str
    reason: str
    # ids of configs in the same plan that depend on this one: sent (and applied) first
    after: tuple[str, ...] = ()

    @property
    def key(self) -> str | None:
        key = self.config.get("key")
        return None if key is None else str(key)


def _evaluate(
    action: str,
    kind: str,
    cid: str,
    config: Mapping[str, Any],
    org: _Org,
    refs: Mapping[str, list[str]],
    force: bool,
    in_plan: AbstractSet[str] = frozenset(),
) -> tuple[str, str, tuple[str, ...]]:
    """(status, reason, the dependents in ``in_plan`` that must go first) of one config."""
    name, target = _SETS[action]
    if _value(config, name) == target:
        return NO_OP, f"already {_DONE[action]}", ()
    if action == "enable" and _archived(config):
        return BLOCKED, "archived: unarchive it first", ()
    if action not in RETIRING:
        return READY, "", ()
    reasons = []
    after: list[str] = []
    if PERMANENT_TAG in (config.get("tags") or []):
        reasons.append(f"tagged {PERMANENT_TAG}")
    if kind == "experiments" and config.get("state") == "running":
        reasons.append("a running experiment: record a decision (or stop it) first")
    for dep_kind, dep in org.dependents(cid, action):
        if str(dep["id"]) in in_plan:
            after.append(str(dep["id"]))
        else:
            reasons.append(f"{_describe(dep_kind, dep)} depends on it")
    reasons.extend(org.groups(cid))
    notes = []
    places = refs.get(str(config.get("key")), [])
    if places:
        more = f" and {len(places) - 3} more" if len(places) > 3 else ""
        where = f"referenced in code: {', '.join(places[:3])}{more}"
        if force:
            notes.append(f"{where} (force=True)")
        else:
            reasons.append(where)
    if reasons:
        return BLOCKED, "; ".join(reasons), ()
    if after:
        names = ", ".join(_describe(*org.configs[d]) for d in after)
        notes.append(f"after {names} (in this plan, which depends on it)")
    return READY, "; ".join(notes), tuple(after)


def _evaluate_all(
    action: str,
    items: Sequence[tuple[str, str, dict[str, Any]]],
    org: _Org,
    refs: Mapping[str, list[str]],
    force: bool,
) -> list[_Row]:
    """One row per (kind, id, config). A config whose dependents are all in the plan is
    ready, to be sent after them; blocked when one of them is not ready (or in a cycle)."""
    in_plan = {cid for _, cid, _ in items}
    rows = {
        cid: _Row(
            kind, cid, config, *_evaluate(action, kind, cid, config, org, refs, force, in_plan)
        )
        for kind, cid, config in items
    }
    changed = True
    while changed:
        changed = False
        for row in rows.values():
            if row.status != READY or not row.after:
                continue
            bad = [d for d in row.after if rows[d].status != READY]
            if bad:
                row.status = BLOCKED
                row.reason = "; ".join(
                    f"{_describe(*org.configs[d])} depends on it ({rows[d].status} in this plan)"
                    for d in bad
                )
                row.after = ()
                changed = True
    # a cycle of dependencies can never be ordered: block it whole
    for cid in _cyclic(rows):
        row = rows[cid]
        row.status, row.reason, row.after = BLOCKED, "a cycle of parent dependencies", ()
    return [rows[cid] for _, cid, _ in items]


def _cyclic(rows: Mapping[str, _Row]) -> list[str]:
    """The ready rows that cannot be put in an order where dependents go first."""
    pending = {cid: set(r.after) for cid, r in rows.items() if r.status == READY}
    while True:
        waiting = set(pending)
        free = [cid for cid, deps in pending.items() if not deps & waiting]
        if not free:
            return sorted(pending)
        for cid in free:
            del pending[cid]


def _waves(rows: Sequence[_Row]) -> list[list[_Row]]:
    """The rows in waves: every row after the ones (among ``rows``) that depend on it."""
    left = {r.id: r for r in rows}
    waves = []
    while left:
        waiting = set(left)
        wave = [r for r in left.values() if not set(r.after) & waiting]
        if not wave:  # a cycle (blocked at evaluation; never here): send the rest together
            wave = list(left.values())
        waves.append(wave)
        for r in wave:
            del left[r.id]
    return waves


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ConfigResult:
    """What happened to one config: its status (``applied``, ``failed``, ``unknown``,
    ``blocked``, ``no-op``, ``conflict``, ``dry run``, ``not sent``) and why."""

    id: str
    kind: str
    key: str | None
    action: str
    status: str
    reason: str = ""
    request: Request | None = None
    error: str | None = None


@dataclass(frozen=True)
class LifecycleResult(ApplyResult):
    """The outcome of ``LifecycleEdit.apply()`` / ``undo()``: one :class:`ConfigResult` per
    config in ``configs`` (``frame()`` shows them as a table) besides the sent ``steps``.

    ``outcome``: ``"applied"`` / ``"undone"`` (every sent config took effect), ``"partial"``
    (some did, some failed), ``"failed"`` (none did), ``"dry run"`` or ``"unchanged"``
    (nothing to send). ``ok`` is False when any config failed or is unknown.
    """

    configs: tuple[ConfigResult, ...] = ()

    def by_status(self, status: str) -> list[str]:
        """The ids of the configs with ``status``."""
        return [c.id for c in self.configs if c.status == status]

    @property
    def applied(self) -> list[str]:
        """Ids of the configs the change (or undo) took effect on."""
        return [c.id for c in self.configs if c.status in (APPLIED, UNDONE)]

    @property
    def failed(self) -> list[str]:
        """Ids of the configs whose request failed (or whose outcome is unknown)."""
        return [c.id for c in self.configs if c.status in (FAILED, UNKNOWN)]

    @property
    def ok(self) -> bool:
        """True when no config failed and none is unknown."""
        return not self.failed

    def counts(self) -> dict[str, int]:
        """Status -> number of configs, for the statuses present."""
        out: dict[str, int] = {}
        for c in self.configs:
            out[c.status] = out.get(c.status, 0) + 1
        return out

    def frame(self) -> pd.DataFrame:
        """One row per config: id, kind, key, action, status, reason, error."""
        import pandas as pd

        rows = {
            "id": [c.id for c in self.configs],
            "kind": [_SINGULAR[c.kind] for c in self.configs],
            "key": [c.key for c in self.configs],
            "action": [c.action for c in self.configs],
            "status": [c.status for c in self.configs],
            "reason": [c.reason or None for c in self.configs],
            "error": [c.error for c in self.configs],
        }
        return pd.DataFrame(rows).astype(dict.fromkeys(rows, "string"))

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items()) or "no configs"
        lines = [f"{self.action}: {self.outcome} ({counts})"]
        for c in self.configs:
            if c.status in (FAILED, UNKNOWN, CONFLICT):
                lines.append(
                    f"  {_SINGULAR[c.kind]} {c.key!r} (id {c.id}): {c.status}: "
                    f"{c.error or c.reason}"
                )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items()) or "no configs"
        head = (
            f"<p><b>{html.escape(self.action)}: {html.escape(self.outcome)}</b> "
            f"({html.escape(counts)})</p>"
        )
        return head + self.frame().to_html(index=False, na_rep="")


# ----------------------------------------------------------------------------- the plan


@dataclass
class _Done:
    """A config an apply changed: the step (its inverse undoes it) and the config after."""

    row: _Row
    step: Step
    after: dict[str, Any] | None


class LifecycleEdit:
    """Archive, unarchive, disable or enable many flags and experiments; see ``load``."""

    _what: ClassVar[str] = "lifecycle edit"

    def __init__(
        self,
        client: EditClient,
        action: str,
        org: _Org,
        rows: list[_Row],
        *,
        refs: Mapping[str, list[str]],
        force: bool,
        allow_large: bool,
        workers: int,
        audit_log: Path | None,
    ) -> None:
        self._client = client
        self._action = action
        self._org = org
        self._rows = rows
        self._refs = refs
        self._force = force
        self._allow_large = allow_large
        self._workers = workers
        self._audit_path = audit_log
        self._last: list[_Done] = []
        self._last_result: LifecycleResult | None = None

    @classmethod
    def load(
        cls,
        client: EditClient,
        targets: Any,
        *,
        action: str = "archive",
        kind: str | None = None,
        refs: Any = None,
        force: bool = False,
        allow_large: bool = False,
        workers: int = DEFAULT_WORKERS,
        audit_log: str | os.PathLike[str] | bool | None = None,
    ) -> Self:
        """A plan to ``action`` the ``targets``, read from the org through ``client``.

        ``targets``: a findings frame (``expkit.hygiene.check``), a configs frame (both by
        their ``id``/``kind`` columns; ``kind=`` keeps one kind), or ids (ints or strings)
        or keys, with ``kind=`` (``"flags"`` | ``"experiments"``; searched in both when
        None). ``refs``: a code references frame (``expkit.code_refs``); a config whose key
        is in it is blocked unless ``force=True`` (which overrides only that block).
        ``allow_large=True`` lifts the refusal of plans needing more than
        ``MAX_PLAN_REQUESTS`` (10% of the 100,000/day quota). ``workers``: requests in
        flight at once (the client's rate limit paces them). ``audit_log``: a path, None
        for ``$EXPKIT_AUDIT_LOG`` or ``~/.expkit/audit.jsonl``, False for none.

        Raises ValidationError (bad action, targets, refs; unknown ids or keys) before any
        write is sent.
        """
        if not isinstance(action, str) or action not in ACTIONS:
            raise ValidationError(
                f"action must be one of {', '.join(ACTIONS)}, got {action!r}.",
                field="action",
                value=action,
                allowed=ACTIONS,
            )
        want = None if kind is None else normalise_kind(kind)
        if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= 16:
            raise ValidationError(
                f"workers must be a whole number from 1 to 16, got {workers!r}.",
                field="workers",
                value=workers,
                allowed="1..16",
            )
        if _is_legacy(client):
            raise ValidationError(
                "LifecycleEdit needs an expkit.Client: the legacy beta API has no archive and "
                "no list of archived configs.",
                field="client",
                value=type(client).__name__,
                allowed="expkit.Client",
            )
        index = _refs_index(refs)
        path = resolve_audit_log(audit_log)
        org = _read_org(client)
        resolved = _resolve(targets, want, org)
        rows = _evaluate_all(action, resolved, org, index, bool(force))
        plan = cls(
            client,
            action,
            org,
            rows,
            refs=index,
            force=bool(force),
            allow_large=bool(allow_large),
            workers=workers,
            audit_log=path,
        )
        plan._check_quota()
        return plan

    # -- what the plan is -------------------------------------------------------------------
    @property
    def action(self) -> str:
        """``archive``, ``unarchive``, ``disable`` or ``enable``."""
        return self._action

    @property
    def audit_log(self) -> Path | None:
        """The audit log file, or None when disabled."""
        return self._audit_path

    @property
    def ids(self) -> list[str]:
        """The configs' ids, in plan order."""
        return [r.id for r in self._rows]

    @property
    def can_undo(self) -> bool:
        """True after an apply that changed something not undone yet."""
        return bool(self._last)

    @property
    def last_result(self) -> LifecycleResult | None:
        """The result of the latest apply or undo."""
        return self._last_result

    @property
    def has_changes(self) -> bool:
        """True when at least one config is ready."""
        return any(r.status == READY for r in self._rows)

    def counts(self) -> dict[str, int]:
        """ready / blocked / no-op -> number of configs."""
        return {s: sum(r.status == s for r in self._rows) for s in PLAN_STATUSES}

    @property
    def n_requests(self) -> int:
        """The requests ``apply()`` needs: a re-read of the org, one write per ready config,
        and the verifying re-read (an undo needs as many again)."""
        ready = sum(r.status == READY for r in self._rows)
        if not ready:
            return 0
        return self._org.cost + ready + min(ready, self._org.cost)

    def preview(self) -> pd.DataFrame:
        """One row per config: id, kind, key, action, status (ready / blocked / no-op), reason."""
        return self._frame(self._rows)

    @property
    def blocked(self) -> pd.DataFrame:
        """The blocked rows of ``preview()``: never sent; ``reason`` names what blocks them."""
        return self._frame([r for r in self._rows if r.status == BLOCKED])

    def _frame(self, rows: Sequence[_Row]) -> pd.DataFrame:
        import pandas as pd

        data = {
            "id": [r.id for r in rows],
            "kind": [_SINGULAR[r.kind] for r in rows],
            "key": [r.key for r in rows],
            "action": [self._action] * len(rows),
            "status": [r.status for r in rows],
            "reason": [r.reason for r in rows],
        }
        return pd.DataFrame(data).astype(dict.fromkeys(data, "string"))

    def requests(self) -> list[Request]:
        """The exact writes ``apply()`` would send, one per ready config, in plan order."""
        return [self._step(r).request for r in self._rows if r.status == READY]

    def _step(self, row: _Row) -> Step:
        name, value = _SETS[self._action]
        target = Target(self._client, row.id, row.kind)
        before = _value(row.config, name)
        return target.edit(**{_EDIT_ARG[name]: value}).reversible(
            target.edit(**{_EDIT_ARG[name]: before}), Effect(_reader(name), before, value)
        )

    def reload(self) -> Self:
        """Re-reads the org and re-evaluates every row (the targets stay); returns self."""
        org = _read_org(self._client)
        present = [(r.kind, r.id, org.configs[r.id][1]) for r in self._rows if r.id in org.configs]
        evaluated = {
            r.id: r for r in _evaluate_all(self._action, present, org, self._refs, self._force)
        }
        rows = [
            evaluated.get(r.id) or _Row(r.kind, r.id, r.config, BLOCKED, "gone from the server")
            for r in self._rows
        ]
        self._org, self._rows = org, rows
        return self

    def _check_quota(self) -> None:
        need = self.n_requests
        if need > MAX_PLAN_REQUESTS and not self._allow_large:
            raise ValidationError(
                f"This plan needs about {need:,} requests, more than {MAX_PLAN_REQUESTS:,} "
                f"({QUOTA_SHARE:.0%} of the API's {DAILY_QUOTA:,}/day quota). Split it (e.g. "
                "by rule or kind), or pass allow_large=True. Nothing was sent.",
                field="allow_large",
                value=need,
                allowed=f"at most {MAX_PLAN_REQUESTS:,} requests, or allow_large=True",
            )

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items())
        return f"<LifecycleEdit {self._action}: {len(self._rows)} config(s): {counts}>"

    def _repr_html_(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items())
        head = (
            f"<p><b>{html.escape(self._action)}</b>: {len(self._rows)} config(s), "
            f"{html.escape(counts)}; about {self.n_requests:,} request(s)</p>"
        )
        return head + self.preview().to_html(index=False, na_rep="")

    # -- apply and undo ---------------------------------------------------------------------
    def apply(self, *, dry_run: bool = False, progress: bool = True) -> LifecycleResult:
        """Re-reads the org, checks each ready config for conflicts, sends the writes
        (paced by the client), re-reads to verify; returns one result per config.

        A config that changed on the server since the plan was loaded is not sent
        (``conflict``); one that became blocked or already done is ``blocked`` / ``no-op``.
        A failed config never rolls back the others. ``dry_run=True`` does the checks and
        sends no write. Raises ValidationError above the quota share (see ``load``).
        """
        self._check_quota()
        if not self.has_changes:
            unchanged = tuple(self._static(r) for r in self._rows)
            return self._finish("apply", "unchanged", unchanged, [], dry_run=dry_run)
        fresh = _read_org(self._client)
        ready = [
            (r.kind, r.id, fresh.configs[r.id][1])
            for r in self._rows
            if r.status == READY and r.id in fresh.configs
        ]
        now = {r.id: r for r in _evaluate_all(self._action, ready, fresh, self._refs, self._force)}
        results: list[ConfigResult] = []
        to_send: list[tuple[_Row, Step]] = []
        for row in self._rows:
            if row.status != READY:
                results.append(self._static(row))
                continue
            outcome = self._recheck(row, now.get(row.id))
            if outcome is not None:
                results.append(outcome)
                continue
            step = self._step(row)
            to_send.append((now[row.id], step))
            results.append(self._result(row, DRY_RUN if dry_run else NOT_SENT, step=step))
        if dry_run or not to_send:
            outcome_name = "dry run" if dry_run else "unchanged"
            return self._finish("apply", outcome_name, tuple(results), [], dry_run=dry_run)
        return self._run("apply", to_send, results, fresh, progress=progress)

    def undo(self, *, dry_run: bool = False, progress: bool = True) -> LifecycleResult:
        """Undoes exactly the configs the last apply changed (the others are untouched).

        Re-reads them first: one changed on the server since the apply is not sent
        (``conflict``), one already back is a ``no-op``.
        """
        if not self._last:
            raise ValidationError(
                "Nothing to undo: no apply changed a config since this plan was loaded (or the "
                "last one was undone).",
                field="undo",
                value=None,
            )
        fresh = _read_org(self._client)
        results: list[ConfigResult] = []
        to_send: list[tuple[_Row, Step]] = []
        for done in self._last:
            row = done.row
            found = fresh.configs.get(row.id)
            inverse = done.step.inverse
            if found is None or inverse is None:
                results.append(self._result(row, CONFLICT, reason="gone from the server"))
                continue
            config = found[1]
            took = done.step.check({"config": config})
            if took is False:
                results.append(self._result(row, NO_OP, reason="already back as it was"))
                continue
            changed = _changed_fields(done.after, config) if done.after is not None else []
            if took is None or changed:
                results.append(
                    self._result(row, CONFLICT, reason=_conflict_text(config, changed, "apply"))
                )
                continue
            step = inverse.with_inverse(done.step)
            to_send.append((_with_config(row, config), step))
            results.append(self._result(row, DRY_RUN if dry_run else NOT_SENT, step=step))
        if dry_run or not to_send:
            outcome_name = "dry run" if dry_run else "unchanged"
            if not dry_run:
                # nothing of the last apply is left to undo
                self._last = [d for d in self._last if d.row.id in _ids(results, CONFLICT)]
            return self._finish("undo", outcome_name, tuple(results), [], dry_run=dry_run)
        return self._run("undo", to_send, results, fresh, progress=progress)

    # -- the engine -------------------------------------------------------------------------
    def _static(self, row: _Row) -> ConfigResult:
        return self._result(row, row.status, reason=row.reason)

    def _result(
        self,
        row: _Row,
        status: str,
        *,
        reason: str = "",
        step: Step | None = None,
        error: str | None = None,
    ) -> ConfigResult:
        return ConfigResult(
            row.id,
            row.kind,
            row.key,
            self._action,
            status,
            reason,
            None if step is None else step.request,
            error,
        )

    def _recheck(self, row: _Row, now: _Row | None) -> ConfigResult | None:
        """A ready row against its re-evaluation on the org as re-read before sending: None
        when it is still ready and unchanged."""
        if now is None:
            return self._result(row, CONFLICT, reason="gone from the server since the plan")
        if now.status != READY:
            return self._result(row, now.status, reason=f"{now.reason} (since the plan was loaded)")
        changed = _changed_fields(row.config, now.config)
        if changed:
            return self._result(row, CONFLICT, reason=_conflict_text(now.config, changed, "load"))
        return None

    def _run(
        self,
        action: str,
        to_send: list[tuple[_Row, Step]],
        results: list[ConfigResult],
        fresh: _Org,
        *,
        progress: bool,
    ) -> LifecycleResult:
        from tqdm.auto import tqdm

        errors: dict[str, BaseException | None] = {}
        interrupted: KeyboardInterrupt | None = None
        bar = tqdm(
            total=len(to_send),
            desc=f"{self._action if action == 'apply' else 'undo ' + self._action}",
            unit="config",
            disable=not progress or len(to_send) < PROGRESS_MIN_STEPS,
            leave=False,
        )
        pool = ThreadPoolExecutor(max_workers=min(self._workers, len(to_send)))
        futures: dict[Future[Any], str] = {}
        step_of = {row.id: step for row, step in to_send}
        # configs depending on others go out first; an undo restores the others first
        waves = _waves([row for row, _ in to_send])
        if action == "undo":
            waves.reverse()
        held: dict[str, str] = {}  # id -> why it was not sent: a dependent was not applied
        try:
            with bar:
                for wave in waves:
                    for row in wave:
                        missing = [d for d in row.after if d not in errors or errors[d] is not None]
                        if action == "apply" and missing:
                            held[row.id] = "; ".join(
                                f"{_describe(*self._org.configs[d])} depends on it and was not "
                                f"{_DONE[self._action]}"
                                for d in missing
                            )
                            bar.update(1)
                            continue
                        futures[pool.submit(step_of[row.id].send)] = row.id
                    pending = {f for f, cid in futures.items() if cid not in errors}
                    while pending:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            errors[futures[future]] = future.exception()
                            bar.update(1)
        except KeyboardInterrupt as exc:
            # stop sending; what went out is settled by the re-read below
            interrupted = exc
        finally:
            # requests in flight finish (they are short); queued ones are never sent
            pool.shutdown(wait=True, cancel_futures=True)
        if interrupted is not None:
            for future, cid in futures.items():
                if cid not in errors and not future.cancelled() and future.done():
                    errors[cid] = future.exception()
        sent = [(row, step) for row, step in to_send if row.id in errors]
        states, read_error = self._reread([row for row, _ in sent], fresh)
        by_id: dict[str, ConfigResult] = {}
        done_list: list[_Done] = []
        undone: set[str] = set()
        for row, step in to_send:
            if row.id in held:
                by_id[row.id] = self._result(row, BLOCKED, reason=held[row.id], step=step)
                continue
            if row.id not in errors:
                by_id[row.id] = self._result(
                    row, NOT_SENT, step=step, reason="interrupted before it was sent"
                )
                continue
            failure = errors.get(row.id)
            state = states.get(row.id)
            took = step.check(None if state is None else {"config": state})
            error = None if failure is None else _error_text(failure)
            if took is True:
                status = APPLIED
                reason = (
                    "" if failure is None else "the server applied it although the request failed"
                )
            elif took is False:
                status = FAILED
                if error is None:
                    error = "the server accepted it, but a re-read shows it not applied"
                reason = ""
            elif state is None and failure is None and read_error is not None:
                status, reason = APPLIED, "unverified: the re-read failed"
            else:
                status = UNKNOWN
                reason = (
                    "the re-read failed"
                    if state is None
                    else "a re-read shows a value neither before nor after"
                )
            by_id[row.id] = self._result(row, status, reason=reason, step=step, error=error)
            if status in (APPLIED, UNKNOWN):
                if action == "apply":
                    done_list.append(_Done(row, step, state))
                elif status == APPLIED:
                    undone.add(row.id)
        self._update_state(states)
        if action == "apply":
            self._last = [d for d in self._last if d.row.id not in by_id] + done_list
        else:
            self._last = [d for d in self._last if d.row.id not in undone]
        good = APPLIED
        if action == "undo":
            good = UNDONE
            by_id = {
                cid: dataclasses.replace(c, status=UNDONE) if c.status == APPLIED else c
                for cid, c in by_id.items()
            }
        final = tuple(by_id.get(r.id, r) for r in results)
        sent_statuses = [by_id[row.id].status for row, _ in to_send]
        if all(s == good for s in sent_statuses):
            outcome = "applied" if action == "apply" else "undone"
        elif any(s == good for s in sent_statuses):
            outcome = "partial"
        else:
            outcome = "failed"
        steps = tuple(
            StepResult(
                step.request,
                NOT_SENT
                if row.id not in errors
                else ("failed" if errors[row.id] is not None else "applied"),
                None if errors.get(row.id) is None else _error_text(errors[row.id] or Exception()),
                _step_status(by_id[row.id].status),
            )
            for row, step in to_send
        )
        verified = read_error is None and all(s == good for s in sent_statuses)
        result = self._finish(action, outcome, final, list(steps), dry_run=False, verified=verified)
        if interrupted is not None:
            raise interrupted
        return result

    def _reread(
        self, rows: list[_Row], fresh: _Org
    ) -> tuple[dict[str, dict[str, Any]], BaseException | None]:
        """The configs as the server has them now: one GET each, or the lists when cheaper."""
        if not rows:
            return {}, None
        try:
            if len(rows) > fresh.cost:
                org = _read_org(self._client)
                self._org = org
                return {r.id: org.configs[r.id][1] for r in rows if r.id in org.configs}, None
            out = {}
            for row in rows:
                try:
                    out[row.id] = dict(getattr(self._client, row.kind).get(row.id))
                except NotFoundError:
                    continue
            return out, None
        except (ExpkitError, KeyboardInterrupt) as exc:
            return {}, exc

    def _update_state(self, states: Mapping[str, dict[str, Any]]) -> None:
        """The plan follows the server: re-read configs replace the loaded ones."""
        for cid, config in states.items():
            kind = self._org.configs[cid][0] if cid in self._org.configs else None
            if kind is not None:
                self._org.configs[cid] = (kind, config)
        items = [(r.kind, r.id, states.get(r.id, r.config)) for r in self._rows]
        self._rows = _evaluate_all(self._action, items, self._org, self._refs, self._force)

    def _finish(
        self,
        action: str,
        outcome: str,
        results: tuple[ConfigResult, ...],
        steps: list[StepResult],
        *,
        dry_run: bool,
        verified: bool = False,
    ) -> LifecycleResult:
        name, value = _SETS[self._action]
        before = {
            c.id: (not value if c.status in (APPLIED, UNDONE, DRY_RUN, NOT_SENT) else None)
            for c in results
        }
        after = {c.id: (value if c.status in (APPLIED, UNDONE) else None) for c in results}
        if action == "undo":
            before, after = after, before
        changes = tuple(
            f"{action} {self._action} {_SINGULAR[c.kind]} {c.key!r} (id {c.id}): {c.status}"
            for c in results
        )
        result = LifecycleResult(
            action,
            outcome,
            tuple(steps),
            before,
            after,
            verified,
            changes,
            "planned" if verified else ("before" if dry_run else "unknown"),
            configs=results,
        )
        self._last_result = result
        _write_audit_lines(
            self._audit_path,
            [self._audit_record(action, c, name, value, dry_run=dry_run) for c in results],
        )
        return result

    def _audit_record(
        self, action: str, c: ConfigResult, name: str, value: bool, *, dry_run: bool
    ) -> dict[str, Any]:
        target = value if action == "apply" else not value
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "user": os.environ.get("USER") or os.environ.get("USERNAME") or None,
            "action": action,
            "edit": "LifecycleEdit",
            "lifecycle": self._action,
            "kind": c.kind,
            "config_id": c.id,
            "config_key": c.key,
            "base_url": getattr(self._client, "base_url", None),
            "before": {name: not target} if c.request is not None else None,
            "after": {name: target} if c.status in (APPLIED, UNDONE) else None,
            "requests": [] if c.request is None else [c.request.to_dict()],
            "outcome": c.status,
            "dry_run": dry_run,
            "reason": c.reason or None,
            "error": c.error,
        }
        return record


def _with_config(row: _Row, config: dict[str, Any]) -> _Row:
    """The row with the config as re-read."""
    return _Row(row.kind, row.id, config, row.status, row.reason, row.after)


def _write_audit_lines(path: Path | None, records: list[dict[str, Any]]) -> None:
    """One audit line per config, appended in one write (one fsync for the whole plan: a
    thousand fsyncs would cost seconds); a log that cannot be written warns."""
    if path is None or not records:
        return
    lines = [json.dumps(r, sort_keys=True, default=str, ensure_ascii=False) for r in records]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        append_line(path, "\n".join(lines))
    except OSError as exc:
        warnings.warn(f"expkit could not write the audit log {path}: {exc}", stacklevel=4)


def _ids(results: Iterable[ConfigResult], status: str) -> set[str]:
    return {c.id for c in results if c.status == status}


def _step_status(status: str) -> str:
    if status in (APPLIED, UNDONE):
        return "applied"
    if status in (FAILED, BLOCKED, NOT_SENT):
        return "not applied"
    return "unknown"


def _conflict_text(config: Mapping[str, Any], changed: list[str], since: str) -> str:
    who = config.get("lastModifiedBy")
    when = config.get("lastModifiedAt")
    by = f" by {who}" if who else ""
    at = f" at {when}" if when else ""
    what = ", ".join(changed) if changed else "its content"
    return (
        f"changed on the server since the {'plan was loaded' if since == 'load' else since} "
        f"(last modified{by}{at}; changed: {what}); not sent — reload the plan to review it"
    )

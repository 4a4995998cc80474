"""What every edit plan shares: requests, steps, results, errors, the audit log, the target.

A plan is a plain object: the state it was loaded from, the intended change, and the client
it talks through. Validation, previews and the list of steps are pure functions of those
two; only ``load``, ``reload``, ``apply`` and ``undo`` send requests, always through the
client's resource methods (so the client's own validation and error mapping apply).

The outcome model: every step knows what it sets (its :class:`Effect`), so a re-read of the
server tells whether it took effect. When a request's outcome is unknown (a 5xx after the
server applied the write, a connection dropped after every retry, a timeout, Ctrl-C right
after the response), the plan re-reads the config to settle it; every step the server
applied is rolled back with the rest, and a last re-read gives each step its status:
``applied``, ``not applied``, ``rolled back`` or ``unknown``.
"""

from __future__ import annotations

import html
import json
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeAlias

from expkit._atomic import append_line
from expkit._client import API_PREFIX, ConfigRequests, VariantRequests
from expkit._legacy import LegacyRequests
from expkit._request import ClientLike, Request
from expkit._validate import config_kind
from expkit.errors import ExpkitError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "STATUSES",
    "ApplyResult",
    "ConflictError",
    "EditClient",
    "Effect",
    "PartialApplyError",
    "Request",
    "StepResult",
    "VerificationError",
]

# The client a plan talks through: expkit.Client, expkit.LegacyClient or a double
EditClient: TypeAlias = ClientLike

_KIND_ALIASES = {
    "flag": "flags",
    "flags": "flags",
    "experiment": "experiments",
    "experiments": "experiments",
}
DEFAULT_AUDIT_LOG = Path("~/.expkit/audit.jsonl")
AUDIT_ENV = "EXPKIT_AUDIT_LOG"

PROGRESS_MIN_STEPS = 10

# what happened to a step's request (its "fate"), in the words the errors and the audit use
APPLIED = "applied"  # the server answered with a success
ROLLED_BACK = "rolled back"  # ... and later the inverse request succeeded too
FAILED = "failed"  # the request raised (an error status, no response, an interrupt)
NOT_SENT = "not sent"
ROLLBACK_FAILED = "rollback failed"  # the inverse request raised (or was never sent)

# where the step stands on the server (its "status"), settled by re-reading when unsure
NOT_APPLIED = "not applied"
UNKNOWN = "unknown"
STATUSES = (APPLIED, NOT_APPLIED, ROLLED_BACK, UNKNOWN)

# what the last re-read of an apply or undo showed (ApplyResult.state)
STATE_PLANNED = "planned"
STATE_BEFORE = "before"
STATE_MIXED = "mixed"
STATE_UNKNOWN = "unknown"


class ConflictError(ExpkitError):
    """The config changed on the server since the plan was loaded; nothing was sent.

    ``changed_by`` and ``changed_at`` say who changed it last and when (when known),
    ``fields`` lists what differs.
    """

    def __init__(
        self,
        message: str,
        *,
        changed_by: str | None = None,
        changed_at: str | None = None,
        fields: tuple[str, ...] = (),
    ) -> None:
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.fields = fields
        super().__init__(message)


class PartialApplyError(ExpkitError):
    """A step failed part-way; every step the server had applied was rolled back (best effort).

    ``steps`` holds each step's fate and status; ``restored`` is True when a re-read showed
    the values from before the call back in place, False when it showed otherwise, None when
    the re-read itself failed. ``result`` is the full :class:`ApplyResult`.
    """

    def __init__(
        self,
        message: str,
        *,
        steps: tuple[StepResult, ...],
        restored: bool | None,
        result: ApplyResult | None = None,
    ) -> None:
        self.steps = steps
        self.restored = restored
        self.result = result
        super().__init__(message)


class VerificationError(ExpkitError):
    """Every step was accepted, but re-reading the config did not show the planned values.

    ``expected`` and ``actual`` hold the plan's values and what the server returned (None
    when the re-read failed); ``result`` is the :class:`ApplyResult`, with each step's
    status as the re-read showed it. ``undo()`` still works: it re-reads to decide.
    """

    def __init__(
        self,
        message: str,
        *,
        expected: Any,
        actual: Any,
        result: ApplyResult | None = None,
    ) -> None:
        self.expected = expected
        self.actual = actual
        self.result = result
        super().__init__(message)


@dataclass(frozen=True)
class Effect:
    """What one step sets, so that a re-read of the server tells whether it took effect.

    ``read`` takes a plan state (``{"config": ..., "inclusions": ...}`` as the plan reads
    it) and returns the value the step sets; ``before`` is that value when the step has not
    taken effect, ``after`` when it has.
    """

    read: Callable[[Mapping[str, Any]], Any] = field(compare=False)
    before: Any
    after: Any

    def check(self, state: Mapping[str, Any]) -> bool | None:
        """True when ``state`` shows the step applied, False when not, None when neither.

        Neither means something else set the value (another user, or a partial write).
        """
        try:
            value = self.read(state)
        except (KeyError, IndexError, TypeError, ValueError):
            return None
        if value == self.after:
            return True
        if value == self.before:
            return False
        return None

    def reversed(self) -> Effect:
        """The effect of the step that undoes this one."""
        return Effect(self.read, self.after, self.before)


@dataclass(frozen=True)
class Step:
    """A request, the call that sends it, the step that undoes it and what it sets.

    Every step a plan builds *sets* a value (a weight, a payload, the presence of some ids),
    so sending its inverse when it may or may not have applied is safe: if it never took
    effect, the inverse changes nothing. The rollback relies on that.
    """

    request: Request
    send: Callable[[], Any] = field(repr=False, compare=False)
    inverse: Step | None = field(default=None, repr=False, compare=False)
    effect: Effect | None = field(default=None, repr=False, compare=False)

    def with_inverse(self, inverse: Step) -> Step:
        """This step, undone by ``inverse``."""
        return replace(self, inverse=inverse)

    def reversible(self, inverse: Step, effect: Effect) -> Step:
        """This step with ``effect``, undone by ``inverse`` (which checks the reverse)."""
        return replace(
            self, effect=effect, inverse=replace(inverse, effect=effect.reversed(), inverse=None)
        )

    def check(self, state: Mapping[str, Any] | None) -> bool | None:
        """Whether ``state`` (a re-read) shows this step applied; None when it cannot tell."""
        if state is None or self.effect is None:
            return None
        return self.effect.check(state)


@dataclass(frozen=True)
class StepResult:
    """What happened to one step.

    ``fate`` is what happened to its request (``applied``: the server answered with a
    success; ``failed``; ``not sent``; ``rolled back``; ``rollback failed``). ``status`` is
    where it stands on the server, settled by re-reading when the request's outcome was
    unknown: ``applied``, ``not applied``, ``rolled back`` or ``unknown``. ``error`` is the
    error of its request or of its rollback, if any.
    """

    request: Request
    fate: str
    error: str | None = None
    status: str = UNKNOWN

    def __str__(self) -> str:
        text = f"{self.request}: {self.status}"
        notes = []
        if self.fate == NOT_SENT and self.status == NOT_APPLIED:
            notes.append("not sent")
        elif self.fate in (FAILED, ROLLBACK_FAILED):
            notes.append(f"request {self.fate}")
        if self.error:
            notes.append(self.error)
        return f"{text} ({': '.join(notes)})" if notes else text


def _steps_frame(steps: tuple[StepResult, ...]) -> pd.DataFrame:
    import pandas as pd

    rows = {
        "step": [i + 1 for i in range(len(steps))],
        "method": [s.request.method for s in steps],
        "path": [s.request.path for s in steps],
        "body": [
            None if s.request.body is None else json.dumps(s.request.body, sort_keys=True)
            for s in steps
        ],
        "fate": [s.fate for s in steps],
        "status": [s.status for s in steps],
        "error": [s.error for s in steps],
    }
    dtypes = {
        "step": "Int64",
        "method": "string",
        "path": "string",
        "body": "string",
        "fate": "string",
        "status": "string",
        "error": "string",
    }
    return pd.DataFrame(rows).astype(dtypes)


_STATUS_COLOURS = {
    APPLIED: "#1a7f37",
    NOT_APPLIED: "#57606a",
    ROLLED_BACK: "#57606a",
    UNKNOWN: "#cf222e",
}

_STATE_TEXT = {
    STATE_PLANNED: "A re-read shows the planned values.",
    STATE_BEFORE: "A re-read shows the values from before this call.",
    STATE_MIXED: "A re-read shows neither the values from before this call nor the planned "
    "ones: check the config.",
    STATE_UNKNOWN: "The server could not be re-read: the state is unknown; check the config.",
}


@dataclass(frozen=True)
class ApplyResult:
    """The outcome of ``apply()`` or ``undo()``.

    ``outcome`` is ``"applied"``, ``"undone"``, ``"dry run"``, ``"unchanged"`` (nothing to
    send), ``"rolled back"`` (a step failed and the server is back at the values from before
    the call), ``"failed"`` (a step failed and it is not) or ``"unverified"`` (every request
    was accepted but the re-read did not show the planned values). ``steps`` each carry
    their fate and status (applied / not applied / rolled back / unknown). ``state`` says
    what the last re-read showed: ``"planned"``, ``"before"``, ``"mixed"`` or ``"unknown"``.
    ``verified`` is True when a re-read after the last step showed exactly the planned values.
    """

    action: str
    outcome: str
    steps: tuple[StepResult, ...]
    before: Any
    after: Any
    verified: bool
    changes: tuple[str, ...] = ()
    state: str = STATE_UNKNOWN

    @property
    def requests(self) -> list[Request]:
        """The requests, in the order they were (or would have been) sent."""
        return [s.request for s in self.steps]

    @property
    def statuses(self) -> list[str]:
        """Each step's status, in order."""
        return [s.status for s in self.steps]

    def frame(self) -> pd.DataFrame:
        """One row per step: step, method, path, body (JSON text), fate, status, error."""
        return _steps_frame(self.steps)

    def __str__(self) -> str:
        head = f"{self.action}: {self.outcome}, {len(self.steps)} request(s)"
        if self.verified:
            head += ", verified"
        lines = [head, *(f"  {c}" for c in self.changes)]
        if self.outcome in ("failed", "unverified"):
            lines.append(f"  {_STATE_TEXT[self.state]}")
            lines.extend(f"  {i + 1}. {s}" for i, s in enumerate(self.steps))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(c)}</li>" for c in self.changes)
        if self.verified:
            note = " Verified by re-reading the config."
        elif self.outcome in ("dry run", "unchanged"):
            note = ""
        else:
            note = " " + _STATE_TEXT[self.state]
        head = (
            f"<p><b>{html.escape(self.action)}: {html.escape(self.outcome)}</b>, "
            f"{len(self.steps)} request(s).{html.escape(note)}</p>"
        )
        return head + (f"<ul>{items}</ul>" if items else "") + self._table_html()

    def _table_html(self) -> str:
        if not self.steps:
            return ""
        cells = ("step", "request", "status", "request fate", "error")
        head = "".join(f"<th>{c}</th>" for c in cells)
        rows = []
        for i, s in enumerate(self.steps):
            colour = _STATUS_COLOURS.get(s.status, "inherit")
            rows.append(
                "<tr>"
                f"<td>{i + 1}</td>"
                f"<td><code>{html.escape(str(s.request))}</code></td>"
                f'<td class="expkit-status" style="color:{colour}"><b>'
                f"{html.escape(s.status)}</b></td>"
                f"<td>{html.escape(s.fate)}</td>"
                f"<td>{html.escape(s.error or '')}</td>"
                "</tr>"
            )
        return (
            f'<table class="expkit-steps"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
        )


def normalise_kind(kind: Any) -> str:
    """``"flags"`` or ``"experiments"`` (the singular is accepted too)."""
    return config_kind(_KIND_ALIASES.get(kind, kind) if isinstance(kind, str) else kind)


def resolve_audit_log(audit_log: str | os.PathLike[str] | bool | None) -> Path | None:
    """Where audit lines go: the given path, ``$EXPKIT_AUDIT_LOG``, or ``~/.expkit/audit.jsonl``."""
    if audit_log is False:
        return None
    if audit_log is None or audit_log is True:
        env = os.environ.get(AUDIT_ENV)
        return Path(env).expanduser() if env else DEFAULT_AUDIT_LOG.expanduser()
    if isinstance(audit_log, str | os.PathLike):
        return Path(audit_log).expanduser()
    raise ValidationError(
        f"audit_log must be a path, None (the default location) or False, got {audit_log!r}.",
        field="audit_log",
        value=audit_log,
        allowed="a path, None or False",
    )


def _undone(change: str) -> str:
    """An apply's change line as its undo does it: ``"w: 1 → 4"`` becomes ``"w: 4 → 1"``."""
    field, arrow, rest = change.partition(": ")
    old, sep, new = rest.partition(" → ")
    if arrow and sep:
        return f"{field}: {new} → {old}"
    return f"undo of {change}"


def write_audit(path: Path | None, record: Mapping[str, Any]) -> None:
    """Appends one JSON line; a log that cannot be written warns rather than hiding a result."""
    if path is None:
        return
    line = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        append_line(path, line)
    except OSError as exc:
        warnings.warn(f"expkit could not write the audit log {path}: {exc}", stacklevel=3)


def _is_legacy(client: Any) -> bool:
    # LegacyClient is the only client with the beta API's one-call weights endpoint
    return hasattr(client, "set_rollout_weights") and hasattr(client, "experiment")


class Target:
    """One flag or experiment behind a client: reads, and steps that change it.

    Each step's ``Request`` comes from the client's builder twins (``client.flags.build``,
    ``legacy.build``), so paths, camelCase names and validation live in the client alone;
    the step sends that very object with ``client.send``. A client double with no ``send``
    gets the same Requests and the resource method is called instead.
    """

    def __init__(self, client: ClientLike | Any, config_id: Any, kind: Any) -> None:
        self.kind = normalise_kind(kind)
        if isinstance(config_id, int) and not isinstance(config_id, bool):
            config_id = str(config_id)
        if not isinstance(config_id, str) or not config_id.strip():
            raise ValidationError(
                f"config_id must be a non-empty string, got {config_id!r}.",
                field="config_id",
                value=config_id,
                allowed="the flag's or experiment's id, e.g. '123456'",
            )
        # Any: the legacy reads and actions below are LegacyClient's own methods
        self.client: Any = client
        self.config_id = config_id
        self.legacy = _is_legacy(client)
        self.resource = getattr(client, self.kind)
        builder = getattr(self.resource, "build", None)
        if not isinstance(builder, VariantRequests):
            builder = (
                VariantRequests(self.kind, prefix="")
                if self.legacy
                else ConfigRequests(self.kind, prefix=API_PREFIX)
            )
        self.build: VariantRequests = builder
        legacy_builder = getattr(client, "build", None)
        self.legacy_build = (
            legacy_builder if isinstance(legacy_builder, LegacyRequests) else LegacyRequests()
        )
        self.prefix = self.build.path(config_id)

    @property
    def singular(self) -> str:
        """``"flag"`` or ``"experiment"``."""
        return self.kind[:-1]

    @property
    def base_url(self) -> str | None:
        """Where the client points (never holds the key)."""
        return getattr(self.client, "base_url", None)

    def read_config(self) -> dict[str, Any]:
        """The config as the server has it now."""
        if self.legacy:
            reader = self.client.flag if self.kind == "flags" else self.client.experiment
            return reader(self.config_id)
        return self.resource.get(self.config_id)

    def read_versions(self) -> list[dict[str, Any]]:
        """The config's versions."""
        if self.legacy:
            reader = (
                self.client.flag_versions
                if self.kind == "flags"
                else self.client.experiment_versions
            )
            return reader(self.config_id)
        return self.resource.versions(self.config_id)

    def read_inclusions(self, variant_key: str) -> dict[str, list[str]]:
        """The variant's users and cohorts (the legacy API has no cohorts: empty)."""
        users = list(self.resource.users(self.config_id, variant_key))
        if self.legacy:
            return {"users": users, "cohorts": []}
        return {"users": users, "cohorts": list(self.resource.cohorts(self.config_id, variant_key))}

    def _step(self, request: Request, fallback: Callable[[], Any]) -> Step:
        """A step sending ``request`` itself (``fallback`` only for a double with no send)."""
        send = getattr(self.client, "send", None)
        if callable(send):
            return Step(request, lambda: send(request))
        return Step(request, fallback)

    def edit_variant(self, variant_key: str, **fields: Any) -> Step:
        """PATCH one variant (``payload=`` and/or ``rollout_weight=``)."""
        request = self.build.edit_variant(self.config_id, variant_key, **fields)
        return self._step(
            request, lambda: self.resource.edit_variant(self.config_id, variant_key, **fields)
        )

    def edit(self, **fields: Any) -> Step:
        """PATCH the config (``rollout_percentage=``, ``enabled=``)."""
        request = self._config_build().edit(self.config_id, **fields)
        return self._step(request, lambda: self.resource.edit(self.config_id, **fields))

    def _config_build(self) -> ConfigRequests:
        if isinstance(self.build, ConfigRequests):
            return self.build
        return ConfigRequests(self.kind, prefix="" if self.legacy else API_PREFIX)

    def set_rollout_weights(self, weights: Mapping[str, int]) -> Step:
        """The legacy API's one call setting every weight of an experiment."""
        weights = dict(weights)
        request = self.legacy_build.set_rollout_weights(self.config_id, weights)
        return self._step(request, lambda: self.client.set_rollout_weights(self.config_id, weights))

    def set_active(self, enabled: bool) -> Step:
        """The legacy API's activate / deactivate of an experiment."""
        build = self.legacy_build.activate if enabled else self.legacy_build.deactivate
        call = self.client.activate if enabled else self.client.deactivate
        return self._step(build(self.config_id), lambda: call(self.config_id))

    def add(self, variant_key: str, what: str, ids: list[str]) -> Step:
        """POST users or cohorts to a variant's inclusions."""
        ids = list(ids)
        if what == "users":
            request = self.build.add_users(self.config_id, variant_key, ids)
            method = self.resource.add_users
        else:
            request = self._config_build().add_cohorts(self.config_id, variant_key, ids)
            method = self.resource.add_cohorts
        return self._step(request, lambda: method(self.config_id, variant_key, ids))

    def remove(self, variant_key: str, what: str, ids: list[str]) -> Step:
        """Bulk-delete users or cohorts (at most 100: one request)."""
        ids = list(ids)
        build = self._config_build()
        if what == "users":
            chunks = build.remove_users(self.config_id, variant_key, ids)
            method = self.resource.remove_users
        else:
            chunks = build.remove_cohorts(self.config_id, variant_key, ids)
            method = self.resource.remove_cohorts
        if len(chunks) != 1:
            raise ValidationError(
                f"one removal step takes at most 100 {what}, got {len(ids)}.",
                field=what,
                value=len(ids),
                allowed="1..100 ids per step",
            )
        return self._step(chunks[0], lambda: method(self.config_id, variant_key, ids))


def _changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    skip = {"lastModifiedAt", "lastModifiedBy"}
    keys = list(dict.fromkeys([*old, *new]))
    return tuple(k for k in keys if k not in skip and old.get(k) != new.get(k))


def _error_text(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class _Last:
    """What ``undo()`` needs from the last apply.

    ``verified``: the server is known to hold exactly ``self._state``, the state after the
    apply, so undo sends every inverse. Otherwise undo re-reads and undoes the steps the
    re-read shows applied; ``known`` says whether ``self._state`` is still a state read after
    those steps (then the usual conflict check applies too).
    """

    steps: list[Step]
    before: Any
    changes: tuple[str, ...]
    verified: bool
    known: bool


class _Run:
    """The bookkeeping of one apply or undo: what happened to each step's requests."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps
        n = len(steps)
        self.fates = [NOT_SENT] * n
        self.errors: list[str | None] = [None] * n
        self.inverse_sent = [False] * n
        self.inverse_ok = [False] * n

    def results(self, statuses: list[str]) -> tuple[StepResult, ...]:
        return tuple(
            StepResult(s.request, f, e, st)
            for s, f, e, st in zip(self.steps, self.fates, self.errors, statuses, strict=True)
        )

    def sent(self) -> list[Step]:
        """The steps whose request went out (whatever came back)."""
        return [s for s, f in zip(self.steps, self.fates, strict=True) if f != NOT_SENT]


class Plan:
    """The shared machinery of the edit plans; use RolloutEdit, PayloadEdit or InclusionsEdit."""

    _what: ClassVar[str] = "edit"

    def __init__(self, target: Target, state: dict[str, Any], *, audit_log: Path | None) -> None:
        self._target = target
        self._state = state
        self._audit_path = audit_log
        self._last: _Last | None = None
        self._last_result: ApplyResult | None = None

    @classmethod
    def load(
        cls,
        client: EditClient,
        config_id: str | int,
        *,
        kind: str = "flags",
        audit_log: str | os.PathLike[str] | bool | None = None,
    ) -> Self:
        """A plan for one flag or experiment, loaded from the server through ``client``.

        ``audit_log``: a path, None for ``$EXPKIT_AUDIT_LOG`` or ``~/.expkit/audit.jsonl``,
        False for no audit log.
        """
        target = Target(client, config_id, kind)
        path = resolve_audit_log(audit_log)
        return cls(target, cls._read(target), audit_log=path)

    # -- what each plan defines -------------------------------------------------------------
    @classmethod
    def _read(cls, target: Target) -> dict[str, Any]:
        return {"config": target.read_config()}

    def _validate(self) -> list[str]:
        raise NotImplementedError

    def _values(self, state: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def _planned(self) -> Any:
        raise NotImplementedError

    def _steps(self) -> list[Step]:
        """The steps of the intended change, each with its inverse and its effect."""
        raise NotImplementedError

    def _describe(self) -> list[str]:
        raise NotImplementedError

    def _clear(self) -> None:
        raise NotImplementedError

    def preview(self) -> pd.DataFrame:
        """The change, before and after, as a table (each plan defines its columns)."""
        raise NotImplementedError

    def discard(self, variant_key: str | None = None) -> Self:
        """Forgets the intended change of one variant (or all); returns self."""
        raise NotImplementedError

    # -- public surface ---------------------------------------------------------------------
    @property
    def config_id(self) -> str:
        """The flag's or experiment's id."""
        return self._target.config_id

    @property
    def kind(self) -> str:
        """``"flags"`` or ``"experiments"``."""
        return self._target.kind

    @property
    def key(self) -> str | None:
        """The config's key."""
        return self._state["config"].get("key")

    @property
    def config(self) -> dict[str, Any]:
        """A copy of the config as loaded (or as re-read after the last apply/undo)."""
        copied: dict[str, Any] = json.loads(json.dumps(self._state["config"]))
        return copied

    @property
    def variant_keys(self) -> list[str]:
        """The config's variant keys, in the API's order."""
        return [str(v["key"]) for v in self._state["config"].get("variants") or []]

    @property
    def audit_log(self) -> Path | None:
        """The audit log file, or None when disabled."""
        return self._audit_path

    @property
    def errors(self) -> list[str]:
        """Validation messages for the intended change, each naming its field; empty if valid."""
        return self._validate()

    @property
    def is_valid(self) -> bool:
        """True when the intended change passes validation."""
        return not self._validate()

    @property
    def has_changes(self) -> bool:
        """True when applying would send at least one request."""
        return self.is_valid and bool(self._steps())

    @property
    def can_undo(self) -> bool:
        """True after an apply that has not been undone yet (verified or not)."""
        return self._last is not None

    @property
    def last_result(self) -> ApplyResult | None:
        """The result of the latest apply or undo (failed ones included)."""
        return self._last_result

    def changes(self) -> list[str]:
        """The intended change, one human-readable line per changed field."""
        return self._describe()

    def validate(self) -> None:
        """Raises ValidationError (naming the first bad field, listing all) when invalid."""
        errors = self._validate()
        if errors:
            first = errors[0]
            field_name = first.split(":", 1)[0]
            listing = "; ".join(errors)
            raise ValidationError(
                f"The {self._what} of {self._describe_config()} is invalid: {listing}. "
                "Nothing was sent.",
                field=field_name,
                value=None,
            )

    def requests(self) -> list[Request]:
        """The exact HTTP calls ``apply()`` would send, in order (raises if invalid)."""
        self.validate()
        return [s.request for s in self._steps()]

    def reload(self) -> Self:
        """Re-reads the config from the server, keeping the intended change; returns self.

        An apply not undone yet can still be undone afterwards: undo then re-reads and
        undoes the steps the server still shows applied.
        """
        self._state = self._read(self._target)
        if self._last is not None:
            self._last.verified = False
            self._last.known = True
        return self

    def apply(self, *, dry_run: bool = False, progress: bool = True) -> ApplyResult:
        """Checks for conflicts, sends the steps, re-reads and verifies; returns the result.

        Raises ValidationError (invalid change), ConflictError (changed on the server since
        load), PartialApplyError (a step failed: every step the server had applied was
        rolled back; its ``result`` gives each step's status) or VerificationError.
        ``dry_run=True`` does the checks and sends no write. A progress bar shows for plans
        of 10 steps or more unless ``progress=False``.
        """
        self.validate()
        steps = self._steps()
        before = self._values(self._state)
        planned = self._planned()
        changes = tuple(self._describe())
        if not steps:
            result = ApplyResult(
                "apply", "unchanged", (), before, before, True, changes, STATE_PLANNED
            )
            self._last_result = result
            return result
        return self._execute(
            "apply", steps, before, planned, changes, dry_run=dry_run, progress=progress
        )

    def undo(self, *, dry_run: bool = False, progress: bool = True) -> ApplyResult:
        """Applies the inverse of the last apply, with the same conflict check and verify.

        After an apply that could not be verified (or failed part-way and left steps
        applied), undo re-reads the config and undoes the steps the server shows applied;
        it raises ConflictError, sending nothing, when a value a step set was changed since.
        """
        last = self._last
        if last is None:
            raise ValidationError(
                f"Nothing to undo on {self._describe_config()}: no apply since it was loaded "
                "(or the last one was already undone).",
                field="undo",
                value=None,
            )
        changes = tuple(_undone(c) for c in last.changes)
        if last.verified:
            # each undo step is rolled back by the step it undoes, should the undo fail
            steps = [s.inverse.with_inverse(s) for s in reversed(last.steps) if s.inverse]
            before = self._values(self._state)
            return self._execute(
                "undo", steps, before, last.before, changes, dry_run=dry_run, progress=progress
            )

        current = self._read(self._target)
        before = self._values(current)
        if last.known:
            self._check_conflict("undo", current, before)
        checks = [s.check(current) for s in last.steps]
        unclear = [s for s, c in zip(last.steps, checks, strict=True) if c is None]
        if unclear:
            listing = "; ".join(str(s.request) for s in unclear)
            message = (
                f"Cannot undo on {self._describe_config()}: re-reading it shows values that "
                f"neither the last apply nor the state before it set, for: {listing}. Nothing "
                "was sent. Check the config, then edit it with a new plan."
            )
            self._audit("undo", "conflict", before=before, after=None, steps=[], error=message)
            raise ConflictError(message, fields=tuple(s.request.path for s in unclear))
        self._state = current
        steps = [
            s.inverse.with_inverse(s)
            for s, c in reversed(list(zip(last.steps, checks, strict=True)))
            if c and s.inverse
        ]
        if not steps:
            # nothing of the last apply is in place: there is nothing left to undo
            self._last = None
            state = STATE_PLANNED if before == last.before else STATE_MIXED
            result = ApplyResult(
                "undo", "unchanged", (), before, before, before == last.before, changes, state
            )
            self._last_result = result
            return result
        return self._execute(
            "undo",
            steps,
            before,
            last.before,
            changes,
            dry_run=dry_run,
            progress=progress,
            current=current,
        )

    # -- the engine -------------------------------------------------------------------------
    def _describe_config(self) -> str:
        key = self.key
        name = f"{self._target.singular} {key!r}" if key else self._target.singular
        return f"{name} (id {self.config_id})"

    def _audit(
        self,
        action: str,
        outcome: str,
        *,
        before: Any,
        after: Any,
        steps: list[StepResult] | tuple[StepResult, ...],
        error: str | None = None,
        state: str | None = None,
    ) -> None:
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "user": os.environ.get("USER") or os.environ.get("USERNAME") or None,
            "action": action,
            "edit": type(self).__name__,
            "kind": self.kind,
            "config_id": self.config_id,
            "config_key": self.key,
            "base_url": self._target.base_url,
            "before": before,
            "after": after,
            "requests": [
                {**s.request.to_dict(), "fate": s.fate, "status": s.status} for s in steps
            ],
            "outcome": outcome,
            "state": state,
            "error": error,
        }
        write_audit(self._audit_path, record)

    def _check_conflict(self, action: str, current: dict[str, Any], before: Any) -> None:
        if current == self._state:
            return
        fields = _changed_fields(self._state["config"], current["config"])
        if "inclusions" in current:
            now, then = current["inclusions"], self._state["inclusions"]
            fields += tuple(
                f"inclusions.{v}" for v in dict.fromkeys([*now, *then]) if now.get(v) != then.get(v)
            )
        config = current["config"]
        who, when = config.get("lastModifiedBy"), config.get("lastModifiedAt")
        if who is None or when is None:
            try:
                versions = self._target.read_versions()
            except ExpkitError:
                versions = []
            if versions:
                newest = max(versions, key=lambda v: int(v.get("version") or 0))
                who = who or newest.get("createdBy")
                when = when or newest.get("createdAt")
        by = f" by {who}" if who else ""
        at = f" at {when}" if when else ""
        what = ", ".join(fields) if fields else "its content"
        message = (
            f"{self._describe_config()} changed on the server since this plan was loaded "
            f"(last modified{by}{at}; changed: {what}). Nothing was sent. Call .reload() to "
            "start from the current state (your intended change is kept), review it, then "
            f"{action} again."
        )
        self._audit(action, "conflict", before=before, after=None, steps=[], error=message)
        raise ConflictError(message, changed_by=who, changed_at=when, fields=tuple(fields))

    def _try_read(self) -> tuple[dict[str, Any] | None, BaseException | None]:
        """A re-read of the server, or None and why it failed (Ctrl-C included)."""
        try:
            return self._read(self._target), None
        except (ExpkitError, KeyboardInterrupt) as exc:
            return None, exc

    def _state_of(self, values: Any, before: Any, planned: Any) -> str:
        if values == planned:
            return STATE_PLANNED
        if values == before:
            return STATE_BEFORE
        return STATE_MIXED

    def _execute(
        self,
        action: str,
        steps: list[Step],
        before: Any,
        planned: Any,
        changes: tuple[str, ...],
        *,
        dry_run: bool,
        progress: bool,
        current: dict[str, Any] | None = None,
    ) -> ApplyResult:
        if current is None:
            current = self._read(self._target)
            self._check_conflict(action, current, before)
        if dry_run:
            results = tuple(StepResult(s.request, NOT_SENT, None, NOT_APPLIED) for s in steps)
            result = ApplyResult(
                action, "dry run", results, before, planned, False, changes, STATE_BEFORE
            )
            self._audit(
                action, "dry run", before=before, after=planned, steps=results, state=STATE_BEFORE
            )
            self._last_result = result
            return result

        from tqdm.auto import tqdm

        run = _Run(steps)
        failure: tuple[int, BaseException] | None = None
        bar = tqdm(
            total=len(steps),
            desc=f"{action} {self.key or self.config_id}",
            unit="request",
            disable=not progress or len(steps) < PROGRESS_MIN_STEPS,
            leave=False,
        )
        with bar:
            for i, step in enumerate(steps):
                try:
                    step.send()
                # an interrupted apply is rolled back too: never a silent half-applied change
                except (Exception, KeyboardInterrupt) as exc:
                    run.fates[i] = FAILED
                    run.errors[i] = _error_text(exc)
                    failure = (i, exc)
                    break
                run.fates[i] = APPLIED
                bar.update(1)
        if failure is not None:
            self._recover(action, run, failure[0], failure[1], before, planned, changes)
        return self._verify(action, run, before, planned, changes)

    def _verify(
        self, action: str, run: _Run, before: Any, planned: Any, changes: tuple[str, ...]
    ) -> ApplyResult:
        """Every request was acknowledged: re-read, and check the planned values are there."""
        after_state, exc = self._try_read()
        if after_state is None:
            # every step went through: record it, and let undo re-read to decide
            self._remember_unverified(action, run.steps, before, changes, known=False)
            results = run.results([APPLIED] * len(run.steps))
            message = (
                f"{action} of {self._describe_config()}: every request was accepted, but "
                f"re-reading it to verify failed ({_error_text(exc or Exception())}). Check the "
                "config; .undo() re-reads it and undoes what it shows applied."
            )
            result = ApplyResult(
                action, "unverified", results, before, None, False, changes, STATE_UNKNOWN
            )
            self._last_result = result
            self._audit(
                action,
                "unverified",
                before=before,
                after=None,
                steps=results,
                error=message,
                state=STATE_UNKNOWN,
            )
            raise VerificationError(message, expected=planned, actual=None, result=result) from exc
        actual = self._values(after_state)
        self._state = after_state
        if action == "apply":
            # the change is made; an undo leaves whatever the user has typed since pending
            self._clear()
        if actual != planned:
            statuses = [_status_from(s.check(after_state)) for s in run.steps]
            state = self._state_of(actual, before, planned)
            self._remember_unverified(action, run.steps, before, changes, known=True)
            results = run.results(statuses)
            message = (
                f"{action} of {self._describe_config()}: every request was accepted, but "
                f"re-reading it shows {json.dumps(actual, default=str)} instead of the planned "
                f"{json.dumps(planned, default=str)}. The plan now holds the server's state; "
                "check the config in the Amplitude UI (.undo() undoes the steps it shows "
                "applied)."
            )
            result = ApplyResult(
                action, "unverified", results, before, actual, False, changes, state
            )
            self._last_result = result
            self._audit(
                action,
                "unverified",
                before=before,
                after=actual,
                steps=results,
                error=message,
                state=state,
            )
            raise VerificationError(message, expected=planned, actual=actual, result=result)

        outcome = "applied" if action == "apply" else "undone"
        if action == "apply":
            self._last = _Last(run.steps, before, changes, verified=True, known=True)
        else:
            self._last = None
        results = run.results([APPLIED] * len(run.steps))
        result = ApplyResult(action, outcome, results, before, actual, True, changes, STATE_PLANNED)
        self._audit(
            action, outcome, before=before, after=actual, steps=results, state=STATE_PLANNED
        )
        self._last_result = result
        return result

    def _remember_unverified(
        self,
        action: str,
        steps: list[Step],
        before: Any,
        changes: tuple[str, ...],
        *,
        known: bool,
    ) -> None:
        """After an apply (or undo) whose end state is not the planned one: undo re-reads."""
        if action == "apply":
            self._last = _Last(list(steps), before, changes, verified=False, known=known)
        elif self._last is not None:
            # an undo that did not verify: the apply it undoes is undone by re-reading
            self._last.verified = False
            self._last.known = known

    def _roll_back(self, run: _Run, order: list[int], index: int) -> bool:
        """Sends the inverse of each step in ``order``; returns True when Ctrl-C stopped it."""
        for n, j in enumerate(order):
            inverse = run.steps[j].inverse
            if inverse is None:
                self._note_rollback(run, j, index, False, "no inverse step")
                continue
            run.inverse_sent[j] = True
            try:
                inverse.send()
            except KeyboardInterrupt:
                # stop rolling back, but still report (and audit) every step's fate
                for k in order[n:]:
                    self._note_rollback(run, k, index, False, "rollback interrupted")
                return True
            except Exception as exc:
                self._note_rollback(run, j, index, False, _error_text(exc))
            else:
                run.inverse_ok[j] = True
                self._note_rollback(run, j, index, True, None)
        return False

    @staticmethod
    def _note_rollback(run: _Run, j: int, index: int, ok: bool, error: str | None) -> None:
        if j == index:
            # the failed step keeps its fate; the rollback's error is added to its own
            if error:
                run.errors[j] = f"{run.errors[j]}; rolling it back: {error}"
            return
        run.fates[j] = ROLLED_BACK if ok else ROLLBACK_FAILED
        run.errors[j] = error

    def _recover(
        self,
        action: str,
        run: _Run,
        index: int,
        exc: BaseException,
        before: Any,
        planned: Any,
        changes: tuple[str, ...],
    ) -> None:
        """After step ``index`` failed: settle it, roll back, settle every step; raises."""
        steps = run.steps
        # 1. whether the failed step took effect is unknown until the server is re-read
        settle, settle_error = self._try_read()
        stopped = isinstance(settle_error, KeyboardInterrupt)
        took = steps[index].check(settle)
        # 2. roll back every step the server applied, newest first; a step whose outcome is
        # still unknown is rolled back too (its inverse changes nothing if it never applied)
        order = [*([index] if took is not False else []), *reversed(range(index))]
        if stopped:
            for j in order:
                self._note_rollback(run, j, index, False, "rollback interrupted")
        else:
            stopped = self._roll_back(run, order, index)
        # 3. a last re-read gives every step its status
        final: dict[str, Any] | None
        if stopped:
            final = None
        elif any(run.inverse_sent):
            final, _ = self._try_read()
        else:
            final = settle
        statuses = [
            self._settled(run, j, final, settle if j == index else None) for j in range(len(steps))
        ]
        results = run.results(statuses)
        actual = None if final is None else self._values(final)
        state = STATE_UNKNOWN if final is None else self._state_of(actual, before, planned)
        restored = None if final is None else actual == before
        if final is not None:
            # the plan follows the server (the intended change is kept)
            self._state = final
        leftover = any(s in (APPLIED, UNKNOWN) for s in statuses)
        if action == "apply" and leftover:
            # what may still be applied is what undo undoes (it re-reads to decide)
            self._remember_unverified(action, run.sent(), before, changes, known=final is not None)
        elif self._last is not None and not (restored and self._last.verified):
            # an earlier apply stays undoable; unless the server is known to be back where
            # this call began, its undo re-reads first
            self._last.verified = False
            self._last.known = final is not None

        result = ApplyResult(action, "failed", results, before, actual, False, changes, state)
        self._last_result = result
        message = self._failure_message(
            action, run, index, _error_text(exc), took, statuses, state, actual
        )
        self._audit(
            action, "failed", before=before, after=actual, steps=results, error=message, state=state
        )
        raise PartialApplyError(message, steps=results, restored=restored, result=result) from exc

    @staticmethod
    def _settled(
        run: _Run, j: int, final: Mapping[str, Any] | None, settle: Mapping[str, Any] | None
    ) -> str:
        """Step ``j``'s status: from the last re-read when there is one, else from the wire."""
        if run.fates[j] == NOT_SENT:
            return NOT_APPLIED
        step = run.steps[j]
        if final is not None:
            took = step.check(final)
            if took is None:
                return UNKNOWN
            if took:
                return APPLIED
            return ROLLED_BACK if run.inverse_sent[j] else NOT_APPLIED
        if run.inverse_sent[j]:
            return ROLLED_BACK if run.inverse_ok[j] else UNKNOWN
        if run.fates[j] != FAILED:
            return APPLIED  # the server acknowledged it and nothing undid it
        return _status_from(step.check(settle))

    def _failure_message(
        self,
        action: str,
        run: _Run,
        index: int,
        why: str,
        took: bool | None,
        statuses: list[str],
        state: str,
        actual: Any,
    ) -> str:
        n = len(run.steps)
        if took is True:
            settled = "a re-read showed the server had applied it"
        elif took is False:
            settled = "a re-read showed the server had not applied it"
        else:
            settled = "whether the server applied it is unknown"
        stuck = [j for j in range(index) if statuses[j] in (APPLIED, UNKNOWN)]
        if stuck:
            rolled = f"rolling back failed for {len(stuck)} of the {index} step(s) before it"
        elif index:
            rolled = "the steps before it were rolled back"
        else:
            rolled = "no step before it"
        if took is not False and statuses[index] in (APPLIED, UNKNOWN):
            rolled += "; rolling it back failed"
        elif took is not False:
            rolled += "; it was rolled back too"
        lines = "\n".join(f"  {i + 1}. {r}" for i, r in enumerate(run.results(statuses)))
        if state == STATE_BEFORE:
            end = "A re-read shows the values it had before this call."
        elif state == STATE_UNKNOWN:
            end = (
                "Re-reading it failed too: check it in the Amplitude UI (.undo() re-reads "
                "it and undoes the steps it shows applied)."
            )
        else:
            shown = "the planned values" if state == STATE_PLANNED else "a mix"
            end = (
                f"A re-read shows it is NOT back to the values it had before this call ({shown}): "
                f"{json.dumps(actual, default=str)}. Check it in the Amplitude UI; .undo() "
                "undoes the steps still applied."
            )
        return (
            f"{action} of {self._describe_config()} failed at step {index + 1} of {n} "
            f"({why}); {settled}; {rolled}.\n{lines}\n{end}"
        )

    def __repr__(self) -> str:
        changes = self._describe()
        state = f"{len(changes)} change(s)" if changes else "no changes"
        if not self.is_valid:
            state += f", {len(self.errors)} error(s)"
        return f"<{type(self).__name__} {self._describe_config()}: {state}>"


def _status_from(took: bool | None) -> str:
    if took is None:
        return UNKNOWN
    return APPLIED if took else NOT_APPLIED

"""What every edit plan shares: requests, steps, results, errors, the audit log, the target.

A plan is a plain object: the state it was loaded from, the intended change, and the client
it talks through. Validation, previews and the list of steps are pure functions of those
two; only ``load``, ``reload``, ``apply`` and ``undo`` send requests, always through the
client's resource methods (so the client's own validation and error mapping apply).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

from expkit._client import API_PREFIX, ConfigRequests, VariantRequests
from expkit._legacy import LegacyRequests
from expkit._request import ClientLike, Request
from expkit._validate import config_kind
from expkit.errors import ExpkitError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ApplyResult",
    "ConflictError",
    "PartialApplyError",
    "Request",
    "StepResult",
    "VerificationError",
]

_KIND_ALIASES = {
    "flag": "flags",
    "flags": "flags",
    "experiment": "experiments",
    "experiments": "experiments",
}
DEFAULT_AUDIT_LOG = Path("~/.expkit/audit.jsonl")
AUDIT_ENV = "EXPKIT_AUDIT_LOG"

PROGRESS_MIN_STEPS = 10

# the fates a step can meet, in the words the errors and the audit log use
APPLIED = "applied"
ROLLED_BACK = "rolled back"
FAILED = "failed"
NOT_SENT = "not sent"
ROLLBACK_FAILED = "rollback failed"


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
    """A step failed part-way; the steps already applied were rolled back (best effort).

    ``steps`` holds each step's fate (applied, rolled back, failed, not sent, rollback
    failed); ``restored`` is True when a re-read showed the loaded values back in place,
    False when it showed otherwise, None when the re-read itself failed.
    """

    def __init__(self, message: str, *, steps: tuple[StepResult, ...], restored: bool | None):
        self.steps = steps
        self.restored = restored
        super().__init__(message)


class VerificationError(ExpkitError):
    """Every step was accepted, but re-reading the config did not show the planned values.

    ``expected`` and ``actual`` hold the plan's values and what the server returned.
    """

    def __init__(self, message: str, *, expected: Any, actual: Any) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(message)


@dataclass(frozen=True)
class Step:
    """A request, the call that sends it, and the step that undoes it."""

    request: Request
    send: Callable[[], Any] = field(repr=False, compare=False)
    inverse: Step | None = field(default=None, repr=False, compare=False)

    def with_inverse(self, inverse: Step) -> Step:
        """This step, undone by ``inverse``."""
        return Step(self.request, self.send, inverse)


@dataclass(frozen=True)
class StepResult:
    """What happened to one step: its request, its fate and the error, if any."""

    request: Request
    fate: str
    error: str | None = None

    def __str__(self) -> str:
        text = f"{self.request}: {self.fate}"
        return f"{text} ({self.error})" if self.error else text


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
        "error": [s.error for s in steps],
    }
    dtypes = {
        "step": "Int64",
        "method": "string",
        "path": "string",
        "body": "string",
        "fate": "string",
        "error": "string",
    }
    return pd.DataFrame(rows).astype(dtypes)


@dataclass(frozen=True)
class ApplyResult:
    """The outcome of ``apply()`` or ``undo()``.

    ``outcome`` is ``"applied"``, ``"undone"``, ``"dry run"`` or ``"unchanged"`` (nothing to
    send); ``steps`` each carry their fate; ``verified`` is True when a re-read after the
    last step showed exactly the planned values.
    """

    action: str
    outcome: str
    steps: tuple[StepResult, ...]
    before: Any
    after: Any
    verified: bool
    changes: tuple[str, ...] = ()

    @property
    def requests(self) -> list[Request]:
        """The requests, in the order they were (or would have been) sent."""
        return [s.request for s in self.steps]

    def frame(self) -> pd.DataFrame:
        """One row per step: step, method, path, body (JSON text), fate, error."""
        return _steps_frame(self.steps)

    def __str__(self) -> str:
        head = f"{self.action}: {self.outcome}, {len(self.steps)} request(s)"
        if self.verified:
            head += ", verified"
        return "\n".join([head, *(f"  {c}" for c in self.changes)])

    def _repr_html_(self) -> str:
        import html

        items = "".join(f"<li>{html.escape(c)}</li>" for c in self.changes)
        verified = " Verified by re-reading the config." if self.verified else ""
        head = (
            f"<p><b>{html.escape(self.action)}: {html.escape(self.outcome)}</b>, "
            f"{len(self.steps)} request(s).{verified}</p>"
        )
        table = self.frame().to_html(index=False, na_rep="") if self.steps else ""
        return head + (f"<ul>{items}</ul>" if items else "") + table


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


def write_audit(path: Path | None, record: Mapping[str, Any]) -> None:
    """Appends one JSON line; a log that cannot be written warns rather than hiding a result."""
    if path is None:
        return
    line = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
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


class Plan:
    """The shared machinery of the edit plans; use RolloutEdit, PayloadEdit or InclusionsEdit."""

    _what: ClassVar[str] = "edit"

    def __init__(self, target: Target, state: dict[str, Any], *, audit_log: Path | None) -> None:
        self._target = target
        self._state = state
        self._audit_path = audit_log
        self._last: dict[str, Any] | None = None
        self._last_result: ApplyResult | None = None

    @classmethod
    def load(
        cls,
        client: Any,
        config_id: str,
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
        raise NotImplementedError

    def _describe(self) -> list[str]:
        raise NotImplementedError

    def _clear(self) -> None:
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
        return json.loads(json.dumps(self._state["config"]))

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
        """True after an apply that has not been undone yet."""
        return self._last is not None

    @property
    def last_result(self) -> ApplyResult | None:
        """The result of the latest apply or undo."""
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
        """Re-reads the config from the server, keeping the intended change; returns self."""
        self._state = self._read(self._target)
        self._last = None
        return self

    def apply(self, *, dry_run: bool = False, progress: bool = True) -> ApplyResult:
        """Checks for conflicts, sends the steps, re-reads and verifies; returns the result.

        Raises ValidationError (invalid change), ConflictError (changed on the server since
        load), PartialApplyError (a step failed: the applied ones were rolled back) or
        VerificationError. ``dry_run=True`` does the checks and sends no write. A progress
        bar shows for plans of 10 steps or more unless ``progress=False``.
        """
        self.validate()
        steps = self._steps()
        before = self._values(self._state)
        planned = self._planned()
        changes = tuple(self._describe())
        if not steps:
            result = ApplyResult("apply", "unchanged", (), before, before, True, changes)
            self._last_result = result
            return result
        return self._execute(
            "apply", steps, before, planned, changes, dry_run=dry_run, progress=progress
        )

    def undo(self, *, dry_run: bool = False, progress: bool = True) -> ApplyResult:
        """Applies the inverse of the last apply, with the same conflict check and verify."""
        if self._last is None:
            raise ValidationError(
                f"Nothing to undo on {self._describe_config()}: no apply since it was loaded "
                "(or the last one was already undone).",
                field="undo",
                value=None,
            )
        # each undo step is rolled back by the step it undoes, should the undo fail part-way
        steps = [
            s.inverse.with_inverse(s)
            for s in reversed(self._last["steps"])
            if s.inverse is not None
        ]
        before = self._values(self._state)
        planned = self._last["before"]
        changes = tuple(f"undo: {c}" for c in self._last["changes"])
        return self._execute(
            "undo", steps, before, planned, changes, dry_run=dry_run, progress=progress
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
            "requests": [{**s.request.to_dict(), "fate": s.fate} for s in steps],
            "outcome": outcome,
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
    ) -> ApplyResult:
        current = self._read(self._target)
        self._check_conflict(action, current, before)
        if dry_run:
            results = tuple(StepResult(s.request, NOT_SENT) for s in steps)
            result = ApplyResult(action, "dry run", results, before, planned, False, changes)
            self._audit(action, "dry run", before=before, after=planned, steps=results)
            self._last_result = result
            return result

        from tqdm.auto import tqdm

        fates = [NOT_SENT] * len(steps)
        errors: list[str | None] = [None] * len(steps)
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
                    fates[i] = FAILED
                    errors[i] = f"{type(exc).__name__}: {exc}"
                    self._roll_back(steps[:i], fates, errors)
                    self._fail(action, i, steps, fates, errors, before, planned, exc)
                fates[i] = APPLIED
                bar.update(1)

        results = tuple(StepResult(s.request, f) for s, f in zip(steps, fates, strict=True))
        try:
            after_state = self._read(self._target)
        except ExpkitError as exc:
            # every step went through: record it, even though it cannot be verified
            self._last = None
            message = (
                f"{action} of {self._describe_config()}: every request was accepted, but "
                f"re-reading it to verify failed ({type(exc).__name__}: {exc}). Call .reload() "
                "and check the config before changing it again."
            )
            self._audit(
                action, "unverified", before=before, after=None, steps=results, error=message
            )
            raise VerificationError(message, expected=planned, actual=None) from exc
        actual = self._values(after_state)
        self._state = after_state
        if action == "apply":
            # the change is made; an undo leaves whatever the user has typed since pending
            self._clear()
        if actual != planned:
            self._last = None
            message = (
                f"{action} of {self._describe_config()}: every request was accepted, but "
                f"re-reading it shows {json.dumps(actual, default=str)} instead of the planned "
                f"{json.dumps(planned, default=str)}. The plan now holds the server's state; "
                "check the config in the Amplitude UI."
            )
            self._audit(
                action, "unverified", before=before, after=actual, steps=results, error=message
            )
            raise VerificationError(message, expected=planned, actual=actual)

        outcome = "applied" if action == "apply" else "undone"
        if action == "apply":
            self._last = {"steps": steps, "before": before, "changes": changes}
        else:
            self._last = None
        result = ApplyResult(action, outcome, results, before, actual, True, changes)
        self._audit(action, outcome, before=before, after=actual, steps=results)
        self._last_result = result
        return result

    def _roll_back(self, applied: list[Step], fates: list[str], errors: list[str | None]) -> None:
        for j in reversed(range(len(applied))):
            inverse = applied[j].inverse
            if inverse is None:
                fates[j] = ROLLBACK_FAILED
                errors[j] = "no inverse step"
                continue
            try:
                inverse.send()
            except KeyboardInterrupt:
                # stop rolling back, but still report (and audit) every step's fate
                for k in range(j + 1):
                    fates[k] = ROLLBACK_FAILED
                    errors[k] = "rollback interrupted"
                return
            except Exception as exc:
                fates[j] = ROLLBACK_FAILED
                errors[j] = f"{type(exc).__name__}: {exc}"
            else:
                fates[j] = ROLLED_BACK

    def _fail(
        self,
        action: str,
        index: int,
        steps: list[Step],
        fates: list[str],
        errors: list[str | None],
        before: Any,
        planned: Any,
        exc: BaseException,
    ) -> None:
        results = tuple(
            StepResult(s.request, f, e) for s, f, e in zip(steps, fates, errors, strict=True)
        )
        restored: bool | None
        try:
            state = self._read(self._target)
        except ExpkitError:
            restored, actual = None, None
        else:
            actual = self._values(state)
            restored = actual == before
            if restored:
                # back where we started: keep the plan usable (intended change kept)
                self._state = state
        if restored is True:
            end = "A re-read shows the values it had before this call."
        elif restored is False:
            end = (
                "A re-read shows it is NOT back to the values it had before this call: "
                f"{json.dumps(actual, default=str)}. Check it in the Amplitude UI."
            )
        else:
            end = "Re-reading it failed too: check it in the Amplitude UI."
        lines = "\n".join(f"  {i + 1}. {r}" for i, r in enumerate(results))
        stuck = fates.count(ROLLBACK_FAILED)
        rolled = (
            f"rolling back failed for {stuck} of the {index} step(s) before it"
            if stuck
            else "the steps before it were rolled back"
        )
        message = (
            f"{action} of {self._describe_config()} failed at step {index + 1} of {len(steps)}; "
            f"{rolled}.\n{lines}\n{end}"
        )
        self._audit(action, "failed", before=before, after=actual, steps=results, error=message)
        raise PartialApplyError(message, steps=results, restored=restored) from exc

    def __repr__(self) -> str:
        changes = self._describe()
        state = f"{len(changes)} change(s)" if changes else "no changes"
        if not self.is_valid:
            state += f", {len(self.errors)} error(s)"
        return f"<{type(self).__name__} {self._describe_config()}: {state}>"

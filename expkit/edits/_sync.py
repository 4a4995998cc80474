"""RestoreEdit and PromoteEdit: make one config match a desired state.

Both plans compare a config's *restorable view* (the fields the Management API can write:
config fields through one PATCH, variants with their payload and weight, deployments) with
a desired view (a past version of the same config, or the same key in another project) and
send the fewest requests that close the gap, in an order the API accepts:

1. create the variants the desired state has and the config lacks (payload and weight too);
2. edit the variants that differ (one PATCH per variant, every changed field at once);
3. one PATCH of the changed config fields (segments refer to variants, so after 1);
4. add deployments (one POST each, so that each can be undone alone), remove deployments;
5. remove the variants the desired state lacks (last: nothing refers to them any more).

Every step carries its inverse and its :class:`~expkit.edits.Effect`, so apply, rollback,
verification, the audit log and undo are the shared machinery of ``_core.Plan``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

from expkit._compare import _project_id, compare_configs
from expkit._wire import camel_to_snake
from expkit.edits._core import (
    STATE_BEFORE,
    ApplyResult,
    EditClient,
    Effect,
    Plan,
    Step,
    StepResult,
    Target,
    normalise_kind,
    resolve_audit_log,
)
from expkit.errors import ExpkitError, NotFoundError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COHORT_PROPS", "PromoteEdit", "RestoreEdit"]

# config fields one PATCH writes, per kind (camelCase, as the wire has them)
_FLAG_FIELDS = (
    "name",
    "description",
    "bucketingKey",
    "bucketingSalt",
    "bucketingUnit",
    "evaluationMode",
    "rolloutPercentage",
    "enabled",
    "tags",
    "targetSegments",
)
_EXPERIMENT_FIELDS = (*_FLAG_FIELDS, "experimentType", "stickyBucketing", "exposureEvent")
# the PATCH name of a field, where it is not the snake_case of the wire name
_PATCH_NAME = {"archived": "archive"}
# fields read as "" when absent (the API does the same)
_TEXT = ("name", "description")
# condition properties whose values are cohort ids (mapped by PromoteEdit's cohorts=)
COHORT_PROPS = ("userdata_cohort", "cohort", "cohorts")

PREVIEW_SCHEMA: dict[str, str] = {
    "path": "string",
    "old": "string",
    "new": "string",
    "change": "string",
    "action": "string",
    "reason": "string",
}


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _variant_view(variant: Mapping[str, Any], weights: Mapping[str, Any]) -> dict[str, Any]:
    key = str(variant["key"])
    return {
        "name": variant.get("name") or "",
        "description": variant.get("description") or "",
        "payload": _copy(variant.get("payload")),
        "weight": weights.get(key, 0) or 0,
    }


def view(config: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The restorable view of a config: ``fields``, ``variants`` (by key), ``deployments``."""
    weights = config.get("rolloutWeights") or {}
    out_fields: dict[str, Any] = {}
    for name in fields:
        value = config.get(name)
        if name in _TEXT:
            value = value or ""
        out_fields[name] = _copy(value)
    return {
        "fields": out_fields,
        "variants": {
            str(v["key"]): _variant_view(v, weights) for v in config.get("variants") or []
        },
        "deployments": sorted(str(d) for d in config.get("deployments") or []),
    }


def _fmt(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class _SyncPlan(Plan):
    """Shared engine: ``self._desired`` (a view) is what the config should become."""

    _fields: ClassVar[tuple[str, ...]] = _FLAG_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._desired: dict[str, Any] = self._values(self._state)
        # (path, reason): parts left as they are (the caller allowed a partial restore, or
        # the API cannot write them); blocked parts are in self._blocked
        self._left: list[tuple[str, str]] = []
        self._blocked: list[tuple[str, str]] = []
        self._target_config: dict[str, Any] = {}

    # -- what the Plan machinery asks -------------------------------------------------------
    def _managed(self) -> tuple[str, ...]:
        return _EXPERIMENT_FIELDS if self.kind == "experiments" else self._fields

    def _values(self, state: Mapping[str, Any]) -> dict[str, Any]:
        return view(state["config"], self._managed())

    def _planned(self) -> dict[str, Any]:
        return _copy(self._desired)

    def _validate(self) -> list[str]:
        return [f"{path}: {reason}" for path, reason in self._blocked]

    def _clear(self) -> None:
        # the intended change is the desired state itself: after an apply it is in place
        return None

    def discard(self, variant_key: str | None = None) -> Self:
        """Drops the intended change: the plan then sends nothing; returns self."""
        self._desired = self._values(self._state)
        self._blocked = []
        return self

    @property
    def blocked(self) -> list[str]:
        """Why the plan cannot be applied (each names the part); empty when it can."""
        return self._validate()

    @property
    def left(self) -> list[str]:
        """What the plan leaves as it is, and why (one line per part)."""
        return [f"{path}: {reason}" for path, reason in self._left]

    # -- steps ------------------------------------------------------------------------------
    def _steps(self) -> list[Step]:
        return sync_steps(self._target, self._values(self._state), self._desired)

    def _describe(self) -> list[str]:
        return describe(self._values(self._state), self._desired)

    def preview(self) -> pd.DataFrame:
        """The field-level diff current → target: path, old, new, change, action, reason.

        ``action`` is ``restore`` (the plan writes it), ``blocked`` (it cannot: ``reason``
        says why) or ``left`` (not written: inclusions, lifecycle, what the API cannot write).
        """
        import pandas as pd

        from expkit._history import diff_versions

        current = self._state["config"]
        diff = diff_versions(_diffable(current), _diffable(self._target_config))
        blocked = dict(self._blocked)
        left = dict(self._left)
        managed = {camel_to_snake(f) for f in self._managed()} | {
            "variants",
            "rollout_weights",
            "deployments",
        }
        rows: dict[str, list[Any]] = {name: [] for name in PREVIEW_SCHEMA}
        for path, old, new, change in zip(
            diff["path"], diff["old"], diff["new"], diff["change"], strict=True
        ):
            root = str(path).split(".", 1)[0].split("[", 1)[0]
            reason = _match(path, blocked)
            if reason is not None:
                action = "blocked"
            else:
                reason = _match(path, left)
                if reason is not None:
                    action = "left"
                elif root in managed:
                    action = self._verb
                else:
                    action, reason = "left", f"{root} is not restored by this plan"
            for name, value in zip(
                PREVIEW_SCHEMA, (path, old, new, change, action, reason), strict=True
            ):
                rows[name].append(None if value is pd.NA else value)
        # what is outside every version and config body, said once
        for path, reason in self._left:
            if path.startswith("inclusions") and path not in rows["path"]:
                for name, value in zip(
                    PREVIEW_SCHEMA, (path, None, None, None, "left", reason), strict=True
                ):
                    rows[name].append(value)
        return pd.DataFrame(rows).astype(PREVIEW_SCHEMA)

    _verb: ClassVar[str] = "restore"


def _match(path: Any, parts: Mapping[str, str]) -> str | None:
    text = str(path)
    for part, reason in parts.items():
        if text == part or text.startswith(part + ".") or text.startswith(part + "["):
            return reason
    return None


_IGNORED_IN_DIFF = ("id", "projectId", "lastModifiedAt", "lastModifiedBy", "createdAt", "state")


def _diffable(config: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in config.items() if k not in _IGNORED_IN_DIFF}
    # deployments compare as a set
    if "deployments" in out:
        out["deployments"] = sorted(str(d) for d in out["deployments"] or [])
    return out


def describe(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[str]:
    """One line per changed part, current → desired."""
    lines = []
    for name, value in desired["fields"].items():
        if current["fields"].get(name) != value:
            lines.append(
                f"{camel_to_snake(name)}: {_fmt(current['fields'].get(name))} → {_fmt(value)}"
            )
    cur_v, new_v = current["variants"], desired["variants"]
    for key, variant in new_v.items():
        if key not in cur_v:
            lines.append(f"variants.{key}: create {_fmt(variant)}")
        else:
            for name, value in variant.items():
                if cur_v[key][name] != value:
                    lines.append(f"variants.{key}.{name}: {_fmt(cur_v[key][name])} → {_fmt(value)}")
    for key in cur_v:
        if key not in new_v:
            lines.append(f"variants.{key}: remove")
    cur_d, new_d = set(current["deployments"]), set(desired["deployments"])
    lines.extend(f"deployments: add {d}" for d in sorted(new_d - cur_d))
    lines.extend(f"deployments: remove {d}" for d in sorted(cur_d - new_d))
    return lines


# -- steps -------------------------------------------------------------------------------------
def _variant_reader(key: str, names: list[str] | None) -> Callable[[Mapping[str, Any]], Any]:
    def read(state: Mapping[str, Any]) -> Any:
        config = state["config"]
        weights = config.get("rolloutWeights") or {}
        for v in config.get("variants") or []:
            if str(v["key"]) == key:
                full = _variant_view(v, weights)
                return full if names is None else {n: full[n] for n in names}
        if names is None:
            return None
        raise KeyError(key)

    return read


def _fields_reader(
    names: list[str], managed: tuple[str, ...]
) -> Callable[[Mapping[str, Any]], Any]:
    def read(state: Mapping[str, Any]) -> Any:
        fields = view(state["config"], managed)["fields"]
        return {n: fields.get(n) for n in names}

    return read


def _deployment_reader(did: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda state: did in [str(d) for d in state["config"].get("deployments") or []]


def _variant_kwargs(variant: Mapping[str, Any], names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        out["rollout_weight" if name == "weight" else name] = variant[name]
    return out


def _create_variant(target: Target, key: str, variant: Mapping[str, Any]) -> Step:
    fields = {
        "name": variant["name"] or None,
        "description": variant["description"] or None,
        "payload": variant["payload"],
        "rollout_weight": variant["weight"],
    }
    request = target.build.create_variant(target.config_id, key, **fields)
    return target._step(
        request, lambda: target.resource.create_variant(target.config_id, key, **fields)
    )


def _remove_variant(target: Target, key: str) -> Step:
    request = target.build.remove_variant(target.config_id, key)
    return target._step(request, lambda: target.resource.remove_variant(target.config_id, key))


def _add_deployment(target: Target, did: str) -> Step:
    request = target._config_build().add_deployments(target.config_id, [did])
    return target._step(request, lambda: target.resource.add_deployments(target.config_id, [did]))


def _remove_deployment(target: Target, did: str) -> Step:
    request = target._config_build().remove_deployment(target.config_id, did)
    return target._step(request, lambda: target.resource.remove_deployment(target.config_id, did))


def _patch_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    return {_PATCH_NAME.get(k, camel_to_snake(k)): v for k, v in values.items()}


def sync_steps(
    target: Target, current: Mapping[str, Any], desired: Mapping[str, Any]
) -> list[Step]:
    """The fewest reversible steps that turn view ``current`` into view ``desired``."""
    managed = tuple(desired["fields"])
    cur_v, new_v = current["variants"], desired["variants"]
    creates, edits, removes = [], [], []
    for key, variant in new_v.items():
        if key not in cur_v:
            effect = Effect(_variant_reader(key, None), None, dict(variant))
            step = _create_variant(target, key, variant)
            creates.append(step.reversible(_remove_variant(target, key), effect))
            continue
        names = [n for n in variant if cur_v[key][n] != variant[n]]
        if not names:
            continue
        old = {n: cur_v[key][n] for n in names}
        new = {n: variant[n] for n in names}
        effect = Effect(_variant_reader(key, names), old, new)
        step = target.edit_variant(key, **_variant_kwargs(new, names))
        edits.append(
            step.reversible(target.edit_variant(key, **_variant_kwargs(old, names)), effect)
        )
    for key, variant in cur_v.items():
        if key not in new_v:
            effect = Effect(_variant_reader(key, None), dict(variant), None)
            step = _remove_variant(target, key)
            removes.append(step.reversible(_create_variant(target, key, variant), effect))

    patch: list[Step] = []
    changed = [n for n in managed if current["fields"].get(n) != desired["fields"][n]]
    if changed:
        old = {n: current["fields"].get(n) for n in changed}
        new = {n: desired["fields"][n] for n in changed}
        effect = Effect(_fields_reader(changed, managed), old, new)
        step = target.edit(**_patch_kwargs(new))
        patch.append(step.reversible(target.edit(**_patch_kwargs(old)), effect))

    deploy: list[Step] = []
    cur_d, new_d = set(current["deployments"]), set(desired["deployments"])
    for did in sorted(new_d - cur_d):
        effect = Effect(_deployment_reader(did), False, True)
        step = _add_deployment(target, did)
        deploy.append(step.reversible(_remove_deployment(target, did), effect))
    for did in sorted(cur_d - new_d):
        effect = Effect(_deployment_reader(did), True, False)
        step = _remove_deployment(target, did)
        deploy.append(step.reversible(_add_deployment(target, did), effect))
    return [*creates, *edits, *patch, *deploy, *removes]


def _unwritable(
    current: dict[str, Any], desired: dict[str, Any], left: list[tuple[str, str]]
) -> None:
    """Fields the API cannot set to the desired value (null): left as they are, said so."""
    for name, value in list(desired["fields"].items()):
        old = current["fields"].get(name)
        if old == value:
            continue
        if value is None or old is None:
            desired["fields"][name] = old
            what = "clear" if value is None else "undo a change of"
            left.append((camel_to_snake(name), f"the Management API cannot {what} a null {name}"))


def _live_deployments(client: Any) -> dict[str, dict[str, Any]]:
    return {
        str(d["id"]): d
        for d in client.deployments.list()
        if not d.get("deleted") and not d.get("archived")
    }


def _find_parent(client: Any, parent_id: str) -> dict[str, Any] | None:
    for kind in ("flags", "experiments"):
        try:
            return dict(getattr(client, kind).get(parent_id))
        except NotFoundError:
            continue
    return None


def _check_parents(client: Any, config: Mapping[str, Any], problems: list[tuple[str, str]]) -> None:
    deps = config.get("parentDependencies") or {}
    for parent_id, variants in (deps.get("flags") or {}).items():
        parent = _find_parent(client, str(parent_id))
        where = f"parent_dependencies.flags.{parent_id}"
        if parent is None:
            problems.append((where, f"the parent config {parent_id} no longer exists"))
        elif parent.get("archived") or parent.get("deleted"):
            problems.append(
                (where, f"the parent config {parent_id} ({parent.get('key')}) is archived")
            )
        else:
            keys = {str(v.get("key")) for v in parent.get("variants") or []}
            gone = [v for v in variants or [] if str(v) not in keys]
            if gone:
                problems.append(
                    (
                        where,
                        f"variant(s) {', '.join(map(str, gone))} of parent {parent_id} are gone",
                    )
                )


# -- RestoreEdit -------------------------------------------------------------------------------
class RestoreEdit(_SyncPlan):
    """Writes a config as it was at an earlier version, as a new version.

    ``RestoreEdit.load(client, config_id, version, kind="flags", allow_partial=False)``.
    ``preview()`` is the field-level diff current → target (``action``: restore / blocked /
    left); ``requests()``, ``apply()`` and ``undo()`` work as on every plan. Inclusions are
    not in versions and stay as they are. A target that no longer validates (a deployment
    that is gone, a parent dependency that is archived or missing, dependencies the API
    cannot write) is blocked with the reason, or restored without that part when
    ``allow_partial=True``.
    """

    _what = "restore"

    @classmethod
    def load(  # type: ignore[override]
        cls,
        client: EditClient,
        config_id: str | int,
        version: int | str,
        *,
        kind: str = "flags",
        allow_partial: bool = False,
        audit_log: str | os.PathLike[str] | bool | None = None,
    ) -> Self:
        """A plan restoring ``config_id`` to ``version`` (reads the config and its versions)."""
        if not isinstance(allow_partial, bool):
            raise ValidationError(
                f"allow_partial must be True or False, got {allow_partial!r}.",
                field="allow_partial",
                value=allow_partial,
                allowed="True or False",
            )
        number = _version_number(version)
        target = Target(client, config_id, kind)
        if target.legacy:
            raise ValidationError(
                "RestoreEdit needs expkit.Client: the legacy API cannot write segments, tags "
                "or deployments.",
                field="client",
                value=type(client).__name__,
                allowed="expkit.Client",
            )
        path = resolve_audit_log(audit_log)
        versions = target.read_versions()
        numbers = sorted(int(v.get("version") or 0) for v in versions)
        if number not in numbers:
            span = f"{numbers[0]}..{numbers[-1]}" if numbers else "none"
            raise ValidationError(
                f"{target.singular} {target.config_id} has no version {number}; its versions "
                f"are {span}. Nothing was sent.",
                field="version",
                value=number,
                allowed=span,
            )
        record = next(v for v in versions if int(v.get("version") or 0) == number)
        old = record.get("flagConfig")
        if not isinstance(old, Mapping):
            old = target.resource.version(target.config_id, number).get("flagConfig") or {}
        plan = cls(target, cls._read(target), audit_log=path)
        plan._setup(client, dict(old), number, numbers[-1], allow_partial=allow_partial)
        return plan

    def _setup(
        self,
        client: Any,
        old: dict[str, Any],
        number: int,
        latest: int,
        *,
        allow_partial: bool,
    ) -> None:
        self.version = number
        self.latest_version = latest
        self.allow_partial = allow_partial
        self._target_config = old
        current = self._values(self._state)
        desired = view(old, self._managed())
        left: list[tuple[str, str]] = [
            ("inclusions", "inclusions are not in versions: left as they are"),
        ]
        for name in ("archived", "deleted"):
            if bool(old.get(name)) != bool(self._state["config"].get(name)):
                left.append((name, "archiving is not restored: use LifecycleEdit"))
        problems: list[tuple[str, str]] = []
        # variants the restore removes take their inclusions with them
        for key in current["variants"]:
            if key not in desired["variants"]:
                left.append((f"inclusions.{key}", f"removing variant {key} drops its inclusions"))
        # deployments that are gone cannot be re-added
        added = set(desired["deployments"]) - set(current["deployments"])
        gone: list[str] = []
        if added:
            live = _live_deployments(client)
            gone = [did for did in sorted(added) if did not in live]
            for did in gone:
                problems.append(
                    ("deployments", f"deployment {did} no longer exists (or is deleted)")
                )
        # parent dependencies: not writable through the Management API; and checked
        cur_deps = self._state["config"].get("parentDependencies") or None
        old_deps = old.get("parentDependencies") or None
        _check_parents(client, old, problems)
        if cur_deps != old_deps:
            problems.append(
                ("parent_dependencies", "the Management API cannot edit parent dependencies")
            )
        _unwritable(current, desired, left)
        if problems and allow_partial:
            for path, reason in problems:
                left.append((path, reason + "; left as it is (allow_partial=True)"))
            desired["deployments"] = [d for d in desired["deployments"] if d not in gone]
            problems = []
        self._desired = desired
        self._left = left
        self._blocked = problems

    def _describe_config(self) -> str:
        base = super()._describe_config()
        version = getattr(self, "version", None)
        return f"{base} to version {version}" if version is not None else base


def _version_number(version: Any) -> int:
    if isinstance(version, str) and version.strip().isdigit():
        version = int(version.strip())
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError(
            f"version must be a version number (a positive integer), got {version!r}.",
            field="version",
            value=version,
            allowed="a positive integer, e.g. 12",
        )
    return version


# -- PromoteEdit -------------------------------------------------------------------------------
class PromoteEdit(_SyncPlan):
    """Copies one config from a source project to a target project (creates or updates it).

    ``PromoteEdit.load(client, key, source_project, target_project, kind="flags",
    deployments=None, cohorts=None)``: the config ``key`` in the target project is made to
    match the source on every field ``expkit.compare`` compares (the bucketing salt, ids,
    inclusions and authors stay the target's). Deployment ids and cohort ids (in segment
    conditions on ``userdata_cohort``) are mapped through the given dicts; an unmapped one
    blocks the plan, naming the id. When the key is missing in the target project the plan
    creates it (one POST), then writes the rest; undo archives the created config.
    """

    _what = "promotion"
    _verb = "promote"
    _fields: ClassVar[tuple[str, ...]] = tuple(f for f in _FLAG_FIELDS if f != "bucketingSalt")

    def _managed(self) -> tuple[str, ...]:
        base = tuple(f for f in _EXPERIMENT_FIELDS if f != "bucketingSalt")
        fields = base if self.kind == "experiments" else self._fields
        return (*fields, "archived")

    @classmethod
    def load(  # type: ignore[override]
        cls,
        client: EditClient,
        key: str,
        source_project: str | int,
        target_project: str | int,
        *,
        kind: str = "flags",
        deployments: Mapping[Any, Any] | None = None,
        cohorts: Mapping[Any, Any] | None = None,
        audit_log: str | os.PathLike[str] | bool | None = None,
    ) -> Self:
        """A plan making ``key`` in ``target_project`` match ``source_project``."""
        kind = normalise_kind(kind)
        source, target_project = (
            _project_id(source_project, "source_project"),
            _project_id(target_project, "target_project"),
        )
        if source == target_project:
            raise ValidationError(
                f"source_project and target_project are both {source}: promote copies a "
                "config between two projects.",
                field="target_project",
                value=target_project,
                allowed=f"a project id other than {source}",
            )
        if not isinstance(key, str) or not key:
            raise ValidationError(
                f"key must be a config key, got {key!r}.", field="key", value=key, allowed="a key"
            )
        dmap = _id_map(deployments, "deployments")
        cmap = _id_map(cohorts, "cohorts")
        resource = getattr(client, kind)
        found = [c for c in resource.list(project_id=source, key=key) if c.get("key") == key]
        if not found:
            raise ValidationError(
                f"no {kind[:-1]} with key {key!r} in project {source} (archived ones excluded). "
                "Nothing was sent.",
                field="key",
                value=key,
                allowed=f"a live {kind[:-1]} key of project {source}",
            )
        src = dict(resource.get(str(found[0]["id"])))
        if dmap:
            live = _live_deployments(client)
            wrong = [
                t
                for t in dmap.values()
                if t not in live or str(live[t].get("projectId")) != target_project
            ]
            if wrong:
                raise ValidationError(
                    f"deployments maps to {', '.join(wrong)}, not live deployment(s) of project "
                    f"{target_project}. Nothing was sent.",
                    field="deployments",
                    value=wrong,
                    allowed=", ".join(
                        sorted(
                            d for d, r in live.items() if str(r.get("projectId")) == target_project
                        )
                    )
                    or "(none)",
                )
        existing = [
            c
            for c in resource.list(project_id=target_project, key=key, include_archived=True)
            if c.get("key") == key
        ]
        path = resolve_audit_log(audit_log)
        problems: list[tuple[str, str]] = []
        desired_config = _mapped(src, dmap, cmap, problems, target_project)
        if existing:
            target = Target(client, str(existing[0]["id"]), kind)
            plan = cls(target, cls._read(target), audit_log=path)
            plan._create = None
        else:
            target = Target(client, "new", kind)
            shell = _created_shell(key, target_project, desired_config, kind)
            plan = cls(target, {"config": shell}, audit_log=path)
            plan._create = _create_request(resource, kind, key, target_project, desired_config)
        plan.key_name = key
        plan.source_project = source
        plan.target_project = target_project
        plan._source = src
        plan._target_config = {
            **{k: v for k, v in desired_config.items() if k != "bucketingSalt"},
            "bucketingSalt": plan._state["config"].get("bucketingSalt"),
        }
        desired = view(desired_config, plan._managed())
        desired["fields"]["archived"] = False
        current = plan._values(plan._state)
        left = [("inclusions", "inclusions are per project: not copied")]
        _unwritable(current, desired, left)
        plan._desired = desired
        plan._left = left
        plan._blocked = problems
        return plan

    _create: Any = None
    _source: dict[str, Any]
    key_name: str = ""
    source_project: str = ""
    target_project: str = ""
    _created_id: str | None = None

    @property
    def key(self) -> str | None:
        """The config's key."""
        return self.key_name or super().key

    @property
    def creates(self) -> bool:
        """True when the config is missing in the target project (apply creates it)."""
        return self._create is not None

    def _describe(self) -> list[str]:
        lines = super()._describe()
        if self._create is not None:
            lines.insert(
                0,
                f"create {self._target.singular} {self.key_name!r} in project {self.target_project}",
            )
        return lines

    def requests(self) -> list[Any]:
        """The calls apply() sends; after a create, later paths name the new id as ``new``."""
        self.validate()
        steps = [s.request for s in self._steps()]
        return [self._create, *steps] if self._create is not None else steps

    @property
    def has_changes(self) -> bool:
        """True when applying would send at least one request."""
        return self.is_valid and (self._create is not None or bool(self._steps()))

    def compare(self) -> pd.DataFrame:
        """The compare rows of this key between the two projects (as expkit.compare gives)."""
        target = None if self._create is not None else self._state["config"]
        return compare_configs(self._source, target, kind=self.kind)

    def preview(self) -> pd.DataFrame:
        """The compare rows for this key, plus ``request`` rows: what apply sends."""
        import pandas as pd

        rows = self.compare()
        if not self.is_valid:
            extra = [("blocked", r) for r in self.blocked]
        else:
            extra = [("request", str(r)) for r in self.requests()]
        more = pd.DataFrame(
            {
                "key": [self.key_name] * len(extra),
                "kind": [rows.attrs.get("kind", self._target.singular)] * len(extra),
                "field": [e[0] for e in extra],
                "source": [e[1] for e in extra],
                "target": [None] * len(extra),
                "status": [e[0] for e in extra],
            }
        ).astype(rows.dtypes.to_dict())
        return pd.concat([rows, more], ignore_index=True)

    def apply(self, *, dry_run: bool = False, progress: bool = True) -> ApplyResult:
        """As every plan; when the config is missing in the target project it is created first."""
        if self._create is None:
            return super().apply(dry_run=dry_run, progress=progress)
        self.validate()
        create = self._create
        if dry_run:
            results = tuple(StepResult(r, "not sent", None, "not applied") for r in self.requests())
            result = ApplyResult(
                "apply",
                "dry run",
                results,
                None,
                self._planned(),
                False,
                tuple(self._describe()),
                STATE_BEFORE,
            )
            self._last_result = result
            self._audit("apply", "dry run", before=None, after=self._planned(), steps=results)
            return result
        client = self._target.client
        existing = [
            c
            for c in self._target.resource.list(
                project_id=self.target_project, key=self.key_name, include_archived=True
            )
            if c.get("key") == self.key_name
        ]
        if existing:
            message = (
                f"{self._target.singular} {self.key_name!r} was created in project "
                f"{self.target_project} since this plan was loaded. Nothing was sent; load the "
                "plan again."
            )
            self._audit("apply", "conflict", before=None, after=None, steps=[], error=message)
            from expkit.edits._core import ConflictError

            raise ConflictError(message)
        send = getattr(client, "send", None)
        if callable(send):
            reply = send(create)
        else:  # a client double with no send: the resource method builds the same request
            body = dict(create.body)
            project, key = body.pop("projectId"), body.pop("key")
            reply = self._target.resource.create(project, key, **body)
        new_id = str((reply or {}).get("id"))
        created = StepResult(create, "applied", None, "applied")
        self._created_id = new_id
        self._create = None
        self._target = Target(client, new_id, self.kind)
        self._audit("apply", "created", before=None, after={"id": new_id}, steps=[created])
        self._state = self._read(self._target)
        try:
            result = super().apply(progress=progress)
        except ExpkitError:
            # the rest failed and was rolled back: take the created config out again
            self._archive_created()
            raise
        return ApplyResult(
            result.action,
            result.outcome,
            (created, *result.steps),
            None,
            result.after,
            result.verified,
            (f"created {self._target.singular} {new_id}", *result.changes),
            result.state,
        )

    def _archive_created(self) -> None:
        if self._created_id is None:
            return
        step = self._target.edit(archive=True)
        try:
            step.send()
        finally:
            self._audit(
                "undo",
                "archived created",
                before=None,
                after=None,
                steps=[StepResult(step.request, "applied", None, "applied")],
            )
            self._created_id = None

    @property
    def can_undo(self) -> bool:
        """True after an apply that has not been undone yet."""
        return self._last is not None or self._created_id is not None

    def undo(self, *, dry_run: bool = False, progress: bool = True) -> ApplyResult:
        """Undoes the last apply; a config the apply created is archived (the API has no delete)."""
        if self._created_id is None:
            return super().undo(dry_run=dry_run, progress=progress)
        if dry_run:
            return super().undo(dry_run=True, progress=progress)
        archive = self._target.edit(archive=True)
        self._last = None
        self._archive_created()
        self._state = self._read(self._target)
        result = ApplyResult(
            "undo",
            "undone",
            (StepResult(archive.request, "applied", None, "applied"),),
            None,
            self._values(self._state),
            bool(self._state["config"].get("archived")),
            (f"archived the created {self._target.singular} {self._target.config_id}",),
            STATE_BEFORE,
        )
        self._last_result = result
        return result


def _id_map(value: Any, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{field} must map source ids to target ids, got {type(value).__name__}.",
            field=field,
            value=value,
            allowed="a dict such as {'401120': '402120'}",
        )
    return {str(k): str(v) for k, v in value.items()}


def _mapped(
    src: Mapping[str, Any],
    dmap: Mapping[str, str],
    cmap: Mapping[str, str],
    problems: list[tuple[str, str]],
    target_project: str,
) -> dict[str, Any]:
    out = _copy(dict(src))
    deps = []
    for did in out.get("deployments") or []:
        did = str(did)
        if did in dmap:
            deps.append(dmap[did])
        else:
            problems.append(
                (
                    "deployments",
                    f"deployment {did} has no mapping into project {target_project}: pass "
                    f"deployments={{'{did}': '<its id in {target_project}>'}}",
                )
            )
    out["deployments"] = deps
    for segment in out.get("targetSegments") or []:
        for condition in segment.get("conditions") or []:
            if condition.get("prop") not in COHORT_PROPS:
                continue
            values = []
            for cid in condition.get("values") or []:
                if str(cid) in cmap:
                    values.append(cmap[str(cid)])
                else:
                    values.append(cid)
                    problems.append(
                        (
                            "target_segments",
                            f"cohort {cid} (segment {segment.get('name')!r}) has no mapping into "
                            f"project {target_project}: pass cohorts={{'{cid}': '<its id>'}}",
                        )
                    )
            condition["values"] = values
    return out


_CREATE_BODY = ("name", "description", "bucketingKey", "evaluationMode")


def _create_request(
    resource: Any, kind: str, key: str, project: str, desired: Mapping[str, Any]
) -> Any:
    """The POST creating the config with variants and weights (segments follow in the PATCH)."""
    fields: dict[str, Any] = {
        camel_to_snake(k): desired[k] for k in _CREATE_BODY if desired.get(k) not in (None, "")
    }
    variants = []
    for v in desired.get("variants") or []:
        item = {"key": v["key"]}
        for name in ("name", "description"):
            if v.get(name):
                item[name] = v[name]
        if v.get("payload") is not None:
            item["payload"] = v["payload"]
        variants.append(item)
    fields["variants"] = variants
    weights = desired.get("rolloutWeights") or {}
    fields["rollout_weights"] = {v["key"]: int(weights.get(v["key"], 0) or 0) for v in variants}
    if kind == "experiments" and desired.get("experimentType"):
        fields["experiment_type"] = desired["experimentType"]
    return resource.build.create(project, key, **fields)


def _created_shell(key: str, project: str, desired: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The config right after the create POST, as the API documents its defaults."""
    weights = desired.get("rolloutWeights") or {}
    return {
        "id": "new",
        "projectId": project,
        "key": key,
        "name": desired.get("name") or key,
        "description": desired.get("description") or "",
        "enabled": False,
        "evaluationMode": desired.get("evaluationMode") or "remote",
        "bucketingKey": desired.get("bucketingKey") or "amplitude_id",
        "bucketingSalt": None,
        "bucketingUnit": "User",
        "variants": _copy(desired.get("variants") or []),
        "rolloutPercentage": 0,
        "rolloutWeights": {k: int(w or 0) for k, w in weights.items()},
        "targetSegments": [],
        "deployments": [],
        "tags": [],
        "archived": False,
        **(
            {
                "experimentType": desired.get("experimentType"),
                "stickyBucketing": False,
                "exposureEvent": None,
            }
            if kind == "experiments"
            else {}
        ),
    }

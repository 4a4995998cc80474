"""``expkit.Client``: every endpoint of the Management API (``/api/1``), one method each.

Build, then send: each writing method has a builder twin under the resource's ``build``
attribute that returns the ``expkit.edits.Request`` it would send, validated, and sends
nothing. ``client.flags.edit_variant(id, "on", rollout_weight=1)`` is
``client.send(client.flags.build.edit_variant(id, "on", rollout_weight=1))``; edit plans show
and send those very objects.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any, Self

import requests

from expkit import _validate as v
from expkit._http import (
    API_HOSTS,
    ENV_KEY,
    HttpClient,
    path_segment,
    resolve_base_url,
)
from expkit._request import Request, Settings
from expkit._wire import snake_to_camel
from expkit.errors import ExpkitError, ValidationError

__all__ = [
    "API_PREFIX",
    "BaseClient",
    "Client",
    "ConfigRequests",
    "ConfigResource",
    "DeploymentRequests",
    "GroupRequests",
    "VariantEndpoints",
    "VariantRequests",
]

API_PREFIX = "/api/1"
_UNSET: Any = ...
_DEFAULT: Any = object()  # "not given": the value comes from Settings

_seg = path_segment


def _with_str_id(reply: dict[str, Any]) -> dict[str, Any]:
    """A create reply with its ``id`` as a string (the API sends some ids as numbers)."""
    if reply.get("id") is None:
        return reply
    return {**reply, "id": str(reply["id"])}


def _note_partial_removal(
    exc: ExpkitError, removed: builtins.list[str], remaining: builtins.list[str], what: str
) -> None:
    """Adds to ``exc`` what a bulk removal had already removed before it failed."""
    exc.removed = removed  # type: ignore[attr-defined]
    exc.not_removed = remaining  # type: ignore[attr-defined]
    if not removed:
        return
    shown = ", ".join(repr(x) for x in removed[:10])
    more = f" and {len(removed) - 10} more" if len(removed) > 10 else ""
    note = (
        f"{len(removed)} of {len(removed) + len(remaining)} {what} were already removed "
        f"before this failure ({shown}{more}); the error's .removed lists them and "
        f".not_removed the rest."
    )
    exc.args = (f"{exc.args[0] if exc.args else exc}; {note}", *exc.args[1:])


# builders: validated Requests, nothing sent ------------------------------------------------


class VariantRequests:
    """``client.flags.build`` (variant endpoints): the Requests the writing methods send."""

    def __init__(self, kind: str, *, prefix: str = API_PREFIX) -> None:
        self.kind = v.config_kind(kind)
        self.base = f"{prefix}/{self.kind}"

    def __repr__(self) -> str:
        return f"<expkit {self.kind} request builder at {self.base}>"

    def path(self, config_id: Any, *rest: str) -> str:
        """The path of a config (and of what is under it)."""
        return "/".join([self.base, _seg(v.require_id(config_id, "id"), "id"), *rest])

    def variant_path(self, config_id: Any, variant_key: Any, *rest: str) -> str:
        """The path of a variant (and of what is under it)."""
        return self.path(config_id, "variants", _seg(variant_key, "variant_key"), *rest)

    def create_variant(
        self,
        id: str,
        key: str,
        *,
        name: str | None = None,
        description: str | None = None,
        payload: Any = None,
        rollout_weight: float | None = None,
    ) -> Request:
        """POST a new variant (never retried: it creates)."""
        body = v.variant_body(
            key=key,
            name=name,
            description=description,
            payload_value=_UNSET if payload is None else payload,
            weight=rollout_weight,
            require_key=True,
        )
        return Request("POST", self.path(id, "variants"), body, retry=False)

    def edit_variant(
        self,
        id: str,
        variant_key: str,
        *,
        key: str | None = None,
        name: str | None = None,
        description: str | None = None,
        payload: Any = _UNSET,
        rollout_weight: float | None = None,
    ) -> Request:
        """PATCH a variant (a rename is never retried: a repeat would 404 on the old key)."""
        body = v.variant_body(
            key=key,
            name=name,
            description=description,
            payload_value=payload,
            weight=rollout_weight,
            require_key=False,
        )
        renames = key is not None and key != variant_key
        return Request("PATCH", self.variant_path(id, variant_key), body, retry=not renames)

    def remove_variant(self, id: str, variant_key: str) -> Request:
        """DELETE a variant (never retried: a repeat after a lost reply would 404)."""
        return Request("DELETE", self.variant_path(id, variant_key), retry=False)

    def add_users(self, id: str, variant_key: str, users: Iterable[str]) -> Request:
        """POST individual inclusions."""
        body = {"inclusions": v.inclusions(users, "users")}
        return Request("POST", self.variant_path(id, variant_key, "users"), body)

    def remove_user_at(self, id: str, variant_key: str, index: int) -> Request:
        """DELETE the inclusion at ``index`` (never retried: indexes shift)."""
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValidationError(
                f"index must be a non-negative integer, got {index!r}.",
                field="index",
                value=index,
                allowed="an int >= 0 (a position in users())",
            )
        path = self.variant_path(id, variant_key, "users", str(index))
        return Request("DELETE", path, retry=False)

    def remove_all_users(self, id: str, variant_key: str) -> Request:
        """DELETE every individual inclusion of a variant."""
        return Request("DELETE", self.variant_path(id, variant_key, "users"))


class ConfigRequests(VariantRequests):
    """``client.flags.build`` / ``client.experiments.build``: Requests, validated, unsent."""

    def add_cohorts(self, id: str, variant_key: str, cohorts: Iterable[str]) -> Request:
        """POST cohort inclusions."""
        body = {"inclusions": v.inclusions(cohorts, "cohorts")}
        return Request("POST", self.variant_path(id, variant_key, "cohorts"), body)

    def _bulk_delete(
        self, id: str, variant_key: str, values: Iterable[str], *, endpoint: str, what: str
    ) -> tuple[Request, ...]:
        items = v.string_list(values, what, allow_empty=False)
        path = self.variant_path(id, variant_key, endpoint)
        # the API names the list "users" for cohorts too
        return tuple(
            Request("DELETE", path, {"users": items[start : start + v.MAX_BULK_DELETE]})
            for start in range(0, len(items), v.MAX_BULK_DELETE)
        )

    def remove_users(self, id: str, variant_key: str, users: Iterable[str]) -> tuple[Request, ...]:
        """bulk-delete-users, one Request per 100 users."""
        return self._bulk_delete(id, variant_key, users, endpoint="bulk-delete-users", what="users")

    def remove_cohorts(
        self, id: str, variant_key: str, cohorts: Iterable[str]
    ) -> tuple[Request, ...]:
        """bulk-delete-cohorts, one Request per 100 cohorts."""
        return self._bulk_delete(
            id, variant_key, cohorts, endpoint="bulk-delete-cohorts", what="cohorts"
        )

    def add_deployments(self, id: str, deployment_ids: Iterable[str]) -> Request:
        """POST the config into deployments."""
        body = {"deployments": v.id_list(deployment_ids, "deployment_ids")}
        return Request("POST", self.path(id, "deployments"), body)

    def remove_deployment(self, id: str, deployment_id: str) -> Request:
        """DELETE the config from one deployment (never retried: a repeat would 404)."""
        path = self.path(id, "deployments", _seg(deployment_id, "deployment_id"))
        return Request("DELETE", path, retry=False)

    def edit(self, id: str, **fields: Any) -> Request:
        """PATCH the config; fields in snake_case (camelCase accepted), validated."""
        body = v.config_edit_body(self.kind, fields)
        return Request("PATCH", self.path(id), body)

    def create(self, project_id: str, key: str, **fields: Any) -> Request:
        """POST a new flag or experiment (never retried)."""
        body = v.config_create_body(self.kind, project_id, key, fields)
        return Request("POST", self.base, body, retry=False)


class DeploymentRequests:
    """``client.deployments.build``: Requests, validated, unsent."""

    def __init__(self, *, prefix: str = API_PREFIX) -> None:
        self.base = f"{prefix}/deployments"

    def create(self, project_id: str, label: str, type: str) -> Request:
        """POST a deployment (never retried)."""
        body = {
            "projectId": v.require_id(project_id, "project_id"),
            "label": v.deployment_label(label),
            "type": v.require_choice(type, "type", v.DEPLOYMENT_TYPES),
        }
        return Request("POST", self.base, body, retry=False)

    def edit(self, id: str, label: str | None = None, archive: bool | None = None) -> Request:
        """PATCH a deployment's label and/or archive flag."""
        body: dict[str, Any] = {}
        if label is not None:
            body["label"] = v.deployment_label(label)
        if archive is not None:
            body["archive"] = v.require_bool(archive, "archive")
        if not body:
            raise ValidationError(
                "deployments.edit() needs label= and/or archive=.",
                field="fields",
                value={},
                allowed=("label", "archive"),
            )
        return Request("PATCH", f"{self.base}/{_seg(id, 'id')}", body)


class GroupRequests:
    """``client.mutexes.build`` / ``client.holdouts.build``: Requests, validated, unsent."""

    def __init__(self, items: str, what: str, *, prefix: str = API_PREFIX) -> None:
        self.items = items
        self.what = what
        self.base = f"{prefix}/{items}"

    def item_path(self, id: Any, *rest: str) -> str:
        """The path of one group (and of what is under it)."""
        return "/".join([self.base, _seg(id, "id"), *rest])

    def _patch(
        self, path: str, body: dict[str, Any], method: str, allowed: tuple[str, ...]
    ) -> Request:
        if not body:
            raise ValidationError(
                f"{self.items}.{method}() needs at least one field.",
                field="fields",
                value={},
                allowed=allowed,
            )
        return Request("PATCH", path, body)

    def _create(self, body: dict[str, Any]) -> Request:
        return Request("POST", self.base, body, retry=False)

    # mutexes

    def edit_mutex(
        self,
        id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        archive: bool | None = None,
    ) -> Request:
        """PATCH a mutex group."""
        body: dict[str, Any] = {}
        _optional(body, name=name, description=description)
        _optional_bool(body, archive=archive)
        return self._patch(self.item_path(id), body, "edit", ("name", "description", "archive"))

    def edit_slot(
        self,
        id: str,
        index: int,
        *,
        experiments: Iterable[str | int] | None = None,
        holdouts: Iterable[str | int] | None = None,
        individuals: Iterable[str] | None = None,
    ) -> Request:
        """PATCH one slot of a mutex group (``index`` is 1-based)."""
        slot = v.integer_in(index, "index", 1, 20)
        body: dict[str, Any] = {}
        if experiments is not None:
            body["experiments"] = v.numeric_ids(experiments, "experiments")
        if holdouts is not None:
            body["holdouts"] = v.numeric_ids(holdouts, "holdouts")
        if individuals is not None:
            body["individuals"] = v.string_list(individuals, "individuals")
        path = self.item_path(id, "slots", str(slot))
        return self._patch(path, body, "edit_slot", ("experiments", "holdouts", "individuals"))

    def create_mutex(
        self,
        project_id: str | int,
        name: str,
        slots: Iterable[dict[str, Any]],
        *,
        key: str | None = None,
        description: str | None = None,
        evaluation_mode: str | None = None,
        bucketing_key: str | None = None,
        bucketing_salt: str | None = None,
    ) -> Request:
        """POST a mutex group."""
        body: dict[str, Any] = {
            "projectId": _numeric_project(project_id),
            "name": v.require_str(name, "name"),
            "slots": v.mutex_slots(slots),
        }
        _optional(
            body,
            key=key,
            description=description,
            bucketing_key=bucketing_key,
            bucketing_salt=bucketing_salt,
        )
        _evaluation_mode(body, evaluation_mode)
        return self._create(body)

    # holdouts

    def edit_holdout(
        self,
        id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        experiments: Iterable[str | int] | None = None,
        individual_inclusion: Iterable[str] | None = None,
        individual_exclusion: Iterable[str] | None = None,
        archive: bool | None = None,
    ) -> Request:
        """PATCH a holdout group."""
        body: dict[str, Any] = {}
        _optional(body, name=name, description=description)
        _holdout_lists(body, experiments, individual_inclusion, individual_exclusion)
        _optional_bool(body, archive=archive)
        allowed = (
            "name",
            "description",
            "experiments",
            "individual_inclusion",
            "individual_exclusion",
            "archive",
        )
        return self._patch(self.item_path(id), body, "edit", allowed)

    def create_holdout(
        self,
        project_id: str | int,
        name: str,
        holdout_percentage: int,
        *,
        key: str | None = None,
        description: str | None = None,
        evaluation_mode: str | None = None,
        bucketing_key: str | None = None,
        experiments: Iterable[str | int] | None = None,
        individual_inclusion: Iterable[str] | None = None,
        individual_exclusion: Iterable[str] | None = None,
    ) -> Request:
        """POST a holdout group."""
        body: dict[str, Any] = {
            "projectId": _numeric_project(project_id),
            "name": v.require_str(name, "name"),
            "holdoutPercentage": v.integer_in(holdout_percentage, "holdout_percentage", 1, 99),
        }
        _optional(body, key=key, description=description, bucketing_key=bucketing_key)
        _evaluation_mode(body, evaluation_mode)
        _holdout_lists(body, experiments, individual_inclusion, individual_exclusion)
        return self._create(body)


class _MutexRequests(GroupRequests):
    """``client.mutexes.build``: ``edit``, ``edit_slot``, ``create``."""

    def __init__(self, *, prefix: str = API_PREFIX) -> None:
        super().__init__("mutexes", "mutex", prefix=prefix)

    edit = GroupRequests.edit_mutex
    create = GroupRequests.create_mutex


class _HoldoutRequests(GroupRequests):
    """``client.holdouts.build``: ``edit``, ``create``."""

    def __init__(self, *, prefix: str = API_PREFIX) -> None:
        super().__init__("holdouts", "holdout", prefix=prefix)

    edit = GroupRequests.edit_holdout
    create = GroupRequests.create_holdout


# resources: build, then send ----------------------------------------------------------------


class VariantEndpoints:
    """Variant, inclusion and deployment endpoints of a flag or an experiment."""

    build: VariantRequests

    def __init__(self, http: HttpClient, kind: str, *, prefix: str = API_PREFIX) -> None:
        self._http = http
        self.kind = v.config_kind(kind)
        self.build = self._builder(self.kind, prefix)
        self._base = self.build.base

    @staticmethod
    def _builder(kind: str, prefix: str) -> VariantRequests:
        return VariantRequests(kind, prefix=prefix)

    def __repr__(self) -> str:
        return f"<expkit {self.kind} endpoints at {self._http.base_url}{self._base}>"

    def _path(self, config_id: Any, *rest: str) -> str:
        return self.build.path(config_id, *rest)

    def _variant_path(self, config_id: Any, variant_key: Any, *rest: str) -> str:
        return self.build.variant_path(config_id, variant_key, *rest)

    def _get_list(self, path: str, what: str) -> builtins.list[Any]:
        return self._http.get_list(Request("GET", path), what)

    def _get_object(self, path: str, what: str) -> dict[str, Any]:
        return self._http.get_object(Request("GET", path), what)

    def variants(self, id: str) -> builtins.list[dict[str, Any]]:
        """The variants of a flag or experiment (each with its ``rolloutWeight``)."""
        return self._get_list(self._path(id, "variants"), "variants")

    def variant(self, id: str, variant_key: str) -> dict[str, Any]:
        """One variant."""
        return self._get_object(self._variant_path(id, variant_key), "variant")

    def create_variant(
        self,
        id: str,
        key: str,
        *,
        name: str | None = None,
        description: str | None = None,
        payload: Any = None,
        rollout_weight: float | None = None,
    ) -> Any:
        """Adds a variant; returns the server's reply (``"OK"``). Not retried: it creates."""
        return self._http.send(
            self.build.create_variant(
                id,
                key,
                name=name,
                description=description,
                payload=payload,
                rollout_weight=rollout_weight,
            )
        )

    def edit_variant(
        self,
        id: str,
        variant_key: str,
        *,
        key: str | None = None,
        name: str | None = None,
        description: str | None = None,
        payload: Any = _UNSET,
        rollout_weight: float | None = None,
    ) -> Any:
        """Changes a variant (``key=`` renames it; ``payload=None`` sets a null payload).

        ``rollout_weight`` is a non-negative whole number (the rule edit plans apply too).
        A rename is not retried: once applied, a repeat would 404 on the old key.
        """
        return self._http.send(
            self.build.edit_variant(
                id,
                variant_key,
                key=key,
                name=name,
                description=description,
                payload=payload,
                rollout_weight=rollout_weight,
            )
        )

    def remove_variant(self, id: str, variant_key: str) -> Any:
        """Deletes a variant. Not retried: a repeat after a lost reply would 404."""
        return self._http.send(self.build.remove_variant(id, variant_key))

    def users(self, id: str, variant_key: str) -> builtins.list[str]:
        """The variant's individual inclusions (user or device ids), in server order."""
        return self._get_list(self._variant_path(id, variant_key, "users"), "users")

    def add_users(self, id: str, variant_key: str, users: Iterable[str]) -> Any:
        """Adds individual inclusions (at most 2,000 per variant)."""
        return self._http.send(self.build.add_users(id, variant_key, users))

    def remove_user_at(
        self, id: str, variant_key: str, index: int, *, expected: str | None = None
    ) -> Any:
        """Removes the inclusion at ``index`` (zero-based). Never retried.

        With ``expected=``, the users are read first and nothing is sent unless ``expected``
        still sits at ``index``: indexes shift whenever someone else removes a user.
        """
        request = self.build.remove_user_at(id, variant_key, index)
        if expected is not None:
            current = self.users(id, variant_key)
            actual = current[index] if index < len(current) else None
            if actual != expected:
                where = (
                    f"index {current.index(expected)}"
                    if expected in current
                    else "no index (not included)"
                )
                raise ValidationError(
                    f"users()[{index}] is {actual!r}, not the expected {expected!r}, which "
                    f"now sits at {where}; nothing was removed.",
                    field="index",
                    value=index,
                    allowed=f"the current index of {expected!r}",
                )
        return self._http.send(request)

    def remove_all_users(self, id: str, variant_key: str) -> Any:
        """Removes every individual inclusion of the variant."""
        return self._http.send(self.build.remove_all_users(id, variant_key))


class ConfigResource(VariantEndpoints):
    """``client.flags`` and ``client.experiments``: one class, parametrised by ``kind``."""

    build: ConfigRequests

    @staticmethod
    def _builder(kind: str, prefix: str) -> ConfigRequests:
        return ConfigRequests(kind, prefix=prefix)

    def iter(
        self,
        project_id: str | None = None,
        key: str | None = None,
        include_archived: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Lazily yields every flag (or experiment), following the cursor page by page."""
        params: dict[str, Any] = {}
        if project_id is not None:
            params["projectId"] = v.require_id(project_id, "project_id")
        if key is not None:
            params["key"] = v.require_str(key, "key")
        if v.require_bool(include_archived, "include_archived"):
            params["includeArchived"] = True
        return self._http.paginate(self._base, self.kind, params=params)

    def list(
        self,
        project_id: str | None = None,
        key: str | None = None,
        include_archived: bool = False,
    ) -> builtins.list[dict[str, Any]]:
        """Every flag (or experiment), all pages; ``key`` matches exactly."""
        return [*self.iter(project_id, key, include_archived)]

    def get(self, id: str) -> dict[str, Any]:
        """One flag or experiment."""
        return self._get_object(self._path(id), self.kind[:-1])

    def versions(self, id: str) -> builtins.list[dict[str, Any]]:
        """Every version of the config, newest first."""
        return self._get_list(self._path(id, "versions"), "versions")

    def version(self, id: str, version_id: str | int) -> dict[str, Any]:
        """One version: ``{version, createdAt, createdBy, flagConfig}``."""
        path = self._path(id, "versions", _seg(version_id, "version_id"))
        return self._get_object(path, "version")

    def cohorts(self, id: str, variant_key: str) -> builtins.list[str]:
        """The variant's cohort inclusions (cohort ids)."""
        return self._get_list(self._variant_path(id, variant_key, "cohorts"), "cohorts")

    def add_cohorts(self, id: str, variant_key: str, cohorts: Iterable[str]) -> Any:
        """Adds cohort inclusions."""
        return self._http.send(self.build.add_cohorts(id, variant_key, cohorts))

    def _send_chunks(self, requests_: tuple[Request, ...], what: str) -> Any:
        removed: builtins.list[str] = []
        result: Any = None
        for i, request in enumerate(requests_):
            try:
                result = self._http.send(request)
            except ExpkitError as exc:
                rest = [x for r in requests_[i:] for x in r.body["users"]]
                _note_partial_removal(exc, removed, rest, what)
                raise
            removed.extend(request.body["users"])
        return result

    def remove_users(self, id: str, variant_key: str, users: Iterable[str]) -> Any:
        """Removes individual inclusions by id, 100 per request.

        If a later request fails, the error says how many were already removed and carries
        them as ``.removed`` (the rest as ``.not_removed``).
        """
        return self._send_chunks(self.build.remove_users(id, variant_key, users), "users")

    def remove_cohorts(self, id: str, variant_key: str, cohorts: Iterable[str]) -> Any:
        """Removes cohort inclusions by id, 100 per request (partial failures as in ``remove_users``)."""
        return self._send_chunks(self.build.remove_cohorts(id, variant_key, cohorts), "cohorts")

    def deployments(self, id: str) -> builtins.list[dict[str, Any]]:
        """The deployments the config is in."""
        return self._get_list(self._path(id, "deployments"), "deployments")

    def add_deployments(self, id: str, deployment_ids: Iterable[str]) -> Any:
        """Adds the config to deployments."""
        return self._http.send(self.build.add_deployments(id, deployment_ids))

    def remove_deployment(self, id: str, deployment_id: str) -> Any:
        """Removes the config from one deployment. Not retried (a repeat would 404)."""
        return self._http.send(self.build.remove_deployment(id, deployment_id))

    def edit(self, id: str, **fields: Any) -> Any:
        """PATCHes the config; fields in snake_case (camelCase accepted).

        ``target_segments=`` and ``tags=`` *replace* the current lists (use ``add_tags`` /
        ``remove_tags`` to change tags one by one). Variants, weights and deployments are
        changed through their own methods.
        """
        return self._http.send(self.build.edit(id, **fields))

    def create(self, project_id: str, key: str, **fields: Any) -> dict[str, Any]:
        """Creates a flag (or experiment); returns ``{"id", "url"}``. Never retried."""
        reply = self._http.send(self.build.create(project_id, key, **fields))
        return _with_str_id(self._http.expect_object(reply, "create", self._base))

    def add_tags(self, id: str, tags: Iterable[str]) -> builtins.list[str]:
        """Adds tags, keeping the existing ones (read-modify-write); returns the new tags."""
        new = v.string_list(tags, "tags", allow_empty=False)
        current = [*(self.get(id).get("tags") or [])]
        merged = current + [t for t in dict.fromkeys(new) if t not in current]
        if merged != current:
            self.edit(id, tags=merged)
        return merged

    def remove_tags(self, id: str, tags: Iterable[str]) -> builtins.list[str]:
        """Removes tags, keeping the others (read-modify-write); returns the new tags."""
        drop = set(v.string_list(tags, "tags", allow_empty=False))
        current = [*(self.get(id).get("tags") or [])]
        kept = [t for t in current if t not in drop]
        if kept != current:
            self.edit(id, tags=kept)
        return kept


class DeploymentResource:
    """``client.deployments``: list, create, edit (archive stands in for delete)."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http
        self.build = DeploymentRequests()
        self._base = self.build.base

    def iter(self) -> Iterator[dict[str, Any]]:
        """Lazily yields every deployment, soft-deleted ones included."""
        return self._http.paginate(self._base, "deployments")

    def list(self) -> builtins.list[dict[str, Any]]:
        """Every deployment, soft-deleted ones included (``deleted: true``)."""
        return [*self.iter()]

    def create(self, project_id: str, label: str, type: str) -> dict[str, Any]:
        """Creates a deployment (``type``: client or server); returns ``{"id"}``."""
        reply = self._http.send(self.build.create(project_id, label, type))
        return _with_str_id(self._http.expect_object(reply, "create deployment", self._base))

    def edit(self, id: str, label: str | None = None, archive: bool | None = None) -> Any:
        """Renames and/or archives (soft-deletes) or restores a deployment."""
        return self._http.send(self.build.edit(id, label=label, archive=archive))


class VersionResource:
    """``client.versions``: the version history of every flag and experiment."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http
        self._base = f"{API_PREFIX}/versions"

    def params(
        self, start: datetime | date | str | None = None, end: datetime | date | str | None = None
    ) -> dict[str, Any]:
        """The feed's query for ``[start, end)``, validated (``start``/``end`` as ISO text)."""
        params: dict[str, Any] = {}
        if start is not None:
            params["start"] = v.iso_timestamp(start, "start")
        if end is not None:
            params["end"] = v.iso_timestamp(end, "end")
        if start is not None and end is not None:
            lo, hi = _as_utc(params["start"]), _as_utc(params["end"])
            if lo is not None and hi is not None and lo > hi:
                raise ValidationError(
                    f"start {params['start']} is after end {params['end']}.",
                    field="start",
                    value=start,
                    allowed="start <= end",
                )
        return params

    def pages(
        self, start: datetime | date | str | None = None, end: datetime | date | str | None = None
    ) -> Iterator[builtins.list[dict[str, Any]]]:
        """Lazily yields the feed page by page (guarded like every list: see ``HttpClient.pages``)."""
        return self._http.pages(self._base, "versions", params=self.params(start, end))

    def iter(
        self, start: datetime | date | str | None = None, end: datetime | date | str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Lazily yields versions created in ``[start, end)``, newest first.

        ``start``/``end`` take datetimes (naive ones are read as UTC), dates or ISO strings.
        """
        return self._http.paginate(self._base, "versions", params=self.params(start, end))

    def list(
        self, start: datetime | date | str | None = None, end: datetime | date | str | None = None
    ) -> builtins.list[dict[str, Any]]:
        """Every version of every flag and experiment in ``[start, end)``, newest first."""
        return [*self.iter(start, end)]


def _as_utc(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class _GroupResource:
    """What ``client.mutexes`` and ``client.holdouts`` share: paths, reads, PATCH and POST."""

    _items: str  # the path segment, also the items key of a page
    _what: str  # one item, as error messages name it
    build: GroupRequests

    def __init__(self, http: HttpClient) -> None:
        self._http = http
        self._base = f"{API_PREFIX}/{self._items}"

    def _item_path(self, id: Any, *rest: str) -> str:
        return self.build.item_path(id, *rest)

    def iter(self) -> Iterator[dict[str, Any]]:
        """Lazily yields every group."""
        return self._http.paginate(self._base, self._items)

    def list(self) -> builtins.list[dict[str, Any]]:
        """Every group."""
        return [*self.iter()]

    def get(self, id: str) -> dict[str, Any]:
        """One group (a mutex with its slots)."""
        return self._http.get_object(Request("GET", self._item_path(id)), self._what)

    def _create(self, request: Request) -> dict[str, Any]:
        reply = self._http.send(request)
        return _with_str_id(self._http.expect_object(reply, f"create {self._what}", self._base))


class MutexResource(_GroupResource):
    """``client.mutexes``: mutual-exclusion groups and their slots."""

    _items = "mutexes"
    _what = "mutex"
    build: _MutexRequests

    def __init__(self, http: HttpClient) -> None:
        super().__init__(http)
        self.build = _MutexRequests()

    def edit(
        self,
        id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        archive: bool | None = None,
    ) -> Any:
        """Renames, describes or archives a group (archiving ignores the other fields)."""
        request = self.build.edit_mutex(id, name=name, description=description, archive=archive)
        return self._http.send(request)

    def edit_slot(
        self,
        id: str,
        index: int,
        *,
        experiments: Iterable[str | int] | None = None,
        holdouts: Iterable[str | int] | None = None,
        individuals: Iterable[str] | None = None,
    ) -> Any:
        """Sets a slot's experiments, holdouts and/or individuals (``index`` is 1-based)."""
        request = self.build.edit_slot(
            id, index, experiments=experiments, holdouts=holdouts, individuals=individuals
        )
        return self._http.send(request)

    def create(
        self,
        project_id: str | int,
        name: str,
        slots: Iterable[dict[str, Any]],
        *,
        key: str | None = None,
        description: str | None = None,
        evaluation_mode: str | None = None,
        bucketing_key: str | None = None,
        bucketing_salt: str | None = None,
    ) -> dict[str, Any]:
        """Creates a mutex group (slot percentages sum to 100); returns ``{"id", "url"}``."""
        request = self.build.create_mutex(
            project_id,
            name,
            slots,
            key=key,
            description=description,
            evaluation_mode=evaluation_mode,
            bucketing_key=bucketing_key,
            bucketing_salt=bucketing_salt,
        )
        return self._create(request)


class HoldoutResource(_GroupResource):
    """``client.holdouts``: holdout groups."""

    _items = "holdouts"
    _what = "holdout"
    build: _HoldoutRequests

    def __init__(self, http: HttpClient) -> None:
        super().__init__(http)
        self.build = _HoldoutRequests()

    def edit(
        self,
        id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        experiments: Iterable[str | int] | None = None,
        individual_inclusion: Iterable[str] | None = None,
        individual_exclusion: Iterable[str] | None = None,
        archive: bool | None = None,
    ) -> Any:
        """Changes a holdout group; archiving removes it from its experiments."""
        request = self.build.edit_holdout(
            id,
            name=name,
            description=description,
            experiments=experiments,
            individual_inclusion=individual_inclusion,
            individual_exclusion=individual_exclusion,
            archive=archive,
        )
        return self._http.send(request)

    def create(
        self,
        project_id: str | int,
        name: str,
        holdout_percentage: int,
        *,
        key: str | None = None,
        description: str | None = None,
        evaluation_mode: str | None = None,
        bucketing_key: str | None = None,
        experiments: Iterable[str | int] | None = None,
        individual_inclusion: Iterable[str] | None = None,
        individual_exclusion: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """Creates a holdout group (1-99 % held out); returns ``{"id", "url"}``."""
        request = self.build.create_holdout(
            project_id,
            name,
            holdout_percentage,
            key=key,
            description=description,
            evaluation_mode=evaluation_mode,
            bucketing_key=bucketing_key,
            experiments=experiments,
            individual_inclusion=individual_inclusion,
            individual_exclusion=individual_exclusion,
        )
        return self._create(request)


def _numeric_project(project_id: Any) -> int | str:
    # mutex and holdout bodies type projectId as a number
    pid = v.require_id(project_id, "project_id")
    return int(pid) if pid.isdigit() else pid


def _optional(body: dict[str, Any], **fields: Any) -> None:
    for name, value in fields.items():
        if value is not None:
            body[snake_to_camel(name)] = v.require_str(
                value, name, allow_empty=name == "description"
            )


def _optional_bool(body: dict[str, Any], **fields: bool | None) -> None:
    for name, value in fields.items():
        if value is not None:
            body[snake_to_camel(name)] = v.require_bool(value, name)


def _evaluation_mode(body: dict[str, Any], evaluation_mode: str | None) -> None:
    if evaluation_mode is not None:
        body["evaluationMode"] = v.require_choice(
            evaluation_mode, "evaluation_mode", v.EVALUATION_MODES
        )


def _holdout_lists(
    body: dict[str, Any],
    experiments: Iterable[str | int] | None,
    individual_inclusion: Iterable[str] | None,
    individual_exclusion: Iterable[str] | None,
) -> None:
    if experiments is not None:
        body["experiments"] = v.numeric_ids(experiments, "experiments")
    if individual_inclusion is not None:
        body["individualInclusion"] = v.string_list(individual_inclusion, "individual_inclusion")
    if individual_exclusion is not None:
        body["individualExclusion"] = v.string_list(individual_exclusion, "individual_exclusion")


def settings_from(
    settings: Settings | None,
    **options: Any,
) -> Settings:
    """``settings`` (or the defaults) with the options that were given (not ``_DEFAULT``)."""
    base = settings if settings is not None else Settings()
    given = {name: value for name, value in options.items() if value is not _DEFAULT}
    return base.replace(**given) if given else base


class BaseClient:
    """What ``Client`` and ``LegacyClient`` share: the key, the host, the HTTP layer, closing.

    Subclasses name their hosts (``_hosts``) and attach their endpoints in ``_attach``.
    """

    _hosts: Mapping[str, str] = API_HOSTS
    _prefix = API_PREFIX  # the path prefix every endpoint path starts with ("" for legacy)

    def __init__(
        self,
        api_key: str | None = None,
        *,
        region: str | None = None,
        base_url: str | None = None,
        timeout: float | tuple[float, float] = _DEFAULT,
        max_retries: int = _DEFAULT,
        rate_limit: float | None = _DEFAULT,
        session: requests.Session | None = None,
        backoff_factor: float = _DEFAULT,
        backoff_max: float = _DEFAULT,
        max_retry_time: float = _DEFAULT,
        max_pages: int = _DEFAULT,
        settings: Settings | None = None,
    ) -> None:
        if api_key is not None and not isinstance(api_key, str):
            raise ValidationError(
                f"api_key must be a string, got a {type(api_key).__name__}.",
                field="api_key",
                value=type(api_key).__name__,
                allowed="a Management API key string",
            )
        key = api_key or os.environ.get(ENV_KEY) or None
        self.base_url, self.region = resolve_base_url(base_url, region, hosts=self._hosts)
        if self._prefix and self.base_url.endswith(self._prefix):
            # the API documents give the base URL with its prefix; the paths carry it already
            self.base_url = self.base_url[: -len(self._prefix)]
        resolved = settings_from(
            settings,
            timeout=timeout,
            max_retries=max_retries,
            rate_limit=rate_limit,
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            max_retry_time=max_retry_time,
            max_pages=max_pages,
        )
        self.http = HttpClient(self.base_url, key, settings=resolved, session=session)
        self._attach(self.http)

    def _attach(self, http: HttpClient) -> None:
        """Sets the endpoint attributes (``flags``, ``experiments``, ...) on the client."""

    @property
    def settings(self) -> Settings:
        """The timeouts, retries, rate limit and page bound this client sends with."""
        return self.http.settings

    @property
    def request_count(self) -> int:
        """Requests sent so far, retries included."""
        return self.http.request_count

    @property
    def server_time(self) -> datetime | None:
        """The server's clock (``Date`` header) at the latest response, tz-aware UTC."""
        return self.http.server_time

    def send(self, request: Request) -> Any:
        """Sends a built ``Request`` (from a ``build`` twin) with its retry policy."""
        return self.http.send(request)

    def paginate(
        self, path: str, items_key: str, *, params: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Lazily yields every item of a cursor-paginated list (guarded: see ``pages``)."""
        return self.http.paginate(path, items_key, params=params)

    def pages(
        self, path: str, items_key: str, *, params: Mapping[str, Any] | None = None
    ) -> Iterator[builtins.list[dict[str, Any]]]:
        """Lazily yields a cursor-paginated list page by page (``HttpClient.pages``)."""
        return self.http.pages(path, items_key, params=params)

    def close(self) -> None:
        """Closes pooled connections."""
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, region={self.region!r})"


class Client(BaseClient):
    """A client for Amplitude Experiment's Management API (``/api/1``).

    The key comes from ``api_key=`` or ``AMPLITUDE_MANAGEMENT_API_KEY``; the region (``us`` or
    ``eu``) from ``region=`` or ``AMPLITUDE_REGION``; ``base_url=`` overrides both hosts
    (plain http only for loopback addresses). ``settings=`` (an ``expkit.Settings``) holds
    every timeout, retry, rate-limit and paging option; the keyword arguments ``timeout``,
    ``max_retries``, ``rate_limit``, ``backoff_factor``, ``backoff_max``, ``max_retry_time``
    and ``max_pages`` override single settings. ``session`` replaces the
    ``requests.Session`` (tests mount a double on it). Safe to share across threads.

    Every writing method has a builder twin under ``build`` (``client.flags.build.edit(...)``)
    returning the ``Request`` it would send; ``client.send(request)`` sends one.
    """

    def _attach(self, http: HttpClient) -> None:
        self.flags = ConfigResource(http, "flags")
        self.experiments = ConfigResource(http, "experiments")
        self.deployments = DeploymentResource(http)
        self.versions = VersionResource(http)
        self.mutexes = MutexResource(http)
        self.holdouts = HoldoutResource(http)

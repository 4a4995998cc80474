"""``expkit.Client``: every endpoint of the Management API (``/api/1``), one method each."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any, Self
from urllib.parse import quote

import requests

from expkit import _validate as v
from expkit._http import API_HOSTS, ENV_KEY, HttpClient, resolve_base_url
from expkit._wire import snake_to_camel
from expkit.errors import ExpkitError, ValidationError

__all__ = ["Client"]

API_PREFIX = "/api/1"
_UNSET: Any = ...


def _seg(value: Any, field: str) -> str:
    """A path segment: an id or key, URL-quoted (variant keys may hold spaces or '/')."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    # "." and ".." would be dropped from the URL path, sending the request to the parent
    if not isinstance(value, str) or not value.strip() or value in v.DOT_SEGMENTS:
        raise ValidationError(
            f"{field} must be a non-empty string other than '.' or '..', got {value!r}.",
            field=field,
            value=value,
            allowed="a non-empty string other than '.' or '..'",
        )
    return quote(value, safe="")


def _as_dict(body: Any, what: str) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    raise ExpkitError(f"{what}: expected a JSON object, got {str(body)[:200]!r}.")


def _as_list(body: Any, what: str) -> list[Any]:
    if body is None:
        return []
    if isinstance(body, list):
        return body
    raise ExpkitError(f"{what}: expected a JSON array, got {str(body)[:200]!r}.")


def _with_str_id(reply: dict[str, Any]) -> dict[str, Any]:
    """A create reply with its ``id`` as a string (the API sends some ids as numbers)."""
    if reply.get("id") is None:
        return reply
    return {**reply, "id": str(reply["id"])}


def _note_partial_removal(
    exc: ExpkitError, removed: list[str], remaining: list[str], what: str
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


class _VariantEndpoints:
    """Variant, inclusion and deployment endpoints of a flag or an experiment."""

    def __init__(self, http: HttpClient, kind: str, *, prefix: str = API_PREFIX) -> None:
        self._http = http
        self.kind = v.config_kind(kind)
        self._base = f"{prefix}/{kind}"

    def __repr__(self) -> str:
        return f"<expkit {self.kind} endpoints at {self._http.base_url}{self._base}>"

    def _path(self, config_id: Any, *rest: str) -> str:
        return "/".join([self._base, quote(v.require_id(config_id, "id"), safe=""), *rest])

    def _variant_path(self, config_id: Any, variant_key: Any, *rest: str) -> str:
        return self._path(config_id, "variants", _seg(variant_key, "variant_key"), *rest)

    def variants(self, id: str) -> list[dict[str, Any]]:
        """The variants of a flag or experiment (each with its ``rolloutWeight``)."""
        return _as_list(self._http.request("GET", self._path(id, "variants")), "variants")

    def variant(self, id: str, variant_key: str) -> dict[str, Any]:
        """One variant."""
        return _as_dict(self._http.request("GET", self._variant_path(id, variant_key)), "variant")

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
        body = v.variant_body(
            key=key,
            name=name,
            description=description,
            payload_value=_UNSET if payload is None else payload,
            weight=rollout_weight,
            require_key=True,
        )
        return self._http.request("POST", self._path(id, "variants"), json=body, retry=False)

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

        A rename is not retried: once applied, a repeat would 404 on the old key.
        """
        body = v.variant_body(
            key=key,
            name=name,
            description=description,
            payload_value=payload,
            weight=rollout_weight,
            require_key=False,
        )
        renames = key is not None and key != variant_key
        path = self._variant_path(id, variant_key)
        return self._http.request("PATCH", path, json=body, retry=not renames)

    def remove_variant(self, id: str, variant_key: str) -> Any:
        """Deletes a variant. Not retried: a repeat after a lost reply would 404."""
        return self._http.request("DELETE", self._variant_path(id, variant_key), retry=False)

    def users(self, id: str, variant_key: str) -> list[str]:
        """The variant's individual inclusions (user or device ids), in server order."""
        body = self._http.request("GET", self._variant_path(id, variant_key, "users"))
        return _as_list(body, "users")

    def add_users(self, id: str, variant_key: str, users: Iterable[str]) -> Any:
        """Adds individual inclusions (at most 2,000 per variant)."""
        body = {"inclusions": v.inclusions(users, "users")}
        return self._http.request("POST", self._variant_path(id, variant_key, "users"), json=body)

    def remove_user_at(
        self, id: str, variant_key: str, index: int, *, expected: str | None = None
    ) -> Any:
        """Removes the inclusion at ``index`` (zero-based). Never retried.

        With ``expected=``, the users are read first and nothing is sent unless ``expected``
        still sits at ``index``: indexes shift whenever someone else removes a user.
        """
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValidationError(
                f"index must be a non-negative integer, got {index!r}.",
                field="index",
                value=index,
                allowed="an int >= 0 (a position in users())",
            )
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
        return self._http.request(
            "DELETE",
            self._variant_path(id, variant_key, "users", str(index)),
            retry=False,
        )

    def remove_all_users(self, id: str, variant_key: str) -> Any:
        """Removes every individual inclusion of the variant."""
        return self._http.request("DELETE", self._variant_path(id, variant_key, "users"))


class ConfigResource(_VariantEndpoints):
    """``client.flags`` and ``client.experiments``: one class, parametrised by ``kind``."""

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
    ) -> list[dict[str, Any]]:
        """Every flag (or experiment), all pages; ``key`` matches exactly."""
        return list(self.iter(project_id, key, include_archived))

    def get(self, id: str) -> dict[str, Any]:
        """One flag or experiment."""
        return _as_dict(self._http.request("GET", self._path(id)), self.kind[:-1])

    def versions(self, id: str) -> list[dict[str, Any]]:
        """Every version of the config, newest first."""
        return _as_list(self._http.request("GET", self._path(id, "versions")), "versions")

    def version(self, id: str, version_id: str | int) -> dict[str, Any]:
        """One version: ``{version, createdAt, createdBy, flagConfig}``."""
        path = self._path(id, "versions", _seg(version_id, "version_id"))
        return _as_dict(self._http.request("GET", path), "version")

    def cohorts(self, id: str, variant_key: str) -> list[str]:
        """The variant's cohort inclusions (cohort ids)."""
        body = self._http.request("GET", self._variant_path(id, variant_key, "cohorts"))
        return _as_list(body, "cohorts")

    def add_cohorts(self, id: str, variant_key: str, cohorts: Iterable[str]) -> Any:
        """Adds cohort inclusions."""
        body = {"inclusions": v.inclusions(cohorts, "cohorts")}
        return self._http.request("POST", self._variant_path(id, variant_key, "cohorts"), json=body)

    def _bulk_delete(
        self, id: str, variant_key: str, values: Iterable[str], *, endpoint: str, what: str
    ) -> Any:
        items = v.string_list(values, what, allow_empty=False)
        path = self._variant_path(id, variant_key, endpoint)
        removed: list[str] = []
        result: Any = None
        for start in range(0, len(items), v.MAX_BULK_DELETE):
            chunk = items[start : start + v.MAX_BULK_DELETE]
            try:
                # the API names the list "users" for cohorts too
                result = self._http.request("DELETE", path, json={"users": chunk})
            except ExpkitError as exc:
                _note_partial_removal(exc, removed, items[start:], what)
                raise
            removed.extend(chunk)
        return result

    def remove_users(self, id: str, variant_key: str, users: Iterable[str]) -> Any:
        """Removes individual inclusions by id, 100 per request.

        If a later request fails, the error says how many were already removed and carries
        them as ``.removed`` (the rest as ``.not_removed``).
        """
        return self._bulk_delete(id, variant_key, users, endpoint="bulk-delete-users", what="users")

    def remove_cohorts(self, id: str, variant_key: str, cohorts: Iterable[str]) -> Any:
        """Removes cohort inclusions by id, 100 per request (partial failures as in ``remove_users``)."""
        return self._bulk_delete(
            id, variant_key, cohorts, endpoint="bulk-delete-cohorts", what="cohorts"
        )

    def deployments(self, id: str) -> list[dict[str, Any]]:
        """The deployments the config is in."""
        return _as_list(self._http.request("GET", self._path(id, "deployments")), "deployments")

    def add_deployments(self, id: str, deployment_ids: Iterable[str]) -> Any:
        """Adds the config to deployments."""
        body = {"deployments": v.id_list(deployment_ids, "deployment_ids")}
        return self._http.request("POST", self._path(id, "deployments"), json=body)

    def remove_deployment(self, id: str, deployment_id: str) -> Any:
        """Removes the config from one deployment. Not retried (a repeat would 404)."""
        path = self._path(id, "deployments", _seg(deployment_id, "deployment_id"))
        return self._http.request("DELETE", path, retry=False)

    def edit(self, id: str, **fields: Any) -> Any:
        """PATCHes the config; fields in snake_case (camelCase accepted).

        ``target_segments=`` and ``tags=`` *replace* the current lists (use ``add_tags`` /
        ``remove_tags`` to change tags one by one). Variants, weights and deployments are
        changed through their own methods.
        """
        body = v.config_edit_body(self.kind, fields)
        return self._http.request("PATCH", self._path(id), json=body)

    def create(self, project_id: str, key: str, **fields: Any) -> dict[str, Any]:
        """Creates a flag (or experiment); returns ``{"id", "url"}``. Never retried."""
        body = v.config_create_body(self.kind, project_id, key, fields)
        reply = self._http.request("POST", self._base, json=body, retry=False)
        return _with_str_id(_as_dict(reply, "create"))

    def add_tags(self, id: str, tags: Iterable[str]) -> list[str]:
        """Adds tags, keeping the existing ones (read-modify-write); returns the new tags."""
        new = v.string_list(tags, "tags", allow_empty=False)
        current = list(self.get(id).get("tags") or [])
        merged = current + [t for t in dict.fromkeys(new) if t not in current]
        if merged != current:
            self.edit(id, tags=merged)
        return merged

    def remove_tags(self, id: str, tags: Iterable[str]) -> list[str]:
        """Removes tags, keeping the others (read-modify-write); returns the new tags."""
        drop = set(v.string_list(tags, "tags", allow_empty=False))
        current = list(self.get(id).get("tags") or [])
        kept = [t for t in current if t not in drop]
        if kept != current:
            self.edit(id, tags=kept)
        return kept


class DeploymentResource:
    """``client.deployments``: list, create, edit (archive stands in for delete)."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http
        self._base = f"{API_PREFIX}/deployments"

    def iter(self) -> Iterator[dict[str, Any]]:
        """Lazily yields every deployment, soft-deleted ones included."""
        return self._http.paginate(self._base, "deployments")

    def list(self) -> list[dict[str, Any]]:
        """Every deployment, soft-deleted ones included (``deleted: true``)."""
        return list(self.iter())

    def create(self, project_id: str, label: str, type: str) -> dict[str, Any]:
        """Creates a deployment (``type``: client or server); returns ``{"id"}``."""
        body = {
            "projectId": v.require_id(project_id, "project_id"),
            "label": v.deployment_label(label),
            "type": v.require_choice(type, "type", v.DEPLOYMENT_TYPES),
        }
        reply = self._http.request("POST", self._base, json=body, retry=False)
        return _with_str_id(_as_dict(reply, "create deployment"))

    def edit(self, id: str, label: str | None = None, archive: bool | None = None) -> Any:
        """Renames and/or archives (soft-deletes) or restores a deployment."""
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
        return self._http.request("PATCH", f"{self._base}/{_seg(id, 'id')}", json=body)


class VersionResource:
    """``client.versions``: the version history of every flag and experiment."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http
        self._base = f"{API_PREFIX}/versions"

    def iter(
        self, start: datetime | date | str | None = None, end: datetime | date | str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Lazily yields versions created in ``[start, end)``, newest first.

        ``start``/``end`` take datetimes (naive ones are read as UTC), dates or ISO strings.
        """
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
        return self._http.paginate(self._base, "versions", params=params)

    def list(
        self, start: datetime | date | str | None = None, end: datetime | date | str | None = None
    ) -> list[dict[str, Any]]:
        """Every version of every flag and experiment in ``[start, end)``, newest first."""
        return list(self.iter(start, end))


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

    def __init__(self, http: HttpClient) -> None:
        self._http = http
        self._base = f"{API_PREFIX}/{self._items}"

    def _item_path(self, id: Any, *rest: str) -> str:
        return "/".join([self._base, _seg(id, "id"), *rest])

    def iter(self) -> Iterator[dict[str, Any]]:
        """Lazily yields every group."""
        return self._http.paginate(self._base, self._items)

    def list(self) -> list[dict[str, Any]]:
        """Every group."""
        return list(self.iter())

    def get(self, id: str) -> dict[str, Any]:
        """One group (a mutex with its slots)."""
        return _as_dict(self._http.request("GET", self._item_path(id)), self._what)

    def _patch(self, path: str, body: dict[str, Any], method: str, allowed: tuple[str, ...]) -> Any:
        if not body:
            raise ValidationError(
                f"{self._items}.{method}() needs at least one field.",
                field="fields",
                value={},
                allowed=allowed,
            )
        return self._http.request("PATCH", path, json=body)

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        reply = self._http.request("POST", self._base, json=body, retry=False)
        return _with_str_id(_as_dict(reply, f"create {self._what}"))


class MutexResource(_GroupResource):
    """``client.mutexes``: mutual-exclusion groups and their slots."""

    _items = "mutexes"
    _what = "mutex"

    def edit(
        self,
        id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        archive: bool | None = None,
    ) -> Any:
        """Renames, describes or archives a group (archiving ignores the other fields)."""
        body: dict[str, Any] = {}
        _optional(body, name=name, description=description)
        _optional_bool(body, archive=archive)
        return self._patch(self._item_path(id), body, "edit", ("name", "description", "archive"))

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
        slot = v.integer_in(index, "index", 1, 20)
        body: dict[str, Any] = {}
        if experiments is not None:
            body["experiments"] = v.numeric_ids(experiments, "experiments")
        if holdouts is not None:
            body["holdouts"] = v.numeric_ids(holdouts, "holdouts")
        if individuals is not None:
            body["individuals"] = v.string_list(individuals, "individuals")
        path = self._item_path(id, "slots", str(slot))
        return self._patch(path, body, "edit_slot", ("experiments", "holdouts", "individuals"))

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


class HoldoutResource(_GroupResource):
    """``client.holdouts``: holdout groups."""

    _items = "holdouts"
    _what = "holdout"

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
        return self._patch(self._item_path(id), body, "edit", allowed)

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
        body: dict[str, Any] = {
            "projectId": _numeric_project(project_id),
            "name": v.require_str(name, "name"),
            "holdoutPercentage": v.integer_in(holdout_percentage, "holdout_percentage", 1, 99),
        }
        _optional(body, key=key, description=description, bucketing_key=bucketing_key)
        _evaluation_mode(body, evaluation_mode)
        _holdout_lists(body, experiments, individual_inclusion, individual_exclusion)
        return self._create(body)


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


class _BaseClient:
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
        timeout: float | tuple[float, float] = 30.0,
        max_retries: int = 5,
        rate_limit: float | None = 100.0,
        session: requests.Session | None = None,
        backoff_factor: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_time: float = 120.0,
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
        self.http = HttpClient(
            self.base_url,
            key,
            timeout=timeout,
            max_retries=max_retries,
            rate_limit=rate_limit,
            session=session,
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            max_retry_time=max_retry_time,
        )
        self._attach(self.http)

    def _attach(self, http: HttpClient) -> None:
        """Sets the endpoint attributes (``flags``, ``experiments``, ...) on the client."""

    @property
    def request_count(self) -> int:
        """Requests sent so far, retries included."""
        return self.http.request_count

    @property
    def server_time(self) -> datetime | None:
        """The server's clock (``Date`` header) at the latest response, tz-aware UTC."""
        return self.http.server_time

    def close(self) -> None:
        """Closes pooled connections."""
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, region={self.region!r})"


class Client(_BaseClient):
    """A client for Amplitude Experiment's Management API (``/api/1``).

    The key comes from ``api_key=`` or ``AMPLITUDE_MANAGEMENT_API_KEY``; the region (``us`` or
    ``eu``) from ``region=`` or ``AMPLITUDE_REGION``; ``base_url=`` overrides both hosts
    (plain http only for loopback addresses). ``timeout`` applies to every request;
    ``max_retries``, ``backoff_factor``, ``backoff_max`` and ``max_retry_time`` bound the
    retries of one call; ``rate_limit`` caps requests per second (None: no cap); ``session``
    replaces the ``requests.Session`` (tests mount a double on it). Safe to share across
    threads.
    """

    def _attach(self, http: HttpClient) -> None:
        self.flags = ConfigResource(http, "flags")
        self.experiments = ConfigResource(http, "experiments")
        self.deployments = DeploymentResource(http)
        self.versions = VersionResource(http)
        self.mutexes = MutexResource(http)
        self.holdouts = HoldoutResource(http)

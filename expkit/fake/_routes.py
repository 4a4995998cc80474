"""The fake's HTTP routes: parse a request, call :class:`~expkit.fake._state.State`, serialise.

No sockets here (the server owns those): :meth:`Router.handle` takes a method, a target, the
headers and the body bytes and returns a :class:`Response`. Serves the ``/api/1`` families
and, without a prefix, the legacy beta host's paths. List bodies are assembled from cached
per-object JSON bytes so large pages cost a join, not an encode.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from expkit.fake._state import FakeError, State

__all__ = ["MAX_LIMIT", "Request", "Response", "Router"]

MAX_LIMIT = 1000
CREATE_URL = "http://experiment.amplitude.com/amplitude/{project_id}/config/{id}"
GROUP_URL = "http://experiment.amplitude.com/amplitude/experiments/grouped-experiments"
_JSON = "application/json"
_TEXT = "text/plain; charset=utf-8"
_MISSING: Any = object()


@dataclass
class Response:
    """A status, a body and its content type."""

    status: int
    body: bytes
    content_type: str = _JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    """What a handler sees: path parameters, the query (last value wins) and the body."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    raw_body: bytes
    _parsed: Any = _MISSING

    def json(self) -> Any:
        """The body parsed as JSON; 400 naming the problem when it is not."""
        if self._parsed is _MISSING:
            text = self.raw_body.decode("utf-8", errors="replace").strip()
            if not text:
                self._parsed = None
            else:
                try:
                    self._parsed = json.loads(text)
                except ValueError as exc:
                    raise FakeError(400, f"request body is not valid JSON: {exc}") from None
        return self._parsed

    def body(self) -> dict[str, Any]:
        """The body as a JSON object; 400 when missing or not an object."""
        value = self.json()
        if value is None:
            raise FakeError(400, "a JSON object request body is required")
        if not isinstance(value, dict):
            raise FakeError(400, f"request body must be a JSON object, got {type(value).__name__}")
        return value

    def required(self, name: str, expected: str | None = None) -> Any:
        """Field ``name`` of the body object; 400 naming it (and ``expected``) when missing."""
        body = self.body()
        if name not in body:
            detail = f"{name}: is required" + (f" ({expected})" if expected else "")
            raise FakeError(400, detail, field=name)
        return body[name]


def _inclusions(request: Request) -> Any:
    return request.required("inclusions", "an array of strings")


def _bulk_values(request: Request) -> Any:
    return request.required("users", "an array of at most 100 strings")


def _ok() -> Response:
    return Response(200, b"OK", _TEXT)


def _json(value: Any) -> Response:
    return Response(200, json.dumps(value, separators=(",", ":")).encode())


def _error(exc: FakeError) -> Response:
    return Response(exc.status, json.dumps(exc.body()).encode())


def _join(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


def _page(items_key: str, items: list[bytes], next_cursor: int | None) -> Response:
    cursor = b"null" if next_cursor is None else b'"%d"' % next_cursor
    body = b'{"' + items_key.encode() + b'":' + _join(items) + b',"nextCursor":' + cursor + b"}"
    return Response(200, body)


def _page_window(query: Mapping[str, str]) -> tuple[int, int]:
    """``(offset, limit)`` from ``cursor`` and ``limit``; ``limit`` capped at 1000."""
    limit = MAX_LIMIT
    if "limit" in query:
        try:
            limit = int(query["limit"])
        except ValueError:
            raise FakeError(
                400, f"limit: must be an integer, got {query['limit']!r}", field="limit"
            ) from None
        if limit < 1:
            raise FakeError(400, f"limit: must be at least 1, got {limit}", field="limit")
        limit = min(limit, MAX_LIMIT)
    offset = 0
    if query.get("cursor") not in (None, "", "null"):
        try:
            offset = int(query["cursor"])
        except ValueError:
            raise FakeError(
                400, f"cursor: must be an offset, got {query['cursor']!r}", field="cursor"
            ) from None
        if offset < 0:
            raise FakeError(400, f"cursor: must be non-negative, got {offset}", field="cursor")
    return offset, limit


def _flag_param(query: Mapping[str, str], name: str) -> bool:
    value = query.get(name)
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise FakeError(400, f"{name}: must be true or false, got {value!r}", field=name)


Handler = Callable[[Request], Response]


class Router:
    """Maps requests to State calls; checks the ``Authorization: Bearer`` key first."""

    def __init__(self, state: State, *, api_key: str) -> None:
        self.state = state
        self._api_key = api_key.encode()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._build()

    def __repr__(self) -> str:
        return f"Router({self.state!r}, {len(self._routes)} routes)"

    # ----- dispatch ----------------------------------------------------------------------

    def authorized(self, headers: Mapping[str, str]) -> bool:
        """Whether the request carries this server's key."""
        value = headers.get("Authorization") or headers.get("authorization") or ""
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(token.strip().encode(), self._api_key)

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes = b""
    ) -> Response:
        """Serves one request."""
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if not self.authorized(headers):
            return _error(
                FakeError(401, "invalid or missing API key: send Authorization: Bearer <key>")
            )
        method = method.upper()
        allowed: list[str] = []
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if route_method != method:
                allowed.append(route_method)
                continue
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            request = Request(method, path, params, query, body)
            try:
                return handler(request)
            except FakeError as exc:
                return _error(exc)
        if allowed:
            return _error(
                FakeError(
                    405,
                    f"{method} is not allowed on {path} (allowed: {', '.join(sorted(set(allowed)))})",
                )
            )
        return _error(FakeError(404, f"no route for {method} {path}"))

    def _add(self, methods: str, template: str, handler: Handler) -> None:
        regex = re.sub(r"\{kind\}", r"(?P<kind>flags|experiments)", template)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        pattern = re.compile(regex)
        for method in methods.split("|"):
            self._routes.append((method, pattern, handler))

    def _build(self) -> None:
        a = "/api/1"
        cfg = f"{a}/{{kind}}/{{id}}"
        var = f"{cfg}/variants/{{vk}}"
        # the /api/1 families
        self._add("GET", f"{a}/versions", self._all_versions)
        self._add("GET", f"{a}/deployments", self._list_deployments)
        self._add("POST", f"{a}/deployments", self._create_deployment)
        self._add("PATCH", f"{a}/deployments/{{id}}", self._edit_deployment)
        self._add("GET", f"{a}/mutexes", self._list_mutexes)
        self._add("POST", f"{a}/mutexes", self._create_mutex)
        self._add("GET", f"{a}/mutexes/{{id}}", self._get_mutex)
        self._add("PATCH", f"{a}/mutexes/{{id}}", self._edit_mutex)
        self._add("PATCH", f"{a}/mutexes/{{id}}/slots/{{slot}}", self._edit_slot)
        for holdouts in (f"{a}/holdouts", f"{a}/holdout"):  # the docs' curl says /holdout
            self._add("GET", holdouts, self._list_holdouts)
            self._add("POST", holdouts, self._create_holdout)
            self._add("GET", f"{holdouts}/{{id}}", self._get_holdout)
            self._add("PATCH", f"{holdouts}/{{id}}", self._edit_holdout)
        self._add("GET", f"{a}/{{kind}}", self._list_configs)
        self._add("POST", f"{a}/{{kind}}", self._create_config)
        self._add("GET", cfg, self._get_config)
        self._add("PATCH|POST", cfg, self._edit_config)
        self._add("GET", f"{cfg}/versions", self._versions)
        self._add("GET", f"{cfg}/versions/{{vid}}", self._version)
        self._add("GET", f"{cfg}/variants", self._variants)
        self._add("POST", f"{cfg}/variants", self._create_variant)
        self._add("GET", var, self._variant)
        # PATCH is documented; the flags page's headline says POST, so accept both
        self._add("PATCH|POST", var, self._edit_variant)
        self._add("DELETE", var, self._remove_variant)
        self._add("GET", f"{var}/users", self._users)
        self._add("POST", f"{var}/users", self._add_users)
        self._add("DELETE", f"{var}/users", self._remove_all_users)
        self._add("DELETE", f"{var}/users/{{index}}", self._remove_user_at)
        self._add("GET", f"{var}/cohorts", self._cohorts)
        self._add("POST", f"{var}/cohorts", self._add_cohorts)
        self._add("DELETE", f"{var}/bulk-delete-users", self._bulk_users)
        self._add("DELETE", f"{var}/bulk-delete-cohorts", self._bulk_cohorts)
        self._add("GET", f"{cfg}/deployments", self._config_deployments)
        self._add("POST", f"{cfg}/deployments", self._add_config_deployments)
        self._add("DELETE", f"{cfg}/deployments/{{did}}", self._remove_config_deployment)
        # the legacy beta host: no prefix
        lcfg = "/{kind}/{id}"
        lvar = f"{lcfg}/variants/{{vk}}"
        self._add("GET", "/deployments/list", self._legacy_deployments)
        self._add("GET", "/{kind}/list", self._legacy_list)
        self._add("POST", "/{kind}/new", self._legacy_create)
        self._add("POST", "/experiments/{id}/activate", self._legacy_activate)
        self._add("POST", "/experiments/{id}/deactivate", self._legacy_deactivate)
        self._add("POST", "/experiments/{id}/rollout-weights", self._legacy_rollout_weights)
        self._add("GET", lcfg, self._get_config)
        self._add("PATCH", lcfg, self._legacy_edit)
        self._add("GET", f"{lcfg}/versions", self._versions)
        self._add("GET", f"{lcfg}/versions/{{vid}}", self._version)
        self._add("GET", f"{lcfg}/variants", self._variants)
        self._add("POST", f"{lcfg}/variants", self._create_variant)
        self._add("GET", lvar, self._variant)
        self._add("PATCH", lvar, self._edit_variant)
        self._add("DELETE", lvar, self._remove_variant)
        self._add("GET", f"{lvar}/users", self._users)
        self._add("POST", f"{lvar}/users", self._add_users)
        self._add("DELETE", f"{lvar}/users", self._remove_all_users)
        self._add("DELETE", f"{lvar}/users/{{index}}", self._remove_user_at)

    # ----- flags and experiments ---------------------------------------------------------

    def _list_page(self, kind: str, request: Request, *, api: bool) -> Response:
        query = request.query
        offset, limit = _page_window(query)
        if api:
            ids = self.state.config_ids(
                kind,
                key=query.get("key") or None,
                project_id=query.get("projectId") or None,
                include_archived=_flag_param(query, "includeArchived"),
            )
        else:
            ids = self.state.config_ids(kind)
        chunk = ids[offset : offset + limit]
        items = [self.state.config_bytes(kind, cid) for cid in chunk]
        more = offset + limit < len(ids)
        return _page(kind, items, offset + limit if more else None)

    def _list_configs(self, request: Request) -> Response:
        return self._list_page(request.params["kind"], request, api=True)

    def _legacy_list(self, request: Request) -> Response:
        return self._list_page(request.params["kind"], request, api=False)

    def _get_config(self, request: Request) -> Response:
        return Response(200, self.state.config_bytes(request.params["kind"], request.params["id"]))

    def _create_config(self, request: Request) -> Response:
        kind = request.params["kind"]
        cid = self.state.create_config(kind, request.body())
        project_id = self.state.get_config(kind, cid)["projectId"]
        return _json({"id": cid, "url": CREATE_URL.format(project_id=project_id, id=cid)})

    def _edit_config(self, request: Request) -> Response:
        self.state.edit_config(request.params["kind"], request.params["id"], request.body())
        return _ok()

    def _versions(self, request: Request) -> Response:
        records = self.state.version_records(request.params["kind"], request.params["id"])
        return Response(200, _join([r.raw() for r in records]))

    def _version(self, request: Request) -> Response:
        p = request.params
        return Response(200, self.state.version_record(p["kind"], p["id"], p["vid"]).raw())

    def _variants(self, request: Request) -> Response:
        return _json(self.state.variants(request.params["kind"], request.params["id"]))

    def _variant(self, request: Request) -> Response:
        p = request.params
        return _json(self.state.variant(p["kind"], p["id"], p["vk"]))

    def _create_variant(self, request: Request) -> Response:
        self.state.create_variant(request.params["kind"], request.params["id"], request.body())
        return _ok()

    def _edit_variant(self, request: Request) -> Response:
        p = request.params
        self.state.edit_variant(p["kind"], p["id"], p["vk"], request.body())
        return _ok()

    def _remove_variant(self, request: Request) -> Response:
        p = request.params
        self.state.remove_variant(p["kind"], p["id"], p["vk"])
        return _ok()

    def _users(self, request: Request) -> Response:
        p = request.params
        return _json(self.state.users(p["kind"], p["id"], p["vk"]))

    def _cohorts(self, request: Request) -> Response:
        p = request.params
        return _json(self.state.cohorts(p["kind"], p["id"], p["vk"]))

    def _add_users(self, request: Request) -> Response:
        p = request.params
        self.state.add_inclusions(p["kind"], p["id"], p["vk"], _inclusions(request))
        return _ok()

    def _add_cohorts(self, request: Request) -> Response:
        p = request.params
        values = _inclusions(request)
        self.state.add_inclusions(p["kind"], p["id"], p["vk"], values, cohorts=True)
        return _ok()

    def _remove_all_users(self, request: Request) -> Response:
        p = request.params
        self.state.remove_all_users(p["kind"], p["id"], p["vk"])
        return _ok()

    def _remove_user_at(self, request: Request) -> Response:
        p = request.params
        self.state.remove_user_at(p["kind"], p["id"], p["vk"], p["index"])
        return _ok()

    def _bulk_users(self, request: Request) -> Response:
        p = request.params
        self.state.bulk_remove(p["kind"], p["id"], p["vk"], _bulk_values(request))
        return _ok()

    def _bulk_cohorts(self, request: Request) -> Response:
        p = request.params
        values = _bulk_values(request)
        self.state.bulk_remove(p["kind"], p["id"], p["vk"], values, cohorts=True)
        return _ok()

    def _config_deployments(self, request: Request) -> Response:
        return _json(self.state.config_deployments(request.params["kind"], request.params["id"]))

    def _add_config_deployments(self, request: Request) -> Response:
        deployments = request.required("deployments", "an array of deployment ids")
        self.state.add_config_deployments(request.params["kind"], request.params["id"], deployments)
        return _ok()

    def _remove_config_deployment(self, request: Request) -> Response:
        p = request.params
        self.state.remove_config_deployment(p["kind"], p["id"], p["did"])
        return _ok()

    # ----- versions, deployments, groups -------------------------------------------------

    def _all_versions(self, request: Request) -> Response:
        offset, limit = _page_window(request.query)
        start = request.query.get("start") or None
        end = request.query.get("end") or None
        records, total = self.state.timeline(start, end, offset=offset, limit=limit)
        more = offset + limit < total
        return _page("versions", [r.raw() for r in records], offset + limit if more else None)

    def _deployment_page(self, request: Request) -> Response:
        offset, limit = _page_window(request.query)
        items = self.state.deployment_list()
        more = offset + limit < len(items)
        encoded = [
            json.dumps(d, separators=(",", ":")).encode() for d in items[offset : offset + limit]
        ]
        return _page("deployments", encoded, offset + limit if more else None)

    def _list_deployments(self, request: Request) -> Response:
        return self._deployment_page(request)

    def _legacy_deployments(self, request: Request) -> Response:
        return self._deployment_page(request)

    def _create_deployment(self, request: Request) -> Response:
        return _json({"id": self.state.create_deployment(request.body())})

    def _edit_deployment(self, request: Request) -> Response:
        self.state.edit_deployment(request.params["id"], request.body())
        return _ok()

    def _group_page(
        self, items_key: str, items: list[dict[str, Any]], request: Request
    ) -> Response:
        offset, limit = _page_window(request.query)
        more = offset + limit < len(items)
        encoded = [
            json.dumps(g, separators=(",", ":")).encode() for g in items[offset : offset + limit]
        ]
        return _page(items_key, encoded, offset + limit if more else None)

    def _list_mutexes(self, request: Request) -> Response:
        return self._group_page("mutexes", self.state.mutex_list(), request)

    def _get_mutex(self, request: Request) -> Response:
        return _json(self.state.mutex(request.params["id"]))

    def _create_mutex(self, request: Request) -> Response:
        return _json({"id": self.state.create_mutex(request.body()), "url": GROUP_URL})

    def _edit_mutex(self, request: Request) -> Response:
        self.state.edit_mutex(request.params["id"], request.body())
        return _ok()

    def _edit_slot(self, request: Request) -> Response:
        self.state.edit_mutex_slot(request.params["id"], request.params["slot"], request.body())
        return _ok()

    def _list_holdouts(self, request: Request) -> Response:
        return self._group_page("holdouts", self.state.holdout_list(), request)

    def _get_holdout(self, request: Request) -> Response:
        return _json(self.state.holdout(request.params["id"]))

    def _create_holdout(self, request: Request) -> Response:
        return _json({"id": self.state.create_holdout(request.body()), "url": GROUP_URL})

    def _edit_holdout(self, request: Request) -> Response:
        self.state.edit_holdout(request.params["id"], request.body())
        return _ok()

    # ----- legacy-only endpoints ---------------------------------------------------------

    def _legacy_create(self, request: Request) -> Response:
        kind = request.params["kind"]
        cid = self.state.create_config(kind, request.body(), legacy=True)
        # the beta API returns the created object itself
        return Response(200, self.state.config_bytes(kind, cid))

    def _legacy_edit(self, request: Request) -> Response:
        p = request.params
        self.state.edit_config(p["kind"], p["id"], request.body(), legacy=True)
        return _ok()

    def _legacy_activate(self, request: Request) -> Response:
        self.state.set_enabled("experiments", request.params["id"], True)
        return _ok()

    def _legacy_deactivate(self, request: Request) -> Response:
        self.state.set_enabled("experiments", request.params["id"], False)
        return _ok()

    def _legacy_rollout_weights(self, request: Request) -> Response:
        weights = request.required("rolloutWeights")
        self.state.set_rollout_weights("experiments", request.params["id"], weights)
        return _ok()

"""The fake's HTTP routes: parse a request, call :class:`~expkit.fake._state.State`, serialise.

No sockets here (the server and the in-process adapter own the transport):
:meth:`Router.handle` takes a method, a target, the headers and the body bytes and returns a
:class:`Response`. Serves the ``/api/1`` families and, without a prefix, the legacy beta
host's paths. The route table is below (like moto's ``urls.py``); the handlers live by
family, mirroring the state: ``_routes_configs``, ``_routes_variants``,
``_routes_deployments``, ``_routes_groups``. List bodies are assembled from cached per-object
JSON bytes so large pages cost a join, not an encode.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from urllib.parse import parse_qs, unquote, urlsplit

from expkit.fake._common import FakeError
from expkit.fake._routes_configs import ConfigRoutes
from expkit.fake._routes_deployments import DeploymentRoutes
from expkit.fake._routes_groups import GroupRoutes
from expkit.fake._routes_variants import VariantRoutes
from expkit.fake._routing import MAX_LIMIT, Handler, Request, Response, _error
from expkit.fake._state import State

__all__ = ["MAX_LIMIT", "Request", "Response", "Router"]


class Router(ConfigRoutes, VariantRoutes, DeploymentRoutes, GroupRoutes):
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

"""Routes of deployments and of a config's deployments."""

from __future__ import annotations

import json

from expkit.fake._routing import Request, Response, RouterBase, _json, _ok, _page, _page_window

__all__ = ["DeploymentRoutes"]


class DeploymentRoutes(RouterBase):
    """``/api/1/deployments``, ``/deployments/list`` and ``.../{id}/deployments``."""

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

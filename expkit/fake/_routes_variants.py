"""Routes of variants and their inclusions."""

from __future__ import annotations

from expkit.fake._routing import (
    Request,
    Response,
    RouterBase,
    _bulk_values,
    _inclusions,
    _json,
    _ok,
)

__all__ = ["VariantRoutes"]


class VariantRoutes(RouterBase):
    """``.../variants``, ``.../users``, ``.../cohorts`` and the bulk deletes."""

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

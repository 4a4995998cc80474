"""Routes of mutex groups and holdouts."""

from __future__ import annotations

import json
from typing import Any

from expkit.fake._routing import (
    GROUP_URL,
    Request,
    Response,
    RouterBase,
    _json,
    _ok,
    _page,
    _page_window,
)

__all__ = ["GroupRoutes"]


class GroupRoutes(RouterBase):
    """``/api/1/mutexes`` and ``/api/1/holdouts``."""

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

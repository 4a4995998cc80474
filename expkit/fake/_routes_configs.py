"""Routes of flags and experiments: list, get, create, edit, versions; and the legacy host's."""

from __future__ import annotations

from expkit.fake._routing import (
    CREATE_URL,
    Request,
    Response,
    RouterBase,
    _flag_param,
    _join,
    _json,
    _ok,
    _page,
    _page_window,
)

__all__ = ["ConfigRoutes"]


class ConfigRoutes(RouterBase):
    """``/api/1/{flags,experiments}``, ``/api/1/versions`` and the beta host's config paths."""

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

    def _all_versions(self, request: Request) -> Response:
        offset, limit = _page_window(request.query)
        start = request.query.get("start") or None
        end = request.query.get("end") or None
        records, total = self.state.timeline(start, end, offset=offset, limit=limit)
        more = offset + limit < total
        return _page("versions", [r.raw() for r in records], offset + limit if more else None)

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

"""Deployments of the fake, and which configs are in them."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from expkit._validate import DEPLOYMENT_TYPES
from expkit.fake._base import StateBase
from expkit.fake._checks import (
    _check_bool,
    _check_choice,
    _check_id_list,
    _check_label,
    _check_project_id,
    _check_unknown,
)
from expkit.fake._common import FakeError, _bad, _clone, _not_found

__all__ = ["DeploymentsMixin"]


class DeploymentsMixin(StateBase):
    """Deployments (``/api/1/deployments``) and a config's deployments."""

    def config_deployments(self, kind: str, cid: Any) -> list[dict[str, Any]]:
        """The deployment objects a config is in."""
        config = self._config(kind, cid)
        return [
            _clone(self._deployments[d])
            for d in config.get("deployments") or []
            if d in self._deployments
        ]

    # ----- config deployments ------------------------------------------------------------

    def add_config_deployments(
        self, kind: str, cid: Any, deployment_ids: Any, *, by: str | None = None
    ) -> None:
        """Adds deployments (ids) to a config."""
        config = self._config(kind, cid)
        ids = _check_id_list(deployment_ids, "deployments")
        if not ids:
            raise _bad("deployments", "must name at least one deployment id")
        self._check_deployments(ids, "deployments")
        config["deployments"] = list(dict.fromkeys([*config.get("deployments", []), *ids]))
        self._commit(kind, config["id"], by)

    def remove_config_deployment(
        self, kind: str, cid: Any, deployment_id: Any, *, by: str | None = None
    ) -> None:
        """Removes one deployment from a config; 404 when the config is not in it."""
        config = self._config(kind, cid)
        did = str(deployment_id)
        if did not in (config.get("deployments") or []):
            raise FakeError(404, f"{kind[:-1]} {config['id']} is not in deployment {did!r}")
        config["deployments"] = [d for d in config["deployments"] if d != did]
        self._commit(kind, config["id"], by)

    # ----- deployments -------------------------------------------------------------------

    def deployment_list(self) -> list[dict[str, Any]]:
        """Every deployment, soft-deleted ones included, in creation order."""
        return _clone(list(self._deployments.values()))

    def create_deployment(self, body: Mapping[str, Any]) -> str:
        """Creates a deployment from ``{projectId, label, type}``; returns its id."""
        _check_unknown(body, ("projectId", "label", "type"), "a deployment create body")
        for name in ("projectId", "label", "type"):
            if body.get(name) in (None, ""):
                raise _bad(name, "is required")
        _check_project_id(body["projectId"])
        _check_label(body["label"])
        _check_choice(body["type"], "type", DEPLOYMENT_TYPES)
        did = self.ids.next_id()
        self._deployments[did] = {
            "id": did,
            "projectId": str(body["projectId"]),
            "label": body["label"],
            "key": f"{body['type']}-{self.ids.token(24, string.ascii_lowercase + string.digits)}",
            "deleted": False,
        }
        return did

    def edit_deployment(self, did: Any, body: Mapping[str, Any]) -> None:
        """Renames (``label``) or soft-deletes/restores (``archive``) a deployment."""
        deployment = self._deployments.get(str(did))
        if deployment is None:
            raise _not_found("deployment", str(did))
        _check_unknown(body, ("label", "archive"), "a deployment edit")
        if "label" in body:
            _check_label(body["label"])
        if "archive" in body:
            _check_bool(body["archive"], "archive")
        if "label" in body:
            deployment["label"] = body["label"]
        if "archive" in body:
            deployment["deleted"] = body["archive"]

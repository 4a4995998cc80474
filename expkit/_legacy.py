"""``expkit.LegacyClient``: the beta Management API (``management-api.experiment...``).

The beta API has no ``/api/1`` prefix, lists at ``/<things>/list``, and a few experiment
actions that the current API folds into PATCH (activate, deactivate, rollout weights). It
shares the HTTP layer (auth, retries, rate limit, errors) with ``Client``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from expkit import _validate as v
from expkit._client import BaseClient, VariantEndpoints
from expkit._http import LEGACY_HOSTS, HttpClient, path_segment
from expkit._request import Request
from expkit._wire import camel_to_snake, snake_to_camel
from expkit.errors import ValidationError

__all__ = ["LegacyClient", "LegacyRequests"]

_seg = path_segment

LEGACY_CREATE_FIELDS = (
    "name",
    "description",
    "variants",
    "bucketing_key",
    "rollout_weights",
    "target_segments",
    "deployments",
    "experiment_type",
    "evaluation_mode",
    "sticky_bucketing",
)


class LegacyRequests:
    """``legacy.build``: the Requests of the beta API's experiment actions, unsent."""

    def create_experiment(self, project_id: str, key: str, **fields: Any) -> Request:
        """POST /experiments/new (never retried)."""
        body = _legacy_create_body(project_id, key, fields)
        return Request("POST", "/experiments/new", body, retry=False)

    def activate(self, id: str) -> Request:
        """POST /experiments/{id}/activate."""
        return Request("POST", f"/experiments/{_seg(id, 'id')}/activate")

    def deactivate(self, id: str) -> Request:
        """POST /experiments/{id}/deactivate."""
        return Request("POST", f"/experiments/{_seg(id, 'id')}/deactivate")

    def set_rollout_weights(self, id: str, weights: Mapping[str, float]) -> Request:
        """POST /experiments/{id}/rollout-weights (whole-number weights, as everywhere)."""
        body = {"rolloutWeights": v.rollout_weights(weights, "weights", integers=True, whole=True)}
        if not body["rolloutWeights"]:
            raise ValidationError(
                "weights must name at least one variant.",
                field="weights",
                value={},
                allowed="a dict such as {'control': 1, 'treatment': 1}",
            )
        return Request("POST", f"/experiments/{_seg(id, 'id')}/rollout-weights", body)


class LegacyClient(BaseClient):
    """A client for the legacy (beta) Management API; prefer ``Client`` for new code.

    ``legacy.flags`` and ``legacy.experiments`` carry the beta variant endpoints (variants,
    users), with the same method names as on ``Client``.
    """

    _hosts = LEGACY_HOSTS
    _prefix = ""

    def __init__(
        self, api_key: str | None = None, *, region: str | None = "us", **options: Any
    ) -> None:
        """``region`` defaults to ``us`` here; the other options are ``Client``'s."""
        super().__init__(api_key, region=region, **options)

    def _attach(self, http: HttpClient) -> None:
        self.flags = VariantEndpoints(http, "flags", prefix="")
        self.experiments = VariantEndpoints(http, "experiments", prefix="")
        self.build = LegacyRequests()

    def _get_object(self, path: str, what: str) -> dict[str, Any]:
        return self.http.get_object(Request("GET", path), what)

    def _get_list(self, path: str, what: str) -> list[Any]:
        return self.http.get_list(Request("GET", path), what)

    def iter_experiments(self) -> Iterator[dict[str, Any]]:
        """Lazily yields every experiment (``GET /experiments/list``)."""
        return self.http.paginate("/experiments/list", "experiments")

    def list_experiments(self) -> list[dict[str, Any]]:
        """Every experiment, newest first, all pages."""
        return list(self.iter_experiments())

    def iter_flags(self) -> Iterator[dict[str, Any]]:
        """Lazily yields every flag (``GET /flags/list``)."""
        return self.http.paginate("/flags/list", "flags")

    def list_flags(self) -> list[dict[str, Any]]:
        """Every flag, newest first, all pages."""
        return list(self.iter_flags())

    def iter_deployments(self) -> Iterator[dict[str, Any]]:
        """Lazily yields every deployment (``GET /deployments/list``)."""
        return self.http.paginate("/deployments/list", "deployments")

    def list_deployments(self) -> list[dict[str, Any]]:
        """Every deployment, all pages."""
        return list(self.iter_deployments())

    def experiment(self, id: str) -> dict[str, Any]:
        """One experiment."""
        return self._get_object(f"/experiments/{_seg(id, 'id')}", "experiment")

    def experiment_versions(self, id: str) -> list[dict[str, Any]]:
        """Every version of an experiment."""
        path = f"/experiments/{_seg(id, 'id')}/versions"
        return self._get_list(path, "versions")

    def experiment_version(self, id: str, version_id: str | int) -> dict[str, Any]:
        """One version of an experiment."""
        path = f"/experiments/{_seg(id, 'id')}/versions/{_seg(version_id, 'version_id')}"
        return self._get_object(path, "version")

    def flag(self, id: str) -> dict[str, Any]:
        """One flag."""
        return self._get_object(f"/flags/{_seg(id, 'id')}", "flag")

    def flag_versions(self, id: str) -> list[dict[str, Any]]:
        """Every version of a flag."""
        return self._get_list(f"/flags/{_seg(id, 'id')}/versions", "versions")

    def flag_version(self, id: str, version_id: str | int) -> dict[str, Any]:
        """One version of a flag."""
        path = f"/flags/{_seg(id, 'id')}/versions/{_seg(version_id, 'version_id')}"
        return self._get_object(path, "version")

    def create_experiment(self, project_id: str, key: str, **fields: Any) -> Any:
        """Creates an experiment (``POST /experiments/new``); returns the server's reply.

        Fields in snake_case: name, description, variants, bucketing_key, rollout_weights,
        target_segments, deployments, experiment_type, evaluation_mode, sticky_bucketing.
        Never retried.
        """
        return self.http.send(self.build.create_experiment(project_id, key, **fields))

    def activate(self, id: str) -> Any:
        """Activates an experiment (``POST /experiments/{id}/activate``)."""
        return self.http.send(self.build.activate(id))

    def deactivate(self, id: str) -> Any:
        """Deactivates an experiment (``POST /experiments/{id}/deactivate``)."""
        return self.http.send(self.build.deactivate(id))

    def set_rollout_weights(self, id: str, weights: Mapping[str, float]) -> Any:
        """Sets an experiment's rollout weights, e.g. ``{"control": 1, "treatment": 1}``."""
        return self.http.send(self.build.set_rollout_weights(id, weights))


def _legacy_create_body(project_id: Any, key: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "projectId": v.require_id(project_id, "project_id"),
        "key": v.require_str(key, "key"),
    }
    normal: dict[str, Any] = {}
    for name, value in fields.items():
        snake = camel_to_snake(name)
        if snake not in LEGACY_CREATE_FIELDS:
            raise ValidationError(
                f"legacy.create_experiment() does not take a field {name!r}.",
                field=name,
                value=value,
                allowed=LEGACY_CREATE_FIELDS,
            )
        normal[snake] = value
    variant_keys = None
    if "variants" in normal:
        body["variants"] = v.variants(normal.pop("variants"))
        variant_keys = [x["key"] for x in body["variants"]]
    for name, value in normal.items():
        if name == "rollout_weights":
            checked: Any = v.rollout_weights(value, name, integers=True, variant_keys=variant_keys)
        elif name == "target_segments":
            checked = v.segments(value, name, variant_keys=variant_keys, legacy=True)
        elif name == "deployments":
            checked = v.id_list(value, name)
        elif name == "experiment_type":
            checked = v.require_choice(value, name, v.LEGACY_EXPERIMENT_TYPES)
        elif name == "evaluation_mode":
            checked = v.require_choice(value, name, v.EVALUATION_MODES)
        elif name == "sticky_bucketing":
            checked = v.require_bool(value, name)
        else:
            checked = v.require_str(value, name, allow_empty=name == "description")
        body[snake_to_camel(name)] = checked
    return body

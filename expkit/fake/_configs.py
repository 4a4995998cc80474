"""Flags and experiments of the fake: list, get, create, edit, versions and the timeline."""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Mapping
from typing import Any

from expkit._validate import DECISIONS, EVALUATION_MODES, EXPERIMENT_TYPES
from expkit.fake._base import StateBase
from expkit.fake._checks import (
    LEGACY_EXPERIMENT_TYPES,
    _check_bool,
    _check_choice,
    _check_exposure_filter,
    _check_id_list,
    _check_percentage,
    _check_segments,
    _check_str,
    _check_str_list,
    _check_unknown,
    _check_variant_fields,
    _check_weights,
    _date_only,
)
from expkit.fake._clock import _as_datetime, iso
from expkit.fake._common import KINDS, FakeError, _bad, _clone, _dumps, _not_found
from expkit.fake._records import VersionRecord
from expkit.fake._variants import _new_variant

__all__ = ["ConfigsMixin"]

# experiments delivered by Web Experimentation or Guides and Surveys cannot be edited (405)
UNEDITABLE_DELIVERY = ("web", "guides-and-surveys")
_FLAG_PATCH = (
    "name",
    "description",
    "bucketingKey",
    "bucketingSalt",
    "bucketingUnit",
    "evaluationMode",
    "rolloutPercentage",
    "targetSegments",
    "enabled",
    "archive",
    "tags",
)
_EXPERIMENT_PATCH = (
    "experimentType",
    "stickyBucketing",
    "startDate",
    "endDate",
    "exposureEvent",
    "decision",
    "decisionReason",
    "rolledOutVariant",
)
_LEGACY_PATCH = (
    "name",
    "description",
    "bucketingKey",
    "bucketingSalt",
    "bucketingUnit",
    "evaluationMode",
    "rolloutPercentage",
    "enabled",
)
_LEGACY_EXPERIMENT_PATCH = (
    "experimentType",
    "stickyBucketing",
    "startDate",
    "endDate",
    "exposureEvent",
)
_CREATE_FIELDS = (
    "projectId",
    "key",
    "name",
    "description",
    "variants",
    "bucketingKey",
    "rolloutWeights",
    "targetSegments",
    "deployments",
    "evaluationMode",
)


class ConfigsMixin(StateBase):
    """Flags and experiments: the ``/api/1/{flags,experiments}`` family."""

    # ----- configs: read -----------------------------------------------------------------

    def config_ids(
        self,
        kind: str,
        *,
        key: str | None = None,
        project_id: str | None = None,
        include_archived: bool = False,
    ) -> list[str]:
        """Ids of the configs of ``kind`` that match, newest first."""
        if kind not in KINDS:
            raise FakeError(404, f"no such resource {kind!r}")
        configs = self._configs[kind]
        out = []
        for cid in reversed(self._order[kind]):
            config = configs[cid]
            if key is not None and config.get("key") != key:
                continue
            if project_id is not None and str(config.get("projectId")) != str(project_id):
                continue
            if not include_archived and config.get("archived"):
                continue
            out.append(cid)
        return out

    def config_bytes(self, kind: str, cid: str) -> bytes:
        """The config's JSON encoding, cached until its next mutation."""
        config = self._config(kind, cid)
        raw = self._config_json.get(config["id"])
        if raw is None:
            raw = self._config_json[config["id"]] = _dumps(config)
        return raw

    def get_config(self, kind: str, cid: Any) -> dict[str, Any]:
        """A copy of one flag (``kind="flags"``) or experiment."""
        return _clone(self._config(kind, cid))

    def configs(self, kind: str, **filters: Any) -> list[dict[str, Any]]:
        """Copies of the configs of ``kind``, newest first (``key=``, ``project_id=``,
        ``include_archived=`` filter as the list endpoint does)."""
        return [self.get_config(kind, cid) for cid in self.config_ids(kind, **filters)]

    def kind_of(self, cid: Any) -> str:
        """``"flags"`` or ``"experiments"``: which family an id belongs to."""
        kind = self._kind_of.get(str(cid))
        if kind is None:
            raise _not_found("flag or experiment", str(cid))
        return kind

    def version_records(self, kind: str, cid: Any) -> list[VersionRecord]:
        """The config's versions, newest first."""
        config = self._config(kind, cid)
        return list(reversed(self._versions.get(config["id"], [])))

    def versions(self, kind: str, cid: Any) -> list[dict[str, Any]]:
        """The config's versions as wire objects, newest first."""
        return [r.to_dict() for r in self.version_records(kind, cid)]

    def version_record(self, kind: str, cid: Any, version: Any) -> VersionRecord:
        """One version of a config; 404 when it does not exist."""
        config = self._config(kind, cid)
        try:
            number = int(str(version))
        except ValueError:
            raise _not_found("version", version) from None
        records = self._versions.get(config["id"], [])
        if 1 <= number <= len(records) and records[number - 1].version == number:
            return records[number - 1]
        for record in records:
            if record.version == number:
                return record
        raise _not_found("version", version)

    def timeline(
        self, start: Any = None, end: Any = None, *, offset: int = 0, limit: int | None = None
    ) -> tuple[list[VersionRecord], int]:
        """Versions of every config created in ``[start, end)``, newest first.

        Returns the page ``[offset, offset + limit)`` of that ordering and the total count.
        """
        lo = 0
        hi = len(self._timeline)
        if start is not None:
            lo = bisect.bisect_left(self._timeline_ts, iso(_as_datetime(start, "start")))
        if end is not None:
            hi = bisect.bisect_left(self._timeline_ts, iso(_as_datetime(end, "end")))
        total = max(hi - lo, 0)
        top = hi - offset  # exclusive upper index of this page in the ascending list
        bottom = lo if limit is None else max(lo, top - limit)
        if top <= bottom:
            return [], total
        return self._timeline[bottom:top][::-1], total

    def warm(self, *, should_stop: Callable[[], bool] | None = None) -> int:
        """Encodes every version's JSON now, newest first; returns how many were encoded.

        Versions are immutable, so their encoding is cached on first use; warming moves that
        cost out of the first walk of ``/api/1/versions``. Safe to run in a background thread
        while requests are served (a race at worst encodes a version twice).
        """
        encoded = 0
        for record in self._timeline[::-1]:
            if should_stop is not None and should_stop():
                break
            if record._raw is None:
                record.raw()
                encoded += 1
        return encoded

    # ----- configs: write ----------------------------------------------------------------

    def create_config(
        self,
        kind: str,
        body: Mapping[str, Any],
        *,
        by: str | None = None,
        legacy: bool = False,
    ) -> str:
        """Creates a flag or experiment from a create body; returns its id."""
        if kind not in KINDS:
            raise FakeError(404, f"no such resource {kind!r}")
        allowed: tuple[str, ...] = _CREATE_FIELDS
        if kind == "experiments":
            allowed = (*allowed, "experimentType", "stickyBucketing")
        _check_unknown(body, allowed, f"a {kind[:-1]} create body")
        for name in ("projectId", "key"):
            if body.get(name) in (None, ""):
                raise _bad(name, "is required")
        project_id = body["projectId"]
        if isinstance(project_id, bool) or not isinstance(project_id, str | int):
            raise _bad("projectId", f"must be a string id, got {json.dumps(project_id)}")
        _check_str(body["key"], "key", nonempty=True)
        self._check_key_unique(body["key"], project_id)
        for name in ("name", "description", "bucketingKey"):
            if name in body:
                _check_str(body[name], name, nullable=name == "description")
        evaluation_mode = body.get("evaluationMode", "remote")
        _check_choice(evaluation_mode, "evaluationMode", EVALUATION_MODES)

        default_variants = (
            [{"key": "on"}] if kind == "flags" else [{"key": "control"}, {"key": "treatment"}]
        )
        raw_variants = body.get("variants", default_variants)
        if not isinstance(raw_variants, list):
            raise _bad("variants", "must be an array of variant objects")
        variants: list[dict[str, Any]] = []
        for i, raw in enumerate(raw_variants):
            if not isinstance(raw, dict):
                raise _bad(f"variants[{i}]", "must be an object")
            _check_unknown(raw, ("key", "name", "description", "payload"), f"variants[{i}]")
            if "key" not in raw:
                raise _bad(f"variants[{i}].key", "is required")
            _check_variant_fields(raw, f"variants[{i}].")
            if raw["key"] in (v["key"] for v in variants):
                raise _bad(f"variants[{i}].key", f"duplicate variant key {raw['key']!r}")
            variants.append(_new_variant(raw))
        keys = [v["key"] for v in variants]
        if "rolloutWeights" in body:
            weights = _check_weights(body["rolloutWeights"], "rolloutWeights", keys, integers=True)
        else:
            weights = {k: 1 for k in keys}
        segments = _check_segments(
            body.get("targetSegments", []), "targetSegments", keys, legacy=legacy
        )
        deployments = _check_id_list(body.get("deployments", []), "deployments")
        self._check_deployments(deployments, "deployments")
        if kind == "experiments":
            experiment_type = body.get("experimentType", "a-b-test")
            _check_choice(
                experiment_type,
                "experimentType",
                EXPERIMENT_TYPES + (LEGACY_EXPERIMENT_TYPES if legacy else ()),
            )
            sticky = body.get("stickyBucketing", False)
            _check_bool(sticky, "stickyBucketing")

        cid = self.ids.next_id()
        by = by or self.api_user
        when = self._tick()
        config: dict[str, Any] = {
            "id": cid,
            "projectId": str(project_id),
            "key": body["key"],
            "name": body.get("name") or body["key"],
            "description": body.get("description") or "",
            "enabled": False,
            "evaluationMode": evaluation_mode,
            "bucketingKey": body.get("bucketingKey") or "amplitude_id",
            "bucketingSalt": self.ids.token(8),
            "bucketingUnit": "User",
            "variants": variants,
            "rolloutPercentage": 0,
            "rolloutWeights": weights,
            "targetSegments": segments,
            "deployments": list(dict.fromkeys(deployments)),
            "tags": [],
            "archived": False,
            "deleted": False,
        }
        if kind == "experiments":
            config.update(
                {
                    "state": "planning",
                    "decision": None,
                    "decisionReason": None,
                    "rolledOutVariant": None,
                    "stickyBucketing": sticky,
                    "startDate": None,
                    "endDate": None,
                    "experimentType": experiment_type,
                    "exposureEvent": None,
                }
            )
        config.update(
            {"createdBy": by, "createdAt": when, "lastModifiedBy": by, "lastModifiedAt": when}
        )
        self._configs[kind][cid] = config
        self._order[kind].append(cid)
        self._kind_of[cid] = kind
        self._inclusions[cid] = {k: {"users": [], "cohorts": []} for k in keys}
        self._append_version(kind, cid, when, by)
        return cid

    def edit_config(
        self,
        kind: str,
        cid: Any,
        body: Mapping[str, Any],
        *,
        by: str | None = None,
        legacy: bool = False,
    ) -> None:
        """Applies a PATCH body to a flag or experiment (``targetSegments``/``tags`` replace)."""
        config = self._config(kind, cid)
        if kind == "experiments" and config.get("deliveryMethod") in UNEDITABLE_DELIVERY:
            raise FakeError(
                405,
                f"experiment {config['id']} is a {config['deliveryMethod']} experiment; editing "
                "Web Experimentation and Guides and Surveys experiments is unsupported",
            )
        if legacy:
            allowed = _LEGACY_PATCH + (_LEGACY_EXPERIMENT_PATCH if kind == "experiments" else ())
        else:
            allowed = _FLAG_PATCH + (_EXPERIMENT_PATCH if kind == "experiments" else ())
        _check_unknown(body, allowed, f"a {kind[:-1]} edit")
        changes: dict[str, Any] = {}
        for name in ("name", "bucketingKey", "bucketingSalt", "bucketingUnit"):
            if name in body:
                _check_str(body[name], name)
                changes[name] = body[name]
        if "description" in body:
            _check_str(body["description"], "description", nullable=True)
            changes["description"] = body["description"] or ""
        if "evaluationMode" in body:
            _check_choice(body["evaluationMode"], "evaluationMode", EVALUATION_MODES)
            changes["evaluationMode"] = body["evaluationMode"]
        if "rolloutPercentage" in body:
            _check_percentage(body["rolloutPercentage"], "rolloutPercentage")
            changes["rolloutPercentage"] = body["rolloutPercentage"]
        if "targetSegments" in body:
            changes["targetSegments"] = _check_segments(
                body["targetSegments"], "targetSegments", self._variant_keys(config)
            )
        if "enabled" in body:
            _check_bool(body["enabled"], "enabled")
            changes["enabled"] = body["enabled"]
        if "archive" in body:
            _check_bool(body["archive"], "archive")
            changes["archived"] = body["archive"]
        if "tags" in body:
            changes["tags"] = list(dict.fromkeys(_check_str_list(body["tags"], "tags")))
        if kind == "experiments":
            changes.update(self._experiment_changes(config, body, legacy=legacy))
        config.update(changes)
        if kind == "experiments":
            _update_experiment_state(config)
        self._commit(kind, config["id"], by)

    def _experiment_changes(
        self, config: Mapping[str, Any], body: Mapping[str, Any], *, legacy: bool
    ) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if "experimentType" in body:
            allowed = EXPERIMENT_TYPES + (LEGACY_EXPERIMENT_TYPES if legacy else ())
            _check_choice(body["experimentType"], "experimentType", allowed)
            changes["experimentType"] = body["experimentType"]
        if "stickyBucketing" in body:
            _check_bool(body["stickyBucketing"], "stickyBucketing")
            changes["stickyBucketing"] = body["stickyBucketing"]
        for name in ("startDate", "endDate"):
            if name in body:
                changes[name] = _date_only(body[name], name)
        if "exposureEvent" in body:
            event = body["exposureEvent"]
            if event is not None:
                if not isinstance(event, dict):
                    raise _bad("exposureEvent", "must be an object or null")
                _check_str(event.get("event_type"), "exposureEvent.event_type", nonempty=True)
                if not isinstance(event.get("filters"), list):
                    raise _bad("exposureEvent.filters", "is required: an array of filters")
                for i, item in enumerate(event["filters"]):
                    _check_exposure_filter(item, f"exposureEvent.filters[{i}]")
            changes["exposureEvent"] = _clone(event)
        if "decision" in body:
            if body["decision"] is not None:
                _check_choice(body["decision"], "decision", DECISIONS)
            changes["decision"] = body["decision"]
        for name in ("decisionReason", "rolledOutVariant"):
            if name in body:
                _check_str(body[name], name, nullable=True)
                changes[name] = body[name]
        return changes

    def set_rollout_weights(
        self, kind: str, cid: Any, weights: Any, *, by: str | None = None
    ) -> None:
        """Replaces the everyone-else weights (the legacy ``rollout-weights`` endpoint)."""
        config = self._config(kind, cid)
        checked = _check_weights(
            weights, "rolloutWeights", self._variant_keys(config), integers=False
        )
        config["rolloutWeights"] = checked
        self._commit(kind, config["id"], by)

    def set_enabled(self, kind: str, cid: Any, enabled: bool, *, by: str | None = None) -> None:
        """Turns a config on or off (the legacy ``activate``/``deactivate`` endpoints)."""
        config = self._config(kind, cid)
        config["enabled"] = enabled
        if kind == "experiments":
            _update_experiment_state(config)
        self._commit(kind, config["id"], by)


def _update_experiment_state(config: dict[str, Any]) -> None:
    # state is read-only on the wire; derive it the way the UI moves it
    if config.get("decision") in DECISIONS and config["decision"] != "continue-running":
        config["state"] = "decision-made"
    elif config.get("enabled") and config.get("state") in (None, "planning"):
        config["state"] = "running"

"""Groups of the fake: mutex groups and holdouts, and the parent dependencies they set."""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from typing import Any

from expkit._validate import EVALUATION_MODES
from expkit.fake._base import StateBase
from expkit.fake._checks import (
    MAX_SLOTS,
    _check_choice,
    _check_group_edit,
    _check_id_list,
    _check_integer_in,
    _check_one_slot_each,
    _check_str,
    _check_str_list,
    _check_unknown,
)
from expkit.fake._common import FakeError, _bad, _clone, _not_found

__all__ = ["HOLDOUT_PASS_VARIANT", "GroupsMixin"]


class GroupsMixin(StateBase):
    """Mutex groups (``/api/1/mutexes``) and holdouts (``/api/1/holdouts``)."""

    # ----- mutex groups ------------------------------------------------------------------

    def mutex_list(self) -> list[dict[str, Any]]:
        """Every mutex group, in creation order."""
        return _clone(list(self._mutexes.values()))

    def mutex(self, mid: Any) -> dict[str, Any]:
        """One mutex group."""
        return _clone(self._group(self._mutexes, "mutex", mid))

    def _group(self, store: dict[str, dict[str, Any]], what: str, gid: Any) -> dict[str, Any]:
        group = store.get(str(gid))
        if group is None:
            raise _not_found(what, str(gid))
        return group

    def create_mutex(self, body: Mapping[str, Any], *, by: str | None = None) -> str:
        """Creates a mutex group; experiments in slot N get a parent dependency on ``slot-N``."""
        _check_unknown(
            body,
            (
                "projectId",
                "name",
                "key",
                "description",
                "evaluationMode",
                "bucketingKey",
                "bucketingSalt",
                "slots",
            ),
            "a mutex create body",
        )
        self._check_group_common(body)
        slots = body.get("slots")
        if not isinstance(slots, list) or not slots:
            raise _bad("slots", "is required: an array of 1 to 20 slots")
        if len(slots) > MAX_SLOTS:
            raise _bad("slots", f"{len(slots)} slots given; at most {MAX_SLOTS}")
        built: list[dict[str, Any]] = []
        for i, slot in enumerate(slots):
            where = f"slots[{i}]"
            if not isinstance(slot, dict):
                raise _bad(where, "must be an object")
            _check_unknown(
                slot, ("percentage", "experiments", "holdouts", "individuals", "name"), where
            )
            pct = slot.get("percentage")
            _check_integer_in(pct, f"{where}.percentage", 1, 100)
            built.append(
                {
                    "name": f"SLOT {i + 1}",
                    "index": i + 1,
                    "variantKey": f"slot-{i + 1}",
                    "percentage": pct,
                    "experiments": self._experiment_refs(
                        slot.get("experiments", []), f"{where}.experiments"
                    ),
                    "holdouts": self._holdout_refs(slot.get("holdouts", []), f"{where}.holdouts"),
                    "individuals": _check_str_list(
                        slot.get("individuals", []), f"{where}.individuals"
                    ),
                    "cohorts": [],
                }
            )
        _check_one_slot_each(built, "slots[{slot}].experiments[{item}]")
        total = sum(s["percentage"] for s in built)
        if total != 100:
            raise _bad("slots", f"slot percentages must sum to 100, got {total}")
        key = body.get("key") or f"mutex-{self.ids.token(8, string.ascii_lowercase)}"
        self._check_key_unique(key, body["projectId"])
        mid = self.ids.next_id()
        by = by or self.api_user
        when = self._tick()
        self._mutexes[mid] = {
            "id": mid,
            "projectId": body["projectId"],
            "name": body["name"],
            "key": key,
            "description": body.get("description"),
            "evaluationMode": body.get("evaluationMode", "remote"),
            "bucketingKey": body.get("bucketingKey", "amplitude_id"),
            "bucketingSalt": body.get("bucketingSalt") or self.ids.token(8),
            "slots": built,
            "deleted": False,
            "createdBy": by,
            "createdAt": when,
            "lastModifiedBy": by,
            "lastModifiedAt": when,
        }
        for slot in built:
            for eid in slot["experiments"]:
                self._set_parent(eid, mid, [slot["variantKey"]], by)
        return mid

    def edit_mutex(self, mid: Any, body: Mapping[str, Any], *, by: str | None = None) -> None:
        """Renames or archives a mutex group (archiving ignores the other fields)."""
        group = self._group(self._mutexes, "mutex", mid)
        _check_unknown(body, ("name", "description", "archive"), "a mutex edit")
        _check_group_edit(body)
        self._edit_group(group, body, by, slots=True)

    def edit_mutex_slot(
        self, mid: Any, index: Any, body: Mapping[str, Any], *, by: str | None = None
    ) -> None:
        """Replaces the listed arrays of slot ``index`` (1-based) and the parent dependencies."""
        group = self._group(self._mutexes, "mutex", mid)
        try:
            number = int(str(index))
        except ValueError:
            raise _bad("slotIndex", f"must be an integer, got {index!r}") from None
        slots = group["slots"]
        slot = next((s for s in slots if s.get("index") == number), None)
        if slot is None:
            raise FakeError(404, f"mutex {group['id']} has no slot {number} (slots 1-{len(slots)})")
        _check_unknown(body, ("experiments", "holdouts", "individuals"), "a mutex slot edit")
        by = by or self.api_user
        holdouts = self._holdout_refs(body["holdouts"], "holdouts") if "holdouts" in body else None
        individuals = (
            _check_str_list(body["individuals"], "individuals") if "individuals" in body else None
        )
        if "experiments" in body:
            new = self._experiment_refs(body["experiments"], "experiments")
            _check_one_slot_each([{"experiments": new}], "experiments[{item}]")
            for eid in slot["experiments"]:
                if eid not in new:
                    self._set_parent(eid, group["id"], None, by)
            for eid in new:
                if eid not in slot["experiments"]:
                    # an experiment is in one slot of a group: adding it here moves it
                    for other in slots:
                        if other is not slot and eid in other["experiments"]:
                            other["experiments"] = [e for e in other["experiments"] if e != eid]
                    self._set_parent(eid, group["id"], [slot["variantKey"]], by)
            slot["experiments"] = new
        if holdouts is not None:
            slot["holdouts"] = holdouts
        if individuals is not None:
            slot["individuals"] = individuals
        self._touch_group(group, by)

    # ----- holdouts ----------------------------------------------------------------------

    def holdout_list(self) -> list[dict[str, Any]]:
        """Every holdout group, in creation order."""
        return _clone(list(self._holdouts.values()))

    def holdout(self, hid: Any) -> dict[str, Any]:
        """One holdout group."""
        return _clone(self._group(self._holdouts, "holdout", hid))

    def create_holdout(self, body: Mapping[str, Any], *, by: str | None = None) -> str:
        """Creates a holdout group (``holdoutPercentage`` an integer from 1 to 99)."""
        _check_unknown(
            body,
            (
                "projectId",
                "name",
                "key",
                "description",
                "holdoutPercentage",
                "evaluationMode",
                "bucketingKey",
                "experiments",
                "individualInclusion",
                "individualExclusion",
            ),
            "a holdout create body",
        )
        self._check_group_common(body)
        pct = body.get("holdoutPercentage")
        if pct is None:
            raise _bad("holdoutPercentage", "is required")
        _check_integer_in(pct, "holdoutPercentage", 1, 99)
        experiments = self._experiment_refs(body.get("experiments", []), "experiments")
        inclusion = _check_str_list(body.get("individualInclusion", []), "individualInclusion")
        exclusion = _check_str_list(body.get("individualExclusion", []), "individualExclusion")
        key = body.get("key") or f"holdout-{self.ids.token(8, string.ascii_lowercase)}"
        self._check_key_unique(key, body["projectId"])
        hid = self.ids.next_id()
        by = by or self.api_user
        when = self._tick()
        self._holdouts[hid] = {
            "id": hid,
            "projectId": body["projectId"],
            "name": body["name"],
            "key": key,
            "description": body.get("description"),
            "holdoutPercentage": pct,
            "evaluationMode": body.get("evaluationMode", "remote"),
            "bucketingKey": body.get("bucketingKey", "amplitude_id"),
            "bucketingSalt": self.ids.token(8),
            "variantName": "on",
            "experiments": experiments,
            "individualInclusion": inclusion,
            "individualExclusion": exclusion,
            "deleted": False,
            "createdBy": by,
            "lastModifiedBy": by,
            "createdAt": when,
            "lastModifiedAt": when,
        }
        for eid in experiments:
            self._set_parent(eid, hid, [HOLDOUT_PASS_VARIANT], by)
        return hid

    def edit_holdout(self, hid: Any, body: Mapping[str, Any], *, by: str | None = None) -> None:
        """Edits a holdout group; ``experiments`` and the individual lists replace."""
        group = self._group(self._holdouts, "holdout", hid)
        _check_unknown(
            body,
            (
                "name",
                "description",
                "experiments",
                "individualInclusion",
                "individualExclusion",
                "archive",
            ),
            "a holdout edit",
        )
        by = by or self.api_user
        if not _check_group_edit(body):
            new = (
                self._experiment_refs(body["experiments"], "experiments")
                if "experiments" in body
                else None
            )
            lists = {
                name: _check_str_list(body[name], name)
                for name in ("individualInclusion", "individualExclusion")
                if name in body
            }
            if new is not None:
                for eid in group["experiments"]:
                    if eid not in new:
                        self._set_parent(eid, group["id"], None, by)
                for eid in new:
                    if eid not in group["experiments"]:
                        self._set_parent(eid, group["id"], [HOLDOUT_PASS_VARIANT], by)
                group["experiments"] = new
            group.update(lists)
        self._edit_group(group, body, by, slots=False)

    # ----- group helpers -----------------------------------------------------------------

    def _check_group_common(self, body: Mapping[str, Any]) -> None:
        project_id = body.get("projectId")
        if project_id in (None, ""):
            raise _bad("projectId", "is required")
        if isinstance(project_id, bool) or not isinstance(project_id, int | str):
            raise _bad("projectId", f"must be a project id, got {json.dumps(project_id)}")
        if body.get("name") in (None, ""):
            raise _bad("name", "is required")
        _check_str(body["name"], "name")
        if "key" in body and body["key"] is not None:
            _check_str(body["key"], "key", nonempty=True)
        if "description" in body:
            _check_str(body["description"], "description", nullable=True)
        if "evaluationMode" in body:
            _check_choice(body["evaluationMode"], "evaluationMode", EVALUATION_MODES)
        if "bucketingKey" in body:
            _check_str(body["bucketingKey"], "bucketingKey", nonempty=True)

    def _experiment_refs(self, value: Any, field: str) -> list[Any]:
        ids = _check_id_list(value, field)
        for i, eid in enumerate(ids):
            if eid not in self._configs["experiments"]:
                raise _bad(f"{field}[{i}]", f"no experiment with id {eid!r}")
        # the docs' examples show numeric ids in group objects
        return [int(e) if e.isdigit() else e for e in ids]

    def _holdout_refs(self, value: Any, field: str) -> list[Any]:
        ids = _check_id_list(value, field)
        for i, hid in enumerate(ids):
            if hid not in self._holdouts:
                raise _bad(f"{field}[{i}]", f"no holdout with id {hid!r}")
        return [int(h) if h.isdigit() else h for h in ids]

    def _edit_group(
        self, group: dict[str, Any], body: Mapping[str, Any], by: str | None, *, slots: bool
    ) -> None:
        """Applies a group edit already checked by :func:`_check_group_edit`."""
        by = by or self.api_user
        if body.get("archive") is True:
            group["deleted"] = True
            for eid in self._children(group, slots=slots):
                self._set_parent(eid, group["id"], None, by)
            self._touch_group(group, by)
            return
        if "name" in body:
            group["name"] = body["name"]
        if "description" in body:
            group["description"] = body["description"]
        if body.get("archive") is False:
            group["deleted"] = False
        self._touch_group(group, by)

    def _children(self, group: Mapping[str, Any], *, slots: bool) -> list[Any]:
        if slots:
            return [e for s in group.get("slots") or [] for e in s.get("experiments") or []]
        return list(group.get("experiments") or [])

    def _touch_group(self, group: dict[str, Any], by: str) -> None:
        when = self._tick()
        group["lastModifiedAt"] = when
        group["lastModifiedBy"] = by

    def _set_parent(self, eid: Any, group_id: str, variants: list[str] | None, by: str) -> None:
        """Adds (or with ``variants=None`` removes) a parent dependency of an experiment."""
        cid = str(eid)
        config = self._configs["experiments"].get(cid)
        if config is None:
            return
        deps = _clone(config.get("parentDependencies")) or {"flags": {}, "operator": "all"}
        flags = deps.setdefault("flags", {})
        if variants is None:
            if group_id not in flags:
                return
            del flags[group_id]
        else:
            flags[group_id] = list(variants)
        if flags:
            config["parentDependencies"] = deps
        else:
            config.pop("parentDependencies", None)
        self._commit("experiments", cid, by)


# Experiments in a holdout run for users outside it; the docs do not name the variant a
# holdout dependency allows, so the fake records "off" (not held out).
HOLDOUT_PASS_VARIANT = "off"

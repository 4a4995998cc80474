"""Variants and inclusions of the fake's configs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from expkit._validate import MAX_BULK_DELETE, MAX_INCLUSIONS
from expkit.fake._base import StateBase
from expkit.fake._checks import (
    _check_str_list,
    _check_unknown,
    _check_variant_fields,
    _check_weight,
)
from expkit.fake._common import FakeError, _bad, _clone

__all__ = ["VariantsMixin"]


class VariantsMixin(StateBase):
    """Variants and their user and cohort inclusions: ``.../variants/...``."""

    def variants(self, kind: str, cid: Any) -> list[dict[str, Any]]:
        """The config's variants with their ``rolloutWeight``."""
        config = self._config(kind, cid)
        weights = config.get("rolloutWeights") or {}
        return [_variant_view(v, weights) for v in config.get("variants") or []]

    def variant(self, kind: str, cid: Any, variant_key: str) -> dict[str, Any]:
        """One variant with its ``rolloutWeight``."""
        config = self._config(kind, cid)
        variant = config["variants"][self._variant_index(config, variant_key)]
        return _variant_view(variant, config.get("rolloutWeights") or {})

    def _inclusion_lists(self, kind: str, cid: Any, variant_key: str) -> dict[str, list[str]]:
        config = self._config(kind, cid)
        self._variant_index(config, variant_key)
        per_variant = self._inclusions.setdefault(config["id"], {})
        return per_variant.setdefault(variant_key, {"users": [], "cohorts": []})

    def users(self, kind: str, cid: Any, variant_key: str) -> list[str]:
        """The variant's individual inclusions, in order."""
        return list(self._inclusion_lists(kind, cid, variant_key)["users"])

    def cohorts(self, kind: str, cid: Any, variant_key: str) -> list[str]:
        """The variant's cohort inclusions, in order."""
        return list(self._inclusion_lists(kind, cid, variant_key)["cohorts"])

    # ----- variants ----------------------------------------------------------------------

    def create_variant(
        self, kind: str, cid: Any, body: Mapping[str, Any], *, by: str | None = None
    ) -> None:
        """Adds a variant (``key`` required); ``rolloutWeight`` sets its everyone-else weight."""
        config = self._config(kind, cid)
        _check_unknown(
            body, ("key", "name", "description", "payload", "rolloutWeight"), "a variant"
        )
        if "key" not in body:
            raise _bad("key", "is required")
        _check_variant_fields(body, "")
        if body["key"] in self._variant_keys(config):
            raise _bad("key", f"variant {body['key']!r} already exists")
        if "rolloutWeight" in body and body["rolloutWeight"] is not None:
            _check_weight(body["rolloutWeight"])
        config.setdefault("variants", []).append(_new_variant(body))
        if body.get("rolloutWeight") is not None:
            config.setdefault("rolloutWeights", {})[body["key"]] = body["rolloutWeight"]
        self._inclusions.setdefault(config["id"], {})[body["key"]] = {"users": [], "cohorts": []}
        self._commit(kind, config["id"], by)

    def edit_variant(
        self,
        kind: str,
        cid: Any,
        variant_key: str,
        body: Mapping[str, Any],
        *,
        by: str | None = None,
    ) -> None:
        """Edits a variant; a new ``key`` renames it everywhere (weights, segments, inclusions)."""
        config = self._config(kind, cid)
        index = self._variant_index(config, variant_key)
        _check_unknown(
            body, ("key", "name", "description", "payload", "rolloutWeight"), "a variant edit"
        )
        _check_variant_fields(body, "")
        new_key = body.get("key", variant_key)
        if new_key != variant_key and new_key in self._variant_keys(config):
            raise _bad("key", f"variant {new_key!r} already exists")
        if "rolloutWeight" in body and body["rolloutWeight"] is not None:
            _check_weight(body["rolloutWeight"])
        variant = config["variants"][index]
        for name in ("name", "description"):
            if name in body:
                variant[name] = body[name] or ""
        if "payload" in body:
            variant["payload"] = _clone(body["payload"])
        if new_key != variant_key:
            variant["key"] = new_key
            _rename_key(config.get("rolloutWeights"), variant_key, new_key)
            for segment in config.get("targetSegments") or []:
                _rename_key(segment.get("rolloutWeights"), variant_key, new_key)
            _rename_key(self._inclusions.get(config["id"]), variant_key, new_key)
            if config.get("rolledOutVariant") == variant_key:
                config["rolledOutVariant"] = new_key
        if body.get("rolloutWeight") is not None:
            config.setdefault("rolloutWeights", {})[new_key] = body["rolloutWeight"]
        self._commit(kind, config["id"], by)

    def remove_variant(
        self, kind: str, cid: Any, variant_key: str, *, by: str | None = None
    ) -> None:
        """Removes a variant, its weights and its inclusions."""
        config = self._config(kind, cid)
        index = self._variant_index(config, variant_key)
        del config["variants"][index]
        (config.get("rolloutWeights") or {}).pop(variant_key, None)
        for segment in config.get("targetSegments") or []:
            (segment.get("rolloutWeights") or {}).pop(variant_key, None)
        self._inclusions.get(config["id"], {}).pop(variant_key, None)
        self._commit(kind, config["id"], by)

    # ----- inclusions --------------------------------------------------------------------

    def add_inclusions(
        self,
        kind: str,
        cid: Any,
        variant_key: str,
        values: Any,
        *,
        cohorts: bool = False,
        by: str | None = None,
    ) -> None:
        """Appends users (or cohorts) to a variant, skipping ones already there; 400 past 2,000."""
        lists = self._inclusion_lists(kind, cid, variant_key)
        items = _check_str_list(values, "inclusions")
        target = lists["cohorts" if cohorts else "users"]
        present = set(target)
        fresh = [v for v in dict.fromkeys(items) if v not in present]
        if len(target) + len(fresh) > MAX_INCLUSIONS:
            raise _bad(
                "inclusions",
                f"variant {variant_key!r} would have {len(target) + len(fresh)} inclusions; "
                f"the limit is {MAX_INCLUSIONS} per variant (use a cohort)",
            )
        target.extend(fresh)
        self._commit(kind, str(cid), by)

    def remove_user_at(
        self, kind: str, cid: Any, variant_key: str, index: Any, *, by: str | None = None
    ) -> None:
        """Removes the user at a zero-based position of the variant's inclusion list."""
        users = self._inclusion_lists(kind, cid, variant_key)["users"]
        try:
            position = int(str(index))
        except ValueError:
            raise _bad("userIndex", f"must be a zero-based integer, got {index!r}") from None
        if not 0 <= position < len(users):
            raise FakeError(
                404,
                f"userIndex {position} is out of range: variant {variant_key!r} has "
                f"{len(users)} user inclusions",
            )
        del users[position]
        self._commit(kind, str(cid), by)

    def remove_all_users(
        self, kind: str, cid: Any, variant_key: str, *, by: str | None = None
    ) -> None:
        """Empties the variant's individual inclusions."""
        self._inclusion_lists(kind, cid, variant_key)["users"].clear()
        self._commit(kind, str(cid), by)

    def bulk_remove(
        self,
        kind: str,
        cid: Any,
        variant_key: str,
        values: Any,
        *,
        cohorts: bool = False,
        by: str | None = None,
    ) -> None:
        """Removes up to 100 users (or cohorts) from a variant; values not present are ignored."""
        lists = self._inclusion_lists(kind, cid, variant_key)
        items = _check_str_list(values, "users")
        if len(items) > MAX_BULK_DELETE:
            raise _bad(
                "users",
                f"{len(items)} values given; bulk deletes are limited to {MAX_BULK_DELETE} "
                "per request",
            )
        drop = set(items)
        name = "cohorts" if cohorts else "users"
        lists[name] = [v for v in lists[name] if v not in drop]
        self._commit(kind, str(cid), by)


def _new_variant(raw: Mapping[str, Any]) -> dict[str, Any]:
    variant: dict[str, Any] = {"key": raw["key"]}
    for name in ("name", "description"):
        variant[name] = raw.get(name) or ""
    variant["payload"] = _clone(raw.get("payload"))
    return variant


def _variant_view(variant: Mapping[str, Any], weights: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "key": variant["key"],
        "name": variant.get("name") or "",
        "payload": _clone(variant.get("payload")),
        "description": variant.get("description") or "",
        "rolloutWeight": weights.get(variant["key"], 0),
    }


def _rename_key(mapping: dict[str, Any] | None, old: str, new: str) -> None:
    if mapping is None or old not in mapping:
        return
    items = [(new if k == old else k, v) for k, v in mapping.items()]
    mapping.clear()
    mapping.update(items)

"""Server-side checks of request bodies: each raises a 400 :class:`FakeError` naming the field.

The allowed values (operators, modes, types, limits, the deployment label pattern) are the
client's own, imported from :mod:`expkit._validate`, so the fake and the client agree by
construction; only the error form differs (a 400 with a camelCase wire field here, a
``ValidationError`` with a snake_case path there).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from expkit import _validate as client_rules
from expkit._validate import CONDITION_OPS, EXPOSURE_FILTER_OPS
from expkit.errors import ValidationError
from expkit.fake._clock import _as_datetime
from expkit.fake._common import _bad, _clone

_T = TypeVar("_T")
MAX_SLOTS = 20
# the fake's legacy types exclude "multi-arm-bandit": that one is current, not legacy
LEGACY_EXPERIMENT_TYPES = ("hypothesis-testing", "no-harm")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_str(value: Any, field: str, *, nullable: bool = False, nonempty: bool = False) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str):
        raise _bad(field, f"must be a string, got {json.dumps(value)}")
    if nonempty and not value.strip():
        raise _bad(field, "must be a non-empty string")


def _check_bool(value: Any, field: str) -> None:
    if not isinstance(value, bool):
        raise _bad(field, f"must be a boolean, got {json.dumps(value)}")


def _check_str_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list):
        raise _bad(field, f"must be an array of strings, got {json.dumps(value)}")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _bad(f"{field}[{i}]", f"must be a string, got {json.dumps(item)}")
    return list(value)


def _check_choice(value: Any, field: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise _bad(field, f"{json.dumps(value)} is not one of {', '.join(allowed)}")


def _client_rule(rule: Callable[..., _T], value: Any, field: str, *args: Any) -> _T:
    """Runs the client's own check of a field (``expkit._validate``): what the client refuses
    before sending, the fake refuses with a 400 naming the wire field."""
    try:
        return rule(value, field, *args)
    except ValidationError as exc:
        message = str(exc)
        if message.startswith(f"{field} "):
            message = message[len(field) + 1 :]
        raise _bad(field, message) from None


def _check_percentage(value: Any, field: str) -> None:
    _client_rule(client_rules.percentage, value, field)


def _check_integer_in(value: Any, field: str, low: int, high: int) -> None:
    _client_rule(client_rules.integer_in, value, field, low, high)


def _check_id_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list):
        raise _bad(field, f"must be an array of ids, got {json.dumps(value)}")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise _bad(
                f"{field}[{i}]", f"must be an id (string or integer), got {json.dumps(item)}"
            )
        out.append(str(item))
    return out


def _check_weights(
    value: Any, field: str, variant_keys: Iterable[str], *, integers: bool
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(
            field, f"must be an object mapping variant key to weight, got {json.dumps(value)}"
        )
    keys = set(variant_keys)
    for name, weight in value.items():
        if name not in keys:
            raise _bad(
                f"{field}.{name}",
                f"names no variant of this config (variants: {', '.join(sorted(keys)) or 'none'})",
            )
        if integers and (not isinstance(weight, int) or isinstance(weight, bool) or weight < 0):
            raise _bad(
                f"{field}.{name}", f"must be a non-negative integer, got {json.dumps(weight)}"
            )
        if not integers and (not _is_number(weight) or weight < 0):
            raise _bad(
                f"{field}.{name}", f"must be a non-negative number, got {json.dumps(weight)}"
            )
    return dict(value)


def _check_segments(
    value: Any, field: str, variant_keys: Iterable[str], *, legacy: bool = False
) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _bad(field, f"must be an array of segments, got {json.dumps(value)}")
    keys = list(variant_keys)
    out = []
    for i, segment in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(segment, dict):
            raise _bad(where, "must be an object")
        required = (
            ("conditions",) if legacy else ("name", "conditions", "percentage", "rolloutWeights")
        )
        for name in required:
            if name not in segment:
                raise _bad(f"{where}.{name}", "is required")
        if "name" in segment:
            _check_str(segment["name"], f"{where}.name")
        if "percentage" in segment:
            _check_percentage(segment["percentage"], f"{where}.percentage")
        if "rolloutWeights" in segment:
            _check_weights(
                segment["rolloutWeights"], f"{where}.rolloutWeights", keys, integers=False
            )
        if "bucketingKey" in segment:
            _check_str(segment["bucketingKey"], f"{where}.bucketingKey")
        conditions = segment["conditions"]
        if not isinstance(conditions, list):
            raise _bad(f"{where}.conditions", "must be an array of conditions")
        for j, condition in enumerate(conditions):
            cw = f"{where}.conditions[{j}]"
            if not isinstance(condition, dict):
                raise _bad(cw, "must be an object")
            for name in ("type", "prop", "op", "values"):
                if name not in condition:
                    raise _bad(f"{cw}.{name}", "is required")
            if condition["type"] != "property":
                raise _bad(f"{cw}.type", f'must be "property", got {json.dumps(condition["type"])}')
            _check_str(condition["prop"], f"{cw}.prop", nonempty=True)
            _check_choice(condition["op"], f"{cw}.op", CONDITION_OPS)
            _check_str_list(condition["values"], f"{cw}.values")
        out.append(_clone(segment))
    return out


def _check_variant_fields(body: Mapping[str, Any], where: str) -> None:
    for name in ("name", "description"):
        if name in body:
            _check_str(body[name], f"{where}{name}", nullable=True)
    if "key" in body:
        _check_str(body["key"], f"{where}key", nonempty=True)


def _check_unknown(body: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
    allowed = tuple(allowed)
    for name in body:
        if name not in allowed:
            raise _bad(name, f"is not a field of {what} (allowed: {', '.join(allowed)})")


def _date_only(value: Any, field: str) -> str | None:
    if value is None:
        return None
    _check_str(value, field)
    text: str = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text
    return _as_datetime(text, field).date().isoformat()


def _check_one_slot_each(slots: list[dict[str, Any]], where: str) -> None:
    """400 when an experiment is listed twice across ``slots`` (``where`` is formatted with
    ``slot`` and ``item`` indexes to name the repeat)."""
    seen: dict[Any, int] = {}
    for i, slot in enumerate(slots):
        for j, eid in enumerate(slot["experiments"]):
            if eid in seen:
                raise _bad(
                    where.format(slot=i, item=j),
                    f"experiment {eid} is listed twice (also in slot {seen[eid] + 1}); "
                    "an experiment can be in one slot of a mutex group only",
                )
            seen[eid] = i


def _check_exposure_filter(item: Any, where: str) -> None:
    """An exposure event filter: ``subprop_key`` (string or null), ``subprop_op`` (no set
    ops), ``subprop_type`` (string) and ``subprop_value`` (strings) are required."""
    if not isinstance(item, dict):
        raise _bad(
            where,
            "must be an object {group_type?, subprop_key, subprop_op, subprop_type, "
            f"subprop_value}}, got {json.dumps(item)}",
        )
    for name in ("subprop_key", "subprop_op", "subprop_type", "subprop_value"):
        if name not in item:
            raise _bad(f"{where}.{name}", "is required")
    _check_str(item["subprop_key"], f"{where}.subprop_key", nullable=True)
    _check_choice(item["subprop_op"], f"{where}.subprop_op", EXPOSURE_FILTER_OPS)
    _check_str(item["subprop_type"], f"{where}.subprop_type", nonempty=True)
    _check_str_list(item["subprop_value"], f"{where}.subprop_value")
    if "group_type" in item:
        _check_str(item["group_type"], f"{where}.group_type", nullable=True)


def _check_group_edit(body: Mapping[str, Any]) -> bool:
    """Checks a mutex or holdout edit's ``archive``, ``name`` and ``description``; returns
    whether it archives (then the other fields are ignored, so not checked)."""
    if "archive" in body:
        _check_bool(body["archive"], "archive")
    if body.get("archive") is True:
        return True
    if "name" in body:
        _check_str(body["name"], "name", nonempty=True)
    if "description" in body:
        _check_str(body["description"], "description", nullable=True)
    return False


def _check_project_id(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad(
            "projectId", f"must be a project id (string or integer), got {json.dumps(value)}"
        )


def _check_weight(value: Any) -> None:
    _client_rule(client_rules.rollout_weight, value, "rolloutWeight")


def _check_label(value: Any) -> None:
    _check_str(value, "label", nonempty=True)
    _client_rule(client_rules.deployment_label, value, "label")

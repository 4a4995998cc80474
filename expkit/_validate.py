"""Request bodies checked before anything is sent.

Every check raises ``expkit.errors.ValidationError`` naming the field (a Python path such as
``target_segments[0].conditions[1].op``), the bad value and what is allowed. The builders
return wire-format (camelCase) bodies; nested objects may be given in snake_case or camelCase.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from expkit._wire import (
    camel_to_snake,
    segment_to_wire,
    slot_to_wire,
    snake_to_camel,
    variant_to_wire,
)
from expkit.errors import ValidationError

__all__ = [
    "CONDITION_OPS",
    "DECISIONS",
    "DEPLOYMENT_TYPES",
    "EVALUATION_MODES",
    "EXPERIMENT_TYPES",
    "MAX_INCLUSIONS",
    "config_create_body",
    "config_edit_body",
    "variant_body",
]

CONDITION_OPS = (
    "is",
    "is not",
    "contains",
    "does not contain",
    "less",
    "less or equal",
    "greater",
    "greater or equal",
    "set is",
    "set is not",
    "set contains",
    "set does not contain",
    "glob match",
    "glob does not match",
)
EXPOSURE_FILTER_OPS = tuple(op for op in CONDITION_OPS if not op.startswith("set "))
LEGACY_CONDITION_OPS = EXPOSURE_FILTER_OPS
LEGACY_EXPERIMENT_TYPES = ("hypothesis-testing", "no-harm", "multi-arm-bandit")
EVALUATION_MODES = ("local", "remote")
DEPLOYMENT_TYPES = ("client", "server")
EXPERIMENT_TYPES = ("a-b-test", "multi-arm-bandit")
DECISIONS = ("rollout", "rollback", "continue-running")
MAX_INCLUSIONS = 2000
MAX_BULK_DELETE = 100
DEPLOYMENT_LABEL = re.compile(r"^[A-Za-z0-9_-]+$")
# path segments that URL normalisation removes (RFC 3986 §5.2.4), with the empty one
DOT_SEGMENTS = ("", ".", "..")

# "not given" (Ellipsis, as in edit_variant(payload=...)); None is a valid JSON payload
_NOTHING: Any = ...

FLAG_EDIT_FIELDS = (
    "name",
    "description",
    "bucketing_key",
    "bucketing_salt",
    "bucketing_unit",
    "evaluation_mode",
    "rollout_percentage",
    "target_segments",
    "enabled",
    "archive",
    "tags",
)
EXPERIMENT_EDIT_FIELDS = (
    *FLAG_EDIT_FIELDS,
    "experiment_type",
    "sticky_bucketing",
    "start_date",
    "end_date",
    "exposure_event",
    "decision",
    "decision_reason",
    "rolled_out_variant",
)
FLAG_CREATE_FIELDS = (
    "name",
    "description",
    "variants",
    "bucketing_key",
    "rollout_weights",
    "target_segments",
    "deployments",
    "evaluation_mode",
)
EXPERIMENT_CREATE_FIELDS = (*FLAG_CREATE_FIELDS, "experiment_type")
# fields the API documents as nullable: None is sent as JSON null
_NULLABLE = frozenset(
    {"end_date", "exposure_event", "decision", "decision_reason", "rolled_out_variant"}
)


def _fail(message: str, field: str, value: Any, allowed: Any) -> ValidationError:
    return ValidationError(message, field=field, value=value, allowed=allowed)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _require_list(value: Any, field: str, what: str, allowed: str) -> None:
    """Raises unless ``value`` is an iterable other than a string, bytes or a mapping."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise _fail(f"{field} must be {what}, got {_short(value)}.", field, value, allowed)


def _require_dict(value: Any, field: str, allowed: str) -> None:
    """Raises unless ``value`` is a mapping."""
    if not isinstance(value, Mapping):
        raise _fail(f"{field} must be a dict, got {_short(value)}.", field, value, allowed)


def require_id(value: Any, field: str = "id") -> str:
    """An id as a non-empty string (ints are accepted and converted)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    # "." and ".." would be dropped from the URL path, sending the request to the parent
    if isinstance(value, str) and value.strip() not in DOT_SEGMENTS and "/" not in value:
        return value.strip()
    raise _fail(
        f"{field} must be a non-empty id string without '/' and other than '.' or '..', "
        f"got {_short(value)}.",
        field,
        value,
        "a string such as '123456' (ints are accepted)",
    )


def require_str(value: Any, field: str, *, allow_empty: bool = False) -> str:
    """``value`` if it is a string (non-empty unless ``allow_empty``)."""
    if isinstance(value, str) and (allow_empty or value.strip()):
        return value
    what = "a string" if allow_empty else "a non-empty string"
    raise _fail(f"{field} must be {what}, got {_short(value)}.", field, value, what)


def require_bool(value: Any, field: str) -> bool:
    """``value`` if it is a bool."""
    if isinstance(value, bool):
        return value
    raise _fail(f"{field} must be True or False, got {_short(value)}.", field, value, (True, False))


def require_choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``."""
    if isinstance(value, str) and value in choices:
        return value
    raise _fail(
        f"{field} {_short(value)} is not one of the accepted values.", field, value, choices
    )


CONFIG_KINDS = ("flags", "experiments")


def config_kind(value: Any) -> str:
    """``value`` if it names a config resource: ``"flags"`` or ``"experiments"``."""
    if isinstance(value, str) and value in CONFIG_KINDS:
        return value
    raise _fail(
        f"kind must be 'flags' or 'experiments', got {value!r}.", "kind", value, CONFIG_KINDS
    )


def string_list(value: Any, field: str, *, allow_empty: bool = True) -> list[str]:
    """A list of strings from a list, tuple or other non-string iterable of strings."""
    _require_list(value, field, "a list of strings", "a list of strings")
    items = list(value)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise _fail(
                f"{field}[{i}] must be a string, got {_short(item)}.",
                f"{field}[{i}]",
                item,
                "a string",
            )
    if not allow_empty and not items:
        raise _fail(f"{field} must not be empty.", field, value, "a non-empty list of strings")
    return items


def id_list(value: Any, field: str) -> list[str]:
    """A non-empty list of ids as strings."""
    _require_list(value, field, "a list of ids", "a list of id strings")
    items = [require_id(v, f"{field}[{i}]") for i, v in enumerate(value)]
    if not items:
        raise _fail(f"{field} must not be empty.", field, value, "a non-empty list of ids")
    return items


def inclusions(value: Any, field: str) -> list[str]:
    """A non-empty list of user, device or cohort ids, at most 2,000 (the per-variant cap)."""
    items = string_list(value, field, allow_empty=False)
    for i, item in enumerate(items):
        if not item.strip():
            raise _fail(
                f"{field}[{i}] is an empty string.", f"{field}[{i}]", item, "a non-empty id"
            )
    if len(items) > MAX_INCLUSIONS:
        raise _fail(
            f"{field} has {len(items)} entries; a variant holds at most {MAX_INCLUSIONS} "
            "individual inclusions (use a cohort for more).",
            field,
            len(items),
            f"at most {MAX_INCLUSIONS} ids",
        )
    return items


def percentage(value: Any, field: str) -> float | int:
    """A number from 0 to 100."""
    if _is_number(value) and 0 <= value <= 100:
        number: float | int = value
        return number
    raise _fail(
        f"{field} must be a number from 0 to 100, got {_short(value)}.", field, value, "0..100"
    )


def integer_in(value: Any, field: str, low: int, high: int) -> int:
    """An integer from ``low`` to ``high`` inclusive."""
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    raise _fail(
        f"{field} must be an integer from {low} to {high}, got {_short(value)}.",
        field,
        value,
        f"an integer {low}..{high}",
    )


def whole_weight(value: Any) -> int | None:
    """The weight as an int, or None unless it is a non-negative whole number.

    The one rule for a variant's rollout weight, used by the client, the edit plans and the
    fake: an int >= 0, or a float with no fractional part (``3.0`` is 3, ``1.5`` is refused).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and value >= 0:
        return int(value)
    return None


def rollout_weight(value: Any, field: str = "rollout_weight") -> int:
    """A variant's weight: a non-negative whole number (see ``whole_weight``)."""
    weight = whole_weight(value)
    if weight is not None:
        return weight
    raise _fail(
        f"{field} must be a non-negative whole number, got {_short(value)}.",
        field,
        value,
        "an integer >= 0",
    )


def rollout_weights(
    value: Any,
    field: str,
    *,
    integers: bool,
    variant_keys: Iterable[str] | None = None,
    whole: bool = False,
) -> dict[str, Any]:
    """A ``{variant_key: weight}`` map; weights non-negative (integers when ``integers``).

    With ``whole`` a float with no fractional part is accepted and sent as an int (the rule
    of ``rollout_weight``, for maps of variant weights such as the legacy rollout-weights).
    """
    if not isinstance(value, Mapping):
        raise _fail(
            f"{field} must be a mapping of variant key to weight, got {_short(value)}.",
            field,
            value,
            "a dict such as {'control': 1, 'treatment': 1}",
        )
    known = list(variant_keys) if variant_keys is not None else None
    out: dict[str, Any] = {}
    for k, w in value.items():
        path = f"{field}[{k!r}]"
        if not isinstance(k, str) or not k:
            raise _fail(
                f"{field} has a key {_short(k)} that is not a variant key.",
                field,
                k,
                "variant keys (strings)",
            )
        if integers:
            # a variant's weight: the one rule of rollout_weight (whole numbers)
            weight = whole_weight(w)
            ok = weight is not None and (isinstance(w, int) or whole)
            w = weight if ok and whole else w
            allowed = "an integer >= 0"
        else:
            # a segment's weights may be fractional (the API takes numbers there)
            ok = _is_number(w) and w >= 0
            allowed = "a number >= 0"
        if not ok:
            raise _fail(f"{path} must be {allowed}, got {_short(w)}.", path, w, allowed)
        if known is not None and k not in known:
            raise _fail(
                f"{field} names variant {k!r}, which is not among the variants given.",
                path,
                k,
                known,
            )
        out[k] = w
    return out


def payload(value: Any, field: str = "payload") -> Any:
    """``value`` if it serialises to JSON (no NaN or infinity)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _fail(
            f"{field} must be JSON-serialisable ({exc}), got {_short(value)}.",
            field,
            value,
            "a JSON value: dict, list, str, number, bool or None",
        ) from None
    return value


def iso_timestamp(value: Any, field: str, *, date_only_ok: bool = True) -> str:
    """An ISO 8601 string from a datetime (naive = UTC), a date or an ISO string."""
    if isinstance(value, datetime):
        when = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        when = when.astimezone(UTC)
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None and (date_only_ok or "T" in value):
            return value.strip()
    raise _fail(
        f"{field} must be an ISO 8601 date or timestamp, got {_short(value)}.",
        field,
        value,
        "a datetime, a date, or a string like '2026-01-31T12:00:00Z'",
    )


def condition(value: Any, field: str, *, ops: tuple[str, ...] = CONDITION_OPS) -> dict[str, Any]:
    """A targeting condition in wire form: ``{type: 'property', prop, op, values}``."""
    _require_dict(value, field, "{type, prop, op, values}")
    c = dict(value)
    for required in ("type", "prop", "op", "values"):
        if required not in c:
            raise _fail(
                f"{field} is missing {required!r}.",
                f"{field}.{required}",
                None,
                "conditions need type, prop, op and values",
            )
    if c["type"] != "property":
        raise _fail(
            f"{field}.type must be 'property' (the only condition type the API accepts; "
            "target cohorts with variant cohort inclusions).",
            f"{field}.type",
            c["type"],
            ("property",),
        )
    require_str(c["prop"], f"{field}.prop")
    require_choice(c["op"], f"{field}.op", ops)
    c["values"] = string_list(c["values"], f"{field}.values")
    return c


def segments(
    value: Any,
    field: str = "target_segments",
    *,
    variant_keys: Iterable[str] | None = None,
    legacy: bool = False,
) -> list[dict[str, Any]]:
    """Target segments in wire form, each checked (conditions, percentage, weights).

    ``legacy``: the beta API's rules (only ``conditions`` required, no set ops).
    """
    _require_list(value, field, "a list of segments", "a list of dicts")
    keys = list(variant_keys) if variant_keys is not None else None
    out = []
    for i, raw in enumerate(value):
        path = f"{field}[{i}]"
        _require_dict(raw, path, "{name, conditions, percentage, rollout_weights}")
        seg = segment_to_wire(raw)
        for required, snake in (
            ("name", "name"),
            ("conditions", "conditions"),
            ("percentage", "percentage"),
            ("rolloutWeights", "rollout_weights"),
        ):
            if required not in seg and (not legacy or required == "conditions"):
                raise _fail(
                    f"{path} is missing {snake!r}.",
                    f"{path}.{snake}",
                    None,
                    "segments need name, conditions, percentage and rollout_weights",
                )
        if "name" in seg:
            require_str(seg["name"], f"{path}.name", allow_empty=True)
        conditions = seg["conditions"]
        _require_list(conditions, f"{path}.conditions", "a list", "a list of conditions")
        ops = LEGACY_CONDITION_OPS if legacy else CONDITION_OPS
        seg["conditions"] = [
            condition(c, f"{path}.conditions[{j}]", ops=ops) for j, c in enumerate(conditions)
        ]
        if "percentage" in seg:
            percentage(seg["percentage"], f"{path}.percentage")
        if "rolloutWeights" in seg:
            seg["rolloutWeights"] = rollout_weights(
                seg["rolloutWeights"], f"{path}.rollout_weights", integers=False, variant_keys=keys
            )
        if "bucketingKey" in seg:
            require_str(seg["bucketingKey"], f"{path}.bucketing_key")
        out.append(seg)
    return out


def variants(value: Any, field: str = "variants") -> list[dict[str, Any]]:
    """Variants for a create body: each ``{key, name?, description?, payload?}``."""
    _require_list(value, field, "a list of variants", "a list of dicts with a 'key'")
    out = []
    seen: set[str] = set()
    for i, raw in enumerate(value):
        path = f"{field}[{i}]"
        if isinstance(raw, str):
            raw = {"key": raw}
        _require_dict(raw, path, "{key, name, description, payload}")
        v = variant_to_wire(raw)
        allowed = ("key", "name", "description", "payload")
        unknown = [k for k in v if k not in allowed]
        if unknown:
            raise _fail(
                f"{path} has unknown field(s) {unknown} (weights go in rollout_weights).",
                f"{path}.{camel_to_snake(unknown[0])}",
                unknown[0],
                allowed,
            )
        key = require_str(v.get("key"), f"{path}.key")
        if key in seen:
            raise _fail(
                f"{path}.key {key!r} is used twice.", f"{path}.key", key, "unique variant keys"
            )
        seen.add(key)
        for text_field in ("name", "description"):
            if text_field in v:
                require_str(v[text_field], f"{path}.{text_field}", allow_empty=True)
        if "payload" in v:
            payload(v["payload"], f"{path}.payload")
        out.append(v)
    return out


def exposure_event(value: Any, field: str = "exposure_event") -> Any:
    """An exposure event ``{event_type, filters}`` (sent as is: the API spells it snake_case)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _fail(
            f"{field} must be a dict or None, got {_short(value)}.",
            field,
            value,
            "{event_type, filters} or None",
        )
    require_str(value.get("event_type"), f"{field}.event_type")
    filters = value.get("filters")
    if not isinstance(filters, list):
        raise _fail(
            f"{field}.filters must be a list, got {_short(filters)}.",
            f"{field}.filters",
            filters,
            "a list of filter dicts",
        )
    for i, f in enumerate(filters):
        path = f"{field}.filters[{i}]"
        if not isinstance(f, Mapping):
            raise _fail(
                f"{path} must be a dict.",
                path,
                f,
                "{subprop_key, subprop_op, subprop_type, subprop_value}",
            )
        require_choice(f.get("subprop_op"), f"{path}.subprop_op", EXPOSURE_FILTER_OPS)
        string_list(f.get("subprop_value"), f"{path}.subprop_value")
    return payload(dict(value), field)


def _normalise_fields(
    fields: Mapping[str, Any], allowed: tuple[str, ...], what: str
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        snake = camel_to_snake(name)
        if snake not in allowed:
            raise _fail(
                f"{what} does not take a field {name!r}.",
                name,
                value,
                allowed,
            )
        if snake in out:
            raise _fail(f"{what}: field {snake!r} given twice.", snake, value, allowed)
        out[snake] = value
    return out


def _field_value(kind: str, name: str, value: Any, *, variant_keys: list[str] | None) -> Any:
    if value is None and name in _NULLABLE:
        return None
    if name in ("name", "description", "bucketing_salt", "decision_reason", "rolled_out_variant"):
        return require_str(value, name, allow_empty=name in ("description", "decision_reason"))
    if name in ("bucketing_key", "bucketing_unit"):
        return require_str(value, name)
    if name == "evaluation_mode":
        return require_choice(value, name, EVALUATION_MODES)
    if name == "rollout_percentage":
        return percentage(value, name)
    if name == "target_segments":
        return segments(value, name, variant_keys=variant_keys)
    if name in ("enabled", "archive", "sticky_bucketing"):
        return require_bool(value, name)
    if name == "tags":
        return string_list(value, name)
    if name == "experiment_type":
        return require_choice(value, name, EXPERIMENT_TYPES)
    if name == "decision":
        return require_choice(value, name, DECISIONS)
    if name in ("start_date", "end_date"):
        return iso_timestamp(value, name)
    if name == "exposure_event":
        return exposure_event(value, name)
    if name == "variants":
        return variants(value, name)
    if name == "rollout_weights":
        return rollout_weights(value, name, integers=True, variant_keys=variant_keys)
    if name == "deployments":
        return id_list(value, name)
    raise AssertionError(f"no check for {kind} field {name}")  # pragma: no cover


def config_edit_body(kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body for a flag or experiment edit (``kind``: 'flags' or 'experiments')."""
    allowed = EXPERIMENT_EDIT_FIELDS if kind == "experiments" else FLAG_EDIT_FIELDS
    what = f"client.{kind}.edit()"
    normal = _normalise_fields(fields, allowed, what)
    if not normal:
        raise _fail(f"{what} needs at least one field to change.", "fields", {}, allowed)
    return {
        snake_to_camel(name): _field_value(kind, name, value, variant_keys=None)
        for name, value in normal.items()
    }


def config_create_body(
    kind: str, project_id: Any, key: Any, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """The POST body creating a flag or experiment."""
    allowed = EXPERIMENT_CREATE_FIELDS if kind == "experiments" else FLAG_CREATE_FIELDS
    normal = _normalise_fields(fields, allowed, f"client.{kind}.create()")
    body: dict[str, Any] = {
        "projectId": require_id(project_id, "project_id"),
        "key": require_str(key, "key"),
    }
    variant_keys: list[str] | None = None
    if "variants" in normal:
        checked = variants(normal["variants"])
        variant_keys = [v["key"] for v in checked]
        body["variants"] = checked
    for name, value in normal.items():
        if name == "variants":
            continue
        body[snake_to_camel(name)] = _field_value(kind, name, value, variant_keys=variant_keys)
    return body


def variant_body(
    *,
    key: Any = _NOTHING,
    name: Any = None,
    description: Any = None,
    payload_value: Any = _NOTHING,
    weight: Any = None,
    require_key: bool,
) -> dict[str, Any]:
    """The body creating (``require_key``) or editing a variant."""
    body: dict[str, Any] = {}
    if key is not _NOTHING and key is not None:
        body["key"] = require_str(key, "key")
    elif require_key:
        raise _fail("A variant needs a key.", "key", None, "a non-empty string")
    if name is not None:
        body["name"] = require_str(name, "name", allow_empty=True)
    if description is not None:
        body["description"] = require_str(description, "description", allow_empty=True)
    if payload_value is not _NOTHING:
        body["payload"] = payload(payload_value)
    if weight is not None:
        body["rolloutWeight"] = rollout_weight(weight)
    if not body:
        raise _fail(
            "edit_variant() needs at least one field to change.",
            "fields",
            {},
            ("key", "name", "description", "payload", "rollout_weight"),
        )
    return body


def deployment_label(value: Any, field: str = "label") -> str:
    """A deployment label: letters, digits, ``_`` and ``-`` only."""
    if isinstance(value, str) and DEPLOYMENT_LABEL.match(value):
        return value
    raise _fail(
        f"{field} {_short(value)} may contain only letters, digits, '_' and '-'.",
        field,
        value,
        "letters, digits, '_' and '-' (e.g. 'web-prod')",
    )


def mutex_slots(value: Any, field: str = "slots") -> list[dict[str, Any]]:
    """Mutex slots in wire form: 1-20 slots, integer percentages 1-100 summing to 100."""
    _require_list(value, field, "a list of slots", "a list of dicts with 'percentage'")
    slots = [slot_to_wire(s) for s in value]
    if not 1 <= len(slots) <= 20:
        raise _fail(
            f"{field} must hold 1 to 20 slots, got {len(slots)}.", field, len(slots), "1..20 slots"
        )
    for i, s in enumerate(slots):
        path = f"{field}[{i}]"
        if not isinstance(s, dict):
            raise _fail(
                f"{path} must be a dict.",
                path,
                s,
                "{percentage, experiments?, holdouts?, individuals?}",
            )
        integer_in(s.get("percentage"), f"{path}.percentage", 1, 100)
        for ids in ("experiments", "holdouts"):
            if ids in s:
                s[ids] = numeric_ids(s[ids], f"{path}.{ids}")
        if "individuals" in s:
            s["individuals"] = string_list(s["individuals"], f"{path}.individuals")
    total = sum(s["percentage"] for s in slots)
    if total != 100:
        raise _fail(
            f"{field} percentages sum to {total}; they must sum to 100.",
            f"{field}[*].percentage",
            total,
            "percentages summing to 100",
        )
    return slots


def numeric_ids(value: Any, field: str) -> list[int]:
    """Ids as numbers (mutex and holdout bodies type them as numbers)."""
    _require_list(value, field, "a list of ids", "a list of numeric ids")
    out = []
    for i, v in enumerate(value):
        if isinstance(v, int) and not isinstance(v, bool):
            out.append(v)
        elif isinstance(v, str) and v.strip().isdigit():
            out.append(int(v))
        else:
            raise _fail(
                f"{field}[{i}] must be a numeric id, got {_short(v)}.",
                f"{field}[{i}]",
                v,
                "an int or a numeric string",
            )
    return out

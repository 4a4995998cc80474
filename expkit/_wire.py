"""snake_case in Python, camelCase on the wire: the one place names are converted.

Conversion is structure-aware: only field *names* of known objects are converted. Map keys
that are data (variant keys in ``rolloutWeights``, flag ids in ``parentDependencies``) and
bodies the API itself spells in snake_case (``exposureEvent``) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "camel_to_snake",
    "condition_to_wire",
    "segment_to_wire",
    "slot_to_wire",
    "snake_to_camel",
    "variant_to_wire",
]

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake_to_camel(name: str) -> str:
    """``rollout_weights`` -> ``rolloutWeights``; camelCase names come back unchanged."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_to_snake(name: str) -> str:
    """``rolloutWeights`` -> ``rollout_weights``; snake_case names come back unchanged."""
    return _CAMEL_BOUNDARY.sub(lambda m: "_" + m.group(1).lower(), name)


def _keys_to_wire(obj: Any) -> Any:
    """A mapping with camelCase keys (values untouched); anything else passes through."""
    if not isinstance(obj, Mapping):
        return obj
    return {snake_to_camel(str(k)): v for k, v in obj.items()}


def condition_to_wire(condition: Any) -> Any:
    """A condition dict with camelCase keys (values untouched); non-dicts pass through."""
    return _keys_to_wire(condition)


def segment_to_wire(segment: Any) -> Any:
    """A target segment (and its conditions) with camelCase keys; non-dicts pass through."""
    out = _keys_to_wire(segment)
    if isinstance(out, dict) and isinstance(out.get("conditions"), list | tuple):
        out["conditions"] = [condition_to_wire(c) for c in out["conditions"]]
    return out


def variant_to_wire(variant: Any) -> Any:
    """A variant with camelCase keys; its ``payload`` is left as given."""
    return _keys_to_wire(variant)


def slot_to_wire(slot: Any) -> Any:
    """A mutex slot with camelCase keys."""
    return _keys_to_wire(slot)

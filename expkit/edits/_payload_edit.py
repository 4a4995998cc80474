"""PayloadEdit: the JSON payload of one or more variants."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Self

from expkit.edits._core import Effect, Plan, Step

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PayloadEdit", "parse_payload"]


class _Invalid:
    """A payload that failed to parse, with the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_payload(value: Any) -> Any:
    """A payload from JSON text (``str``) or a Python value; raises ValueError with the reason.

    Text is always parsed as JSON: a string payload is written ``'"text"'``, no payload
    ``'null'``.
    """
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("empty; write null for no payload")
        try:
            return json.loads(value, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not JSON-serialisable: {exc}") from None
    return value


def payload_text(payload: Any, *, indent: int | None = 2) -> str:
    """A payload as JSON text (pretty-printed with ``indent``)."""
    return json.dumps(payload, indent=indent, sort_keys=False, ensure_ascii=False)


class PayloadEdit(Plan):
    """A change to variant payloads: ``set_payload(variant, payload_or_json_text)``.

    Each changed variant is one ``PATCH`` of the variant. Invalid JSON shows in ``errors``
    as ``payload.<variant>: invalid JSON: ...``.
    """

    _what = "payload edit"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._payloads: dict[str, Any] = {}
        super().__init__(*args, **kwargs)

    def set_payload(self, variant_key: str, payload: Any) -> Self:
        """Records a new payload (a JSON-able value, or JSON text) for a variant; returns self."""
        self._payloads[str(variant_key)] = payload
        return self

    def discard(self, variant_key: str | None = None) -> Self:
        """Forgets the intended payload of one variant (or all); returns self."""
        if variant_key is None:
            self._clear()
        else:
            self._payloads.pop(variant_key, None)
        return self

    def _clear(self) -> None:
        self._payloads = {}

    def before(self, variant_key: str) -> Any:
        """The variant's payload as loaded."""
        return self._values(self._state).get(variant_key)

    def after(self, variant_key: str) -> Any:
        """The variant's payload after the change; raises ValueError when it is invalid."""
        if variant_key not in self._payloads:
            return self.before(variant_key)
        return parse_payload(self._payloads[variant_key])

    def _parsed(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, raw in self._payloads.items():
            try:
                out[key] = parse_payload(raw)
            except ValueError as exc:
                out[key] = _Invalid(str(exc))
        return out

    def _values(self, state: Mapping[str, Any]) -> dict[str, Any]:
        return {str(v["key"]): v.get("payload") for v in state["config"].get("variants") or []}

    def _planned(self) -> dict[str, Any]:
        return {**self._values(self._state), **self._parsed()}

    def _validate(self) -> list[str]:
        keys = self.variant_keys
        errors = []
        for key, value in self._parsed().items():
            if key not in keys:
                errors.append(
                    f"payload.{key}: unknown variant; allowed: {', '.join(keys) or '(none)'}"
                )
            elif isinstance(value, _Invalid):
                errors.append(f"payload.{key}: {value.reason}")
        return errors

    def _changed(self) -> list[str]:
        base = self._values(self._state)
        parsed = self._parsed()
        return [
            k
            for k in self.variant_keys
            if k in parsed and not isinstance(parsed[k], _Invalid) and parsed[k] != base[k]
        ]

    def _steps(self) -> list[Step]:
        base = self._values(self._state)
        planned = self._planned()
        target = self._target
        return [
            target.edit_variant(k, payload=planned[k]).reversible(
                target.edit_variant(k, payload=base[k]),
                Effect(self._payload_of(k), base[k], planned[k]),
            )
            for k in self._changed()
        ]

    def _payload_of(self, variant_key: str) -> Callable[[Mapping[str, Any]], Any]:
        """What a re-read shows for one variant's payload (KeyError when the variant is gone)."""
        return lambda state: self._values(state)[variant_key]

    def _describe(self) -> list[str]:
        base = self._values(self._state)
        planned = self._planned()
        return [
            f"payload.{k}: {payload_text(base[k], indent=None)} → "
            f"{payload_text(planned[k], indent=None)}"
            for k in self._changed()
        ]

    def preview(self) -> pd.DataFrame:
        """Per variant: payload before and after (JSON text), and whether it changes."""
        import pandas as pd

        keys = self.variant_keys
        base = self._values(self._state)
        parsed = self._parsed()
        after = []
        for k in keys:
            value = parsed.get(k, base[k])
            after.append(None if isinstance(value, _Invalid) else payload_text(value, indent=None))
        changed = set(self._changed())
        frame = pd.DataFrame(
            {
                "variant": keys,
                "payload_before": [payload_text(base[k], indent=None) for k in keys],
                "payload_after": after,
                "changed": [k in changed for k in keys],
            }
        )
        return frame.astype(
            {
                "variant": "string",
                "payload_before": "string",
                "payload_after": "string",
                "changed": "boolean",
            }
        )

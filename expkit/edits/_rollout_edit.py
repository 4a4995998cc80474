"""RolloutEdit: weights, rollout percentage and the on/off switch for everyone else."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Self

from expkit._rollout import effective, shares
from expkit._validate import whole_weight as _weight
from expkit.edits._core import Effect, Plan, Step
from expkit.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RolloutEdit"]

_UNSET: Any = object()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return float(value)


def _bool_or_none(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _pick(values: Mapping[str, Any], keys: list[str]) -> dict[str, Any]:
    return {k: values[k] for k in keys}


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


class RolloutEdit(Plan):
    """A change to who gets which variant among users matched by no segment.

    ``set_weights({...})``, ``set_percentage(p)`` and ``set_enabled(b)`` record the intended
    change (validated live: see ``errors``); ``preview()``, ``requests()``, ``apply()`` and
    ``undo()`` work as on every plan. Weights go out as one ``PATCH`` per changed variant
    (``LegacyClient``: its single rollout-weights call).
    """

    _what = "rollout edit"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._weights: dict[str, Any] = {}
        self._percentage: Any = _UNSET
        self._enabled: Any = _UNSET
        super().__init__(*args, **kwargs)

    # -- intended change --------------------------------------------------------------------
    def set_weights(self, weights: Mapping[str, Any]) -> Self:
        """Records new weights for some or all variants (non-negative integers); returns self."""
        if not isinstance(weights, Mapping):
            raise ValidationError(
                f"weights must be a mapping of variant key to weight, got {weights!r}.",
                field="weights",
                value=weights,
                allowed="a dict such as {'control': 1, 'treatment': 3}",
            )
        self._weights.update({str(k): v for k, v in weights.items()})
        return self

    def set_percentage(self, percentage: Any) -> Self:
        """Records a new rollout percentage (0–100) for users matched by no segment."""
        self._percentage = percentage
        return self

    def set_enabled(self, enabled: Any) -> Self:
        """Records switching the config on (True) or off (False)."""
        self._enabled = enabled
        return self

    def discard(self, variant_key: str | None = None) -> Self:
        """Forgets the intended change (or only one variant's weight); returns self."""
        if variant_key is None:
            self._clear()
        else:
            self._weights.pop(variant_key, None)
        return self

    def _clear(self) -> None:
        self._weights = {}
        self._percentage = _UNSET
        self._enabled = _UNSET

    # -- state ------------------------------------------------------------------------------
    def _base_weights(self) -> dict[str, Any]:
        return self._values(self._state)["rollout_weights"]

    def _base_percentage(self) -> Any:
        return self._state["config"].get("rolloutPercentage")

    def _base_enabled(self) -> Any:
        return self._state["config"].get("enabled")

    @property
    def weights(self) -> dict[str, Any]:
        """The weights after the change (as typed, even when invalid)."""
        return {**self._base_weights(), **self._weights}

    @property
    def percentage(self) -> Any:
        """The rollout percentage after the change."""
        return self._base_percentage() if self._percentage is _UNSET else self._percentage

    @property
    def enabled(self) -> Any:
        """Whether the config is on after the change."""
        return self._base_enabled() if self._enabled is _UNSET else self._enabled

    def _values(self, state: Mapping[str, Any]) -> dict[str, Any]:
        config = state["config"]
        weights = config.get("rolloutWeights") or {}
        keys = [str(v["key"]) for v in config.get("variants") or []]
        # the API gives a variant without a weight nothing: it reads as 0
        return {
            "rollout_weights": {k: weights.get(k, 0) for k in keys},
            "rollout_percentage": config.get("rolloutPercentage"),
            "enabled": config.get("enabled"),
        }

    def _planned(self) -> dict[str, Any]:
        weights = {k: (_weight(w) if k in self._weights else w) for k, w in self.weights.items()}
        pct = self.percentage
        if isinstance(pct, float) and pct.is_integer():
            pct = int(pct)
        return {
            "rollout_weights": weights,
            "rollout_percentage": pct,
            "enabled": self.enabled,
        }

    # -- validation -------------------------------------------------------------------------
    def _validate(self) -> list[str]:
        errors: list[str] = []
        keys = self.variant_keys
        for k, w in self._weights.items():
            if k not in keys:
                errors.append(
                    f"weights.{k}: unknown variant; allowed: {', '.join(keys) or '(none)'}"
                )
            elif _weight(w) is None:
                errors.append(f"weights.{k}: must be a non-negative integer, got {_fmt(w)}")
        pct = self.percentage
        pct_ok = _number(pct) is not None and 0 <= pct <= 100
        if self._percentage is not _UNSET and not pct_ok:
            errors.append(f"rollout_percentage: must be a number from 0 to 100, got {_fmt(pct)}")
        if self._enabled is not _UNSET and not isinstance(self._enabled, bool):
            errors.append(f"enabled: must be True or False, got {_fmt(self._enabled)}")
        if not errors and self.enabled is True and pct_ok and pct > 0:
            planned = self._planned()["rollout_weights"]
            if keys and all((w or 0) == 0 for w in planned.values()):
                errors.append(
                    f"weights: all weights are 0 while the {self._target.singular} is enabled "
                    f"and rolled out to {_fmt(pct)}%, so nobody would get a variant; give a "
                    "variant a weight, or set the rollout percentage to 0"
                )
        errors.extend(self._legacy_errors())
        return errors

    def _legacy_errors(self) -> list[str]:
        if not self._target.legacy:
            return []
        errors = []
        base = self._values(self._state)
        planned = self._planned()
        if planned["rollout_percentage"] != base["rollout_percentage"]:
            errors.append(
                "rollout_percentage: the LegacyClient cannot change the rollout percentage; "
                "use expkit.Client"
            )
        if planned["enabled"] != base["enabled"] and self.kind == "flags":
            errors.append(
                "enabled: the LegacyClient can switch experiments only, not flags; "
                "use expkit.Client"
            )
        return errors

    # -- steps ------------------------------------------------------------------------------
    def _steps(self) -> list[Step]:
        base = self._values(self._state)
        planned = self._planned()
        old_w, new_w = base["rollout_weights"], planned["rollout_weights"]
        changed = [k for k in self.variant_keys if new_w[k] != old_w[k]]
        target = self._target
        weight_steps: list[Step] = []
        if changed and target.legacy and self.kind == "experiments":
            new_all = {k: new_w[k] or 0 for k in self.variant_keys}
            old_all = {k: old_w[k] or 0 for k in self.variant_keys}
            step = target.set_rollout_weights(new_all)
            effect = Effect(
                self._weights_of(changed), _pick(old_all, changed), _pick(new_all, changed)
            )
            weight_steps.append(step.reversible(target.set_rollout_weights(old_all), effect))
        else:
            for k in changed:
                step = target.edit_variant(k, rollout_weight=new_w[k])
                # a variant with no weight is treated as 0 by the API: restore it as 0
                inverse = target.edit_variant(k, rollout_weight=old_w[k] or 0)
                effect = Effect(self._weights_of([k]), {k: old_w[k] or 0}, {k: new_w[k] or 0})
                weight_steps.append(step.reversible(inverse, effect))

        config_steps: list[Step] = []
        fields = {
            name: planned[name]
            for name in ("rollout_percentage", "enabled")
            if planned[name] != base[name]
        }
        if fields and target.legacy:
            if "enabled" in fields:
                on = bool(fields["enabled"])
                effect = Effect(self._fields_of(["enabled"]), {"enabled": not on}, {"enabled": on})
                config_steps.append(
                    target.set_active(on).reversible(target.set_active(not on), effect)
                )
        elif fields:
            old = {name: base[name] for name in fields}
            effect = Effect(self._fields_of(list(fields)), old, dict(fields))
            config_steps.append(target.edit(**fields).reversible(target.edit(**old), effect))

        # narrowing the audience goes first and widening it last, so that no moment between
        # two steps exposes more users than either the old or the new state would; switching
        # on widens whatever the percentage does (the old weights must not go live)
        narrowing = (fields.get("enabled") is False) or (
            fields.get("enabled") is not True
            and "rollout_percentage" in fields
            and _number(base["rollout_percentage"]) is not None
            and planned["rollout_percentage"] < base["rollout_percentage"]
        )
        return config_steps + weight_steps if narrowing else weight_steps + config_steps

    def _weights_of(self, keys: list[str]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        """What a re-read shows for these variants' weights (a missing weight reads as 0)."""

        def read(state: Mapping[str, Any]) -> dict[str, Any]:
            weights = self._values(state)["rollout_weights"]
            return {k: weights[k] or 0 for k in keys}

        return read

    def _fields_of(self, names: list[str]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        """What a re-read shows for these config fields (rollout_percentage, enabled)."""
        return lambda state: _pick(self._values(state), names)

    def _describe(self) -> list[str]:
        base = self._values(self._state)
        planned = {
            "rollout_weights": self.weights,
            "rollout_percentage": self.percentage,
            "enabled": self.enabled,
        }
        lines = [
            f"weights.{k}: {_fmt(base['rollout_weights'].get(k))} → {_fmt(w)}"
            for k, w in planned["rollout_weights"].items()
            if k in self._weights and w != base["rollout_weights"].get(k)
        ]
        for name in ("rollout_percentage", "enabled"):
            if planned[name] != base[name]:
                lines.append(f"{name}: {_fmt(base[name])} → {_fmt(planned[name])}")
        return lines

    # -- preview ----------------------------------------------------------------------------
    def preview(self) -> pd.DataFrame:
        """Per variant: weight, share of weight and effective % of everyone else, before/after."""
        import pandas as pd

        keys = self.variant_keys
        base = self._values(self._state)
        after_w = {k: _weight(w) for k, w in self.weights.items() if k in keys}
        before_share = shares(base["rollout_weights"], keys)
        valid = self.is_valid
        after_share: dict[str, float | None] = (
            dict(shares(after_w, keys)) if valid else dict.fromkeys(keys)
        )
        before_eff = effective(
            base["rollout_percentage"],
            base["rollout_weights"],
            keys,
            enabled=_bool_or_none(base["enabled"]),
        )
        after_eff: dict[str, float | None] = (
            dict(effective(self.percentage, after_w, keys, enabled=_bool_or_none(self.enabled)))
            if valid
            else dict.fromkeys(keys)
        )
        frame = pd.DataFrame(
            {
                "variant": keys,
                "weight_before": [base["rollout_weights"][k] for k in keys],
                "weight_after": [after_w.get(k) for k in keys],
                "share_before": [before_share[k] for k in keys],
                "share_after": [after_share[k] for k in keys],
                "effective_pct_before": [before_eff[k] for k in keys],
                "effective_pct_after": [after_eff[k] for k in keys],
            }
        )
        weights = [*frame["weight_before"], *frame["weight_after"]]
        whole = all(w is None or float(w).is_integer() for w in weights)
        weight_dtype = "Int64" if whole else "Float64"
        frame = frame.astype(
            {
                "variant": "string",
                "weight_before": weight_dtype,
                "weight_after": weight_dtype,
                "share_before": "Float64",
                "share_after": "Float64",
                "effective_pct_before": "Float64",
                "effective_pct_after": "Float64",
            }
        )
        frame["changed"] = pd.array(
            [
                base["rollout_weights"][k] != after_w.get(k) or before_eff[k] != after_eff[k]
                for k in keys
            ],
            dtype="boolean",
        )
        return frame

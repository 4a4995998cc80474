"""``HygieneConfig``: the rules' thresholds and switches, validated, from code or TOML."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from expkit.errors import ValidationError
from expkit.hygiene._registry import RULES, SEVERITIES

__all__ = ["EXPIRES_TAG", "PERMANENT_TAG", "SNOOZE_TAG", "HygieneConfig", "resolve_config"]

PERMANENT_TAG = "expkit:permanent"
# tag prefixes followed by a date, YYYY-MM-DD
EXPIRES_TAG = "expkit:expires="
SNOOZE_TAG = "expkit:snooze-until="


@dataclass(frozen=True)
class HygieneConfig:
    """Thresholds and switches of the hygiene rules (all optional; defaults shown).

    ``stale_days``: days a config must have served one variant to everyone before
    ``fully-rolled-out`` fires. ``inactive_days``: days disabled (or allocating nobody) before
    ``inactive`` fires. ``long_running_days``: days a running experiment may go without a
    decision. ``inclusion_warning`` / ``inclusion_limit``: individual users in one variant that
    make ``inclusion-overload`` a warning / an error (the API refuses more than 2,000).
    ``recent_days``: the window of ``recent-change``. ``permanent_tag``: the tag that exempts a
    config from the staleness rules. ``expires_tag`` / ``snooze_tag``: the prefixes of the
    tags that give a config an expiry date (``expired``) or silence every rule for it until
    a date (``expkit:expires=2026-12-31``). ``mid_experiment_ramp_up``: whether raising a
    running experiment's rollout or segment percentage counts for ``mid-experiment-change``
    (by default not: consistent bucketing keeps every user's variant when the rollout only
    grows; lowering it, or changing weights, always counts). ``disabled``: rule ids not to run. ``severities``: rule id
    → severity, replacing a rule's default.
    """

    stale_days: int = 30
    inactive_days: int = 30
    long_running_days: int = 90
    inclusion_warning: int = 1800
    inclusion_limit: int = 2000
    recent_days: int = 7
    permanent_tag: str = PERMANENT_TAG
    expires_tag: str = EXPIRES_TAG
    snooze_tag: str = SNOOZE_TAG
    mid_experiment_ramp_up: bool = False
    disabled: tuple[str, ...] = ()
    severities: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise ValidationError(
                    f"hygiene setting {name} must be a whole number ≥ 0, not {value!r}",
                    field=name,
                    value=value,
                    allowed="an int ≥ 0",
                )
        if self.inclusion_warning > self.inclusion_limit:
            raise ValidationError(
                f"inclusion_warning ({self.inclusion_warning}) must not exceed "
                f"inclusion_limit ({self.inclusion_limit})",
                field="inclusion_warning",
                value=self.inclusion_warning,
                allowed=f"≤ inclusion_limit ({self.inclusion_limit})",
            )
        if type(self.mid_experiment_ramp_up) is not bool:
            raise ValidationError(
                "mid_experiment_ramp_up must be true or false, "
                f"not {self.mid_experiment_ramp_up!r}",
                field="mid_experiment_ramp_up",
                value=self.mid_experiment_ramp_up,
                allowed=(True, False),
            )
        for name, example in _TAG_FIELDS.items():
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValidationError(
                    f"{name} must be a non-empty string",
                    field=name,
                    value=value,
                    allowed=f"a tag, e.g. {example!r}",
                )
        if self.expires_tag == self.snooze_tag:
            raise ValidationError(
                f"expires_tag and snooze_tag must differ, both are {self.expires_tag!r}",
                field="snooze_tag",
                value=self.snooze_tag,
                allowed=f"a prefix other than {self.expires_tag!r}",
            )
        given: Any = self.disabled
        disabled = (given,) if isinstance(given, str) else given
        if not isinstance(disabled, Iterable) or isinstance(disabled, Mapping):
            raise ValidationError(
                f"disabled must be a list of rule ids, not {disabled!r}",
                field="disabled",
                value=disabled,
                allowed=tuple(RULES),
            )
        disabled = tuple(disabled)
        for rule_id in disabled:
            _check_rule_id(rule_id, "disabled")
        object.__setattr__(self, "disabled", disabled)
        severities: Any = self.severities
        if not isinstance(severities, Mapping):
            raise ValidationError(
                "severities must be a mapping of rule id to severity",
                field="severities",
                value=type(severities).__name__,
                allowed="{rule id: 'error' | 'warning' | 'info'}",
            )
        for rule_id, severity in severities.items():
            _check_rule_id(rule_id, "severities")
            if severity not in SEVERITIES:
                raise ValidationError(
                    f"severities[{rule_id!r}] must be one of {', '.join(SEVERITIES)}, "
                    f"not {severity!r}",
                    field=f"severities.{rule_id}",
                    value=severity,
                    allowed=SEVERITIES,
                )
        object.__setattr__(self, "severities", MappingProxyType(dict(severities)))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> HygieneConfig:
        """A config from a plain mapping (TOML keys: dashes or underscores); unknown keys raise."""
        values: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = str(raw_key).replace("-", "_")
            if key not in _FIELDS:
                raise ValidationError(
                    f"unknown hygiene setting {raw_key!r}",
                    field=str(raw_key),
                    value=value,
                    allowed=sorted(_FIELDS),
                )
            values[key] = value
        return cls(**values)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> HygieneConfig:
        """A config read from a TOML file.

        The settings may sit at the top level, in a ``[hygiene]`` table, or in
        ``[tool.expkit.hygiene]`` (so a ``pyproject.toml`` works too); a ``[hygiene.severities]``
        table overrides severities.
        """
        file = Path(path)
        try:
            with file.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ValidationError(
                f"hygiene config file {str(file)!r} does not exist",
                field="config",
                value=str(file),
                allowed="a readable TOML file",
            ) from None
        except IsADirectoryError:
            raise ValidationError(
                f"hygiene config file {str(file)!r} is a directory, not a file",
                field="config",
                value=str(file),
                allowed="a readable TOML file",
            ) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            why = "is not UTF-8" if isinstance(exc, UnicodeDecodeError) else "is not valid TOML"
            raise ValidationError(
                f"hygiene config file {str(file)!r} {why}: {exc}",
                field="config",
                value=str(file),
                allowed="a UTF-8 TOML file",
            ) from exc
        tool = data.get("tool")
        if isinstance(tool, Mapping) and "expkit" in tool:
            if not isinstance(tool["expkit"], Mapping):
                raise ValidationError(
                    f"[tool.expkit] of {str(file)!r} is not a table",
                    field="tool.expkit",
                    value=type(tool["expkit"]).__name__,
                    allowed="a TOML table with a [tool.expkit.hygiene] table",
                )
            return cls.from_mapping(_table(tool["expkit"].get("hygiene", {}), file))
        if "hygiene" not in data:
            return cls.from_mapping(data)
        # settings at the top level and in [hygiene] (e.g. only [hygiene.severities]) add up
        table = dict(_table(data["hygiene"], file))
        for key, value in data.items():
            if key == "hygiene":
                continue
            name = key.replace("-", "_")
            if name in {k.replace("-", "_") for k in table}:
                raise ValidationError(
                    f"hygiene setting {key!r} is set both at the top level and in [hygiene] "
                    f"of {str(file)!r}",
                    field=name,
                    value=value,
                    allowed="one of the two places",
                )
            table[key] = value
        return cls.from_mapping(table)

    def __reduce__(self) -> tuple[Any, ...]:
        # the severities mapping proxy cannot be pickled or deep-copied (pandas deep-copies
        # a findings frame's attrs, where check() keeps its config)
        values = self.settings()
        values["severities"] = dict(self.severities)
        return (_config_from_fields, (values,))

    def replace(self, **overrides: Any) -> HygieneConfig:
        """A copy with some settings changed (validated like the constructor)."""
        unknown = sorted(set(overrides) - set(_FIELDS))
        if unknown:
            raise ValidationError(
                f"unknown hygiene setting {unknown[0]!r}",
                field=unknown[0],
                value=overrides[unknown[0]],
                allowed=sorted(_FIELDS),
            )
        return dataclasses.replace(self, **overrides)

    def severity(self, rule_id: str) -> str:
        """The severity findings of ``rule_id`` get (its default unless overridden)."""
        return self.severities.get(rule_id, RULES[rule_id].severity)

    def settings(self) -> dict[str, Any]:
        """Every setting by name (what a rule's action template may name)."""
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(f.name for f in dataclasses.fields(HygieneConfig))
_TAG_FIELDS = {
    "permanent_tag": PERMANENT_TAG,
    "expires_tag": EXPIRES_TAG,
    "snooze_tag": SNOOZE_TAG,
}
_INT_FIELDS = (
    "stale_days",
    "inactive_days",
    "long_running_days",
    "inclusion_warning",
    "inclusion_limit",
    "recent_days",
)


def _config_from_fields(values: Mapping[str, Any]) -> HygieneConfig:
    return HygieneConfig(**values)


def _table(value: Any, file: Path) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"the hygiene table of {str(file)!r} is not a table",
            field="hygiene",
            value=type(value).__name__,
            allowed="a TOML table",
        )
    return value


def _check_rule_id(rule_id: Any, field_name: str) -> None:
    if not isinstance(rule_id, str) or rule_id not in RULES:
        raise ValidationError(
            f"{field_name} names an unknown rule {rule_id!r}",
            field=field_name,
            value=rule_id,
            allowed=tuple(RULES),
        )


def resolve_config(
    config: HygieneConfig | Mapping[str, Any] | str | os.PathLike[str] | None,
) -> HygieneConfig:
    """``check``'s ``config=``: a HygieneConfig as is, a mapping or a TOML path read, None: defaults."""
    if config is None:
        return HygieneConfig()
    if isinstance(config, HygieneConfig):
        return config
    if isinstance(config, Mapping):
        return HygieneConfig.from_mapping(config)
    if isinstance(config, str | os.PathLike):
        return HygieneConfig.from_toml(config)
    raise ValidationError(
        f"config must be a HygieneConfig, a mapping or a TOML path, not {type(config).__name__}",
        field="config",
        value=type(config).__name__,
        allowed="HygieneConfig | Mapping | path of a TOML file",
    )

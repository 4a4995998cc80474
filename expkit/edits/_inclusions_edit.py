"""InclusionsEdit: individual users and cohorts included in a variant."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Self

from expkit.edits._core import Effect, Plan, Step, Target

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CHUNK", "MAX_INCLUSIONS", "InclusionsEdit", "parse_ids"]

MAX_INCLUSIONS = 2000
# the API caps bulk deletes at 100 ids per request; adds use the same size so that every
# request is small and every chunk is its own step (rolled back on its own)
CHUNK = 100
_FIELDS = ("add_users", "remove_users", "add_cohorts", "remove_cohorts")
_SEPARATORS = re.compile(r"[,;\r\n\t]+")


def parse_ids(value: str | Iterable[Any]) -> list[str]:
    """Ids from comma-, semicolon- or newline-separated text or an iterable; stripped, deduplicated."""
    if isinstance(value, str):
        items: Iterable[Any] = _SEPARATORS.split(value)
    else:
        items = value
    out = [str(item).strip() for item in items if item is not None]
    return list(dict.fromkeys(i for i in out if i))


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


def _present(
    variant_key: str, what: str, ids: list[str]
) -> Callable[[Mapping[str, Any]], list[str]]:
    """What a re-read shows of these ids: the ones included (sorted); all for an applied add."""
    wanted = set(ids)

    def read(state: Mapping[str, Any]) -> list[str]:
        return sorted(wanted.intersection(state["inclusions"][variant_key][what]))

    return read


def _sample(ids: list[str], n: int = 3) -> str:
    shown = ", ".join(repr(i) for i in ids[:n])
    return shown + (f" and {len(ids) - n} more" if len(ids) > n else "")


class InclusionsEdit(Plan):
    """A change to the users and cohorts individually included in variants.

    ``add_users(variant, ids)``, ``remove_users``, ``add_cohorts``, ``remove_cohorts``
    accept a list or pasted text (comma- or newline-separated). Ids already included are
    skipped when adding. Requests go out in chunks of 100 ids, removals first so that a
    variant near the 2,000 limit has room for the adds.
    """

    _what = "inclusions edit"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pending: dict[str, dict[str, list[str]]] = {}
        super().__init__(*args, **kwargs)

    @classmethod
    def _read(cls, target: Target) -> dict[str, Any]:
        config = target.read_config()
        keys = [str(v["key"]) for v in config.get("variants") or []]
        return {"config": config, "inclusions": {k: target.read_inclusions(k) for k in keys}}

    # -- intended change --------------------------------------------------------------------
    def _add(self, variant_key: str, field: str, ids: str | Iterable[Any]) -> Self:
        pending = self._pending.setdefault(str(variant_key), {f: [] for f in _FIELDS})
        pending[field] = list(dict.fromkeys([*pending[field], *parse_ids(ids)]))
        return self

    def add_users(self, variant_key: str, users: str | Iterable[Any]) -> Self:
        """Records users (or device ids) to include in a variant; returns self."""
        return self._add(variant_key, "add_users", users)

    def remove_users(self, variant_key: str, users: str | Iterable[Any]) -> Self:
        """Records users to remove from a variant's inclusions; returns self."""
        return self._add(variant_key, "remove_users", users)

    def add_cohorts(self, variant_key: str, cohorts: str | Iterable[Any]) -> Self:
        """Records cohort ids to include in a variant; returns self."""
        return self._add(variant_key, "add_cohorts", cohorts)

    def remove_cohorts(self, variant_key: str, cohorts: str | Iterable[Any]) -> Self:
        """Records cohort ids to remove from a variant; returns self."""
        return self._add(variant_key, "remove_cohorts", cohorts)

    def set_changes(
        self,
        variant_key: str,
        *,
        add_users: str | Iterable[Any] | None = None,
        remove_users: str | Iterable[Any] | None = None,
        add_cohorts: str | Iterable[Any] | None = None,
        remove_cohorts: str | Iterable[Any] | None = None,
    ) -> Self:
        """Replaces (rather than extends) the given pending lists of one variant; returns self."""
        pending = self._pending.setdefault(str(variant_key), {f: [] for f in _FIELDS})
        given = {
            "add_users": add_users,
            "remove_users": remove_users,
            "add_cohorts": add_cohorts,
            "remove_cohorts": remove_cohorts,
        }
        for field, value in given.items():
            if value is not None:
                pending[field] = parse_ids(value)
        return self

    def pending(self, variant_key: str) -> dict[str, list[str]]:
        """The intended adds and removals of one variant (lists of ids, as recorded)."""
        found = self._pending.get(variant_key) or {}
        return {f: list(found.get(f, [])) for f in _FIELDS}

    def discard(self, variant_key: str | None = None) -> Self:
        """Forgets the intended change of one variant (or all); returns self."""
        if variant_key is None:
            self._clear()
        else:
            self._pending.pop(variant_key, None)
        return self

    def _clear(self) -> None:
        self._pending = {}

    # -- state ------------------------------------------------------------------------------
    def current(self, variant_key: str) -> dict[str, list[str]]:
        """The variant's users and cohorts as loaded."""
        found = self._state["inclusions"].get(variant_key) or {"users": [], "cohorts": []}
        return {"users": list(found["users"]), "cohorts": list(found["cohorts"])}

    def _effective(self, variant_key: str) -> dict[str, list[str]]:
        """Adds without ids already included, removals of included ids only."""
        now = self.current(variant_key)
        pending = self.pending(variant_key)
        out = {}
        for what in ("users", "cohorts"):
            have = set(now[what])
            out[f"add_{what}"] = [i for i in pending[f"add_{what}"] if i not in have]
            out[f"remove_{what}"] = [i for i in pending[f"remove_{what}"] if i in have]
        return out

    def _values(self, state: Mapping[str, Any]) -> dict[str, Any]:
        return {
            k: {"users": sorted(v["users"]), "cohorts": sorted(v["cohorts"])}
            for k, v in state["inclusions"].items()
        }

    def _planned(self) -> dict[str, Any]:
        out = self._values(self._state)
        for key in self.variant_keys:
            eff = self._effective(key)
            for what in ("users", "cohorts"):
                removed = set(eff[f"remove_{what}"])
                kept = [i for i in out[key][what] if i not in removed]
                out[key][what] = sorted([*kept, *eff[f"add_{what}"]])
        return out

    def counts(self, variant_key: str) -> dict[str, int]:
        """Users and cohorts of a variant before and after the change."""
        now = self.current(variant_key)
        after = self._planned().get(variant_key, {"users": [], "cohorts": []})
        return {
            "users_before": len(now["users"]),
            "users_after": len(after["users"]),
            "cohorts_before": len(now["cohorts"]),
            "cohorts_after": len(after["cohorts"]),
        }

    # -- validation -------------------------------------------------------------------------
    def _validate(self) -> list[str]:
        keys = self.variant_keys
        errors: list[str] = []
        planned = self._planned()
        for key, pending in self._pending.items():
            if not any(pending.values()):
                continue
            if key not in keys:
                errors.append(
                    f"inclusions.{key}: unknown variant; allowed: {', '.join(keys) or '(none)'}"
                )
                continue
            now = self.current(key)
            for what in ("users", "cohorts"):
                adds, removes = pending[f"add_{what}"], pending[f"remove_{what}"]
                removing, have = set(removes), set(now[what])
                both = [i for i in adds if i in removing]
                if both:
                    errors.append(f"{what}.{key}: both added and removed: {_sample(both)}")
                missing = [i for i in removes if i not in have]
                if missing:
                    errors.append(f"{what}.{key}: cannot remove {_sample(missing)}: not included")
                total = len(planned[key][what])
                if total > MAX_INCLUSIONS:
                    errors.append(
                        f"{what}.{key}: {total:,} after the change, over the limit of "
                        f"{MAX_INCLUSIONS:,} per variant"
                        + ("; include a cohort instead of listing users" if what == "users" else "")
                    )
                if self._target.legacy and (removes or (what == "cohorts" and adds)):
                    errors.append(
                        f"{what}.{key}: the LegacyClient has no "
                        + ("cohort endpoints" if what == "cohorts" else "bulk removal")
                        + "; use expkit.Client"
                    )
        return errors

    # -- steps ------------------------------------------------------------------------------
    def _steps(self) -> list[Step]:
        target = self._target
        steps: list[Step] = []
        for key in self.variant_keys:
            eff = self._effective(key)
            for what in ("users", "cohorts"):
                for chunk in _chunks(eff[f"remove_{what}"]):
                    step = target.remove(key, what, chunk)
                    effect = Effect(_present(key, what, chunk), sorted(chunk), [])
                    steps.append(step.reversible(target.add(key, what, chunk), effect))
            for what in ("users", "cohorts"):
                for chunk in _chunks(eff[f"add_{what}"]):
                    step = target.add(key, what, chunk)
                    effect = Effect(_present(key, what, chunk), [], sorted(chunk))
                    steps.append(step.reversible(target.remove(key, what, chunk), effect))
        return steps

    def _describe(self) -> list[str]:
        lines = []
        for key in self.variant_keys:
            if key not in self._pending:
                continue
            eff = self._effective(key)
            pending = self.pending(key)
            for what in ("users", "cohorts"):
                add, rem = eff[f"add_{what}"], eff[f"remove_{what}"]
                skipped = len(pending[f"add_{what}"]) - len(add)
                if not add and not rem:
                    continue
                text = f"{what}.{key}: +{len(add)} −{len(rem)}"
                if skipped:
                    text += f" ({skipped} already included, skipped)"
                lines.append(text)
        return lines

    def preview(self) -> pd.DataFrame:
        """Per variant and inclusion type: count before, added, removed, after, the limit."""
        import pandas as pd

        planned = self._planned()
        rows: dict[str, list[Any]] = {
            c: []
            for c in (
                "variant",
                "inclusion_type",
                "before",
                "added",
                "removed",
                "after",
                "limit",
                "changed",
            )
        }
        for key in self.variant_keys:
            eff = self._effective(key)
            now = self.current(key)
            for what, label in (("users", "user"), ("cohorts", "cohort")):
                added, removed = len(eff[f"add_{what}"]), len(eff[f"remove_{what}"])
                rows["variant"].append(key)
                rows["inclusion_type"].append(label)
                rows["before"].append(len(now[what]))
                rows["added"].append(added)
                rows["removed"].append(removed)
                rows["after"].append(len(planned[key][what]))
                rows["limit"].append(MAX_INCLUSIONS)
                rows["changed"].append(bool(added or removed))
        dtypes = {
            "variant": "string",
            "inclusion_type": "string",
            "before": "Int64",
            "added": "Int64",
            "removed": "Int64",
            "after": "Int64",
            "limit": "Int64",
            "changed": "boolean",
        }
        return pd.DataFrame(rows).astype(dtypes)

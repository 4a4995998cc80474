"""An in-memory client double for the edit-plan tests (over an org dict such as ``edits_org()``)."""

from __future__ import annotations

import copy
from typing import Any

from expkit.errors import ServerError


class _MemoryResource:
    """The slice of ``client.flags`` the plans use, over a dict, recording every write."""

    def __init__(self, owner: MemoryClient, kind: str) -> None:
        self._owner = owner
        self._kind = kind

    def _config(self, id: str) -> dict[str, Any]:
        return next(c for c in self._owner.org[self._kind] if c["id"] == id)

    def _write(self, name: str, *args: Any, **kwargs: Any) -> None:
        self._owner.writes.append((name, args, kwargs))
        if len(self._owner.writes) in self._owner.interrupt_writes:
            raise KeyboardInterrupt
        if len(self._owner.writes) in self._owner.fail_writes:
            raise ServerError(500, "PATCH", f"memory://{name}", "injected failure")

    def get(self, id: str) -> dict[str, Any]:
        return copy.deepcopy(self._config(id))

    def versions(self, id: str) -> list[dict[str, Any]]:
        return copy.deepcopy(self._owner.org["versions"].get(id, []))

    def users(self, id: str, variant_key: str) -> list[str]:
        return list(self._owner.org["inclusions"][id][variant_key]["users"])

    def cohorts(self, id: str, variant_key: str) -> list[str]:
        return list(self._owner.org["inclusions"][id][variant_key]["cohorts"])

    def edit_variant(self, id: str, variant_key: str, **fields: Any) -> str:
        self._write("edit_variant", id, variant_key, **fields)
        config = self._config(id)
        if "rollout_weight" in fields:
            config["rolloutWeights"][variant_key] = fields["rollout_weight"]
        if "payload" in fields:
            variant = next(v for v in config["variants"] if v["key"] == variant_key)
            variant["payload"] = fields["payload"]
        return "OK"

    def edit(self, id: str, **fields: Any) -> str:
        self._write("edit", id, **fields)
        config = self._config(id)
        if "rollout_percentage" in fields:
            config["rolloutPercentage"] = fields["rollout_percentage"]
        if "enabled" in fields:
            config["enabled"] = fields["enabled"]
        return "OK"

    def _inclusions(self, id: str, key: str, what: str) -> list[str]:
        return self._owner.org["inclusions"][id][key][what]

    def add_users(self, id: str, variant_key: str, users: list[str]) -> str:
        self._write("add_users", id, variant_key, list(users))
        self._inclusions(id, variant_key, "users").extend(users)
        return "OK"

    def add_cohorts(self, id: str, variant_key: str, cohorts: list[str]) -> str:
        self._write("add_cohorts", id, variant_key, list(cohorts))
        self._inclusions(id, variant_key, "cohorts").extend(cohorts)
        return "OK"

    def remove_users(self, id: str, variant_key: str, users: list[str]) -> str:
        self._write("remove_users", id, variant_key, list(users))
        current = self._inclusions(id, variant_key, "users")
        current[:] = [u for u in current if u not in set(users)]
        return "OK"

    def remove_cohorts(self, id: str, variant_key: str, cohorts: list[str]) -> str:
        self._write("remove_cohorts", id, variant_key, list(cohorts))
        current = self._inclusions(id, variant_key, "cohorts")
        current[:] = [c for c in current if c not in set(cohorts)]
        return "OK"


class MemoryClient:
    """A client double over an org dict: ``writes`` logs each write; ``fail_writes`` and
    ``interrupt_writes`` hold the 1-based numbers of writes that raise a ServerError or a
    KeyboardInterrupt."""

    base_url = "memory://org"

    def __init__(self, org: dict[str, Any]) -> None:
        self.org = org
        self.writes: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.fail_writes: set[int] = set()
        self.interrupt_writes: set[int] = set()
        self.flags = _MemoryResource(self, "flags")
        self.experiments = _MemoryResource(self, "experiments")

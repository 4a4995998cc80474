"""The stores every family of the fake's state works on, and the internals they share.

:class:`StateBase` declares the stores (configs, inclusions, versions, deployments, groups),
the clock and the ids; the family mixins (:mod:`._configs`, :mod:`._variants`,
:mod:`._deployments`, :mod:`._groups`) add the operations, and :class:`~._state.State` joins
them. Every mutation of a config ticks the clock by one second and writes a new version.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from expkit.fake._clock import FakeClock, IdGenerator, iso
from expkit.fake._common import KINDS, FakeError, _bad, _clone, _not_found
from expkit.fake._records import VersionRecord

__all__ = ["StateBase"]

_TIME_FIELDS = ("createdBy", "createdAt", "lastModifiedBy", "lastModifiedAt")


class StateBase:
    """The stores of a fake org and the internals shared by its families."""

    clock: FakeClock
    ids: IdGenerator
    api_user: str
    _initial: tuple[dict[str, Any] | None, datetime, int]

    def _clear(self) -> None:
        self._configs: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self._order: dict[str, list[str]] = {k: [] for k in KINDS}  # oldest first
        self._kind_of: dict[str, str] = {}
        self._config_json: dict[str, bytes] = {}
        self._inclusions: dict[str, dict[str, dict[str, list[str]]]] = {}
        self._versions: dict[str, list[VersionRecord]] = {}
        self._timeline: list[VersionRecord] = []  # all versions, oldest first
        self._timeline_ts: list[str] = []
        self._deployments: dict[str, dict[str, Any]] = {}
        self._mutexes: dict[str, dict[str, Any]] = {}
        self._holdouts: dict[str, dict[str, Any]] = {}

    # ----- internals ---------------------------------------------------------------------

    def _iter_configs(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for kind in KINDS:
            yield from self._configs[kind].items()

    def _config(self, kind: str, cid: Any) -> dict[str, Any]:
        if kind not in KINDS:
            raise FakeError(404, f"no such resource {kind!r}")
        config = self._configs[kind].get(str(cid))
        if config is None:
            raise _not_found(kind[:-1], str(cid))
        return config

    def _tick(self) -> str:
        return iso(self.clock.advance(seconds=1))

    def _flag_config(self, kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
        drop = _TIME_FIELDS + (("state",) if kind == "experiments" else ())
        return _clone({k: v for k, v in config.items() if k not in drop})

    def _append_version(self, kind: str, cid: str, when: str, by: str) -> None:
        config = self._configs[kind][cid]
        records = self._versions.setdefault(cid, [])
        number = records[-1].version + 1 if records else 1
        record = VersionRecord(kind, cid, number, when, by, self._flag_config(kind, config))
        records.append(record)
        at = bisect.bisect_right(self._timeline_ts, record.ts)
        self._timeline.insert(at, record)
        self._timeline_ts.insert(at, record.ts)

    def _commit(self, kind: str, cid: str, by: str | None) -> None:
        """Stamps a mutation of a config: clock tick, lastModified*, a new version."""
        by = by or self.api_user
        when = self._tick()
        config = self._configs[kind][cid]
        config["lastModifiedAt"] = when
        config["lastModifiedBy"] = by
        self._config_json.pop(cid, None)
        self._append_version(kind, cid, when, by)

    def _check_key_unique(self, key: str, project_id: Any, field: str = "key") -> None:
        """400 when ``key`` is taken in ``project_id``: keys are unique per project (flags,
        experiments, mutexes and holdouts together), so dev and prod may share one."""
        project = str(project_id)
        for _, config in self._iter_configs():
            if config.get("key") == key and str(config.get("projectId")) == project:
                raise _bad(
                    field,
                    f"{key!r} is already used in project {project} by "
                    f"{self._kind_of[config['id']][:-1]} {config['id']}",
                )
        for what, store in (("mutex", self._mutexes), ("holdout", self._holdouts)):
            for group in store.values():
                if group.get("key") == key and str(group.get("projectId")) == project:
                    raise _bad(
                        field,
                        f"{key!r} is already used in project {project} by {what} {group['id']}",
                    )

    def _variant_keys(self, config: Mapping[str, Any]) -> list[str]:
        return [v["key"] for v in config.get("variants") or []]

    def _variant_index(self, config: Mapping[str, Any], variant_key: str) -> int:
        for i, variant in enumerate(config.get("variants") or []):
            if variant.get("key") == variant_key:
                return i
        raise _not_found("variant", variant_key)

    def _check_deployments(self, ids: list[str], field: str) -> None:
        for i, did in enumerate(ids):
            if did not in self._deployments:
                raise _bad(f"{field}[{i}]", f"no deployment with id {did!r}")

"""The fake org's state: plain data and CRUD that raise domain errors, no HTTP.

Modelled on moto's ``models.py``: :class:`State` owns flags, experiments, deployments, mutex
groups, holdouts, variant inclusions and an append-only version history per config. Every
mutation of a flag or experiment (inclusions and deployments too) ticks the injected
:class:`FakeClock` by one second and writes a new version, so histories have distinct,
increasing times. Errors are :class:`FakeError` and carry their HTTP status; validation
mirrors the public documentation (see ``API-NOTES.md``). Not thread-safe: the server
serialises access.

The operations live by family, one module each, mirroring the routes: configs
(``_configs``), variants and inclusions (``_variants``), deployments (``_deployments``),
groups (``_groups``), server-side checks (``_checks``), clock and ids (``_clock``). This
module joins them into :class:`State` and holds its lifecycle (``from_org``, ``reset``,
``to_org``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from expkit import _gc
from expkit._validate import CONDITION_OPS
from expkit.fake._clock import FakeClock, IdGenerator, _as_datetime, _time_key, iso
from expkit.fake._common import API_USER, KINDS, FakeError, _clone
from expkit.fake._configs import ConfigsMixin
from expkit.fake._deployments import DeploymentsMixin
from expkit.fake._groups import HOLDOUT_PASS_VARIANT, GroupsMixin
from expkit.fake._records import VersionRecord
from expkit.fake._variants import VariantsMixin

if TYPE_CHECKING:
    from expkit._client import Client

__all__ = [
    "CONDITION_OPS",
    "HOLDOUT_PASS_VARIANT",
    "FakeClock",
    "FakeError",
    "IdGenerator",
    "State",
    "VersionRecord",
    "iso",
]


class State(ConfigsMixin, VariantsMixin, DeploymentsMixin, GroupsMixin):
    """The fake org: configs, deployments, groups, inclusions and version history.

    The public facade over the families: configs (:mod:`._configs`), variants and
    inclusions (:mod:`._variants`), deployments (:mod:`._deployments`), groups
    (:mod:`._groups`); request bodies are checked by :mod:`._checks`; the clock and ids
    come from :mod:`._clock`.
    """

    def __init__(
        self,
        *,
        clock: FakeClock | None = None,
        ids: IdGenerator | None = None,
        api_user: str = API_USER,
    ) -> None:
        self.clock = clock if clock is not None else FakeClock()
        self.ids = ids if ids is not None else IdGenerator(0)
        self.api_user = api_user
        self._initial: tuple[dict[str, Any] | None, datetime, int] = (
            None,
            self.clock.now(),
            self.ids.seed,
        )
        self._clear()

    # ----- lifecycle ---------------------------------------------------------------------

    @classmethod
    def from_org(
        cls,
        org: Mapping[str, Any],
        *,
        clock: FakeClock | None = None,
        ids: IdGenerator | None = None,
    ) -> State:
        """A State holding ``org`` (the wire-format dict of CONTRACT.md).

        Without ``clock`` the clock starts at the latest timestamp in the org. Version
        ``flagConfig`` dicts are shared, not copied (they are never mutated); everything
        else is copied. Configs without versions get a version 1 of their current form.
        """
        if clock is None:
            clock = FakeClock(_latest_time(org))
        state = cls(clock=clock, ids=ids)
        state._initial = (dict(org), clock.now(), state.ids.seed)
        with _gc.paused():
            state._load(org)
        return state

    def reset(self) -> None:
        """Back to the org this State started from, with the clock and ids rewound."""
        org, start, seed = self._initial
        self.clock = FakeClock(start)
        self.ids = IdGenerator(seed)
        self._clear()
        if org is not None:
            with _gc.paused():
                self._load(org)

    def _load(self, org: Mapping[str, Any]) -> None:
        for kind in KINDS:
            items = [_clone(c) for c in org.get(kind) or []]
            # the API lists newest first; keep oldest first, stable on equal times
            items.reverse()
            items.sort(key=lambda c: _time_key(c.get("createdAt")))
            for config in items:
                cid = str(config["id"])
                config["id"] = cid
                self.ids.reserve(cid)
                self._configs[kind][cid] = config
                self._order[kind].append(cid)
                self._kind_of[cid] = kind
        for dep in org.get("deployments") or []:
            dep = _clone(dep)
            dep["id"] = str(dep["id"])
            self.ids.reserve(dep["id"])
            self._deployments[dep["id"]] = dep
        for name, store in (("mutexes", self._mutexes), ("holdouts", self._holdouts)):
            for group in org.get(name) or []:
                group = _clone(group)
                group["id"] = str(group["id"])
                self.ids.reserve(group["id"])
                store[group["id"]] = group
        inclusions = org.get("inclusions") or {}
        for cid, config in self._iter_configs():
            given = inclusions.get(cid) or {}
            self._inclusions[cid] = {
                v["key"]: {
                    "users": list((given.get(v["key"]) or {}).get("users") or []),
                    "cohorts": list((given.get(v["key"]) or {}).get("cohorts") or []),
                }
                for v in config.get("variants") or []
            }
        versions = org.get("versions") or {}
        timeline: list[VersionRecord] = []
        for cid, config in self._iter_configs():
            kind = self._kind_of[cid]
            records = [
                VersionRecord(
                    kind,
                    cid,
                    int(v["version"]),
                    v.get("createdAt"),
                    v.get("createdBy"),
                    v.get("flagConfig") or {},
                )
                for v in versions.get(cid) or []
            ]
            records.sort(key=lambda r: r.version)
            if not records:
                records = [
                    VersionRecord(
                        kind,
                        cid,
                        1,
                        config.get("createdAt") or iso(self.clock.now()),
                        config.get("createdBy") or self.api_user,
                        self._flag_config(kind, config),
                    )
                ]
            self._versions[cid] = records
            timeline.extend(records)
        timeline.sort(key=lambda r: r.ts)
        self._timeline = timeline
        self._timeline_ts = [r.ts for r in timeline]

    def to_org(self) -> dict[str, Any]:
        """The org as a wire-format dict (a deep copy); versions per config, oldest first."""
        return {
            "flags": [self.get_config("flags", c) for c in reversed(self._order["flags"])],
            "experiments": [
                self.get_config("experiments", c) for c in reversed(self._order["experiments"])
            ],
            "deployments": _clone(list(self._deployments.values())),
            "mutexes": _clone(list(self._mutexes.values())),
            "holdouts": _clone(list(self._holdouts.values())),
            "versions": {
                cid: [r.to_dict() for r in records] for cid, records in self._versions.items()
            },
            "inclusions": _clone(self._inclusions),
        }

    def client(self, **client_options: Any) -> Client:
        """An ``expkit.Client`` served by this State in-process (a :class:`FakeAdapter`)."""
        from expkit.fake._adapter import FakeAdapter

        return FakeAdapter(self).client(**client_options)

    def counts(self) -> dict[str, int]:
        """How many of each thing the org holds."""
        return {
            "flags": len(self._configs["flags"]),
            "experiments": len(self._configs["experiments"]),
            "deployments": len(self._deployments),
            "mutexes": len(self._mutexes),
            "holdouts": len(self._holdouts),
            "versions": len(self._timeline),
        }

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        return f"State({parts}, now={iso(self.clock.now())!r})"


def _latest_time(org: Mapping[str, Any]) -> datetime:
    latest = ""
    for kind in KINDS:
        for config in org.get(kind) or []:
            for name in ("createdAt", "lastModifiedAt"):
                latest = max(latest, _time_key(config.get(name)))
    for records in (org.get("versions") or {}).values():
        for record in records:
            latest = max(latest, _time_key(record.get("createdAt")))
    for name in ("mutexes", "holdouts"):
        for group in org.get(name) or []:
            latest = max(latest, _time_key(group.get("lastModifiedAt")))
    if not latest:
        return datetime.now(UTC).replace(microsecond=0)
    return _as_datetime(latest, "createdAt").replace(microsecond=0)

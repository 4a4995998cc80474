"""The one synthetic-org builder of the tests, on top of ``expkit.fake._synth``.

:class:`OrgBuilder` builds a wire-format org (the dict ``State.from_org`` takes): configs
from ``_synth.new_config`` with version histories, deployments, mutexes and holdouts,
inclusions. It hands the org over as a dict (:meth:`OrgBuilder.to_org`), as a fake
:class:`State`, as an in-process :class:`FakeAdapter`, or flattened by the real
``expkit.frames`` into a snapshot (:meth:`OrgBuilder.snapshot`).

The presets below are the small orgs the test packages share: :func:`small_org` (the fake's
tests), :func:`edits_org` (edit plans), :func:`fetch_org` (snapshot and fetch),
:class:`~tests.support.snapshots.HygieneOrg` (hygiene rules and reports, ages in days
before ``NOW``, in a module of its own because it needs pandas).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from expkit.fake import FakeAdapter, FakeClock, State
from expkit.fake._synth import new_config

__all__ = [
    "DEPLOY_KEY",
    "FETCH_NOW",
    "NOW_DT",
    "T0",
    "OrgBuilder",
    "days_ago",
    "edits_org",
    "fetch_org",
    "small_org",
]

# what a version's flagConfig leaves out (the API reports these beside it)
_META = ("createdBy", "createdAt", "lastModifiedBy", "lastModifiedAt")
KINDS = {
    "flag": "flags",
    "flags": "flags",
    "experiment": "experiments",
    "experiments": "experiments",
}

# hygiene and report tests: "now", and ages counted back from it (``snapshots.NOW``)
NOW_DT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# the fake's tests: the start of the fake clock
T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
# snapshot and fetch tests
FETCH_START = datetime(2026, 1, 1, tzinfo=UTC)
FETCH_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DEPLOY_KEY = "client-" + "0123456789abcdef" * 2


def days_ago(days: float, *, now: Any = None) -> str:
    """The ISO time ``days`` days before ``now`` (default: ``NOW_DT``), microseconds kept."""
    import pandas as pd

    now = pd.Timestamp(NOW_DT if now is None else now)
    return (now - pd.Timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ms(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class OrgBuilder:
    """Builds a wire-format org: configs with histories, deployments, groups, inclusions.

    ``project_id`` is the default project of what is added; ``defaults`` are fields every
    config gets (before its own ``fields``). Times are ISO strings, datetimes, or a number of
    days before ``now``.
    """

    def __init__(
        self,
        *,
        project_id: str = "100",
        now: datetime | Any = NOW_DT,
        defaults: Mapping[str, Any] | None = None,
        first_id: int = 1000,
        seed: int = 0,
    ) -> None:
        self.project_id = project_id
        self.now = now
        self.defaults = dict(defaults or {})
        self._rng = random.Random(seed)
        self._next_id = first_id
        self.configs: dict[str, list[dict[str, Any]]] = {"flags": [], "experiments": []}
        self.kinds: dict[str, str] = {}  # config id -> "flag" | "experiment"
        self.created: list[dict[str, Any]] = []  # every config, in the order added
        self.versions: dict[str, list[dict[str, Any]]] = {}
        self.deployments: list[dict[str, Any]] = []
        self.mutexes: list[dict[str, Any]] = []
        self.holdouts: list[dict[str, Any]] = []
        self.inclusions: dict[str, dict[str, dict[str, list[str]]]] = {}
        self.inclusion_records: list[dict[str, Any]] = []

    # ----- time --------------------------------------------------------------------------

    def stamp(self, when: str | datetime | float | int) -> str:
        """An ISO string for ``when`` (a number is days before ``now``)."""
        if isinstance(when, str):
            return when
        if isinstance(when, int | float):
            return days_ago(float(when), now=self.now)
        return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _pd_now(self) -> Any:
        import pandas as pd

        return pd.Timestamp(self.now)

    # ----- configs -----------------------------------------------------------------------

    def config(
        self,
        kind: str,
        key: str,
        *,
        id: str | None = None,
        history: Iterable[tuple[Any, ...]] | None = None,
        created: str | datetime | float | None = None,
        omit: Sequence[str] = (),
        **fields: Any,
    ) -> dict[str, Any]:
        """Adds a flag or experiment and returns it (the dict in the org, not a copy).

        The config starts from ``_synth.new_config``, then ``defaults``, then ``fields``;
        ``omit`` drops fields. ``history``: ``(when, overrides[, by])`` per version, oldest
        first; each version is the final config with its overrides; without it one version
        at ``created`` (default 400 days before ``now``). ``createdAt``/``lastModifiedAt``
        default to the first and the last version's times.
        """
        plural = KINDS[kind]
        if id is None:
            self._next_id += 1
            id = str(self._next_id)
        merged = {**self.defaults, **fields}
        variants = merged.pop("variants", [{"key": "on"}])
        config = new_config(
            self._rng,
            plural,
            cid=id,
            project_id=str(merged.pop("projectId", self.project_id)),
            key=key,
            name=merged.pop("name", key),
            description=merged.pop("description", ""),
            variants=copy.deepcopy(variants),
            tags=merged.pop("tags", []),
            salt=merged.pop("bucketingSalt", "salt"),
        )
        config.update(copy.deepcopy(merged))
        for name in omit:
            config.pop(name, None)
        steps = (
            list(history) if history is not None else [(400.0 if created is None else created, {})]
        )
        records = []
        for number, step in enumerate(steps, start=1):
            when, overrides = step[0], step[1]
            by = step[2] if len(step) > 2 else f"v{number}@example.com"
            flag_config = {k: copy.deepcopy(v) for k, v in config.items() if k not in _META}
            flag_config.pop("state", None)
            flag_config.update(copy.deepcopy(dict(overrides)))
            records.append(
                {
                    "version": number,
                    "createdAt": self.stamp(when),
                    "createdBy": by,
                    "flagConfig": flag_config,
                }
            )
        config.setdefault("createdBy", "creator@example.com")
        config.setdefault(
            "createdAt", self.stamp(created) if created is not None else records[0]["createdAt"]
        )
        config.setdefault("lastModifiedBy", "editor@example.com")
        config.setdefault("lastModifiedAt", records[-1]["createdAt"])
        self.configs[plural].append(config)
        self.created.append(config)
        self.kinds[config["id"]] = plural[:-1]
        self.versions[config["id"]] = records
        return config

    def flag(self, key: str, **options: Any) -> dict[str, Any]:
        """Adds a flag (see :meth:`config`)."""
        return self.config("flags", key, **options)

    def experiment(self, key: str, **options: Any) -> dict[str, Any]:
        """Adds an experiment (see :meth:`config`)."""
        return self.config("experiments", key, **options)

    # ----- the rest of the org -----------------------------------------------------------

    def deployment(
        self, id: str, label: str, key: str, *, deleted: bool = False, project_id: str | None = None
    ) -> dict[str, Any]:
        """Adds a deployment."""
        deployment = {
            "id": id,
            "projectId": project_id or self.project_id,
            "label": label,
            "key": key,
            "deleted": deleted,
        }
        self.deployments.append(deployment)
        return deployment

    def mutex(
        self, id: str, *, slots: Sequence[Mapping[str, Any]] | int = 2, **fields: Any
    ) -> dict[str, Any]:
        """Adds a mutex group; ``slots`` is a number of equal slots or the slot dicts."""
        if isinstance(slots, int):
            built = [
                {"name": f"SLOT {i}", "index": i, "variantKey": f"slot-{i}", "percentage": 50}
                for i in range(1, slots + 1)
            ]
        else:
            built = [dict(s) for s in slots]
        group = {
            "id": id,
            "projectId": fields.pop("projectId", self.project_id),
            "key": fields.pop("key", f"mutex-{id}"),
            "name": fields.pop("name", f"Mutex {id}"),
            "description": fields.pop("description", None),
            **fields,
            "slots": built,
        }
        self.mutexes.append(group)
        return group

    def include(
        self,
        config: Mapping[str, Any],
        variant: str,
        users: Iterable[str] = (),
        *,
        cohorts: Iterable[str] = (),
    ) -> None:
        """Includes ``users`` (and ``cohorts``) in ``variant`` of ``config``."""
        users, cohorts = list(users), list(cohorts)
        lists = self.inclusions.setdefault(config["id"], {}).setdefault(
            variant, {"users": [], "cohorts": []}
        )
        lists["users"].extend(users)
        lists["cohorts"].extend(cohorts)
        self.inclusion_records.append(
            {
                "config_id": config["id"],
                "kind": self.kinds[config["id"]],
                "config_key": config["key"],
                "variant_key": variant,
                "users": users,
                "cohorts": cohorts,
            }
        )

    # ----- views -------------------------------------------------------------------------

    def to_org(self, *, versions: bool = True, newest_first: bool = True) -> dict[str, Any]:
        """The org as the wire-format dict ``State.from_org`` takes (a deep copy)."""
        order = reversed if newest_first else list
        org: dict[str, Any] = {
            "flags": [copy.deepcopy(c) for c in order(self.configs["flags"])],
            "experiments": [copy.deepcopy(c) for c in order(self.configs["experiments"])],
            "deployments": copy.deepcopy(self.deployments),
            "mutexes": copy.deepcopy(self.mutexes),
            "holdouts": copy.deepcopy(self.holdouts),
        }
        if versions:
            org["versions"] = copy.deepcopy(self.versions)
        org["inclusions"] = copy.deepcopy(self.inclusions)
        return org

    def state(self, *, clock: FakeClock | datetime | str | None = None) -> State:
        """A fake State holding the org (its clock at ``clock`` when given)."""
        if clock is not None and not isinstance(clock, FakeClock):
            clock = FakeClock(clock)
        return State.from_org(self.to_org(), clock=clock)

    def adapter(self, **state_options: Any) -> FakeAdapter:
        """The org served in-process (``adapter.client()`` is a Client over it)."""
        return FakeAdapter(self.state(**state_options))

    def snapshot(self) -> SimpleNamespace:
        """The org through the real flatteners, with a Snapshot's attributes."""
        from expkit import frames

        configs = self.created
        kinds = self.kinds
        versions = [v for c in configs for v in self.versions[c["id"]]]
        return SimpleNamespace(
            configs=frames.configs(configs, kind=kinds),
            variants=frames.variants(configs, kind=kinds),
            segments=frames.segments(configs, kind=kinds),
            conditions=frames.conditions(configs, kind=kinds),
            versions=frames.versions(versions, kind=kinds),
            inclusions=frames.inclusions(self.inclusion_records),
            deployments=frames.deployments(self.deployments),
            groups=frames.groups(self.mutexes, kind="mutex"),
            taken_at=self._pd_now(),
        )


# ---------------------------------------------------------------------------------------
# presets


def small_org() -> dict[str, Any]:
    """The fake's tests: two flags (one archived) and one experiment in project 100, one
    deployment (900), inclusions on flag 11; no versions (the State writes version 1)."""
    org = OrgBuilder(
        defaults={
            "enabled": True,
            "bucketingSalt": "salt1234",
            "variants": [
                {"key": "control", "name": "", "description": "", "payload": None},
                {"key": "treatment", "name": "", "description": "", "payload": {"color": "red"}},
            ],
            "rolloutPercentage": 50,
            "deployments": ["900"],
            "tags": ["team:web"],
            "createdBy": "ana@example.com",
            "lastModifiedBy": "ana@example.com",
        }
    )
    org.deployment("900", "web", "client-abc")
    checkout = org.flag(
        "checkout-v2",
        id="11",
        created="2025-12-03T10:00:00.000Z",
        description="the checkout-v2 config",
    )
    org.flag(
        "old-banner",
        id="12",
        created="2025-12-02T10:00:00.000Z",
        description="the old-banner config",
        archived=True,
    )
    org.experiment(
        "pricing-test",
        id="21",
        created="2025-12-01T10:00:00.000Z",
        description="the pricing-test config",
        omit=("exposureEvent",),
        state="running",
        startDate="2025-12-01",
    )
    org.include(checkout, "treatment", ["u1", "u2", "u3"], cohorts=["c1"])
    # the flags were added newest first already
    return org.to_org(versions=False, newest_first=False)


def edits_org() -> dict[str, Any]:
    """The edit plans' tests: one flag (1001, two variants 1:1, 100%) and one running
    experiment (2001) in project 100, deployment 7, one version each, inclusions."""
    org = OrgBuilder(
        defaults={
            "description": "test config",
            "enabled": True,
            "bucketingSalt": "salt1234",
            "variants": [
                {"key": "control", "name": "", "description": "", "payload": {"color": "grey"}},
                {"key": "treatment", "name": "", "description": "", "payload": {"color": "blue"}},
            ],
            "rolloutPercentage": 100,
            "deployments": ["7"],
            "tags": ["team:checkout"],
            "createdBy": "alice@example.com",
            "lastModifiedBy": "alice@example.com",
        }
    )
    org.deployment("7", "web", "client-abc")
    when = "2026-11-01T10:00:00Z"
    flag = org.flag("new-checkout", id="1001", history=[(when, {}, "alice@example.com")])
    experiment = org.experiment(
        "pricing-test",
        id="2001",
        history=[(when, {}, "alice@example.com")],
        state="running",
        startDate="2026-11-01",
    )
    org.include(flag, "control", ["u-1", "u-2"])
    org.include(flag, "treatment", ["u-3"], cohorts=["coh-1"])
    org.include(experiment, "control")
    org.include(experiment, "treatment")
    return org.to_org()


def fetch_org(n_flags: int = 8, n_experiments: int = 4, n_versions: int = 3) -> dict[str, Any]:
    """The snapshot and fetch tests: configs with ``n_versions`` versions each (rollout
    percentage moving), varied variants, segments, tags and deployments, inclusions with an
    e-mail, two deployments (one deleted) and a mutex, in project 9000."""
    org = OrgBuilder(project_id="9000")
    org.deployment("501", "web", DEPLOY_KEY)
    org.deployment("502", "old", "server-x" * 4, deleted=True)
    org.mutex(
        "601",
        name="checkout mutex",
        key="mutex-checkout",
        evaluationMode="remote",
        bucketingKey="amplitude_id",
        bucketingSalt="mmmm",
        slots=[
            {
                "name": "SLOT 1",
                "index": 1,
                "variantKey": "slot-1",
                "percentage": 100,
                "experiments": [],
                "holdouts": [],
                "individuals": [],
                "cohorts": [],
            }
        ],
    )
    i = 0
    for kind, n in (("flags", n_flags), ("experiments", n_experiments)):
        for _ in range(n):
            keys = (
                ["control", "treatment"]
                if kind == "experiments"
                else ["on", "off", "hold"][: 1 + i % 3]
            )
            rollout = (i * 10) % 110
            fields: dict[str, Any] = {
                "name": f"{kind[:-1].title()} {i}",
                "description": f"config {i}" if i % 4 else "",
                "enabled": i % 3 != 0,
                "bucketingSalt": f"salt{i:04d}",
                "variants": [
                    {
                        "key": v,
                        "name": v.title(),
                        "description": "",
                        "payload": {"n": n} if n else None,
                    }
                    for n, v in enumerate(keys)
                ],
                "rolloutPercentage": rollout,
                "targetSegments": [
                    {
                        "name": f"Segment {s}",
                        "conditions": [
                            {
                                "prop": "country",
                                "op": "is",
                                "type": "property",
                                "values": ["US", "CA"],
                            }
                        ]
                        * (1 + s),
                        "percentage": 50,
                        "bucketingKey": "amplitude_id",
                        "rolloutWeights": {keys[0]: 1},
                    }
                    for s in range(i % 3)
                ],
                "deployments": ["501"] if i % 5 else [],
                "tags": [f"team:{i % 2}"] if i % 2 else [],
                "archived": i == 7,
                "createdBy": "alice@example.com",
                "createdAt": _ms(FETCH_START + timedelta(days=i)),
                "lastModifiedBy": "bob@example.com",
            }
            omit: tuple[str, ...] = ()
            if kind == "experiments":
                fields.update(
                    {
                        "state": "running" if i % 2 else "planning",
                        "startDate": "2026-03-01" if i % 2 else None,
                        "tags": [],
                    }
                )
                omit = ("exposureEvent",)
            history = [
                (
                    _ms(FETCH_START + timedelta(days=i, hours=v)),
                    {
                        "rolloutPercentage": rollout
                        if v == n_versions
                        else min(100, rollout + v - n_versions)
                    },
                    "bob@example.com",
                )
                for v in range(1, n_versions + 1)
            ]
            config = org.config(
                kind, f"{kind[:-1]}-{i}", id=str(1000 + i), history=history, omit=omit, **fields
            )
            org.include(
                config, keys[0], [f"user{i}@example.com", f"device-{i}"], cohorts=[f"coh{i}"]
            )
            i += 1
    return org.to_org()

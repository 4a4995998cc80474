"""The fake org's state: plain data and CRUD that raise domain errors, no HTTP.

Modelled on moto's ``models.py``: :class:`State` owns flags, experiments, deployments, mutex
groups, holdouts, variant inclusions and an append-only version history per config. Every
mutation of a flag or experiment (inclusions and deployments too) ticks the injected
:class:`FakeClock` by one second and writes a new version, so histories have distinct,
increasing times. Errors are :class:`FakeError` and carry their HTTP status; validation
mirrors the public documentation (see ``API-NOTES.md``). Not thread-safe: the server
serialises access.
"""

from __future__ import annotations

import bisect
import json
import random
import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from expkit import _gc
from expkit._validate import (
    CONDITION_OPS,
    DECISIONS,
    DEPLOYMENT_TYPES,
    EVALUATION_MODES,
    EXPERIMENT_TYPES,
    EXPOSURE_FILTER_OPS,
    MAX_INCLUSIONS,
)

__all__ = ["FakeClock", "FakeError", "IdGenerator", "State", "VersionRecord"]

KINDS = ("flags", "experiments")
API_USER = "api@expkit.local"
MAX_BULK_DELETE = 100
MAX_SLOTS = 20
# the fake's legacy types exclude "multi-arm-bandit": that one is current, not legacy
LEGACY_EXPERIMENT_TYPES = ("hypothesis-testing", "no-harm")
# experiments delivered by Web Experimentation or Guides and Surveys cannot be edited (405)
UNEDITABLE_DELIVERY = ("web", "guides-and-surveys")
_LABEL_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_TIME_FIELDS = ("createdBy", "createdAt", "lastModifiedBy", "lastModifiedAt")
_FLAG_PATCH = (
    "name",
    "description",
    "bucketingKey",
    "bucketingSalt",
    "bucketingUnit",
    "evaluationMode",
    "rolloutPercentage",
    "targetSegments",
    "enabled",
    "archive",
    "tags",
)
_EXPERIMENT_PATCH = (
    "experimentType",
    "stickyBucketing",
    "startDate",
    "endDate",
    "exposureEvent",
    "decision",
    "decisionReason",
    "rolledOutVariant",
)
_LEGACY_PATCH = (
    "name",
    "description",
    "bucketingKey",
    "bucketingSalt",
    "bucketingUnit",
    "evaluationMode",
    "rolloutPercentage",
    "enabled",
)
_LEGACY_EXPERIMENT_PATCH = (
    "experimentType",
    "stickyBucketing",
    "startDate",
    "endDate",
    "exposureEvent",
)
_CREATE_FIELDS = (
    "projectId",
    "key",
    "name",
    "description",
    "variants",
    "bucketingKey",
    "rolloutWeights",
    "targetSegments",
    "deployments",
    "evaluationMode",
)


class FakeError(Exception):
    """A domain error of the fake, with the HTTP status it is served as."""

    def __init__(self, status: int, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field

    def body(self) -> dict[str, Any]:
        """The JSON error body served for this error."""
        out: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out


def _bad(field: str, message: str) -> FakeError:
    return FakeError(400, f"{field}: {message}", field=field)


def _not_found(what: str, ident: Any) -> FakeError:
    return FakeError(404, f"{what} {ident!r} not found")


class FakeClock:
    """A settable UTC clock; ``now()`` only moves when ``advance()`` is called."""

    def __init__(self, start: datetime | str | None = None) -> None:
        if start is None:
            start = datetime.now(UTC).replace(microsecond=0)
        self._now = _as_datetime(start, "start")

    def now(self) -> datetime:
        """The current fake time, tz-aware UTC."""
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Moves the clock forward by ``timedelta(**delta)``; returns the new time."""
        step = timedelta(**delta)
        if step < timedelta(0):
            raise ValueError("a FakeClock only moves forward")
        self._now += step
        return self._now

    def __repr__(self) -> str:
        return f"FakeClock({iso(self._now)!r})"


class IdGenerator:
    """Seeded, collision-free numeric string ids and random tokens."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rng = random.Random(seed)
        self._used: set[str] = set()

    def reserve(self, ident: Any) -> None:
        """Marks an existing id as taken."""
        self._used.add(str(ident))

    def next_id(self) -> str:
        """A fresh 7-digit numeric id, as a string."""
        while True:
            ident = str(self._rng.randrange(1_000_000, 10_000_000))
            if ident not in self._used:
                self._used.add(ident)
                return ident

    def token(self, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        """A random string of ``n`` characters."""
        return "".join(self._rng.choice(alphabet) for _ in range(n))

    def __repr__(self) -> str:
        return f"IdGenerator(seed={self.seed!r})"


def iso(when: datetime) -> str:
    """``2026-11-20T09:00:00.000Z``: the API's timestamp form."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _as_datetime(value: datetime | str, field: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise _bad(field, f"{value!r} is not an ISO 8601 timestamp") from None
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    raise _bad(field, f"expected an ISO 8601 timestamp, got {value!r}")


def _time_key(value: Any) -> str:
    """A sortable key of a timestamp: the API's canonical form, parsed only when it is not."""
    if (
        isinstance(value, str)
        and len(value) == 24
        and value[10] == "T"
        and value[19] == "."
        and value[23] == "Z"
    ):
        return value
    if not value:
        return ""
    try:
        return iso(_as_datetime(value, "createdAt"))
    except FakeError:
        return ""


def _clone(value: Any) -> Any:
    # a JSON round trip: several times faster than copy.deepcopy on wire-format data
    return json.loads(_dumps(value))


def _dumps(value: Any) -> bytes:
    # compact, ASCII-only and without the circularity check: ~25% faster than the defaults,
    # which matters when a cold /api/1/versions walk encodes every version once
    return json.dumps(value, separators=(",", ":"), check_circular=False).encode()


class VersionRecord:
    """One immutable version of a config; its JSON encoding is computed once."""

    __slots__ = (
        "_raw",
        "config_id",
        "created_at",
        "created_by",
        "flag_config",
        "kind",
        "ts",
        "version",
    )

    def __init__(
        self,
        kind: str,
        config_id: str,
        version: int,
        created_at: str,
        created_by: Any,
        flag_config: dict[str, Any],
        raw: bytes | None = None,
    ) -> None:
        self.kind = kind
        self.config_id = config_id
        self.version = version
        self.created_at = created_at
        self.created_by = created_by
        self.flag_config = flag_config
        self.ts = _time_key(created_at)
        self._raw = raw

    def to_dict(self) -> dict[str, Any]:
        """The wire object ``{createdAt, createdBy, version, flagConfig}`` (a copy)."""
        return json.loads(self.raw())

    def raw(self) -> bytes:
        """The wire object as compact JSON bytes, encoded once and cached."""
        if self._raw is None:
            self._raw = _dumps(
                {
                    "createdAt": self.created_at,
                    "createdBy": self.created_by,
                    "version": self.version,
                    "flagConfig": self.flag_config,
                }
            )
        return self._raw

    def __repr__(self) -> str:
        return f"VersionRecord({self.kind[:-1]} {self.config_id} v{self.version} {self.created_at})"


# ---------------------------------------------------------------------------------------
# validation helpers: each raises a 400 FakeError naming the field


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_str(value: Any, field: str, *, nullable: bool = False, nonempty: bool = False) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str):
        raise _bad(field, f"must be a string, got {json.dumps(value)}")
    if nonempty and not value.strip():
        raise _bad(field, "must be a non-empty string")


def _check_bool(value: Any, field: str) -> None:
    if not isinstance(value, bool):
        raise _bad(field, f"must be a boolean, got {json.dumps(value)}")


def _check_str_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list):
        raise _bad(field, f"must be an array of strings, got {json.dumps(value)}")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _bad(f"{field}[{i}]", f"must be a string, got {json.dumps(item)}")
    return list(value)


def _check_choice(value: Any, field: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise _bad(field, f"{json.dumps(value)} is not one of {', '.join(allowed)}")


def _check_percentage(value: Any, field: str, lo: float = 0, hi: float = 100) -> None:
    if not _is_number(value) or not lo <= value <= hi:
        raise _bad(field, f"must be a number from {lo:g} to {hi:g}, got {json.dumps(value)}")


def _check_id_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list):
        raise _bad(field, f"must be an array of ids, got {json.dumps(value)}")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise _bad(
                f"{field}[{i}]", f"must be an id (string or integer), got {json.dumps(item)}"
            )
        out.append(str(item))
    return out


def _check_weights(
    value: Any, field: str, variant_keys: Iterable[str], *, integers: bool
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(
            field, f"must be an object mapping variant key to weight, got {json.dumps(value)}"
        )
    keys = set(variant_keys)
    for name, weight in value.items():
        if name not in keys:
            raise _bad(
                f"{field}.{name}",
                f"names no variant of this config (variants: {', '.join(sorted(keys)) or 'none'})",
            )
        if integers and (not isinstance(weight, int) or isinstance(weight, bool) or weight < 0):
            raise _bad(
                f"{field}.{name}", f"must be a non-negative integer, got {json.dumps(weight)}"
            )
        if not integers and (not _is_number(weight) or weight < 0):
            raise _bad(
                f"{field}.{name}", f"must be a non-negative number, got {json.dumps(weight)}"
            )
    return dict(value)


def _check_segments(
    value: Any, field: str, variant_keys: Iterable[str], *, legacy: bool = False
) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _bad(field, f"must be an array of segments, got {json.dumps(value)}")
    keys = list(variant_keys)
    out = []
    for i, segment in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(segment, dict):
            raise _bad(where, "must be an object")
        required = (
            ("conditions",) if legacy else ("name", "conditions", "percentage", "rolloutWeights")
        )
        for name in required:
            if name not in segment:
                raise _bad(f"{where}.{name}", "is required")
        if "name" in segment:
            _check_str(segment["name"], f"{where}.name")
        if "percentage" in segment:
            _check_percentage(segment["percentage"], f"{where}.percentage")
        if "rolloutWeights" in segment:
            _check_weights(
                segment["rolloutWeights"], f"{where}.rolloutWeights", keys, integers=False
            )
        if "bucketingKey" in segment:
            _check_str(segment["bucketingKey"], f"{where}.bucketingKey")
        conditions = segment["conditions"]
        if not isinstance(conditions, list):
            raise _bad(f"{where}.conditions", "must be an array of conditions")
        for j, condition in enumerate(conditions):
            cw = f"{where}.conditions[{j}]"
            if not isinstance(condition, dict):
                raise _bad(cw, "must be an object")
            for name in ("type", "prop", "op", "values"):
                if name not in condition:
                    raise _bad(f"{cw}.{name}", "is required")
            if condition["type"] != "property":
                raise _bad(f"{cw}.type", f'must be "property", got {json.dumps(condition["type"])}')
            _check_str(condition["prop"], f"{cw}.prop", nonempty=True)
            _check_choice(condition["op"], f"{cw}.op", CONDITION_OPS)
            _check_str_list(condition["values"], f"{cw}.values")
        out.append(_clone(segment))
    return out


def _check_variant_fields(body: Mapping[str, Any], where: str) -> None:
    for name in ("name", "description"):
        if name in body:
            _check_str(body[name], f"{where}{name}", nullable=True)
    if "key" in body:
        _check_str(body["key"], f"{where}key", nonempty=True)


def _check_unknown(body: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
    allowed = tuple(allowed)
    for name in body:
        if name not in allowed:
            raise _bad(name, f"is not a field of {what} (allowed: {', '.join(allowed)})")


def _date_only(value: Any, field: str) -> str | None:
    if value is None:
        return None
    _check_str(value, field)
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text
    return _as_datetime(text, field).date().isoformat()


# ---------------------------------------------------------------------------------------


class State:
    """The fake org: configs, deployments, groups, inclusions and version history."""

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
        return json.loads(_dumps({k: v for k, v in config.items() if k not in drop}))

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

    def _check_key_unique(self, key: str, field: str = "key") -> None:
        for _, config in self._iter_configs():
            if config.get("key") == key:
                raise _bad(
                    field,
                    f"{key!r} is already used by {self._kind_of[config['id']][:-1]} {config['id']}",
                )
        for what, store in (("mutex", self._mutexes), ("holdout", self._holdouts)):
            for group in store.values():
                if group.get("key") == key:
                    raise _bad(field, f"{key!r} is already used by {what} {group['id']}")

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

    # ----- configs: read -----------------------------------------------------------------

    def config_ids(
        self,
        kind: str,
        *,
        key: str | None = None,
        project_id: str | None = None,
        include_archived: bool = False,
    ) -> list[str]:
        """Ids of the configs of ``kind`` that match, newest first."""
        if kind not in KINDS:
            raise FakeError(404, f"no such resource {kind!r}")
        configs = self._configs[kind]
        out = []
        for cid in reversed(self._order[kind]):
            config = configs[cid]
            if key is not None and config.get("key") != key:
                continue
            if project_id is not None and str(config.get("projectId")) != str(project_id):
                continue
            if not include_archived and config.get("archived"):
                continue
            out.append(cid)
        return out

    def config_bytes(self, kind: str, cid: str) -> bytes:
        """The config's JSON encoding, cached until its next mutation."""
        config = self._config(kind, cid)
        raw = self._config_json.get(config["id"])
        if raw is None:
            raw = self._config_json[config["id"]] = _dumps(config)
        return raw

    def get_config(self, kind: str, cid: Any) -> dict[str, Any]:
        """A copy of one flag (``kind="flags"``) or experiment."""
        return _clone(self._config(kind, cid))

    def configs(self, kind: str, **filters: Any) -> list[dict[str, Any]]:
        """Copies of the configs of ``kind``, newest first (``key=``, ``project_id=``,
        ``include_archived=`` filter as the list endpoint does)."""
        return [self.get_config(kind, cid) for cid in self.config_ids(kind, **filters)]

    def kind_of(self, cid: Any) -> str:
        """``"flags"`` or ``"experiments"``: which family an id belongs to."""
        kind = self._kind_of.get(str(cid))
        if kind is None:
            raise _not_found("flag or experiment", str(cid))
        return kind

    def version_records(self, kind: str, cid: Any) -> list[VersionRecord]:
        """The config's versions, newest first."""
        config = self._config(kind, cid)
        return list(reversed(self._versions.get(config["id"], [])))

    def versions(self, kind: str, cid: Any) -> list[dict[str, Any]]:
        """The config's versions as wire objects, newest first."""
        return [r.to_dict() for r in self.version_records(kind, cid)]

    def version_record(self, kind: str, cid: Any, version: Any) -> VersionRecord:
        """One version of a config; 404 when it does not exist."""
        config = self._config(kind, cid)
        try:
            number = int(str(version))
        except ValueError:
            raise _not_found("version", version) from None
        records = self._versions.get(config["id"], [])
        if 1 <= number <= len(records) and records[number - 1].version == number:
            return records[number - 1]
        for record in records:
            if record.version == number:
                return record
        raise _not_found("version", version)

    def timeline(
        self, start: Any = None, end: Any = None, *, offset: int = 0, limit: int | None = None
    ) -> tuple[list[VersionRecord], int]:
        """Versions of every config created in ``[start, end)``, newest first.

        Returns the page ``[offset, offset + limit)`` of that ordering and the total count.
        """
        lo = 0
        hi = len(self._timeline)
        if start is not None:
            lo = bisect.bisect_left(self._timeline_ts, iso(_as_datetime(start, "start")))
        if end is not None:
            hi = bisect.bisect_left(self._timeline_ts, iso(_as_datetime(end, "end")))
        total = max(hi - lo, 0)
        top = hi - offset  # exclusive upper index of this page in the ascending list
        bottom = lo if limit is None else max(lo, top - limit)
        if top <= bottom:
            return [], total
        return self._timeline[bottom:top][::-1], total

    def warm(self, *, should_stop: Callable[[], bool] | None = None) -> int:
        """Encodes every version's JSON now, newest first; returns how many were encoded.

        Versions are immutable, so their encoding is cached on first use; warming moves that
        cost out of the first walk of ``/api/1/versions``. Safe to run in a background thread
        while requests are served (a race at worst encodes a version twice).
        """
        encoded = 0
        for record in self._timeline[::-1]:
            if should_stop is not None and should_stop():
                break
            if record._raw is None:
                record.raw()
                encoded += 1
        return encoded

    def variants(self, kind: str, cid: Any) -> list[dict[str, Any]]:
        """The config's variants with their ``rolloutWeight``."""
        config = self._config(kind, cid)
        weights = config.get("rolloutWeights") or {}
        return [_variant_view(v, weights) for v in config.get("variants") or []]

    def variant(self, kind: str, cid: Any, variant_key: str) -> dict[str, Any]:
        """One variant with its ``rolloutWeight``."""
        config = self._config(kind, cid)
        variant = config["variants"][self._variant_index(config, variant_key)]
        return _variant_view(variant, config.get("rolloutWeights") or {})

    def _inclusion_lists(self, kind: str, cid: Any, variant_key: str) -> dict[str, list[str]]:
        config = self._config(kind, cid)
        self._variant_index(config, variant_key)
        per_variant = self._inclusions.setdefault(config["id"], {})
        return per_variant.setdefault(variant_key, {"users": [], "cohorts": []})

    def users(self, kind: str, cid: Any, variant_key: str) -> list[str]:
        """The variant's individual inclusions, in order."""
        return list(self._inclusion_lists(kind, cid, variant_key)["users"])

    def cohorts(self, kind: str, cid: Any, variant_key: str) -> list[str]:
        """The variant's cohort inclusions, in order."""
        return list(self._inclusion_lists(kind, cid, variant_key)["cohorts"])

    def config_deployments(self, kind: str, cid: Any) -> list[dict[str, Any]]:
        """The deployment objects a config is in."""
        config = self._config(kind, cid)
        return [
            _clone(self._deployments[d])
            for d in config.get("deployments") or []
            if d in self._deployments
        ]

    # ----- configs: write ----------------------------------------------------------------

    def create_config(
        self,
        kind: str,
        body: Mapping[str, Any],
        *,
        by: str | None = None,
        legacy: bool = False,
    ) -> str:
        """Creates a flag or experiment from a create body; returns its id."""
        if kind not in KINDS:
            raise FakeError(404, f"no such resource {kind!r}")
        allowed = _CREATE_FIELDS
        if kind == "experiments":
            allowed = (*allowed, "experimentType", "stickyBucketing")
        _check_unknown(body, allowed, f"a {kind[:-1]} create body")
        for name in ("projectId", "key"):
            if body.get(name) in (None, ""):
                raise _bad(name, "is required")
        project_id = body["projectId"]
        if isinstance(project_id, bool) or not isinstance(project_id, str | int):
            raise _bad("projectId", f"must be a string id, got {json.dumps(project_id)}")
        _check_str(body["key"], "key", nonempty=True)
        self._check_key_unique(body["key"])
        for name in ("name", "description", "bucketingKey"):
            if name in body:
                _check_str(body[name], name, nullable=name == "description")
        evaluation_mode = body.get("evaluationMode", "remote")
        _check_choice(evaluation_mode, "evaluationMode", EVALUATION_MODES)

        default_variants = (
            [{"key": "on"}] if kind == "flags" else [{"key": "control"}, {"key": "treatment"}]
        )
        raw_variants = body.get("variants", default_variants)
        if not isinstance(raw_variants, list):
            raise _bad("variants", "must be an array of variant objects")
        variants = []
        for i, raw in enumerate(raw_variants):
            if not isinstance(raw, dict):
                raise _bad(f"variants[{i}]", "must be an object")
            _check_unknown(raw, ("key", "name", "description", "payload"), f"variants[{i}]")
            if "key" not in raw:
                raise _bad(f"variants[{i}].key", "is required")
            _check_variant_fields(raw, f"variants[{i}].")
            if raw["key"] in (v["key"] for v in variants):
                raise _bad(f"variants[{i}].key", f"duplicate variant key {raw['key']!r}")
            variants.append(_new_variant(raw))
        keys = [v["key"] for v in variants]
        if "rolloutWeights" in body:
            weights = _check_weights(body["rolloutWeights"], "rolloutWeights", keys, integers=True)
        else:
            weights = {k: 1 for k in keys}
        segments = _check_segments(
            body.get("targetSegments", []), "targetSegments", keys, legacy=legacy
        )
        deployments = _check_id_list(body.get("deployments", []), "deployments")
        self._check_deployments(deployments, "deployments")
        if kind == "experiments":
            experiment_type = body.get("experimentType", "a-b-test")
            _check_choice(
                experiment_type,
                "experimentType",
                EXPERIMENT_TYPES + (LEGACY_EXPERIMENT_TYPES if legacy else ()),
            )
            sticky = body.get("stickyBucketing", False)
            _check_bool(sticky, "stickyBucketing")

        cid = self.ids.next_id()
        by = by or self.api_user
        when = self._tick()
        config: dict[str, Any] = {
            "id": cid,
            "projectId": str(project_id),
            "key": body["key"],
            "name": body.get("name") or body["key"],
            "description": body.get("description") or "",
            "enabled": False,
            "evaluationMode": evaluation_mode,
            "bucketingKey": body.get("bucketingKey") or "amplitude_id",
            "bucketingSalt": self.ids.token(8),
            "bucketingUnit": "User",
            "variants": variants,
            "rolloutPercentage": 0,
            "rolloutWeights": weights,
            "targetSegments": segments,
            "deployments": list(dict.fromkeys(deployments)),
            "tags": [],
            "archived": False,
            "deleted": False,
        }
        if kind == "experiments":
            config.update(
                {
                    "state": "planning",
                    "decision": None,
                    "decisionReason": None,
                    "rolledOutVariant": None,
                    "stickyBucketing": sticky,
                    "startDate": None,
                    "endDate": None,
                    "experimentType": experiment_type,
                    "exposureEvent": None,
                }
            )
        config.update(
            {"createdBy": by, "createdAt": when, "lastModifiedBy": by, "lastModifiedAt": when}
        )
        self._configs[kind][cid] = config
        self._order[kind].append(cid)
        self._kind_of[cid] = kind
        self._inclusions[cid] = {k: {"users": [], "cohorts": []} for k in keys}
        self._append_version(kind, cid, when, by)
        return cid

    def edit_config(
        self,
        kind: str,
        cid: Any,
        body: Mapping[str, Any],
        *,
        by: str | None = None,
        legacy: bool = False,
    ) -> None:
        """Applies a PATCH body to a flag or experiment (``targetSegments``/``tags`` replace)."""
        config = self._config(kind, cid)
        if kind == "experiments" and config.get("deliveryMethod") in UNEDITABLE_DELIVERY:
            raise FakeError(
                405,
                f"experiment {config['id']} is a {config['deliveryMethod']} experiment; editing "
                "Web Experimentation and Guides and Surveys experiments is unsupported",
            )
        if legacy:
            allowed = _LEGACY_PATCH + (_LEGACY_EXPERIMENT_PATCH if kind == "experiments" else ())
        else:
            allowed = _FLAG_PATCH + (_EXPERIMENT_PATCH if kind == "experiments" else ())
        _check_unknown(body, allowed, f"a {kind[:-1]} edit")
        changes: dict[str, Any] = {}
        for name in ("name", "bucketingKey", "bucketingSalt", "bucketingUnit"):
            if name in body:
                _check_str(body[name], name)
                changes[name] = body[name]
        if "description" in body:
            _check_str(body["description"], "description", nullable=True)
            changes["description"] = body["description"] or ""
        if "evaluationMode" in body:
            _check_choice(body["evaluationMode"], "evaluationMode", EVALUATION_MODES)
            changes["evaluationMode"] = body["evaluationMode"]
        if "rolloutPercentage" in body:
            _check_percentage(body["rolloutPercentage"], "rolloutPercentage")
            changes["rolloutPercentage"] = body["rolloutPercentage"]
        if "targetSegments" in body:
            changes["targetSegments"] = _check_segments(
                body["targetSegments"], "targetSegments", self._variant_keys(config)
            )
        if "enabled" in body:
            _check_bool(body["enabled"], "enabled")
            changes["enabled"] = body["enabled"]
        if "archive" in body:
            _check_bool(body["archive"], "archive")
            changes["archived"] = body["archive"]
        if "tags" in body:
            changes["tags"] = list(dict.fromkeys(_check_str_list(body["tags"], "tags")))
        if kind == "experiments":
            changes.update(self._experiment_changes(config, body, legacy=legacy))
        config.update(changes)
        if kind == "experiments":
            _update_experiment_state(config)
        self._commit(kind, config["id"], by)

    def _experiment_changes(
        self, config: Mapping[str, Any], body: Mapping[str, Any], *, legacy: bool
    ) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if "experimentType" in body:
            allowed = EXPERIMENT_TYPES + (LEGACY_EXPERIMENT_TYPES if legacy else ())
            _check_choice(body["experimentType"], "experimentType", allowed)
            changes["experimentType"] = body["experimentType"]
        if "stickyBucketing" in body:
            _check_bool(body["stickyBucketing"], "stickyBucketing")
            changes["stickyBucketing"] = body["stickyBucketing"]
        for name in ("startDate", "endDate"):
            if name in body:
                changes[name] = _date_only(body[name], name)
        if "exposureEvent" in body:
            event = body["exposureEvent"]
            if event is not None:
                if not isinstance(event, dict):
                    raise _bad("exposureEvent", "must be an object or null")
                _check_str(event.get("event_type"), "exposureEvent.event_type", nonempty=True)
                if not isinstance(event.get("filters"), list):
                    raise _bad("exposureEvent.filters", "is required: an array of filters")
                for i, item in enumerate(event["filters"]):
                    _check_exposure_filter(item, f"exposureEvent.filters[{i}]")
            changes["exposureEvent"] = _clone(event)
        if "decision" in body:
            if body["decision"] is not None:
                _check_choice(body["decision"], "decision", DECISIONS)
            changes["decision"] = body["decision"]
        for name in ("decisionReason", "rolledOutVariant"):
            if name in body:
                _check_str(body[name], name, nullable=True)
                changes[name] = body[name]
        return changes

    def set_rollout_weights(
        self, kind: str, cid: Any, weights: Any, *, by: str | None = None
    ) -> None:
        """Replaces the everyone-else weights (the legacy ``rollout-weights`` endpoint)."""
        config = self._config(kind, cid)
        checked = _check_weights(
            weights, "rolloutWeights", self._variant_keys(config), integers=False
        )
        config["rolloutWeights"] = checked
        self._commit(kind, config["id"], by)

    def set_enabled(self, kind: str, cid: Any, enabled: bool, *, by: str | None = None) -> None:
        """Turns a config on or off (the legacy ``activate``/``deactivate`` endpoints)."""
        config = self._config(kind, cid)
        config["enabled"] = enabled
        if kind == "experiments":
            _update_experiment_state(config)
        self._commit(kind, config["id"], by)

    # ----- variants ----------------------------------------------------------------------

    def create_variant(
        self, kind: str, cid: Any, body: Mapping[str, Any], *, by: str | None = None
    ) -> None:
        """Adds a variant (``key`` required); ``rolloutWeight`` sets its everyone-else weight."""
        config = self._config(kind, cid)
        _check_unknown(
            body, ("key", "name", "description", "payload", "rolloutWeight"), "a variant"
        )
        if "key" not in body:
            raise _bad("key", "is required")
        _check_variant_fields(body, "")
        if body["key"] in self._variant_keys(config):
            raise _bad("key", f"variant {body['key']!r} already exists")
        if "rolloutWeight" in body and body["rolloutWeight"] is not None:
            _check_weight(body["rolloutWeight"])
        config.setdefault("variants", []).append(_new_variant(body))
        if body.get("rolloutWeight") is not None:
            config.setdefault("rolloutWeights", {})[body["key"]] = body["rolloutWeight"]
        self._inclusions.setdefault(config["id"], {})[body["key"]] = {"users": [], "cohorts": []}
        self._commit(kind, config["id"], by)

    def edit_variant(
        self,
        kind: str,
        cid: Any,
        variant_key: str,
        body: Mapping[str, Any],
        *,
        by: str | None = None,
    ) -> None:
        """Edits a variant; a new ``key`` renames it everywhere (weights, segments, inclusions)."""
        config = self._config(kind, cid)
        index = self._variant_index(config, variant_key)
        _check_unknown(
            body, ("key", "name", "description", "payload", "rolloutWeight"), "a variant edit"
        )
        _check_variant_fields(body, "")
        new_key = body.get("key", variant_key)
        if new_key != variant_key and new_key in self._variant_keys(config):
            raise _bad("key", f"variant {new_key!r} already exists")
        if "rolloutWeight" in body and body["rolloutWeight"] is not None:
            _check_weight(body["rolloutWeight"])
        variant = config["variants"][index]
        for name in ("name", "description"):
            if name in body:
                variant[name] = body[name] or ""
        if "payload" in body:
            variant["payload"] = _clone(body["payload"])
        if new_key != variant_key:
            variant["key"] = new_key
            _rename_key(config.get("rolloutWeights"), variant_key, new_key)
            for segment in config.get("targetSegments") or []:
                _rename_key(segment.get("rolloutWeights"), variant_key, new_key)
            _rename_key(self._inclusions.get(config["id"]), variant_key, new_key)
            if config.get("rolledOutVariant") == variant_key:
                config["rolledOutVariant"] = new_key
        if body.get("rolloutWeight") is not None:
            config.setdefault("rolloutWeights", {})[new_key] = body["rolloutWeight"]
        self._commit(kind, config["id"], by)

    def remove_variant(
        self, kind: str, cid: Any, variant_key: str, *, by: str | None = None
    ) -> None:
        """Removes a variant, its weights and its inclusions."""
        config = self._config(kind, cid)
        index = self._variant_index(config, variant_key)
        del config["variants"][index]
        (config.get("rolloutWeights") or {}).pop(variant_key, None)
        for segment in config.get("targetSegments") or []:
            (segment.get("rolloutWeights") or {}).pop(variant_key, None)
        self._inclusions.get(config["id"], {}).pop(variant_key, None)
        self._commit(kind, config["id"], by)

    # ----- inclusions --------------------------------------------------------------------

    def add_inclusions(
        self,
        kind: str,
        cid: Any,
        variant_key: str,
        values: Any,
        *,
        cohorts: bool = False,
        by: str | None = None,
    ) -> None:
        """Appends users (or cohorts) to a variant, skipping ones already there; 400 past 2,000."""
        lists = self._inclusion_lists(kind, cid, variant_key)
        items = _check_str_list(values, "inclusions")
        target = lists["cohorts" if cohorts else "users"]
        present = set(target)
        fresh = [v for v in dict.fromkeys(items) if v not in present]
        if len(target) + len(fresh) > MAX_INCLUSIONS:
            raise _bad(
                "inclusions",
                f"variant {variant_key!r} would have {len(target) + len(fresh)} inclusions; "
                f"the limit is {MAX_INCLUSIONS} per variant (use a cohort)",
            )
        target.extend(fresh)
        self._commit(kind, str(cid), by)

    def remove_user_at(
        self, kind: str, cid: Any, variant_key: str, index: Any, *, by: str | None = None
    ) -> None:
        """Removes the user at a zero-based position of the variant's inclusion list."""
        users = self._inclusion_lists(kind, cid, variant_key)["users"]
        try:
            position = int(str(index))
        except ValueError:
            raise _bad("userIndex", f"must be a zero-based integer, got {index!r}") from None
        if not 0 <= position < len(users):
            raise FakeError(
                404,
                f"userIndex {position} is out of range: variant {variant_key!r} has "
                f"{len(users)} user inclusions",
            )
        del users[position]
        self._commit(kind, str(cid), by)

    def remove_all_users(
        self, kind: str, cid: Any, variant_key: str, *, by: str | None = None
    ) -> None:
        """Empties the variant's individual inclusions."""
        self._inclusion_lists(kind, cid, variant_key)["users"].clear()
        self._commit(kind, str(cid), by)

    def bulk_remove(
        self,
        kind: str,
        cid: Any,
        variant_key: str,
        values: Any,
        *,
        cohorts: bool = False,
        by: str | None = None,
    ) -> None:
        """Removes up to 100 users (or cohorts) from a variant; values not present are ignored."""
        lists = self._inclusion_lists(kind, cid, variant_key)
        items = _check_str_list(values, "users")
        if len(items) > MAX_BULK_DELETE:
            raise _bad(
                "users",
                f"{len(items)} values given; bulk deletes are limited to {MAX_BULK_DELETE} "
                "per request",
            )
        drop = set(items)
        name = "cohorts" if cohorts else "users"
        lists[name] = [v for v in lists[name] if v not in drop]
        self._commit(kind, str(cid), by)

    # ----- config deployments ------------------------------------------------------------

    def add_config_deployments(
        self, kind: str, cid: Any, deployment_ids: Any, *, by: str | None = None
    ) -> None:
        """Adds deployments (ids) to a config."""
        config = self._config(kind, cid)
        ids = _check_id_list(deployment_ids, "deployments")
        if not ids:
            raise _bad("deployments", "must name at least one deployment id")
        self._check_deployments(ids, "deployments")
        config["deployments"] = list(dict.fromkeys([*config.get("deployments", []), *ids]))
        self._commit(kind, config["id"], by)

    def remove_config_deployment(
        self, kind: str, cid: Any, deployment_id: Any, *, by: str | None = None
    ) -> None:
        """Removes one deployment from a config; 404 when the config is not in it."""
        config = self._config(kind, cid)
        did = str(deployment_id)
        if did not in (config.get("deployments") or []):
            raise FakeError(404, f"{kind[:-1]} {config['id']} is not in deployment {did!r}")
        config["deployments"] = [d for d in config["deployments"] if d != did]
        self._commit(kind, config["id"], by)

    # ----- deployments -------------------------------------------------------------------

    def deployment_list(self) -> list[dict[str, Any]]:
        """Every deployment, soft-deleted ones included, in creation order."""
        return _clone(list(self._deployments.values()))

    def create_deployment(self, body: Mapping[str, Any]) -> str:
        """Creates a deployment from ``{projectId, label, type}``; returns its id."""
        _check_unknown(body, ("projectId", "label", "type"), "a deployment create body")
        for name in ("projectId", "label", "type"):
            if body.get(name) in (None, ""):
                raise _bad(name, "is required")
        _check_project_id(body["projectId"])
        _check_label(body["label"])
        _check_choice(body["type"], "type", DEPLOYMENT_TYPES)
        did = self.ids.next_id()
        self._deployments[did] = {
            "id": did,
            "projectId": str(body["projectId"]),
            "label": body["label"],
            "key": f"{body['type']}-{self.ids.token(24, string.ascii_lowercase + string.digits)}",
            "deleted": False,
        }
        return did

    def edit_deployment(self, did: Any, body: Mapping[str, Any]) -> None:
        """Renames (``label``) or soft-deletes/restores (``archive``) a deployment."""
        deployment = self._deployments.get(str(did))
        if deployment is None:
            raise _not_found("deployment", str(did))
        _check_unknown(body, ("label", "archive"), "a deployment edit")
        if "label" in body:
            _check_label(body["label"])
        if "archive" in body:
            _check_bool(body["archive"], "archive")
        if "label" in body:
            deployment["label"] = body["label"]
        if "archive" in body:
            deployment["deleted"] = body["archive"]

    # ----- mutex groups ------------------------------------------------------------------

    def mutex_list(self) -> list[dict[str, Any]]:
        """Every mutex group, in creation order."""
        return _clone(list(self._mutexes.values()))

    def mutex(self, mid: Any) -> dict[str, Any]:
        """One mutex group."""
        return _clone(self._group(self._mutexes, "mutex", mid))

    def _group(self, store: dict[str, dict[str, Any]], what: str, gid: Any) -> dict[str, Any]:
        group = store.get(str(gid))
        if group is None:
            raise _not_found(what, str(gid))
        return group

    def create_mutex(self, body: Mapping[str, Any], *, by: str | None = None) -> str:
        """Creates a mutex group; experiments in slot N get a parent dependency on ``slot-N``."""
        _check_unknown(
            body,
            (
                "projectId",
                "name",
                "key",
                "description",
                "evaluationMode",
                "bucketingKey",
                "bucketingSalt",
                "slots",
            ),
            "a mutex create body",
        )
        self._check_group_common(body)
        slots = body.get("slots")
        if not isinstance(slots, list) or not slots:
            raise _bad("slots", "is required: an array of 1 to 20 slots")
        if len(slots) > MAX_SLOTS:
            raise _bad("slots", f"{len(slots)} slots given; at most {MAX_SLOTS}")
        built = []
        for i, slot in enumerate(slots):
            where = f"slots[{i}]"
            if not isinstance(slot, dict):
                raise _bad(where, "must be an object")
            _check_unknown(
                slot, ("percentage", "experiments", "holdouts", "individuals", "name"), where
            )
            pct = slot.get("percentage")
            if not isinstance(pct, int) or isinstance(pct, bool) or not 1 <= pct <= 100:
                raise _bad(
                    f"{where}.percentage",
                    f"must be an integer from 1 to 100, got {json.dumps(pct)}",
                )
            built.append(
                {
                    "name": f"SLOT {i + 1}",
                    "index": i + 1,
                    "variantKey": f"slot-{i + 1}",
                    "percentage": pct,
                    "experiments": self._experiment_refs(
                        slot.get("experiments", []), f"{where}.experiments"
                    ),
                    "holdouts": self._holdout_refs(slot.get("holdouts", []), f"{where}.holdouts"),
                    "individuals": _check_str_list(
                        slot.get("individuals", []), f"{where}.individuals"
                    ),
                    "cohorts": [],
                }
            )
        _check_one_slot_each(built, "slots[{slot}].experiments[{item}]")
        total = sum(s["percentage"] for s in built)
        if total != 100:
            raise _bad("slots", f"slot percentages must sum to 100, got {total}")
        key = body.get("key") or f"mutex-{self.ids.token(8, string.ascii_lowercase)}"
        self._check_key_unique(key)
        mid = self.ids.next_id()
        by = by or self.api_user
        when = self._tick()
        self._mutexes[mid] = {
            "id": mid,
            "projectId": body["projectId"],
            "name": body["name"],
            "key": key,
            "description": body.get("description"),
            "evaluationMode": body.get("evaluationMode", "remote"),
            "bucketingKey": body.get("bucketingKey", "amplitude_id"),
            "bucketingSalt": body.get("bucketingSalt") or self.ids.token(8),
            "slots": built,
            "deleted": False,
            "createdBy": by,
            "createdAt": when,
            "lastModifiedBy": by,
            "lastModifiedAt": when,
        }
        for slot in built:
            for eid in slot["experiments"]:
                self._set_parent(eid, mid, [slot["variantKey"]], by)
        return mid

    def edit_mutex(self, mid: Any, body: Mapping[str, Any], *, by: str | None = None) -> None:
        """Renames or archives a mutex group (archiving ignores the other fields)."""
        group = self._group(self._mutexes, "mutex", mid)
        _check_unknown(body, ("name", "description", "archive"), "a mutex edit")
        _check_group_edit(body)
        self._edit_group(group, body, by, slots=True)

    def edit_mutex_slot(
        self, mid: Any, index: Any, body: Mapping[str, Any], *, by: str | None = None
    ) -> None:
        """Replaces the listed arrays of slot ``index`` (1-based) and the parent dependencies."""
        group = self._group(self._mutexes, "mutex", mid)
        try:
            number = int(str(index))
        except ValueError:
            raise _bad("slotIndex", f"must be an integer, got {index!r}") from None
        slots = group["slots"]
        slot = next((s for s in slots if s.get("index") == number), None)
        if slot is None:
            raise FakeError(404, f"mutex {group['id']} has no slot {number} (slots 1-{len(slots)})")
        _check_unknown(body, ("experiments", "holdouts", "individuals"), "a mutex slot edit")
        by = by or self.api_user
        holdouts = self._holdout_refs(body["holdouts"], "holdouts") if "holdouts" in body else None
        individuals = (
            _check_str_list(body["individuals"], "individuals") if "individuals" in body else None
        )
        if "experiments" in body:
            new = self._experiment_refs(body["experiments"], "experiments")
            _check_one_slot_each([{"experiments": new}], "experiments[{item}]")
            for eid in slot["experiments"]:
                if eid not in new:
                    self._set_parent(eid, group["id"], None, by)
            for eid in new:
                if eid not in slot["experiments"]:
                    # an experiment is in one slot of a group: adding it here moves it
                    for other in slots:
                        if other is not slot and eid in other["experiments"]:
                            other["experiments"] = [e for e in other["experiments"] if e != eid]
                    self._set_parent(eid, group["id"], [slot["variantKey"]], by)
            slot["experiments"] = new
        if holdouts is not None:
            slot["holdouts"] = holdouts
        if individuals is not None:
            slot["individuals"] = individuals
        self._touch_group(group, by)

    # ----- holdouts ----------------------------------------------------------------------

    def holdout_list(self) -> list[dict[str, Any]]:
        """Every holdout group, in creation order."""
        return _clone(list(self._holdouts.values()))

    def holdout(self, hid: Any) -> dict[str, Any]:
        """One holdout group."""
        return _clone(self._group(self._holdouts, "holdout", hid))

    def create_holdout(self, body: Mapping[str, Any], *, by: str | None = None) -> str:
        """Creates a holdout group (``holdoutPercentage`` an integer from 1 to 99)."""
        _check_unknown(
            body,
            (
                "projectId",
                "name",
                "key",
                "description",
                "holdoutPercentage",
                "evaluationMode",
                "bucketingKey",
                "experiments",
                "individualInclusion",
                "individualExclusion",
            ),
            "a holdout create body",
        )
        self._check_group_common(body)
        pct = body.get("holdoutPercentage")
        if pct is None:
            raise _bad("holdoutPercentage", "is required")
        if not isinstance(pct, int) or isinstance(pct, bool) or not 1 <= pct <= 99:
            raise _bad(
                "holdoutPercentage", f"must be an integer from 1 to 99, got {json.dumps(pct)}"
            )
        experiments = self._experiment_refs(body.get("experiments", []), "experiments")
        inclusion = _check_str_list(body.get("individualInclusion", []), "individualInclusion")
        exclusion = _check_str_list(body.get("individualExclusion", []), "individualExclusion")
        key = body.get("key") or f"holdout-{self.ids.token(8, string.ascii_lowercase)}"
        self._check_key_unique(key)
        hid = self.ids.next_id()
        by = by or self.api_user
        when = self._tick()
        self._holdouts[hid] = {
            "id": hid,
            "projectId": body["projectId"],
            "name": body["name"],
            "key": key,
            "description": body.get("description"),
            "holdoutPercentage": pct,
            "evaluationMode": body.get("evaluationMode", "remote"),
            "bucketingKey": body.get("bucketingKey", "amplitude_id"),
            "bucketingSalt": self.ids.token(8),
            "variantName": "on",
            "experiments": experiments,
            "individualInclusion": inclusion,
            "individualExclusion": exclusion,
            "deleted": False,
            "createdBy": by,
            "lastModifiedBy": by,
            "createdAt": when,
            "lastModifiedAt": when,
        }
        for eid in experiments:
            self._set_parent(eid, hid, [HOLDOUT_PASS_VARIANT], by)
        return hid

    def edit_holdout(self, hid: Any, body: Mapping[str, Any], *, by: str | None = None) -> None:
        """Edits a holdout group; ``experiments`` and the individual lists replace."""
        group = self._group(self._holdouts, "holdout", hid)
        _check_unknown(
            body,
            (
                "name",
                "description",
                "experiments",
                "individualInclusion",
                "individualExclusion",
                "archive",
            ),
            "a holdout edit",
        )
        by = by or self.api_user
        if not _check_group_edit(body):
            new = (
                self._experiment_refs(body["experiments"], "experiments")
                if "experiments" in body
                else None
            )
            lists = {
                name: _check_str_list(body[name], name)
                for name in ("individualInclusion", "individualExclusion")
                if name in body
            }
            if new is not None:
                for eid in group["experiments"]:
                    if eid not in new:
                        self._set_parent(eid, group["id"], None, by)
                for eid in new:
                    if eid not in group["experiments"]:
                        self._set_parent(eid, group["id"], [HOLDOUT_PASS_VARIANT], by)
                group["experiments"] = new
            group.update(lists)
        self._edit_group(group, body, by, slots=False)

    # ----- group helpers -----------------------------------------------------------------

    def _check_group_common(self, body: Mapping[str, Any]) -> None:
        project_id = body.get("projectId")
        if project_id in (None, ""):
            raise _bad("projectId", "is required")
        if isinstance(project_id, bool) or not isinstance(project_id, int | str):
            raise _bad("projectId", f"must be a project id, got {json.dumps(project_id)}")
        if body.get("name") in (None, ""):
            raise _bad("name", "is required")
        _check_str(body["name"], "name")
        if "key" in body and body["key"] is not None:
            _check_str(body["key"], "key", nonempty=True)
        if "description" in body:
            _check_str(body["description"], "description", nullable=True)
        if "evaluationMode" in body:
            _check_choice(body["evaluationMode"], "evaluationMode", EVALUATION_MODES)
        if "bucketingKey" in body:
            _check_str(body["bucketingKey"], "bucketingKey", nonempty=True)

    def _experiment_refs(self, value: Any, field: str) -> list[Any]:
        ids = _check_id_list(value, field)
        for i, eid in enumerate(ids):
            if eid not in self._configs["experiments"]:
                raise _bad(f"{field}[{i}]", f"no experiment with id {eid!r}")
        # the docs' examples show numeric ids in group objects
        return [int(e) if e.isdigit() else e for e in ids]

    def _holdout_refs(self, value: Any, field: str) -> list[Any]:
        ids = _check_id_list(value, field)
        for i, hid in enumerate(ids):
            if hid not in self._holdouts:
                raise _bad(f"{field}[{i}]", f"no holdout with id {hid!r}")
        return [int(h) if h.isdigit() else h for h in ids]

    def _edit_group(
        self, group: dict[str, Any], body: Mapping[str, Any], by: str | None, *, slots: bool
    ) -> None:
        """Applies a group edit already checked by :func:`_check_group_edit`."""
        by = by or self.api_user
        if body.get("archive") is True:
            group["deleted"] = True
            for eid in self._children(group, slots=slots):
                self._set_parent(eid, group["id"], None, by)
            self._touch_group(group, by)
            return
        if "name" in body:
            group["name"] = body["name"]
        if "description" in body:
            group["description"] = body["description"]
        if body.get("archive") is False:
            group["deleted"] = False
        self._touch_group(group, by)

    def _children(self, group: Mapping[str, Any], *, slots: bool) -> list[Any]:
        if slots:
            return [e for s in group.get("slots") or [] for e in s.get("experiments") or []]
        return list(group.get("experiments") or [])

    def _touch_group(self, group: dict[str, Any], by: str) -> None:
        when = self._tick()
        group["lastModifiedAt"] = when
        group["lastModifiedBy"] = by

    def _set_parent(self, eid: Any, group_id: str, variants: list[str] | None, by: str) -> None:
        """Adds (or with ``variants=None`` removes) a parent dependency of an experiment."""
        cid = str(eid)
        config = self._configs["experiments"].get(cid)
        if config is None:
            return
        deps = _clone(config.get("parentDependencies")) or {"flags": {}, "operator": "all"}
        flags = deps.setdefault("flags", {})
        if variants is None:
            if group_id not in flags:
                return
            del flags[group_id]
        else:
            flags[group_id] = list(variants)
        if flags:
            config["parentDependencies"] = deps
        else:
            config.pop("parentDependencies", None)
        self._commit("experiments", cid, by)


# Experiments in a holdout run for users outside it; the docs do not name the variant a
# holdout dependency allows, so the fake records "off" (not held out).
HOLDOUT_PASS_VARIANT = "off"


def _check_one_slot_each(slots: list[dict[str, Any]], where: str) -> None:
    """400 when an experiment is listed twice across ``slots`` (``where`` is formatted with
    ``slot`` and ``item`` indexes to name the repeat)."""
    seen: dict[Any, int] = {}
    for i, slot in enumerate(slots):
        for j, eid in enumerate(slot["experiments"]):
            if eid in seen:
                raise _bad(
                    where.format(slot=i, item=j),
                    f"experiment {eid} is listed twice (also in slot {seen[eid] + 1}); "
                    "an experiment can be in one slot of a mutex group only",
                )
            seen[eid] = i


def _check_exposure_filter(item: Any, where: str) -> None:
    """An exposure event filter: ``subprop_key`` (string or null), ``subprop_op`` (no set
    ops), ``subprop_type`` (string) and ``subprop_value`` (strings) are required."""
    if not isinstance(item, dict):
        raise _bad(
            where,
            "must be an object {group_type?, subprop_key, subprop_op, subprop_type, "
            f"subprop_value}}, got {json.dumps(item)}",
        )
    for name in ("subprop_key", "subprop_op", "subprop_type", "subprop_value"):
        if name not in item:
            raise _bad(f"{where}.{name}", "is required")
    _check_str(item["subprop_key"], f"{where}.subprop_key", nullable=True)
    _check_choice(item["subprop_op"], f"{where}.subprop_op", EXPOSURE_FILTER_OPS)
    _check_str(item["subprop_type"], f"{where}.subprop_type", nonempty=True)
    _check_str_list(item["subprop_value"], f"{where}.subprop_value")
    if "group_type" in item:
        _check_str(item["group_type"], f"{where}.group_type", nullable=True)


def _check_group_edit(body: Mapping[str, Any]) -> bool:
    """Checks a mutex or holdout edit's ``archive``, ``name`` and ``description``; returns
    whether it archives (then the other fields are ignored, so not checked)."""
    if "archive" in body:
        _check_bool(body["archive"], "archive")
    if body.get("archive") is True:
        return True
    if "name" in body:
        _check_str(body["name"], "name", nonempty=True)
    if "description" in body:
        _check_str(body["description"], "description", nullable=True)
    return False


def _check_project_id(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad(
            "projectId", f"must be a project id (string or integer), got {json.dumps(value)}"
        )


def _check_weight(value: Any) -> None:
    if not _is_number(value) or value < 0:
        raise _bad("rolloutWeight", f"must be a non-negative number, got {json.dumps(value)}")


def _check_label(value: Any) -> None:
    _check_str(value, "label", nonempty=True)
    if not _LABEL_RE.match(value):
        raise _bad("label", f"{value!r} may contain only letters, digits, '_' and '-'")


def _new_variant(raw: Mapping[str, Any]) -> dict[str, Any]:
    variant: dict[str, Any] = {"key": raw["key"]}
    for name in ("name", "description"):
        variant[name] = raw.get(name) or ""
    variant["payload"] = _clone(raw.get("payload"))
    return variant


def _variant_view(variant: Mapping[str, Any], weights: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "key": variant["key"],
        "name": variant.get("name") or "",
        "payload": _clone(variant.get("payload")),
        "description": variant.get("description") or "",
        "rolloutWeight": weights.get(variant["key"], 0),
    }


def _rename_key(mapping: dict[str, Any] | None, old: str, new: str) -> None:
    if mapping is None or old not in mapping:
        return
    items = [(new if k == old else k, v) for k, v in mapping.items()]
    mapping.clear()
    mapping.update(items)


def _update_experiment_state(config: dict[str, Any]) -> None:
    # state is read-only on the wire; derive it the way the UI moves it
    if config.get("decision") in DECISIONS and config["decision"] != "continue-running":
        config["state"] = "decision-made"
    elif config.get("enabled") and config.get("state") in (None, "planning"):
        config["state"] = "running"


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

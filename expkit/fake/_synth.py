"""Synthetic orgs: realistic, deterministic flags and experiments with months of history.

:func:`synthetic_org` returns the org dict of CONTRACT.md (wire format, camelCase, ids as
numeric strings), generated from ``random.Random(seed)`` only, so a seed always gives the
same org. :class:`ConfigBuilder` is the history engine, shared with the hand-written
scenarios of ``scripts/make_demo_org.py``: each change is one version whose ``flagConfig``
is the previous one plus that change.

Versions share the sub-objects a change did not touch (a change replaces the lists and
dicts it edits, never mutates them), which keeps 5,000 configs x 50 versions in memory;
the current config handed out is a deep copy, free to be mutated by the fake's state.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from expkit import _gc
from expkit._validate import config_kind
from expkit.errors import ValidationError
from expkit.fake._state import CONDITION_OPS, HOLDOUT_PASS_VARIANT, iso

__all__ = [
    "AUTHORS",
    "ConfigBuilder",
    "clone",
    "condition",
    "new_config",
    "segment",
    "synthetic_org",
]

DEFAULT_END = datetime(2026, 11, 20, 9, tzinfo=UTC)

# example.com / example.org are reserved for documentation (RFC 2606): nobody's real address
AUTHORS = (
    "maria.garcia@example.com",
    "li.wei@example.com",
    "tom.oconnor@example.com",
    "aisha.khan@example.com",
    "jonas.muller@example.com",
    "priya.nair@example.com",
    "sam.taylor@example.com",
    "release-bot@example.com",
)

SQUADS = ("checkout", "growth", "search", "platform", "mobile", "payments", "onboarding")
_AREAS = {
    "checkout": ("checkout", "cart", "express-pay", "address-form", "order-summary"),
    "growth": ("referral", "promo-banner", "signup", "pricing-page", "upsell"),
    "search": ("search", "autocomplete", "ranking", "filters", "typo-tolerance"),
    "platform": ("api", "cache", "rate-limiter", "graphql", "edge-routing"),
    "mobile": ("ios", "android", "push", "deep-links", "offline-mode"),
    "payments": ("wallet", "paypal", "3ds", "invoices", "refunds"),
    "onboarding": ("welcome-tour", "checklist", "tooltips", "import-wizard", "templates"),
}
_THINGS = (
    "redesign",
    "v2",
    "new-layout",
    "kill-switch",
    "copy-test",
    "rollout",
    "beta",
    "migration",
    "perf",
    "dark-mode",
    "one-click",
    "personalization",
)
_DESCRIPTIONS = (
    "Gates the {area} {thing} while we ramp it up.",
    "Owned by squad {squad}. Remove once the {thing} is fully launched.",
    "Controls the new {area} behaviour; see the design doc in the {squad} space.",
    "Server-side switch for {area} ({thing}). Safe to turn off.",
    "Tests whether the {area} {thing} improves conversion.",
)
_SEGMENT_NAMES = (
    "Internal users",
    "Beta testers",
    "US & Canada",
    "Enterprise plans",
    "iOS 17+",
    "Returning customers",
    "High-value accounts",
    "EU traffic",
)
# one (prop, values) pool per condition op; props with gp: are custom user properties
_CONDITIONS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "is": (("country", ("United States", "Canada")), ("platform", ("iOS", "Android"))),
    "is not": (("country", ("Russia",)), ("gp:plan", ("free",))),
    "contains": (("gp:company", ("Inc",)), ("city", ("San",))),
    "does not contain": (("gp:plan", ("trial",)), ("device_model", ("Emulator",))),
    "less": (("gp:age_days", ("30",)), ("gp:cart_items", ("3",))),
    "less or equal": (("version", ("2.3.0",)), ("gp:seats", ("5",))),
    "greater": (("gp:lifetime_value", ("500",)), ("gp:sessions_30d", ("10",))),
    "greater or equal": (("version", ("4.1.0",)), ("gp:orders", ("2",))),
    "set is": (("gp:entitlements", ("pro", "sso")), ("gp:roles", ("admin",))),
    "set is not": (("gp:entitlements", ("legacy",)), ("gp:roles", ("guest",))),
    "set contains": (("gp:features", ("beta",)), ("gp:cohorts_seen", ("holiday-2025",))),
    "set does not contain": (("gp:features", ("opt-out",)), ("gp:flags", ("internal",))),
    "glob match": (("device_model", ("iPhone*",)), ("gp:email_domain", ("*.edu",))),
    "glob does not match": (("gp:referrer", ("*spam*",)), ("city", ("Test*",))),
}
_PAYLOADS: tuple[Any, ...] = (
    {"color": "#1a73e8", "cta": "Buy now"},
    {"layout": "grid", "columns": 3},
    {"limit": 25, "sort": "relevance"},
    "compact",
    "v2",
    42,
    0.15,
    {"copy": {"title": "Welcome back!", "subtitle": "Pick up where you left off"}},
    ["card", "paypal", "apple-pay"],
    True,
)
_VARIANT_NAMES = (
    "control",
    "treatment",
    "treatment-b",
    "treatment-c",
    "blue",
    "green",
    "compact",
    "spacious",
    "short-copy",
    "long-copy",
)


def _date(when: datetime) -> str:
    return when.strftime("%Y-%m-%d")


_T = TypeVar("_T")


def clone(value: _T) -> _T:
    """A deep copy of JSON data (dicts, lists, scalars), much faster than ``copy.deepcopy``."""
    if isinstance(value, dict):
        return cast(_T, {k: clone(v) for k, v in value.items()})
    if isinstance(value, list):
        return cast(_T, [clone(v) for v in value])
    return value


def condition(op: str, prop: str, values: Iterable[str]) -> dict[str, Any]:
    """A target-segment condition (``type`` is always ``property``)."""
    return {"type": "property", "prop": prop, "op": op, "values": list(values)}


def segment(
    name: str,
    conditions: Iterable[Mapping[str, Any]],
    weights: Mapping[str, Any],
    *,
    percentage: float = 100,
) -> dict[str, Any]:
    """A target segment: ``percentage`` of matching users, split by ``weights``."""
    return {
        "name": name,
        "conditions": [dict(c) for c in conditions],
        "percentage": percentage,
        "bucketingKey": "amplitude_id",
        "rolloutWeights": dict(weights),
    }


class ConfigBuilder:
    """Builds one flag or experiment and its version history, one change per version.

    ``config`` is the initial config without ``created*``/``lastModified*`` and ``state``;
    it becomes version 1 at ``at`` by ``by``. Pass fresh lists/dicts to :meth:`change`:
    the builder never mutates them, and versions share what a change did not replace.
    """

    def __init__(self, kind: str, config: dict[str, Any], *, at: datetime, by: str) -> None:
        self.kind = config_kind(kind)
        self._current = dict(config)
        self._times: list[datetime] = []
        self.versions: list[dict[str, Any]] = []
        self._append(at, by)

    @property
    def id(self) -> str:
        """The config's id."""
        return str(self._current["id"])

    @property
    def current(self) -> Mapping[str, Any]:
        """The latest ``flagConfig`` (read only: change it through :meth:`change`)."""
        return self._current

    @property
    def first_time(self) -> datetime:
        """When version 1 was written."""
        return self._times[0]

    @property
    def last_time(self) -> datetime:
        """When the latest version was written."""
        return self._times[-1]

    def _append(self, at: datetime, by: str) -> None:
        if self._times and at <= self._times[-1]:
            # versions of one config have strictly increasing times
            at = self._times[-1] + timedelta(seconds=1)
        self._times.append(at)
        self.versions.append(
            {
                "version": len(self.versions) + 1,
                "createdAt": iso(at),
                "createdBy": by,
                "flagConfig": self._current,
            }
        )

    def change(self, at: datetime, by: str, **fields: Any) -> ConfigBuilder:
        """Writes a version with ``fields`` (camelCase wire names) replaced; returns self."""
        updated = dict(self._current)
        updated.update(fields)
        self._current = updated
        self._append(at, by)
        return self

    def rollback(self, at: datetime, by: str, *, to: int | None = None) -> ConfigBuilder:
        """Writes a version restoring version ``to`` (default: the one before the latest)."""
        number = len(self.versions) - 1 if to is None else to
        if not 1 <= number <= len(self.versions):
            raise ValidationError(
                f"no version {number} to roll back to (1..{len(self.versions)}).",
                field="to",
                value=to,
                allowed=f"1..{len(self.versions)}",
            )
        self._current = dict(self.versions[number - 1]["flagConfig"])
        self._append(at, by)
        return self

    def discard_last(self) -> None:
        """Forgets the latest version (version 1 stays)."""
        if len(self.versions) > 1:
            self.versions.pop()
            self._times.pop()
            self._current = self.versions[-1]["flagConfig"]

    def add_parent(self, parent_id: str, variant: str) -> None:
        """Adds a parent dependency to every version so far (grouped from the start)."""
        rewritten: dict[int, dict[str, Any]] = {}
        for version in self.versions:
            old = version["flagConfig"]
            new = rewritten.get(id(old))
            if new is None:
                deps = old.get("parentDependencies") or {"flags": {}, "operator": "all"}
                new = {
                    **old,
                    "parentDependencies": {
                        "flags": {**deps["flags"], parent_id: [variant]},
                        "operator": deps.get("operator", "all"),
                    },
                }
                rewritten[id(old)] = new
            version["flagConfig"] = new
        self._current = self.versions[-1]["flagConfig"]

    def build(self) -> dict[str, Any]:
        """The current config (a deep copy) with ``created*``/``lastModified*`` (and
        ``state`` for experiments, derived from enabled, start date and decision)."""
        config = clone(self._current)
        first, last = self.versions[0], self.versions[-1]
        config["createdBy"] = first["createdBy"]
        config["createdAt"] = first["createdAt"]
        config["lastModifiedBy"] = last["createdBy"]
        config["lastModifiedAt"] = last["createdAt"]
        if self.kind == "experiments":
            config["state"] = self._state()
        return config

    def _state(self) -> str:
        current = self._current
        if current.get("decision") in ("rollout", "rollback"):
            return "decision-made"
        ever_on = any(v["flagConfig"].get("enabled") for v in self.versions)
        if ever_on or current.get("startDate"):
            return "running"
        return "planning"


class _Context:
    """Everything a generated org shares: the rng, the clock span, ids, keys, counters."""

    def __init__(self, rng: random.Random, start: datetime, end: datetime) -> None:
        self.rng = rng
        self.start = start
        self.end = end
        self._next_id = rng.randrange(200_000, 400_000)
        self.keys: set[str] = set()
        self.op_counter = rng.randrange(len(CONDITION_OPS))
        self.project_deployments: dict[str, list[str]] = {}

    def pending_deploys(self, cur: Mapping[str, Any]) -> list[str]:
        options = [
            d
            for d in self.project_deployments.get(cur["projectId"], [])
            if d not in cur["deployments"]
        ]
        if not options:
            return []
        return self.rng.sample(options, min(len(options), self.rng.choice((1, 1, 2))))

    def new_id(self) -> str:
        # real ids grow with creation time; a random stride makes them look organic
        self._next_id += self.rng.randrange(1, 60)
        return str(self._next_id)

    def token(self, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def unique_key(self, base: str) -> str:
        key, n = base, 2
        while key in self.keys:
            key = f"{base}-{n}"
            n += 1
        self.keys.add(key)
        return key

    def next_op(self) -> str:
        # round robin, so every op appears once 14 conditions have been drawn
        op = CONDITION_OPS[self.op_counter % len(CONDITION_OPS)]
        self.op_counter += 1
        return op

    def random_condition(self) -> dict[str, Any]:
        op = self.next_op()
        prop, values = self.rng.choice(_CONDITIONS[op])
        return condition(op, prop, values)

    def random_segment(self, variant_keys: Sequence[str]) -> dict[str, Any]:
        rng = self.rng
        conditions = [self.random_condition() for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        weights = {k: 1 for k in variant_keys}
        return segment(
            rng.choice(_SEGMENT_NAMES),
            conditions,
            weights,
            percentage=rng.choice((100, 100, 50, 25, 10)),
        )

    def business_time(self, when: datetime) -> datetime:
        """``when`` moved to a weekday between 08:00 and 18:59 UTC, at most 2 days earlier."""
        rng = self.rng
        when = when.replace(hour=8 + when.hour % 11)
        if when.weekday() >= 5:
            when -= timedelta(days=when.weekday() - 4)
        return when.replace(second=rng.randrange(60), microsecond=rng.randrange(1000) * 1000)

    def spread(self, start: datetime, stop: datetime, n: int) -> list[datetime]:
        """``n`` increasing business-hour times in ``(start, stop)``, front-loaded (most
        configs see their changes early, then go quiet)."""
        if n <= 0:
            return []
        span = max((stop - start).total_seconds(), 3600.0 * n)
        fractions = sorted(self.rng.random() ** 1.6 for _ in range(n))
        out: list[datetime] = []
        for f in fractions:
            when = self.business_time(start + timedelta(seconds=span * f))
            floor = (out[-1] if out else start) + timedelta(minutes=self.rng.randrange(3, 40))
            out.append(max(when, floor))
        return out


def _payload(rng: random.Random) -> Any:
    return clone(rng.choice(_PAYLOADS))


def _variants(rng: random.Random, n: int, *, experiment: bool) -> list[dict[str, Any]]:
    if n == 1 and not experiment:
        payload = rng.choice((None, None, {"enabled": True}))
        return [{"key": "on", "name": "On", "description": "", "payload": payload}]
    names = list(_VARIANT_NAMES[:n]) if n <= len(_VARIANT_NAMES) else []
    if not names:
        names = ["control"] + [f"arm-{i}" for i in range(1, n)]
    return [
        {
            "key": name,
            "name": name.replace("-", " ").title(),
            "description": "" if name == "control" else f"Variant {name}",
            "payload": None if name == "control" else _payload(rng),
        }
        for name in names
    ]


def _variant_count(rng: random.Random, experiment: bool) -> int:
    if experiment:
        return rng.choice((2, 2, 2, 3, 3, 4, 5))
    return rng.choice((1, 1, 1, 1, 2, 2, 3, 4, 6, 12, 20))


def _tags(rng: random.Random, squad: str) -> list[str]:
    tags = [f"squad:{squad}"]
    tags += rng.sample(
        ("prod", "web", "ios", "android", "backend", "q3-okr"), rng.choice((0, 1, 2))
    )
    return tags


def _random_weights(rng: random.Random, keys: Sequence[str]) -> dict[str, int]:
    weights = {k: rng.choice((1, 1, 2, 3)) for k in keys}
    if not any(weights.values()):
        weights[keys[0]] = 1
    return weights


class _Projects:
    def __init__(self, ctx: _Context, n: int) -> None:
        base = ctx.rng.randrange(210_000, 230_000)
        self.ids = [str(base + i * ctx.rng.randrange(3, 40)) for i in range(n)]
        self.deployments: list[dict[str, Any]] = []
        self.by_project: dict[str, list[str]] = {}
        labels = (("web", "client"), ("ios", "client"), ("backend", "server"))
        for pid in self.ids:
            for label, kind in labels:
                dep: dict[str, Any] = {
                    "id": ctx.new_id(),
                    "projectId": pid,
                    "label": f"{label}-{pid[-3:]}",
                    "key": f"{kind}-{ctx.token(32)}",
                    "deleted": False,
                }
                self.deployments.append(dep)
                self.by_project.setdefault(pid, []).append(dep["id"])
        # a soft-deleted deployment, as orgs accumulate them
        self.deployments.append(
            {
                "id": ctx.new_id(),
                "projectId": self.ids[0],
                "label": "legacy-web",
                "key": f"client-{ctx.token(32)}",
                "deleted": True,
            }
        )


def new_config(
    rng: random.Random,
    kind: str,
    *,
    cid: str,
    project_id: str,
    key: str,
    name: str,
    description: str,
    variants: list[dict[str, Any]],
    tags: list[str],
    deployments: list[str] | None = None,
    segments: list[dict[str, Any]] | None = None,
    weights: dict[str, Any] | None = None,
    rollout: float = 0,
    enabled: bool = False,
    evaluation_mode: str = "remote",
    salt: str | None = None,
    experiment_type: str = "a-b-test",
) -> dict[str, Any]:
    """A new config's fields (no timestamps), as version 1 carries them."""
    config: dict[str, Any] = {
        "id": cid,
        "projectId": project_id,
        "key": key,
        "name": name,
        "description": description,
        "enabled": enabled,
        "evaluationMode": evaluation_mode,
        "bucketingKey": "amplitude_id",
        "bucketingSalt": salt or "".join(rng.choice(string.ascii_letters) for _ in range(8)),
        "bucketingUnit": "User",
        "variants": variants,
        "rolloutPercentage": rollout,
        "rolloutWeights": weights if weights is not None else {v["key"]: 1 for v in variants},
        "targetSegments": segments or [],
        "deployments": deployments or [],
        "tags": tags,
        "archived": False,
        "deleted": False,
    }
    if kind == "experiments":
        config.update(
            {
                "decision": None,
                "decisionReason": None,
                "rolledOutVariant": None,
                "stickyBucketing": False,
                "startDate": None,
                "endDate": None,
                "experimentType": experiment_type,
                "exposureEvent": None,
            }
        )
    return config


_FLAG_OPS = (
    ("weights", 4),
    ("segment_add", 3),
    ("segment_edit", 4),
    ("segment_remove", 1),
    ("tags", 2),
    ("description", 2),
    ("payload", 3),
    ("rollback", 2),
    ("toggle", 2),
    ("add_variant", 1),
    ("ramp_down", 1),
)
_EXPERIMENT_OPS = (
    ("segment_edit", 4),
    ("segment_add", 2),
    ("weights", 1),
    ("description", 2),
    ("tags", 1),
    ("payload", 2),
    ("rollback", 1),
    ("ramp_up", 2),
)


def _weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    total = sum(w for _, w in table)
    pick = rng.random() * total
    for name, weight in table:
        pick -= weight
        if pick < 0:
            return name
    return table[-1][0]


def _apply(ctx: _Context, b: ConfigBuilder, op: str, at: datetime, by: str, *, squad: str) -> None:
    """Applies one named change; a change that turned out to change nothing (a random pick
    equal to the current value) is replaced by a description edit, so every version differs
    from the one before."""
    before = b.current
    _apply_op(ctx, b, op, at, by, squad=squad)
    if b.current == before:
        b.discard_last()
        stamp = at.strftime("%Y-%m-%d %H:%M")
        base = before["description"].split(" (edited ")[0]
        b.change(at, by, description=f"{base} (edited {stamp})")


def _apply_op(
    ctx: _Context, b: ConfigBuilder, op: str, at: datetime, by: str, *, squad: str
) -> None:
    rng = ctx.rng
    cur = b.current
    keys = [v["key"] for v in cur["variants"]]
    if op == "deploy":
        b.change(at, by, deployments=[*cur["deployments"], *ctx.pending_deploys(cur)])
    elif op == "enable":
        fields: dict[str, Any] = {"enabled": True}
        if b.kind == "experiments" and not cur.get("startDate"):
            fields["startDate"] = _date(at)
        b.change(at, by, **fields)
    elif op == "disable":
        b.change(at, by, enabled=False)
    elif op == "toggle":
        b.change(at, by, enabled=not cur["enabled"])
    elif op.startswith("ramp_to_"):
        b.change(at, by, rolloutPercentage=int(op[8:]))
    elif op == "ramp_down":
        b.change(at, by, rolloutPercentage=rng.choice((0, 5, 10)))
    elif op == "ramp_up":
        pct = cur["rolloutPercentage"]
        b.change(at, by, rolloutPercentage=min(100, max(pct * 2, 10)))
    elif op == "weights" and len(keys) > 1:
        b.change(at, by, rolloutWeights=_random_weights(rng, keys))
    elif op == "weights":
        b.change(at, by, rolloutPercentage=rng.choice((10, 25, 50, 75, 100)))
    elif op == "segment_add" or (op == "segment_edit" and not cur["targetSegments"]):
        b.change(at, by, targetSegments=[*cur["targetSegments"], ctx.random_segment(keys)])
    elif op == "segment_edit":
        segments = list(cur["targetSegments"])
        i = rng.randrange(len(segments))
        edited = dict(segments[i])
        if rng.random() < 0.5:
            edited["percentage"] = rng.choice((10, 25, 50, 100))
        else:
            conditions = list(edited["conditions"])
            conditions[rng.randrange(len(conditions))] = ctx.random_condition()
            edited["conditions"] = conditions
        segments[i] = edited
        b.change(at, by, targetSegments=segments)
    elif op == "segment_remove" and cur["targetSegments"]:
        segments = list(cur["targetSegments"])
        del segments[rng.randrange(len(segments))]
        b.change(at, by, targetSegments=segments)
    elif op == "tags":
        b.change(at, by, tags=_tags(rng, squad))
    elif op == "payload" and len(keys) > 1:
        variants = list(cur["variants"])
        i = rng.randrange(1, len(variants))
        variants[i] = {**variants[i], "payload": _payload(rng)}
        b.change(at, by, variants=variants)
    elif op == "add_variant" and len(keys) < 20 and len(keys) > 1:
        key = f"treatment-{len(keys)}"
        if key in keys:
            key = f"arm-{len(keys)}-{ctx.token(3, string.ascii_lowercase)}"
        variants = [
            *cur["variants"],
            {"key": key, "name": key.title(), "description": "", "payload": _payload(rng)},
        ]
        b.change(at, by, variants=variants, rolloutWeights={**cur["rolloutWeights"], key: 1})
    elif op == "rollback" and len(b.versions) > 1:
        b.rollback(at, by)
    elif op == "archive":
        b.change(at, by, archived=True, enabled=False)
    elif op == "decide":
        decision = rng.choice(("rollout", "rollout", "rollback"))
        winner = rng.choice(keys[1:] or keys) if decision == "rollout" else keys[0]
        reason = (
            f"{winner} won on the primary metric with 95% confidence."
            if decision == "rollout"
            else "No significant lift; keeping control."
        )
        b.change(
            at,
            by,
            decision=decision,
            decisionReason=reason,
            rolledOutVariant=winner,
            endDate=_date(at),
            rolloutWeights={k: (1 if k == winner else 0) for k in keys},
        )
    else:
        template = rng.choice(_DESCRIPTIONS)
        b.change(
            at,
            by,
            description=template.format(
                area=cur["key"].split("-")[0], thing=cur["name"].split()[-1].lower(), squad=squad
            ),
        )


def _flag_plan(rng: random.Random, n: int, *, archived: bool) -> list[str]:
    plan = ["deploy", "enable"] if rng.random() < 0.92 else ["enable"]
    steps = rng.choice(((5, 25, 50, 100), (5, 25, 50, 100), (10, 50, 100), (25, 50), (100,)))
    plan += [f"ramp_to_{s}" for s in steps]
    while len(plan) < n:
        plan.append(_weighted(rng, _FLAG_OPS))
    if archived:
        plan = [*plan[: max(n - 2, 0)], "disable", "archive"][-n:] if n else []
    return plan[:n]


def _experiment_plan(rng: random.Random, n: int, fate: str, *, archived: bool) -> list[str]:
    head = ["segment_add", "deploy"]
    middle: list[str] = []
    tail: list[str] = []
    if fate in ("running", "decision-made"):
        head += ["enable"]
        middle = ["ramp_to_10", "ramp_to_50", "ramp_to_100"]
    if fate == "decision-made":
        tail = ["decide"]
        if archived:
            tail += ["disable", "archive"]
    fill = max(n - len(head) - len(middle) - len(tail), 0)
    table = _EXPERIMENT_OPS if fate != "planning" else _EXPERIMENT_OPS[:-1]
    extra = [_weighted(rng, table) for _ in range(fill)]
    plan = head + middle + extra + tail
    if len(plan) > n:
        # keep the story's ending (decision, archive) when the budget is short
        keep_tail = tail[: max(n - 1, 0)] if n > 1 else []
        plan = (head + middle)[: n - len(keep_tail)] + keep_tail
    return plan[:n]


def _inclusions(
    ctx: _Context, variant_keys: Sequence[str], *, emails: bool
) -> dict[str, dict[str, list[str]]]:
    rng = ctx.rng
    out: dict[str, dict[str, list[str]]] = {}
    key = rng.choice(list(variant_keys))
    users = [f"user-{rng.randrange(10_000, 999_999)}" for _ in range(rng.randrange(1, 30))]
    if emails:
        first = rng.choice(("ana", "ben", "chen", "dara", "eli", "fatima"))
        users.insert(rng.randrange(len(users) + 1), f"{first}.{ctx.token(4).lower()}@example.org")
    cohorts = [ctx.token(7, string.ascii_lowercase + string.digits)] if rng.random() < 0.3 else []
    out[key] = {"users": users, "cohorts": cohorts}
    return out


def synthetic_org(
    n_flags: int = 40,
    n_experiments: int = 15,
    versions_per_config: int = 20,
    seed: int = 0,
    *,
    end: datetime = DEFAULT_END,
    months: int = 18,
) -> dict[str, Any]:
    """A generated org (CONTRACT.md format), the same for the same arguments.

    Every config has exactly ``versions_per_config`` versions, spread over the ``months``
    before ``end``: create, deploy, enable, ramp 5→25→50→100, weight, segment, payload and
    tag edits, rollbacks, toggles, archives; experiments start, ramp and get decisions.
    """
    for name, value, lo in (
        ("n_flags", n_flags, 0),
        ("n_experiments", n_experiments, 0),
        ("versions_per_config", versions_per_config, 1),
        ("months", months, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            raise ValidationError(
                f"{name} must be an integer >= {lo}, got {value!r}.",
                field=name,
                value=value,
                allowed=f"an int >= {lo}",
            )
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    # The org is hundreds of thousands of small acyclic dicts: cyclic GC passes over the
    # growing heap find nothing and cost more than half the time, so pause GC meanwhile.
    with _gc.paused():
        return _generate(n_flags, n_experiments, versions_per_config, seed, end, months)


def _generate(
    n_flags: int,
    n_experiments: int,
    versions_per_config: int,
    seed: int,
    end: datetime,
    months: int,
) -> dict[str, Any]:
    rng = random.Random(seed)
    start = end - timedelta(days=round(months * 30.44))
    ctx = _Context(rng, start, end)
    n_projects = 1 if n_flags + n_experiments < 10 else min(4, 2 + (n_flags + n_experiments) // 400)
    projects = _Projects(ctx, n_projects)
    ctx.project_deployments = projects.by_project

    kinds = ["flags"] * n_flags + ["experiments"] * n_experiments
    rng.shuffle(kinds)
    # creation times spread over the span, leaving the last days for the latest changes
    span = (end - start).total_seconds() * 0.97
    created = sorted(
        ctx.business_time(start + timedelta(seconds=span * rng.random())) for _ in kinds
    )
    fates = ["running", "decision-made", "planning"]
    org: dict[str, Any] = {
        "flags": [],
        "experiments": [],
        "deployments": projects.deployments,
        "mutexes": [],
        "holdouts": [],
        "versions": {},
        "inclusions": {},
    }
    flags_by_project: dict[str, list[tuple[str, str]]] = {}
    experiments_by_project: dict[str, list[ConfigBuilder]] = {}
    n_exp = 0
    for kind, at in zip(kinds, created, strict=True):
        experiment = kind == "experiments"
        squad = rng.choice(SQUADS)
        area = rng.choice(_AREAS[squad])
        thing = rng.choice(_THINGS)
        key = ctx.unique_key(f"{area}-{thing}")
        pid = rng.choice(projects.ids)
        variants = _variants(rng, _variant_count(rng, experiment), experiment=experiment)
        keys = [v["key"] for v in variants]
        documented = rng.random() > 0.12
        description = (
            rng.choice(_DESCRIPTIONS).format(area=area, thing=thing, squad=squad)
            if documented
            else ""
        )
        config = new_config(
            rng,
            kind,
            cid=ctx.new_id(),
            project_id=pid,
            key=key,
            name=key.replace("-", " ").capitalize(),
            description=description,
            variants=variants,
            tags=_tags(rng, squad) if rng.random() > 0.1 else [],
            weights=_random_weights(rng, keys) if len(keys) > 1 and not experiment else None,
            rollout=0,
            evaluation_mode=rng.choice(("remote", "remote", "local")),
            experiment_type=rng.choice(("a-b-test", "a-b-test", "a-b-test", "multi-arm-bandit")),
        )
        if not experiment and flags_by_project.get(pid) and rng.random() < 0.1:
            parent_id, parent_variant = rng.choice(flags_by_project[pid])
            config["parentDependencies"] = {
                "flags": {parent_id: [parent_variant]},
                "operator": "all",
            }
        author = rng.choice(AUTHORS)
        b = ConfigBuilder(kind, config, at=at, by=author)
        archived = rng.random() < 0.08
        if experiment:
            fate = fates[n_exp % 3] if n_exp < 3 else rng.choice([*fates, "running"])
            n_exp += 1
            plan = _experiment_plan(rng, versions_per_config - 1, fate, archived=archived)
        else:
            plan = _flag_plan(rng, versions_per_config - 1, archived=archived)
        times = ctx.spread(at, end - timedelta(days=1), len(plan))
        team = [author, *rng.sample(AUTHORS, 2)]
        for op, when in zip(plan, times, strict=True):
            _apply(ctx, b, op, when, rng.choice(team), squad=squad)
        org[kind].append(b)
        if experiment:
            experiments_by_project.setdefault(pid, []).append(b)
        else:
            flags_by_project.setdefault(pid, []).append((b.id, keys[0]))
        if rng.random() < 0.25:
            org["inclusions"][b.id] = _inclusions(ctx, keys, emails=rng.random() < 0.25)

    _groups(ctx, org, experiments_by_project)

    for kind in ("flags", "experiments"):
        builders: list[ConfigBuilder] = org[kind]
        for b in builders:
            org["versions"][b.id] = b.versions
        # lists are newest first, as the API returns them
        org[kind] = [b.build() for b in reversed(builders)]
    return org


def _groups(
    ctx: _Context, org: dict[str, Any], experiments_by_project: Mapping[str, list[ConfigBuilder]]
) -> None:
    """Mutex groups and a holdout per project with experiments; members get the parent
    dependency from their first version on, as if grouped when created."""
    rng = ctx.rng
    for pid, builders in experiments_by_project.items():
        if len(builders) < 2:
            continue
        members = rng.sample(builders, min(len(builders), max(2, len(builders) // 3)))
        n_slots = min(len(members), rng.choice((2, 2, 3, 4)))
        shares = {2: (50, 50), 3: (40, 30, 30), 4: (25, 25, 25, 25)}[n_slots]
        mid = ctx.new_id()
        created = iso(min(b.first_time for b in members) - timedelta(days=2))
        author = rng.choice(AUTHORS)
        slots = []
        for i, pct in enumerate(shares, start=1):
            in_slot = members[i - 1 :: n_slots]
            slots.append(
                {
                    "name": f"SLOT {i}",
                    "index": i,
                    "variantKey": f"slot-{i}",
                    "percentage": pct,
                    "experiments": [int(b.id) for b in in_slot],
                    "holdouts": [],
                    "individuals": [],
                    "cohorts": [],
                }
            )
            for b in in_slot:
                b.add_parent(mid, f"slot-{i}")
        org["mutexes"].append(
            {
                "id": mid,
                "projectId": pid,
                "name": f"{pid[-3:]} checkout experiments",
                "key": ctx.unique_key(f"mutex-{ctx.token(8, string.ascii_lowercase)}"),
                "description": "Keeps concurrent checkout tests from overlapping.",
                "evaluationMode": "remote",
                "bucketingKey": "amplitude_id",
                "bucketingSalt": ctx.token(8),
                "slots": slots,
                "deleted": False,
                "createdBy": author,
                "createdAt": created,
                "lastModifiedBy": author,
                "lastModifiedAt": created,
            }
        )
        held = rng.sample(builders, max(1, len(builders) // 4))
        hid = ctx.new_id()
        for b in held:
            b.add_parent(hid, HOLDOUT_PASS_VARIANT)
        org["holdouts"].append(
            {
                "id": hid,
                "projectId": pid,
                "name": f"Q{rng.randrange(1, 5)} global holdout",
                "key": ctx.unique_key(f"holdout-{ctx.token(8, string.ascii_lowercase)}"),
                "description": "Measures the combined impact of this quarter's launches.",
                "holdoutPercentage": rng.choice((5, 5, 10)),
                "evaluationMode": "remote",
                "bucketingKey": "amplitude_id",
                "bucketingSalt": ctx.token(8),
                "variantName": "on",
                "experiments": [int(b.id) for b in held],
                "individualInclusion": [],
                "individualExclusion": [f"user-{rng.randrange(10_000, 99_999)}"],
                "deleted": False,
                "createdBy": author,
                "lastModifiedBy": author,
                "createdAt": created,
                "lastModifiedAt": created,
            }
        )

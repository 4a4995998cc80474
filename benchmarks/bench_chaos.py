"""Chaos: snapshot, refresh and every edit plan on a synthetic org under a fault matrix.

For each seed, a synthetic org is served by the fake (in this process, so its state can be
inspected between steps) and every operation runs once fault-free and once under each
scenario of the matrix: 5xx answers, 429 bursts (the fake's rate limit set to half the rate
a fault-free snapshot reached), dropped connections, latency, all of them together, and a
proxy that answers 502 HTML pages echoing the ``Authorization`` header (as itself, upper
case and base64). It checks:

* **rows lost / duplicated**: each frame of a snapshot (or refresh) taken under faults,
  against a fault-free snapshot of the same org state, by the frame's primary key;
* **edits half-applied silently**: after ``apply()`` under faults the server holds the old
  config or the new one, and the ``ApplyResult`` (or the raised error's ``result``) says
  which; a mixed state the result does not call mixed/unknown counts, and so does a result
  that names the wrong end state (``edits_misreported``);
* **key leaks**: every log record (DEBUG, urllib3 included), warning, exception (its str,
  repr, traceback, and the pickle of each exception of its ``__cause__``/``__context__``
  chain), result, repr and written file (saved snapshots, the audit log) is searched for
  the key: plain, in any letter case, URL-quoted and base64 (at each byte alignment);
* **429 bursts**: every snapshot under 429 bursts finishes (no abort); its time over the
  fault-free time of the same org (target: at most 3x).

Prints a table per scenario and one ``chaos: key=value ...`` line. ``--full`` uses a larger
org; ``--seeds N`` sets how many seeds (orgs and fault sequences) to run.
"""

from __future__ import annotations

import argparse
import base64
import collections
import functools
import logging
import os
import pickle
import random
import secrets
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd
import requests
from _common import line
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

import expkit
from expkit import edits
from expkit.errors import ExpkitError
from expkit.fake import FakeServer

# primary key of each frame: a row lost or duplicated is judged by these columns
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "configs": ("kind", "id"),
    "variants": ("kind", "config_id", "variant_key"),
    "segments": ("kind", "config_id", "segment_index"),
    "conditions": ("kind", "config_id", "segment_index", "condition_index"),
    "versions": ("kind", "config_id", "version"),
    "inclusions": ("kind", "config_id", "variant_key", "inclusion_type", "value"),
    "deployments": ("id",),
    "groups": ("kind", "id"),
}

MODEST = {"n_flags": 24, "n_experiments": 8, "versions_per_config": 6}
FULL = {"n_flags": 200, "n_experiments": 60, "versions_per_config": 20}

# scenario -> fake faults; "rate_limit": True means half the fault-free snapshot's rate.
# "echo": share of responses a misbehaving proxy replaces with a 502 page echoing the key.
SCENARIOS: dict[str, dict[str, Any]] = {
    "5xx": {"error_rate": 0.2},
    "429 bursts": {"rate_limit": True},
    "drops": {"drop_rate": 0.1},
    "latency": {"latency": 0.03},
    "echoing proxy": {"echo": 0.1},
    "all together": {
        "error_rate": 0.1,
        "rate_limit": True,
        "drop_rate": 0.05,
        "latency": 0.01,
        "echo": 0.05,
    },
}

# every edit plan with a single-config load; LifecycleEdit joins when it is in expkit.edits
PLAN_KINDS = tuple(
    name
    for name in ("RolloutEdit", "PayloadEdit", "InclusionsEdit", "RestoreEdit")
    if hasattr(edits, name)
)
# edit clients: the defaults (retries, short backoff), and one that never retries a 5xx/drop
EDIT_CLIENTS: dict[str, dict[str, Any]] = {
    "retrying": {"backoff_factor": 0.02, "backoff_max": 0.5},
    "no retries": {"max_retries": 0, "backoff_factor": 0.02, "backoff_max": 0.5},
}


# ----- the key, and where it must not show --------------------------------------------------


class LeakFinder:
    """Counts places the key shows up: any case, URL-quoted, base64 at any byte alignment."""

    def __init__(self, key: str) -> None:
        self.key = key
        plain = {key, quote(key, safe=""), quote_plus(key)}
        self._plain = [p.lower() for p in plain]
        raw = key.encode()
        self._b64: set[str] = set()
        for offset in range(3):
            encoded = base64.b64encode(b"\0" * offset + raw + b"\0\0").decode()
            # the groups holding only key bytes are the same wherever the key sits
            start = 4 * ((offset + 2) // 3)
            stop = 4 * ((offset + len(raw)) // 3)
            core = encoded[start:stop]
            if len(core) >= 8:
                self._b64.add(core)
                self._b64.add(core.replace("+", "-").replace("/", "_"))
        self.leaks: collections.Counter[str] = collections.Counter()
        self.examples: dict[str, str] = {}
        self.scanned = 0

    def found(self, text: str) -> bool:
        lower = text.lower()
        return any(p in lower for p in self._plain) or any(c in text for c in self._b64)

    def scan(self, text: str | bytes, where: str) -> None:
        self.scanned += 1
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        if self.found(text):
            self.leaks[where] += 1
            self.examples.setdefault(where, text[:300])

    def scan_exception(self, exc: BaseException, where: str) -> None:
        self.scan(str(exc), f"{where}: str")
        self.scan(repr(exc), f"{where}: repr")
        self.scan("".join(traceback.format_exception(exc)), f"{where}: traceback")
        seen: set[int] = set()
        link: BaseException | None = exc
        while link is not None and id(link) not in seen:
            seen.add(id(link))
            try:
                self.scan(pickle.dumps(link), f"{where}: pickle of {type(link).__name__}")
            except Exception:  # an unpicklable exception: what it holds, then
                self.scan(repr(vars(link)), f"{where}: attributes of {type(link).__name__}")
            self.scan(repr(getattr(link, "args", ())), f"{where}: args")
            link = link.__cause__ or link.__context__

    def scan_files(self, root: Path) -> int:
        n = 0
        for path in sorted(root.rglob("*")):
            if path.is_file():
                n += 1
                self.scan(path.read_bytes(), f"file {path.suffix or path.name}")
        return n


class LeakLogHandler(logging.Handler):
    """Scans every log record, as it would be written (message and traceback)."""

    def __init__(self, finder: LeakFinder) -> None:
        super().__init__(logging.DEBUG)
        self.finder = finder
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        self.finder.scan(self.format(record), f"log {record.name}")


# ----- faults --------------------------------------------------------------------------------


class Counter:
    """Faults injected, by kind."""

    def __init__(self) -> None:
        self.by_kind: collections.Counter[str] = collections.Counter()

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


def set_faults(server: FakeServer, counter: Counter, seed: int, **options: Any) -> None:
    """``server.faults(...)``, counting each fault the fake decides on."""
    faults = server.faults(seed=seed, **options)
    decide = faults.decide

    def counting(now: float) -> str | int | None:
        decision = decide(now)
        if faults.latency:
            counter.by_kind["delayed"] += 1
        if decision is not None:
            counter.by_kind["drop" if decision == "drop" else str(decision)] += 1
        return decision

    faults.decide = counting  # type: ignore[method-assign]


def faults_off(server: FakeServer) -> None:
    server.faults()


class EchoingProxy(HTTPAdapter):
    """A proxy that answers some requests with a 502 HTML page echoing the request headers.

    The request still reaches the fake (a write is applied; its answer is lost), as when a
    gateway times out after forwarding.
    """

    def __init__(self, rate: float, seed: int, counter: Counter) -> None:
        super().__init__(pool_connections=4, pool_maxsize=32)
        self.rate = rate
        self.rng = random.Random(seed)
        self.counter = counter

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        response = super().send(request, *args, **kwargs)
        if not self.rng.random() < self.rate:
            return response
        self.counter.by_kind["echoed 502"] += 1
        auth = str(request.headers.get("Authorization", ""))
        key = auth.split()[-1] if auth else ""
        page = (
            "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>"
            f"<pre>upstream request:\nAuthorization: {auth}\nAUTHORIZATION: {auth.upper()}\n"
            f"x-raw: {base64.b64encode(auth.encode()).decode()}\n"
            f"x-key: {base64.b64encode(key.encode()).decode()}</pre></body></html>"
        )
        fake = requests.Response()
        fake.status_code = 502
        fake._content = page.encode()
        fake.headers = CaseInsensitiveDict({"Content-Type": "text/html"})
        fake.url = request.url or ""
        fake.request = request
        fake.reason = "Bad Gateway"
        fake.connection = response.connection
        _ = response.content  # read to the end, so the connection goes back to the pool
        return fake


def faulted_client(
    server: FakeServer, scenario: dict[str, Any], seed: int, counter: Counter, **options: Any
) -> expkit.Client:
    """A client whose session goes through the echoing proxy when the scenario has one."""
    echo = scenario.get("echo", 0.0)
    if echo:
        session = requests.Session()
        adapter = EchoingProxy(echo, seed, counter)
        session.mount("http://", adapter)
        options["session"] = session
    return server.client(**options)


def apply_faults(
    server: FakeServer, scenario: dict[str, Any], seed: int, counter: Counter, rate: float
) -> None:
    options = {k: v for k, v in scenario.items() if k != "echo"}
    if options.get("rate_limit") is True:
        options["rate_limit"] = max(2.0, rate / 2)
    set_faults(server, counter, seed, **options)


# ----- rows ----------------------------------------------------------------------------------


@dataclass
class RowTally:
    compared: int = 0
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0
    frames_differing: int = 0


def _keys(df: pd.DataFrame, name: str) -> list[tuple[Any, ...]]:
    cols = list(PRIMARY_KEYS[name])
    return [tuple(str(v) for v in row) for row in df[cols].itertuples(index=False, name=None)]


def compare(got: expkit.Snapshot, expected: expkit.Snapshot, tally: RowTally) -> None:
    """Rows of ``got`` against ``expected``, frame by frame, by primary key."""
    for name in PRIMARY_KEYS:
        want = getattr(expected, name)
        have = getattr(got, name)
        want_keys = collections.Counter(_keys(want, name))
        have_keys = collections.Counter(_keys(have, name))
        tally.compared += len(want)
        tally.lost += sum((want_keys - have_keys).values())
        tally.duplicated += sum(n - 1 for n in have_keys.values() if n > 1)
        tally.unexpected += sum(1 for k in have_keys if k not in want_keys)
        try:
            pd.testing.assert_frame_equal(have, want)
        except AssertionError:
            tally.frames_differing += 1


# ----- edits ---------------------------------------------------------------------------------


def view(server: FakeServer, kind: str, config_id: str) -> dict[str, Any]:
    """The config and its inclusions as the fake holds them (modification stamps aside)."""
    org = server.state.to_org()
    config = next(c for c in org[kind] if str(c["id"]) == config_id)
    config = {k: v for k, v in config.items() if k not in ("lastModifiedAt", "lastModifiedBy")}
    inclusions = {
        variant: {what: sorted(ids) for what, ids in lists.items()}
        for variant, lists in org.get("inclusions", {}).get(config_id, {}).items()
    }
    return {"config": config, "inclusions": inclusions}


def plan_class(name: str) -> type[Any]:
    cls: type[Any] = getattr(edits, name)
    return cls


def configure(plan: Any, name: str, spec: dict[str, Any]) -> Any:
    if name == "RolloutEdit":
        plan.set_weights(spec["weights"])
        plan.set_percentage(spec["percentage"])
    elif name == "PayloadEdit":
        for variant, payload in spec["payloads"].items():
            plan.set_payload(variant, payload)
    elif name == "RestoreEdit":
        pass  # the version to restore is given to load()
    else:
        for variant, changes in spec.items():
            for what, ids in changes.items():
                getattr(plan, what)(variant, ids)
    return plan


def make_spec(plan: Any, name: str, rng: random.Random, trial: int) -> dict[str, Any]:
    """The change one trial makes, picked from the loaded plan so that it changes something."""
    keys = plan.variant_keys
    if name == "RolloutEdit":
        weights = {k: w for k, w in plan.weights.items()}
        new = {k: (int(w or 0) % 5) + 1 + rng.randrange(3) for k, w in weights.items()}
        percentage = plan.percentage
        choices = [p for p in (10, 25, 40, 60, 75, 90) if p != percentage]
        return {"weights": new, "percentage": rng.choice(choices)}
    if name == "PayloadEdit":
        return {
            "payloads": {
                k: {"chaos": trial, "variant": k, "n": rng.randrange(1000)} for k in keys[:2]
            }
        }
    first, second = keys[0], keys[-1]
    current = plan.current(first)
    spec: dict[str, dict[str, list[str]]] = {
        first: {"add_users": [f"chaos-{trial}-{i}" for i in range(3)]},
        second: {"add_cohorts": [f"coh-chaos-{trial}"]},
    }
    if current.get("users"):
        spec[first]["remove_users"] = [current["users"][0]]
    return spec


@dataclass
class EditTally:
    trials: int = 0
    applied: int = 0
    rolled_back: int = 0
    not_sent: int = 0
    unknown: int = 0
    mixed_reported: int = 0
    half_applied_silently: int = 0
    misreported: int = 0
    restore_mismatch: int = 0
    details: list[str] = field(default_factory=list)


def edit_trial(
    server: FakeServer,
    reliable: expkit.Client,
    name: str,
    kind: str,
    cid: str,
    make_client: Callable[[], expkit.Client],
    start_faults: Callable[[], None],
    audit: Path,
    finder: LeakFinder,
    rng: random.Random,
    trial: int,
    tally: EditTally,
) -> None:
    cls = plan_class(name)
    old = view(server, kind, cid)
    # the new config: apply fault-free, look, undo (checked to restore the old one)
    if name == "RestoreEdit":
        # an earlier version that differs from the current config
        for _ in range(10):
            spec = restore_spec(reliable, kind, cid, rng)
            reference = load_plan(cls, name, reliable, cid, kind, spec, audit)
            if reference.has_changes:
                break
        else:
            return
    else:
        reference = load_plan(cls, name, reliable, cid, kind, {}, audit)
        spec = make_spec(reference, name, rng, trial)
    configure(reference, name, spec).apply(progress=False)
    new = view(server, kind, cid)
    reference.undo(progress=False)
    if view(server, kind, cid) != old:
        tally.restore_mismatch += 1
        old = view(server, kind, cid)

    tally.trials += 1
    result = None
    raised: BaseException | None = None
    client = make_client()
    start_faults()
    try:
        plan = configure(load_plan(cls, name, client, cid, kind, spec, audit), name, spec)
        result = plan.apply(progress=False)
        finder.scan(repr(plan), "plan repr")
    except (edits.PartialApplyError, edits.VerificationError) as exc:
        raised, result = exc, exc.result
    except ExpkitError as exc:
        raised = exc
    finally:
        faults_off(server)
    if raised is not None:
        finder.scan_exception(raised, f"edit error {type(raised).__name__}")
    if result is not None:
        finder.scan(str(result), "apply result")
        finder.scan(result.frame().to_string(), "apply result frame")
    after = view(server, kind, cid)

    said = result.state if result is not None else None
    if after == new:
        truth = "planned"
    elif after == old:
        truth = "before"
    else:
        truth = "mixed"
    if truth == "mixed":
        if said in ("mixed", "unknown"):
            tally.mixed_reported += 1
        else:
            tally.half_applied_silently += 1
            tally.details.append(f"{name} {kind} {cid}: server mixed, result said {said!r}")
    elif said is None:
        # raised before any result: nothing may have been sent
        if truth == "before":
            tally.not_sent += 1
        else:
            tally.misreported += 1
            tally.details.append(f"{name} {kind} {cid}: {truth} on the server, no result")
    elif said == "unknown":
        tally.unknown += 1
    elif said != truth:
        tally.misreported += 1
        tally.details.append(f"{name} {kind} {cid}: server {truth}, result said {said!r}")
    elif truth == "planned":
        tally.applied += 1
    else:
        tally.rolled_back += 1
    # the next trial starts from the old config
    if after != old:
        fix_up(reliable, name, kind, cid, old, spec)


def restore_spec(
    reliable: expkit.Client, kind: str, cid: str, rng: random.Random
) -> dict[str, Any]:
    """A RestoreEdit trial: an earlier version to restore, and the latest (to go back to)."""
    resource = reliable.flags if kind == "flags" else reliable.experiments
    numbers = sorted(int(v["version"]) for v in resource.versions(cid))
    return {"version": rng.choice(numbers[:-1] or numbers), "latest": numbers[-1]}


def load_plan(
    cls: type[Any],
    name: str,
    client: expkit.Client,
    cid: str,
    kind: str,
    spec: dict[str, Any],
    audit: Path | bool,
) -> Any:
    if name == "RestoreEdit":
        return cls.load(
            client, cid, spec["version"], kind=kind, allow_partial=True, audit_log=audit
        )
    return cls.load(client, cid, kind=kind, audit_log=audit)


def fix_up(
    reliable: expkit.Client,
    name: str,
    kind: str,
    cid: str,
    old: dict[str, Any],
    spec: dict[str, Any],
) -> None:
    """Puts the config back to ``old`` through a fault-free plan (best effort)."""
    cls = plan_class(name)
    if name == "RestoreEdit":
        back = load_plan(cls, name, reliable, cid, kind, {"version": spec["latest"]}, False)
        if back.has_changes:
            back.apply(progress=False)
        return
    back = cls.load(reliable, cid, kind=kind, audit_log=False)
    if name == "RolloutEdit":
        cfg = old["config"]
        weights = cfg.get("rolloutWeights") or {}
        back.set_weights({str(v["key"]): weights.get(str(v["key"]), 0) for v in cfg["variants"]})
        back.set_percentage(cfg.get("rolloutPercentage"))
    elif name == "PayloadEdit":
        for v in old["config"]["variants"]:
            back.set_payload(str(v["key"]), v.get("payload"))
    else:
        for variant, lists in old["inclusions"].items():
            now = back.current(variant)
            for what, field_name in (("users", "users"), ("cohorts", "cohorts")):
                want, have = set(lists.get(field_name, [])), set(now.get(field_name, []))
                if have - want:
                    getattr(back, f"remove_{what}")(variant, sorted(have - want))
                if want - have:
                    getattr(back, f"add_{what}")(variant, sorted(want - have))
    if back.has_changes:
        back.apply(progress=False)


def lifecycle_trial(
    server: FakeServer,
    reliable: expkit.Client,
    flags: list[str],
    make_client: Callable[[], expkit.Client],
    start_faults: Callable[[], None],
    audit: Path,
    finder: LeakFinder,
    tally: EditTally,
) -> None:
    """LifecycleEdit disables several flags; each config's status must match the fake.

    Configs are independent (one failure never rolls back the others), so the check is per
    config: ``applied`` means the fake shows it disabled, ``failed`` / ``not sent`` /
    ``conflict`` / ``blocked`` / ``no-op`` that it is as it was, ``unknown`` either.
    """
    cls = plan_class("LifecycleEdit")

    def enabled() -> dict[str, Any]:
        org = server.state.to_org()
        return {str(c["id"]): c.get("enabled") for c in org["flags"] if str(c["id"]) in flags}

    old = enabled()
    tally.trials += 1
    result = None
    raised: BaseException | None = None
    client = make_client()
    start_faults()
    try:
        plan = cls.load(client, flags, action="disable", kind="flags", audit_log=audit)
        result = plan.apply(progress=False)
    except ExpkitError as exc:
        raised = exc
        result = getattr(exc, "result", None)
    finally:
        faults_off(server)
    if raised is not None:
        finder.scan_exception(raised, f"edit error {type(raised).__name__}")
    after = enabled()
    if result is None:
        if after == old:
            tally.not_sent += 1
        else:
            tally.misreported += 1
            tally.details.append(f"LifecycleEdit {flags}: changed on the server, no result")
    else:
        finder.scan(str(result), "apply result")
        finder.scan(result.frame().to_string(), "apply result frame")
        statuses = {c.id: c.status for c in result.configs}
        for cid in flags:
            status, now, was = statuses.get(cid), after[cid], old[cid]
            if status == "applied":
                ok = now is False
            elif status == "unknown":
                ok = now in (False, was)
                tally.unknown += 1
            else:
                ok = now == was
            if not ok:
                tally.half_applied_silently += 1
                tally.details.append(
                    f"LifecycleEdit flag {cid}: status {status!r}, enabled {was} -> {now}"
                )
        if all(statuses.get(c) == "applied" for c in flags if old[c]):
            tally.applied += 1
        else:
            tally.rolled_back += 1
    for cid in flags:  # the next trial starts from the old state
        if after[cid] != old[cid]:
            reliable.flags.edit(cid, enabled=old[cid])


# ----- the run -------------------------------------------------------------------------------


@dataclass
class ScenarioTally:
    trials: int = 0
    faults: int = 0
    rows: RowTally = field(default_factory=RowTally)
    edits: EditTally = field(default_factory=EditTally)
    snapshot_aborts: int = 0
    refresh_aborts: int = 0
    ratios: list[float] = field(default_factory=list)


def pick_targets(snap: expkit.Snapshot) -> list[tuple[str, str]]:
    """(kind, id) of unarchived configs with two or more variants: a flag and an experiment."""
    configs = snap.configs[~snap.configs["archived"].fillna(False).astype(bool)]
    counts = snap.variants.groupby(["kind", "config_id"]).size()
    out = []
    for kind, plural in (("flag", "flags"), ("experiment", "experiments")):
        ids = configs.loc[configs["kind"] == kind, "id"].tolist()
        ids = [i for i in ids if counts.get((kind, i), 0) >= 2]
        if ids:
            out.append((plural, str(ids[0])))
    return out


def change_some(client: expkit.Client, snap: expkit.Snapshot, seed: int) -> None:
    """A few fault-free changes between a snapshot and its refresh."""
    configs = snap.configs[~snap.configs["archived"].fillna(False).astype(bool)]
    flags = configs.loc[configs["kind"] == "flag", "id"].tolist()[seed % 3 :][:3]
    exps = configs.loc[configs["kind"] == "experiment", "id"].tolist()[:1]
    for i, cid in enumerate(flags):
        client.flags.edit(cid, rollout_percentage=(31 * (i + seed + 1)) % 100)
    for cid in exps:
        client.experiments.edit(cid, description=f"changed by bench_chaos, seed {seed}")


def run(size: dict[str, int], seeds: int, scenarios: list[str], log: bool) -> dict[str, Any]:
    key = "ChaosKey-" + secrets.token_urlsafe(18)
    finder = LeakFinder(key)
    # the finder must see the key in every form the echoing proxy writes it, or 0 means nothing
    plain = (key, f"Bearer {key}", f"Authorization: Bearer {key}")
    encoded = tuple(base64.b64encode(form.encode()).decode() for form in plain)
    for form in (*plain, key.upper(), f"AUTHORIZATION: BEARER {key.upper()}", *encoded):
        assert finder.found(form), f"the leak finder misses {form!r}"
    assert not finder.found(key[:-1]) and not finder.found(base64.b64encode(b"x" * 40).decode())
    handler = LeakLogHandler(finder)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.captureWarnings(True)
    tallies = {name: ScenarioTally() for name in scenarios}
    files = 0
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="expkit-chaos-") as tmp:
            out = Path(tmp)
            audit = out / "audit.jsonl"
            for seed in range(seeds):
                with FakeServer.synthetic(seed=seed, api_key=key, warm=False, **size) as server:
                    seed_tallies(server, seed, scenarios, tallies, finder, out, audit, log)
            files = finder.scan_files(out)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        logging.captureWarnings(False)

    edit_totals = EditTally()
    rows = RowTally()
    for t in tallies.values():
        for name in vars(rows):
            setattr(rows, name, getattr(rows, name) + getattr(t.rows, name))
        for name in vars(edit_totals):
            if name != "details":
                setattr(edit_totals, name, getattr(edit_totals, name) + getattr(t.edits, name))
        edit_totals.details += t.edits.details
    ratios = tallies["429 bursts"].ratios if "429 bursts" in tallies else []
    if log:
        print_table(tallies)
        for detail in edit_totals.details:
            print("  silent/misreported:", detail)
        for where, n in finder.leaks.items():
            print(f"  key leak x{n} in {where}: {finder.examples[where]!r}")
    return {
        "seeds": seeds,
        "configs": size["n_flags"] + size["n_experiments"],
        "trials": sum(t.trials for t in tallies.values()),
        "faults_injected": sum(t.faults for t in tallies.values()),
        "rows_compared": rows.compared,
        "rows_lost": rows.lost,
        "rows_duplicated": rows.duplicated,
        "rows_unexpected": rows.unexpected,
        "frames_differing": rows.frames_differing,
        "snapshot_aborts": sum(t.snapshot_aborts + t.refresh_aborts for t in tallies.values()),
        "aborts_429": (
            tallies["429 bursts"].snapshot_aborts + tallies["429 bursts"].refresh_aborts
            if "429 bursts" in tallies
            else 0
        ),
        "max_429_slowdown": max(ratios) if ratios else float("nan"),
        "edit_trials": edit_totals.trials,
        "edits_applied": edit_totals.applied,
        "edits_rolled_back": edit_totals.rolled_back + edit_totals.not_sent,
        "edits_mixed_reported": edit_totals.mixed_reported,
        "edits_unknown": edit_totals.unknown,
        "edits_half_applied_silently": edit_totals.half_applied_silently,
        "edits_misreported": edit_totals.misreported,
        "key_leaks": sum(finder.leaks.values()),
        "places_scanned": finder.scanned,
        "log_records": handler.records,
        "files_scanned": files,
        "seconds": time.perf_counter() - started,
    }


def seed_tallies(
    server: FakeServer,
    seed: int,
    scenarios: list[str],
    tallies: dict[str, ScenarioTally],
    finder: LeakFinder,
    out: Path,
    audit: Path,
    log: bool,
) -> None:
    reliable = server.client(backoff_factor=0.02)
    finder.scan(repr(reliable), "client repr")
    for s_index, scenario_name in enumerate(scenarios):
        scenario = SCENARIOS[scenario_name]
        tally = tallies[scenario_name]
        counter = Counter()
        fault_seed = seed * 100 + s_index

        # snapshot: fault-free (timed), then under faults, of the same org state
        server.reset_log()
        t0 = time.perf_counter()
        expected = expkit.snapshot(reliable, progress=False)
        clean_s = time.perf_counter() - t0
        rate = server.request_count / clean_s
        tally.trials += 1
        client = faulted_client(server, scenario, fault_seed, counter)
        apply_faults(server, scenario, fault_seed, counter, rate)
        t0 = time.perf_counter()
        try:
            got = expkit.snapshot(client, progress=False)
        except ExpkitError as exc:
            tally.snapshot_aborts += 1
            finder.scan_exception(exc, "snapshot error")
            got = None
            if log:
                print(f"  seed {seed} {scenario_name}: snapshot aborted: {exc}", file=sys.stderr)
        finally:
            faults_off(server)
        faulted_s = time.perf_counter() - t0
        if got is not None:
            compare(got, expected, tally.rows)
            tally.ratios.append(faulted_s / clean_s)
            finder.scan(repr(got), "snapshot repr")
            got.save(out / f"snap-{seed}-{s_index}")

            # refresh: a few changes, a refresh under faults, against a fresh fault-free one
            change_some(reliable, got, seed + s_index)
            tally.trials += 1
            client = faulted_client(server, scenario, fault_seed + 50, counter)
            apply_faults(server, scenario, fault_seed + 50, counter, rate)
            try:
                refreshed = got.refresh(client, progress=False)
            except ExpkitError as exc:
                tally.refresh_aborts += 1
                finder.scan_exception(exc, "refresh error")
                refreshed = None
                if log:
                    print(f"  seed {seed} {scenario_name}: refresh aborted: {exc}", file=sys.stderr)
            finally:
                faults_off(server)
            if refreshed is not None:
                fresh = expkit.snapshot(reliable, progress=False)
                compare(refreshed, fresh, tally.rows)
                refreshed.save(out / f"refresh-{seed}-{s_index}")

        # every edit plan, on a flag and an experiment, with and without client retries
        targets = pick_targets(expected)
        rng = random.Random(fault_seed)
        for c_index, options in enumerate(EDIT_CLIENTS.values()):
            for p_index, plan_name in enumerate(PLAN_KINDS):
                for t_index, (kind, cid) in enumerate(targets):
                    trial_seed = fault_seed * 1000 + c_index * 100 + p_index * 10 + t_index
                    tally.trials += 1
                    edit_trial(
                        server,
                        reliable,
                        plan_name,
                        kind,
                        cid,
                        functools.partial(
                            faulted_client, server, scenario, trial_seed, counter, **options
                        ),
                        functools.partial(
                            apply_faults, server, scenario, trial_seed, counter, rate
                        ),
                        audit,
                        finder,
                        rng,
                        trial_seed,
                        tally.edits,
                    )
        if hasattr(edits, "LifecycleEdit"):
            live = expected.configs[
                (expected.configs["kind"] == "flag")
                & expected.configs["enabled"].fillna(False).astype(bool)
                & ~expected.configs["archived"].fillna(False).astype(bool)
            ]
            flags = [str(i) for i in live["id"].tolist()[:4]]
            for c_index, options in enumerate(EDIT_CLIENTS.values()):
                trial_seed = fault_seed * 1000 + 900 + c_index
                tally.trials += 1
                lifecycle_trial(
                    server,
                    reliable,
                    flags,
                    functools.partial(
                        faulted_client, server, scenario, trial_seed, counter, **options
                    ),
                    functools.partial(apply_faults, server, scenario, trial_seed, counter, rate),
                    audit,
                    finder,
                    tally.edits,
                )
        tally.faults += counter.total
        if log:
            print(
                f"  seed {seed} {scenario_name}: {counter.total} faults "
                f"{dict(counter.by_kind)}, snapshot {clean_s:.2f} s fault-free, "
                f"{faulted_s:.2f} s under faults",
                file=sys.stderr,
            )


def print_table(tallies: dict[str, ScenarioTally]) -> None:
    print(
        "| scenario | trials | faults injected | rows compared | rows lost | rows duplicated "
        "| aborts | edits applied | edits rolled back | edits mixed or unknown, reported "
        "| edits half-applied silently | snapshot time vs fault-free (max) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, t in tallies.items():
        e = t.edits
        ratio = f"{max(t.ratios):.2f}x" if t.ratios else "-"
        print(
            f"| {name} | {t.trials} | {t.faults} | {t.rows.compared:,} | {t.rows.lost} | "
            f"{t.rows.duplicated} | {t.snapshot_aborts + t.refresh_aborts} | {e.applied} | "
            f"{e.rolled_back + e.not_sent} | {e.mixed_reported + e.unknown} | "
            f"{e.half_applied_silently + e.misreported} | {ratio} |"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help=f"a larger org ({FULL})")
    p.add_argument("--seeds", type=int, default=3, help="seeds (orgs and fault sequences)")
    p.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        help="run only this scenario (repeatable)",
    )
    p.add_argument("--quiet", action="store_true", help="only the final line")
    args = p.parse_args()
    size = FULL if args.full else MODEST
    warnings.simplefilter("default")
    figures = run(size, args.seeds, args.scenario or list(SCENARIOS), log=not args.quiet)
    print(line("chaos", figures))


if __name__ == "__main__":
    os.environ.setdefault("EXPKIT_AUDIT_LOG", os.devnull)
    main()

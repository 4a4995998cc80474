"""Hash-consing of the versions a snapshot keeps: equal parts are one object, values exact."""

from __future__ import annotations

import copy
import json
import marshal
from typing import Any

import pandas as pd

import expkit
from expkit._fetch import _bar, _Inclusions, _Pool, _Seen, _variants_of
from expkit._share import Interner, Sharer
from expkit.fake import FakeAdapter
from expkit.fake._state import State
from expkit.fake._synth import synthetic_org


def exact(value: Any) -> bytes:
    """A form that tells 1, 1.0 and True apart and keeps key order (``==`` does neither)."""
    return marshal.dumps(value, 2)


def record(cid: str, version: int, **fields: Any) -> dict[str, Any]:
    config = {"id": cid, "key": f"k{cid}", "variants": [{"key": "on", "payload": None}]}
    config.update(fields)
    return {"version": version, "flagConfig": config}


def test_equal_values_become_one_object_and_unequal_ones_stay_apart() -> None:
    intern = Interner()
    a = intern({"key": "on", "payload": {"n": 1, "tags": ["x", "y"]}})
    b = intern({"key": "on", "payload": {"n": 1, "tags": ["x", "y"]}})
    assert a is b
    # 1, 1.0 and True are == to each other: each keeps its own object and type
    one, one_float, true = (intern({"n": v}) for v in (1, 1.0, True))
    assert len({id(one), id(one_float), id(true)}) == 3
    assert [type(d["n"]) for d in (one, one_float, true)] == [int, float, bool]
    # the same items in another order are another value (the order is what the API sent)
    assert intern({"b": 2, "a": 1}) is not intern({"a": 1, "b": 2})
    assert list(intern({"b": 2, "a": 1})) == ["b", "a"]
    # parts are shared too: the inner list of an unequal dict is the earlier one's
    c = intern({"key": "off", "payload": {"n": 1, "tags": ["x", "y"]}})
    assert c is not a and c["payload"] is a["payload"]
    assert intern("a string" + "!") is intern("a string!")
    # -0.0 == 0.0: zeros are left alone, so neither turns into the other
    assert str(intern({"w": -0.0})["w"]) == "-0.0"


def test_a_version_that_only_changed_a_type_keeps_its_own_value() -> None:
    # 1 → true → 1.0 in a payload: `==` calls these versions equal, the frame must not
    records = [
        record("1", 1, variants=[{"key": "on", "payload": 1}]),
        record("1", 2, variants=[{"key": "on", "payload": True}]),
        record("1", 3, variants=[{"key": "on", "payload": 1.0}]),
        record("1", 4, variants=[{"key": "on", "payload": True}]),
    ]
    expected = [exact(r["flagConfig"]) for r in records]
    Sharer()(records)
    assert [exact(r["flagConfig"]) for r in records] == expected
    payloads = [r["flagConfig"]["variants"] for r in records]
    assert payloads[1] is payloads[3]  # equal exactly: shared
    assert payloads[0] is not payloads[1] and payloads[0] is not payloads[2]


def test_sharer_shares_across_configs_and_versions_without_changing_values() -> None:
    segment = {"name": "beta", "conditions": [{"prop": "country", "values": ["DE", "FR"]}]}
    records = [
        record(cid, v, targetSegments=[copy.deepcopy(segment)] * (v % 2 + 1), tags=["web"])
        for cid in ("1", "2", "3")
        for v in (1, 2, 3)
    ]
    expected = [exact(r["flagConfig"]) for r in records]
    Sharer()(records)
    assert [exact(r["flagConfig"]) for r in records] == expected
    configs = [r["flagConfig"] for r in records]
    assert len({id(c["tags"]) for c in configs}) == 1
    assert len({id(c["variants"]) for c in configs}) == 1
    segments = {id(s) for c in configs for s in c["targetSegments"]}
    assert len(segments) == 1  # one segment object, in lists of one and of two


def test_snapshot_versions_are_exactly_what_the_api_sent_and_share_their_parts() -> None:
    org = synthetic_org(n_flags=30, n_experiments=10, versions_per_config=8, seed=3)
    fake = FakeAdapter(State.from_org(org))
    client = fake.client(rate_limit=None)
    snap = expkit.snapshot(client, progress=False, inclusions=False)
    sent = {}
    for kind, resource in (("flag", client.flags), ("experiment", client.experiments)):
        for cid in snap.configs.loc[snap.configs["kind"] == kind, "id"]:
            for rec in resource.versions(cid):
                sent[(cid, rec["version"])] = rec["flagConfig"]
    kept = dict(
        zip(
            zip(snap.versions["config_id"], snap.versions["version"], strict=True),
            snap.versions["config"],
            strict=True,
        )
    )
    assert kept.keys() == sent.keys()
    for at, config in kept.items():
        assert json.dumps(config) == json.dumps(sent[at]), at
    # the parts: far fewer objects than versions × fields, and the weights column's dicts
    # are the very objects inside the configs
    parts = {id(c[f]) for c in snap.versions["config"] for f in ("variants", "tags")}
    assert len(parts) < len(snap.versions)
    same = [
        w is c["rolloutWeights"]
        for w, c in zip(snap.versions["rollout_weights"], snap.versions["config"], strict=True)
        if isinstance(c.get("rolloutWeights"), dict)
    ]
    assert same and all(same)


# --------------------------------------------------------------------------- what the feed read


def test_seen_pairs_and_complete_histories() -> None:
    seen = _Seen()
    assert [seen.add("a", n) for n in (1, 2, 2, 3)] == [True, True, False, True]
    assert seen.complete("a")
    seen.add("b", 1)
    seen.add("b", 3)  # a gap: version 2 was not read
    assert not seen.complete("b")
    assert not seen.complete("never read")
    seen.add("c", 2)  # 1 missing
    assert not seen.complete("c")
    # numbers no API sends still count once, and never make a history complete
    for odd in (0, -1, 1 << 20, True, "3", None, [1]):
        assert seen.add("d", odd) and not seen.add("d", odd)
    seen.add("d", 1)
    assert not seen.complete("d")


def test_versions_frame_rows_are_sorted_like_sort_values_missing_last() -> None:
    records = [
        {"version": v, "flagConfig": {"id": cid, "key": f"k{cid}"}}
        for cid, v in [("b", 2), ("a", 3), (None, 1), ("a", None), ("b", 1), (7, 1), ("a", 1)]
    ]
    frame = expkit.frames.versions(records, kind="flag")
    expected = (
        pd.DataFrame({"cid": [r["flagConfig"]["id"] for r in records]})
        .assign(
            cid=lambda d: d["cid"].map(lambda v: v if v is None else str(v)).astype("string"),
            version=pd.array([r["version"] for r in records], dtype="Int64"),
        )
        .sort_values(["cid", "version"], kind="stable", ignore_index=True)
    )
    assert frame["config_id"].tolist() == expected["cid"].tolist()
    assert frame["version"].tolist() == expected["version"].tolist()


def test_inclusions_are_read_by_a_few_workers_not_a_future_per_request() -> None:
    org = synthetic_org(n_flags=40, n_experiments=10, versions_per_config=2, seed=1)
    fake = FakeAdapter(State.from_org(org))
    client = fake.client(rate_limit=None)
    submitted = []

    class CountingPool(_Pool):
        def submit(self, fn: Any, *args: Any) -> Any:
            submitted.append(fn)
            return super().submit(fn, *args)

    flags = client.flags.list(include_archived=True)
    targets = _variants_of(flags, "flag")
    with CountingPool(3) as pool, _bar(False, "", "") as bar:
        reader = _Inclusions(pool, client, bar, 3)
        reader.add(targets[:5])
        reader.add(targets[5:])
        records = reader.records()
    assert len(targets) > 20 and len(submitted) <= 6  # 3 workers per add
    assert [(r["config_id"], r["variant_key"]) for r in records] == [
        (t.config_id, t.variant_key) for t in targets
    ]
    for r in records[:10]:
        assert r["users"] == client.flags.users(r["config_id"], r["variant_key"])
        assert r["cohorts"] == client.flags.cohorts(r["config_id"], r["variant_key"])


def test_fetch_versions_shares_parts_like_snapshot_and_keeps_values() -> None:
    org = synthetic_org(n_flags=20, n_experiments=5, versions_per_config=6, seed=2)
    client = FakeAdapter(State.from_org(org)).client(rate_limit=None)
    fetched = expkit.fetch_versions(client, progress=False)
    snap = expkit.snapshot(client, progress=False, inclusions=False)
    pd.testing.assert_frame_equal(
        fetched.drop(columns=["config"]).reset_index(drop=True),
        snap.versions.drop(columns=["config"]).reset_index(drop=True),
        check_like=False,
    )
    assert [json.dumps(c) for c in fetched["config"]] == [
        json.dumps(c) for c in snap.versions["config"]
    ]
    tags = {json.dumps(c["tags"]): c["tags"] for c in fetched["config"]}
    assert all(c["tags"] is tags[json.dumps(c["tags"])] for c in fetched["config"])

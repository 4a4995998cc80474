from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import expkit
from expkit._schema import SCHEMA
from expkit.errors import ValidationError
from expkit.fake import FakeServer
from expkit.fake._state import FakeClock, State
from tests.support import DEPLOY_KEY
from tests.support import FETCH_NOW as NOW
from tests.support import fetch_org as make_org


def assert_snapshots_equal(a: expkit.Snapshot, b: expkit.Snapshot) -> None:
    for name, frame in a.frames().items():
        pd.testing.assert_frame_equal(frame, getattr(b, name), obj=name)
    assert a.taken_at == b.taken_at
    assert a.equals(b)


def fake_for(org: dict[str, Any]) -> FakeServer:
    return FakeServer(State.from_org(org, clock=FakeClock(NOW)))


def paths(server: FakeServer) -> list[str]:
    return [path for _, path, _ in server.request_log]


# --------------------------------------------------------------------------- snapshot


def test_snapshot_row_counts_equal_what_the_fake_holds(server: FakeServer) -> None:
    snap = expkit.snapshot(server.client(rate_limit=None), progress=False)
    org = server.state.to_org()
    configs = org["flags"] + org["experiments"]
    segments = [s for c in configs for s in c["targetSegments"]]
    assert len(snap.configs) == len(configs) == 12
    assert (snap.configs["kind"] == "flag").sum() == len(org["flags"])
    assert len(snap.variants) == sum(len(c["variants"]) for c in configs)
    assert len(snap.segments) == len(segments)
    assert len(snap.conditions) == sum(len(s["conditions"]) for s in segments)
    assert len(snap.versions) == sum(len(v) for v in org["versions"].values()) == 36
    n_inclusions = sum(
        len(lists["users"]) + len(lists["cohorts"])
        for per_config in org["inclusions"].values()
        for lists in per_config.values()
    )
    assert len(snap.inclusions) == n_inclusions == 36
    assert len(snap.deployments) == 2
    assert snap.groups["kind"].tolist() == ["mutex"]
    for name, frame in snap.frames().items():
        assert {c: str(t) for c, t in frame.dtypes.items()} == dict(SCHEMA[name]), name


def test_snapshot_values_and_order(server: FakeServer) -> None:
    snap = expkit.snapshot(server.client(rate_limit=None), progress=False)
    assert snap.taken_at == pd.Timestamp(NOW)
    assert snap.source == server.url
    assert snap.configs["id"].tolist() == sorted(snap.configs["id"].tolist())
    versions = snap.versions
    assert list(zip(versions["config_id"], versions["version"], strict=True)) == sorted(
        zip(versions["config_id"], versions["version"], strict=True)
    )
    by_id = snap.configs.set_index("id")
    assert by_id.loc["1007", "archived"]  # archived configs are included
    exp_versions = versions[versions["config_id"] == "1010"]
    assert set(exp_versions["kind"]) == {"experiment"}
    assert snap.deployments.loc[0, "key"] == "clie…cdef"
    latest = versions.groupby("config_id")["version"].max()
    assert (latest == 3).all()


def test_snapshot_request_count_is_minimal(server: FakeServer) -> None:
    client = server.client(rate_limit=None)
    server.reset_log()
    snap = expkit.snapshot(client, progress=False)
    n_variants = len(snap.variants)
    # deployments, versions feed, flags, experiments, mutexes, holdouts + 2 per variant
    assert server.request_count == 6 + 2 * n_variants
    assert client.request_count == server.request_count
    assert not [p for p in paths(server) if p.endswith("/versions") and p != "/api/1/versions"]
    listed = {p: q for _, p, q in server.request_log}
    assert listed["/api/1/flags"].get("includeArchived") == "true"
    assert listed["/api/1/versions"].get("limit") == "1000"


def test_snapshot_without_inclusions(server: FakeServer) -> None:
    server.reset_log()
    snap = expkit.snapshot(server.client(rate_limit=None), inclusions=False, progress=False)
    assert server.request_count == 6
    assert len(snap.inclusions) == 0
    assert not snap.with_inclusions
    assert "not fetched" in repr(snap)
    assert {c: str(t) for c, t in snap.inclusions.dtypes.items()} == dict(SCHEMA["inclusions"])


def test_feed_versions_take_their_kind_from_the_lists() -> None:
    org = make_org(n_flags=1, n_experiments=1)
    exp_id = org["experiments"][0]["id"]
    for version in org["versions"][exp_id]:
        # an experiment version without any experiment-only field would be inferred a flag
        for field in ("decision", "decisionReason", "rolledOutVariant", "stickyBucketing"):
            version["flagConfig"].pop(field, None)
        for field in ("startDate", "endDate", "experimentType"):
            version["flagConfig"].pop(field, None)
    with fake_for(org) as fake:
        snap = expkit.snapshot(fake.client(rate_limit=None), progress=False)
    assert set(snap.versions.loc[snap.versions["config_id"] == exp_id, "kind"]) == {"experiment"}


def test_per_config_fallback_only_where_the_feed_has_gaps() -> None:
    org = make_org(n_flags=3, n_experiments=1)
    gappy = org["flags"][0]["id"]
    org["versions"][gappy] = [v for v in org["versions"][gappy] if v["version"] != 2]
    with fake_for(org) as fake:
        fake.reset_log()
        snap = expkit.snapshot(fake.client(rate_limit=None), inclusions=False, progress=False)
        per_config = [p for p in paths(fake) if p.endswith("/versions") and p != "/api/1/versions"]
    assert per_config == [f"/api/1/flags/{gappy}/versions"]
    assert snap.versions.loc[snap.versions["config_id"] == gappy, "version"].tolist() == [1, 3]


def test_snapshot_since_limits_versions(server: FakeServer) -> None:
    full = expkit.snapshot(server.client(rate_limit=None), inclusions=False, progress=False)
    cut = full.versions["created_at"].sort_values().iloc[20]
    server.reset_log()
    snap = expkit.snapshot(
        server.client(rate_limit=None), since=cut, inclusions=False, progress=False
    )
    assert len(snap.versions) == (full.versions["created_at"] >= cut).sum()
    assert (snap.versions["created_at"] >= cut).all()
    assert server.request_count == 6  # no fallbacks: a window is allowed to miss configs
    assert len(snap.configs) == len(full.configs)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"max_workers": 0}, "max_workers"),
        ({"since": "last tuesday"}, "since"),
        ({"inclusions": "yes"}, "inclusions"),
    ],
)
def test_snapshot_validates_before_any_request(
    server: FakeServer, options: dict[str, Any], field: str
) -> None:
    client = server.client(rate_limit=None)
    with pytest.raises(ValidationError) as info:
        expkit.snapshot(client, progress=False, **options)
    assert info.value.field == field
    assert client.request_count == 0


def test_progress_bars_can_be_silenced(server: FakeServer, capsys: pytest.CaptureFixture) -> None:
    expkit.snapshot(server.client(rate_limit=None), progress=False)
    assert capsys.readouterr().err == ""
    expkit.snapshot(server.client(rate_limit=None), progress=True)
    assert "inclusions" in capsys.readouterr().err


# --------------------------------------------------------------------------- refresh


def edit_ten(client: expkit.Client, snap: expkit.Snapshot) -> list[str]:
    flags = snap.configs.loc[snap.configs["kind"] == "flag", "id"].tolist()
    exps = snap.configs.loc[snap.configs["kind"] == "experiment", "id"].tolist()
    for i, cid in enumerate(flags[:7]):
        client.flags.edit(cid, rollout_percentage=(i * 13) % 100, description=f"edit {i}")
    client.flags.add_users(flags[7], "on", ["late@example.com"])
    for cid in exps[:2]:
        client.experiments.edit(cid, enabled=False)
    return flags[:8] + exps[:2]


def test_refresh_after_ten_changes_equals_a_fresh_snapshot() -> None:
    with fake_for(make_org(n_flags=20, n_experiments=6)) as fake:
        client = fake.client(rate_limit=None)
        snap = expkit.snapshot(client, progress=False)
        changed = edit_ten(client, snap)
        fake.reset_log()
        refreshed = snap.refresh(client, progress=False)
        log = paths(fake)
        fresh = expkit.snapshot(client, progress=False)
    inclusion_requests = [p for p in log if p.endswith(("/users", "/cohorts"))]
    n_changed_variants = snap.variants["config_id"].isin(changed).sum()
    assert len(inclusion_requests) == 2 * n_changed_variants
    assert {p.split("/")[4] for p in inclusion_requests} == set(changed)
    assert len(log) - len(inclusion_requests) <= 3
    assert_snapshots_equal(refreshed, fresh)
    assert refreshed.taken_at > snap.taken_at
    assert refreshed.configs.set_index("id").loc[changed[0], "description"] == "edit 0"


def test_refresh_with_nothing_changed_costs_one_request(server: FakeServer) -> None:
    client = server.client(rate_limit=None)
    snap = expkit.snapshot(client, progress=False)
    server.reset_log()
    again = snap.refresh(client, progress=False)
    assert paths(server) == ["/api/1/versions"]
    assert_snapshots_equal(again, snap)


def test_refresh_sees_new_configs_and_new_deployments(server: FakeServer) -> None:
    client = server.client(rate_limit=None)
    snap = expkit.snapshot(client, progress=False)
    created = client.flags.create("9000", "brand-new", variants=[{"key": "on"}])
    dep = client.deployments.create("9000", "mobile", "client")
    client.flags.add_deployments(created["id"], [str(dep["id"])])
    refreshed = snap.refresh(client, progress=False)
    assert_snapshots_equal(refreshed, expkit.snapshot(client, progress=False))
    assert created["id"] in refreshed.configs["id"].tolist()
    assert str(dep["id"]) in refreshed.deployments["id"].tolist()


def test_refresh_unversioned_refetches_deployments_and_groups(server: FakeServer) -> None:
    client = server.client(rate_limit=None)
    snap = expkit.snapshot(client, progress=False)
    client.deployments.edit("502", label="renamed")
    assert snap.refresh(client, progress=False).deployments.equals(snap.deployments)
    server.reset_log()
    refreshed = snap.refresh(client, unversioned=True, progress=False)
    assert sorted(paths(server)) == sorted(
        ["/api/1/versions", "/api/1/deployments", "/api/1/mutexes", "/api/1/holdouts"]
    )
    assert "renamed" in refreshed.deployments["label"].tolist()
    assert_snapshots_equal(refreshed, expkit.snapshot(client, progress=False))


def test_refresh_of_a_snapshot_without_inclusions(server: FakeServer) -> None:
    client = server.client(rate_limit=None)
    snap = expkit.snapshot(client, inclusions=False, progress=False)
    client.flags.edit("1001", rollout_percentage=5)
    server.reset_log()
    refreshed = snap.refresh(client, progress=False)
    assert not [p for p in paths(server) if p.endswith(("/users", "/cohorts"))]
    assert not refreshed.with_inclusions and len(refreshed.inclusions) == 0
    assert_snapshots_equal(refreshed, expkit.snapshot(client, inclusions=False, progress=False))


def test_refresh_after_save_and_load(server: FakeServer, tmp_path: Path) -> None:
    client = server.client(rate_limit=None)
    snap = expkit.snapshot(client, progress=False)
    snap.save(tmp_path / "snap")
    client.experiments.edit("1009", name="Renamed")
    refreshed = expkit.Snapshot.load(tmp_path / "snap").refresh(client, progress=False)
    assert_snapshots_equal(refreshed, expkit.snapshot(client, progress=False))


# --------------------------------------------------------------------------- save / load


def test_save_load_round_trip_is_exact(server: FakeServer, tmp_path: Path) -> None:
    snap = expkit.snapshot(server.client(rate_limit=None), progress=False)
    out = snap.save(tmp_path / "snap")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{name}.parquet" for name in snap.frames()] + ["meta.json"]
    )
    loaded = expkit.Snapshot.load(out)
    assert_snapshots_equal(loaded, snap)
    assert loaded.source == snap.source
    assert loaded.with_inclusions
    assert isinstance(loaded.versions.loc[0, "config"], dict)
    assert isinstance(loaded.configs.loc[0, "deployments"], list)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["taken_at"] == "2026-11-20T09:00:00+00:00"
    assert meta["counts"] == snap.counts()
    assert meta["source"] == server.url
    text = "".join(p.read_bytes().decode("latin-1") for p in out.iterdir())
    assert server.api_key not in text
    assert DEPLOY_KEY not in text


def test_save_load_round_trip_of_empty_frames(tmp_path: Path) -> None:
    from expkit import frames

    empty = expkit.Snapshot(
        *(frames.empty(name) for name in SCHEMA), taken_at="2026-01-01T00:00:00Z"
    )
    assert_snapshots_equal(expkit.Snapshot.load(empty.save(tmp_path)), empty)


def test_load_rejects_other_directories(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        expkit.Snapshot.load(tmp_path)
    assert info.value.field == "path"


def test_load_names_the_missing_frame_files(tmp_path: Path) -> None:
    from expkit import frames

    empty = expkit.Snapshot(
        *(frames.empty(name) for name in SCHEMA), taken_at="2026-01-01T00:00:00Z"
    )
    out = empty.save(tmp_path / "snap")
    (out / "versions.parquet").unlink()
    with pytest.raises(ValidationError, match=r"missing versions\.parquet") as info:
        expkit.Snapshot.load(out)
    assert info.value.field == "path"


def test_snapshot_requires_frames() -> None:
    with pytest.raises(ValidationError) as info:
        expkit.Snapshot(*([None] * 8), taken_at="2026-01-01")  # type: ignore[arg-type]
    assert info.value.field == "configs"


def test_repr_and_html_summarise_without_secrets(server: FakeServer) -> None:
    snap = expkit.snapshot(server.client(rate_limit=None), progress=False)
    text = repr(snap)
    assert "configs=12 (8 flags, 4 experiments)" in text
    assert "taken_at=2026-11-20T09:00:00+00:00" in text
    assert server.url in text
    html = snap._repr_html_()
    assert "<table>" in html and "12 (8 flags, 4 experiments)" in html
    assert "inclusions" in html
    for shown in (text, html):
        assert server.api_key not in shown


# --------------------------------------------------------------------------- the versions feed


def test_feed_read_in_time_windows_gets_every_version_once() -> None:
    org = make_org(n_flags=45, n_experiments=10, n_versions=25)
    expected = {(cid, v["version"]) for cid, vs in org["versions"].items() for v in vs}
    assert len(expected) > 1000  # more than one page: the windows are used
    with fake_for(org) as fake:
        fake.reset_log()
        snap = expkit.snapshot(fake.client(rate_limit=None), inclusions=False, progress=False)
        feed = [q for _, p, q in fake.request_log if p == "/api/1/versions"]
        cut = snap.versions["created_at"].sort_values().iloc[100]
        since = expkit.snapshot(
            fake.client(rate_limit=None), since=cut, inclusions=False, progress=False
        )
    got = list(zip(snap.versions["config_id"], snap.versions["version"], strict=True))
    assert len(got) == len(set(got)) and set(got) == expected
    assert len(feed) >= 3
    assert any("end" in q for q in feed)
    assert all(q.get("limit") == "1000" for q in feed)
    assert not [q for q in feed if "cursor" in q]  # windows, not a cursor chain
    assert len(since.versions) == (snap.versions["created_at"] >= cut).sum()
    assert (since.versions["created_at"] >= cut).all()


def test_refresh_asking_for_inclusions_fetches_those_of_every_config(server: FakeServer) -> None:
    client = server.client(rate_limit=None)
    snap = expkit.snapshot(client, inclusions=False, progress=False)
    client.flags.edit("1001", rollout_percentage=5)
    refreshed = snap.refresh(client, inclusions=True, progress=False)
    assert refreshed.with_inclusions and len(refreshed.inclusions) == 36
    assert_snapshots_equal(refreshed, expkit.snapshot(client, progress=False))


def test_refresh_without_inclusions_drops_the_stale_ones(server: FakeServer) -> None:
    client = server.client(rate_limit=None)
    snap = expkit.snapshot(client, progress=False)
    client.flags.add_users("1001", "on", ["late@example.com"])
    refreshed = snap.refresh(client, inclusions=False, progress=False)
    assert not refreshed.with_inclusions and len(refreshed.inclusions) == 0
    assert_snapshots_equal(refreshed, expkit.snapshot(client, inclusions=False, progress=False))

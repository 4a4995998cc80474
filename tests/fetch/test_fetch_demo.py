"""The bundled demo org through the fake: what the snapshot holds is what the fake holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import expkit
from expkit._paths import demo_fixtures
from expkit.fake import FakeServer


@pytest.fixture
def demo() -> Iterator[FakeServer]:
    with FakeServer.from_fixtures(demo_fixtures()) as server:
        yield server


def test_demo_snapshot_matches_the_fake(demo: FakeServer) -> None:
    client = demo.client(rate_limit=None)
    demo.reset_log()
    snap = expkit.snapshot(client, progress=False)
    org = demo.state.to_org()
    configs = org["flags"] + org["experiments"]
    segments = [s for c in configs for s in c.get("targetSegments") or []]
    assert len(snap.configs) == len(configs)
    assert (snap.configs["kind"] == "experiment").sum() == len(org["experiments"])
    assert len(snap.variants) == sum(len(c["variants"]) for c in configs)
    assert len(snap.segments) == len(segments)
    assert len(snap.conditions) == sum(len(s.get("conditions") or []) for s in segments)
    assert len(snap.versions) == sum(len(v) for v in org["versions"].values())
    inclusions = sum(
        len(lists.get("users") or []) + len(lists.get("cohorts") or [])
        for per_config in org["inclusions"].values()
        for lists in per_config.values()
    )
    assert len(snap.inclusions) == inclusions
    assert len(snap.deployments) == len(org["deployments"])
    assert len(snap.groups) == len(org["mutexes"]) + len(org["holdouts"])
    assert snap.taken_at == pd.Timestamp("2026-11-20T09:00:00Z")
    # one page per list, the feed, then two requests per variant; nothing per config
    assert demo.request_count == 6 + 2 * len(snap.variants)
    # every version's kind agrees with its config's
    kinds = snap.configs.set_index("id")["kind"]
    assert (snap.versions["kind"].to_numpy() == kinds[snap.versions["config_id"]].to_numpy()).all()


def test_demo_refresh_after_edits_equals_a_fresh_snapshot(demo: FakeServer, tmp_path: Path) -> None:
    client = demo.client(rate_limit=None)
    snap = expkit.snapshot(client, progress=False)
    snap = expkit.Snapshot.load(snap.save(tmp_path / "before"))
    flags = snap.configs.loc[snap.configs["kind"] == "flag"]
    flag_ids = flags.loc[~flags["archived"].fillna(False).astype(bool), "id"].tolist()[:9]
    for i, cid in enumerate(flag_ids):
        client.flags.edit(cid, rollout_percentage=(11 * i) % 100)
    exp = snap.configs.loc[snap.configs["kind"] == "experiment", "id"].iloc[0]
    client.experiments.edit(exp, description="edited in a test")
    changed = [*flag_ids, exp]
    demo.reset_log()
    refreshed = snap.refresh(client, progress=False)
    log = [p for _, p, _ in demo.request_log]
    inclusion_requests = [p for p in log if p.endswith(("/users", "/cohorts"))]
    assert len(inclusion_requests) == 2 * snap.variants["config_id"].isin(changed).sum()
    assert len(log) - len(inclusion_requests) <= 3
    fresh = expkit.snapshot(client, progress=False)
    for name, frame in fresh.frames().items():
        pd.testing.assert_frame_equal(getattr(refreshed, name), frame, obj=name)
    assert refreshed.equals(fresh)


def test_snapshot_command_on_the_demo_fixtures(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from expkit.cli import main

    out = tmp_path / "snap"
    assert (
        main(["snapshot", "--fixtures", str(demo_fixtures()), "--out", str(out), "--no-progress"])
        == 0
    )
    counts = json.loads((demo_fixtures() / "manifest.json").read_text())["counts"]
    n_configs = counts["flags"] + counts["experiments"]
    printed = capsys.readouterr()
    assert f"{n_configs} configs" in printed.out
    assert printed.err == ""
    snap = expkit.Snapshot.load(out)
    assert len(snap.configs) == n_configs and snap.with_inclusions
    assert snap.taken_at == pd.Timestamp("2026-11-20T09:00:00Z")

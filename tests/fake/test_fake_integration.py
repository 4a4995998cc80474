"""The fake with the synthetic org and recorded fixtures: invariants that hold at any size."""

from __future__ import annotations

import json
from datetime import datetime

from expkit.fake import FakeServer, record

TIME_FIELDS = ("createdAt", "createdBy", "lastModifiedAt", "lastModifiedBy")


def _check_last_version_matches(client) -> int:
    checked = 0
    for kind in ("flags", "experiments"):
        resource = getattr(client, kind)
        for config in resource.list(include_archived=True):
            latest = resource.versions(config["id"])[0]
            drop = TIME_FIELDS + (("state",) if kind == "experiments" else ())
            assert latest["flagConfig"] == {k: v for k, v in config.items() if k not in drop}
            assert latest["createdAt"] == config["lastModifiedAt"]
            checked += 1
    return checked


def test_synthetic_is_deterministic_and_consistent():
    a = FakeServer.synthetic(n_flags=6, n_experiments=3, versions_per_config=4, seed=5)
    b = FakeServer.synthetic(n_flags=6, n_experiments=3, versions_per_config=4, seed=5)
    assert a.state.to_org() == b.state.to_org()
    counts = a.state.counts()
    assert (counts["flags"], counts["experiments"], counts["versions"]) == (6, 3, 36)
    with a:
        client = a.client(max_retries=0, rate_limit=None)
        assert _check_last_version_matches(client) == 9
        flag = client.flags.list(include_archived=True)[0]
        before = len(client.flags.versions(flag["id"]))
        client.flags.edit(flag["id"], description="edited over HTTP")
        versions = client.flags.versions(flag["id"])
        assert len(versions) == before + 1
        assert versions[0]["flagConfig"]["description"] == "edited over HTTP"
        assert len(client.versions.list()) == 37


def test_from_fixtures_serves_the_recording_at_its_clock(tmp_path):
    with FakeServer.synthetic(n_flags=5, n_experiments=2, versions_per_config=3, seed=2) as live:
        source = live.client(max_retries=0, rate_limit=None)
        record(source, tmp_path / "org", progress=False)
        original = {
            kind: getattr(source, kind).list(include_archived=True)
            for kind in ("flags", "experiments")
        }
    with FakeServer.from_fixtures(tmp_path / "org") as server:
        client = server.client(max_retries=0, rate_limit=None)
        for kind, configs in original.items():
            assert getattr(client, kind).list(include_archived=True) == configs
        assert _check_last_version_matches(client) == 7
        manifest = json.loads((tmp_path / "org" / "manifest.json").read_text())
        recorded_at = datetime.fromisoformat(manifest["recorded_at"].replace("Z", "+00:00"))
        assert server.state.clock.now() == recorded_at
        assert client.server_time == recorded_at


def test_every_public_name_of_expkit_fake_resolves():
    import expkit.fake

    assert expkit.fake.__all__ == sorted(expkit.fake.__all__)
    for name in expkit.fake.__all__:
        assert getattr(expkit.fake, name) is not None, name
    assert callable(expkit.fake.load_fixtures) and callable(expkit.fake.synthetic_org)

"""The public API (DESIGN.md's contract), called exactly as written there, on the demo org.

Each test reads like the contract's lines; the area test suites check the behaviour in depth.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import expkit
from expkit.fake import FakeServer

DEMO = Path(__file__).resolve().parent.parent / "data" / "fixtures" / "demo"


@pytest.fixture
def server():
    with FakeServer.from_fixtures(DEMO) as server:
        yield server


@pytest.fixture
def client(server):
    return server.client()


def _a_flag(client, *, min_variants=1):
    flags = client.flags.list()
    return next(f for f in flags if f["enabled"] and len(f.get("variants") or []) >= min_variants)


def test_client_constructors(monkeypatch):
    monkeypatch.setenv("AMPLITUDE_MANAGEMENT_API_KEY", "k-from-env")
    assert expkit.Client().base_url == "https://experiment.amplitude.com"
    client = expkit.Client(api_key="...", region="eu", timeout=30.0, max_retries=5, rate_limit=100)
    assert client.base_url == "https://experiment.eu.amplitude.com"
    client = expkit.Client(api_key="k", base_url="http://127.0.0.1:8765")
    assert client.base_url == "http://127.0.0.1:8765"
    with pytest.raises(expkit.ValidationError, match="base_url"):
        expkit.Client(api_key="k", base_url="http://example.com")


def test_flag_reads(client):
    flags = client.flags.list(project_id=None, key=None, include_archived=False)
    assert flags and all(isinstance(f["id"], str) for f in flags)
    flag = _a_flag(client)
    assert client.flags.list(key=flag["key"])[0]["id"] == flag["id"]
    assert client.flags.get(flag["id"])["key"] == flag["key"]
    versions = client.flags.versions(flag["id"])
    newest = versions[0]["version"]
    assert client.flags.version(flag["id"], newest)["version"] == newest
    variants = client.flags.variants(flag["id"])
    key = variants[0]["key"]
    assert client.flags.variant(flag["id"], key)["key"] == key
    assert isinstance(client.flags.users(flag["id"], key), list)
    assert isinstance(client.flags.cohorts(flag["id"], key), list)
    assert isinstance(client.flags.deployments(flag["id"]), list)


def test_variant_and_inclusion_writes(client):
    fid = _a_flag(client)["id"]
    client.flags.create_variant(
        fid, "extra", name="Extra", description="d", payload={"a": 1}, rollout_weight=0
    )
    client.flags.edit_variant(fid, "extra", key=None, name="Extra 2", payload=[1], rollout_weight=1)
    assert client.flags.variant(fid, "extra")["payload"] == [1]
    client.flags.add_users(fid, "extra", ["u1", "u2", "u3"])
    client.flags.add_cohorts(fid, "extra", ["c1", "c2"])
    client.flags.remove_user_at(fid, "extra", 0, expected="u1")
    with pytest.raises(expkit.ValidationError):
        client.flags.remove_user_at(fid, "extra", 0, expected="u1")
    client.flags.remove_users(fid, "extra", ["u2"])
    client.flags.remove_cohorts(fid, "extra", ["c1"])
    assert client.flags.users(fid, "extra") == ["u3"]
    assert client.flags.cohorts(fid, "extra") == ["c2"]
    client.flags.remove_all_users(fid, "extra")
    assert client.flags.users(fid, "extra") == []
    client.flags.remove_variant(fid, "extra")
    assert "extra" not in [v["key"] for v in client.flags.variants(fid)]


def test_config_edit_create_and_deployments(client):
    flag = _a_flag(client)
    deployment = client.deployments.list()[-1]
    client.flags.add_deployments(flag["id"], [deployment["id"]])
    assert deployment["id"] in [d["id"] for d in client.flags.deployments(flag["id"])]
    client.flags.remove_deployment(flag["id"], deployment["id"])
    segments = [
        {
            "name": "Beta",
            "conditions": [{"type": "property", "prop": "country", "op": "is", "values": ["DE"]}],
            "percentage": 50,
            "bucketing_key": "amplitude_id",
            "rollout_weights": {v["key"]: 1 for v in flag["variants"]},
        }
    ]
    client.flags.edit(flag["id"], rollout_percentage=25, target_segments=segments)
    changed = client.flags.get(flag["id"])
    assert changed["rolloutPercentage"] == 25
    assert [s["name"] for s in changed["targetSegments"]] == ["Beta"]
    client.flags.edit(flag["id"], archive=True)
    assert flag["id"] not in [f["id"] for f in client.flags.list()]
    created = client.flags.create(flag["projectId"], "contract-new-flag", name="New")
    assert set(created) >= {"id", "url"} and isinstance(created["id"], str)


def test_experiments_share_the_methods_and_add_their_fields(client):
    experiment = client.experiments.list()[0]
    assert client.experiments.get(experiment["id"])["key"] == experiment["key"]
    assert client.experiments.versions(experiment["id"])
    client.experiments.edit(experiment["id"], decision="rollout", start_date="2026-11-01")
    assert client.experiments.get(experiment["id"])["decision"] == "rollout"
    with pytest.raises(expkit.ValidationError, match="decision"):
        client.experiments.edit(experiment["id"], decision="ship-it")


def test_deployments_versions_mutexes_holdouts(client):
    deployments = client.deployments.list()
    project_id = deployments[0]["projectId"]
    created = client.deployments.create(project_id, "contract-deployment", "server")
    client.deployments.edit(created["id"], label="contract-renamed", archive=None)
    assert "contract-renamed" in [d["label"] for d in client.deployments.list()]
    everything = client.versions.list(start=None, end=None)
    assert len(everything) > len(client.versions.list(start="2026-11-01T00:00:00Z", end=None))
    mutex = client.mutexes.list()[0]
    assert client.mutexes.get(mutex["id"])["id"] == mutex["id"]
    client.mutexes.edit(mutex["id"], description="contract")
    client.mutexes.edit_slot(mutex["id"], 1, individuals=["someone"])
    made = client.mutexes.create(
        project_id, "Contract mutex", [{"percentage": 40}, {"percentage": 60}]
    )
    assert made["id"] in [m["id"] for m in client.mutexes.list()]
    holdout = client.holdouts.list()[0]
    assert client.holdouts.get(holdout["id"])["id"] == holdout["id"]
    client.holdouts.edit(holdout["id"], name="Contract holdout")
    assert client.holdouts.create(project_id, "Contract holdout 2", 5)["id"]


def test_legacy_client(server):
    legacy = server.legacy_client()
    assert isinstance(
        expkit.LegacyClient(api_key=None, region="us", base_url=None), expkit.LegacyClient
    )
    experiment = legacy.list_experiments()[0]
    assert legacy.list_flags() and legacy.list_deployments()
    assert legacy.experiment(experiment["id"])["id"] == experiment["id"]
    version = legacy.experiment_versions(experiment["id"])[0]["version"]
    assert legacy.experiment_version(experiment["id"], version)["version"] == version
    flag = legacy.list_flags()[0]
    assert legacy.flag(flag["id"])["id"] == flag["id"]
    flag_version = legacy.flag_versions(flag["id"])[0]["version"]
    assert legacy.flag_version(flag["id"], flag_version)["version"] == flag_version
    created = legacy.create_experiment(
        experiment["projectId"], "contract-legacy-exp", variants=[{"key": "a"}, {"key": "b"}]
    )
    legacy.activate(created["id"])
    legacy.deactivate(created["id"])
    legacy.set_rollout_weights(created["id"], {"a": 1, "b": 3})
    assert legacy.experiment(created["id"])["rolloutWeights"] == {"a": 1, "b": 3}


def test_error_tree():
    assert issubclass(expkit.ValidationError, expkit.ExpkitError)
    assert issubclass(expkit.ValidationError, ValueError)
    for name in ("TransportError", "ApiError"):
        assert issubclass(getattr(expkit, name), expkit.ExpkitError)
    statuses = {
        "BadRequestError": 400,
        "AuthenticationError": 401,
        "PermissionDeniedError": 403,
        "NotFoundError": 404,
        "RateLimitError": 429,
    }
    for name, status in statuses.items():
        cls = getattr(expkit.errors, name)
        assert issubclass(cls, expkit.ApiError) and cls is getattr(expkit, name)
        error = cls(status, "GET", "/api/1/flags", "text")
        assert (error.status_code, error.method, error.url, error.body) == (
            status,
            "GET",
            "/api/1/flags",
            "text",
        )
    assert issubclass(expkit.ServerError, expkit.ApiError)


def test_frames_fetch_and_snapshot(client, tmp_path):
    flags = client.flags.list()
    for name in ("configs", "variants", "segments", "conditions"):
        frame = getattr(expkit.frames, name)(flags)
        assert isinstance(frame, pd.DataFrame) and len(frame)
    assert len(expkit.frames.versions(client.versions.list())) > 0
    assert len(expkit.frames.deployments(client.deployments.list())) > 0
    assert len(expkit.frames.inclusions([])) == 0
    for fetch in (
        expkit.fetch_flags,
        expkit.fetch_experiments,
        expkit.fetch_versions,
        expkit.fetch_deployments,
    ):
        assert len(fetch(client, progress=False)) > 0
    overloaded = [f for f in flags if f["key"] == "ios-beta-program"]
    assert len(expkit.fetch_inclusions(client, overloaded, progress=False)) >= 1800
    snap = expkit.snapshot(client, since=None, progress=False)
    for name in (
        "configs",
        "variants",
        "segments",
        "conditions",
        "versions",
        "inclusions",
        "deployments",
    ):
        assert isinstance(getattr(snap, name), pd.DataFrame)
    assert snap.taken_at is not None
    snap.save(tmp_path / "snap")
    assert expkit.Snapshot.load(tmp_path / "snap").equals(snap)
    assert snap.refresh(client).equals(snap)


def test_history_plots_hygiene_report(client, tmp_path):
    snap = expkit.snapshot(client, progress=False)
    history = expkit.rollout_history(snap.versions)
    assert len(history) > 0
    config = snap.versions.iloc[-1]["config_key"]
    configs = snap.versions[snap.versions["config_key"] == config]["config"].tolist()
    assert isinstance(expkit.diff_versions(configs[0], configs[-1]), pd.DataFrame)
    assert expkit.plots.rollout_history(history, config=config, ax=None) is not None
    assert expkit.plots.change_activity(snap.versions, freq="W", ax=None) is not None
    findings = expkit.hygiene.check(snap, now=None, config=None)
    assert {"rule", "severity", "kind", "key", "id", "detail", "since"} <= set(findings.columns)
    assert expkit.plots.findings(findings, ax=None) is not None
    out = expkit.report.write(findings, snap, tmp_path / "report", previous=None)
    assert {p.name for p in Path(out).iterdir()} >= {"report.html", "findings.csv", "summary.md"}


def test_edits_and_widgets(client):
    flag = _a_flag(client, min_variants=2)
    keys = [v["key"] for v in flag["variants"]]
    plan = expkit.edits.RolloutEdit.load(client, flag["id"], kind="flags")
    plan.set_weights({keys[0]: 1, keys[1]: 3})
    plan.set_percentage(50)
    assert isinstance(plan.preview(), pd.DataFrame)
    assert isinstance(plan.requests(), list) and plan.requests()
    plan.apply(dry_run=False)
    weights = {v["key"]: v["rolloutWeight"] for v in client.flags.variants(flag["id"])}
    assert (weights[keys[0]], weights[keys[1]]) == (1, 3)
    plan.undo()
    for cls in (expkit.edits.PayloadEdit, expkit.edits.InclusionsEdit):
        other = cls.load(client, flag["id"], kind="flags")
        assert isinstance(other.preview(), pd.DataFrame) and other.requests() == []
    for editor in ("RolloutEditor", "PayloadEditor", "InclusionsEditor"):
        assert getattr(expkit.widgets, editor)(client, flag["id"], kind="flags") is not None


def test_fake_server_surface(tmp_path):
    with FakeServer.synthetic(n_flags=8, n_experiments=3, versions_per_config=4, seed=0) as server:
        client = server.client()
        assert len(client.flags.list(include_archived=True)) == 8
        assert server.state is not None and server.api_key
        server.faults(latency=0.05, error_rate=0.0, rate_limit=100, drop_rate=0.0)
        assert client.experiments.list(include_archived=True)

"""The recorder: every GET endpoint, scrubbed, deterministic, and loadable by the fake."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from expkit._paths import demo_fixtures
from expkit.cli import main
from expkit.errors import ValidationError
from expkit.fake import FakeServer, State, load_fixtures, record
from expkit.fake._record import hash_email
from expkit.fake._synth import synthetic_org

DEMO = demo_fixtures()
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _tree(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def demo_recording(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rec") / "demo"
    with FakeServer.from_fixtures(DEMO) as server:
        record(server.client(rate_limit=None), out, progress=False, source="test")
    return out


@pytest.fixture(scope="module")
def hashed_recording(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hashed") / "demo"
    with FakeServer.from_fixtures(DEMO) as server:
        record(server.client(rate_limit=None), out, progress=False, source="test", hash_emails=True)
    return out


def test_round_trip_is_byte_identical(demo_recording, tmp_path):
    again = tmp_path / "again"
    with FakeServer.from_fixtures(demo_recording) as server:
        record(server.client(rate_limit=None), again, progress=False, source="test")
    first, second = _tree(demo_recording), _tree(again)
    assert first.keys() == second.keys()
    assert [p for p in first if first[p] != second[p]] == []
    # and, apart from the manifest's source, the same as the committed demo recording
    committed = _tree(DEMO)
    assert [p for p in committed if p.name != "manifest.json" and committed[p] != first[p]] == []


def test_every_get_endpoint_is_recorded(tmp_path):
    org = synthetic_org(5, 3, 4, seed=9)
    with FakeServer(State.from_org(org)) as server:
        out = record(server.client(rate_limit=None), tmp_path / "x", progress=False)
        paths = {p for _, p, _ in server.request_log}
        queries = [q for _, p, q in server.request_log if p == "/api/1/flags"]
    for kind in ("flags", "experiments"):
        assert f"/api/1/{kind}" in paths
        for config in org[kind]:
            base = f"/api/1/{kind}/{config['id']}"
            assert {base, f"{base}/versions", f"{base}/variants", f"{base}/deployments"} <= paths
            for variant in config["variants"]:
                assert {f"{base}/variants/{variant['key']}/users"} <= paths
                assert {f"{base}/variants/{variant['key']}/cohorts"} <= paths
                assert (out / f"api/1/{kind}/{config['id']}/variants/{variant['key']}").is_dir()
    for name in ("deployments", "mutexes", "holdouts"):
        assert f"/api/1/{name}" in paths
    for group in org["mutexes"]:
        assert f"/api/1/mutexes/{group['id']}" in paths
        assert (out / f"api/1/mutexes/{group['id']}.json").is_file()
    assert all(q.get("includeArchived") == "true" for q in queries)
    listed = json.loads((out / "api/1/flags.json").read_text())
    assert listed["nextCursor"] is None and len(listed["flags"]) == 5


def test_manifest(tmp_path):
    with FakeServer.from_fixtures(DEMO) as server:
        out = record(server.client(rate_limit=None), tmp_path / "m", progress=False)
        url = server.url
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["recorded_at"] == "2026-11-20T09:00:00Z"  # the fake's clock
    assert manifest["source"] == url
    assert manifest["scrubbed"]["emails"] is None
    # 46 production flags and 4 in the staging project (scripts/make_demo_org.py DRIFT)
    assert manifest["counts"]["flags"] == 50 and manifest["counts"]["versions"] > 300
    assert set(manifest) == {"recorded_at", "source", "scrubbed", "expkit_version", "counts"}


def test_no_key_and_no_deployment_key_is_written(tmp_path):
    with FakeServer.from_fixtures(DEMO) as server:
        real_keys = [d["key"] for d in server.state.deployment_list()]
    assert real_keys and all(k.startswith("<deployment-key:") for k in real_keys)
    with FakeServer.synthetic(n_flags=4, n_experiments=2, versions_per_config=2) as server:
        key = server.api_key
        real_keys = [d["key"] for d in server.state.deployment_list()]
        out = record(server.client(rate_limit=None), tmp_path / "s", progress=False)
    blob = b"".join(_tree(out).values()).decode()
    assert key not in blob and "Bearer" not in blob
    for real in real_keys:
        assert real not in blob
    listed = json.loads((out / "api/1/deployments.json").read_text())["deployments"]
    placeholders = {d["id"]: d["key"] for d in listed}
    assert sorted(placeholders.values()) == sorted(
        f"<deployment-key:{i}>" for i in range(1, len(listed) + 1)
    )
    for path in out.glob("api/1/*/*/deployments.json"):
        for dep in json.loads(path.read_text()):
            assert dep["key"] == placeholders[dep["id"]]


def _walk(a, b, path=""):
    """Yields (path, original, hashed) for every pair of differing leaves."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            yield from _walk(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _walk(x, y, f"{path}[{i}]")
    elif a != b:
        yield path, a, b


def test_hash_emails_hashes_every_email_and_nothing_else(demo_recording, hashed_recording):
    plain, hashed = _tree(demo_recording), _tree(hashed_recording)
    assert plain.keys() == hashed.keys()
    changed = 0
    for rel in plain:
        if rel.name == "manifest.json":
            continue
        before, after = json.loads(plain[rel]), json.loads(hashed[rel])
        for where, old, new in _walk(before, after, str(rel)):
            assert isinstance(old, str) and EMAIL.search(old), where
            assert new == EMAIL.sub(lambda m: hash_email(m.group(0)), old), where
            changed += 1
        text = hashed[rel].decode()
        assert [e for e in EMAIL.findall(text) if not e.endswith("@hashed.invalid")] == []
    assert changed > 100  # inclusions, authors, createdBy of every version
    inclusions = json.loads(
        next(hashed_recording.glob("api/1/flags/*/variants/on/users.json")).read_text()
    )
    assert all("@" not in u or u.endswith("@hashed.invalid") for u in inclusions)
    manifest = json.loads(hashed[Path("manifest.json")])
    assert manifest["scrubbed"]["emails"].startswith("sha256:")


def test_hashing_a_hashed_recording_changes_nothing(hashed_recording, tmp_path):
    again = tmp_path / "again"
    with FakeServer.from_fixtures(hashed_recording) as server:
        client = server.client(rate_limit=None)
        record(client, again, progress=False, source="test", hash_emails=True)
    assert _tree(again) == _tree(hashed_recording)


def test_hash_email_is_stable_and_case_insensitive():
    value = hash_email("Jane.Doe@Example.com")
    assert value == hash_email("jane.doe@example.com")
    assert re.fullmatch(r"sha256:[0-9a-f]{12}@hashed\.invalid", value)
    assert value != hash_email("john.doe@example.com")


def test_hashed_recording_still_loads_and_serves(hashed_recording):
    org, _ = load_fixtures(hashed_recording)
    with FakeServer.from_fixtures(hashed_recording) as server:
        client = server.client(rate_limit=None)
        assert len(client.flags.list(include_archived=True)) == len(org["flags"])


@pytest.fixture(scope="module")
def small_fixtures(tmp_path_factory) -> Path:
    """A recording of a small synthetic org, for tests that record it again."""
    out = tmp_path_factory.mktemp("small") / "org"
    with FakeServer(State.from_org(synthetic_org(4, 2, 3, seed=11))) as server:
        return record(server.client(rate_limit=None), out, progress=False)


def test_rerecording_replaces_stale_files_and_refuses_foreign_dirs(small_fixtures, tmp_path):
    out = tmp_path / "r"
    with FakeServer.from_fixtures(small_fixtures) as server:
        client = server.client(rate_limit=None)
        record(client, out, progress=False)
        stray = out / "api/1/flags/123/versions.json"
        stray.parent.mkdir(parents=True)
        stray.write_text("[]")
        record(client, out, progress=False)
        assert not stray.exists()
        foreign = tmp_path / "foreign"
        foreign.mkdir()
        (foreign / "notes.txt").write_text("mine")
        with pytest.raises(ValidationError) as err:
            record(client, foreign, progress=False)
    assert err.value.field == "out_dir"
    assert (foreign / "notes.txt").read_text() == "mine"


def test_record_command_needs_the_fake_key(small_fixtures, tmp_path, capsys, monkeypatch):
    with FakeServer.from_fixtures(small_fixtures) as server:
        code = main(["record", "--out", str(tmp_path / "a"), "--base-url", server.url])
        err = capsys.readouterr().err
        assert code == 2
        assert "AMPLITUDE_MANAGEMENT_API_KEY" in err and "expkit serve" in err
        assert len(err.splitlines()) == 1 and err.startswith("expkit record: error: ")
        assert not (tmp_path / "a").exists()

        monkeypatch.setenv("AMPLITUDE_MANAGEMENT_API_KEY", "wrong-key")
        code = main(["record", "--out", str(tmp_path / "b"), "--base-url", server.url])
        err = capsys.readouterr().err
        # the API refused: exit 3 (the API failed), one line, no traceback, no key
        assert code == 3 and "401" in err and len(err.splitlines()) == 1
        assert "Traceback" not in err and "wrong-key" not in err

        monkeypatch.setenv("AMPLITUDE_MANAGEMENT_API_KEY", server.api_key)
        argv = ["record", "--out", str(tmp_path / "c"), "--base-url", server.url]
        code = main([*argv, "--hash-emails", "--no-progress"])
        out = capsys.readouterr()
    assert code == 0
    assert "4 flags, 2 experiments" in out.out and server.api_key not in out.out + out.err
    manifest = json.loads((tmp_path / "c/manifest.json").read_text())
    assert manifest["scrubbed"]["emails"] is not None


def test_record_command_without_key_for_the_live_api(tmp_path, capsys):
    assert main(["record", "--out", str(tmp_path / "a")]) == 2
    assert "Management API key" in capsys.readouterr().err


def test_record_command_says_base_url_and_region_in_cli_terms(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AMPLITUDE_MANAGEMENT_API_KEY", "not-a-real-key-123")
    argv = ["record", "--out", str(tmp_path / "a"), "--base-url", "http://example.com"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("expkit record: error: --base-url http://example.com: use https://")
    assert len(err.splitlines()) == 1 and "base_url" not in err
    monkeypatch.setenv("AMPLITUDE_REGION", "mars")
    assert main(["record", "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "AMPLITUDE_REGION='mars' is not a region" in err and "--region" in err
    assert "region=" not in err.replace("AMPLITUDE_REGION=", "")
    assert not (tmp_path / "a").exists()

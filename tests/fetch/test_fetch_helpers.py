from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import expkit
from expkit import _connect
from expkit._schema import SCHEMA
from expkit.errors import ValidationError
from expkit.fake import FakeServer
from tests.support import DEPLOY_KEY


def dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {c: str(t) for c, t in frame.dtypes.items()}


def test_fetch_flags_and_experiments(server: FakeServer) -> None:
    client = server.client(rate_limit=None)
    flags = expkit.fetch_flags(client, progress=False)
    assert dtypes(flags) == dict(SCHEMA["configs"])
    assert set(flags["kind"]) == {"flag"}
    assert "1007" not in flags["id"].tolist()  # archived: only with include_archived
    everything = expkit.fetch_flags(client, include_archived=True, progress=False)
    assert len(everything) == len(flags) + 1 == 8
    exps = expkit.fetch_experiments(client, progress=False)
    assert set(exps["kind"]) == {"experiment"} and len(exps) == 4
    assert exps["state"].notna().all()
    assert len(expkit.fetch_flags(client, project_id="1", progress=False)) == 0


def test_fetch_versions_feed_window_and_one_config(server: FakeServer) -> None:
    client = server.client(rate_limit=None)
    every = expkit.fetch_versions(client, progress=False)
    assert dtypes(every) == dict(SCHEMA["versions"])
    assert len(every) == 36
    assert set(every.loc[every["config_id"] == "1010", "kind"]) == {"experiment"}
    times = every["created_at"].sort_values().reset_index(drop=True)
    start, end = times[10], times[20]
    window = expkit.fetch_versions(client, start=start, end=end, progress=False)
    assert len(window) == 10
    assert ((window["created_at"] >= start) & (window["created_at"] < end)).all()
    server.reset_log()
    one = expkit.fetch_versions(client, config_id="1009", kind="experiment", progress=False)
    assert [p for _, p, _ in server.request_log] == ["/api/1/experiments/1009/versions"]
    assert one["version"].tolist() == [1, 2, 3]
    assert set(one["kind"]) == {"experiment"}
    cut = one["created_at"][1]
    late = expkit.fetch_versions(client, config_id="1009", kind="experiment", start=cut)
    assert late["version"].tolist() == [2, 3]
    early = expkit.fetch_versions(client, config_id="1009", kind="experiment", end=cut)
    assert early["version"].tolist() == [1]
    with pytest.raises(ValidationError) as info:
        expkit.fetch_versions(client, config_id="1009", kind="experiments")
    assert info.value.field == "kind"
    with pytest.raises(ValidationError):
        expkit.fetch_versions(client, start="not a time")


def test_fetch_inclusions_everything_a_frame_or_records(server: FakeServer) -> None:
    client = server.client(rate_limit=None)
    every = expkit.fetch_inclusions(client, progress=False)
    assert dtypes(every) == dict(SCHEMA["inclusions"])
    assert len(every) == 36
    snap = expkit.snapshot(client, inclusions=False, progress=False)
    pick = snap.variants[snap.variants["config_key"] == "experiment-9"]
    server.reset_log()
    some = expkit.fetch_inclusions(client, pick, progress=False)
    assert server.request_count == 2 * len(pick) == 4
    assert some["value"].tolist() == ["user9@example.com", "device-9", "coh9"]
    assert set(some["kind"]) == {"experiment"}
    records = [client.experiments.get("1009")]
    assert expkit.fetch_inclusions(client, records, progress=False).equals(some)
    with pytest.raises(ValidationError) as info:
        expkit.fetch_inclusions(client, snap.configs, progress=False)
    assert info.value.field == "variants"
    with pytest.raises(ValidationError):
        expkit.fetch_inclusions(client, max_workers=0)


def test_fetch_deployments_masks_keys(server: FakeServer) -> None:
    client = server.client(rate_limit=None)
    masked = expkit.fetch_deployments(client)
    assert dtypes(masked) == dict(SCHEMA["deployments"])
    assert DEPLOY_KEY not in masked.to_string()
    assert masked["key"].tolist()[0] == "clie…cdef"
    assert expkit.fetch_deployments(client, mask_keys=False)["key"].tolist()[0] == DEPLOY_KEY


def test_fetch_progress_goes_to_stderr_only_when_asked(
    server: FakeServer, capsys: pytest.CaptureFixture
) -> None:
    client = server.client(rate_limit=None)
    expkit.fetch_flags(client, progress=False)
    expkit.fetch_inclusions(client, progress=False)
    assert capsys.readouterr().err == ""
    expkit.fetch_inclusions(client)
    assert "inclusions" in capsys.readouterr().err


def test_snapshot_command_saves_a_loadable_snapshot(
    server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    seen = {}

    def fake_connect(fixtures=None, *, quiet=False, **options):
        seen.update(fixtures=fixtures, quiet=quiet, **options)
        return server.client(rate_limit=None)

    monkeypatch.setattr(expkit, "connect", fake_connect)  # the CLI calls expkit.connect
    monkeypatch.setattr(_connect, "connect", fake_connect)
    from expkit.cli import main

    code = main(["snapshot", "--out", str(tmp_path / "s"), "--no-inclusions", "--no-progress"])
    assert code == 0
    assert seen == {"fixtures": None, "quiet": False}
    out = capsys.readouterr()
    assert "12 configs" in out.out and str(tmp_path / "s") in out.out
    assert out.err == ""
    snap = expkit.Snapshot.load(tmp_path / "s")
    assert len(snap.configs) == 12 and not snap.with_inclusions


def test_every_fetch_helper_and_refresh_are_silent_with_progress_false(
    server: FakeServer, capfd: pytest.CaptureFixture
) -> None:
    client = server.client(rate_limit=None)
    expkit.fetch_flags(client, progress=False)
    expkit.fetch_experiments(client, progress=False)
    expkit.fetch_versions(client, progress=False)
    expkit.fetch_versions(client, config_id="1009", kind="experiment", progress=False)
    expkit.fetch_inclusions(client, progress=False)
    expkit.fetch_deployments(client, progress=False)
    snap = expkit.snapshot(client, progress=False)
    client.flags.edit("1001", rollout_percentage=5)
    snap.refresh(client, progress=False)
    assert capfd.readouterr() == ("", "")


def test_fetch_versions_rejects_a_bad_kind_before_any_request(server: FakeServer) -> None:
    client = server.client(rate_limit=None)
    with pytest.raises(ValidationError) as info:
        expkit.fetch_versions(client, kind="experiments", progress=False)
    assert info.value.field == "kind"
    assert client.request_count == 0

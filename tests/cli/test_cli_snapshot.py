"""``expkit snapshot``: the options reach connect() and snapshot(), and the result loads."""

from __future__ import annotations

from pathlib import Path

import pytest

import expkit
from expkit.cli import main
from expkit.fake import FakeServer


@pytest.fixture(scope="module")
def server():
    with FakeServer.synthetic(n_flags=6, n_experiments=2, versions_per_config=3, seed=1) as fake:
        yield fake


@pytest.fixture
def seen(server, monkeypatch) -> dict:
    """What the command passed to expkit.connect (the CLI calls it like any user)."""
    calls: dict = {}

    def fake_connect(fixtures=None, *, quiet=False, **options):
        calls.update(fixtures=fixtures, quiet=quiet, **options)
        return server.client(rate_limit=None)

    monkeypatch.setattr(expkit, "connect", fake_connect)
    return calls


def test_snapshot_saves_a_loadable_snapshot(seen, tmp_path: Path, capsys) -> None:
    code = main(["snapshot", "--out", str(tmp_path / "s"), "--no-inclusions", "--no-progress"])
    assert code == 0
    assert seen == {"fixtures": None, "quiet": False}
    out = capsys.readouterr()
    assert "expkit: snapshot of 8 configs" in out.out and str(tmp_path / "s") in out.out
    assert out.err == ""
    snap = expkit.Snapshot.load(tmp_path / "s")
    assert len(snap.configs) == 8 and not snap.with_inclusions


def test_fixtures_region_and_inclusions_reach_the_library(
    seen, server, tmp_path: Path, capsys
) -> None:
    fixtures = tmp_path / "fx"
    fixtures.mkdir()
    argv = ["snapshot", "--out", str(tmp_path / "t"), "--fixtures", str(fixtures)]
    assert main([*argv, "--region", "eu", "--no-progress"]) == 0
    assert seen == {"fixtures": str(fixtures), "quiet": False, "region": "eu"}
    snap = expkit.Snapshot.load(tmp_path / "t")
    assert snap.with_inclusions
    expected = sum(
        len(server.client().flags.users(c["id"], v["key"]))
        + len(server.client().flags.cohorts(c["id"], v["key"]))
        for c in server.client().flags.list(include_archived=True)
        for v in server.client().flags.variants(c["id"])
    )
    flag_inclusions = snap.inclusions[snap.inclusions["kind"] == "flag"]
    assert len(flag_inclusions) == expected


def test_bad_input_is_found_before_connecting(seen, tmp_path: Path, capsys) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    cases = [
        (["--out", str(afile / "sub")], f"--out {afile / 'sub'} cannot be a directory"),
        (["--out", str(tmp_path / "s"), "--fixtures", str(tmp_path / "nope")], "no such directory"),
        (["--out", str(tmp_path / "s"), "--fixtures", str(afile)], "is a file"),
    ]
    for extra, words in cases:
        assert main(["snapshot", *extra]) == 2, extra
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("expkit snapshot: error: ") and words in captured.err
        assert len(captured.err.splitlines()) == 1
    assert seen == {}  # connect was never called


def test_snapshot_needs_out_and_says_so_with_its_usage(capsys) -> None:
    assert main(["snapshot"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: expkit snapshot ")
    assert "the following arguments are required: --out" in err

"""Snapshot directories: atomic replacement under kills, and verified loading of damaged files."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import signal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

import expkit
from expkit import _snapshot
from expkit._schema import FRAMES, SCHEMA
from expkit.fake import FakeServer
from expkit.fake._state import FakeClock, State
from tests.support import FETCH_NOW as NOW
from tests.support import fetch_org as make_org


@pytest.fixture(scope="module")
def old_and_new() -> tuple[expkit.Snapshot, expkit.Snapshot]:
    with FakeServer(State.from_org(make_org(), clock=FakeClock(NOW))) as server:
        client = server.client(rate_limit=None)
        old = expkit.snapshot(client, progress=False)
        client.flags.edit("1001", name="Renamed after the first snapshot")
        new = expkit.snapshot(client, progress=False)
    assert not old.equals(new)
    return old, new


def _steps(snap: expkit.Snapshot, target: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    monkeypatch.setattr(_snapshot, "_fs_step", seen.append)
    snap.save(target)
    monkeypatch.undo()
    return seen


def _save_and_die(snap: expkit.Snapshot, target: str, kill_at: int) -> None:
    count = [0]

    def step(what: str) -> None:
        if count[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        count[0] += 1

    _snapshot._fs_step = step
    snap.save(target)


def test_snapshot_fields_follow_the_schema_table() -> None:
    assert expkit.Snapshot.__dataclass_fields__.keys() >= set(FRAMES)
    assert _snapshot.FRAME_NAMES == FRAMES == tuple(SCHEMA)


def test_a_save_killed_at_any_step_leaves_the_old_or_the_new_snapshot(
    old_and_new: tuple[expkit.Snapshot, expkit.Snapshot],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = old_and_new
    probe = tmp_path / "probe"
    old.save(probe)
    steps = _steps(new, probe, monkeypatch)
    # every parquet write, meta.json, the renames and the clean-up are steps
    assert len(steps) >= 2 * len(FRAMES) + 6, steps
    ctx = mp.get_context("fork")
    outcomes = []
    for kill_at in range(len(steps)):
        target = tmp_path / f"run{kill_at}" / "snap"
        old.save(target)
        proc = ctx.Process(target=_save_and_die, args=(new, str(target), kill_at))
        proc.start()
        proc.join()
        assert proc.exitcode == -signal.SIGKILL, (kill_at, steps[kill_at])
        loaded = expkit.Snapshot.load(target)
        if loaded.equals(new):
            outcomes.append("new")
        else:
            assert loaded.equals(old), (kill_at, steps[kill_at])
            outcomes.append("old")
        # the next save recovers: it clears the leftovers and replaces whatever is there
        new.save(target)
        assert expkit.Snapshot.load(target).equals(new)
        assert sorted(p.name for p in target.parent.iterdir()) == ["snap"]
    assert outcomes[0] == "old" and outcomes[-1] == "new"
    assert outcomes == sorted(outcomes, key=["old", "new"].index)  # old, then new: no flip-flop


def test_a_failed_write_leaves_the_earlier_snapshot_and_no_temporary(
    old_and_new: tuple[expkit.Snapshot, expkit.Snapshot],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = old_and_new
    target = tmp_path / "snap"
    old.save(target)

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    # the second row group of the versions file fails, after the first was written
    calls = {"n": 0}
    write_table = pq.ParquetWriter.write_table

    def full_later(self: pq.ParquetWriter, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] > 5:
            full()
        write_table(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full_later)
    with pytest.raises(OSError, match="No space"):
        new.save(target)
    monkeypatch.undo()
    assert expkit.Snapshot.load(target).equals(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]


def test_save_refuses_to_replace_a_directory_that_is_not_a_snapshot(
    old_and_new: tuple[expkit.Snapshot, expkit.Snapshot], tmp_path: Path
) -> None:
    old, _ = old_and_new
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(expkit.SnapshotError, match=r"notes\.txt") as info:
        old.save(tmp_path)
    assert info.value.field == "path"
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_meta_json_records_rows_and_sha256_of_each_file(
    old_and_new: tuple[expkit.Snapshot, expkit.Snapshot], tmp_path: Path
) -> None:
    old, _ = old_and_new
    out = old.save(tmp_path / "snap")
    meta = json.loads((out / "meta.json").read_text())
    assert set(meta["files"]) == {f"{name}.parquet" for name in FRAMES}
    for name, rows in old.counts().items():
        entry = meta["files"][f"{name}.parquet"]
        assert entry["rows"] == rows
        assert entry["sha256"] == hashlib.sha256((out / f"{name}.parquet").read_bytes()).hexdigest()


# --------------------------------------------------------------------------- damaged files


def _saved(snap: expkit.Snapshot, tmp_path: Path) -> Path:
    return snap.save(tmp_path / "snap")


def _reseal(out: Path, file: str) -> None:
    """Records the file's current checksum, as if it had been saved that way."""
    meta = json.loads((out / "meta.json").read_text())
    meta["files"][file]["sha256"] = hashlib.sha256((out / file).read_bytes()).hexdigest()
    (out / "meta.json").write_text(json.dumps(meta))


def _load_error(out: Path) -> expkit.SnapshotError:
    with pytest.raises(expkit.SnapshotError) as info:
        expkit.Snapshot.load(out)
    assert isinstance(info.value, expkit.ExpkitError)
    assert info.value.field == "path"
    return info.value


def test_snapshot_error_pickles_with_its_fields() -> None:
    import pickle

    error = expkit.SnapshotError("d/x.parquet: bad", path="d", file="x.parquet")
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.path, copy.file, copy.field) == (str(error), "d", "x.parquet", "path")


def test_truncated_meta_json(old_and_new: Any, tmp_path: Path) -> None:
    out = _saved(old_and_new[0], tmp_path)
    text = (out / "meta.json").read_text()
    (out / "meta.json").write_text(text[: len(text) // 2])
    error = _load_error(out)
    assert error.file == "meta.json"
    assert "meta.json" in str(error) and "truncated" in str(error)


def test_zero_byte_parquet(old_and_new: Any, tmp_path: Path) -> None:
    out = _saved(old_and_new[0], tmp_path)
    (out / "versions.parquet").write_bytes(b"")
    error = _load_error(out)
    assert error.file == "versions.parquet"
    assert "versions.parquet" in str(error) and "0 bytes" in str(error)


def test_truncated_parquet_fails_its_checksum(old_and_new: Any, tmp_path: Path) -> None:
    out = _saved(old_and_new[0], tmp_path)
    data = (out / "configs.parquet").read_bytes()
    (out / "configs.parquet").write_bytes(data[: len(data) // 2])
    error = _load_error(out)
    assert error.file == "configs.parquet"
    assert "checksum mismatch" in str(error) and "configs.parquet" in str(error)


def test_truncated_parquet_without_checksum_is_unreadable(old_and_new: Any, tmp_path: Path) -> None:
    out = _saved(old_and_new[0], tmp_path)
    data = (out / "configs.parquet").read_bytes()
    (out / "configs.parquet").write_bytes(data[: len(data) // 2])
    _reseal(out, "configs.parquet")
    error = _load_error(out)
    assert error.file == "configs.parquet"
    assert "not a readable Parquet file" in str(error)


def test_a_changed_byte_fails_the_checksum(old_and_new: Any, tmp_path: Path) -> None:
    out = _saved(old_and_new[0], tmp_path)
    data = bytearray((out / "segments.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (out / "segments.parquet").write_bytes(bytes(data))
    error = _load_error(out)
    assert error.file == "segments.parquet" and "checksum mismatch" in str(error)


def test_renamed_and_missing_columns(old_and_new: Any, tmp_path: Path) -> None:
    out = _saved(old_and_new[0], tmp_path)
    table = pd.read_parquet(out / "variants.parquet")
    table.rename(columns={"variant_key": "variant"}).drop(columns=["share"]).to_parquet(
        out / "variants.parquet", index=False
    )
    _reseal(out, "variants.parquet")
    error = _load_error(out)
    assert error.file == "variants.parquet"
    assert "variant_key, share are missing or renamed" in str(error)
    assert "variant instead" in str(error)


def test_row_count_differing_from_meta(old_and_new: Any, tmp_path: Path) -> None:
    out = _saved(old_and_new[0], tmp_path)
    table = pd.read_parquet(out / "conditions.parquet")
    table.iloc[:1].to_parquet(out / "conditions.parquet", index=False)
    _reseal(out, "conditions.parquet")
    error = _load_error(out)
    assert error.file == "conditions.parquet" and "1 rows" in str(error)


def test_a_format_1_snapshot_without_checksums_still_loads(
    old_and_new: Any, tmp_path: Path
) -> None:
    old = old_and_new[0]
    out = _saved(old, tmp_path)
    meta = json.loads((out / "meta.json").read_text())
    meta["format"] = 1
    del meta["files"]
    (out / "meta.json").write_text(json.dumps(meta))
    assert expkit.Snapshot.load(out).equals(old)


def test_row_groups_round_trip_exactly_and_loaded_configs_share_their_parts(
    old_and_new: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a few rows per row group and per json.loads call, so every frame spans several
    monkeypatch.setattr(_snapshot, "_ROW_GROUP", 3)
    monkeypatch.setattr(_snapshot, "_JSON_CELLS", 2)
    old = old_and_new[0]
    out = old.save(tmp_path / "snap")
    assert pq.ParquetFile(out / "versions.parquet").metadata.num_row_groups > 2
    loaded = expkit.Snapshot.load(out)
    assert loaded.equals(old)
    for a, b in zip(loaded.versions["config"], old.versions["config"], strict=True):
        assert json.dumps(a) == json.dumps(b)  # key order and types too
    # equal parts of different versions are one object after loading, as after snapshot()
    by_value: dict[str, set[int]] = {}
    for config in loaded.versions["config"]:
        for field in ("variants", "tags"):
            by_value.setdefault(json.dumps(config.get(field)), set()).add(id(config.get(field)))
    assert all(len(ids) == 1 for ids in by_value.values())


def test_a_cell_that_is_not_json_is_named(old_and_new: Any, tmp_path: Path) -> None:
    out = _saved(old_and_new[0], tmp_path)
    table = pd.read_parquet(out / "versions.parquet")
    table.loc[1, "config"] = '{"id": 1}, {"id": 2}'  # two values where one belongs
    table.to_parquet(out / "versions.parquet", index=False)
    _reseal(out, "versions.parquet")
    error = _load_error(out)
    assert error.file == "versions.parquet"
    assert "column 'config' does not hold JSON text" in str(error)

"""``expkit restore`` and ``expkit compare``: output, files and exit codes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import expkit
from expkit.cli import main
from expkit.fake import FakeServer, State
from tests.support import edits_org


@pytest.fixture
def server(monkeypatch):
    with FakeServer(State.from_org(edits_org())) as fake:
        client = fake.client(rate_limit=None)
        client.flags.edit_variant("1001", "treatment", rollout_weight=4)  # version 2
        client.flags.create("200", "new-checkout")
        monkeypatch.setattr(expkit, "connect", lambda *a, **k: fake.client(rate_limit=None))
        yield fake


def test_restore_dry_run_sends_nothing_then_yes_applies(server, capsys) -> None:
    assert main(["restore", "1001", "1", "--dry-run", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "variants.treatment.weight: 4 → 1" in out
    assert "would send: PATCH /api/1/flags/1001/variants/treatment" in out
    assert server.client().flags.get("1001")["rolloutWeights"]["treatment"] == 4
    assert main(["restore", "1001", "1", "--yes", "--no-progress"]) == 0
    assert "applied, verified" in capsys.readouterr().out
    assert server.client().flags.get("1001")["rolloutWeights"]["treatment"] == 1
    # now it matches: nothing to send
    assert main(["restore", "1001", "1", "--yes"]) == 0
    assert "nothing to send" in capsys.readouterr().out


def test_restore_bad_version_and_missing_mode(server, capsys) -> None:
    assert main(["restore", "1001", "9", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "no version 9" in err and "1..2" in err
    assert main(["restore", "1001", "1"]) == 2  # neither --dry-run nor --yes
    assert main(["restore", "1001", "1", "--dry-run", "--yes"]) == 2


def test_compare_writes_csv_atomically(server, tmp_path: Path, capsys) -> None:
    out = tmp_path / "drift.csv"
    assert main(["compare", "100", "200", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "expkit compare: 100 → 200" in text and "pricing-test" in text
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["key", "kind", "field", "source", "target", "status"]
    assert "missing in target" in set(frame["status"])
    assert [p.name for p in tmp_path.iterdir()] == ["drift.csv"]  # no temp file left


def test_compare_bad_input(server, tmp_path: Path, capsys) -> None:
    assert main(["compare", "100", "100"]) == 2
    assert "both 100" in capsys.readouterr().err
    assert main(["compare", "100", "200", "--out", str(tmp_path)]) == 2
    assert main(["compare", "100", "200", "--out", str(tmp_path / "no" / "x.csv")]) == 2

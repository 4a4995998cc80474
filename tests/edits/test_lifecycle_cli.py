"""`expkit archive`: plan table, refusal without --dry-run/--yes, exit codes 0/2/3 (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import requests
from lifecycle_support import PathFaults, lifecycle_org

import expkit
from expkit import cli
from expkit.cli._archive import ACTIONS as CLI_ACTIONS
from expkit.edits import ACTIONS
from expkit.fake import FakeServer, State


@pytest.fixture
def server():
    with FakeServer(State.from_org(lifecycle_org())) as fake:
        yield fake


@pytest.fixture
def spy() -> PathFaults:
    return PathFaults()


@pytest.fixture(autouse=True)
def connected(server, spy, monkeypatch, tmp_path):
    session = requests.Session()
    session.mount("http://", spy)
    client = server.client(session=session, max_retries=0)
    monkeypatch.setattr(expkit, "connect", lambda *a, **k: client)
    monkeypatch.setenv("EXPKIT_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    return client


def findings_csv(tmp_path: Path, rows: list[tuple[str, str, str, str]]) -> str:
    frame = pd.DataFrame(rows, columns=["rule", "kind", "key", "id"])
    frame.insert(1, "severity", "warning")
    for col in ("project_id", "detail", "since", "action", "owner"):
        frame[col] = "x" if col != "since" else "2026-10-01T00:00:00.000Z"
    path = tmp_path / "findings.csv"
    frame.to_csv(path, index=False)
    return str(path)


ROWS = [
    ("inactive", "flag", "stale-one", "1002"),
    ("fully-rolled-out", "flag", "stale-two", "1003"),
    ("inactive", "flag", "parent-flag", "1004"),
    ("undocumented", "experiment", "done-exp", "2004"),
]


def archived(server: FakeServer, cid: str) -> bool:
    return bool(server.state.get_config(server.state.kind_of(cid), cid).get("archived"))


def test_without_dry_run_or_yes_it_prints_the_plan_and_refuses(tmp_path, capsys, spy):
    code = cli.main(["archive", "--findings", findings_csv(tmp_path, ROWS)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "4 config(s): 3 ready, 1 blocked, 0 no-op" in out
    assert "child-flag" in out  # the blocked row's reason is in the table
    assert "--dry-run" in err and "--yes" in err
    assert spy.writes == []


def test_dry_run_sends_nothing(tmp_path, capsys, server, spy):
    code = cli.main(
        ["archive", "--findings", findings_csv(tmp_path, ROWS), "--rule", "inactive", "--dry-run"]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    assert "2 config(s): 1 ready, 1 blocked" in out
    assert "dry run: 1 dry run, 1 blocked" in out
    assert spy.writes == [] and not archived(server, "1002")


def test_yes_applies_the_selected_kind_and_rules(tmp_path, capsys, server, spy):
    path = findings_csv(tmp_path, ROWS)
    code = cli.main(["archive", "--findings", path, "--kind", "flags", "--yes", "--no-progress"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert archived(server, "1002") and archived(server, "1003")
    assert not archived(server, "1004") and not archived(server, "2004")
    assert "applied: 2 applied, 1 blocked" in out
    assert (tmp_path / "audit.jsonl").read_text().count("\n") == 3


def test_disable_action(tmp_path, server):
    path = findings_csv(tmp_path, ROWS[:1])
    assert cli.main(["archive", "--findings", path, "--action", "disable", "--yes"]) == 0
    assert not server.state.get_config("flags", "1002")["enabled"]


def test_a_failed_config_exits_3_and_the_others_stay_applied(tmp_path, capsys, server, spy):
    spy.fail["/api/1/flags/1003"] = "before"
    code = cli.main(["archive", "--findings", findings_csv(tmp_path, ROWS), "--yes"])
    out, _ = capsys.readouterr()
    assert code == 3
    assert "partial" in out and "failed" in out
    assert archived(server, "1002") and not archived(server, "1003")


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: str(p / "missing.csv"), "missing.csv"),
        (lambda p: _write(p, "id,key\n1002,stale-one\n"), "rule"),
    ],
)
def test_bad_findings_files_exit_2(tmp_path, capsys, spy, make, needle):
    code = cli.main(["archive", "--findings", make(tmp_path), "--dry-run"])
    _, err = capsys.readouterr()
    assert code == 2 and needle in err
    assert spy.writes == []


def _write(folder: Path, text: str) -> str:
    path = folder / "findings.csv"
    path.write_text(text)
    return str(path)


def test_an_unknown_rule_or_action_exits_2(tmp_path, capsys):
    path = findings_csv(tmp_path, ROWS)
    assert cli.main(["archive", "--findings", path, "--rule", "nope", "--dry-run"]) == 2
    assert "--rule nope: no such rule; allowed:" in capsys.readouterr().err
    assert cli.main(["archive", "--findings", path, "--action", "delete", "--dry-run"]) == 2
    assert "invalid choice: 'delete'" in capsys.readouterr().err


def test_dry_run_and_yes_together_are_refused(tmp_path, spy):
    path = findings_csv(tmp_path, ROWS)
    assert cli.main(["archive", "--findings", path, "--dry-run", "--yes"]) == 2
    assert spy.writes == []


def test_an_api_failure_while_reading_exits_3(tmp_path, capsys, spy):
    spy.reads_down = True
    code = cli.main(["archive", "--findings", findings_csv(tmp_path, ROWS), "--dry-run"])
    assert code == 3
    assert "could not connect" in capsys.readouterr().err


def test_code_references_block_unless_forced_or_say_not_available(tmp_path, capsys, server):
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text('client.variant("stale-one")\n')
    path = findings_csv(tmp_path, ROWS[:2])
    code = cli.main(["archive", "--findings", path, "--code", str(src), "--yes"])
    out, err = capsys.readouterr()
    if not hasattr(expkit, "code_refs"):
        assert code == 2 and "not available" in err
        return
    assert code == 0
    assert "referenced in code" in out
    assert not archived(server, "1002") and archived(server, "1003")
    assert cli.main(["archive", "--findings", path, "--code", str(src), "--force", "--yes"]) == 0
    assert archived(server, "1002")


def test_the_cli_offers_the_plan_actions():
    assert CLI_ACTIONS == ACTIONS

"""CleanupEditor driven through its real widgets (.value, .click()) against the fake (issue 14)."""

from __future__ import annotations

import pandas as pd
import pytest
import requests

from expkit.errors import ValidationError
from expkit.fake import FakeServer, State
from expkit.widgets import CleanupEditor
from tests.edits.lifecycle_support import PathFaults, lifecycle_org


@pytest.fixture
def server():
    with FakeServer(State.from_org(lifecycle_org())) as fake:
        yield fake


@pytest.fixture
def spy() -> PathFaults:
    return PathFaults()


@pytest.fixture
def client(server, spy):
    session = requests.Session()
    session.mount("http://", spy)
    return server.client(session=session, max_retries=0)


FINDINGS = pd.DataFrame(
    [
        ("inactive", "warning", "flag", "stale-one", "1002", "alice@example.com"),
        ("fully-rolled-out", "warning", "flag", "stale-two", "1003", "bob@example.com"),
        ("undocumented", "info", "flag", "stale-two", "1003", "bob@example.com"),
        ("inactive", "warning", "flag", "parent-flag", "1004", "alice@example.com"),
        ("undocumented", "info", "experiment", "done-exp", "2004", "carol@example.com"),
        ("weight-mismatch", "error", "flag", "off-flag", "1008", "carol@example.com"),
    ],
    columns=["rule", "severity", "kind", "key", "id", "owner"],
).astype("string")


@pytest.fixture
def editor(client) -> CleanupEditor:
    return CleanupEditor(client, FINDINGS, audit_log=False)


def archived(server: FakeServer, cid: str) -> bool:
    return bool(server.state.get_config(server.state.kind_of(cid), cid).get("archived"))


def test_one_checkbox_per_config_with_the_stale_rules_preselected(editor):
    assert list(editor.checkboxes) == ["1002", "1003", "1004", "2004", "1008"]
    ticked = [cid for cid, box in editor.checkboxes.items() if box.value]
    assert ticked == ["1002", "1003", "1004"]
    assert editor.selected() == ["1002", "1003", "1004"]
    assert len(editor.table.children) == 5
    assert editor.apply_button.disabled and editor.undo_button.disabled


def test_preview_apply_undo(editor, server, spy):
    editor.preview_button.click()
    assert not editor.apply_button.disabled
    assert "parent-flag" in editor.blocked_list.value
    assert "child-flag" in editor.blocked_list.value  # the reason names the dependent
    assert "2 ready, 1 blocked, 0 no-op" in editor.status.value
    assert editor.plan_table.value.count("<tr") == 4  # header + three configs

    editor.apply_button.click()
    assert archived(server, "1002") and archived(server, "1003")
    assert not archived(server, "1004")
    assert "applied" in editor.status.value
    assert sorted(p for _, p, _ in spy.writes) == ["/api/1/flags/1002", "/api/1/flags/1003"]
    # applying again needs a new preview
    assert editor.apply_button.disabled
    assert not editor.undo_button.disabled

    editor.undo_button.click()
    assert not archived(server, "1002") and not archived(server, "1003")
    assert "undone" in editor.status.value
    assert editor.undo_button.disabled


def test_apply_is_enabled_only_for_exactly_what_was_previewed(editor):
    editor.preview_button.click()
    assert not editor.apply_button.disabled
    editor.checkboxes["1008"].value = True
    assert editor.apply_button.disabled
    editor.checkboxes["1008"].value = False
    # back to what was previewed
    assert not editor.apply_button.disabled
    editor.action.value = "disable"
    assert editor.apply_button.disabled
    editor.preview_button.click()
    assert not editor.apply_button.disabled
    editor.rule_filter.value = "inactive"  # hides 1003: the selection changes
    assert editor.selected() == ["1002", "1004"]
    assert editor.apply_button.disabled
    assert "1 ticked but hidden" in editor.selection.value


def test_filters_by_rule_severity_and_owner(editor):
    editor.severity_filter.value = "info"
    assert editor.shown() == ["1003", "2004"]
    editor.severity_filter.value = "(all)"
    editor.owner_filter.value = "carol@example.com"
    assert editor.shown() == ["2004", "1008"]
    assert len(editor.table.children) == 2
    editor.select_all_button.click()
    assert editor.selected() == ["2004", "1008"]
    editor.select_none_button.click()
    assert editor.selected() == []
    editor.preview_button.click()
    assert "Nothing selected" in editor.status.value
    assert editor.apply_button.disabled


def test_configs_changed_on_the_server_after_the_preview(editor, server, spy):
    editor.preview_button.click()
    server.state.edit_config("flags", "1003", {"tags": ["moved"]}, by="bob@example.com")
    server.state.edit_config("flags", "1002", {"archive": True})
    editor.apply_button.click()
    status = editor.status.value
    assert "conflict" in status and "bob@example.com" in status
    assert "no-op" in status
    assert spy.writes == []
    # still usable: preview again, then apply what is ready now
    editor.preview_button.click()
    assert "1 ready" in editor.status.value
    editor.apply_button.click()
    assert archived(server, "1003")


def test_a_failed_config_is_shown_and_undo_restores_only_the_applied(editor, server, spy):
    spy.fail["/api/1/flags/1003"] = "before"
    editor.preview_button.click()
    editor.apply_button.click()
    assert "failed" in editor.status.value and "partial" in editor.status.value
    assert archived(server, "1002") and not archived(server, "1003")
    spy.fail.clear()
    spy.writes.clear()
    editor.undo_button.click()
    assert spy.writes == [("PATCH", "/api/1/flags/1002", {"archive": False})]
    assert not archived(server, "1002")


def test_undo_survives_a_new_preview(editor, server):
    editor.preview_button.click()
    editor.apply_button.click()
    editor.checkboxes["1008"].value = True
    editor.action.value = "disable"
    editor.preview_button.click()
    assert not editor.undo_button.disabled
    editor.undo_button.click()
    assert not archived(server, "1002") and not archived(server, "1003")


def test_dry_run_sends_nothing(editor, server, spy):
    editor.dry_run.value = True
    editor.preview_button.click()
    editor.apply_button.click()
    assert "dry run" in editor.status.value
    assert spy.writes == [] and not archived(server, "1002")
    assert editor.undo_button.disabled


def test_findings_without_id_or_kind_are_refused(client):
    with pytest.raises(ValidationError) as info:
        CleanupEditor(client, FINDINGS.drop(columns=["kind"]))
    assert info.value.field == "findings"

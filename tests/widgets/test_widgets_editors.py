"""The editors driven headlessly (``.value``, ``.click()``) against the fake org."""

from __future__ import annotations

import ipywidgets as widgets
import pytest

from expkit.widgets import InclusionsEditor, PayloadEditor, RolloutEditor

WRITES = ("POST", "PATCH", "DELETE")


def writes(server) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in server.request_log if m in WRITES]


# -- RolloutEditor ------------------------------------------------------------------------------
def test_rollout_editor_preview_apply_undo(server, client, flag):
    editor = RolloutEditor(client, "3001")
    assert isinstance(editor, widgets.VBox)
    assert set(editor.weights) == {"control", "bm25", "neural"}
    assert editor.weights["neural"].value == 1
    assert editor.percentage.value == 100.0 and editor.enabled.value is True
    assert editor.bar_labels["neural"].value == "33.3%"
    assert editor.apply_button.disabled and editor.undo_button.disabled

    editor.weights["neural"].value = 2
    # live share bars follow the typed weights before any preview
    assert editor.bars["neural"].value == pytest.approx(50.0)
    assert editor.bar_labels["control"].value == "25.0%"
    assert editor.apply_button.disabled

    editor.preview_button.click()
    assert not editor.apply_button.disabled
    status = editor.status.value
    assert "weights.neural: 1 → 2" in status
    assert "<table" in status and "effective_pct_after" in status
    assert "PATCH /api/1/flags/3001/variants/neural {&quot;rolloutWeight&quot;: 2}" in status

    # a further change needs a new preview; the pending values are kept
    editor.percentage.value = 50.0
    assert editor.apply_button.disabled
    assert editor.plan.changes() == ["weights.neural: 1 → 2", "rollout_percentage: 100 → 50"]
    editor.preview_button.click()
    server.reset_log()
    editor.apply_button.click()
    assert flag()["rolloutWeights"] == {"control": 1, "bm25": 1, "neural": 2}
    assert flag()["rolloutPercentage"] == 50
    assert len(writes(server)) == 2
    assert "apply: applied" in editor.status.value and "Verified" in editor.status.value
    assert editor.apply_button.disabled  # nothing pending any more
    assert not editor.undo_button.disabled

    editor.undo_button.click()
    assert flag()["rolloutWeights"] == {"control": 1, "bm25": 1, "neural": 1}
    assert flag()["rolloutPercentage"] == 100
    assert "undo: undone" in editor.status.value
    assert editor.weights["neural"].value == 1
    assert editor.percentage.value == 100.0
    assert editor.undo_button.disabled


def test_rollout_editor_invalid_weight_keeps_apply_disabled(server, client, flag):
    editor = RolloutEditor(client, "3001")
    editor.weights["bm25"].value = -1
    assert "weights.bm25: must be a non-negative integer, got -1" in editor.validation.value
    assert editor.bar_labels["bm25"].value == "—"
    editor.preview_button.click()
    assert editor.apply_button.disabled
    assert "Fix these first" in editor.status.value
    server.reset_log()
    editor.apply_button.click()  # disabled: does nothing
    assert writes(server) == []
    assert flag()["rolloutWeights"]["bm25"] == 1


def test_rollout_editor_all_zero_weights_is_refused(client):
    editor = RolloutEditor(client, "3001")
    for control in editor.weights.values():
        control.value = 0
    assert "all weights are 0" in editor.validation.value
    editor.preview_button.click()
    assert editor.apply_button.disabled


def test_rollout_editor_shows_a_conflict_and_recovers_with_reload(server, client, flag):
    editor = RolloutEditor(client, "3001")
    editor.enabled.value = False
    editor.preview_button.click()
    server.client().flags.edit_variant("3001", "control", rollout_weight=5)
    editor.apply_button.click()
    # said in words, naming the button to press (not the plan's .reload()), and no <pre>
    # (JupyterLab breaks a <pre> inside words)
    status = editor.status.value
    assert "Changed on the server: nothing was sent" in status
    assert "Click <b>Reload</b>" in status and ".reload()" not in status
    assert "<pre" not in status
    assert flag()["enabled"] is True
    editor.reload_button.click()
    assert editor.weights["control"].value == 5  # the server's new value
    assert editor.enabled.value is False  # the pending change survived the reload
    editor.preview_button.click()
    editor.apply_button.click()
    assert flag()["enabled"] is False
    assert flag()["rolloutWeights"]["control"] == 5


def test_rollout_editor_shows_a_server_error(server, flag):
    editor = RolloutEditor(server.client(max_retries=0), "3001")
    editor.weights["control"].value = 3
    editor.preview_button.click()
    server.faults(error_rate=1.0)
    editor.apply_button.click()
    server.faults()
    assert "ServerError" in editor.status.value
    assert "returned 5" in editor.status.value
    assert server.api_key not in editor.status.value
    assert flag()["rolloutWeights"]["control"] == 1
    assert editor.weights["control"].value == 3  # the edit is kept for another try


# -- PayloadEditor ------------------------------------------------------------------------------
def test_payload_editor_invalid_json_keeps_apply_disabled(server, client, flag):
    editor = PayloadEditor(client, "3001")
    assert editor.variant.options == ("control", "bm25", "neural")
    assert editor.text.value == "null"
    editor.variant.value = "bm25"
    assert editor.text.value == '{\n  "boost": 1\n}'

    editor.text.value = '{"boost": 2,'
    assert "payload.bm25: invalid JSON" in editor.validation.value
    assert "invalid JSON" in editor.after.value
    editor.preview_button.click()
    assert editor.apply_button.disabled
    assert "Fix these first" in editor.status.value
    server.reset_log()
    editor.apply_button.click()
    assert writes(server) == []
    editor.format_button.click()  # cannot format invalid JSON: the text stays as typed
    assert editor.text.value == '{"boost": 2,'

    editor.text.value = '{"boost": 2, "fields": ["title","body"]}'
    assert "valid" in editor.validation.value
    editor.format_button.click()
    assert editor.text.value == '{\n  "boost": 2,\n  "fields": [\n    "title",\n    "body"\n  ]\n}'
    assert "&quot;boost&quot;: 1" in editor.before.value
    assert "&quot;boost&quot;: 2" in editor.after.value
    assert editor.apply_button.disabled  # formatting is a change: preview again
    editor.preview_button.click()
    editor.apply_button.click()
    assert flag()["variants"][1]["payload"] == {"boost": 2, "fields": ["title", "body"]}
    assert "apply: applied" in editor.status.value


def test_payload_editor_keeps_edits_per_variant(client, flag):
    editor = PayloadEditor(client, "3001")
    editor.variant.value = "neural"
    editor.text.value = '{"model": "v3"}'
    editor.variant.value = "control"
    editor.text.value = '"plain"'
    editor.variant.value = "neural"
    assert editor.text.value == '{"model": "v3"}'
    editor.preview_button.click()
    editor.apply_button.click()
    payloads = [v["payload"] for v in flag()["variants"]]
    assert payloads == ["plain", {"boost": 1}, {"model": "v3"}]
    editor.undo_button.click()
    assert [v["payload"] for v in flag()["variants"]] == [None, {"boost": 1}, {"model": "v2"}]


# -- InclusionsEditor ---------------------------------------------------------------------------
def test_inclusions_editor_adds_chunked_and_removes(server, client):
    editor = InclusionsEditor(client, "3001")
    assert editor.remove_users.options == ("qa-1", "qa-2")
    assert "users: 2 of 2,000" in editor.counts.value
    assert "cohorts: 1 of 2,000" in editor.counts.value

    pasted = ",\n".join(f"beta-{i}" for i in range(250))
    editor.add_users.value = pasted
    editor.remove_users.value = ("qa-1",)
    assert "users: 2 → 251 of 2,000" in editor.counts.value
    editor.preview_button.click()
    assert "users.control: +250 −1" in editor.status.value
    server.reset_log()
    editor.apply_button.click()
    assert writes(server) == [
        ("DELETE", "/api/1/flags/3001/variants/control/bulk-delete-users"),
        *[("POST", "/api/1/flags/3001/variants/control/users")] * 3,
    ]
    users = client.flags.users("3001", "control")
    assert len(users) == 251 and "qa-1" not in users
    # the controls now show the server's state, nothing pending
    assert len(editor.remove_users.options) == 251
    assert editor.add_users.value == ""
    assert "users: 251 of 2,000" in editor.counts.value


def test_inclusions_editor_over_the_limit_and_per_variant_pending(server, client):
    editor = InclusionsEditor(client, "3001")
    editor.variant.value = "neural"
    editor.add_users.value = "\n".join(f"u{i}" for i in range(2000))
    assert "users.neural: 2,001 after the change" in editor.validation.value
    assert "2,001 of 2,000" in editor.counts.value
    editor.preview_button.click()
    assert editor.apply_button.disabled
    editor.add_cohorts.value = "coh-big"
    editor.variant.value = "bm25"
    assert editor.add_users.value == "" and editor.add_cohorts.value == ""
    editor.variant.value = "neural"
    assert editor.add_cohorts.value == "coh-big"
    editor.add_users.value = ""
    editor.preview_button.click()
    editor.apply_button.click()
    assert client.flags.cohorts("3001", "neural") == ["coh-big"]


def test_editors_are_displayable_without_displaying(client, monkeypatch):
    import IPython.display

    def fail(*args, **kwargs):
        raise AssertionError("display() called from a constructor")

    monkeypatch.setattr(IPython.display, "display", fail)
    for cls in (RolloutEditor, PayloadEditor, InclusionsEditor):
        editor = cls(client, "3001")
        bundle = editor._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        assert editor.plan.config_id == "3001"


def test_dry_run_checkbox_sends_no_write(server, client, flag):
    editor = RolloutEditor(client, "3001")
    editor.weights["control"].value = 4
    editor.dry_run.value = True
    editor.preview_button.click()
    server.reset_log()
    editor.apply_button.click()
    assert writes(server) == []
    assert "apply: dry run" in editor.status.value
    assert flag()["rolloutWeights"]["control"] == 1
    assert editor.plan.changes() == ["weights.control: 1 → 4"]


def test_payload_editor_undo_keeps_an_edit_typed_after_the_apply(client, flag):
    editor = PayloadEditor(client, "3001")
    editor.variant.value = "neural"
    editor.text.value = '{"model": "v3"}'
    editor.preview_button.click()
    editor.apply_button.click()
    editor.variant.value = "bm25"
    editor.text.value = '{"boost": 7}'
    editor.undo_button.click()
    assert flag()["variants"][2]["payload"] == {"model": "v2"}
    assert editor.text.value == '{"boost": 7}'
    editor.preview_button.click()
    assert "payload.bm25" in editor.status.value
    editor.apply_button.click()
    assert flag()["variants"][1]["payload"] == {"boost": 7}


def test_inclusions_editor_reload_drops_a_removal_the_server_already_made(client):
    editor = InclusionsEditor(client, "3001")
    editor.remove_users.value = ("qa-1",)
    editor.add_users.value = "beta-1"
    client.flags.remove_users("3001", "control", ["qa-1"])  # someone else removes it
    editor.reload_button.click()
    assert editor.remove_users.options == ("qa-2",)
    assert editor.plan.errors == []
    assert "✓ valid" in editor.validation.value
    assert editor.plan.pending("control")["remove_users"] == []
    editor.preview_button.click()
    assert not editor.apply_button.disabled
    editor.apply_button.click()
    assert sorted(client.flags.users("3001", "control")) == ["beta-1", "qa-2"]


def test_undo_says_the_values_it_puts_back(server, client, flag):
    editor = RolloutEditor(client, "3001")
    before = editor.weights["control"].value
    editor.weights["control"].value = before + 3
    editor.preview_button.click()
    editor.apply_button.click()
    assert f"weights.control: {before} → {before + 3}" in editor.status.value
    editor.undo_button.click()
    # the undo's line reads the way its request goes: back to the old weight
    assert f"weights.control: {before + 3} → {before}" in editor.status.value
    assert flag()["rolloutWeights"]["control"] == before


def test_inclusions_removal_lists_say_what_they_hold(client):
    editor = InclusionsEditor(client, "3001")
    editor.variant.value = "control"  # two users and a cohort included
    assert "select the users to remove" in editor.remove_users_hint.value
    editor.variant.value = "bm25"  # nothing included
    assert "no users are included in bm25: nothing to remove" in editor.remove_users_hint.value
    assert "no cohorts are included in bm25" in editor.remove_cohorts_hint.value
    editor.variant.value = "neural"  # one user, no cohort
    assert "select the users to remove" in editor.remove_users_hint.value
    assert "no cohorts are included in neural" in editor.remove_cohorts_hint.value

"""Variants added or removed on the server, seen by an editor on reload, apply or undo."""

from __future__ import annotations

from expkit.widgets import InclusionsEditor, PayloadEditor, RolloutEditor


def test_rollout_editor_shows_a_variant_added_on_the_server(server, client, flag):
    editor = RolloutEditor(client, "3001")
    editor.weights["control"].value = 4
    server.client().flags.create_variant("3001", "fresh", rollout_weight=2)
    editor.reload_button.click()
    assert list(editor.weights) == ["control", "bm25", "neural", "fresh"]
    assert editor.weights["fresh"].value == 2
    assert editor.bar_labels["fresh"].value == "25.0%"  # 2 of 4+1+1+2, rolled out to 100%
    assert editor.weights["control"].value == 4  # the pending edit is kept
    editor.weights["fresh"].value = 3
    editor.preview_button.click()
    editor.apply_button.click()
    assert flag()["rolloutWeights"] == {"control": 4, "bm25": 1, "neural": 1, "fresh": 3}


def test_rollout_editor_drops_a_variant_removed_on_the_server(server, client, flag):
    editor = RolloutEditor(client, "3001")
    editor.weights["neural"].value = 5
    editor.weights["control"].value = 2
    server.client().flags.remove_variant("3001", "neural")
    editor.reload_button.click()
    assert list(editor.weights) == ["control", "bm25"]
    assert set(editor.bars) == {"control", "bm25"}
    # the weight typed for the gone variant cannot be applied: not an error no control clears
    assert editor.plan.errors == []
    assert editor.plan.changes() == ["weights.control: 1 → 2"]
    editor.preview_button.click()
    editor.apply_button.click()
    assert flag()["rolloutWeights"] == {"control": 2, "bm25": 1}


def test_payload_editor_follows_the_server_variants(server, client, flag):
    editor = PayloadEditor(client, "3001")
    editor.variant.value = "neural"
    editor.text.value = '{"model": "v9"}'
    editor.variant.value = "bm25"
    editor.text.value = '{"boost": 3}'
    api = server.client().flags
    api.remove_variant("3001", "neural")
    api.create_variant("3001", "fresh", payload={"x": 1})
    editor.reload_button.click()
    assert editor.variant.options == ("control", "bm25", "fresh")
    assert editor.variant.value == "bm25" and editor.text.value == '{"boost": 3}'
    assert editor.plan.errors == []
    editor.variant.value = "fresh"
    assert editor.text.value == '{\n  "x": 1\n}'
    editor.preview_button.click()
    editor.apply_button.click()
    assert [v["payload"] for v in flag()["variants"]] == [None, {"boost": 3}, {"x": 1}]


def test_inclusions_editor_follows_the_server_variants(server, client):
    editor = InclusionsEditor(client, "3001")
    editor.variant.value = "neural"
    editor.add_users.value = "gone-1"
    api = server.client().flags
    api.remove_variant("3001", "neural")
    api.create_variant("3001", "fresh")
    editor.reload_button.click()
    assert editor.variant.options == ("control", "bm25", "fresh")
    assert editor.variant.value == "control"
    assert editor.remove_users.options == ("qa-1", "qa-2")
    assert editor.plan.errors == []
    editor.variant.value = "fresh"
    editor.add_users.value = "new-1"
    editor.preview_button.click()
    editor.apply_button.click()
    assert client.flags.users("3001", "fresh") == ["new-1"]


def test_the_status_says_when_an_edit_for_a_gone_variant_is_dropped(server, client):
    editor = PayloadEditor(client, "3001")
    editor.variant.value = "neural"
    editor.text.value = '{"model": "v9"}'
    server.client().flags.remove_variant("3001", "neural")
    editor.reload_button.click()
    assert "Reloaded from the server" in editor.status.value
    assert "Variant &#x27;neural&#x27; is gone from the server" in editor.status.value


def test_apply_sends_only_what_was_previewed(server, client, flag):
    editor = RolloutEditor(client, "3001")
    editor.weights["control"].value = 3
    editor.preview_button.click()
    editor.plan.set_weights({"bm25": 9})  # changed from code, behind the preview
    server.reset_log()
    editor.apply_button.click()
    assert [m for m, _, _ in server.request_log if m != "GET"] == []
    assert flag()["rolloutWeights"] == {"control": 1, "bm25": 1, "neural": 1}
    assert "changed since the preview" in editor.status.value
    assert editor.apply_button.disabled
    editor.preview_button.click()
    editor.apply_button.click()
    assert flag()["rolloutWeights"] == {"control": 3, "bm25": 9, "neural": 1}


def test_apply_after_the_plan_was_made_invalid_from_code_sends_nothing(server, client, flag):
    editor = RolloutEditor(client, "3001")
    editor.weights["control"].value = 3
    editor.preview_button.click()
    editor.plan.set_weights({"bm25": -2})
    server.reset_log()
    editor.apply_button.click()
    assert [m for m, _, _ in server.request_log if m != "GET"] == []
    assert "changed since the preview" in editor.status.value
    assert "weights.bm25" in editor.validation.value

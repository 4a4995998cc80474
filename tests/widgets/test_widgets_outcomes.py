"""What the editors show when an apply fails or cannot be verified: each step's status."""

from __future__ import annotations

import json
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from expkit.widgets import PayloadEditor, RolloutEditor


class AfterApply500(HTTPAdapter):
    """Forwards every request; answers write number ``fail_write`` with a 500 *after* the
    fake applied it. Reads fail while ``reads_down``."""

    def __init__(self, inner: HTTPAdapter) -> None:
        super().__init__()
        self.inner = inner  # the fake org's own adapter, which serves in-process
        self.fail_write: int | None = None
        self.n_writes = 0
        self.reads_down = False

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if request.method == "GET":
            if self.reads_down:
                raise requests.exceptions.ConnectionError("injected: connection reset")
            return self.inner.send(request, **kwargs)
        self.n_writes += 1
        response = self.inner.send(request, **kwargs)
        if self.n_writes != self.fail_write:
            return response
        response.close()
        failed = requests.Response()
        failed.status_code = 500
        failed._content = json.dumps({"message": "injected after apply"}).encode()
        failed.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        failed.url, failed.request, failed.reason = request.url or "", request, "Server Error"
        return failed


def faulty_client(server) -> tuple[Any, AfterApply500]:
    adapter = AfterApply500(server)
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return server.client(session=session, max_retries=0), adapter


def test_a_failed_apply_shows_each_step_rolled_back(server, flag):
    client, adapter = faulty_client(server)
    editor = RolloutEditor(client, "3001")
    editor.weights["bm25"].value = 3
    editor.weights["neural"].value = 5
    editor.preview_button.click()
    adapter.fail_write = 2  # the second weight: applied by the server, answered with a 500
    editor.apply_button.click()
    status = editor.status.value
    assert "apply: failed" in status
    assert "A re-read shows the values from before this call." in status
    assert status.count('class="expkit-status"') == 2
    assert status.count("<b>rolled back</b>") == 2
    assert "PartialApplyError" in status and "had applied it" in status
    assert flag()["rolloutWeights"] == {"control": 1, "bm25": 1, "neural": 1}
    # nothing is left applied: no undo; the typed weights are kept for another try
    assert editor.undo_button.disabled
    assert editor.weights["neural"].value == 5
    adapter.fail_write = None
    editor.preview_button.click()
    editor.apply_button.click()
    assert "Verified" in editor.status.value
    assert flag()["rolloutWeights"] == {"control": 1, "bm25": 3, "neural": 5}


def test_an_unverified_apply_can_be_undone_from_the_editor(server, flag):
    client, adapter = faulty_client(server)
    editor = PayloadEditor(client, "3001")
    editor.variant.value = "bm25"
    editor.text.value = '{"boost": 2}'
    editor.preview_button.click()
    original_send = adapter.send

    def send_then_lose_reads(request: requests.PreparedRequest, **kwargs: Any) -> Any:
        response = original_send(request, **kwargs)
        if request.method == "PATCH":
            adapter.reads_down = True  # the verifying re-read will fail
        return response

    adapter.send = send_then_lose_reads
    editor.apply_button.click()
    status = editor.status.value
    assert "apply: unverified" in status and "VerificationError" in status
    assert "could not be re-read" in status and "<b>applied</b>" in status
    assert flag()["variants"][1]["payload"] == {"boost": 2}
    assert not editor.undo_button.disabled  # undo re-reads to decide
    adapter.reads_down = False
    adapter.send = original_send
    editor.undo_button.click()
    assert "undo: undone" in editor.status.value and "Verified" in editor.status.value
    assert flag()["variants"][1]["payload"] == {"boost": 1}
    assert editor.undo_button.disabled

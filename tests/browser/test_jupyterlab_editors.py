"""The editors in a real browser: JupyterLab 4 in Debian's Chromium, driven by Playwright.

Opens notebook 03, runs every cell, and checks what a person sees: each editor renders as
controls (no "Error displaying widget"), moving a weight and clicking Preview shows the
preview table and the requests, and Apply then Undo leave the fake org as it was.

Needs ``chromium`` on the PATH (``apt-get install -y chromium``; Playwright never downloads a
browser here) and the ``playwright`` and ``jupyterlab`` packages. Without them the test skips,
unless ``EXPKIT_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where it fails instead. On a failure
the page's screenshot is saved in the test's temporary directory and named in the message.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "03_rollout_tweaking.ipynb"
# generous: a loaded 2-core machine starts JupyterLab and a kernel slowly; these bound a hang,
# they are not assertions about speed
START_TIMEOUT_S = 600
RUN_ALL_TIMEOUT_MS = 1_200_000
STEP_TIMEOUT_MS = 180_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _missing() -> str | None:
    if _chromium() is None:
        return "Debian's chromium is not installed (apt-get install -y chromium)"
    for module in ("playwright", "jupyterlab"):
        if importlib.util.find_spec(module) is None:
            return f"the {module} package is not installed"
    return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    missing = _missing()
    if missing:
        if os.environ.get("EXPKIT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the browser test is required here, but {missing}")
        pytest.skip(missing)
    work = tmp_path_factory.mktemp("lab")
    # a copy, so JupyterLab's autosave never touches the committed notebook; the committed
    # one has no kernelspec (metadata is cleared), so name it here: no "Select Kernel" dialog
    book = json.loads((ROOT / "notebooks" / NOTEBOOK).read_text())
    book["metadata"]["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    (work / NOTEBOOK).write_text(json.dumps(book))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPLITUDE_")}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR"):
        env[name] = str(work / f".{name.lower()}")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(work / ".workspaces")
    # start the notebook's kernel without the "Select Kernel" dialog, and no news prompt;
    settings = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        # every cell in the DOM (no virtual scrolling), so all outputs can be read
        json.dumps({"autoStartDefaultKernel": True, "windowingMode": "none"})
    )
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    log = (work / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work}",
            "--ServerApp.allow_root=True",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabServerApp.extra_labextensions_path=[]",
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"JupyterLab exited ({server.returncode}); see {work / 'jupyterlab.log'}"
                )
            try:
                if requests.get(f"{base}/api/status", params={"token": token}, timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start; see {work / 'jupyterlab.log'}")
            time.sleep(0.5)
        yield {
            "base": base,
            "token": token,
            "work": work,
            "runtime": Path(env["JUPYTER_RUNTIME_DIR"]),
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _kernel_says(lab: dict[str, Any], code: str) -> str:
    """Runs ``code`` in the notebook's own kernel (beside the page) and returns its stdout.

    The check reads the fake org the notebook's client talks to, without touching the page.
    """
    from jupyter_client import BlockingKernelClient

    sessions = requests.get(
        f"{lab['base']}/api/sessions", params={"token": lab["token"]}, timeout=30
    ).json()
    kernel_id = sessions[0]["kernel"]["id"]
    kernel = BlockingKernelClient(connection_file=str(lab["runtime"] / f"kernel-{kernel_id}.json"))
    kernel.load_connection_file()
    kernel.start_channels()
    printed: list[str] = []

    def collect(message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    try:
        reply = kernel.execute_interactive(
            code, timeout=STEP_TIMEOUT_MS / 1000, output_hook=collect
        )
    finally:
        kernel.stop_channels()
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(printed).strip()


WEIGHTS_AS_BEFORE = (
    "print({v['key']: v['rolloutWeight'] for v in client.flags.variants(flag_id)} == before)"
)


def test_editors_render_and_apply_then_undo_in_jupyterlab(lab: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    # outside pytest's own temp dirs, which later runs prune
    shot = Path(tempfile.mkdtemp(prefix="expkit-browser-")) / "failure.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(STEP_TIMEOUT_MS)
        try:
            page.goto(f"{lab['base']}/lab/tree/{NOTEBOOK}?token={lab['token']}")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
                timeout=RUN_ALL_TIMEOUT_MS
            )
            # the toolbar's "restart the kernel and run all cells" (a fresh fake org each run)
            page.locator("[data-command='notebook:restart-run-all']").first.click()
            page.locator(".jp-Dialog .jp-mod-accept").click()
            # the run is over when the last cell has its number, or a cell failed (Run All
            # stops there); either way no cell still waits ("[*]")
            page.wait_for_function(
                """() => {
                    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
                    const failed = document.querySelector(
                        "[data-mime-type='application/vnd.jupyter.error']");
                    const last = prompts.length && /\\[\\d+\\]/.test(prompts.at(-1).textContent);
                    return (last || failed) && prompts.every(p => !p.textContent.includes('*'));
                }""",
                timeout=RUN_ALL_TIMEOUT_MS,
            )
            body = page.locator(".jp-Notebook").inner_text()
            assert "Error displaying widget" not in body
            assert "Traceback" not in body, body[body.find("Traceback") :][:2000]
            prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
            unrun = [i for i, p in enumerate(prompts) if not re.fullmatch(r"\[\d+\]:", p.strip())]
            assert not unrun, f"code cells {unrun} did not run: {prompts}"

            editors = page.locator(".jp-OutputArea-output").filter(
                has=page.locator("button", has_text="Preview")
            )
            # rollout, payload, inclusions: real controls; the last cell shows the rollout
            # editor again, reloaded after the cells that changed its flag from code
            assert editors.count() == 4
            rollout = editors.last
            for label in ("Preview", "Apply", "Undo", "Reload"):
                assert rollout.locator("button", has_text=label).count() == 1, label
            weight = rollout.locator(".widget-text input").first
            start = int(weight.input_value())
            weight.fill(str(start + 3))
            weight.press("Enter")
            rollout.locator("button", has_text="Preview").click()
            preview = rollout.locator(".expkit-preview")
            preview.wait_for()
            assert preview.locator("table").count() == 1
            assert "Requests apply will send" in preview.inner_text()
            assert "rolloutWeight" in preview.inner_text()

            apply = rollout.locator("button", has_text="Apply")
            page.wait_for_function("(b) => !b.disabled", arg=apply.element_handle())
            apply.click()
            rollout.get_by_text("Verified").first.wait_for()
            assert _kernel_says(lab, WEIGHTS_AS_BEFORE) == "False"

            undo = rollout.locator("button", has_text="Undo")
            page.wait_for_function("(b) => !b.disabled", arg=undo.element_handle())
            undo.click()
            rollout.get_by_text("undo:").first.wait_for()
            assert _kernel_says(lab, WEIGHTS_AS_BEFORE) == "True"
        except BaseException:
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the page: {shot}", file=sys.stderr)
            raise
        finally:
            browser.close()

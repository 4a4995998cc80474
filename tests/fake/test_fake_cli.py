"""``expkit serve``: prints the URL and key, serves until stopped, refuses bad hosts and ports."""

from __future__ import annotations

import argparse
import io
import re
import socket
import threading

import pytest
import requests

from expkit.cli import _serve, main
from expkit.cli._errors import InputError
from expkit.fake import FakeServer, State


class _Out(io.StringIO):
    """The command's output; ``ready`` is set once it says how to stop (it is serving)."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = threading.Event()

    def write(self, text: str) -> int:
        n = super().write(text)
        if "Ctrl-C" in self.getvalue():
            self.ready.set()
        return n


# the timeouts only unblock a broken run (the command never got to serving); nothing
# here depends on how fast a loaded machine gets there
READY_TIMEOUT = 60


def _args(**kw) -> argparse.Namespace:
    base = {"fixtures": None, "port": 0, "host": "127.0.0.1", "debug": False}
    base.update(kw)
    return argparse.Namespace(**base)


def test_serve_prints_url_key_and_example_then_serves(tmp_path, monkeypatch, make_org):
    def from_fixtures(cls, directory, **options):
        assert str(directory) == str(tmp_path)
        return cls(State.from_org(make_org()), **options)

    monkeypatch.setattr(FakeServer, "from_fixtures", classmethod(from_fixtures))
    out = _Out()
    stop = threading.Event()
    codes: list[int] = []
    thread = threading.Thread(
        target=lambda: codes.append(_serve.run(_args(fixtures=str(tmp_path)), stop=stop, out=out))
    )
    thread.start()
    try:
        assert out.ready.wait(READY_TIMEOUT), out.getvalue()
        text = out.getvalue()
        url = re.search(r"at (http://127\.0\.0\.1:\d+)", text).group(1)
        key = re.search(r"API key \(accepted by this fake only\): (fake-[0-9a-f]+)", text).group(1)
        assert f'expkit.Client(api_key="{key}", base_url="{url}")' in text
        assert "(2 flags, 1 experiments, 3 versions)" in text
        reply = requests.get(f"{url}/api/1/flags/11", headers={"Authorization": f"Bearer {key}"})
        assert reply.json()["key"] == "checkout-v2"
    finally:
        stop.set()
        thread.join(READY_TIMEOUT)
    assert codes == [0]


def _serve_in_thread(args: argparse.Namespace):
    out = _Out()
    stop = threading.Event()
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(_serve.run(args, stop=stop, out=out)))
    thread.start()
    out.ready.wait(READY_TIMEOUT)
    return out, stop, thread, codes


def test_serve_defaults_to_the_demo_org():
    from expkit._paths import demo_fixtures

    out, stop, thread, codes = _serve_in_thread(_args(fixtures=None))
    try:
        text = out.getvalue()
        assert f"serving {demo_fixtures()}" in text
        url = re.search(r"at (http://127\.0\.0\.1:\d+)", text).group(1)
        key = re.search(r"(fake-[0-9a-f]+)", text).group(1)
        reply = requests.get(
            f"{url}/api/1/flags?limit=2", headers={"Authorization": f"Bearer {key}"}
        )
        assert reply.status_code == 200 and len(reply.json()["flags"]) == 2
        # the fake's clock is the recording's: the Date header says when the demo was recorded
        assert reply.headers["Date"] == "Fri, 20 Nov 2026 09:00:00 GMT"
    finally:
        stop.set()
        thread.join(READY_TIMEOUT)
    assert codes == [0]


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("expkit serve: error: ") and lines[0].endswith(".")
    return lines[0]


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_a_port_out_of_range_is_one_line_and_exit_2(port, capsys):
    # was an OverflowError traceback from the socket layer
    assert main(["serve", "--port", port]) == 2
    line = _one_line_error(capsys)
    assert f"--port {port} is not a port" in line and "0 for any free port" in line


def test_refuses_non_loopback_hosts_and_missing_or_empty_dirs(tmp_path, capsys):
    assert main(["serve", "--host", "0.0.0.0", "--fixtures", str(tmp_path)]) == 2
    assert "--host 0.0.0.0 is not a loopback address" in _one_line_error(capsys)
    assert main(["serve", "--fixtures", str(tmp_path / "nope")]) == 2
    assert "--fixtures" in _one_line_error(capsys)
    (tmp_path / "empty").mkdir()
    assert main(["serve", "--fixtures", str(tmp_path / "empty"), "--port", "0"]) == 2
    assert "no recorded API responses" in _one_line_error(capsys)
    # the library's check, raised before anything listens
    with pytest.raises(InputError, match="loopback"):
        _serve.run(_args(host="example.com"))


def test_a_port_in_use_is_bad_input_in_one_line(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    line = _one_line_error(capsys)
    assert f"cannot listen on 127.0.0.1:{port}" in line and "pick another --port" in line


def test_serve_help_has_a_description_defaults_and_exit_codes(capsys):
    assert main(["serve", "--help"]) == 0
    text = capsys.readouterr().out
    assert "Serve a fake org" in text
    assert "(default: 8765)" in text and "(default: 127.0.0.1)" in text
    assert "exit codes:" in text and "2   bad input" in text

"""``expkit serve``: prints the URL and key, serves until stopped, refuses non-loopback hosts."""

from __future__ import annotations

import argparse
import io
import re
import threading
import time

import requests

from expkit.fake import FakeServer, State
from expkit.fake._cli import serve_command


def _args(**kw) -> argparse.Namespace:
    base = {"fixtures": None, "port": 0, "host": "127.0.0.1"}
    base.update(kw)
    return argparse.Namespace(**base)


def test_serve_prints_url_key_and_example_then_serves(tmp_path, monkeypatch, make_org):
    def from_fixtures(cls, directory, **options):
        assert str(directory) == str(tmp_path)
        return cls(State.from_org(make_org()), **options)

    monkeypatch.setattr(FakeServer, "from_fixtures", classmethod(from_fixtures))
    out = io.StringIO()
    stop = threading.Event()
    codes: list[int] = []
    thread = threading.Thread(
        target=lambda: codes.append(
            serve_command(_args(fixtures=str(tmp_path)), stop=stop, out=out)
        )
    )
    thread.start()
    try:
        for _ in range(200):
            if "Ctrl-C" in out.getvalue():
                break
            time.sleep(0.01)
        text = out.getvalue()
        url = re.search(r"at (http://127\.0\.0\.1:\d+)", text).group(1)
        key = re.search(r"API key \(accepted by this fake only\): (fake-[0-9a-f]+)", text).group(1)
        assert f'expkit.Client(api_key="{key}", base_url="{url}")' in text
        assert "(2 flags, 1 experiments, 3 versions)" in text
        reply = requests.get(f"{url}/api/1/flags/11", headers={"Authorization": f"Bearer {key}"})
        assert reply.json()["key"] == "checkout-v2"
    finally:
        stop.set()
        thread.join(5)
    assert codes == [0]


def _serve_in_thread(args: argparse.Namespace):
    out = io.StringIO()
    stop = threading.Event()
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(serve_command(args, stop=stop, out=out)))
    thread.start()
    for _ in range(500):
        if "Ctrl-C" in out.getvalue():
            break
        time.sleep(0.01)
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
        thread.join(5)
    assert codes == [0]


def test_serve_refuses_non_loopback_and_missing_dirs(tmp_path, capsys):
    assert serve_command(_args(host="0.0.0.0", fixtures=str(tmp_path))) == 2
    assert "loopback" in capsys.readouterr().err
    assert serve_command(_args(fixtures=str(tmp_path / "nope"))) == 2
    assert "no fixtures directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert serve_command(_args(fixtures=str(tmp_path / "empty"))) == 2
    assert "no recorded API responses" in capsys.readouterr().err

from __future__ import annotations

import expkit
from expkit._paths import demo_fixtures
from expkit.fake import FakeServer


def test_without_a_key_connect_serves_the_demo_org(capsys):
    client = expkit.connect()
    line = capsys.readouterr().out.strip()
    assert "demo org" in line and "AMPLITUDE_MANAGEMENT_API_KEY" in line
    assert isinstance(client, expkit.Client)
    # the fake org it started is a public name on the client: its server, state and key
    assert isinstance(client.fake, FakeServer)
    assert client.base_url == client.fake.url and client.base_url.startswith("http://127.0.0.1:")
    flags = client.flags.list(include_archived=True)
    assert len(flags) == client.fake.state.counts()["flags"] > 0
    client.fake.stop()


def test_fixtures_argument_wins_over_a_key(monkeypatch, capsys):
    monkeypatch.setenv("AMPLITUDE_MANAGEMENT_API_KEY", "not-a-real-key-123")
    client = expkit.connect(fixtures=demo_fixtures())
    assert client.base_url.startswith("http://127.0.0.1:")
    assert client.fake is not None and client.fake.url == client.base_url
    assert "not-a-real-key-123" not in capsys.readouterr().out
    client.fake.stop()


def test_with_a_key_connect_is_live_and_sends_nothing(monkeypatch, capsys):
    monkeypatch.setenv("AMPLITUDE_MANAGEMENT_API_KEY", "not-a-real-key-123")
    monkeypatch.setenv("AMPLITUDE_REGION", "eu")
    client = expkit.connect()
    out = capsys.readouterr().out
    assert "live" in out and "experiment.eu.amplitude.com" in out
    assert client.base_url == "https://experiment.eu.amplitude.com"
    assert isinstance(client, expkit.Client) and client.fake is None
    assert client.request_count == 0
    assert "not-a-real-key-123" not in repr(client) + out


def test_with_base_url_there_is_no_fake(monkeypatch, capsys):
    monkeypatch.delenv("AMPLITUDE_MANAGEMENT_API_KEY", raising=False)
    client = expkit.connect(base_url="http://127.0.0.1:8765", quiet=True)
    assert client.fake is None and client.base_url == "http://127.0.0.1:8765"
    assert capsys.readouterr().out == ""


def test_client_options_reach_the_client_on_the_fake(capsys):
    client = expkit.connect(quiet=True, rate_limit=7, base_url=None)
    assert client.http.rate_limiter.rate == 7
    assert client.fake is not None
    client.fake.stop()


def test_env_fixtures_are_used(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("EXPKIT_FIXTURES", str(demo_fixtures()))
    client = expkit.connect(quiet=True)
    assert capsys.readouterr().out == ""
    assert client.base_url.startswith("http://127.0.0.1:")
    assert client.fake is not None
    client.fake.stop()


def test_in_process_serves_the_demo_org_with_no_thread_or_socket(capsys, monkeypatch):
    import threading

    started: list[object] = []
    monkeypatch.setattr(FakeServer, "start", lambda self: started.append(self))
    before = threading.active_count()
    client = expkit.connect(in_process=True)
    assert "served in-process" in capsys.readouterr().out
    assert started == [] and threading.active_count() == before
    assert client.base_url == "https://fake.expkit.invalid"
    assert isinstance(client.fake, expkit.fake.FakeAdapter)
    # the same org as the served demo: every flag, and the fake's own request log
    assert len(client.flags.list(include_archived=True)) == len(client.fake.state.to_org()["flags"])
    assert client.fake.request_count >= 1

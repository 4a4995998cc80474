from __future__ import annotations

import expkit
from expkit._paths import demo_fixtures


def test_without_a_key_connect_serves_the_demo_org(capsys):
    client = expkit.connect()
    line = capsys.readouterr().out.strip()
    assert "demo org" in line and "AMPLITUDE_MANAGEMENT_API_KEY" in line
    assert client.base_url.startswith("http://127.0.0.1:")
    assert len(client.flags.list()) > 0
    client._fake_server.stop()


def test_fixtures_argument_wins_over_a_key(monkeypatch, capsys):
    monkeypatch.setenv("AMPLITUDE_MANAGEMENT_API_KEY", "not-a-real-key-123")
    client = expkit.connect(fixtures=demo_fixtures())
    assert client.base_url.startswith("http://127.0.0.1:")
    assert "not-a-real-key-123" not in capsys.readouterr().out
    client._fake_server.stop()


def test_with_a_key_connect_is_live_and_sends_nothing(monkeypatch, capsys):
    monkeypatch.setenv("AMPLITUDE_MANAGEMENT_API_KEY", "not-a-real-key-123")
    monkeypatch.setenv("AMPLITUDE_REGION", "eu")
    client = expkit.connect()
    out = capsys.readouterr().out
    assert "live" in out and "experiment.eu.amplitude.com" in out
    assert client.base_url == "https://experiment.eu.amplitude.com"
    assert client.request_count == 0
    assert "not-a-real-key-123" not in repr(client) + out


def test_env_fixtures_are_used(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("EXPKIT_FIXTURES", str(demo_fixtures()))
    client = expkit.connect(quiet=True)
    assert capsys.readouterr().out == ""
    assert client.base_url.startswith("http://127.0.0.1:")
    client._fake_server.stop()

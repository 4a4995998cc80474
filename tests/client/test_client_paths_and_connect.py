"""Path segments are quoted or refused; connect() with a base_url."""

from __future__ import annotations

import pytest
from client_double import API_KEY, BASE, DoubleAdapter, Reply, make_session

import expkit
from expkit import (
    Client,
    LegacyClient,
    ValidationError,
)

# path segments ---------------------------------------------------------------------------

DOT_SEGMENT_CALLS = {
    "edit_variant": lambda c, s: c.flags.edit_variant("1", s, name="x"),
    "remove_variant": lambda c, s: c.experiments.remove_variant("1", s),
    "remove_all_users": lambda c, s: c.flags.remove_all_users("1", s),
    "remove_deployment": lambda c, s: c.flags.remove_deployment("1", s),
    "version": lambda c, s: c.flags.version("1", s),
    "edit": lambda c, s: c.flags.edit(s, archive=True),
    "get": lambda c, s: c.experiments.get(s),
    "mutexes.edit": lambda c, s: c.mutexes.edit(s, name="x"),
    "holdouts.get": lambda c, s: c.holdouts.get(s),
    "deployments.edit": lambda c, s: c.deployments.edit(s, archive=True),
    "legacy.experiment": lambda c, s: c.legacy.experiment(s),
    "legacy.activate": lambda c, s: c.legacy.activate(s),
}


@pytest.mark.parametrize("segment", [".", ".."])
@pytest.mark.parametrize("call", DOT_SEGMENT_CALLS.values(), ids=DOT_SEGMENT_CALLS.keys())
def test_dot_segments_are_refused_before_sending(double: DoubleAdapter, call, segment):
    # requests removes "." and ".." from URL paths: edit_variant("1", "..", name=...) would
    # PATCH /api/1/flags/1/, renaming the flag itself
    client = Client(API_KEY, base_url=BASE, session=make_session(double), rate_limit=None)
    client.legacy = LegacyClient(API_KEY, base_url=BASE, session=make_session(double))
    with pytest.raises(ValidationError) as info:
        call(client, segment)
    assert info.value.value == segment
    assert "'.'" in str(info.value) and "'..'" in str(info.value)
    assert double.calls == []


# connect ---------------------------------------------------------------------------------


@pytest.mark.parametrize("with_key", [True, False])
def test_connect_with_base_url_gives_a_client_on_that_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], with_key
):
    monkeypatch.delenv("AMPLITUDE_MANAGEMENT_API_KEY", raising=False)
    options = {"api_key": API_KEY} if with_key else {}
    client = expkit.connect(base_url="http://127.0.0.1:8765", rate_limit=50, **options)
    assert client.base_url == "http://127.0.0.1:8765"
    assert client.http.rate_limiter.rate == 50
    assert not hasattr(client, "_fake_server")
    assert client.request_count == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8765" in out and API_KEY not in out


def test_connect_refuses_fixtures_and_base_url_together(tmp_path):
    with pytest.raises(ValidationError) as info:
        expkit.connect(tmp_path, base_url="http://127.0.0.1:8765")
    assert info.value.field == "base_url"


# base_url --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given", ["https://experiment.amplitude.com/api/1", "https://experiment.amplitude.com/api/1/"]
)
def test_a_base_url_copied_with_the_api_prefix_is_not_doubled(double: DoubleAdapter, given):
    # the API documents give the base URL as https://experiment.amplitude.com/api/1
    client = Client(API_KEY, base_url=given, session=make_session(double), rate_limit=None)
    assert client.base_url == "https://experiment.amplitude.com"
    double.reply(Reply(200, {"flags": []}))
    client.flags.list()
    assert double.calls[0].path == "/api/1/flags"

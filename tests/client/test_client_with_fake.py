"""The client against the fake org over real HTTP (expkit.fake.FakeServer)."""

from __future__ import annotations

import threading

import pytest

from expkit import AuthenticationError, Client, NotFoundError

fake = pytest.importorskip("expkit.fake")


@pytest.fixture
def server():
    with fake.FakeServer() as srv:
        yield srv


def test_lifecycle_against_the_fake(server):
    client = server.client()
    deployment = client.deployments.create("100", "web", "client")
    created = client.flags.create(
        "100",
        "new-checkout",
        name="New checkout",
        variants=["on", "off"],
        rollout_weights={"on": 1, "off": 0},
        deployments=[deployment["id"]],
    )
    fid = created["id"]
    assert isinstance(fid, str)
    assert client.flags.get(fid)["rolloutWeights"] == {"on": 1, "off": 0}
    assert client.flags.edit(fid, rollout_percentage=25, tags=["a"]) == "OK"
    assert client.flags.add_tags(fid, ["b"]) == ["a", "b"]
    assert client.flags.get(fid)["tags"] == ["a", "b"]
    versions = client.flags.versions(fid)
    assert [v["version"] for v in versions] == sorted(
        (v["version"] for v in versions), reverse=True
    )
    client.flags.add_users(fid, "on", [f"u{i}" for i in range(150)])
    client.flags.remove_user_at(fid, "on", 1, expected="u1")
    client.flags.remove_users(fid, "on", [f"u{i}" for i in range(2, 150)])  # two chunks
    assert client.flags.users(fid, "on") == ["u0"]
    assert [f["id"] for f in client.flags.list(key="new-checkout")] == [fid]
    assert client.server_time is not None
    with pytest.raises(NotFoundError):
        client.flags.get("999999999")


def test_wrong_key_against_the_fake(server):
    client = Client("not-the-key", base_url=server.url)
    with pytest.raises(AuthenticationError) as info:
        client.flags.list()
    assert "not-the-key" not in str(info.value)


def test_client_limiter_keeps_under_the_fakes_rate_limit(server):
    client = server.client()
    server.faults(rate_limit=100)  # the fake answers 429 past 100 requests in any 1 s window

    def work():
        for _ in range(15):
            client.deployments.list()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # every request was answered the first time: no 429, so no retries
    assert client.request_count == server.request_count == 120

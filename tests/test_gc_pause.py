import gc
import threading

from expkit._gc import paused


def test_the_collector_is_off_inside_and_restored_after():
    assert gc.isenabled()
    with paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_nested_and_threaded_pauses_restore_once_the_last_one_leaves():
    inside = threading.Event()
    release = threading.Event()

    def worker():
        with paused():
            inside.set()
            release.wait(60)  # the timeouts only unblock a broken run

    thread = threading.Thread(target=worker)
    with paused():
        thread.start()
        assert inside.wait(60)
    # this thread left, the worker has not: still paused
    assert not gc.isenabled()
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_exception_still_restores_the_collector():
    try:
        with paused():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_snapshot_and_load_pause_the_collector_and_restore_it(tmp_path, monkeypatch):
    import expkit
    from expkit.fake import FakeServer

    seen = []
    # the snapshot flattens the versions feed page by page (in its worker threads) into the
    # versions frame's columns: every one of those calls must run with the collector paused
    real_columns = expkit.frames._version_columns

    def spy(records, *args, **kwargs):
        seen.append(gc.isenabled())
        return real_columns(records, *args, **kwargs)

    monkeypatch.setattr(expkit.frames, "_version_columns", spy)
    with FakeServer.synthetic(n_flags=5, n_experiments=2, versions_per_config=3, seed=1) as server:
        snap = expkit.snapshot(server.client(), progress=False)
    assert seen and not any(seen), "flattening ran with the collector on"
    assert gc.isenabled()
    snap.save(tmp_path / "snap")
    assert expkit.Snapshot.load(tmp_path / "snap").equals(snap)
    assert gc.isenabled()


def test_flattening_stays_paused_when_another_pauser_leaves_midway():
    from expkit import frames

    outer = paused()
    outer.__enter__()
    seen = []

    def records():
        # another thread's pause ends while the flattener is running
        outer.__exit__(None, None, None)
        seen.append(gc.isenabled())
        yield {"id": "1", "key": "a"}

    frames.configs(records())
    assert seen == [False], "the collector came back while flattening"
    assert gc.isenabled()

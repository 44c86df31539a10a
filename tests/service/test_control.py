"""The control channel: request checks, the socket's place and mode, and a daemon (in this
process, on a real store and the loopback feed server) answering real clients."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import threading
import time
from pathlib import Path

import pytest

from feeds.config.load import load_config
from feeds.service.control import (MAX_IDS, MAX_LINE, ControlClient, ControlError, ControlServer,
                           DaemonUnavailable, Request, RequestError, control_socket_path,
                           parse_request)
from feeds.service.daemon import Daemon
from feeds.model import FeedStatus
from feeds.poll.poller import Poller
from feeds.poll.schedule import seconds_until_due
from storage.errors import StoreLockedError
from storage.store import Store
from tests.feedserver import Response
from tests.service.conftest import SEED_TITLE, Wire
from feeds.service.viewer import DaemonBackend

ID = "0123456789abcdef"


# --- requests --------------------------------------------------------------------------------

@pytest.mark.parametrize("line, problem", [
    (b"{not json", "not a JSON request"),
    (b"[1, 2]", "a request is a JSON object"),
    (b'{"op": "drop"}', "unknown op 'drop'"),
    (b'{"op": "status", "x": 1}', "unknown field(s) x"),
    (b'{"op": "mark", "ids": [], "read": true}', "non-empty list"),
    (b'{"op": "mark", "ids": ["ABC"], "read": true}', "16 lowercase hex"),
    (b'{"op": "mark", "ids": ["' + ID.encode() + b'"]}', "set read and/or starred"),
    (b'{"op": "mark", "ids": ["' + ID.encode() + b'"], "read": "yes"}', "read must be"),
    (b'{"op": "poll", "feeds": "Wire"}', "feeds must be null or a list"),
    (b'{"op": "poll", "feeds": [""]}', "non-empty string"),
    (b'{"op": "poll", "force": 1}', "force must be"),
    (b'{"op": "enable", "feed": "Wire"}', "enabled must be"),
    (b'{"op": "enable", "feed": 3, "enabled": true}', "non-empty string"),
    (b'{"op": "label", "id": "ABC", "labels": []}', "16 lowercase hex"),
    (b'{"op": "label", "id": "' + ID.encode() + b'"}', "labels must be a list"),
    (b'{"op": "label", "id": "' + ID.encode() + b'", "labels": ["sport"]}', "labels must be a list"),
    (b'{"op": "label", "id": "' + ID.encode() + b'", "labels": [{}]}', "labels must be a list"),
])
def test_malformed_requests_are_refused_with_a_reason(line: bytes, problem: str) -> None:
    with pytest.raises(RequestError) as e:
        parse_request(line)
    assert problem in str(e.value)


def test_request_sizes_are_bounded() -> None:
    ids = [f"{i:016x}" for i in range(MAX_IDS + 1)]
    with pytest.raises(RequestError, match="at most"):
        parse_request(json.dumps({"op": "mark", "ids": ids, "read": True}))
    with pytest.raises(RequestError, match="too large"):
        parse_request(b" " * (MAX_LINE + 1))
    ok = parse_request(json.dumps({"op": "mark", "ids": ids[:MAX_IDS - 1] + [ids[0]], "read": True}))
    assert len(ok.ids) == MAX_IDS - 1  # duplicates collapse


def test_requests_round_trip() -> None:
    for request in (Request("status"), Request("subscribe"),
                    Request("mark", ids=(ID,), read=True, starred=None),
                    Request("poll", feeds=("Wire",), force=False), Request("poll", feeds=None),
                    Request("enable", feed="Wire", enabled=False),
                    Request("label", ids=(ID,), labels=("talks", "statements")),
                    Request("label", ids=(ID,), labels=())):
        assert parse_request(json.dumps(request.to_json())) == request


def test_seconds_until_due(write_config) -> None:
    from feeds.model import FeedState, utc_iso

    config = load_config(write_config([("A", "http://127.0.0.1:9/a"), ("B", "http://127.0.0.1:9/b")]))
    a, b = (f.key for f in config.feeds)
    now = 1_800_000_000.0
    assert seconds_until_due(config, {}, now) == 0.0
    states = {a: FeedState(a, a, next_poll=utc_iso(now + 60)),
              b: FeedState(b, b, next_poll=utc_iso(now + 30), retry_after=utc_iso(now + 90))}
    assert seconds_until_due(config, states, now) == 60.0
    states[a].status = "gone"
    assert seconds_until_due(config, states, now) == 90.0
    # A gone feed is stored without a next poll: it is never due (the daemon would otherwise
    # run an empty cycle every couple of seconds).
    states[a].next_poll = None
    assert seconds_until_due(config, states, now) == 90.0
    states[b].status, states[b].next_poll = "gone", None
    assert seconds_until_due(config, states, now) is None


# --- the socket ------------------------------------------------------------------------------

def test_socket_path_lives_in_the_store_unless_too_long(tmp_path: Path) -> None:
    assert control_socket_path(tmp_path / "store") == tmp_path / "store" / "control.sock"
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "store"
    path = control_socket_path(deep)
    assert len(str(path)) < 108 and path.parent.name == f"diplowatch-{os.getuid()}"
    assert control_socket_path(deep) == path  # both sides derive the same place


async def _echo(request: Request) -> dict:
    return {"op": request.op}


async def test_a_deep_store_gets_a_private_fallback_socket(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "store"
    deep.mkdir(parents=True)
    server = ControlServer(control_socket_path(deep), _echo)
    await server.start()
    try:
        folder = server.path.parent
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE(server.path.stat().st_mode) == 0o600
        answer = await asyncio.to_thread(ControlClient(deep).status)
        assert answer == {"ok": True, "op": "status"}
    finally:
        await server.close()
    assert not server.path.exists()


def test_no_daemon_is_a_clear_error(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    with pytest.raises(DaemonUnavailable, match="no diplowatch daemon is running"):
        ControlClient(store).status()
    stale = socket.socket(socket.AF_UNIX)  # a socket file left by a killed daemon
    stale.bind(str(store / "control.sock"))
    stale.close()
    with pytest.raises(DaemonUnavailable, match="no diplowatch daemon is running"):
        ControlClient(store).mark([ID], read=True)


def test_a_hung_daemon_times_out(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    hung = socket.socket(socket.AF_UNIX)
    hung.bind(str(store / "control.sock"))
    hung.listen(1)  # accepts, never answers
    try:
        with pytest.raises(DaemonUnavailable, match="did not answer within 0.2 s"):
            ControlClient(store, timeout=0.2).status()
    finally:
        hung.close()


# --- a daemon in this process ----------------------------------------------------------------

@pytest.fixture
async def daemon(tmp_path: Path, service_config: Path, parse_pool):
    config = load_config(service_config)
    store = Store.open(tmp_path / "store")
    service = Daemon(config, store, load_config=lambda: load_config(service_config),
                     make_poller=lambda cfg: Poller(cfg, store, parse_pool=parse_pool),
                     flush_every=0.1)
    task = asyncio.create_task(service.run())
    await until_async(lambda: service.cycles >= 1 and not service.status()["polling"], "the first cycle")
    yield service
    service.stop()
    await task
    store.close()


async def until_async(check, what: str, timeout: float = 20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def call(fn, *args, **kwargs):
    """A blocking client call from a thread, so the daemon's loop (this one) can answer."""
    return asyncio.to_thread(fn, *args, **kwargs)


async def test_status_and_a_private_socket(daemon: Daemon, tmp_path: Path) -> None:
    client = ControlClient(tmp_path / "store")
    status = await call(client.status)
    assert status["pid"] == os.getpid() and status["cycles"] == 1
    assert status["last_cycle"]["new"] == 1 and status["last_cycle"]["failed"] == 0
    assert status["store"] == str((tmp_path / "store").absolute())
    assert stat.S_IMODE(os.stat(daemon.socket_path).st_mode) == 0o600
    with pytest.raises(StoreLockedError):  # the daemon is the one writer
        Store.open(tmp_path / "store")


async def test_a_mark_reaches_the_store_and_a_viewer(daemon: Daemon, tmp_path: Path) -> None:
    viewer = Store.open(tmp_path / "store", readonly=True)
    backend = await call(DaemonBackend.connect, viewer)
    assert backend is not None and backend.pid == os.getpid()
    changes = threading.Event()
    backend.start(on_change=changes.set)
    try:
        seed = viewer.recent()[0]
        assert seed.title == SEED_TITLE and not viewer.flags(seed.id).read
        assert await call(backend.mark, [seed.id], read=True, starred=True) == 1
        assert daemon.store.flags(seed.id).starred  # the writer has it, saved
        assert await call(changes.wait, 10)
        assert viewer.flags(seed.id).read and viewer.flags(seed.id).starred
        assert Store.open(tmp_path / "store", readonly=True).flags(seed.id).read  # on disk
    finally:
        backend.close()
        viewer.close()


async def test_unknown_items_and_feeds_are_refused(daemon: Daemon, tmp_path: Path) -> None:
    client = ControlClient(tmp_path / "store")
    seed = daemon.store.recent()[0]
    with pytest.raises(ControlError, match="no such item in the store: 0123456789abcdef"):
        await call(client.mark, [seed.id, ID], read=True)
    assert not daemon.store.flags(seed.id).read  # all or nothing
    with pytest.raises(ControlError, match="16 lowercase hex"):
        await call(client.mark, ["../../etc"], read=True)
    with pytest.raises(ControlError, match="no feed named 'Nope'"):
        await call(client.poll_now, ["Nope"])
    with pytest.raises(ControlError, match="no feed named 'Nope'"):
        await call(client.set_enabled, "Nope", True)
    assert daemon.cycles == 1  # nothing was queued


async def test_labels_set_by_hand_reach_the_store_and_a_viewer(daemon: Daemon, tmp_path: Path,
                                                               monkeypatch) -> None:
    viewer = Store.open(tmp_path / "store", readonly=True)
    backend = await call(DaemonBackend.connect, viewer)
    assert backend is not None
    changes = threading.Event()
    backend.start(on_change=changes.set)
    try:
        seed = viewer.recent()[0]
        assert seed.labels == ("talks",)
        labels, at = await call(backend.set_labels, seed.id, ["statements", "sanctions"])
        assert labels == ("sanctions", "statements") and at
        assert daemon.store.get(seed.id).labels == labels  # the writer has it, saved
        assert await call(changes.wait, 10)
        # The items and state.json are two files: a reload that falls between their saves
        # sees the new labels first and the correction at the next "changed" event.
        deadline = time.monotonic() + 10
        while viewer.correction(seed.id) is None and time.monotonic() < deadline:
            changes.clear()
            await call(changes.wait, 1)
        assert viewer.get(seed.id).labels == labels and viewer.correction(seed.id).at == at
        with pytest.raises(ControlError, match="no such item in the store: 0123456789abcdef"):
            await call(backend.set_labels, ID, ["talks"])
        with pytest.raises(ControlError, match="labels must be a list"):
            await call(backend.set_labels, seed.id, ["sport"])
        monkeypatch.setenv("DIPLOWATCH_TAB", "readonly")  # a browser tab of `serve`
        with pytest.raises(ControlError, match="read-only browser tab: label is not allowed"):
            await call(ControlClient(tmp_path / "store").set_labels, seed.id, [])
        assert daemon.store.get(seed.id).labels == labels
    finally:
        backend.close()
        viewer.close()


def _raw(path: Path, payload: bytes) -> list[dict]:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return [json.loads(line) for line in data.splitlines()]


async def test_raw_protocol_errors_do_not_hurt_the_daemon(daemon: Daemon) -> None:
    answers = await call(_raw, daemon.socket_path,
                         b'{"op": "status"}\nnonsense\n{"op": "poll", "feeds": [1]}\n')
    assert answers[0]["ok"] and answers[0]["generation"] == daemon.store.generation
    assert answers[1] == {"ok": False, "error": "not a JSON request"}
    assert answers[2] == {"ok": False, "error": "poll: a feed must be a non-empty string of at "
                                                "most 2000 characters"}
    huge = b'{"op": "mark", "ids": ["' + b"a" * (MAX_LINE + 10) + b'"]}\n'
    answers = await call(_raw, daemon.socket_path, huge)
    assert answers == [{"ok": False, "error": f"request too large (more than {MAX_LINE} bytes)"}]
    assert (await call(ControlClient(daemon.store.path).status))["ok"]


async def test_poll_now_brings_new_items_to_a_viewer(daemon: Daemon, wire: Wire,
                                                     tmp_path: Path) -> None:
    viewer = Store.open(tmp_path / "store", readonly=True)
    backend = await call(DaemonBackend.connect, viewer)
    events: list[dict] = []
    changed = threading.Event()
    backend.start(on_change=changed.set, on_event=events.append)
    try:
        # The backend subscribes on its own thread: a cycle asked for before that would
        # start unseen (a race that a fast cycle made visible).
        await until_async(lambda: daemon.server.subscribers >= 1, "the viewer to subscribe")
        wire.add("Envoys hold peace talks in Doha")
        await call(backend.poll_now, ["Wire"])
        await until_async(lambda: any(e["event"] == "poll-finished" for e in events), "a cycle")
        await call(changed.wait, 10)
        await until_async(lambda: "Envoys hold peace talks in Doha" in
                          {i.title for i in viewer.recent()}, "the new item in the viewer")
        kinds = [e["event"] for e in events]
        assert kinds.index("poll-started") < kinds.index("changed") < kinds.index("poll-finished")
        finished = next(e for e in events if e["event"] == "poll-finished")
        assert finished["new"] == 1 and finished["failed"] == 0 and finished["feeds"] == 1
    finally:
        backend.close()
        viewer.close()


async def test_requests_during_a_cycle_queue_one_more(daemon: Daemon, wire: Wire,
                                                      feed_server) -> None:
    client = ControlClient(daemon.store.path)
    gate = threading.Event()  # the feed answers when the test says so: the cycle runs until then

    def held(request) -> Response:
        gate.wait(30)
        return Response(body=b"<rss version='2.0'><channel/></rss>")

    feed_server.route(wire.path, held)
    try:
        await call(client.poll_now, ["Wire"])
        await until_async(lambda: daemon.status()["polling"], "the cycle to start")
        first = await call(client.call, Request("poll", feeds=("Wire",)))
        second = await call(client.call, Request("poll", feeds=None, force=False))
        assert first["after_running"] and second["after_running"]
        assert daemon.cycles == 1
    finally:
        gate.set()
    await until_async(lambda: daemon.cycles == 3 and not daemon.status()["polling"], "the queued cycle")
    await asyncio.sleep(0.2)
    assert daemon.cycles == 3 and not daemon.status()["queued"]  # two requests, one merged cycle


async def test_enable_edits_the_config_and_retries_the_feed(daemon: Daemon, wire: Wire,
                                                            service_config: Path) -> None:
    client = ControlClient(daemon.store.path)
    answer = await call(client.set_enabled, "Wire", False)
    assert answer["config"] == str(service_config) and not answer["created"]
    assert "enabled = false" in service_config.read_text()
    assert not daemon.config.feed("Wire").enabled and not daemon.poller.config.feed("Wire").enabled
    with pytest.raises(ControlError, match="'Wire' is disabled"):
        await call(client.poll_now, ["Wire"])
    key = daemon.config.feed("Wire").key
    before = daemon.cycles
    await call(client.set_enabled, "Wire", True)  # resets the state and polls it at once
    assert "enabled = false" not in service_config.read_text()
    await until_async(lambda: daemon.cycles > before and not daemon.status()["polling"], "the retry")
    state = daemon.store.feed_state(key)
    assert state.status != FeedStatus.NEW and state.last_attempt is not None


async def test_stop_says_bye_and_removes_the_socket(tmp_path: Path, service_config: Path,
                                                    parse_pool) -> None:
    store = Store.open(tmp_path / "store")
    service = Daemon(load_config(service_config), store,
                     make_poller=lambda cfg: Poller(cfg, store, parse_pool=parse_pool))
    task = asyncio.create_task(service.run())
    await until_async(lambda: service.cycles >= 1, "the first cycle")
    subscription = await call(ControlClient(store.path).subscribe)
    events: list[dict] = []
    reader = asyncio.ensure_future(call(lambda: events.extend(subscription)))
    await until_async(lambda: service.server.subscribers == 1, "the subscriber")
    service.stop()
    await task
    await reader
    assert events[-1] == {"event": "bye"}
    assert not service.socket_path.exists()
    store.close()


def test_service_modules_import_no_ui() -> None:
    """The control channel, the daemon and the viewer seam run without Textual or Rich."""
    import subprocess
    import sys

    from tests.service.conftest import REPO

    code = ("import sys, feeds.service.control, feeds.service.daemon, feeds.service.viewer; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'click')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr

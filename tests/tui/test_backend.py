"""Who owns the store (tui/dashboard/backend.py): the dashboard itself (polling, or offline),
another writer (read-only), or the daemon (a viewer): what each allows and how it says so."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from feeds.config.load import load_config
from feeds.model import FeedState
from storage.store import Store
from tests.tui.helpers import T0, make_item
from tui.dashboard.backend import (DaemonViewerBackend, FeedEditError, LocalBackend,
                                   ReadOnlyBackend, daemon_config)
from tui.dashboard.messages import DaemonConnection, DaemonEvent, StoreChanged

TALK = make_item("Envoys hold peace talks in Geneva", "Negotiations.", published=T0 - 600)


class Daemon:
    """What DaemonViewerBackend uses of feeds.service.viewer.DaemonBackend."""

    def __init__(self, *, connected: bool = True, fail: bool = False) -> None:
        self.connected, self.fail = connected, fail
        self.calls: list[tuple[Any, ...]] = []
        self.callbacks: dict[str, Any] = {}

    def mark(self, ids: list[str], *, read: bool | None, starred: bool | None) -> int:
        self.calls.append(("mark", ids, read, starred))
        return 1

    def poll_now(self, feeds: list[str] | None, *, force: bool) -> None:
        self.calls.append(("poll", feeds, force))

    def set_enabled(self, name: str, enabled: bool) -> Any:
        if self.fail:
            raise RuntimeError("the daemon is gone")
        self.calls.append(("enable", name, enabled))
        return self.edited, True

    def start(self, **callbacks: Any) -> None:
        self.callbacks = callbacks

    def close(self) -> None:
        self.calls.append(("close",))


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "store") as s:
        s.upsert_items([TALK])
        yield s


def test_a_writer_polls_marks_and_says_so(store) -> None:
    backend = LocalBackend(store, poller=object())
    assert (backend.mode, backend.writable, backend.can_write) == ("", True, True)
    assert not backend.asks_daemon and not backend.follows_writer
    assert backend.startup_status() == ("opening the store…", True, False)
    assert backend.idle_status("polled 2 feeds: 1 new", "5m") == (
        "polled 2 feeds: 1 new · next poll in 5m · r polls now", False)
    assert backend.mark(TALK.id, True, None) is True  # saved here: the store needs a flush
    assert store.flags(TALK.id).read and store.dirty
    backend.flush()
    assert not store.dirty
    with pytest.raises(LookupError):
        backend.mark("no-such-item", True, None)


def test_offline_reviews_the_store_without_polling(store) -> None:
    backend = LocalBackend(store)
    assert backend.mode == "offline" and backend.can_write and backend.poller is None
    offline = "offline: reviewing the store, no polling"
    assert backend.startup_status() == (offline, False, False)
    assert backend.idle_status("", None) == (offline, False)
    assert backend.poll_refusal() == "offline: started with --offline, polling is off"


def test_read_only_follows_the_writer_and_refuses_marks(store) -> None:
    backend = ReadOnlyBackend(store, "read-only: diplowatch (pid 7) is writing this store")
    assert (backend.mode, backend.writable, backend.can_write) == ("read-only", False, False)
    assert backend.follows_writer and backend.poller is None
    assert backend.startup_status() == (backend.reason, False, True)
    assert backend.idle_status("polled", None) == (backend.reason, True)
    assert backend.poll_refusal() == backend.reason
    assert ReadOnlyBackend(store).reason == "the store is open read-only: no polling, no marks"


def test_a_viewer_sends_its_writes_to_the_daemon_while_it_answers(store) -> None:
    daemon = Daemon()
    backend = DaemonViewerBackend(store, daemon, "viewer: the daemon polls")
    assert (backend.mode, backend.can_write, backend.asks_daemon) == ("viewer", True, True)
    assert not backend.writable and not backend.follows_writer  # the daemon's thread reloads
    assert backend.idle_status("the daemon polled 3 feeds: 0 new", None) == (
        "the daemon polled 3 feeds: 0 new · viewer: the daemon polls · r asks the daemon to poll",
        False)
    assert backend.mark(TALK.id, None, True) is False  # the daemon saved it
    backend.ask_poll(["Wire"], True)
    assert daemon.calls == [("mark", [TALK.id], None, True), ("poll", ["Wire"], True)]
    assert not store.flags(TALK.id).starred  # nothing written here

    posted: list[Any] = []
    backend.follow(posted.append)
    daemon.callbacks["on_change"]()
    daemon.callbacks["on_event"]({"event": "poll-started", "due": 2})
    daemon.callbacks["on_connection"](False)
    assert [type(m) for m in posted] == [StoreChanged, DaemonEvent, DaemonConnection]
    assert posted[1].event == {"event": "poll-started", "due": 2} and not posted[2].connected

    daemon.connected = False  # gone: read-only until it is back
    assert (backend.mode, backend.can_write, backend.asks_daemon) == ("read-only", False, False)
    assert backend.idle_status("", None) == ("viewer: the daemon polls", True)
    backend.close()
    assert daemon.calls[-1] == ("close",)


def test_enabling_a_feed_edits_the_config_and_resets_its_state(store, write_config) -> None:
    config = load_config(write_config([("Wire", "http://127.0.0.1:9/wire.xml")]))
    key = config.feed("Wire").key
    store.put_feed_state(FeedState(key=key, url=key, failures=4, status="error", error="HTTP 500", etag="e1"))
    store.flush()
    disabled, text = LocalBackend(store).edit_feed(config, "Wire", False)
    assert not disabled.feed("Wire").enabled and text == f"disabled Wire in {config.path}"
    enabled, text = LocalBackend(store).edit_feed(disabled, "Wire", True)
    assert enabled.feed("Wire").enabled and text == f"enabled Wire in {config.path}"
    state = store.feed_state(key)
    assert state.failures == 0 and state.etag == "e1"  # the failure forgotten, validators kept
    assert not store.dirty  # and saved
    with pytest.raises(FeedEditError, match="Could not edit the config"):
        LocalBackend(store).edit_feed(enabled, "No such feed", True)


def test_read_only_edits_the_config_but_not_the_store(store, write_config) -> None:
    config = load_config(write_config([("Wire", "http://127.0.0.1:9/wire.xml")]))
    key = config.feed("Wire").key
    store.put_feed_state(FeedState(key=key, url=key, failures=4))
    store.flush()
    edited, _ = ReadOnlyBackend(store).edit_feed(config, "Wire", True)
    assert edited.feed("Wire").enabled and store.feed_state(key).failures == 4


def test_a_viewer_edits_feeds_through_the_daemon(store, write_config) -> None:
    config = load_config(write_config([("Wire", "http://127.0.0.1:9/wire.xml")]))
    daemon = Daemon()
    daemon.edited = config
    edited, text = DaemonViewerBackend(store, daemon).edit_feed(config, "Wire", False)
    assert edited is config and daemon.calls == [("enable", "Wire", False)]
    assert text == f"disabled Wire in {config.path} (created from the bundled one)"
    with pytest.raises(FeedEditError, match="The daemon did not enable Wire: the daemon is gone"):
        DaemonViewerBackend(store, Daemon(fail=True)).edit_feed(config, "Wire", True)
    assert daemon_config(None, config)[0].path == config.path
    bad = config.path.with_name("bad.toml")
    bad.write_text("[polling]\ninterval = 'soon'\n")
    with pytest.raises(FeedEditError, match="The daemon's config is invalid"):
        daemon_config(str(bad), config)


def test_mark_many_goes_to_the_daemon_in_pages_and_a_read_only_tab_refuses(store) -> None:
    from feeds.service.control import MAX_IDS
    from tui.dashboard.backend import ReadOnlyTab

    assert LocalBackend(store).mark_many([TALK.id], True, None) is True  # flushed after
    assert store.flags(TALK.id).read
    daemon = Daemon()
    ids = [f"{n:016x}" for n in range(MAX_IDS + 3)]
    assert DaemonViewerBackend(store, daemon).mark_many(ids, True, None) is False
    assert [(len(c[1]), c[2]) for c in daemon.calls] == [(MAX_IDS, True), (3, True)]
    with pytest.raises(PermissionError):
        ReadOnlyTab(DaemonViewerBackend(store, daemon)).mark_many(ids, True, None)

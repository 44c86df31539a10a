"""Dashboard fixtures: a frozen clock and time zone, a store in tmp_path, feeds on the
loopback server, the session's parse pool (started before any app replaces sys.stderr)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterable

import pytest

from feeds.config.load import load_config
from feeds.model import FeedState, Item
from feeds.poll.poller import Poller
from storage.store import Store
from tests.feedserver import FeedServer
from tests.helpers import Clock
from tests.tui.helpers import T0, seed_store
from tui.dashboard.app import DiplowatchApp
from tui.dashboard.backend import LocalBackend, ReadOnlyTab


@pytest.fixture(autouse=True)
def utc_zone(monkeypatch: pytest.MonkeyPatch):
    """Local time is UTC, so times on screen (and in snapshots) do not depend on the host."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def warm_pool(tagging_pool):
    # Textual replaces sys.stderr (fileno -1) while an app runs, and multiprocessing cannot
    # start its helpers then: start the pool's processes first.
    tagging_pool.warm_up()
    return tagging_pool


@pytest.fixture
def make_app(tmp_path: Path, write_config, feed_server: FeedServer, clock: Clock, warm_pool
             ) -> Iterable[Callable[..., DiplowatchApp]]:
    """``make_app(feeds=[(name, "/path")], items=[...], states=[...], offline=False, ...)``"""
    stores: list[Store] = []

    def make(feeds: list[tuple[str, str]] = (), *, items: list[Item] = (),
             states: list[FeedState] = (), offline: bool = False, auto_poll: bool = False,
             extra: str = "", store_dir: str = "store", browser_tab: str | None = None,
             **kwargs) -> DiplowatchApp:
        config = load_config(write_config(
            [(n, feed_server.url(p) if p.startswith("/") else p) for n, p in feeds], extra=extra))
        with Store.open(tmp_path / store_dir, clock=clock) as seeding:
            seed_store(seeding, config, items, states)
        # Reopened as the app would find it: weeks older than the recent window on disk only,
        # and (as the dashboard opens it) no week in memory until after the first frame.
        store = Store.open(tmp_path / store_dir, clock=clock, defer_older=True, lean=True)
        stores.append(store)
        poller = None if offline else Poller(config, store, clock=clock, parse_pool=warm_pool)
        backend = LocalBackend(store, poller)
        if browser_tab == "readonly":  # as tui.cli.launch builds a read-only browser tab
            backend = ReadOnlyTab(backend)
        return DiplowatchApp(config, backend, clock=clock, auto_poll=auto_poll,
                             browser_tab=browser_tab, **kwargs)

    yield make
    for store in stores:
        store.close()

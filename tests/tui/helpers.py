"""Helpers for the dashboard tests: items classified by the real rules, a text capture of
the screen, and waiting until the app has nothing left in flight."""
from __future__ import annotations

import io
from dataclasses import replace
from functools import lru_cache
from typing import Iterable

from rich.console import Console
from textual.worker import WorkerCancelled

from feeds.config.load import Config
from feeds.model import FeedState, Item, parse_utc_iso, utc_iso
from feeds.parse.document import item_id
from feeds.classify.reclassify import ACTORS_FINGERPRINT_KEY, FINGERPRINT_KEY
from tests.helpers import bundled_config
from tui.dashboard.textual_adapter import composed_screen

T0 = 1_780_000_000.0  # 2026-05-28T20:26:40Z, the frozen "now" of every dashboard test
FEED = "http://127.0.0.1:9/feed.xml"


@lru_cache(maxsize=1)
def _classifier():
    from feeds.classify.engine import Classifier

    return Classifier.from_spec(bundled_config().rules)


@lru_cache(maxsize=1)
def _tagger():
    from feeds.classify.actors import ActorTagger

    return ActorTagger(bundled_config().actors)


def make_item(title: str, summary: str = "", *, feed: str = FEED, source: str = "Wire",
              published: float = T0 - 3600, first_seen: float | None = None,
              link: str = "https://news.example/a", guid: str | None = None,
              cluster: str | None = None) -> Item:
    """An item as the poller would store it, classified by the bundled rules and tagged
    with the bundled gazetteer's actors."""
    guid = guid or f"{feed}#{title}"
    item = Item(id=item_id(feed, guid), feed=feed, source=source, guid=guid, title=title,
                summary=summary, link=link, published=utc_iso(published),
                first_seen=utc_iso(first_seen if first_seen is not None else published + 60))
    item = item.with_classification(_classifier().classify(title, summary))
    return replace(item, actors=_tagger().tag(title, summary), cluster=cluster)


def cluster_items(items: list[Item]) -> list[Item]:
    """Items with their story clusters, as the poller's clusterer would have assigned them
    (in the order they were first seen)."""
    from feeds.analysis.clusters import Clusterer

    config = bundled_config()
    clusterer = Clusterer(config.clusters, config.actors)
    now = max(parse_utc_iso(it.first_seen) for it in items)
    out = {}
    for item in sorted(items, key=lambda it: (it.first_seen, it.published, it.id)):
        [assigned] = clusterer.assign([item], now)
        clusterer.add([assigned], now)
        out[item.id] = assigned
    return [out[it.id] for it in items]


def seed_store(store, config: Config, items: Iterable[Item] = (),
               states: Iterable[FeedState] = ()) -> None:
    """Fill ``store`` as a poller on ``config`` would have left it: its items and feed states,
    classified and tagged under the config's rules and actors (so nothing is reclassified
    when the app opens it)."""
    store.set_meta(FINGERPRINT_KEY, config.rules.fingerprint)
    store.set_meta(ACTORS_FINGERPRINT_KEY, config.actors.fingerprint)
    items = list(items)
    if items:
        store.upsert_items(items)
    for state in states:
        store.put_feed_state(state)


def screen_text(app) -> str:
    """The current screen as plain text (what a user would read)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(composed_screen(app))
    return console.export_text(styles=False)


async def settle(pilot, rounds: int = 200) -> None:
    """Wait until no worker runs, no poll is in flight and no insert is pending."""
    app = pilot.app
    quiet = 0
    for _ in range(rounds):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:
            pass  # an exclusive worker superseded by a newer one (the sparklines after a poll)
        await pilot.pause(0.02)
        busy = app.poll.polling or app.dashboard.inserts_pending or app.dashboard.window_loading or any(
            w.is_running for w in app.workers) or app.unread.pending
        quiet = 0 if busy else quiet + 1
        if quiet >= 3:
            # and the screen has laid out and painted what the handlers changed
            await pilot.wait_for_scheduled_animations()
            await pilot.pause()
            return
    raise AssertionError("the app did not settle")


def rows(app, pane: str) -> list[str]:
    """Titles in a pane, top to bottom."""
    table = app.dashboard.pane(pane).table
    return [table.items[table.coordinate_to_cell_key((i, 0)).row_key.value].title
            for i in range(table.row_count)]


async def run_command(pilot, query: str) -> None:
    """Run a command from the command palette: ctrl+p, type ``query``, enter the top match,
    and settle."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*query)
    await pilot.pause(0.3)
    await pilot.press("enter")
    await settle(pilot)


def record_toasts(app) -> list[tuple[str, str]]:
    """Every toast the app raises, as (title, message); the toasts are still shown."""
    seen: list[tuple[str, str]] = []
    notify = app.notify

    def spy(message, *, title="", **kwargs):
        seen.append((title, message))
        return notify(message, title=title, **kwargs)

    app.notify = spy
    return seen

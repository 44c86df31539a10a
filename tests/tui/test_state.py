"""The dashboard's plain state classes on their own (tui/dashboard/state, debounce.py): no
App running; timers, toasts and workers are recorded callbacks."""
from __future__ import annotations

from typing import Any

from textual.dom import DOMNode

from feeds.analysis.clusters import cluster_of
from storage.query import NO_FLAGS, Flags
from tests.tui.helpers import T0, cluster_items, make_item
from tui.dashboard.backend import LocalBackend, ReadOnlyBackend
from tui.dashboard.debounce import Debounce
from tui.dashboard.state.marks import Marks
from tui.dashboard.state.stories import Stories
from tui.dashboard.state.watch import WATCH_TOASTS, Watchlist


TALKS = ("Russia and Ukraine hold first direct peace talks in Istanbul since 2022",  # one story
         "Russian, Ukrainian delegations meet in Istanbul for first direct talks in three years",
         "Istanbul hosts first direct Russia-Ukraine peace talks since 2022")


class Timers:
    def __init__(self) -> None:
        self.pending: list[list[Any]] = []  # [delay, callback, stopped]

    def set_timer(self, delay: float, callback: Any) -> Any:
        entry = [delay, callback, False]
        self.pending.append(entry)

        class Timer:
            def stop(self) -> None:
                entry[2] = True

        return Timer()

    def fire(self) -> None:
        live = [e for e in self.pending if not e[2]]
        self.pending = []
        for _, callback, _ in live:
            callback()


def test_a_burst_of_pokes_calls_back_once() -> None:
    timers, calls = Timers(), []
    debounce = Debounce(timers.set_timer, 0.3, lambda: calls.append(1))
    for _ in range(5):
        debounce.poke()
    assert debounce.pending
    timers.fire()
    assert calls == [1] and not debounce.pending
    debounce.poke()
    debounce.cancel()
    timers.fire()
    assert calls == [1]


def test_marks_show_at_once_save_in_a_worker_and_undo_a_refusal() -> None:
    timers, saved, toasts = Timers(), [], []
    marks = Marks(DOMNode(), LocalBackend(store=None), save=lambda *a: saved.append(a),
                  flush=lambda: None, set_timer=timers.set_timer,
                  notify=lambda text, **_: toasts.append(text))
    item = make_item("Envoys hold talks", "Negotiations.")
    marks.toggle_read(item)
    assert marks.flags_of(item.id) == Flags(True, False)
    assert saved == [(item.id, True, None, NO_FLAGS)]
    marks.toggle_star(item)
    assert marks.flags_of(item.id) == Flags(True, True)
    marks.failed(item.id, Flags(True, False), "disk full")
    assert marks.flags_of(item.id) == Flags(True, False)
    assert toasts == ["Could not mark the item: disk full"]
    marks.reloaded([item], {})  # a query found it unflagged (unmarked elsewhere)
    assert marks.flags_of(item.id) == NO_FLAGS and item.id not in marks.flags

    refused = Marks(DOMNode(), ReadOnlyBackend(store=None, reason="read-only: pid 7"),
                    save=lambda *a: saved.append(a), flush=lambda: None,
                    set_timer=timers.set_timer, notify=lambda text, **_: toasts.append(text))
    refused.toggle_read(item)
    assert refused.flags_of(item.id) == NO_FLAGS and len(saved) == 2
    assert toasts[-1] == "Cannot mark items: read-only: pid 7"


def test_stories_keep_what_lands_while_the_directory_is_built() -> None:
    loads: list[tuple[Any, ...]] = []
    stories = Stories(DOMNode(), lambda *a: loads.append(a))
    first, second, third = cluster_items([
        make_item(title, published=T0 - 300 + 100 * n, feed=f"http://{n}/feed", guid=str(n))
        for n, title in enumerate(TALKS)])
    assert stories.sources(first) == 1  # not built yet
    assert stories.begin_build() and not stories.begin_build()  # one build at a time

    class Store:
        def recent(self) -> list[Any]:
            return [first]

        def get(self, item_id: str) -> Any:
            return {it.id: it for it in (first, second, third)}.get(item_id)

    directory = stories.build(Store())
    stories.learn([second])  # lands while it is built
    assert stories.built(directory)  # the second begin_build asked for another
    cid = cluster_of(first)
    assert cluster_of(second) == cid and stories.sources(first) == 2
    stories.learn([third])
    assert stories.sources(third) == 3
    assert stories.versions_for(third) == () and loads and loads[0][0] == cid
    _, ids, size = loads[0]
    versions = stories.read_versions(Store(), ids)
    assert [v.id for v in versions] == [third.id, second.id, first.id]  # newest first
    stories.versions_loaded(cid, versions, size)
    assert stories.versions_for(first) == versions and len(loads) == 1  # cached


def test_watch_alerts_toast_a_few_ring_once_and_sum_up_the_rest() -> None:
    from feeds.analysis.watch import WatchHit

    timers, toasts, bells = Timers(), [], []
    watch = Watchlist(DOMNode(), headers=_Signal(), notify=lambda text, **kw: toasts.append(
        (kw.get("title", ""), text)), set_timer=timers.set_timer, bell=lambda: bells.append(1),
        feed_name=lambda key: "Wire A")
    hits = [WatchHit(make_item(f"Ceasefire {n}", guid=f"w{n}"), ("ceasefire",)) for n in range(5)]
    watch.new_cycle()
    watch.alert(hits, bell=True)
    watch.alert(hits[:2], bell=True)  # seen again: no second alert
    timers.fire()  # the toasts a few frames apart
    assert [t for t, _ in toasts] == ["◉ Watch: ceasefire"] * WATCH_TOASTS
    assert toasts[0][1] == "Ceasefire 0\nWire A"
    assert bells == [1] and watch.unseen == 5 and len(watch.rows()) == 5
    watch.summarise_cycle()
    assert toasts[-1] == ("Watch", "and 2 more watch alerts (w shows them all)")
    watch.seen()
    assert watch.unseen == 0 and watch.hit(hits[0].item.id) is hits[0]


class _Signal:
    def publish(self, data: object) -> None:
        pass


def test_short_times_say_the_month_of_an_older_year() -> None:
    from datetime import datetime, timezone

    from tui.render import plural, short_time

    now = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc).timestamp()
    assert short_time("2025-11-03T10:00:00Z", now) == "Nov 2025"
    assert len(short_time("2025-11-03T10:00:00Z", now)) <= 8
    assert short_time("2026-03-02T10:00:00Z", now) == "Mar 02"
    assert plural(1, "source") == "1 source" and plural(2, "item") == "2 items"
    assert plural(1_574, "match", "matches") == "1,574 matches"

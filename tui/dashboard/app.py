"""The diplowatch dashboard: the App, its workers and the messages they post.

The outside world is injected (config, store, poller, clock). Every blocking call runs in a
thread worker with a named group; threads only post messages, and the handlers here change
the UI:

- ``startup``: re-classify the store if the rules changed (progress in the status line), then
  the first load of the panes.
- ``load`` (exclusive): the panes' queries (newest page per pane, through the filter; older
  weeks are read only when the filter needs them). ``more``: one pane's next page.
- ``poll``: one poll cycle, ``aio.run(poller.poll_cycle(on_feed=…))``, posting a message
  per feed as it lands. The next cycle is scheduled when this one ends, for when the next
  feed is due, so cycles never overlap; ``r`` during a cycle queues one more.
- ``marks`` and ``flush``: read/star changes (shown at once, saved in the worker, reverted if
  the store refuses) and the debounced flush that makes them durable.
- ``config``: enabling or disabling a feed in the user's config file. ``reload``: a read-only
  viewer picking up what the writer saved.

The analyst's side, each off the UI thread too:

- ``clusters``: the story directory (``feeds.analysis.clusters.ClusterDirectory``) built from the
  store's recent window after the first paint, then fed each feed's new items; it gives the
  "N sources" of a row and the ids of a story's versions. ``versions``: the selected item's
  story, every source's version, for the detail (cached per story until it grows).
  ``c`` toggles the panes between one row per item and one row per story.
- ``sparklines``: items per label per day (14 days, from the store's manifest) for the pane
  titles, after the first paint and after each poll; the trends screen (``T``) computes its
  own, with the top actors, in ``trends``.
- Watch: each feed's ``watch_hits`` (new items only, so an item alerts once) become a toast
  each (a few per cycle, then one summary), one bell per cycle when ``[watch] bell``, and
  rows of the watch screen (``w``); ``watch`` scans the recent window for earlier matches.
- ``briefing``: ``b`` writes the items of the current view (every pane, the current filter,
  bounded) as a Markdown or HTML briefing.
"""
from __future__ import annotations

import asyncio
import gc
import os
import time
from collections import Counter
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import Worker, WorkerState, get_current_worker

from feeds.poll import aio
from feeds.analysis.clusters import ClusterDirectory, cluster_of
from feeds.config.load import Config
from feeds.model import LABELS, FeedState, Item, utc_iso
from feeds.poll.schedule import seconds_until_due
from feeds.parse.text import safe_link, safe_text
from feeds.config.units import format_duration
from storage.query import NO_FLAGS, SORT_KEY, Flags
from tui.render import OTHER, PANE_TITLES, PANES, local_time, store_label
from tui.dashboard.screens.actor import ActorChoice, ActorScreen
from tui.dashboard.screens.briefing import BriefingRequest, BriefingScreen
from tui.dashboard.screens.dashboard import DashboardScreen
from tui.dashboard.screens.feeds import FeedHealthScreen
from tui.dashboard.screens.help import HelpScreen
from tui.dashboard.screens.item import ItemScreen
from tui.dashboard.screens.scope import Scope, ScopeScreen
from tui.dashboard.screens.trends import TrendsScreen
from tui.dashboard.screens.watch import WatchScreen
from tui.dashboard.widgets.filter_bar import ViewFilter
from tui.dashboard.widgets.header import DashboardHeader
from tui.dashboard.widgets.item_detail import DetailView
from tui.dashboard.widgets.label_pane import SPARK_DAYS

if TYPE_CHECKING:
    from feeds.analysis.watch import WatchHit

PAGE_SIZE = 250  # rows per pane before "load more"
INSERT_DELAY = 0.5  # seconds: items landing in a burst are inserted together
BURST_DELAY = 2.0  # during a poll cycle: batches land every 2 s, and at its end
FULL_COLLECTION_EVERY = 100  # middle-generation collections between two full ones (default 10)
STATUS_EVERY = 0.25  # seconds between redraws of the poll progress
FLUSH_DELAY = 2.0  # seconds after the last mark before the store is flushed
MIN_POLL_DELAY = 2.0
READONLY_RELOAD = 10.0  # seconds between a read-only viewer's checks for the writer's saves
WATCH_TOASTS = 3  # watch alerts toasted one by one per poll cycle; the rest in one summary
WATCH_TOAST_GAP = 0.2  # seconds between those toasts
WATCH_KEEP = 1000  # this session's watch alerts kept for the watch screen
WATCH_SCAN_MAX = 500  # earlier matches the watch screen looks for in the recent window
VERSIONS_CACHE = 256  # stories whose versions are kept for the detail
BRIEFING_LIMIT = 1000  # items of the current view a briefing covers (the newest)
BRIEFING_TITLE = "diplowatch briefing"


class _Abort(Exception):
    """Raised from a progress callback to stop a long store call when the app is closing."""


def panes_of(item: Item) -> tuple[str, ...]:
    """The panes an item appears in: each of its labels, or Other."""
    shown = tuple(label for label in item.labels if label in LABELS)
    return shown or (OTHER,)


def last_polled(states: Iterable[FeedState]) -> str | None:
    attempts = [s.last_attempt for s in states if s.last_attempt]
    return max(attempts) if attempts else None


class DiplowatchApp(App[int]):
    TITLE = "diplowatch"
    CSS_PATH = ["app.tcss", "panes.tcss", "screens.tcss"]
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("r", "refresh", "Refresh"),
        Binding("f", "feeds", "Feeds"),
        Binding("question_mark", "help", "Help"),
        Binding("w", "watch", "Watch"),
        Binding("T", "trends", "Trends"),
    ]

    # --- messages (posted from worker threads) -------------------------------------------

    class PanesLoaded(Message):
        def __init__(self, generation: int, results: dict[str, tuple[list[Item], bool]],
                     flags: dict[str, Flags], counts: dict[str, int], last_poll: str | None,
                     initial: bool) -> None:
            super().__init__()
            self.generation, self.results, self.flags = generation, results, flags
            self.counts, self.last_poll, self.initial = counts, last_poll, initial

    class DeferredLoaded(Message):
        def __init__(self, added: int, error: str | None) -> None:
            super().__init__()
            self.added, self.error = added, error

    class MoreLoaded(Message):
        def __init__(self, generation: int, pane: str, items: list[Item], has_more: bool,
                     flags: dict[str, Flags]) -> None:
            super().__init__()
            self.generation, self.pane, self.items = generation, pane, items
            self.has_more, self.flags = has_more, flags

    class Progress(Message):
        """Long store work (re-classification, archive search) in words for the status line."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Reclassified(Message):
        def __init__(self, changed: int | None, error: str | None = None) -> None:
            super().__init__()
            self.changed, self.error = changed, error

    class PollStarted(Message):
        def __init__(self, due: int, what: str) -> None:
            super().__init__()
            self.due, self.what = due, what

    class FeedPolled(Message):
        def __init__(self, outcome: Any, counts: dict[str, int]) -> None:
            super().__init__()
            self.outcome, self.counts = outcome, counts

    class PollFinished(Message):
        def __init__(self, report: Any, error: str | None, counts: dict[str, int] | None,
                     next_due: float | None) -> None:
            super().__init__()
            self.report, self.error, self.counts, self.next_due = report, error, counts, next_due

    class MarkFailed(Message):
        def __init__(self, item_id: str, previous: Flags, error: str) -> None:
            super().__init__()
            self.item_id, self.previous, self.error = item_id, previous, error

    class FeedEdited(Message):
        def __init__(self, config: Config | None, text: str, error: bool = False) -> None:
            super().__init__()
            self.config, self.text, self.error = config, text, error

    class StoreChanged(Message):
        """A read-only viewer saw the writer save: reload the panes."""

    class DaemonEvent(Message):
        """(viewers) What the daemon says: a poll started or finished, the config changed."""

        def __init__(self, event: dict[str, Any]) -> None:
            super().__init__()
            self.event = event

    class DaemonConnection(Message):
        """(viewers) The daemon went away, or is back."""

        def __init__(self, connected: bool) -> None:
            super().__init__()
            self.connected = connected

    class ClustersBuilt(Message):
        def __init__(self, directory: ClusterDirectory) -> None:
            super().__init__()
            self.directory = directory

    class VersionsLoaded(Message):
        def __init__(self, cluster: str, items: tuple[Item, ...], size: int) -> None:
            super().__init__()
            self.cluster, self.items, self.size = cluster, items, size

    class SparklinesLoaded(Message):
        def __init__(self, labels: dict[str, tuple[int, ...]], day: int) -> None:
            super().__init__()
            self.labels, self.day = labels, day

    class WatchScanned(Message):
        def __init__(self, hits: list["WatchHit"]) -> None:
            super().__init__()
            self.hits = hits

    class BriefingSaved(Message):
        def __init__(self, path: Path, stories: int, items: int, limited: bool,
                     error: str | None = None) -> None:
            super().__init__()
            self.path, self.stories, self.items = path, stories, items
            self.limited, self.error = limited, error

    # --- construction --------------------------------------------------------------------

    def __init__(self, config: Config, store: Any, *, poller: Any = None,
                 clock: Callable[[], float] = time.time, theme: str | None = None,
                 readonly_reason: str | None = None, offline: bool | None = None,
                 page_size: int = PAGE_SIZE, auto_poll: bool = True, backend: Any = None) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.poller = poller  # None: offline or read-only, no request is ever made
        # A viewer of the daemon (feeds.service.viewer.DaemonBackend): the store is read-only here, and
        # marks, "poll now" and feed edits are sent to the daemon while it answers.
        self.backend = backend
        self.clock = clock
        self.page_size = page_size
        self.auto_poll = auto_poll
        self.flush_delay = FLUSH_DELAY
        self.offline = poller is None if offline is None else offline
        self.readonly = bool(getattr(store, "readonly", False))
        self.readonly_reason = readonly_reason or (
            "the store is open read-only: no polling, no marks" if self.readonly else None)
        self._theme_name = theme
        self.view_filter = ViewFilter()
        self.flags: dict[str, Flags] = {}
        self.counts: dict[str, int] = {}
        self.last_poll: str | None = None
        self.loaded = False  # the first load of the panes has been shown
        # The older days of the recent window are being loaded after the first paint (the
        # store was opened with defer_older); stories, top-ups and the first poll wait.
        self.window_loading = False
        self._window_queried = False  # the panes were queried again with the whole window
        self.feeds_changed: Signal[object] = Signal(self, "feeds-changed")
        self._generation = 0  # bumped when the filter changes: stale loads are dropped
        self._pending_new: list[Item] = []
        self._insert_timer: Any = None
        self._inserting = False
        self._status_timer: Any = None
        self._status_text = ""
        self._flush_timer: Any = None
        self._poll_timer: Any = None
        self._next_poll_at: float | None = None
        self._polling = False
        self._poll_again: tuple[bool, list[str] | None, str] | None = None
        self._poll_handle: tuple[asyncio.AbstractEventLoop, asyncio.Task] | None = None
        self._poll_progress = (0, 0, 0)  # feeds done, feeds due, new items
        self._cycle_new: Counter[str] = Counter()
        self._cycle_last: Item | None = None
        self._last_summary = ""  # the last poll cycle in words, kept in the status line
        self._last_failed = False
        self._closing = False
        # Stories (clusters): the directory, the detail's versions, the panes' grouping.
        self.grouped = False  # one row per story in the panes (c)
        self.clusters: ClusterDirectory | None = None
        self._clusters_building = False
        self._clusters_again = False  # the store changed while it was built: build again
        self._cluster_backlog: list[Item] = []  # new items landing while it is built
        self._touched_clusters: set[str] = set()  # stories whose badges need a redraw
        self._versions: dict[str, tuple[Item, ...]] = {}
        self._versions_loading: set[str] = set()
        self._spark_day: int | None = None
        # Watch alerts: this session's (item id → hit, in arrival order) and earlier matches.
        self.watch_alerts: dict[str, WatchHit] = {}
        self.watch_earlier: dict[str, WatchHit] | None = None
        self.watch_scanning = False
        self.watch_unseen = 0
        self.watch_changed: Signal[object] = Signal(self, "watch-changed")
        self._cycle_bell = False
        self._cycle_watch_toasts = 0
        self._cycle_watch_more = 0
        self._notify_errors_seen: set[str] = set()
        self.dashboard = DashboardScreen(page_size=page_size)

    def get_default_screen(self) -> Screen:
        return self.dashboard

    def on_mount(self) -> None:
        if self._theme_name:
            self.theme = self._theme_name
        self.theme_changed_signal.subscribe(self, self._restyle)

    def dashboard_mounted(self) -> None:
        """(called by the dashboard once its widgets exist) Start loading, then polling."""
        header = self.dashboard.header
        header.now = self.clock()
        if self.is_viewer:
            header.mode = "viewer"
            self._set_status(self.readonly_reason or "viewer")
        elif self.readonly:
            header.mode = "read-only"
            self._set_status(self.readonly_reason or "", problem=True)
        elif self.offline:
            header.mode = "offline"
            self._set_status("offline: reviewing the store, no polling")
        else:
            self._set_status("opening the store…", busy=True)
        self.set_interval(30, self._tick)
        if self.readonly and self.backend is None:  # a viewer's backend reloads on each save
            self.set_interval(READONLY_RELOAD, self._reload_store)
        self._startup()

    def on_unmount(self) -> None:
        gc.unfreeze()  # what the app held may now be collected (tests run many apps)
        # A poll cycle in its thread would hold the exit until it ends: cancel it.
        self._closing = True
        handle = self._poll_handle
        if handle is not None:
            loop, task = handle
            loop.call_soon_threadsafe(task.cancel)

    # --- small helpers -------------------------------------------------------------------

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        # Toasts carry feed text (titles, names, errors), which is never markup.
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    @property
    def polling(self) -> bool:
        """A poll cycle is in flight (or queued behind the one in flight)."""
        return self._polling or self._poll_again is not None

    @property
    def inserts_pending(self) -> bool:
        return bool(self._pending_new) or self._insert_timer is not None or self._inserting

    @property
    def is_viewer(self) -> bool:
        """Following the daemon, which takes this dashboard's marks, polls and feed edits."""
        return self.backend is not None and bool(self.backend.connected)

    @property
    def can_write(self) -> bool:
        """Marks and feed edits are possible: a writer, or a viewer whose daemon answers."""
        return not self.readonly or self.is_viewer

    def flags_of(self, item_id: str) -> Flags:
        return self.flags.get(item_id, NO_FLAGS)

    def feed_name(self, key: str) -> str | None:
        source = self.config.feed(key)
        return source.name if source else None

    def detail_view(self, item: Item) -> DetailView:
        hit = self.watch_alerts.get(item.id) or (self.watch_earlier or {}).get(item.id)
        versions = tuple((self.feed_name(v.feed) or v.source, v) for v in self._versions_for(item))
        return DetailView(item, self.flags_of(item.id), self.clock(), self.feed_name(item.feed),
                          versions=versions, watch_terms=hit.terms if hit else ())

    def story_sources(self, item: Item) -> int:
        """How many feeds carry the item's story (1 until the directory is built)."""
        return self.clusters.sources(cluster_of(item)) if self.clusters is not None else 1

    def sync_header(self, header: DashboardHeader) -> None:
        """(a screen being shown) Its header as the dashboard's, the mode included."""
        self._fill_header(header, self.clock())
        header.mode = self.dashboard.header.mode

    def _headers(self) -> list[DashboardHeader]:
        return [h for screen in self.screen_stack for h in screen.query(DashboardHeader)]

    def _update_headers(self) -> None:
        """Every shown header's counts, last poll, time and alerts (not the mode: the
        screens copy the dashboard's through sync_header)."""
        now = self.clock()
        for header in self._headers():
            self._fill_header(header, now)

    def _fill_header(self, header: DashboardHeader, now: float) -> None:
        header.counts = dict(self.counts)
        header.last_poll = self.last_poll
        header.now = now
        header.watch = self.watch_unseen

    def _tick(self) -> None:
        self._update_headers()
        if not self._polling and self.poller is not None and self.loaded:
            self._show_idle()
        if self.loaded and self._spark_day is not None and int(self.clock() // 86400) != self._spark_day:
            self._load_sparklines()  # a new day: the sparklines move on
        self._check_notifier()

    def _set_status(self, text: str, *, busy: bool = False, problem: bool = False) -> None:
        status = self.dashboard.status
        status.activity, status.busy, status.problem = text, busy, problem

    def _show_idle(self) -> None:
        problem = (self.readonly and not self.is_viewer) or self._last_failed
        self._set_status(self._idle_status(), problem=problem)

    def _idle_status(self) -> str:
        if self.is_viewer:
            return " · ".join(filter(None, [self._last_summary, self.readonly_reason,
                                            "r asks the daemon to poll"]))
        if self.readonly:
            return self.readonly_reason or "read-only"
        if self.poller is None:
            return "offline: reviewing the store, no polling"
        parts = [self._last_summary] if self._last_summary else []
        if self._poll_timer is not None and self._next_poll_at is not None:
            wait = max(self._next_poll_at - time.monotonic(), 0)
            parts.append(f"next poll in {format_duration(wait)}")
        parts.append("r polls now")
        return " · ".join(parts)

    def _progress_callback(self, what: str) -> Callable[[int, int], None]:
        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            if self._closing or worker.is_cancelled:
                raise _Abort()
            if total:
                self.post_message(self.Progress(f"{what}: {done}/{total} weeks"))

        return progress

    def _restyle(self, _theme: object) -> None:
        for pane in self.dashboard.panes():
            pane.table.restyle()
            pane.update_title()
        self.watch_changed.publish(None)  # the watch table's colours

    # --- startup and loading -------------------------------------------------------------

    @work(thread=True, group="startup", exit_on_error=False, name="startup")
    def _startup(self) -> None:
        from feeds.classify.reclassify import reclassify_if_needed

        changed, error = None, None
        if not self.readonly and self.config.rules is not None:
            try:
                changed = reclassify_if_needed(
                    self.store, self.config.rules,
                    self._progress_callback("re-classifying stored items"),
                    actors=self.config.actors)
            except _Abort:
                raise
            except Exception as e:  # noqa: BLE001 - the stored labels stay; say so, go on
                error = f"{e.__class__.__name__}: {e}"
        self.post_message(self.Reclassified(changed, error))
        self._query_panes(self._generation, self.view_filter,
                          {p: self.page_size for p in PANES}, initial=True)

    @on(Reclassified)
    def _reclassified(self, message: Reclassified) -> None:
        if message.error:
            text = (f"The rules changed but re-classifying the stored items failed: "
                    f"{safe_text(message.error, 300)}. Items keep their old labels.")
            self.notify(text, title="Rules", severity="error", timeout=10)
        elif message.changed is not None:
            text = f"The rules changed: re-classified {message.changed:,} stored items."
            self.notify(text, title="Rules", timeout=6)

    def _query_panes(self, generation: int, view: ViewFilter, limits: dict[str, int],
                     initial: bool) -> None:
        """(worker thread) Query each pane's page and post them together."""
        worker = get_current_worker()
        progress = self._progress_callback("searching the archive") if view.active else None
        results: dict[str, tuple[list[Item], bool]] = {}
        counts = self.store.counts_by_label()
        for pane in PANES:
            if worker.is_cancelled:
                return
            query = view.item_filter(pane, limit=limits[pane])
            if initial and not view.active:
                # The first paint shows the recent window (in memory); older weeks stay on
                # disk until "load more" or a filter asks for them.
                query = replace(query, archive=False)
            items = self.store.query(query, progress=progress)
            total = counts.get(store_label(pane), 0)
            more = len(items) >= limits[pane] or (not view.active and total > len(items))
            results[pane] = (items, more)
        flags = self._flags_for(item for items, _ in results.values() for item in items)
        last = last_polled(self.store.feed_states().values())
        if not worker.is_cancelled:
            self.post_message(self.PanesLoaded(generation, results, flags, counts, last, initial))

    def _flags_for(self, items: Iterable[Item]) -> dict[str, Flags]:
        out = {}
        for item in items:
            flags = self.store.flags(item.id)
            if flags != NO_FLAGS:
                out[item.id] = flags
        return out

    def reload_panes(self) -> None:
        """Query the panes again (after a filter change), each with its current page size."""
        self._generation += 1
        limits = {pane.pane: pane.limit for pane in self.dashboard.panes()}  # a page at least
        if self.view_filter.active:
            self._set_status("searching…", busy=True)
        self._load_panes(self._generation, self.view_filter, limits)

    @work(thread=True, group="load", exclusive=True, exit_on_error=False, name="load panes")
    def _load_panes(self, generation: int, view: ViewFilter, limits: dict[str, int]) -> None:
        self._query_panes(generation, view, limits, initial=False)

    @on(PanesLoaded)
    async def _panes_loaded(self, message: PanesLoaded) -> None:
        if message.generation != self._generation:
            return
        # Flags are sent only for flagged items: forget those of every item reloaded first,
        # or an unmark made elsewhere (another viewer of the daemon) would stay on screen.
        for items, _ in message.results.values():
            for item in items:
                self.flags.pop(item.id, None)
        self.flags.update(message.flags)
        self.counts = message.counts
        if message.last_poll and (self.last_poll is None or message.last_poll > self.last_poll):
            self.last_poll = message.last_poll
        filtered = self.view_filter.active
        for pane in self.dashboard.panes():
            items, has_more = message.results[pane.pane]
            await pane.table.replace_items(items)
            pane.has_more = has_more
            pane.filtered = filtered
            pane.total = self._total(pane.pane)
            pane.update_title()
        self.dashboard.show_selected()
        self._update_headers()
        self.dashboard.status.scope = self.view_filter.describe()
        if message.initial:
            self.loaded = True
            # Everything alive now (Textual, the modules, the store's recent window) lives as
            # long as the app: out of the collector's reach, a full collection during a poll
            # walks only what the poll allocates, and pauses the UI for a fraction as long.
            gc.freeze()
            # Frozen objects do not count as long-lived, so full collections would follow
            # every tenth middle one; during a cold poll that meant two passes of 20-45 ms
            # inside the worst heartbeat gaps. One full pass per hundred instead.
            young, middle, _old = gc.get_threshold()
            gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
            if getattr(self.store, "deferred", False):
                # The first frame showed the current week; the rest of the recent window
                # comes next, and the panes are queried again with it.
                self.window_loading = True
                self.call_after_refresh(self._load_deferred)
            else:
                self._window_loaded()
        elif self.window_loading and self._window_queried:
            self.window_loading = False  # the first answer with the whole window (or a filter)
            self._window_loaded()
        elif not self._polling:
            self._show_idle()

    @work(thread=True, group="deferred", exit_on_error=False, name="recent weeks")
    def _load_deferred(self) -> None:
        try:
            added, error = self.store.load_deferred(), None
        except Exception as e:  # noqa: BLE001 - a corrupt older week: say so, keep the current one
            added, error = 0, f"{e.__class__.__name__}: {e}"
        self.post_message(self.DeferredLoaded(added, error))

    @on(DeferredLoaded)
    def _deferred_loaded(self, message: DeferredLoaded) -> None:
        if message.error:
            self.notify(f"Could not load the older days of the recent window: "
                        f"{safe_text(message.error, 300)}", title="Store",
                        severity="error", timeout=10)
        # Query the panes again, now with the whole recent window. The next answer (this
        # one, or a filter's typed meanwhile) ends the start-up: _window_loaded.
        self._window_queried = True
        self.reload_panes()

    def _window_loaded(self) -> None:
        """The recent window is on screen: stories and sparklines, top-ups, the first poll."""
        self.call_after_refresh(self._load_extras)
        if not self.view_filter.active:
            # Panes the recent window did not fill are topped up from older weeks.
            for pane in self.dashboard.panes():
                if pane.has_more and len(pane.table.items) < self.page_size:
                    self.load_more(pane.pane, self.page_size - len(pane.table.items))
        if self.poller is not None and self.auto_poll:
            self.request_poll(what="startup")
        elif not self.readonly or self.is_viewer:
            self._show_idle()

    def _total(self, pane: str) -> int | None:
        return self.counts.get(store_label(pane))

    def load_more(self, pane_name: str, count: int | None = None) -> bool:
        """Page the next older items (``count``, default a page) of a pane in. False if
        there is nothing more."""
        pane = self.dashboard.pane(pane_name)
        if not pane.can_load_more:
            return False
        pane.loading_more = True
        pane.update_title()
        self._load_more(self._generation, pane_name, self.view_filter,
                        len(pane.table.items), count or self.page_size)
        return True

    @work(thread=True, group="more", exit_on_error=False, name="load more")
    def _load_more(self, generation: int, pane: str, view: ViewFilter, offset: int,
                   limit: int) -> None:
        progress = self._progress_callback("reading older weeks")
        try:
            items = self.store.query(view.item_filter(pane, limit=limit, offset=offset),
                                     progress=progress)
        except BaseException:
            self.post_message(self.MoreLoaded(-1, pane, [], True, {}))  # the pane may retry
            raise
        self.post_message(self.MoreLoaded(generation, pane, items, len(items) >= limit,
                                          self._flags_for(items)))

    @on(MoreLoaded)
    async def _more_loaded(self, message: MoreLoaded) -> None:
        pane = self.dashboard.pane(message.pane)
        pane.loading_more = False
        if message.generation == self._generation:
            self.flags.update(message.flags)
            added = await pane.table.append_items(message.items)
            pane.limit = max(pane.limit, len(pane.table.items))
            pane.has_more = message.has_more and added > 0
        pane.update_title()
        if not self._polling:
            self._show_idle()

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        self._set_status(message.text, busy=True)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures surface (workers never exit the app)."""
        worker = event.worker
        if worker.state != WorkerState.ERROR or isinstance(worker.error, _Abort):
            return
        if worker.group == "poll":
            return  # the poll worker reports its own failure (PollFinished)
        if worker.group == "clusters":
            self._clusters_building = self._clusters_again = False
            self._cluster_backlog = []
        elif worker.group == "watch":
            self.watch_scanning = False
            self.watch_changed.publish(None)
        elif worker.group == "versions":
            self._versions_loading.clear()
        error = worker.error
        text = f"{worker.name or worker.group}: {error.__class__.__name__}: {error}"
        self.notify(safe_text(text, 300), title="Something went wrong",
                    severity="error", timeout=10)
        if worker.group == "startup" and not self.loaded:
            self.loaded = True
            self._set_status("could not read the store: " + safe_text(str(error), 200),
                             problem=True)
        elif worker.group in ("load", "more"):
            self._show_idle()
        elif worker.group == "briefing" and not self._polling:  # as _briefing_saved
            self._show_idle()

    # --- polling -------------------------------------------------------------------------

    def request_poll(self, *, force: bool = False, only: list[str] | None = None,
                     what: str = "") -> None:
        """Poll now (the due feeds, or ``only`` these, ``force`` ignoring the schedule).
        A cycle already running finishes first; this one follows it."""
        if self.poller is None and self.is_viewer and what not in ("schedule", "startup"):
            self._set_status("asking the daemon to poll…", busy=True)
            self._ask_daemon_to_poll(force, only)
            return
        if self.poller is None:
            reason = self.readonly_reason if self.readonly else \
                "offline: started with --offline, polling is off"
            self.notify(reason or "polling is off", severity="warning", timeout=4)
            return
        if self._polling:
            if self._poll_again is None or what != "schedule":
                self._poll_again = (force, only, what)
            if what not in ("schedule", "startup"):
                self.notify("A poll is running; another follows when it ends.", timeout=3)
            return
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self._polling = True
        self._cycle_new.clear()
        self._cycle_last = None
        self._cycle_bell = False
        self._cycle_watch_toasts = self._cycle_watch_more = 0
        self._poll_progress = (0, 0, 0)
        self._set_status("polling…", busy=True)
        self._poll(force, only, what)

    def action_refresh(self) -> None:
        self.request_poll(force=True, what="refresh")

    @work(thread=True, group="daemon", exit_on_error=False, name="ask the daemon to poll")
    def _ask_daemon_to_poll(self, force: bool, only: list[str] | None) -> None:
        try:
            self.backend.poll_now(only, force=force)
        except Exception as e:  # noqa: BLE001 - ControlError: the daemon is gone or refused
            self.notify(f"The daemon did not take the poll: {safe_text(str(e), 200)}",
                        severity="error")
            self.call_from_thread(self._show_idle)

    @on(DaemonEvent)
    def _daemon_event(self, message: DaemonEvent) -> None:
        if not self.loaded:
            return
        event = message.event
        kind = event.get("event")
        if kind == "poll-started":
            self._set_status(f"the daemon polls {event.get('due', 0)} feeds…", busy=True)
        elif kind == "poll-finished":
            new, failed = event.get("new", 0), event.get("failed", 0)
            self._last_summary = (f"the daemon polled {event.get('feeds', 0)} feeds: {new} new"
                                  + (f", {failed} failing (f: feed health)" if failed else ""))
            self._last_failed = bool(failed)
            self._show_idle()
        elif kind == "config":
            self._reload_config(event.get("path"))

    @work(thread=True, group="config", exit_on_error=False, name="reload config")
    def _reload_config(self, path: str | None) -> None:
        from feeds.config.load import ConfigError, load_config

        try:
            config = load_config(Path(path) if path else self.config.path)
        except ConfigError as e:
            self.post_message(self.FeedEdited(None, f"The daemon's config is invalid: {e}", error=True))
            return
        self.post_message(self.FeedEdited(config, "", error=False))

    @on(DaemonConnection)
    def _daemon_connection(self, message: DaemonConnection) -> None:
        if not self.loaded or self._closing:  # dashboard_mounted shows the state by then
            return
        try:
            self.dashboard.header.mode = "viewer" if message.connected else "read-only"
        except NoMatches:  # the app is closing: its screens are going
            return
        self._update_headers()
        if message.connected:
            self.notify("The diplowatch daemon is back: following it live.", timeout=6)
        else:
            self.notify("The diplowatch daemon stopped: this dashboard stays read-only and "
                        "picks it up again when it restarts.", severity="warning", timeout=10)
        self._show_idle()

    @work(thread=True, group="poll", exit_on_error=False, name="poll cycle")
    def _poll(self, force: bool, only: list[str] | None, what: str) -> None:
        poller, store = self.poller, self.store
        due, _ = poller.due_feeds(self.clock(), force=force, only=only)
        self.post_message(self.PollStarted(len(due), what))

        def on_feed(outcome: Any) -> None:
            self.post_message(self.FeedPolled(outcome, store.counts_by_label()))

        async def cycle() -> Any:
            task = asyncio.current_task()
            assert task is not None
            self._poll_handle = (asyncio.get_running_loop(), task)
            if self._closing:
                task.cancel()
            try:
                return await poller.poll_cycle(force=force, only=only, on_feed=on_feed)
            finally:
                self._poll_handle = None

        try:
            report = aio.run(cycle())
        except BaseException as e:  # noqa: BLE001 - CancelledError at exit, or a bug
            error = "cancelled" if isinstance(e, asyncio.CancelledError) else \
                f"{e.__class__.__name__}: {e}"
            self.post_message(self.PollFinished(None, error, None, MIN_POLL_DELAY * 30))
            return
        next_due = seconds_until_due(self.config, store.feed_states(), self.clock())
        self.post_message(self.PollFinished(report, None, store.counts_by_label(), next_due))

    @on(PollStarted)
    def _poll_started(self, message: PollStarted) -> None:
        self._poll_progress = (0, message.due, 0)
        if message.due == 0:
            self._set_status("polling: no feed is due", busy=True)
        else:
            self._set_status(f"polling {message.due} feed{'s' if message.due != 1 else ''}…",
                             busy=True)

    @on(FeedPolled)
    def _feed_polled(self, message: FeedPolled) -> None:
        outcome = message.outcome
        done, due, new = self._poll_progress
        new += len(outcome.new_items)
        self._poll_progress = (done + 1, due, new)
        self.counts = message.counts
        # 200 feeds landing together: the status line is redrawn a few times a second.
        self._status_text = f"polling {done + 1}/{due} feeds · {new} new"
        if self._status_timer is None:
            self._status_timer = self.set_timer(STATUS_EVERY, self._show_poll_progress)
        if outcome.new_items:
            self._learn_stories(outcome.new_items)
        if outcome.watch_hits:
            self._watch_alert(outcome.watch_hits)
        if outcome.new_items:
            self._pending_new.extend(outcome.new_items)
            for item in outcome.new_items:
                for pane in panes_of(item):
                    self._cycle_new[pane] += 1
                self._cycle_last = item
            if self._insert_timer is None:
                # A cold poll lands thousands of items: insert them in a few large batches
                # (each a refill of the panes), not in many small ones.
                delay = BURST_DELAY if self._polling else INSERT_DELAY
                self._insert_timer = self.set_timer(delay, self._insert_pending)
        self.feeds_changed.publish(outcome)

    def _show_poll_progress(self) -> None:
        self._status_timer = None
        if self._polling:
            self._set_status(self._status_text, busy=True)

    async def _insert_pending(self) -> None:
        """Put the items that landed since the last call at the top of their panes, one
        pane per turn of the event loop (a refill costs a few tens of milliseconds)."""
        self._insert_timer = None
        if self._inserting:
            return  # the running pass picks up what has landed since
        self._inserting = True
        try:
            while self._pending_new:
                items, self._pending_new = self._pending_new, []
                view = self.view_filter
                by_pane: dict[str, list[Item]] = {}
                for item in items:
                    for pane in panes_of(item):
                        by_pane.setdefault(pane, []).append(item)
                await asyncio.sleep(0)
                for pane in self.dashboard.panes():
                    pane_items = by_pane.get(pane.pane)
                    if pane_items and view.active:
                        pane_items = view.admitted(pane_items, pane.pane)
                    if pane_items:
                        # Only the newest can stay in a capped pane: a cold poll lands
                        # thousands at once, and each row built is UI time.
                        if len(pane_items) > pane.limit:
                            pane_items = sorted(pane_items, key=SORT_KEY, reverse=True)[:pane.limit]
                        await pane.table.insert_items(pane_items, pane.limit)
                        await asyncio.sleep(0)
                    pane.total = self._total(pane.pane)
                    pane.update_title()
                self._update_headers()
                self._redraw_stories()
        finally:
            self._inserting = False

    @on(PollFinished)
    async def _poll_finished(self, message: PollFinished) -> None:
        self._polling = False
        if self._insert_timer is not None:
            self._insert_timer.stop()
        await self._insert_pending()
        report = message.report
        if message.counts is not None:
            self.counts = message.counts
        if report is not None:
            self.last_poll = utc_iso(report.finished or self.clock())
        self._update_headers()
        self.feeds_changed.publish(report)
        if report is not None and report.new_items:
            self._load_sparklines()
        if self._cycle_watch_more:
            n, self._cycle_watch_more = self._cycle_watch_more, 0
            self.notify(f"and {n} more watch alert{'s' if n != 1 else ''} (w shows them all)",
                        title="Watch", severity="warning", timeout=10)
        self._check_notifier()
        if report is None:
            if message.error != "cancelled":
                self.notify(f"The poll failed: {safe_text(message.error, 300)}",
                            severity="error")
        else:
            self._announce(report)
            if report.flush_error:
                text = (f"Could not save the new items: {safe_text(report.flush_error, 300)} "
                        "(kept in memory; retried after the next poll)")
                self.notify(text, severity="error", timeout=10)
        if self._poll_again is not None:
            force, only, what = self._poll_again
            self._poll_again = None
            self.request_poll(force=force, only=only, what=what)
            return
        self._schedule_next(message.next_due)
        if report is not None:
            failed, n = len(report.failed), len(report.outcomes)
            self._last_summary = (f"polled {n} feed{'s' if n != 1 else ''}: "
                                  f"{len(report.new_items)} new"
                                  + (f", {failed} failing (f: feed health)" if failed else ""))
            self._last_failed = bool(failed)
        self._show_idle()

    def _announce(self, report: Any) -> None:
        """One toast per cycle: new items per label (the title itself when only one)."""
        total = len(report.new_items)
        if not total:
            return
        if total == 1 and self._cycle_last is not None:
            item = self._cycle_last
            where = ", ".join(PANE_TITLES[p] for p in panes_of(item))
            self.notify(safe_text(item.title, 200) or "(no title)",
                        title=f"New in {where}", timeout=6)
            return
        parts = [f"{self._cycle_new[p]} {PANE_TITLES[p].lower()}" for p in PANES if self._cycle_new[p]]
        self.notify(" · ".join(parts), title=f"{total} new items", timeout=6)

    def _schedule_next(self, next_due: float | None) -> None:
        if self.poller is None or not self.auto_poll or self._closing:
            return
        interval = self.config.polling.interval
        delay = interval if next_due is None else min(max(next_due, MIN_POLL_DELAY), interval)
        self._next_poll_at = time.monotonic() + delay
        self._poll_timer = self.set_timer(delay, self._scheduled_poll)

    def _scheduled_poll(self) -> None:
        self._poll_timer = None
        self.request_poll(what="schedule")

    # --- actions on items ----------------------------------------------------------------

    def open_item(self, item: Item) -> None:
        if not self.flags_of(item.id).read and self.can_write:
            self._set_flags(item, read=True)
        self.push_screen(ItemScreen(item))

    def open_link(self, item: Item) -> None:
        link = safe_link(item.link)
        if not link:
            text = "This item has no web link that can be opened (only http and https links are opened)."
            self.notify(text, severity="warning", timeout=4)
            return
        self.open_url(link)
        self.notify(f"Opening {safe_text(link, 120)}", timeout=3)

    def copy_link(self, item: Item) -> None:
        link = safe_link(item.link)
        if not link:
            self.notify("This item has no web link to copy.", severity="warning", timeout=4)
            return
        self.copy_to_clipboard(link)
        self.notify("Link copied.", timeout=2)

    def toggle_read(self, item: Item) -> None:
        self._set_flags(item, read=not self.flags_of(item.id).read)

    def toggle_star(self, item: Item) -> None:
        self._set_flags(item, starred=not self.flags_of(item.id).starred)

    def _set_flags(self, item: Item, *, read: bool | None = None,
                   starred: bool | None = None) -> None:
        if not self.can_write:
            self.notify(f"Cannot mark items: {self.readonly_reason}", severity="warning", timeout=4)
            return
        previous = self.flags_of(item.id)
        new = Flags(previous.read if read is None else read,
                    previous.starred if starred is None else starred)
        self._show_flags(item.id, new)
        self._save_flags(item.id, read, starred, previous)

    def _show_flags(self, item_id: str, flags: Flags) -> None:
        if flags == NO_FLAGS:
            self.flags.pop(item_id, None)
        else:
            self.flags[item_id] = flags
        for pane in self.dashboard.panes():
            pane.table.refresh_item(item_id)
        self.dashboard.show_selected()
        for screen in self.screen_stack:
            if isinstance(screen, ItemScreen) and screen.item.id == item_id:
                screen.refresh_detail()

    @work(thread=True, group="marks", exit_on_error=False, name="save mark")
    def _save_flags(self, item_id: str, read: bool | None, starred: bool | None,
                    previous: Flags) -> None:
        try:
            if self.backend is not None:  # the daemon saves it before it answers
                self.backend.mark([item_id], read=read, starred=starred)
                return
            if not self.store.mark(item_id, read=read, starred=starred):
                raise LookupError("the item is no longer in the store")
        except Exception as e:  # noqa: BLE001 - shown to the user, the change is undone
            self.post_message(self.MarkFailed(item_id, previous, str(e)))
            return
        self.call_from_thread(self._schedule_flush)

    def _schedule_flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
        self._flush_timer = self.set_timer(self.flush_delay, self._flush_now)

    def _flush_now(self) -> None:
        self._flush_timer = None
        self._flush()

    @work(thread=True, group="flush", exit_on_error=False, name="save")
    def _flush(self) -> None:
        self.store.flush()

    @on(MarkFailed)
    def _mark_failed(self, message: MarkFailed) -> None:
        self._show_flags(message.item_id, message.previous)
        self.notify(f"Could not mark the item: {safe_text(message.error, 200)}", severity="error")

    # --- filters -------------------------------------------------------------------------

    def set_filter(self, view: ViewFilter) -> None:
        if view == self.view_filter:
            return
        self.view_filter = view
        self.dashboard.status.scope = view.describe()
        self.reload_panes()

    def clear_filters(self) -> None:
        if self.view_filter.active:
            self.set_filter(ViewFilter())

    def toggle_unread_only(self) -> None:
        self.set_filter(replace(self.view_filter, unread_only=not self.view_filter.unread_only))

    def toggle_starred_only(self) -> None:
        self.set_filter(replace(self.view_filter, starred_only=not self.view_filter.starred_only))

    def choose_scope(self) -> None:
        def chosen(scope: Scope | None) -> None:
            if scope is not None:
                self.set_filter(replace(self.view_filter, feeds=scope.feeds,
                                        scope_name=scope.name))

        self.push_screen(ScopeScreen(self.config, self.view_filter.feeds), chosen)

    def choose_actor(self) -> None:
        """Filter every pane to the items naming one actor (a name or any alias)."""
        actors = self.config.actors
        if actors is None or not getattr(actors, "actors", ()):
            self.notify("No actors: the [actors] gazetteer is empty.", severity="warning", timeout=4)
            return

        def chosen(choice: ActorChoice | None) -> None:
            if choice is not None:
                self.set_filter(replace(self.view_filter, actor=choice.actor))

        self.push_screen(ActorScreen(actors, self.view_filter.actor), chosen)

    # --- feeds ---------------------------------------------------------------------------

    def _push_once(self, cls: type[Screen]) -> None:
        """Show a screen of ``cls`` unless it is the one shown."""
        if not isinstance(self.screen, cls):
            self.push_screen(cls())

    def action_feeds(self) -> None:
        self._push_once(FeedHealthScreen)

    def action_help(self) -> None:
        self._push_once(HelpScreen)

    def action_trends(self) -> None:
        self._push_once(TrendsScreen)

    def action_watch(self) -> None:
        self._push_once(WatchScreen)

    def set_feed_enabled(self, key: str, enabled: bool) -> None:
        source = self.config.feed(key)
        if source is None:
            return
        self._edit_feed(source.name, key, enabled)

    @work(thread=True, group="config", exit_on_error=False, name="edit config")
    def _edit_feed(self, name: str, key: str, enabled: bool) -> None:
        from feeds.config.load import ConfigError
        from feeds.config.edit import set_enabled, writable_config_path
        from feeds.model import reset_feed_state

        verb = "enabled" if enabled else "disabled"
        if self.backend is not None:  # the daemon edits its config and resets the feed
            try:
                config, created = self.backend.set_enabled(name, enabled)
            except Exception as e:  # noqa: BLE001 - ControlError in words
                self.post_message(self.FeedEdited(None, f"The daemon did not {verb[:-1]} {name}: {e}",
                                                  error=True))
                return
            note = " (created from the bundled one)" if created else ""
            self.post_message(self.FeedEdited(config, f"{verb} {name} in {config.path}{note}"))
            return
        try:
            path, created = writable_config_path(self.config)
            config = set_enabled(path, name, enabled)
        except (ConfigError, KeyError, OSError) as e:
            self.post_message(self.FeedEdited(None, f"Could not edit the config: {e}", error=True))
            return
        note = f" (created your config {path} from the bundled one)" if created else ""
        source = config.feed(key)
        if enabled and source is not None and not self.readonly:
            # Re-enabling is how a user asks to retry a gone or backed-off feed: forget the
            # failure, keep the validators and what was seen.
            state = self.store.feed_state(key)
            if state is not None:
                self.store.put_feed_state(reset_feed_state(state))
                self.store.flush()
        self.post_message(self.FeedEdited(config, f"{verb} {name} in {path}{note}"))

    @on(FeedEdited)
    def _feed_edited(self, message: FeedEdited) -> None:
        if message.config is not None:
            self.config = message.config
            if self.poller is not None:
                self.poller.config = message.config
        if message.text:
            self.notify(safe_text(message.text, 300), timeout=6,
                        severity="error" if message.error else "information")
        self.feeds_changed.publish(message)

    # --- a read-only viewer follows the writer --------------------------------------------

    @work(thread=True, group="reload", exclusive=True, exit_on_error=False, name="reload store")
    def _reload_store(self) -> None:
        if self.store.reload():
            self.post_message(self.StoreChanged())

    @on(StoreChanged)
    def _store_changed(self) -> None:
        self.reload_panes()
        self.feeds_changed.publish(None)
        self.watch_earlier = None  # scanned again when the watch screen is next shown
        self._load_extras()

    # --- stories (clusters) ----------------------------------------------------------------

    def _load_extras(self) -> None:
        """After the first paint: the story directory and the pane sparklines."""
        self._build_clusters()
        self._load_sparklines()

    def _build_clusters(self) -> None:
        if self._clusters_building:
            self._clusters_again = True  # a viewer's store was reloaded meanwhile
            return
        self._clusters_building = True
        self._cluster_backlog = []
        self._clusters_worker()

    @work(thread=True, group="clusters", exclusive=True, exit_on_error=False, name="stories")
    def _clusters_worker(self) -> None:
        directory = ClusterDirectory.from_items(self.store.recent())
        self.post_message(self.ClustersBuilt(directory))

    @on(ClustersBuilt)
    def _clusters_built(self, message: ClustersBuilt) -> None:
        directory = message.directory
        directory.add(self._cluster_backlog)  # what landed meanwhile (add ignores repeats)
        self._cluster_backlog = []
        self._clusters_building = False
        self.clusters = directory
        self._versions.clear()
        for pane in self.dashboard.panes():
            pane.table.refresh_badges()
        self._refresh_details()
        if self._clusters_again:
            self._clusters_again = False
            self._build_clusters()

    def _learn_stories(self, items: list[Item]) -> None:
        """New items join the directory (cheap: a dict step per item)."""
        if self.clusters is None:
            if self._clusters_building:
                self._cluster_backlog.extend(items)
            return
        self.clusters.add(items)
        for item in items:
            cid = cluster_of(item)
            self._versions.pop(cid, None)
            self._touched_clusters.add(cid)

    def _redraw_stories(self) -> None:
        """After an insert: the badges of the stories that grew, and the detail."""
        touched, self._touched_clusters = self._touched_clusters, set()
        if not touched:
            return
        for pane in self.dashboard.panes():
            pane.table.refresh_badges(touched)
        self._refresh_details(touched)

    async def toggle_grouped(self) -> None:
        """One row per item, or one row per story (its newest item, "N▸" = N feeds)."""
        self.grouped = not self.grouped
        for pane in self.dashboard.panes():
            await pane.table.set_grouped(self.grouped)
            pane.update_title()
        self.dashboard.show_selected()

    def _versions_for(self, item: Item) -> tuple[Item, ...]:
        """The item's story, every version newest first, if known; else () and a load."""
        if self.clusters is None:
            return ()
        cid = cluster_of(item)
        size = self.clusters.size(cid)
        if size < 2:
            return ()
        cached = self._versions.get(cid)
        if cached is not None:
            return cached
        if cid not in self._versions_loading:
            self._versions_loading.add(cid)
            self._load_versions(cid, self.clusters.member_ids(cid), size)
        return ()

    @work(thread=True, group="versions", exit_on_error=False, name="story versions")
    def _load_versions(self, cid: str, ids: tuple[str, ...], size: int) -> None:
        items = [it for it in map(self.store.get, ids) if it is not None]
        items.sort(key=SORT_KEY, reverse=True)
        self.post_message(self.VersionsLoaded(cid, tuple(items), size))

    @on(VersionsLoaded)
    def _versions_loaded(self, message: VersionsLoaded) -> None:
        self._versions_loading.discard(message.cluster)
        if self.clusters is None or self.clusters.size(message.cluster) != message.size:
            self._refresh_details({message.cluster})  # it grew meanwhile: asked again
            return
        if len(self._versions) >= VERSIONS_CACHE:
            self._versions.clear()
        self._versions[message.cluster] = message.items
        self._refresh_details({message.cluster})

    def _refresh_details(self, clusters: set[str] | None = None) -> None:
        """Show the details again (of the items of ``clusters`` only, if given): their
        story's versions changed."""
        def shows(item: Item | None) -> bool:
            return item is not None and (clusters is None or cluster_of(item) in clusters)

        if shows(self.dashboard.detail.item):
            self.dashboard.show_selected()
        for screen in self.screen_stack:
            if isinstance(screen, ItemScreen) and shows(screen.item):
                screen.refresh_detail()
            elif isinstance(screen, WatchScreen) and shows(screen.selected_item):
                screen.refresh_detail()

    # --- sparklines ------------------------------------------------------------------------

    @work(thread=True, group="sparklines", exclusive=True, exit_on_error=False,
          name="sparklines")
    def _load_sparklines(self) -> None:
        from feeds.analysis.trends import build_trends

        now = self.clock()
        trends = build_trends(self.store.daily_counts(SPARK_DAYS, now), (), SPARK_DAYS, now)
        self.post_message(self.SparklinesLoaded(trends.labels, int(now // 86400)))

    @on(SparklinesLoaded)
    def _sparklines_loaded(self, message: SparklinesLoaded) -> None:
        self._spark_day = message.day
        for pane in self.dashboard.panes():
            pane.set_trend(message.labels.get(store_label(pane.pane), ()))

    # --- watch -----------------------------------------------------------------------------

    def _watch_alert(self, hits: list["WatchHit"]) -> None:
        """New items that matched the watch terms: a toast each (a few per cycle, then a
        summary at its end), the bell once per cycle, and the watch screen's rows."""
        fresh = [h for h in hits if h.item.id not in self.watch_alerts]
        if not fresh:
            return
        for hit in fresh:
            self.watch_alerts[hit.item.id] = hit
            if self._cycle_watch_toasts < WATCH_TOASTS:
                # A few frames apart: mounting a toast costs the UI a few milliseconds.
                delay = WATCH_TOAST_GAP * self._cycle_watch_toasts
                self._cycle_watch_toasts += 1
                source = self.feed_name(hit.item.feed) or hit.item.source
                toast = partial(self.notify, f"{safe_text(hit.item.title, 200) or '(no title)'}\n"
                                f"{safe_text(source, 60)}",
                                title=f"◉ Watch: {safe_text(', '.join(hit.terms), 80)}",
                                severity="warning", timeout=10)
                if delay:
                    self.set_timer(delay, toast)
                else:
                    toast()
            else:
                self._cycle_watch_more += 1
        while len(self.watch_alerts) > WATCH_KEEP:
            del self.watch_alerts[next(iter(self.watch_alerts))]
        # The header's counter follows with the items' insert (a header update per feed
        # would cost a cold poll a relayout per feed).
        self.watch_unseen += len(fresh)
        if self.config.watch.bell and not self._cycle_bell:
            self._cycle_bell = True
            self.bell()
        self.watch_changed.publish(fresh)

    def watch_rows(self) -> list["WatchHit"]:
        """What the watch screen lists: earlier matches and this session's alerts."""
        rows = dict(self.watch_earlier or {})
        rows.update(self.watch_alerts)
        return list(rows.values())

    def watch_seen(self) -> None:
        """The alerts were seen: the count leaves the headers at once."""
        if self.watch_unseen:
            self.watch_unseen = 0
            for header in self._headers():
                header.watch = 0

    def scan_watch(self) -> None:
        """Look for earlier matches in the recent window (once; again after a reload)."""
        if not self.config.watch.terms or self.watch_earlier is not None or self.watch_scanning:
            return
        self.watch_scanning = True
        self._scan_watch(self.config.watch)

    @work(thread=True, group="watch", exclusive=True, exit_on_error=False, name="watch scan")
    def _scan_watch(self, settings: Any) -> None:
        from feeds.analysis.watch import WatchMatcher

        worker = get_current_worker()
        matcher = WatchMatcher(settings)
        hits = []
        for item in self.store.recent():
            if worker.is_cancelled or self._closing:
                return
            hit = matcher.match(item)
            if hit is not None:
                hits.append(hit)
                if len(hits) >= WATCH_SCAN_MAX:
                    break
        self.post_message(self.WatchScanned(hits))

    @on(WatchScanned)
    def _watch_scanned(self, message: WatchScanned) -> None:
        self.watch_scanning = False
        self.watch_earlier = {h.item.id: h for h in message.hits}
        self.watch_changed.publish(None)

    def _check_notifier(self) -> None:
        """Failures of the watch notify command (run by the poller) as one toast."""
        notifier = getattr(self.poller, "notifier", None)
        if notifier is None:
            return
        new = [e for e in list(notifier.errors) if e not in self._notify_errors_seen]
        if not new:
            return
        self._notify_errors_seen.update(new)
        more = f" (and {len(new) - 1} more; see the log)" if len(new) > 1 else ""
        self.notify(f"{safe_text(new[-1], 300)}{more}",
                    title="Watch notify command", severity="error", timeout=10)

    # --- briefing --------------------------------------------------------------------------

    def save_briefing(self) -> None:
        """Save the current view (every pane, the current filter) as a briefing."""
        view = self.view_filter

        def chosen(request: BriefingRequest | None) -> None:
            if request is not None:
                self._set_status("writing the briefing…", busy=True)
                self._write_briefing(request, view)

        self.push_screen(BriefingScreen(self.clock(), view.describe(), BRIEFING_LIMIT), chosen)

    @work(thread=True, group="briefing", exit_on_error=False, name="save briefing")
    def _write_briefing(self, request: BriefingRequest, view: ViewFilter) -> None:
        from feeds.analysis.briefing import compose_briefing, save_briefing

        items = self.store.query(view.item_filter(None, limit=BRIEFING_LIMIT),
                                 progress=self._progress_callback("reading older weeks"))
        briefing = compose_briefing(items, request.fmt, self.clock(), BRIEFING_TITLE,
                                    subtitle=self._briefing_subtitle(view, items),
                                    feed_names={f.key: f.name for f in self.config.feeds},
                                    include_other=request.include_other)
        path = request.path
        try:
            save_briefing(path, briefing)
        except OSError as e:
            self.post_message(self.BriefingSaved(path, 0, 0, False, e.strerror or str(e)))
            return
        stories, covered = briefing.stories, briefing.items
        self.post_message(self.BriefingSaved(path, stories, covered,
                                             len(items) >= BRIEFING_LIMIT))

    @staticmethod
    def _briefing_subtitle(view: ViewFilter, items: list[Item]) -> str:
        scope = view.describe() or "every pane, no filter"
        text = f"The dashboard's view: {scope}"
        if items:
            newest, oldest = items[0].published, items[-1].published
            text += (f" · {len(items):,} items published {local_time(oldest)} to "
                     f"{local_time(newest)}")
            if len(items) >= BRIEFING_LIMIT:
                text += f" (the newest {BRIEFING_LIMIT:,})"
        return text

    @on(BriefingSaved)
    def _briefing_saved(self, message: BriefingSaved) -> None:
        if not self._polling:
            self._show_idle()
        if message.error:
            self.notify(f"Could not save the briefing to {message.path}: "
                        f"{safe_text(message.error, 200)}", title="Briefing", severity="error",
                        timeout=10)
            return
        limited = f" (the newest {BRIEFING_LIMIT:,} items of the view)" if message.limited else ""
        self.notify(f"{message.path}\n{message.stories} "
                    f"{'story' if message.stories == 1 else 'stories'} from {message.items} "
                    f"item{'s' if message.items != 1 else ''}{limited}",
                    title="Briefing saved", timeout=8)

    # --- command palette -----------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Refresh: poll now", "Poll the due feeds now (r)", self.action_refresh)
        yield SystemCommand("Feed health", "Every feed with its status; enable, disable, poll one (f)",
                            self.action_feeds)
        yield SystemCommand("Trends", "Items per label per day, 14 or 30 days, and the top actors (T)",
                            self.action_trends)
        yield SystemCommand("Watch alerts", "The items that matched the [watch] terms (w)",
                            self.action_watch)
        yield SystemCommand("Help: keys", "The keys and screens (?)", self.action_help)
        if screen is self.dashboard:
            d = self.dashboard
            yield SystemCommand("Filter by words", "Filter every pane; searches the whole store (/)",
                                d.action_filter)
            yield SystemCommand("Filter by feed or tag", "Only one feed, or the feeds with a tag (t)",
                                self.choose_scope)
            yield SystemCommand("Filter by actor", "Only items naming an actor; aliases work (a)",
                                self.choose_actor)
            yield SystemCommand("Stories: one row per story / per item",
                                "Group the panes by story, with how many feeds carry each (c)",
                                d.action_toggle_stories)
            yield SystemCommand("Save view as briefing",
                                "The current view as a Markdown or HTML briefing (b)",
                                self.save_briefing)
            yield SystemCommand("Unread only", "Toggle showing only unread items (u)",
                                self.toggle_unread_only)
            yield SystemCommand("Starred only", "Toggle showing only starred items (S)",
                                self.toggle_starred_only)
            yield SystemCommand("Clear filters", "Show everything again (esc)", self.clear_filters)
            yield SystemCommand("Load more", "Page older items into the active pane (L)",
                                d.action_load_more)
            yield SystemCommand("Open link", "Open the selected item's link in the browser (o)",
                                d.action_open_link)
            yield SystemCommand("Copy link", "Copy the selected item's link (y)", d.action_copy_link)
            yield SystemCommand("Mark read / unread", "Toggle read on the selected item (m)",
                                d.action_toggle_read)
            yield SystemCommand("Star / unstar", "Toggle the star on the selected item (s)",
                                d.action_toggle_star)
            for n, pane in enumerate(PANES, 1):
                yield SystemCommand(f"Go to {PANE_TITLES[pane]}", f"Focus the {PANE_TITLES[pane]} "
                                    f"pane ({n})", lambda p=pane: d.action_show_pane(p))
        yield from super().get_system_commands(screen)

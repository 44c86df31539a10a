"""The diplowatch dashboard: the App, its workers and the messages they post.

The outside world is injected (config, store, poller, clock). Every blocking call runs in a
thread worker with a named group; threads only post messages, and the handlers here change
the UI:

- ``startup``: re-classify the store if the rules changed (progress in the status line), then
  the first load of the panes.
- ``load`` (exclusive): the panes' queries (newest page per pane, through the filter; older
  weeks are read only when the filter needs them). ``more``: one pane's next page.
- ``poll``: one poll cycle, ``asyncio.run(poller.poll_cycle(on_feed=…))``, posting a message
  per feed as it lands. The next cycle is scheduled when this one ends, for when the next
  feed is due, so cycles never overlap; ``r`` during a cycle queues one more.
- ``marks`` and ``flush``: read/star changes (shown at once, saved in the worker, reverted if
  the store refuses) and the debounced flush that makes them durable.
- ``config``: enabling or disabling a feed in the user's config file. ``reload``: a read-only
  viewer picking up what the writer saved.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import replace
from typing import Any, Callable, Iterable

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import Worker, WorkerState, get_current_worker

from feeds.config import Config
from feeds.model import LABELS, STATUS_GONE, STATUS_NEW, FeedState, Item, parse_utc_iso, utc_iso
from feeds.text import safe_link
from feeds.units import format_duration
from storage.query import NO_FLAGS, Flags
from tui.render import OTHER, PANE_TITLES, PANES, safe_text
from tui.screens.dashboard import DashboardScreen
from tui.screens.feeds import FeedHealthScreen
from tui.screens.help import HelpScreen
from tui.screens.item import ItemScreen
from tui.screens.scope import Scope, ScopeScreen
from tui.widgets.filter_bar import ViewFilter
from tui.widgets.header import DashboardHeader
from tui.widgets.item_detail import DetailView

PAGE_SIZE = 250  # rows per pane before "load more"
INSERT_DELAY = 0.5  # seconds: items landing in a burst are inserted together
BURST_DELAY = 2.0  # during a poll cycle: batches land every 2 s, and at its end
STATUS_EVERY = 0.25  # seconds between redraws of the poll progress
FLUSH_DELAY = 2.0  # seconds after the last mark before the store is flushed
MIN_POLL_DELAY = 2.0
READONLY_RELOAD = 10.0  # seconds between a read-only viewer's checks for the writer's saves


class _Abort(Exception):
    """Raised from a progress callback to stop a long store call when the app is closing."""


def panes_of(item: Item) -> tuple[str, ...]:
    """The panes an item appears in: each of its labels, or Other."""
    shown = tuple(label for label in item.labels if label in LABELS)
    return shown or (OTHER,)


def last_polled(states: Iterable[FeedState]) -> str | None:
    attempts = [s.last_attempt for s in states if s.last_attempt]
    return max(attempts) if attempts else None


def seconds_until_due(config: Config, states: dict[str, FeedState], now: float) -> float | None:
    """When the next enabled feed is due (0 if one is due now); None if none will be."""
    best: float | None = None
    for source in config.feeds:
        if not source.enabled:
            continue
        state = states.get(source.key)
        if state is None or not state.next_poll:
            return 0.0
        if state.status == STATUS_GONE:
            continue
        due = parse_utc_iso(state.next_poll)
        if state.retry_after:
            due = max(due, parse_utc_iso(state.retry_after))
        best = due - now if best is None else min(best, due - now)
    return None if best is None else max(best, 0.0)


class DiplowatchApp(App[int]):
    TITLE = "diplowatch"
    CSS_PATH = ["app.tcss", "panes.tcss", "screens.tcss"]
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("r", "refresh", "Refresh"),
        Binding("f", "feeds", "Feeds"),
        Binding("question_mark", "help", "Help"),
    ]

    # --- messages (posted from worker threads) -------------------------------------------

    class PanesLoaded(Message):
        def __init__(self, generation: int, results: dict[str, tuple[list[Item], bool]],
                     flags: dict[str, Flags], counts: dict[str, int], last_poll: str | None,
                     initial: bool) -> None:
            super().__init__()
            self.generation, self.results, self.flags = generation, results, flags
            self.counts, self.last_poll, self.initial = counts, last_poll, initial

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

    # --- construction --------------------------------------------------------------------

    def __init__(self, config: Config, store: Any, *, poller: Any = None,
                 clock: Callable[[], float] = time.time, theme: str | None = None,
                 readonly_reason: str | None = None, offline: bool | None = None,
                 page_size: int = PAGE_SIZE, auto_poll: bool = True) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.poller = poller  # None: offline or read-only, no request is ever made
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
        if self.readonly:
            header.mode = "read-only"
            self._set_status(self.readonly_reason or "", problem=True)
        elif self.offline:
            header.mode = "offline"
            self._set_status("offline: reviewing the store, no polling")
        else:
            self._set_status("opening the store…", busy=True)
        self.set_interval(30, self._tick)
        if self.readonly:
            self.set_interval(READONLY_RELOAD, self._reload_store)
        self._startup()

    def on_unmount(self) -> None:
        # A poll cycle in its thread would hold the exit until it ends: cancel it.
        self._closing = True
        handle = self._poll_handle
        if handle is not None:
            loop, task = handle
            loop.call_soon_threadsafe(task.cancel)

    # --- small helpers -------------------------------------------------------------------

    @property
    def polling(self) -> bool:
        """A poll cycle is in flight (or queued behind the one in flight)."""
        return self._polling or self._poll_again is not None

    @property
    def inserts_pending(self) -> bool:
        return bool(self._pending_new) or self._insert_timer is not None or self._inserting

    def flags_of(self, item_id: str) -> Flags:
        return self.flags.get(item_id, NO_FLAGS)

    def feed_name(self, key: str) -> str | None:
        source = self.config.feed(key)
        return source.name if source else None

    def detail_view(self, item: Item) -> DetailView:
        return DetailView(item, self.flags_of(item.id), self.clock(), self.feed_name(item.feed))

    def sync_header(self, header: DashboardHeader) -> None:
        header.counts = dict(self.counts)
        header.last_poll = self.last_poll
        header.now = self.clock()
        header.mode = self.dashboard.header.mode

    def _headers(self) -> list[DashboardHeader]:
        return [h for screen in self.screen_stack for h in screen.query(DashboardHeader)]

    def _update_headers(self) -> None:
        now = self.clock()
        for header in self._headers():
            header.counts = dict(self.counts)
            header.last_poll = self.last_poll
            header.now = now

    def _tick(self) -> None:
        self._update_headers()
        if not self._polling and self.poller is not None and self.loaded:
            self._show_idle()

    def _set_status(self, text: str, *, busy: bool = False, problem: bool = False) -> None:
        status = self.dashboard.status
        status.activity, status.busy, status.problem = text, busy, problem

    def _show_idle(self) -> None:
        self._set_status(self._idle_status(), problem=self.readonly or self._last_failed)

    def _idle_status(self) -> str:
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

    # --- startup and loading -------------------------------------------------------------

    @work(thread=True, group="startup", exit_on_error=False, name="startup")
    def _startup(self) -> None:
        from feeds.reclassify import reclassify_if_needed

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
            self.notify(f"The rules changed but re-classifying the stored items failed: "
                        f"{safe_text(message.error, 300)}. Items keep their old labels.",
                        title="Rules", severity="error", markup=False, timeout=10)
        elif message.changed is not None:
            self.notify(f"The rules changed: re-classified {message.changed:,} stored items.",
                        title="Rules", timeout=6)

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
            total = counts.get("none" if pane == OTHER else pane, 0)
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
        limits = {pane.pane: max(pane.limit, self.page_size) for pane in self.dashboard.panes()}
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
            # Panes the recent window did not fill are topped up from older weeks, after
            # the first paint.
            for pane in self.dashboard.panes():
                if pane.has_more and len(pane.table.items) < self.page_size:
                    self.load_more(pane.pane, self.page_size - len(pane.table.items))
            if self.poller is not None and self.auto_poll:
                self.request_poll(what="startup")
            elif not self.readonly:
                self._show_idle()
        elif not self._polling:
            self._show_idle()

    def _total(self, pane: str) -> int | None:
        return self.counts.get("none" if pane == OTHER else pane)

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
        error = worker.error
        text = f"{worker.name or worker.group}: {error.__class__.__name__}: {error}"
        self.notify(safe_text(text, 300), title="Something went wrong", severity="error",
                    markup=False, timeout=10)
        if worker.group == "startup" and not self.loaded:
            self.loaded = True
            self._set_status("could not read the store: " + safe_text(str(error), 200),
                             problem=True)
        elif worker.group in ("load", "more"):
            self._show_idle()

    # --- polling -------------------------------------------------------------------------

    def request_poll(self, *, force: bool = False, only: list[str] | None = None,
                     what: str = "") -> None:
        """Poll now (the due feeds, or ``only`` these, ``force`` ignoring the schedule).
        A cycle already running finishes first; this one follows it."""
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
        self._poll_progress = (0, 0, 0)
        self._set_status("polling…", busy=True)
        self._poll(force, only, what)

    def action_refresh(self) -> None:
        self.request_poll(force=True, what="refresh")

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
            report = asyncio.run(cycle())
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
                        if view.admits(item, NO_FLAGS, pane):
                            by_pane.setdefault(pane, []).append(item)
                for pane in self.dashboard.panes():
                    pane_items = by_pane.get(pane.pane)
                    if pane_items:
                        await pane.table.insert_items(pane_items, pane.limit)
                        await asyncio.sleep(0)
                    pane.total = self._total(pane.pane)
                    pane.update_title()
                self._update_headers()
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
        if report is None:
            if message.error != "cancelled":
                self.notify(f"The poll failed: {safe_text(message.error, 300)}",
                            severity="error", markup=False)
        else:
            self._announce(report)
            if report.flush_error:
                self.notify(f"Could not save the new items: {safe_text(report.flush_error, 300)} "
                            "(kept in memory; retried after the next poll)",
                            severity="error", markup=False, timeout=10)
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
            self.notify(safe_text(item.title, 200) or "(no title)", title=f"New in {where}",
                        markup=False, timeout=6)
            return
        parts = [f"{self._cycle_new[p]} {PANE_TITLES[p].lower()}" for p in PANES if self._cycle_new[p]]
        self.notify(" · ".join(parts), title=f"{total} new items", markup=False, timeout=6)

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
        if not self.flags_of(item.id).read and not self.readonly:
            self._set_flags(item, read=True)
        self.push_screen(ItemScreen(item))

    def open_link(self, item: Item) -> None:
        link = safe_link(item.link)
        if not link:
            self.notify("This item has no web link that can be opened "
                        "(only http and https links are opened).", severity="warning", timeout=4)
            return
        self.open_url(link)
        self.notify(f"Opening {safe_text(link, 120)}", markup=False, timeout=3)

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
        if self.readonly:
            self.notify(f"Cannot mark items: {self.readonly_reason}", severity="warning",
                        timeout=4)
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
        self.notify(f"Could not mark the item: {safe_text(message.error, 200)}",
                    severity="error", markup=False)

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
        v = self.view_filter
        self.set_filter(ViewFilter(v.text, v.feeds, v.scope_name, not v.unread_only, v.starred_only))

    def toggle_starred_only(self) -> None:
        v = self.view_filter
        self.set_filter(ViewFilter(v.text, v.feeds, v.scope_name, v.unread_only, not v.starred_only))

    def choose_scope(self) -> None:
        def chosen(scope: Scope | None) -> None:
            if scope is not None:
                v = self.view_filter
                self.set_filter(ViewFilter(v.text, scope.feeds, scope.name, v.unread_only,
                                           v.starred_only))

        self.push_screen(ScopeScreen(self.config, self.view_filter.feeds), chosen)

    # --- feeds ---------------------------------------------------------------------------

    def action_feeds(self) -> None:
        if not isinstance(self.screen, FeedHealthScreen):
            self.push_screen(FeedHealthScreen())

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def set_feed_enabled(self, key: str, enabled: bool) -> None:
        source = self.config.feed(key)
        if source is None:
            return
        self._edit_feed(source.name, key, enabled)

    @work(thread=True, group="config", exit_on_error=False, name="edit config")
    def _edit_feed(self, name: str, key: str, enabled: bool) -> None:
        from feeds.config import ConfigError
        from feeds.config_edit import set_enabled, writable_config_path

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
                self.store.put_feed_state(replace(
                    state, status=STATUS_NEW, error=None, http_status=None, failures=0,
                    failing_since=None, next_poll=None, retry_after=None))
                self.store.flush()
        verb = "enabled" if enabled else "disabled"
        self.post_message(self.FeedEdited(config, f"{verb} {name} in {path}{note}"))

    @on(FeedEdited)
    def _feed_edited(self, message: FeedEdited) -> None:
        if message.config is not None:
            self.config = message.config
            if self.poller is not None:
                self.poller.config = message.config
        self.notify(safe_text(message.text, 300), severity="error" if message.error else "information",
                    markup=False, timeout=6)
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

    # --- command palette -----------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Refresh: poll now", "Poll the due feeds now (r)", self.action_refresh)
        yield SystemCommand("Feed health", "Every feed with its status; enable, disable, poll one (f)",
                            self.action_feeds)
        yield SystemCommand("Help: keys", "The keys and screens (?)", self.action_help)
        if screen is self.dashboard:
            d = self.dashboard
            yield SystemCommand("Filter by words", "Filter every pane; searches the whole store (/)",
                                d.action_filter)
            yield SystemCommand("Filter by feed or tag", "Only one feed, or the feeds with a tag (t)",
                                self.choose_scope)
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

"""The diplowatch dashboard's App: the composition root.

It builds the dashboard's state around a Backend (who owns the store; backend.py): polls,
stories, watch alerts, marks, unread counts, labels (state/), hands the screens itself as
DashboardServices (services.py) and shows them; the main screen loads its own panes.

The App's thread workers, each in a named group, only post messages (messages.py), which the
handlers here pass on to the state: ``poll`` (one cycle) or ``daemon`` (a viewer asks the
daemon); ``marks`` and ``flush`` (a mark saved, the debounced flush); ``labels`` (labels set
by hand, saved); ``config`` (a feed enabled or disabled, the daemon's config reloaded);
``reload`` (a read-only dashboard follows the writer); ``clusters`` and ``versions``
(stories); ``watch`` (earlier matches).
"""
from __future__ import annotations

import gc
import time
import weakref
from contextlib import suppress
from functools import partial
from typing import Any, Callable, Iterable

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import Worker, get_current_worker

from feeds.config.load import Config
from feeds.model import Item
from feeds.text import safe_text
from feeds.poll.queue import PollRequest
from tui.dashboard.backend import Backend, FeedEditError, daemon_config
from tui.dashboard.commands import app_commands, screen_commands
from tui.dashboard.hangup import leave_when_gone
from tui.dashboard.messages import (ClustersBuilt, DaemonConnection, DaemonEvent, FeedEdited,
                                    FeedPolled, FeedToggled, LabelsSaved, MarkFailed,
                                    PollFinished, PollRequested, PollStarted, StoreChanged,
                                    VersionsLoaded, WatchScanned, WatchScanRequested)
from tui.dashboard.screens.dashboard import DashboardScreen
from tui.dashboard.screens.opened import item_screen, keyed_screen
from tui.dashboard.state.labels import Labels
from tui.dashboard.state.marks import Marks
from tui.dashboard.state.poll import PollController
from tui.dashboard.theme import keep_theme
from tui.dashboard.state.stories import Stories
from tui.dashboard.state.unread import UnreadCounts
from tui.dashboard.state.watch import Watchlist
from tui.dashboard.widgets.header import DashboardHeader
from tui.dashboard.widgets.item_detail import DetailView
from tui.dashboard.workers import failure_text

PAGE_SIZE = 250  # rows per pane before "load more"
TICK = 30.0  # seconds between refreshes of the headers' times and the idle status
READONLY_RELOAD = 10.0  # seconds between a read-only dashboard's checks for the writer's saves


class DiplowatchApp(App[int]):
    TITLE = "diplowatch"
    CSS_PATH = ["app.tcss", "panes.tcss", "screens.tcss"]
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("r", "refresh", "Refresh"),
        Binding("f", "open_screen('feeds')", "Feeds"),
        Binding("question_mark", "open_screen('help')", "Help"),
        Binding("w", "open_screen('watch')", "Watch", show=False),  # in help: the footer is full
        Binding("T", "open_screen('trends')", "Trends", show=False),
        Binding("v", "open_screen('review')", "Review labels", show=False),
    ]

    def __init__(self, config: Config, backend: Backend, *,
                 clock: Callable[[], float] = time.time, theme: str | None = None,
                 page_size: int = PAGE_SIZE, auto_poll: bool = True,
                 browser_tab: str | None = None) -> None:
        super().__init__()
        self.config = config
        self.backend = backend
        # "readonly" or "writable" in a browser tab of `serve`: files go to the browser.
        self.browser_tab = browser_tab
        self.clock = clock
        self._theme_name = theme
        self.feeds_changed: Signal[object] = Signal(self, "feeds-changed")
        self.headers_changed: Signal[object] = Signal(self, "headers-changed")
        self.poll = PollController(
            backend, lambda: self.config, clock, auto_poll=auto_poll,
            start_cycle=self._poll, ask_daemon=self._ask_daemon,
            set_timer=self.set_timer, set_status=self._set_status, notify=self._toast)
        self.marks = Marks(self, backend, save=self._save_flags, flush=self._flush_store,
                           set_timer=self.set_timer, notify=self._toast)
        self.labels = Labels(self, backend, save=self._save_labels, notify=self._toast)
        self.unread = UnreadCounts(self, lambda: self.store, set_timer=self.set_timer,
                                   after=lambda: self.headers_changed.publish(None))
        self.stories = Stories(self, self._load_versions)
        self.watchlist = Watchlist(self, self.headers_changed, notify=self._toast,
                                   set_timer=self.set_timer, bell=lambda: self.bell(),
                                   feed_name=self.feed_name)
        self.dashboard = DashboardScreen(self, page_size=page_size)
        # The screens the keys show (screens/opened.py), each shown once at a time.
        self._shown: dict[str, weakref.ref[Screen]] = {}
        self._terminal_gone: Callable[[], bool] | None = None

    def leave_when(self, terminal_gone: Callable[[], bool]) -> None:
        """Exit, saving what is pending, once the terminal hangs up (hangup.py)."""
        self._terminal_gone = terminal_gone

    def get_default_screen(self) -> Screen:
        return self.dashboard

    def on_mount(self) -> None:
        if self._theme_name:
            self.theme = self._theme_name
        self.theme_changed_signal.subscribe(self, self._restyle)
        if self.browser_tab is None:  # a visitor's tab never writes the server's config
            keep_theme(self, lambda: self.config)
        self.set_interval(TICK, self._tick)
        if self.backend.follows_writer:  # a viewer's DaemonBackend reloads on each save
            self.set_interval(READONLY_RELOAD, self.reload_store)
        if self._terminal_gone is not None:
            leave_when_gone(self, self._terminal_gone)

    def on_unmount(self) -> None:
        gc.unfreeze()  # what the app held may now be collected (tests run many apps)
        self.poll.cancel()

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        # Toasts carry feed text (titles, names, errors), which is never markup.
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def _toast(self, *args: Any, **kwargs: Any) -> None:
        self.notify(*args, **kwargs)  # looked up per call: tests record the app's toasts

    # --- services (tui/dashboard/services.py) ---------------------------------------------
    @property
    def store(self) -> Any:
        return self.backend.store

    def feed_name(self, key: str) -> str | None:
        source = self.config.feed(key)
        return source.name if source else None

    def sync_header(self, header: DashboardHeader) -> None:
        header.counts = dict(self.poll.counts)
        header.unread = dict(self.unread.by_label) if self.unread.known else None
        header.last_poll = self.poll.last_poll
        header.now = self.clock()
        header.watch = self.watchlist.unseen
        header.mode = self.backend.mode

    def _set_status(self, text: str, *, busy: bool = False, problem: bool = False) -> None:
        with suppress(NoMatches):  # the app is closing: its screens are going
            self.dashboard.set_status(text, busy=busy, problem=problem)

    def detail_view(self, item: Item) -> DetailView:
        hit = self.watchlist.hit(item.id)
        versions = tuple((self.feed_name(v.feed) or v.source, v)
                         for v in self.stories.versions_for(item))
        return DetailView(item, self.marks.flags_of(item.id), self.clock(),
                          self.feed_name(item.feed), versions=versions,
                          watch_terms=hit.terms if hit else (),
                          corrected=self.labels.corrected.get(item.id))

    def open_item(self, item: Item, step: Callable[[int], Item | None] | None = None) -> None:
        if not self.marks.flags_of(item.id).read and self.backend.can_write:
            self.marks.set(item.id, read=True)
        self.push_screen(item_screen(item, self, step or self.dashboard.step_selected))

    def window_loaded(self) -> None:
        self.call_after_refresh(self._load_extras)
        if self.backend.poller is not None and self.poll.auto_poll:
            self.poll.request(what="startup")
        elif self.backend.can_write:
            self.poll.show_idle()

    # --- screens, the clock, the theme ---------------------------------------------------
    def action_open_screen(self, name: str) -> None:
        """Show the screen of ``name`` (screens/opened.py) unless it is the one shown."""
        shown = self._shown.get(name)
        if shown is not None and shown() is self.screen:
            return
        screen = keyed_screen(name, self)
        self._shown[name] = weakref.ref(screen)
        self.push_screen(screen)

    def _tick(self) -> None:
        self.headers_changed.publish(None)
        if not self.poll.running and self.backend.poller is not None and self.dashboard.loaded:
            self.poll.show_idle()
        self.dashboard.tick()
        self.poll.check_notifier()

    def _restyle(self, _theme: object) -> None:
        self.dashboard.restyle()
        self.watchlist.changed.publish(None)  # the watch table's colours

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from app_commands(self.action_refresh, self.action_open_screen)
        yield from screen_commands(screen)
        yield from super().get_system_commands(screen)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The App's workers that failed (workers never exit the app)."""
        worker = event.worker
        text = failure_text(worker)
        if text is None or worker.group == "poll":  # a failed cycle says so in PollFinished
            return
        if worker.group == "clusters":
            self.stories.build_failed()
        elif worker.group == "watch":
            self.watchlist.scan_failed()
        elif worker.group == "versions":
            self.stories.versions_failed()
        self.notify(text, title="Something went wrong", severity="error", timeout=10)

    # --- polling (state/poll.py) -----------------------------------------------------------
    def action_refresh(self) -> None:
        self.poll.request(force=True, what="refresh")

    @on(PollRequested)
    def _poll_requested(self, message: PollRequested) -> None:
        self.poll.request(force=message.force, only=message.only, what=message.what)

    @work(thread=True, group="poll", exit_on_error=False, name="poll cycle")
    def _poll(self, request: PollRequest) -> None:
        self.poll.run_cycle(request, self.post_message)

    @work(thread=True, group="daemon", exit_on_error=False, name="ask the daemon to poll")
    def _ask_daemon(self, only: list[str] | None, force: bool) -> None:
        try:
            self.backend.ask_poll(only, force)
        except Exception as e:  # noqa: BLE001 - ControlError: the daemon is gone or refused
            self.notify(f"The daemon did not take the poll: {safe_text(str(e), 200)}",
                        severity="error")
            self.call_from_thread(self.poll.show_idle)

    @on(PollStarted)
    def _poll_started(self, message: PollStarted) -> None:
        self.watchlist.new_cycle()
        self.poll.started(message.due)

    @on(FeedPolled)
    def _feed_polled(self, message: FeedPolled) -> None:
        outcome = message.outcome
        self.poll.feed_polled(outcome, message.counts)
        if outcome.new_items:
            self.stories.learn(outcome.new_items)
        if outcome.watch_hits:
            self.watchlist.alert(outcome.watch_hits, bell=self.config.watch.bell)
        if outcome.new_items:
            self.dashboard.add_new(outcome.new_items)
        self.feeds_changed.publish(outcome)

    @on(PollFinished)
    async def _poll_finished(self, message: PollFinished) -> None:
        self.poll.running = False  # inserts now go in at once
        await self.dashboard.flush_new()
        report = message.report
        self.poll.ended(report, message.counts)
        self.headers_changed.publish(None)
        self.feeds_changed.publish(report)
        if report is not None and report.new_items:
            self.dashboard.load_sparklines()
        self.watchlist.summarise_cycle()
        self.poll.check_notifier()
        self.poll.finished(report, message.error, message.next_due)

    # --- a viewer follows the daemon; a read-only dashboard, the writer ---------------------
    @on(DaemonEvent)
    def _daemon_event(self, message: DaemonEvent) -> None:
        if not self.dashboard.loaded:
            return
        if message.event.get("event") == "config":
            self._edit_config(partial(daemon_config, message.event.get("path"), self.config))
        else:
            self.poll.daemon_event(message.event)

    @on(DaemonConnection)
    def _daemon_connection(self, message: DaemonConnection) -> None:
        if not self.dashboard.loaded or self.poll.closing:  # the start shows the mode by then
            return
        self.headers_changed.publish(None)
        if message.connected:
            self.notify("The diplowatch daemon is back: following it live.", timeout=6)
        else:
            self.notify("The diplowatch daemon stopped: this dashboard stays read-only and "
                        "picks it up again when it restarts.", severity="warning", timeout=10)
        self.poll.show_idle()

    @work(thread=True, group="reload", exclusive=True, exit_on_error=False, name="reload store")
    def reload_store(self) -> None:
        if self.backend.reload():
            self.post_message(StoreChanged())

    @on(StoreChanged)
    def _store_changed(self) -> None:
        self.dashboard.reload_panes()
        self.feeds_changed.publish(None)
        self.watchlist.forget_earlier()  # scanned again when the watch screen is next shown
        self._load_extras()

    # --- marks (state/marks.py) --------------------------------------------------------------
    @work(thread=True, group="marks", exit_on_error=False, name="save mark")
    def _save_flags(self, item_id: str, read: bool | None, starred: bool | None,
                    previous: Any) -> None:
        try:
            flush = self.backend.mark(item_id, read, starred)
        except Exception as e:  # noqa: BLE001 - shown to the user, the change is undone
            self.post_message(MarkFailed(item_id, previous, str(e)))
            return
        if flush:
            self.call_from_thread(self.marks.flush.poke)

    @work(thread=True, group="flush", exit_on_error=False, name="save")
    def _flush_store(self) -> None:
        self.backend.flush()

    @on(MarkFailed)
    def _mark_failed(self, message: MarkFailed) -> None:
        self.marks.failed(message.item_id, message.previous, message.error)

    @work(thread=True, group="labels", exit_on_error=False, name="save labels")
    def _save_labels(self, item: Item, labels: tuple[str, ...]) -> None:
        self.post_message(self.labels.save_now(item, labels))

    @on(LabelsSaved)
    def _labels_saved(self, message: LabelsSaved) -> None:
        self.labels.saved(message)

    # --- feeds -------------------------------------------------------------------------------
    @on(FeedToggled)
    def _feed_toggled(self, message: FeedToggled) -> None:
        source = self.config.feed(message.key)
        if source is not None:
            self._edit_config(partial(self.backend.edit_feed, self.config, source.name,
                                      message.enabled))

    @work(thread=True, group="config", exit_on_error=False, name="edit config")
    def _edit_config(self, edit: Callable[[], tuple[Config, str]]) -> None:
        """A feed enabled or disabled, or the daemon's config reloaded."""
        try:
            config, text = edit()
        except FeedEditError as e:
            self.post_message(FeedEdited(None, str(e), error=True))
            return
        self.post_message(FeedEdited(config, text))

    @on(FeedEdited)
    def _feed_edited(self, message: FeedEdited) -> None:
        if message.config is not None:
            self.config = message.config
            if self.backend.poller is not None:
                self.backend.poller.config = message.config
        if message.text:
            self.notify(safe_text(message.text, 300), timeout=6,
                        severity="error" if message.error else "information")
        self.feeds_changed.publish(message)

    # --- stories (state/stories.py) and watch (state/watch.py) ------------------------------
    def _load_extras(self) -> None:
        """After the first paint: the story directory and the pane sparklines."""
        if self.stories.begin_build():
            self._build_clusters()
        self.dashboard.load_sparklines()

    @work(thread=True, group="clusters", exclusive=True, exit_on_error=False, name="stories")
    def _build_clusters(self) -> None:
        self.post_message(ClustersBuilt(self.stories.build(self.store)))

    @on(ClustersBuilt)
    def _clusters_built(self, message: ClustersBuilt) -> None:
        if self.stories.built(message.directory) and self.stories.begin_build():
            self._build_clusters()

    @work(thread=True, group="versions", exit_on_error=False, name="story versions")
    def _load_versions(self, cid: str, ids: tuple[str, ...], size: int) -> None:
        self.post_message(VersionsLoaded(cid, self.stories.read_versions(self.store, ids), size))

    @on(VersionsLoaded)
    def _versions_loaded(self, message: VersionsLoaded) -> None:
        self.stories.versions_loaded(message.cluster, message.items, message.size)

    @on(WatchScanRequested)
    def _scan_requested(self) -> None:
        self._scan_watch(self.config.watch)

    @work(thread=True, group="watch", exclusive=True, exit_on_error=False, name="watch scan")
    def _scan_watch(self, settings: Any) -> None:
        worker = get_current_worker()
        hits = self.watchlist.scan(self.store, settings,
                                   lambda: worker.is_cancelled or self.poll.closing)
        if hits is not None:
            self.post_message(WatchScanned(hits))

    @on(WatchScanned)
    def _watch_scanned(self, message: WatchScanned) -> None:
        self.watchlist.scanned(message.hits)

"""Feed health (f, or the command palette): every feed with its status, last success, last
error in words, items stored, unread (in the recent window) and next poll. Enable or disable a
feed (the user's config file is edited, on this explicit request), poll one now, or mark its
items read (A)."""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from feeds.poll.health import FeedHealth, feed_health
from feeds.text import safe_text
from storage.query import ItemFilter
from tui.render import local_time, relative
from tui.dashboard.messages import FeedToggled, PollRequested
from tui.dashboard.services import DashboardServices
from tui.dashboard.widgets.feed_table import FeedHealthTable, next_poll_words
from tui.dashboard.widgets.header import DashboardHeader


def describe(h: FeedHealth, now: float) -> Content:
    """The selected feed in full, for the box under the table."""
    rows: list[tuple[str, str | Content]] = [
        ("feed", safe_text(h.name)),
        ("url", safe_text(h.url) + ("" if h.url == h.shown_key
                                     else f"  (configured: {safe_text(h.shown_key)})")),
        ("status", safe_text(h.summary)),
        ("tags", ", ".join(safe_text(t) for t in h.tags) or "-"),
        ("last success", f"{local_time(h.last_success)} ({relative(h.last_success, now)})"
                         if h.last_success else "never"),
        ("last attempt", f"{local_time(h.last_attempt)} ({relative(h.last_attempt, now)})"
                         if h.last_attempt else "never"),
        ("next poll", next_poll_words(h, now)),
        ("items stored", f"{h.items_stored:,}"),
    ]
    if h.error:
        http = f"HTTP {h.http_status}: " if h.http_status and str(h.http_status) not in h.error else ""
        rows.insert(3, ("last error", f"{http}{safe_text(h.error)}"
                        + (f" ({h.failures} failures in a row)" if h.failures > 1 else "")))
    if h.redirect_pending:
        rows.append(("moving to", safe_text(h.redirect_pending)))
    return Content("\n").join(
        Content.assemble((f"{name:>13}  ", "$text-muted"),
                         (value, "$text-error") if name == "last error" else value)
        for name, value in rows)


class FeedHealthScreen(Screen):
    BINDINGS = [
        Binding("escape,f", "app.pop_screen", "Back"),
        Binding("p", "poll_feed", "Poll now"),
        Binding("e", "enable", "Enable"),
        Binding("d", "disable", "Disable"),
        Binding("A", "mark_feed_read", "Mark read", show=False),  # the footer fits 80 columns
        Binding("r", "app.refresh", "Poll due"),
    ]

    class HealthLoaded(Message):
        def __init__(self, rows: list[FeedHealth], now: float, unread: dict[str, int]) -> None:
            super().__init__()
            self.rows = rows
            self.now = now
            self.unread = unread

    def __init__(self, services: DashboardServices) -> None:
        super().__init__(id="feeds-screen")
        self.services = services
        self._pending_refresh = None

    def compose(self) -> ComposeResult:
        yield DashboardHeader(self.services, id="feeds-header")
        yield Static(Content.styled(" Feed health", "bold"), id="feeds-title")
        yield FeedHealthTable(id="feed-table")
        yield Static(id="feed-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.services.feeds_changed.subscribe(self, self._feeds_changed)
        self.services.unread.changed.subscribe(self, self._feeds_changed)
        self.load_health()
        self.set_interval(10, self.load_health)  # relative times and backoffs move on
        self.query_one(FeedHealthTable).focus()

    def _feeds_changed(self, _: object) -> None:
        if not self.services.poll.polling:
            self._reload_after_burst()
        # 200 feeds finishing in a burst: one reload, a moment after the burst.
        elif self._pending_refresh is None:
            self._pending_refresh = self.set_timer(0.3, self._reload_after_burst)

    def _reload_after_burst(self) -> None:
        if self._pending_refresh is not None:
            self._pending_refresh.stop()
            self._pending_refresh = None
        self.services.sync_header(self.query_one(DashboardHeader))
        self.load_health()

    @work(thread=True, group="health", exclusive=True, exit_on_error=False)
    def load_health(self) -> None:
        s = self.services
        store, config, now = s.store, s.config, s.clock()
        states = store.feed_states()
        counts = store.items_per_feed()
        rows = [feed_health(f, states.get(f.key), counts.get(f.key, 0), now, config.polling)
                for f in config.feeds]
        _, unread = store.unread_counts()
        if not get_current_worker().is_cancelled:
            self.post_message(self.HealthLoaded(rows, now, unread))

    @on(HealthLoaded)
    def _show(self, message: HealthLoaded) -> None:
        table = self.query_one(FeedHealthTable)
        table.show(message.rows, message.now, message.unread)
        self._describe_selected()
        failing = sum(1 for h in message.rows if h.failing)
        title = Content.assemble((" Feed health", "bold"), f"  {len(message.rows)} feeds",
                                 (f"  {failing} failing", "$text-error bold") if failing else "")
        self.query_one("#feeds-title", Static).update(title)

    @on(DataTable.RowHighlighted)
    def _describe_selected(self) -> None:
        h = self.query_one(FeedHealthTable).selected
        box = self.query_one("#feed-detail", Static)
        box.update(describe(h, self.services.clock()) if h else
                   Content.styled("No feeds configured.", "$text-muted"))
        self.call_after_refresh(box.refresh, layout=True)  # see ItemDetail.show

    def _selected(self) -> FeedHealth | None:
        h = self.query_one(FeedHealthTable).selected
        if h is None:
            self.notify("No feed selected.", severity="warning", timeout=3, markup=False)
        return h

    def action_poll_feed(self) -> None:
        if h := self._selected():
            self.post_message(PollRequested(force=True, only=[h.key], what=h.name))

    def action_enable(self) -> None:
        if h := self._selected():
            self.post_message(FeedToggled(h.key, True))

    def action_disable(self) -> None:
        if h := self._selected():
            self.post_message(FeedToggled(h.key, False))

    def action_mark_feed_read(self) -> None:
        """The feed's unread items (in the recent window, as the Unread column) read."""
        if h := self._selected():
            self.services.marks.mark_all_read(
                [ItemFilter(feeds=frozenset({h.key}), archive=False)],
                f"in {safe_text(h.name, 80)}")

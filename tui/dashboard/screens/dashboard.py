"""The main screen: header, four panes (talks, sanctions, statements, other), the detail of
the selected item, the filter line, the status line and the footer.

Layout follows the terminal width (breakpoint classes on the screen, styled in app.tcss):
narrow terminals stack the panes with only the active one open and the detail below; normal
ones stack them beside the detail; wide ones tile them two by two.

The screen loads its panes, each load in a thread worker (queries in pane_queries):

- the first frame: the current week's newest rows, read from its file before the app runs
  (``preload``, screens/startup.py; the ``startup`` worker when that failed); a moment after
  it, ``deferred`` brings the recent window into memory and the panes are queried again (a
  page each); unread counts, stories, sparklines and the first poll follow.
- ``reclassify``: when the rules changed (at start, or in a config edited since), the stored
  items are re-classified newest week first while the panes keep their rows; each week's
  changed rows move to their new panes in place (state/reclassify.py).
- ``load`` (exclusive): the panes' queries again after a filter change. ``more``: one pane's
  next page ("load more", or the cursor reaching the bottom).
- A poll's new items are inserted at the top of their panes, in a few batches.
- ``sparklines``: items per day for the pane titles. ``briefing``: ``b`` saves the view.
"""
from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.events import DescendantFocus
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable
from textual.worker import Worker, get_current_worker

from feeds.analysis.clusters import cluster_of
from feeds.model import Item
from feeds.text import safe_text
from tui.dashboard.links import copy_link, open_link
from tui.dashboard.navigate import next_unread
from tui.dashboard.messages import (BriefingSaved, DeferredLoaded, MoreLoaded, PanesLoaded,
                                    Progress, Reclassified, SparklinesLoaded, WeekReclassified)
from tui.dashboard.screens import pane_queries
from tui.dashboard.screens.startup import read_first_frame, settle_collector, width_classes
from tui.dashboard.services import DashboardServices
from tui.dashboard.state.reclassify import Reclassification
from tui.dashboard.widgets.filter_bar import FilterBar, ViewFilter
from tui.dashboard.widgets.header import DashboardHeader
from tui.dashboard.widgets.item_detail import ItemDetail
from tui.dashboard.widgets.item_table import ItemTable
from tui.dashboard.widgets.key_footer import KeyFooter
from tui.dashboard.widgets.label_pane import LabelPane
from tui.dashboard.widgets.status_line import StatusLine
from tui.dashboard.workers import failure_text, progress_callback
from tui.render import PANE_TITLES, PANES, store_label

INSERT_DELAY = 0.5  # seconds: items landing in a burst are inserted together
BURST_DELAY = 2.0  # during a poll cycle: batches land every 2 s, and at its end
AFTER_FIRST_FRAME = 0.1  # seconds: the first frame is on screen before the window loads

if TYPE_CHECKING:
    from tui.dashboard.screens.briefing import BriefingRequest


class DashboardScreen(Screen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-normal"), (190, "-wide")]
    AUTO_FOCUS = "#table-talks"
    BINDINGS = [
        Binding("tab", "cycle_pane(1)", "Next pane", show=False),
        Binding("shift+tab", "cycle_pane(-1)", "Previous pane", show=False),
        Binding("o", "open_link", "Open"),
        Binding("y", "copy_link", "Copy link", show=False),
        Binding("m", "toggle_read", "Read"),
        Binding("n", "next_unread(1)", "Next unread", show=False),
        Binding("N", "next_unread(-1)", "Previous unread", show=False),
        Binding("A", "mark_pane_read", "Mark pane read", show=False),
        Binding("ctrl+a", "mark_shown_read", "Mark all shown read", show=False),
        Binding("U", "undo_marks", "Undo mark all", show=False),
        Binding("s", "toggle_star", "Star", show=False),  # the footer fits 80 columns without it
        Binding("l", "set_labels", "Labels"),
        Binding("slash", "filter", "Filter"),
        Binding("c", "toggle_stories", "Stories", show=False),
        Binding("t", "scope", "Feed/tag filter", show=False),
        Binding("a", "actor", "Actor filter", show=False),
        Binding("b", "briefing", "Save briefing", show=False),
        Binding("u", "unread_only", "Unread only", show=False),
        Binding("S", "starred_only", "Starred", show=False),
        Binding("L", "load_more", "Load more", show=False),
        Binding("escape", "clear_filters", "Clear filters", show=False),
        Binding("1", "show_pane('talks')", "Talks", show=False),
        Binding("2", "show_pane('sanctions')", "Sanctions", show=False),
        Binding("3", "show_pane('statements')", "Statements", show=False),
        Binding("4", "show_pane('other')", "Other", show=False),
    ]

    active: reactive[str] = reactive("talks")

    def __init__(self, services: DashboardServices, *, page_size: int) -> None:
        super().__init__(id="dashboard")
        self.services = services
        self.page_size = page_size
        self.view_filter = ViewFilter()
        self.grouped = False  # one row per story in the panes (c)
        self.loaded = False  # the first load of the panes has been shown
        # The recent window's older days are loading after the first paint (a store opened
        # with defer_older): stories, top-ups and the first poll wait.
        self.window_loading = False
        self._window_queried = False  # the panes were queried again with the whole window
        self._generation = 0  # bumped when the filter changes: stale loads are dropped
        self._pending_new: list[Item] = []
        self._insert_timer: Any = None
        self._inserting = False
        self.spark_day: int | None = None  # the day the sparklines were counted
        self.reclass = Reclassification(self, services)
        self._first_frame: PanesLoaded | None = None  # read before the app ran (preload)
        self._status: tuple[str, bool, bool] = ("", False, False)  # as set, before the run's

    def compose(self) -> ComposeResult:
        s = self.services
        # The width's class before the first styling: Textual adds it on the first Resize,
        # which would otherwise style every widget of the screen a second time.
        self.update_classes(width_classes(self.HORIZONTAL_BREAKPOINTS, self.app.size.width),
                            update=False)
        yield DashboardHeader(self.services, id="header")
        with Container(id="body"):
            with Container(id="panes"):
                for pane in PANES:
                    yield LabelPane(pane, clock=s.clock, flags_of=s.marks.flags_of,
                                    page_size=self.page_size, sources_of=s.stories.sources,
                                    corrected=s.labels.is_corrected)
            yield ItemDetail(compact=True, id="detail")
        yield FilterBar(id="filter-bar")
        yield StatusLine(id="status")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.watch_active(self.active)
        s = self.services
        s.marks.changed.subscribe(self, self._flags_changed)
        s.labels.changed.subscribe(self, self._labels_changed)
        s.stories.changed.subscribe(self, self._stories_changed)
        s.unread.changed.subscribe(self, self._unread_changed)
        s.feeds_changed.subscribe(self, self.reclass.config_changed)
        text, busy, problem = s.backend.startup_status()
        self.set_status(text, busy=busy, problem=problem)
        first, self._first_frame = self._first_frame, None
        if first is not None:
            self._show_first_frame(first)
        else:
            self._startup()

    # --- parts ---------------------------------------------------------------------------

    def pane(self, name: str) -> LabelPane:
        return self.query_one(f"#pane-{name}", LabelPane)

    def panes(self) -> list[LabelPane]:
        return list(self.query(LabelPane))

    @property
    def header(self) -> DashboardHeader:
        return self.query_one(DashboardHeader)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def detail(self) -> ItemDetail:
        return self.query_one("#detail", ItemDetail)

    @property
    def selected_item(self) -> Item | None:
        return self.pane(self.active).selected_item

    def set_status(self, text: str, busy: bool = False, problem: bool = False) -> None:
        self._status = (text, busy, problem)
        text, busy = self.reclass.status(text, busy)  # a re-classification's progress first
        status = self.status
        status.activity, status.busy, status.problem = text, busy, problem

    def _idle_unless_polling(self) -> None:
        if not self.services.poll.polling:
            self.services.poll.show_idle()

    # --- the active pane and the detail that follows it ----------------------------------

    def watch_active(self, active: str) -> None:
        for pane in self.panes():
            pane.set_class(pane.pane == active, "-active")
        self.show_selected()

    def show_selected(self) -> None:
        item = self.selected_item
        self.detail.show(self.services.detail_view(item) if item else None)

    def _flags_changed(self, item_id: str) -> None:
        for pane in self.panes():
            pane.refresh_item(item_id)
        self.show_selected()
        self.services.unread.recount()

    def _unread_changed(self, _: object) -> None:
        for pane in self.panes():
            pane.set_unread(self.services.unread.label(store_label(pane.pane)))

    def _labels_changed(self, item: Item) -> None:
        """Labels set by hand: the item moves to its panes, the counts and sparklines follow
        (the queries read the store, which holds the corrected item)."""
        self.reload_panes()
        self.load_sparklines()

    def _stories_changed(self, clusters: set[str] | None) -> None:
        """Badges of the stories that grew, and the detail if it shows one of them."""
        for pane in self.panes():
            pane.refresh_badges(clusters)
        item = self.detail.item
        if item is not None and (clusters is None or cluster_of(item) in clusters):
            self.show_selected()

    def restyle(self) -> None:
        """The theme changed: the rows' colours."""
        for pane in self.panes():
            pane.restyle()

    @on(DescendantFocus)
    def _follow_focus(self, event: DescendantFocus) -> None:
        if isinstance(event.widget, ItemTable):
            self.active = event.widget.pane

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if isinstance(table, ItemTable) and table.pane == self.active:
            self.show_selected()
            # Reached the bottom: page older items in (not while the recent window is
            # still loading: its answer replaces the rows, and tops short panes up itself).
            if event.cursor_row >= table.row_count - 1 and not self.window_loading:
                self.load_more(table.pane)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        table = event.data_table
        if isinstance(table, ItemTable):
            self.active = table.pane
            item = table.selected_item
            if item is not None:
                self.services.open_item(item)

    def action_cycle_pane(self, step: int) -> None:
        index = (PANES.index(self.active) + step) % len(PANES)
        self.action_show_pane(PANES[index])

    def action_show_pane(self, name: str) -> None:
        self.active = name
        self.pane(name).focus_table()

    # --- actions on the selected item ----------------------------------------------------

    def _selected_or_hint(self) -> Item | None:
        item = self.selected_item
        if item is None:
            self.notify("No item selected.", severity="warning", timeout=3, markup=False)
        return item

    def action_open_link(self) -> None:
        if item := self._selected_or_hint():
            open_link(self.app, item)

    def action_copy_link(self) -> None:
        if item := self._selected_or_hint():
            copy_link(self.app, item)

    def action_toggle_read(self) -> None:
        if item := self._selected_or_hint():
            self.services.marks.toggle_read(item)

    def action_toggle_star(self) -> None:
        if item := self._selected_or_hint():
            self.services.marks.toggle_star(item)

    def action_set_labels(self) -> None:
        if item := self._selected_or_hint():
            from tui.dashboard.screens.labels import edit_labels

            edit_labels(self.app, self.services, item)

    def action_load_more(self) -> None:
        if not self.load_more(self.active):
            self.notify("Nothing more stored for this pane (or already loading).", timeout=3,
                        markup=False)

    async def action_toggle_stories(self) -> None:
        """One row per item, or one row per story (its newest item, "N▸" = N feeds)."""
        self.grouped = not self.grouped
        for pane in self.panes():
            await pane.set_grouped(self.grouped)
        self.show_selected()

    # --- unread: jump to it, clear a backlog --------------------------------------------

    def action_next_unread(self, step: int) -> None:
        """The next (previous) unread row, on through the other panes."""
        panes = [(p.pane, [row.key.value for row in p.table.ordered_rows]) for p in self.panes()]
        names = [name for name, _ in panes]
        table = self.pane(self.active).table
        row = table.cursor_row if table.row_count else -1
        flags_of = self.services.marks.flags_of
        found = next_unread(panes, names.index(self.active), row, step,
                            lambda iid: not flags_of(iid).read)
        if found is None:
            other = "other " if row >= 0 and not flags_of(table.ordered_rows[row].key.value).read else ""
            self.notify(f"No {other}unread item shown.", timeout=3, markup=False)
            return
        pane, item_id = found
        self.action_show_pane(pane)
        self.pane(pane).table.select(item_id)

    def step_selected(self, step: int) -> Item | None:
        """Move the active pane's cursor ``step`` rows (the item screen's next / previous);
        the item there, or None at either end."""
        table = self.pane(self.active).table
        row = table.cursor_row + step
        if not 0 <= row < table.row_count:
            return None
        table.move_cursor(row=row)
        return table.selected_item

    def _mark_read(self, panes: tuple[str | None, ...], shown: list[str], what: str) -> None:
        view = self.view_filter
        # Unfiltered: the recent window (what the unread counts cover) and the rows paged in
        # from older weeks; under a filter, every match in the store.
        filters = [replace(view.item_filter(p, limit=None), archive=view.active)
                   for p in panes]
        self.services.marks.mark_all_read(filters, what, shown)

    def action_mark_pane_read(self) -> None:
        """Every unread item of the active pane under the current filter: read."""
        shown = list(self.pane(self.active).table.items)
        self._mark_read((self.active,), shown, f"in {PANE_TITLES[self.active]}")

    def action_mark_shown_read(self) -> None:
        """Every unread item of every pane under the current filter: read."""
        shown = [iid for pane in self.panes() for iid in pane.table.items]
        self._mark_read((None,), shown, "in every pane")  # None: any label, or none

    def action_undo_marks(self) -> None:
        self.services.marks.undo()

    # --- filters -------------------------------------------------------------------------

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.add_class("-shown")
        bar.focus()

    @on(FilterBar.FilterChanged)
    def _filter_changed(self, event: FilterBar.FilterChanged) -> None:
        self.set_filter(self.view_filter.with_text(event.text))
        if event.done:
            bar = self.query_one(FilterBar)
            if not bar.value:
                bar.remove_class("-shown")
            self.pane(self.active).focus_table()

    def set_filter(self, view: ViewFilter) -> None:
        if view == self.view_filter:
            return
        self.view_filter = view
        self.status.scope = view.describe()
        self.reload_panes()

    def action_clear_filters(self) -> None:
        bar = self.query_one(FilterBar)
        with bar.prevent(FilterBar.Changed):
            bar.value = ""
        bar.remove_class("-shown")
        self.clear_filters()

    def clear_filters(self) -> None:
        if self.view_filter.active:
            self.set_filter(ViewFilter())

    def action_unread_only(self) -> None:
        self.set_filter(replace(self.view_filter, unread_only=not self.view_filter.unread_only))

    def action_starred_only(self) -> None:
        self.set_filter(replace(self.view_filter, starred_only=not self.view_filter.starred_only))

    def action_scope(self) -> None:
        from tui.dashboard.screens import dialogs
        dialogs.choose_scope(self)

    def action_actor(self) -> None:
        """Filter every pane to the items naming one actor (a name or any alias)."""
        from tui.dashboard.screens import dialogs
        dialogs.choose_actor(self)

    # --- the first load --------------------------------------------------------------------

    def preload(self) -> None:
        """(before the app runs) The first frame's rows, read so that it shows them."""
        self._first_frame = read_first_frame(self.services.store, self.view_filter,
                                             self.page_size, self.reclass.written)

    @work(thread=True, group="startup", exit_on_error=False, name="startup")
    def _startup(self) -> None:
        self._query_panes(self._generation, self.view_filter,
                          {p: self.page_size for p in PANES}, initial=True)

    def _progress(self, what: str) -> Any:
        return progress_callback(self.post_message, what, lambda: self.services.poll.closing)

    def _query_panes(self, generation: int, view: ViewFilter, limits: dict[str, int],
                     initial: bool) -> None:
        """(worker thread) Query each pane's page and post them together."""
        worker, weeks = get_current_worker(), self.reclass.written
        progress = self._progress("searching the archive") if view.active else None
        loaded = pane_queries.query_panes(self.services.store, generation, view, limits,
                                          initial, progress, lambda: worker.is_cancelled,
                                          lines=self.app.size.height)
        if loaded is not None and not worker.is_cancelled:
            loaded.weeks = weeks
            self.post_message(loaded)

    def reload_panes(self) -> None:
        """Query the panes again (after a filter change), each with its current page size."""
        self._generation += 1
        limits = {pane.pane: pane.limit for pane in self.panes()}  # a page at least
        if self.view_filter.active:
            self.set_status("searching…", busy=True)
        self._load_panes(self._generation, self.view_filter, limits)

    @work(thread=True, group="load", exclusive=True, exit_on_error=False, name="load panes")
    def _load_panes(self, generation: int, view: ViewFilter, limits: dict[str, int]) -> None:
        self._query_panes(generation, view, limits, initial=False)

    @on(PanesLoaded)
    async def _panes_loaded(self, message: PanesLoaded) -> None:
        if message.generation != self._generation:
            return
        self._note_loaded(message)
        filtered = self.view_filter.active
        for pane in self.panes():
            items, has_more = message.results[pane.pane]
            await pane.show(items, has_more=has_more, filtered=filtered,
                            total=message.counts.get(store_label(pane.pane)))
        self._after_panes_shown(message)

    def _show_first_frame(self, first: PanesLoaded) -> None:
        """(on mount) The rows read before the app ran (preload), in the first frame."""
        self._note_loaded(first)
        rows = pane_queries.first_frame_rows(self.app.size.height)
        for pane in self.panes():
            items, has_more = first.results[pane.pane]
            pane.show_first(items, has_more=has_more, rows=rows,
                            total=first.counts.get(store_label(pane.pane)))
        self._after_panes_shown(first)

    def _note_loaded(self, message: PanesLoaded) -> None:
        s = self.services
        s.marks.reloaded((it for rows, _ in message.results.values() for it in rows),
                         message.flags)
        s.labels.reloaded(message.corrected)
        s.poll.note(message.counts, message.last_poll)
        s.headers_changed.publish(None)

    def _after_panes_shown(self, message: PanesLoaded) -> None:
        s = self.services
        self.show_selected()
        if not (window_to_come := message.initial and getattr(s.store, "deferred", False)):
            s.unread.recount()
        self.status.scope = self.view_filter.describe()
        if message.initial:
            self.loaded = True
            settle_collector()
            if window_to_come:
                # The first frame showed the current week; the rest of the recent window
                # comes next, and the panes are queried again with it.
                self.window_loading = True
                self.app.call_after_refresh(self.set_timer, AFTER_FIRST_FRAME, self._load_deferred)
            else:
                self._window_loaded()
        elif self.window_loading and self._window_queried:
            self.window_loading = False  # the first answer with the whole window (or a filter)
            self._window_loaded()
        elif not s.poll.polling:
            s.poll.show_idle()
        if self.reclass.stale(message.weeks):  # rows moved since this query began
            self.reload_panes()

    @work(thread=True, group="deferred", exit_on_error=False, name="recent weeks")
    def _load_deferred(self) -> None:
        try:
            added, error = pane_queries.load_window(self.services.store), None
        except Exception as e:  # noqa: BLE001 - a corrupt older week: say so, keep the current one
            added, error = 0, f"{e.__class__.__name__}: {e}"
        self.post_message(DeferredLoaded(added, error))

    @on(DeferredLoaded)
    def _deferred_loaded(self, message: DeferredLoaded) -> None:
        if message.error:
            self.notify(f"Could not load the older days of the recent window: "
                        f"{safe_text(message.error, 300)}", title="Store",
                        severity="error", timeout=10, markup=False)
        # Query the panes again, now with the whole recent window. The next answer (this
        # one, or a filter's typed meanwhile) ends the start-up: _window_loaded.
        self._window_queried = True
        self.reload_panes()

    def _window_loaded(self) -> None:
        """The recent window is on screen: top-ups, then the app's stories, sparklines and
        first poll."""
        self._top_up()
        self.reclass.start()
        self.services.window_loaded()

    def _top_up(self) -> None:
        if not self.view_filter.active:  # short panes: filled from older weeks
            for pane in self.panes():
                if missing := pane.short_of(self.page_size):
                    self.load_more(pane.pane, missing)

    # --- re-classification after a rules change (state/reclassify.py) ----------------------

    @on(WeekReclassified)
    async def _week_reclassified(self, message: WeekReclassified) -> None:
        await self.reclass.apply(message, self.panes(), self.view_filter)
        self.set_status(*self._status)
        self.show_selected()

    @on(Reclassified)
    def _reclassified(self, message: Reclassified) -> None:
        if self.reclass.finished(message):  # labels moved: sparklines; short panes topped up
            self.load_sparklines()
            self._top_up()
        self.set_status(*self._status)
        self._idle_unless_polling()

    # --- load more -------------------------------------------------------------------------

    def load_more(self, pane_name: str, count: int | None = None) -> bool:
        """Page the next older items (``count``, default a page) of a pane in. False if
        there is nothing more."""
        pane = self.pane(pane_name)
        if not pane.can_load_more:
            return False
        offset = pane.start_loading_more()
        self._load_more(self._generation, pane_name, self.view_filter, offset,
                        count or self.page_size)
        return True

    @work(thread=True, group="more", exit_on_error=False, name="load more")
    def _load_more(self, generation: int, pane: str, view: ViewFilter, offset: int,
                   limit: int) -> None:
        weeks = self.reclass.written
        try:
            loaded = pane_queries.query_more(self.services.store, generation, pane, view,
                                             offset, limit, self._progress("reading older weeks"))
        except BaseException:
            self.post_message(MoreLoaded(-1, pane, [], True, {}))  # the pane may retry
            raise
        loaded.weeks = weeks
        self.post_message(loaded)

    @on(MoreLoaded)
    async def _more_loaded(self, message: MoreLoaded) -> None:
        current = message.generation == self._generation
        if current:
            self.services.marks.flags.update(message.flags)
        await self.pane(message.pane).more_loaded(message.items if current else None,
                                                  message.has_more)
        self._idle_unless_polling()
        if current and self.reclass.stale(message.weeks):  # rows moved since it was read
            self.reload_panes()

    @on(Progress)
    def _show_progress(self, message: Progress) -> None:
        self.set_status(message.text, busy=True)

    # --- new items from a poll -------------------------------------------------------------

    @property
    def inserts_pending(self) -> bool:
        return bool(self._pending_new) or self._insert_timer is not None or self._inserting

    def add_new(self, items: list[Item]) -> None:
        """A feed's new items: inserted with the others landing in the same burst."""
        self._pending_new.extend(items)
        if self._insert_timer is None:
            # A cold poll lands thousands of items: insert them in a few large batches
            # (each a refill of the panes), not in many small ones.
            delay = BURST_DELAY if self.services.poll.polling else INSERT_DELAY
            self._insert_timer = self.set_timer(delay, self.insert_pending)

    async def flush_new(self) -> None:
        """The poll ended: what landed is inserted now."""
        if self._insert_timer is not None:
            self._insert_timer.stop()
        await self.insert_pending()

    async def insert_pending(self) -> None:
        """Put the items that landed since the last call at the top of their panes, one
        pane per turn of the event loop (a refill costs a few tens of milliseconds)."""
        self._insert_timer = None
        if self._inserting:
            return  # the running pass picks up what has landed since
        self._inserting = True
        try:
            while self._pending_new:
                items, self._pending_new = self._pending_new, []
                await self._insert(items)
        finally:
            self._inserting = False

    async def _insert(self, items: list[Item]) -> None:
        view, poll = self.view_filter, self.services.poll
        by_pane = pane_queries.by_pane(items)
        await asyncio.sleep(0)
        for pane in self.panes():
            pane_items = by_pane.get(pane.pane)
            if pane_items and view.active:
                pane_items = view.admitted(pane_items, pane.pane)
            if pane_items:
                await pane.insert(pane_items)
                await asyncio.sleep(0)
            pane.set_total(poll.counts.get(store_label(pane.pane)))
        self.services.unread.recount()
        self.services.headers_changed.publish(None)
        self.services.stories.redraw()

    # --- sparklines and briefings -----------------------------------------------------------

    @work(thread=True, group="sparklines", exclusive=True, exit_on_error=False, name="sparklines")
    def load_sparklines(self) -> None:
        now = self.services.clock()
        self.post_message(SparklinesLoaded(pane_queries.sparklines(self.services.store, now),
                                           int(now // 86400)))

    @on(SparklinesLoaded)
    def _sparklines_loaded(self, message: SparklinesLoaded) -> None:
        self.spark_day = message.day
        for pane in self.panes():
            pane.set_trend(message.labels.get(store_label(pane.pane), ()))

    def tick(self) -> None:
        """(every 30 s) A new day: the sparklines move on."""
        if self.loaded and self.spark_day is not None and \
                int(self.services.clock() // 86400) != self.spark_day:
            self.load_sparklines()

    def action_briefing(self) -> None:
        """Save the current view (every pane, the current filter) as a briefing."""
        from tui.dashboard.screens import dialogs
        dialogs.ask_briefing(self)

    @work(thread=True, group="briefing", exit_on_error=False, name="save briefing")
    def write_briefing(self, request: BriefingRequest, view: ViewFilter) -> None:
        from tui.dashboard.screens.briefing import write_briefing

        s = self.services
        self.post_message(write_briefing(s.store, s.config, view, request, s.clock,
                                         self._progress("reading older weeks")))

    @on(BriefingSaved)
    def _briefing_saved(self, message: BriefingSaved) -> None:
        self._idle_unless_polling()
        if message.text is not None:
            html = message.path.suffix == ".html"
            self.services.deliver_text(io.StringIO(message.text),
                                       save_filename=message.path.name, open_method="download",
                                       mime_type="text/html" if html else "text/markdown")
        from tui.dashboard.screens.briefing import briefing_saved_text

        title, text, error = briefing_saved_text(message)
        self.notify(text, title=title, severity="error" if error else "information",
                    timeout=10 if error else 8, markup=False)

    # --- failures --------------------------------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """This screen's workers that failed (workers never exit the app)."""
        worker = event.worker
        text = failure_text(worker)
        if text is None:
            return
        self.notify(text, title="Something went wrong", severity="error", timeout=10,
                    markup=False)
        if worker.group == "startup" and not self.loaded:
            self.loaded = True
            self.set_status("could not read the store: " + safe_text(str(worker.error), 200),
                            problem=True)
        elif worker.group in ("load", "more"):
            self.services.poll.show_idle()
        elif worker.group == "briefing":  # as _briefing_saved
            self._idle_unless_polling()

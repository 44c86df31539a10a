"""The main screen: header, four panes (talks, sanctions, statements, other), the detail of
the selected item, the filter line, the status line and the footer.

Layout follows the terminal width (breakpoint classes on the screen, styled in app.tcss):
narrow terminals stack the panes with only the active one open and the detail below; normal
ones stack them beside the detail; wide ones tile them two by two.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.events import DescendantFocus
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from feeds.model import Item
from tui.render import PANES
from tui.dashboard.widgets.filter_bar import FilterBar
from tui.dashboard.widgets.header import DashboardHeader
from tui.dashboard.widgets.item_detail import ItemDetail
from tui.dashboard.widgets.item_table import ItemTable
from tui.dashboard.widgets.label_pane import LabelPane
from tui.dashboard.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from tui.dashboard.app import DiplowatchApp


class DashboardScreen(Screen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-normal"), (190, "-wide")]
    AUTO_FOCUS = "#table-talks"
    BINDINGS = [
        Binding("tab", "cycle_pane(1)", "Next pane", show=False),
        Binding("shift+tab", "cycle_pane(-1)", "Previous pane", show=False),
        Binding("o", "open_link", "Open"),
        Binding("y", "copy_link", "Copy link", show=False),
        Binding("m", "toggle_read", "Read"),
        Binding("s", "toggle_star", "Star"),
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

    def __init__(self, *, page_size: int) -> None:
        super().__init__(id="dashboard")
        self.page_size = page_size

    @property
    def dw(self) -> "DiplowatchApp":
        return cast("DiplowatchApp", self.app)

    def compose(self) -> ComposeResult:
        yield DashboardHeader(id="header")
        with Container(id="body"):
            with Container(id="panes"):
                for pane in PANES:
                    yield LabelPane(pane, clock=self.dw.clock, flags_of=self.dw.flags_of,
                                    page_size=self.page_size, sources_of=self.dw.story_sources)
            yield ItemDetail(compact=True, id="detail")
        yield FilterBar(id="filter-bar")
        yield StatusLine(id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.watch_active(self.active)
        self.dw.dashboard_mounted()

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
    def active_table(self) -> ItemTable:
        return self.pane(self.active).table

    @property
    def selected_item(self) -> Item | None:
        return self.active_table.selected_item

    # --- the active pane and the detail that follows it ----------------------------------

    def watch_active(self, active: str) -> None:
        for pane in self.panes():
            pane.set_class(pane.pane == active, "-active")
        self.show_selected()

    def show_selected(self) -> None:
        item = self.selected_item
        self.detail.show(self.dw.detail_view(item) if item else None)

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
            if event.cursor_row >= table.row_count - 1 and not self.dw.window_loading:
                self.dw.load_more(table.pane)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        table = event.data_table
        if isinstance(table, ItemTable):
            self.active = table.pane
            item = table.selected_item
            if item is not None:
                self.dw.open_item(item)

    def action_cycle_pane(self, step: int) -> None:
        index = (PANES.index(self.active) + step) % len(PANES)
        self.action_show_pane(PANES[index])

    def action_show_pane(self, name: str) -> None:
        self.active = name
        self.pane(name).table.focus()

    # --- actions on the selected item ----------------------------------------------------

    def _selected_or_hint(self) -> Item | None:
        item = self.selected_item
        if item is None:
            self.notify("No item selected.", severity="warning", timeout=3, markup=False)
        return item

    def action_open_link(self) -> None:
        if item := self._selected_or_hint():
            self.dw.open_link(item)

    def action_copy_link(self) -> None:
        if item := self._selected_or_hint():
            self.dw.copy_link(item)

    def action_toggle_read(self) -> None:
        if item := self._selected_or_hint():
            self.dw.toggle_read(item)

    def action_toggle_star(self) -> None:
        if item := self._selected_or_hint():
            self.dw.toggle_star(item)

    def action_load_more(self) -> None:
        if not self.dw.load_more(self.active):
            self.notify("Nothing more stored for this pane (or already loading).", timeout=3, markup=False)

    # --- filters -------------------------------------------------------------------------

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.add_class("-shown")
        bar.focus()

    @on(FilterBar.FilterChanged)
    def _filter_changed(self, event: FilterBar.FilterChanged) -> None:
        self.dw.set_filter(self.dw.view_filter.with_text(event.text))
        if event.done:
            bar = self.query_one(FilterBar)
            if not bar.value:
                bar.remove_class("-shown")
            self.active_table.focus()

    def action_scope(self) -> None:
        self.dw.choose_scope()

    def action_actor(self) -> None:
        self.dw.choose_actor()

    async def action_toggle_stories(self) -> None:
        await self.dw.toggle_grouped()

    def action_briefing(self) -> None:
        self.dw.save_briefing()

    def action_unread_only(self) -> None:
        self.dw.toggle_unread_only()

    def action_starred_only(self) -> None:
        self.dw.toggle_starred_only()

    def action_clear_filters(self) -> None:
        bar = self.query_one(FilterBar)
        with bar.prevent(FilterBar.Changed):
            bar.value = ""
        bar.remove_class("-shown")
        self.dw.clear_filters()

"""One item on its own screen (enter): the full detail, scrollable (arrows, pgup/pgdn), with
its actions; j/k (n/p) go on to the next / previous item of the pane it was opened from."""
from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from feeds.analysis.clusters import cluster_of
from feeds.model import Item
from tui.dashboard.links import copy_link, open_link
from tui.dashboard.screens.labels import edit_labels
from tui.dashboard.services import DashboardServices
from tui.dashboard.widgets.header import DashboardHeader
from tui.dashboard.widgets.item_detail import ItemDetail


class ItemScreen(Screen):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("o", "open_link", "Open link"),
        # The footer fits 80 columns without these; the help screen and the palette list them.
        Binding("y", "copy_link", "Copy link", show=False),
        Binding("m", "toggle_read", "Read"),
        Binding("s", "toggle_star", "Star", show=False),
        Binding("l", "set_labels", "Labels"),
        Binding("j,n", "step(1)", "Next item"),
        Binding("k,p", "step(-1)", "Previous item", show=False),
        # The App's keys, the same here but out of this footer (it keeps j, l, q and ?).
        Binding("r", "app.refresh", "Refresh", show=False),
        Binding("f", "app.open_screen('feeds')", "Feeds", show=False),
    ]

    def __init__(self, item: Item, services: DashboardServices, *,
                 step: Callable[[int], Item | None] | None = None) -> None:
        """``step(n)`` moves the pane's cursor n rows and returns the item there (None at
        either end): the main screen's ``step_selected``."""
        super().__init__(id="item-screen")
        self.item = item
        self.services = services
        self._step = step

    def compose(self) -> ComposeResult:
        yield DashboardHeader(self.services, id="item-header")
        yield ItemDetail(focusable=True, id="item-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        s = self.services
        s.marks.changed.subscribe(self, self._flags_changed)
        s.labels.changed.subscribe(self, self._labels_changed)
        s.stories.changed.subscribe(self, self._stories_changed)
        self.refresh_detail()
        self.query_one(ItemDetail).focus()

    def _flags_changed(self, item_id: str) -> None:
        if item_id in ("", self.item.id):  # "": many items marked at once
            self.refresh_detail()

    def _labels_changed(self, item: Item) -> None:
        if item.id == self.item.id:
            self.item = item  # as now stored: its new labels
            self.refresh_detail()

    def _stories_changed(self, clusters: set[str] | None) -> None:
        if clusters is None or cluster_of(self.item) in clusters:
            self.refresh_detail()

    def refresh_detail(self) -> None:
        for detail in self.query(ItemDetail):
            detail.show(self.services.detail_view(self.item))

    def action_open_link(self) -> None:
        open_link(self.app, self.item)

    def action_copy_link(self) -> None:
        copy_link(self.app, self.item)

    def action_toggle_read(self) -> None:
        self.services.marks.toggle_read(self.item)

    def action_toggle_star(self) -> None:
        self.services.marks.toggle_star(self.item)

    def action_set_labels(self) -> None:
        edit_labels(self.app, self.services, self.item)

    def action_step(self, step: int) -> None:
        """The next / previous item of the pane, shown here and marked read (as enter does)."""
        item = self._step(step) if self._step is not None else None
        if item is None:
            self.notify("No more items in this list." if step > 0 else "This is the first item.",
                        timeout=2, markup=False)
            return
        self.item = item
        marks = self.services.marks
        if not marks.flags_of(item.id).read and self.services.backend.can_write:
            marks.set(item.id, read=True)
        self.refresh_detail()
        self.query_one(ItemDetail).scroll_home(animate=False)

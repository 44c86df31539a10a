"""One item on its own screen (enter): the full detail, scrollable, with its actions."""
from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from feeds.model import Item
from tui.dashboard.widgets.header import DashboardHeader
from tui.dashboard.widgets.item_detail import ItemDetail

if TYPE_CHECKING:
    from tui.dashboard.app import DiplowatchApp


class ItemScreen(Screen):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("o", "open_link", "Open link"),
        Binding("y", "copy_link", "Copy link"),
        Binding("m", "toggle_read", "Read"),
        Binding("s", "toggle_star", "Star"),
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    def __init__(self, item: Item) -> None:
        super().__init__(id="item-screen")
        self.item = item

    @property
    def dw(self) -> "DiplowatchApp":
        return cast("DiplowatchApp", self.app)

    def compose(self) -> ComposeResult:
        yield DashboardHeader(id="item-header")
        yield ItemDetail(focusable=True, id="item-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.dw.sync_header(self.query_one(DashboardHeader))
        self.refresh_detail()
        self.query_one(ItemDetail).focus()

    def refresh_detail(self) -> None:
        for detail in self.query(ItemDetail):
            detail.show(self.dw.detail_view(self.item))

    def action_open_link(self) -> None:
        self.dw.open_link(self.item)

    def action_copy_link(self) -> None:
        self.dw.copy_link(self.item)

    def action_toggle_read(self) -> None:
        self.dw.toggle_read(self.item)

    def action_toggle_star(self) -> None:
        self.dw.toggle_star(self.item)

    def action_scroll_down(self) -> None:
        self.query_one(ItemDetail).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one(ItemDetail).scroll_up()

"""What the screens that list items over a detail (watch, review) do with the selected one:
show it in the detail, open it on its own screen (whose next / previous then walk this
list), open its link (o), copy it (y)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from feeds.model import Item
from tui.dashboard.links import copy_link, open_link
from tui.dashboard.widgets.item_detail import ItemDetail

if TYPE_CHECKING:
    from textual.app import App
    from textual.widgets import DataTable

    from tui.dashboard.services import DashboardServices


class SelectedItemActions:
    """Mixed into a Screen that has ``services``, an ItemDetail and a ``listing``: its table
    of items, with a ``selected_item``."""

    services: "DashboardServices"
    app: "App"
    query_one: Any

    @property
    def listing(self) -> "DataTable":
        raise NotImplementedError

    @property
    def selected_item(self) -> Item | None:
        return self.listing.selected_item  # type: ignore[attr-defined]

    def show_selected_detail(self) -> None:
        """The selected item (as it is now) in the detail; none, an empty detail."""
        item = self.selected_item
        self.query_one(ItemDetail).show(None if item is None else self.services.detail_view(item))

    def step_selected(self, step: int) -> Item | None:
        """Move the list's cursor ``step`` rows (the item screen's next / previous); the item
        there, or None at either end."""
        table = self.listing
        row = table.cursor_row + step
        if not 0 <= row < table.row_count:
            return None
        table.move_cursor(row=row)
        return self.selected_item

    def _selected_or_say(self) -> Item | None:
        item = self.selected_item
        if item is None:
            self.app.notify("No item selected.", severity="warning", timeout=3, markup=False)
        return item

    def open_selected(self) -> None:
        """enter or a click on the selected row: the item on its own screen."""
        item = self.selected_item
        if item is not None:
            self.services.open_item(item, self.step_selected)

    def action_open_link(self) -> None:
        if (item := self._selected_or_say()) is not None:
            open_link(self.app, item)

    def action_copy_link(self) -> None:
        if (item := self.selected_item) is not None:
            copy_link(self.app, item)

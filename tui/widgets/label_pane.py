"""A pane: a title line (label, counts, whether more is stored) over an ItemTable.

The pane knows its cap: how many rows it keeps (a page, grown by "load more"); older items
stay in the store and are paged in on demand or reached through the filter.
"""
from __future__ import annotations

from typing import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.events import Click
from textual.message import Message
from textual.widgets import Static

from storage.query import Flags
from tui.render import PANE_TITLES, label_style
from tui.widgets.item_table import ItemTable

MAX_ROWS = 5000  # "load more" stops here; the filter reaches further


class PaneTitle(Static):
    """The one-line title of a pane; clicking it activates the pane."""

    class Clicked(Message):
        pass

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(self.Clicked())


class LabelPane(Vertical):
    def __init__(self, pane: str, *, clock: Callable[[], float],
                 flags_of: Callable[[str], Flags], page_size: int) -> None:
        super().__init__(id=f"pane-{pane}", classes=f"label-pane -{pane}")
        self.pane = pane
        self.page_size = page_size
        self.limit = page_size  # rows kept; grows by a page on "load more"
        self.has_more = False  # the last query filled its page: the store may hold more
        self.total: int | None = None  # items with this label in the store (unfiltered)
        self.filtered = False
        self.loading_more = False
        self._clock = clock
        self._flags_of = flags_of

    def compose(self) -> ComposeResult:
        yield PaneTitle(self._title(), classes="pane-title")
        yield ItemTable(self.pane, clock=self._clock, flags_of=self._flags_of,
                        id=f"table-{self.pane}")

    @property
    def table(self) -> ItemTable:
        return self.query_one(ItemTable)

    def _title(self) -> Content:
        name = PANE_TITLES.get(self.pane, self.pane.title())
        shown = len(self.table.items) if self.is_mounted and self.children else 0
        parts: list[Content | str] = [Content.styled(f"● {name}", label_style(self.pane, "bold")),
                                      "  "]
        if self.filtered:
            parts.append(Content.styled(f"{shown}{'+' if self.has_more else ''} match",
                                        "$text-muted"))
        elif self.total is not None:
            parts.append(Content.styled(f"{self.total:,}", "bold"))
            if self.total > shown:
                parts.append(Content.styled(f"  newest {shown}", "$text-muted"))
        if self.loading_more:
            parts.append(Content.styled("  loading more…", "$text-muted italic"))
        return Content.assemble(*parts)

    def update_title(self) -> None:
        if self.is_mounted:
            self.query_one(PaneTitle).update(self._title())

    @on(PaneTitle.Clicked)
    def _focus_table(self) -> None:
        self.table.focus()

    @property
    def can_load_more(self) -> bool:
        return self.has_more and not self.loading_more and len(self.table.items) < MAX_ROWS

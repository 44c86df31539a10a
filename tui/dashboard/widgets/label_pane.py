"""A pane: a title line (label, counts, whether more is stored, and the label's items per day
as a sparkline) over an ItemTable.

The pane knows its cap: how many rows it keeps (a page, grown by "load more"); older items
stay in the store and are paged in on demand or reached through the filter.
"""
from __future__ import annotations

from typing import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Click
from textual.message import Message
from textual.widgets import Sparkline, Static

from feeds.model import Item
from storage.query import Flags
from tui.render import PANE_TITLES, label_style
from tui.dashboard.widgets.item_table import ItemTable

MAX_ROWS = 5000  # "load more" stops here; the filter reaches further


SPARK_DAYS = 14  # the title's sparkline: items per day over the last two weeks


class PaneTitle(Static):
    """The words of a pane's title line."""


class PaneHead(Horizontal):
    """The one-line head of a pane (title and sparkline); clicking it activates the pane."""

    class Clicked(Message):
        pass

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(self.Clicked())


class LabelPane(Vertical):
    def __init__(self, pane: str, *, clock: Callable[[], float],
                 flags_of: Callable[[str], Flags], page_size: int,
                 sources_of: Callable[[Item], int] | None = None) -> None:
        super().__init__(id=f"pane-{pane}", classes=f"label-pane -{pane}")
        self.pane = pane
        self.limit = page_size  # rows kept; grows by a page on "load more"
        self.has_more = False  # the last query filled its page: the store may hold more
        self.total: int | None = None  # items with this label in the store (unfiltered)
        self.filtered = False
        self.loading_more = False
        self._clock = clock
        self._flags_of = flags_of
        self._sources_of = sources_of

    def compose(self) -> ComposeResult:
        with PaneHead(classes="pane-head"):
            yield PaneTitle(self._title(), classes="pane-title")
            spark = Sparkline([], classes="pane-spark", id=f"spark-{self.pane}")
            spark.tooltip = f"{PANE_TITLES.get(self.pane, self.pane)}: items per day, " \
                            f"last {SPARK_DAYS} days (T: trends)"
            yield spark
        yield ItemTable(self.pane, clock=self._clock, flags_of=self._flags_of,
                        sources_of=self._sources_of, id=f"table-{self.pane}")

    def set_trend(self, daily: tuple[int, ...] | list[int]) -> None:
        """Items per day, oldest first, for the title's sparkline."""
        spark = self.query_one(Sparkline)
        data = list(daily)
        if spark.data != data:
            spark.data = data

    @property
    def table(self) -> ItemTable:
        return self.query_one(ItemTable)

    def _title(self) -> Content:
        name = PANE_TITLES.get(self.pane, self.pane.title())
        mounted = self.is_mounted and bool(self.children)
        shown = len(self.table.items) if mounted else 0
        stories = self.table.row_count if mounted and self.table.grouped else None
        parts: list[Content | str] = [Content.styled(f"● {name}", label_style(self.pane, "bold")),
                                      "  "]
        if self.filtered:
            parts.append(Content.styled(f"{shown}{'+' if self.has_more else ''} match",
                                        "$text-muted"))
        elif self.total is not None:
            parts.append(Content.styled(f"{self.total:,}", "bold"))
            if self.total > shown:
                parts.append(Content.styled(f"  newest {shown}", "$text-muted"))
        if stories is not None:
            parts.append(Content.styled(f"  {stories} {'story' if stories == 1 else 'stories'}",
                                        "$text-accent"))
        if self.loading_more:
            parts.append(Content.styled("  loading more…", "$text-muted italic"))
        return Content.assemble(*parts)

    def update_title(self) -> None:
        if self.is_mounted:
            # One line of fixed size (pane-title in panes.tcss): no relayout of the screen.
            self.query_one(PaneTitle).update(self._title(), layout=False)

    @on(PaneHead.Clicked)
    def _focus_table(self) -> None:
        self.table.focus()

    @property
    def can_load_more(self) -> bool:
        return self.has_more and not self.loading_more and len(self.table.items) < MAX_ROWS

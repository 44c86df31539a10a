"""A pane: a title line (label, counts, whether more is stored, and the label's items per day
as a sparkline) over an ItemTable.

The pane knows its cap: how many rows it keeps (a page, grown by "load more"); older items
stay in the store and are paged in on demand or reached through the filter.
"""
from __future__ import annotations

from typing import Callable, Iterable

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Click
from textual.message import Message
from textual.widgets import Sparkline, Static

from feeds.model import Item
from storage.query import SORT_KEY, Flags
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
                 sources_of: Callable[[Item], int] | None = None,
                 corrected: Callable[[str], bool] | None = None) -> None:
        super().__init__(id=f"pane-{pane}", classes=f"label-pane -{pane}")
        self.pane = pane
        self.limit = page_size  # rows kept; grows by a page on "load more"
        self.has_more = False  # the last query filled its page: the store may hold more
        self.total: int | None = None  # items with this label in the store (unfiltered)
        self.unread: int | None = None  # of those, unread in the recent window (state/unread)
        self.filtered = False
        self.loading_more = False
        self._clock = clock
        self._flags_of = flags_of
        self._sources_of = sources_of
        self._corrected = corrected

    def compose(self) -> ComposeResult:
        with PaneHead(classes="pane-head"):
            yield PaneTitle(self._title(), classes="pane-title")
            spark = Sparkline([], classes="pane-spark", id=f"spark-{self.pane}")
            spark.tooltip = f"{PANE_TITLES.get(self.pane, self.pane)}: items per day, " \
                            f"last {SPARK_DAYS} days (T: trends)"
            yield spark
        yield ItemTable(self.pane, clock=self._clock, flags_of=self._flags_of,
                        sources_of=self._sources_of, corrected=self._corrected,
                        id=f"table-{self.pane}")

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
            word = "match" if shown == 1 and not self.has_more else "matches"
            parts.append(Content.styled(f"{shown}{'+' if self.has_more else ''} {word}",
                                        "$text-muted"))
        elif self.total is not None:
            # "12/351": unread (recent window) / stored
            unread = "" if self.unread is None else f"{min(self.unread, self.total):,}/"
            parts.append(Content.styled(f"{unread}{self.total:,}", "bold"))
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
        self.focus_table()

    @property
    def can_load_more(self) -> bool:
        return self.has_more and not self.loading_more and len(self.table.items) < MAX_ROWS

    # --- rows (the dashboard's loads and inserts) ------------------------------------------

    @property
    def shown(self) -> int:
        """Items of the pane's page (grouped by story, rows may be fewer)."""
        return len(self.table.items)

    def short_of(self, page: int) -> int:
        """How many items the pane lacks to fill ``page``, if the store holds more."""
        return page - self.shown if self.has_more and self.shown < page else 0

    @property
    def selected_item(self) -> Item | None:
        return self.table.selected_item

    async def show(self, items: list[Item], *, has_more: bool, filtered: bool,
                   total: int | None) -> None:
        """A query's answer: exactly ``items`` (newest first)."""
        await self.table.replace_items(items)
        self._shown(has_more, filtered, total)

    def show_first(self, items: list[Item], *, has_more: bool, total: int | None,
                   rows: int) -> None:
        """The first frame's rows, before it is drawn: no more than ``rows`` (the recent
        window's answer replaces them a moment later)."""
        self.table.fill(items[:rows])
        self._shown(has_more or len(items) > rows, False, total)

    def _shown(self, has_more: bool, filtered: bool, total: int | None) -> None:
        self.has_more = has_more
        self.filtered = filtered
        self.total = total
        self.update_title()

    def start_loading_more(self) -> int:
        """A page of older items is being read; returns the offset to read it from."""
        self.loading_more = True
        self.update_title()
        return len(self.table.items)

    async def more_loaded(self, items: list[Item] | None, has_more: bool) -> None:
        """Older items at the bottom (None: the answer is stale or failed, nothing added)."""
        self.loading_more = False
        if items is not None:
            added = await self.table.append_items(items)
            self.limit = max(self.limit, len(self.table.items))
            self.has_more = has_more and added > 0
        self.update_title()

    async def insert(self, items: list[Item]) -> None:
        """New items into their place, keeping the pane's cap."""
        # Only the newest can stay in a capped pane: a cold poll lands thousands at once,
        # and each row built is UI time.
        if len(items) > self.limit:
            items = sorted(items, key=SORT_KEY, reverse=True)[:self.limit]
        await self.table.insert_items(items, self.limit)

    async def reclassified(self, incoming: list[Item], updated: list[Item],
                           leaving: list[str]) -> None:
        """A re-classified week: the rows of ``leaving`` go, ``updated`` are redrawn and
        ``incoming`` go to their place, keeping the cap. While the store holds more, an
        incoming item older than the oldest row stays out ("load more" reaches it)."""
        table = self.table
        table.update_items(updated)
        table.remove_items(leaving)
        if incoming and self.has_more:
            oldest = min(map(SORT_KEY, table.items.values()), default=None)
            incoming = [it for it in incoming if oldest is not None and SORT_KEY(it) > oldest]
        if incoming:
            if len(table.items) + len(incoming) > self.limit:
                self.has_more = True  # the oldest rows are pushed out
            await table.insert_items(incoming, self.limit)
        self.update_title()

    def set_total(self, total: int | None) -> None:
        self.total = total
        self.update_title()

    def set_unread(self, unread: int | None) -> None:
        if unread != self.unread:
            self.unread = unread
            self.update_title()

    async def set_grouped(self, grouped: bool) -> None:
        await self.table.set_grouped(grouped)
        self.update_title()

    def restyle(self) -> None:
        self.table.restyle()
        self.update_title()

    def refresh_badges(self, clusters: Iterable[str] | None = None) -> None:
        self.table.refresh_badges(clusters)

    def refresh_item(self, item_id: str) -> None:
        """One row after its flags changed ("": many rows, marked at once)."""
        if item_id:
            self.table.refresh_item(item_id)
        else:
            self.table.refresh_rows()

    def focus_table(self) -> None:
        self.table.focus()

"""One pane's table of items, newest first, keyed by item id.

Rows are diffed, never rebuilt on a poll: new items are added and the table sorted once, the
oldest rows beyond the pane's cap are removed, and the cursor stays on the item it was on
(the scroll offset moves by the rows inserted above the view, so nothing jumps). Cells are
``rich.text.Text`` built from plain strings: a title is never parsed as markup.
"""
from __future__ import annotations

import asyncio
from typing import Callable, Iterable

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual._two_way_dict import TwoWayDict
from textual.widgets.data_table import CellKey, ColumnKey, RowDoesNotExist, RowKey

from feeds.model import Item, label_order
from storage.query import Flags
from tui.render import OTHER, label_var, safe_text, short_time

CHUNK = 250  # rows added between two yields to the event loop
TIME_WIDTH = 6
SOURCE_WIDTH = 12
MARK_WIDTH = 2
FIXED_WIDTH = MARK_WIDTH + (TIME_WIDTH + 1) + (SOURCE_WIDTH + 1)


def order_key(item: Item) -> tuple[str, str, str]:
    """The store's order: (published, first_seen, id); the newest sorts last."""
    return (item.published, item.first_seen, item.id)


class _Cell(Text):
    """A cell of a fixed-width column. DataTable measures every cell of every new row to
    size auto-width columns; these columns have fixed widths, so the measurement (a few
    hundred microseconds per row, dominated by building console options) is skipped: with
    no ``__rich_measure__`` Textual uses a default width."""

    __rich_measure__ = None  # type: ignore[assignment]


class _TimeCell(_Cell):
    """The time cell carries its row's order key, so the table can be sorted by it."""

    order: tuple[str, str, str] = ("", "", "")


class ItemTable(DataTable):
    BINDINGS = [
        Binding("enter", "select_cursor", "Detail", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    def __init__(self, pane: str, *, clock: Callable[[], float],
                 flags_of: Callable[[str], Flags], **kwargs) -> None:
        super().__init__(cursor_type="row", show_header=False, cell_padding=0, **kwargs)
        self.pane = pane
        self.clock = clock
        self.flags_of = flags_of
        self.items: dict[str, Item] = {}
        self._colors: dict[str, str] = {}
        # Built cells per item id, with the flags and day they were built for.
        self._cell_cache: dict[str, tuple[Flags, int, list[Text]]] = {}

    def on_mount(self) -> None:
        self.add_column("", width=MARK_WIDTH, key="mark")
        self.add_column("time", width=TIME_WIDTH + 1, key="time")
        self.add_column("source", width=SOURCE_WIDTH + 1, key="source")
        self.add_column("title", width=40, key="title")

    # --- cells ---------------------------------------------------------------------------

    def _label_colors(self) -> dict[str, str]:
        if not self._colors:
            variables = self.app.get_css_variables()
            for label in ("talks", "sanctions", "statements", OTHER):
                self._colors[label] = variables.get(label_var(label), "")
        return self._colors

    def _cells(self, item: Item, now: float) -> list[Text]:
        flags = self.flags_of(item.id)
        day = int(now // 86400)
        cached = self._cell_cache.get(item.id)
        if cached is not None and cached[0] == flags and cached[1] == day:
            return cached[2]
        cells = self._build_cells(item, flags, now)
        self._cell_cache[item.id] = (flags, day, cells)
        return cells

    def _build_cells(self, item: Item, flags: Flags, now: float) -> list[Text]:
        dim = "dim" if flags.read else ""
        mark = _Cell("★ " if flags.starred else ("• " if not flags.read else "  "),
                    style="bold" if flags.starred else dim, end="")
        time_cell = _TimeCell(short_time(item.published, now).ljust(TIME_WIDTH + 1), style=dim,
                              end="")
        time_cell.order = order_key(item)
        source = _Cell(safe_text(item.source, SOURCE_WIDTH).ljust(SOURCE_WIDTH + 1), style=dim,
                      no_wrap=True, end="")
        title = _Cell(no_wrap=True, overflow="ellipsis", end="")
        colors = self._label_colors()
        # Other labels of a multi-label item, as coloured dots before the title.
        for label in label_order(item.labels):
            if label != self.pane:
                title.append("● ", style=colors.get(label) or "bold")
        title.append(safe_text(item.title) or "(no title)", style=dim or "")
        return [mark, time_cell, source, title]

    def restyle(self) -> None:
        """Rebuild every row's cells (after a theme change or a day boundary)."""
        self._colors.clear()
        self._cell_cache.clear()
        now = self.clock()
        for iid, item in self.items.items():
            self._update_row(iid, self._cells(item, now))

    def refresh_item(self, item_id: str) -> None:
        """Redraw one row after its flags changed (read rows are dimmed)."""
        item = self.items.get(item_id)
        if item is not None:
            self._update_row(item_id, self._cells(item, self.clock()))

    def _update_row(self, item_id: str, cells: list[Text]) -> None:
        for key, cell in zip(("mark", "time", "source", "title"), cells):
            try:
                self.update_cell(item_id, key, cell)
            except (RowDoesNotExist, KeyError):
                return

    # --- selection -----------------------------------------------------------------------

    @property
    def selected_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except (RowDoesNotExist, KeyError, IndexError):
            return None

    @property
    def selected_item(self) -> Item | None:
        iid = self.selected_id
        return self.items.get(iid) if iid else None

    def select(self, item_id: str) -> bool:
        try:
            index = self.get_row_index(item_id)
        except (RowDoesNotExist, KeyError):
            return False
        self.move_cursor(row=index)
        return True

    @property
    def oldest(self) -> Item | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key((self.row_count - 1, 0)).row_key.value
        except (RowDoesNotExist, KeyError, IndexError):
            return None
        return self.items.get(key) if key else None

    # --- rows ----------------------------------------------------------------------------

    async def replace_items(self, items: list[Item]) -> None:
        """Show exactly ``items`` (newest first), keeping the cursor on the same item if it
        is still there. Added in chunks with a yield between, so input stays live."""
        keep = self.selected_id
        self.clear()
        self.items = {}
        self._cell_cache = {k: v for k, v in self._cell_cache.items()
                            if k in {it.id for it in items}}
        await self._add_chunked(items)
        if keep and keep in self.items:
            self.select(keep)

    async def append_items(self, items: Iterable[Item]) -> int:
        """Older items at the bottom ("load more"); ids already shown are skipped."""
        fresh = [it for it in items if it.id not in self.items]
        await self._add_chunked(fresh)
        return len(fresh)

    async def _add_chunked(self, items: list[Item]) -> None:
        now = self.clock()
        for start in range(0, len(items), CHUNK):
            for item in items[start:start + CHUNK]:
                if item.id in self.items:
                    continue
                self.items[item.id] = item
                self.add_row(*self._cells(item, now), key=item.id)
            if start + CHUNK < len(items):
                await asyncio.sleep(0)

    async def insert_items(self, items: Iterable[Item], cap: int) -> int:
        """Merge new items into their place (usually the top), keep at most ``cap`` rows
        (dropping the oldest), and keep the cursor on its item. Returns rows added.

        The work is proportional to the rows that change: new rows are added, the rows
        pushed out are removed in one pass, and the table is sorted once.
        """
        fresh = {it.id: it for it in items if it.id not in self.items}
        if not fresh:
            return 0
        current = list(self.items.values())
        merged = sorted([*current, *fresh.values()], key=order_key, reverse=True)
        keep = merged[:max(cap, 0)]
        keep_ids = {it.id for it in keep}
        to_add = [it for it in fresh.values() if it.id in keep_ids]
        to_drop = [it.id for it in current if it.id not in keep_ids]
        if not to_add and not to_drop:
            return 0

        selected = self.selected_id
        if selected is not None and selected not in keep_ids:
            selected = None
        top_visible = self._first_visible_key()
        old_scroll = self.scroll_y
        cursor_row = self.cursor_row
        now = self.clock()
        for item in to_add:
            self.items[item.id] = item
            self.add_row(*self._cells(item, now), key=item.id)
        if to_drop:
            self._remove_rows(to_drop)
        self.sort("time", key=lambda cell: cell.order, reverse=True)

        index = self.get_row_index(selected) if selected is not None else \
            min(cursor_row, max(self.row_count - 1, 0))
        if index != self.cursor_row:
            self.move_cursor(row=index, scroll=False)
        if old_scroll > 0 and top_visible in self.items:
            # Keep the rows the user was looking at where they were.
            shift = sum(1 for it in to_add if order_key(it) > order_key(self.items[top_visible]))
            self.call_after_refresh(self.scroll_to, y=old_scroll + shift, animate=False)
        return len(to_add)

    def _remove_rows(self, keys: list[str]) -> None:
        """Remove many rows in one pass, then let ``sort()`` rebuild the row order.

        DataTable.remove_row rebuilds its whole index per call (O(rows)): a cold poll that
        pushes 200 rows out of a full pane took a third of a second that way. This uses
        DataTable's internals, checked against the pinned Textual 8.2.8.
        """
        for key in keys:
            self.items.pop(key, None)
            self._cell_cache.pop(key, None)
            cells = self._data.pop(key, None)  # type: ignore[call-overload]
            if cells is not None:
                for column_key in cells:
                    self._updated_cells.discard(CellKey(RowKey(key), column_key))
            self.rows.pop(key, None)  # type: ignore[call-overload]
            self._new_rows.discard(key)  # type: ignore[arg-type]
        self._row_locations = TwoWayDict(
            {row_key: index for index, row_key in enumerate(self._data)})
        self._require_update_dimensions = True
        self._update_count += 1
        self.cursor_coordinate = self.cursor_coordinate  # re-validated against the new size
        self.hover_coordinate = self.hover_coordinate
        self.check_idle()
        self.refresh(layout=True)

    def remove_items(self, item_ids: Iterable[str]) -> None:
        gone = [iid for iid in item_ids if iid in self.items]
        if gone:
            self._remove_rows(gone)
            self.sort("time", key=lambda cell: cell.order, reverse=True)

    def _first_visible_key(self) -> str | None:
        row = int(self.scroll_y)
        if row >= self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key((row, 0)).row_key.value
        except (RowDoesNotExist, KeyError, IndexError):
            return None

    # --- layout --------------------------------------------------------------------------

    def on_resize(self) -> None:
        self.fit_title()

    def fit_title(self) -> None:
        """The title column takes the width the fixed columns leave."""
        width = max(self.scrollable_content_region.width - FIXED_WIDTH, 10)
        column = self.columns.get(ColumnKey("title"))
        if column is None or column.width == width:
            return
        column.width = width
        column.auto_width = False
        # DataTable has no public "resize column": flag its dimensions for recomputation.
        self._require_update_dimensions = True
        self.refresh()

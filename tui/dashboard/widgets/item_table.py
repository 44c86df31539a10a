"""One pane's table of items, newest first, keyed by item id.

Rows are diffed, never rebuilt on a poll: new items are added and the table sorted once, the
oldest rows beyond the pane's cap are removed, and the cursor stays on the item it was on
(the scroll offset moves by the rows inserted above the view, so nothing jumps). Cells are
``rich.text.Text`` built from plain strings: a title is never parsed as markup. An item whose
labels were set by hand shows ✎ before its title.

Grouped by story (``grouped``), the table keeps every item of its page in ``items`` (the
pane's paging counts items, not rows) but shows one row per story cluster: its newest item,
with an "N▸" badge when several feeds carry the story. A new version of a story replaces
the story's row and moves it to the top.
"""
from __future__ import annotations

import asyncio
from typing import Callable, Iterable

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from feeds.analysis.clusters import cluster_of
from feeds.model import Item, label_order
from storage.query import SORT_KEY, Flags
from feeds.text import safe_text
from tui.render import OTHER, label_var, short_time
from tui.dashboard.textual_adapter import remove_rows, update_rows
from tui.dashboard.widgets.cursor import cursor_row_key, fit_column

CHUNK = 250  # rows added between two yields to the event loop
TIME_WIDTH = 8  # "Nov 2025"
SOURCE_WIDTH = 12
MARK_WIDTH = 2
FIXED_WIDTH = MARK_WIDTH + (TIME_WIDTH + 1) + (SOURCE_WIDTH + 1)
COLUMNS = ("mark", "time", "source", "title")  # the column keys, in the order of the cells


class FixedCell(Text):
    """A cell of a fixed-width column. DataTable measures every cell of every new row to
    size auto-width columns; these columns have fixed widths, so the measurement (a few
    hundred microseconds per row, dominated by building console options) is skipped: with
    no ``__rich_measure__`` Textual uses a default width."""

    __rich_measure__ = None  # type: ignore[assignment]


class _TimeCell(FixedCell):
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
                 flags_of: Callable[[str], Flags],
                 sources_of: Callable[[Item], int] | None = None,
                 corrected: Callable[[str], bool] | None = None, **kwargs) -> None:
        super().__init__(cursor_type="row", show_header=False, cell_padding=0, **kwargs)
        self.pane = pane
        self.clock = clock
        self.flags_of = flags_of
        self.sources_of = sources_of or (lambda item: 1)  # feeds carrying the item's story
        self.corrected = corrected or (lambda item_id: False)  # labels set by hand
        self.items: dict[str, Item] = {}  # every item of the pane's page (rows: see grouped)
        self.grouped = False  # one row per story cluster (its newest item)
        self._leads: dict[str, str] = {}  # grouped: cluster id → the item id of its row
        self._colors: dict[str, str] = {}
        # Built cells per item id, with what they were built for: the flags, the day, the
        # story badge and the labels (changed by hand, or by a re-classification).
        self._cell_cache: dict[str, tuple[Flags, int, int, tuple, list[Text]]] = {}

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
            self._colors["badge"] = variables.get("text-accent", "")
        return self._colors

    def _badge(self, item: Item) -> int:
        """Grouped: how many feeds carry the item's story (shown when more than one)."""
        if not self.grouped:
            return 0
        n = self.sources_of(item)
        return n if n > 1 else 0

    def _cells(self, item: Item, now: float) -> list[Text]:
        flags = self.flags_of(item.id)
        day = int(now // 86400)
        badge = self._badge(item)
        labels = (item.labels, self.corrected(item.id))
        cached = self._cell_cache.get(item.id)
        if cached is not None and cached[:4] == (flags, day, badge, labels):
            return cached[4]
        cells = self._build_cells(item, flags, now, badge, labels[1])
        self._cell_cache[item.id] = (flags, day, badge, labels, cells)
        return cells

    def _build_cells(self, item: Item, flags: Flags, now: float, badge: int = 0,
                     corrected: bool = False) -> list[Text]:
        dim = "dim" if flags.read else ""
        mark = FixedCell("★ " if flags.starred else ("• " if not flags.read else "  "),
                         style="bold" if flags.starred else dim, end="")
        time_cell = _TimeCell(short_time(item.published, now).ljust(TIME_WIDTH + 1), style=dim,
                              end="")
        time_cell.order = SORT_KEY(item)
        source = FixedCell(safe_text(item.source, SOURCE_WIDTH).ljust(SOURCE_WIDTH + 1), style=dim,
                           no_wrap=True, end="")
        title = FixedCell(no_wrap=True, overflow="ellipsis", end="")
        colors = self._label_colors()
        if badge:  # a story several feeds carry: "3▸" (sources)
            title.append(f"{badge}▸ ", style=f"bold {colors.get('badge', '')}".strip())
        # Other labels of a multi-label item, as coloured dots before the title.
        for label in label_order(item.labels):
            if label != self.pane:
                title.append("● ", style=colors.get(label) or "bold")
        if corrected:
            title.append("✎ ", style=f"bold {colors.get('badge', '')}".strip())
        title.append(safe_text(item.title) or "(no title)", style=dim or "")
        return [mark, time_cell, source, title]

    def restyle(self) -> None:
        """Rebuild every row's cells (after a theme change or a day boundary)."""
        self._colors.clear()
        self._cell_cache.clear()
        now = self.clock()
        for iid in self._row_ids():
            self._update_row(iid, self._cells(self.items[iid], now))

    def refresh_badges(self, clusters: Iterable[str] | None = None) -> None:
        """Redraw the rows whose story badge may have changed (grouped; ``clusters`` None:
        every row), after the story directory learnt of new versions."""
        if not self.grouped:
            return
        ids = self._row_ids() if clusters is None else \
            [iid for cid in clusters if (iid := self._leads.get(cid)) is not None]
        self._redraw(ids)

    def refresh_rows(self) -> None:
        """Redraw the rows whose cells changed (many items marked at once)."""
        self._redraw(self._row_ids())

    def _redraw(self, ids: Iterable[str]) -> None:
        now = self.clock()
        changed = {}
        for iid in ids:
            cached = self._cell_cache.get(iid)
            cells = self._cells(self.items[iid], now)
            if cached is None or cached[4] is not cells:
                changed[iid] = dict(zip(COLUMNS, cells))
        if changed:
            update_rows(self, changed)  # one refresh for them all

    def _row_ids(self) -> list[str]:
        return [iid for iid in self.items if iid in self.rows]

    def refresh_item(self, item_id: str) -> None:
        """Redraw one row after its flags changed (read rows are dimmed)."""
        item = self.items.get(item_id)
        if item is not None:
            self._update_row(item_id, self._cells(item, self.clock()))

    def _update_row(self, item_id: str, cells: list[Text]) -> None:
        for key, cell in zip(COLUMNS, cells):
            try:
                self.update_cell(item_id, key, cell)
            except (RowDoesNotExist, KeyError):
                return

    # --- selection -----------------------------------------------------------------------

    @property
    def selected_id(self) -> str | None:
        return cursor_row_key(self)

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

    # --- rows ----------------------------------------------------------------------------

    def _rows_for(self, items: Iterable[Item]) -> list[Item]:
        """The items that get a row, from items newest first: all of them, or (grouped) the
        newest of each story not shown yet; registers the stories' rows."""
        if not self.grouped:
            return list(items)
        out = []
        for item in items:
            cid = cluster_of(item)
            if cid not in self._leads:
                self._leads[cid] = item.id
                out.append(item)
        return out

    async def replace_items(self, items: list[Item]) -> None:
        """Show exactly ``items`` (newest first), keeping the cursor on the same item (or,
        grouped, its story) if it is still there. Added in chunks with a yield between, so
        input stays live."""
        keep = self.selected_id
        keep_story = cluster_of(self.items[keep]) if keep in self.items else None
        self.clear()
        self.items = {it.id: it for it in items}
        self._leads = {}
        self._cell_cache = {k: v for k, v in self._cell_cache.items() if k in self.items}
        await self._add_chunked(self._rows_for(items))
        if keep and keep in self.rows:
            self.select(keep)
        elif keep_story is not None and keep_story in self._leads:
            self.select(self._leads[keep_story])

    async def set_grouped(self, grouped: bool) -> None:
        """Switch between one row per item and one row per story."""
        if grouped == self.grouped:
            return
        self.grouped = grouped
        items = sorted(self.items.values(), key=SORT_KEY, reverse=True)
        await self.replace_items(items)

    async def append_items(self, items: Iterable[Item]) -> int:
        """Older items at the bottom ("load more"); ids already shown are skipped. Returns
        the items added (grouped, an older version of a story shown adds no row)."""
        fresh = [it for it in items if it.id not in self.items]
        for item in fresh:
            self.items[item.id] = item
        await self._add_chunked(self._rows_for(fresh))
        return len(fresh)

    def fill(self, items: list[Item]) -> None:
        """The first rows of an empty table, all at once (a first frame's few)."""
        self.items = {it.id: it for it in items}
        self._add_rows(self._rows_for(items), self.clock())

    async def _add_chunked(self, items: list[Item]) -> None:
        now = self.clock()
        for start in range(0, len(items), CHUNK):
            self._add_rows(items[start:start + CHUNK], now)
            if start + CHUNK < len(items):
                await asyncio.sleep(0)

    def _add_rows(self, items: list[Item], now: float) -> None:
        for item in items:
            if item.id not in self.rows:
                self.add_row(*self._cells(item, now), key=item.id)

    async def insert_items(self, items: Iterable[Item], cap: int) -> int:
        """Merge new items into their place (usually the top), keep at most ``cap`` items
        (dropping the oldest), and keep the cursor on its item. Returns items added.

        The work is proportional to the rows that change: new rows are added, the rows
        pushed out are removed in one pass, and the table is sorted once.
        """
        fresh = {it.id: it for it in items if it.id not in self.items}
        if not fresh:
            return 0
        current = list(self.items.values())
        merged = sorted([*current, *fresh.values()], key=SORT_KEY, reverse=True)
        keep = merged[:max(cap, 0)]
        keep_ids = {it.id for it in keep}
        to_add = [it for it in fresh.values() if it.id in keep_ids]
        to_drop = [it for it in current if it.id not in keep_ids]
        if not to_add and not to_drop:
            return 0

        self._change_rows(to_add, to_drop)
        return len(to_add)

    def remove_items(self, item_ids: Iterable[str]) -> int:
        """Items that left the pane (re-classified): their rows go, the cursor stays on its
        item (on the row where it was if that one went). Returns the items removed."""
        gone = [self.items[iid] for iid in item_ids if iid in self.items]
        if gone:
            self._change_rows([], gone)
        return len(gone)

    def update_items(self, items: Iterable[Item]) -> None:
        """New versions of shown items (a re-classification changed them): rows redrawn."""
        fresh = [it for it in items if it.id in self.items]
        for item in fresh:
            self.items[item.id] = item
        self._redraw(it.id for it in fresh if it.id in self.rows)

    def _change_rows(self, to_add: list[Item], to_drop: list[Item]) -> None:
        """Add and drop items in one pass, keeping the cursor on its item and the rows the
        user was looking at where they were."""
        selected = self.selected_id
        selected_story = cluster_of(self.items[selected]) if selected in self.items else None
        top_visible = self._first_visible_key()
        top_key = SORT_KEY(self.items[top_visible]) if top_visible in self.items else None
        old_scroll = self.scroll_y
        cursor_row = self.cursor_row
        for item in to_add:
            self.items[item.id] = item
        for item in to_drop:
            self.items.pop(item.id, None)
            self._cell_cache.pop(item.id, None)
        rows_added, rows_dropped = self._story_rows(to_add, to_drop) if self.grouped else \
            (to_add, [it for it in to_drop if it.id in self.rows])
        now = self.clock()
        for item in rows_added:
            self.add_row(*self._cells(item, now), key=item.id)
        if rows_dropped:
            remove_rows(self, [it.id for it in rows_dropped])  # in one pass, not O(rows) each
        self.sort("time", key=lambda cell: cell.order, reverse=True)

        if selected is not None and selected not in self.rows:  # its story has a newer row
            selected = self._leads.get(selected_story) if self.grouped and selected_story else None
        index = self.get_row_index(selected) if selected is not None else \
            min(cursor_row, max(self.row_count - 1, 0))
        if index != self.cursor_row:
            self.move_cursor(row=index, scroll=False)
        if old_scroll > 0 and top_key is not None:
            shift = (sum(1 for it in rows_added if SORT_KEY(it) > top_key)
                     - sum(1 for it in rows_dropped if SORT_KEY(it) > top_key))
            self.call_after_refresh(self.scroll_to, y=max(old_scroll + shift, 0), animate=False)

    def _story_rows(self, added: list[Item], dropped: list[Item]) -> tuple[list[Item], list[Item]]:
        """Grouped: after ``added`` and ``dropped`` changed ``items``, the rows to add and to
        remove so that each story touched is shown by its newest item (or not at all)."""
        touched = {cluster_of(it) for it in (*added, *dropped)}
        newest: dict[str, Item] = {}
        for item in self.items.values():
            cid = cluster_of(item)
            if cid in touched:
                best = newest.get(cid)
                if best is None or SORT_KEY(item) > SORT_KEY(best):
                    newest[cid] = item
        gone = {it.id: it for it in dropped}
        rows_added, rows_dropped = [], []
        for cid in touched:
            old_id, new = self._leads.get(cid), newest.get(cid)
            if new is not None and new.id == old_id:
                continue
            if old_id is not None and old_id in self.rows:
                rows_dropped.append(self.items.get(old_id) or gone[old_id])
            if new is None:
                self._leads.pop(cid, None)
            else:
                self._leads[cid] = new.id
                rows_added.append(new)
        return rows_added, rows_dropped

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

    def render_lines(self, crop: Region) -> list[Strip]:
        # The first frame is drawn before the table handles its first Resize: rows it
        # already holds (read before the app ran) would show at the title's initial width.
        self.fit_title()
        return super().render_lines(crop)

    def fit_title(self) -> None:
        """The title column takes the width the fixed columns leave."""
        fit_column(self, "title", max(self.scrollable_content_region.width - FIXED_WIDTH, 10))

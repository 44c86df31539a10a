"""The pane table on its own: newest first, capped, the cursor kept on its item.

ItemTable removes rows in bulk through DataTable internals (remove_row is O(rows)); these
tests pin that against the pinned Textual."""
from __future__ import annotations

from dataclasses import replace

from textual.app import App, ComposeResult

from storage.query import NO_FLAGS
from tests.tui.helpers import T0, make_item
from tui.dashboard.widgets.item_table import ItemTable

ITEMS = [make_item(f"Peace talks, day {n}", "Negotiations.", published=T0 - n * 3600,
                   guid=f"i{n}") for n in range(40)]


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield ItemTable("talks", clock=lambda: T0, flags_of=lambda _id: NO_FLAGS)


def titles(table: ItemTable) -> list[str]:
    return [table.items[table.coordinate_to_cell_key((i, 0)).row_key.value].title
            for i in range(table.row_count)]


async def test_insert_keeps_order_cap_and_cursor() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(ItemTable)
        await table.insert_items(ITEMS[10:20], cap=10)
        await pilot.pause()
        assert titles(table) == [it.title for it in ITEMS[10:20]]
        table.move_cursor(row=3)
        chosen = table.selected_id
        # newer items arrive; the pane keeps its 10 newest; the cursor stays on its item
        await table.insert_items(ITEMS[5:10], cap=10)
        await pilot.pause()
        assert titles(table) == [it.title for it in ITEMS[5:15]]
        assert table.selected_id == chosen and table.cursor_row == 8
        # a burst that pushes most rows out (the bulk removal)
        await table.insert_items(ITEMS[0:5] + ITEMS[30:40], cap=10)
        await pilot.pause()
        assert titles(table) == [it.title for it in ITEMS[0:10]]
        assert table.row_count == len(table.items) == 10
        assert table.selected_id in table.items  # the chosen row left: the cursor stays valid
        # older items than the cap are ignored; the same ids are never added twice
        assert await table.insert_items(ITEMS[20:30] + ITEMS[0:3], cap=10) == 0
        await pilot.press("j", "k", "G")
        assert table.cursor_row == 9


async def test_read_rows_are_dimmed() -> None:
    read = {ITEMS[1].id}

    class Flagged(App):
        def compose(self) -> ComposeResult:
            from storage.query import Flags
            yield ItemTable("talks", clock=lambda: T0,
                            flags_of=lambda i: Flags(read=True) if i in read else NO_FLAGS)

    app = Flagged()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(ItemTable)
        await table.insert_items(ITEMS[:3], cap=10)
        await pilot.pause()
        assert "dim" in str(table.get_cell(ITEMS[1].id, "source").style)
        assert "dim" not in str(table.get_cell(ITEMS[0].id, "source").style)
        assert table.get_cell(ITEMS[0].id, "mark").plain.startswith("•")


async def test_rows_leave_and_change_in_place_keeping_the_cursor() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(ItemTable)
        await table.insert_items(ITEMS[0:10], cap=10)
        table.move_cursor(row=5)
        chosen = table.selected_id
        # re-classified: two rows above the cursor left the pane, one row got new labels
        assert table.remove_items([ITEMS[1].id, ITEMS[3].id, "not shown"]) == 2
        relabelled = replace(ITEMS[7], labels=("talks", "statements"))
        table.update_items([relabelled])
        await pilot.pause()
        assert titles(table) == [it.title for i, it in enumerate(ITEMS[0:10]) if i not in (1, 3)]
        assert table.selected_id == chosen and table.cursor_row == 3
        assert table.items[ITEMS[7].id] is relabelled
        assert table.get_cell(ITEMS[7].id, "title").plain == f"● {ITEMS[7].title}"  # +statements
        # the selected row itself leaves: the cursor stays where it was
        table.remove_items([chosen])
        await pilot.pause()
        assert table.cursor_row == 3 and table.selected_id == ITEMS[6].id

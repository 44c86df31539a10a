"""The dashboard's uses of Textual's private API (tui/dashboard/textual_adapter.py) still hold
for the installed Textual: the pinned version, each private name, and what the adapter's
functions do with them (compared with DataTable's own public methods)."""
from __future__ import annotations

import textual
from rich.console import Console
from rich.text import Text
from textual.app import App, ComposeResult
from textual.render import measure
from textual.widgets import DataTable

from tui.dashboard import textual_adapter
from tui.dashboard.textual_adapter import (APP_PRIVATES, DATATABLE_PRIVATES, SCREEN_PRIVATES,
                                           TEXTUAL_VERSION)
from tui.dashboard.widgets.item_table import FixedCell

UPGRADE = ("tui/dashboard/textual_adapter.py was written against Textual {pinned}; check each "
           "private it uses against the installed DataTable, then update TEXTUAL_VERSION")


def test_textual_is_the_pinned_version() -> None:
    assert textual.__version__ == TEXTUAL_VERSION, \
        f"Textual is {textual.__version__}: " + UPGRADE.format(pinned=TEXTUAL_VERSION)


def test_the_private_names_exist_with_the_types_assumed() -> None:
    from textual._two_way_dict import TwoWayDict

    table = DataTable()
    missing = [name for name in DATATABLE_PRIVATES if not hasattr(table, name)]
    assert not missing, f"DataTable has no {missing}: " + UPGRADE.format(pinned=TEXTUAL_VERSION)
    assert isinstance(table._data, dict) and isinstance(table._row_locations, TwoWayDict)
    assert isinstance(table._updated_cells, set) and isinstance(table._new_rows, set)
    assert isinstance(table._require_update_dimensions, bool)
    assert isinstance(table._update_count, int)
    two_way = TwoWayDict({"a": 0, "b": 1})
    assert two_way.get("b") == 1 and two_way.get_key(0) == "a" and list(two_way) == ["a", "b"]


class Tables(App):
    def compose(self) -> ComposeResult:
        yield DataTable(id="adapter")
        yield DataTable(id="public")


async def test_remove_rows_does_what_remove_row_does() -> None:
    app = Tables()
    async with app.run_test(size=(60, 30)) as pilot:
        adapter, public = app.query_one("#adapter", DataTable), app.query_one("#public", DataTable)
        for table in (adapter, public):
            table.add_column("n", key="n")
            for n in range(20):
                table.add_row(Text(f"row {n:02d}"), key=f"r{n}")
            table.move_cursor(row=18)
        await pilot.pause()
        gone = [f"r{n}" for n in (0, 3, 4, 11, 17, 18, 19)]
        textual_adapter.remove_rows(adapter, gone)
        for key in gone:
            public.remove_row(key)
        await pilot.pause()
        assert adapter.row_count == public.row_count == 13
        keys = [adapter.coordinate_to_cell_key((i, 0)).row_key.value for i in range(13)]
        assert keys == [public.coordinate_to_cell_key((i, 0)).row_key.value for i in range(13)]
        assert all(adapter.get_row_index(key) == i for i, key in enumerate(keys))
        assert adapter.cursor_coordinate == public.cursor_coordinate  # clamped to the rows left
        assert adapter.get_cell("r5", "n").plain == "row 05"
        adapter.add_row(Text("row 20"), key="r20")  # the table stays usable
        await pilot.pause()
        assert adapter.get_row_index("r20") == 13 and adapter.row_count == 14


async def test_dimensions_changed_makes_the_table_measure_again() -> None:
    app = Tables()
    async with app.run_test(size=(60, 30)) as pilot:
        table = app.query_one("#adapter", DataTable)
        table.add_column("n", key="n")
        table.add_row("x", key="x")
        await pilot.pause()
        assert not table._require_update_dimensions
        textual_adapter.dimensions_changed(table)
        assert table._require_update_dimensions
        await pilot.pause()
        assert not table._require_update_dimensions  # the table picked it up


async def test_the_composed_screen_is_what_the_terminal_shows() -> None:
    from textual.screen import ModalScreen
    from textual.widgets import Static

    from tests.tui.helpers import screen_text

    class Modal(ModalScreen):
        def compose(self) -> ComposeResult:
            yield Static("in front")

    app = Tables()
    async with app.run_test(size=(60, 10)) as pilot:
        for name in APP_PRIVATES:
            assert hasattr(app, name), f"App has no {name}: " + UPGRADE.format(pinned=TEXTUAL_VERSION)
        for name in SCREEN_PRIVATES:
            assert hasattr(app.screen, name), \
                f"Screen has no {name}: " + UPGRADE.format(pinned=TEXTUAL_VERSION)
        table = app.query_one("#adapter", DataTable)
        table.add_column("n", key="n")
        table.add_row("behind", key="b")
        await pilot.pause()
        assert "behind" in screen_text(app)
        await app.push_screen(Modal())
        await pilot.pause()
        text = screen_text(app)
        assert "in front" in text and "behind" in text  # the modal over the screen behind it


def test_fixed_cells_are_not_measured() -> None:
    """item_table.FixedCell has no __rich_measure__, so Textual takes the default width
    instead of measuring each cell of a fixed-width column."""
    console = Console(width=80)
    assert measure(console, FixedCell("a long title"), 1) == 1
    assert measure(console, Text("a long title"), 1) == len("a long title")

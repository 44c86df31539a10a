"""Every use of Textual's private API by the dashboard, in one place.

Textual is pinned (pyproject.toml); tests/tui/test_textual_adapter.py checks the version and
each private name used here, so an upgrade fails there with a message instead of breaking the
panes in subtle ways.
"""
from __future__ import annotations

from typing import Any, Iterable

from textual._two_way_dict import TwoWayDict
from textual.app import App
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, RowKey

TEXTUAL_VERSION = "8.2.8"  # the version these helpers were checked against

# The private attributes touched below (the adapter's test checks each one exists).
DATATABLE_PRIVATES = ("_data", "_row_locations", "_updated_cells", "_new_rows",
                      "_require_update_dimensions", "_update_count")
APP_PRIVATES = ("_background_screens",)
SCREEN_PRIVATES = ("_compositor",)


def remove_rows(table: DataTable, keys: Iterable[str]) -> None:
    """Remove many rows in one pass; the caller's ``sort()`` rebuilds the row order.

    DataTable.remove_row rebuilds its whole index per call (O(rows)): a cold poll that
    pushes 200 rows out of a full pane took a third of a second that way.
    """
    data = table._data
    for key in keys:
        cells = data.pop(key, None)  # type: ignore[call-overload]
        if cells is not None:
            for column_key in cells:
                table._updated_cells.discard(CellKey(RowKey(key), column_key))
        table.rows.pop(key, None)  # type: ignore[call-overload]
        table._new_rows.discard(key)  # type: ignore[arg-type]
    table._row_locations = TwoWayDict({row_key: index for index, row_key in enumerate(data)})
    table._require_update_dimensions = True
    table._update_count += 1
    table.cursor_coordinate = table.cursor_coordinate  # re-validated against the new size
    table.hover_coordinate = table.hover_coordinate
    table.check_idle()
    table.refresh(layout=True)


def update_rows(table: DataTable, rows: dict[str, dict[str, Any]]) -> None:
    """New cells (column key → cell) for many rows, and one refresh: update_cell refreshes
    the table per cell, which made redrawing a re-classified pane take a fifth of a second.
    Cells keep their widths (as update_cell without update_width)."""
    data = table._data
    for key, cells in rows.items():
        row = data.get(key)  # type: ignore[call-overload]
        if row is not None:
            row.update(cells)
    table._update_count += 1
    table.refresh()


def dimensions_changed(table: DataTable) -> None:
    """A column's width was set directly (DataTable has no public "resize column"): have
    the table measure itself again, and render its cells again (its cell cache does not
    key on widths: rows drawn before the first resize would keep their first width)."""
    table._require_update_dimensions = True
    table._clear_caches()


def composed_screen(app: App) -> Any:
    """What the terminal shows (the current screen over the ones behind it), as one Rich
    renderable: the tests read the screen as text through this."""
    return app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)

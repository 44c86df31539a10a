"""Which row a keyed DataTable's cursor is on, and fitting a column to the width left."""
from __future__ import annotations

from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowDoesNotExist

from tui.dashboard.textual_adapter import dimensions_changed


def cursor_row_key(table: DataTable) -> str | None:
    """The key of the row under the cursor (tables here key rows by item id or feed key)."""
    if not table.row_count:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except (RowDoesNotExist, KeyError, IndexError):
        return None


def fit_column(table: DataTable, key: str, width: int) -> None:
    """Give the column ``key`` a fixed ``width`` (no-op when it has it, or is missing)."""
    column = table.columns.get(ColumnKey(key))
    if column is None or column.width == width:
        return
    column.width = width
    column.auto_width = False
    dimensions_changed(table)
    table.refresh()

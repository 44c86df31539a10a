"""Which row a keyed DataTable's cursor is on."""
from __future__ import annotations

from textual.widgets import DataTable
from textual.widgets._data_table import RowDoesNotExist


def cursor_row_key(table: DataTable) -> str | None:
    """The key of the row under the cursor (tables here key rows by item id or feed key)."""
    if not table.row_count:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except (RowDoesNotExist, KeyError, IndexError):
        return None

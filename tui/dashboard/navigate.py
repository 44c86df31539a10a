"""Moving through the panes' rows: the next (or previous) unread row across panes, for
``n`` / ``N``. Pure: the panes' row ids in, a place out."""
from __future__ import annotations

from typing import Callable, Sequence

Rows = Sequence[tuple[str, Sequence[str]]]  # (pane, its row ids in display order), pane order


def next_unread(panes: Rows, pane: int, row: int, step: int,
                unread: Callable[[str], bool]) -> tuple[str, str] | None:
    """The first unread row after (``step`` 1) or before (-1) row ``row`` of pane index
    ``pane``, going on through the next panes and wrapping round to the rows of the start
    pane on the other side of ``row``: (pane, item id), or None if no row shown is unread."""
    n = len(panes)
    for k in range(n + 1):
        name, ids = panes[(pane + step * k) % n]
        if k == 0:  # the rest of the start pane
            rows = range(row + 1, len(ids)) if step > 0 else range(row - 1, -1, -1)
        elif k == n:  # wrapped round: the start pane's rows on the other side
            rows = range(0, min(row, len(ids))) if step > 0 else range(len(ids) - 1, row, -1)
        else:
            rows = range(len(ids)) if step > 0 else range(len(ids) - 1, -1, -1)
        for r in rows:
            if unread(ids[r]):
                return name, ids[r]
    return None

"""The main screen's start-up: its width class before the first styling, the first frame's
rows read before the app runs, and the collector settled once the first frame is shown."""
from __future__ import annotations

import gc
from typing import Any

from tui.dashboard.messages import PanesLoaded
from tui.dashboard.screens import pane_queries
from tui.dashboard.widgets.filter_bar import ViewFilter
from tui.render import PANES

FULL_COLLECTION_EVERY = 100  # middle-generation collections between two full ones (default 10)


def width_classes(breakpoints: list[tuple[int, str]], width: int) -> dict[str, bool]:
    """A screen's breakpoint classes at ``width``, as Textual sets them on a Resize."""
    at = max((b for b in breakpoints if width >= b[0]), default=(0, ""))[1]
    return {name: name == at for _, name in breakpoints}


def read_first_frame(store: Any, view: ViewFilter, page_size: int, weeks: int
                     ) -> PanesLoaded | None:
    """(before the app runs) Each pane's first rows, as the start-up worker would read
    them; None if the store cannot answer (the worker then reports why, on screen)."""
    try:
        first = pane_queries.query_panes(store, 0, view, {p: page_size for p in PANES}, True,
                                         None, lambda: False)
    except Exception:  # noqa: BLE001 - reported on screen by the start-up worker
        return None
    if first is not None:
        first.weeks = weeks
    return first


def settle_collector() -> None:
    """After the first frame: everything alive now (Textual, the modules, the store's
    recent window) lives as long as the app, out of the collector's reach, so a full
    collection during a poll walks only what the poll allocates."""
    gc.freeze()
    # Frozen objects do not count as long-lived, so full collections would follow every
    # tenth middle one; during a cold poll that meant two passes of 20-45 ms inside the
    # worst heartbeat gaps. One full pass per hundred instead.
    young, middle, _old = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)

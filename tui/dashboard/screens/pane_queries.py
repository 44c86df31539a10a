"""The dashboard's store reads, run in its thread workers: each pane's page through the
filter (older weeks are read only when the filter needs them), a pane's next page, the
flags of what was read, and which items' labels were set by hand."""
from __future__ import annotations

import gc
from dataclasses import replace
from typing import Any, Callable, Iterable

from feeds.model import FeedState, Item
from storage.query import NO_FLAGS, Flags
from tui.dashboard.messages import MoreLoaded, PanesLoaded
from tui.dashboard.widgets.filter_bar import ViewFilter
from tui.dashboard.widgets.label_pane import SPARK_DAYS
from tui.render import PANES, panes_of, store_label

Progress = Callable[[int, int], None]
# Rows per pane in the first frame of a store whose recent window is still to come (the
# panes are queried again, a page each, once it is in): at most as many as the terminal
# has lines (no pane shows more), and no more rows to build and lay out before the first
# paint.
FIRST_FRAME_ROWS = 100


def load_window(store: Any) -> int:
    """(worker thread) The rest of the recent window into memory; returns the items added.
    They live as long as the app: out of the collector's reach before it runs again (loaded
    with the collector paused, they would all be walked by its next pass: 0.15-0.3 s of UI
    pause)."""
    from storage.atomic import paused_gc

    with paused_gc():
        added = store.load_deferred()
        gc.freeze()
    return added


def sparklines(store: Any, now: float) -> dict[str, Any]:
    """(worker thread) Items per label per day over the panes' sparkline days."""
    from feeds.analysis.trends import build_trends

    return build_trends(store.daily_counts(SPARK_DAYS, now), (), SPARK_DAYS, now).labels


def last_polled(states: Iterable[FeedState]) -> str | None:
    attempts = [s.last_attempt for s in states if s.last_attempt]
    return max(attempts) if attempts else None


def flags_for(store: Any, items: Iterable[Item]) -> dict[str, Flags]:
    """The flags of the flagged ones among ``items``."""
    out = {}
    for item in items:
        flags = store.flags(item.id)
        if flags != NO_FLAGS:
            out[item.id] = flags
    return out


def first_frame_rows(lines: int) -> int:
    """Rows per pane in a first frame on a terminal of ``lines`` lines."""
    return min(FIRST_FRAME_ROWS, max(lines, 1))


def query_panes(store: Any, generation: int, view: ViewFilter, limits: dict[str, int],
                initial: bool, progress: Progress | None,
                cancelled: Callable[[], bool], lines: int = FIRST_FRAME_ROWS) -> PanesLoaded | None:
    """Each pane's page, together (None if cancelled meanwhile). ``lines``: the terminal's
    height (what a first frame can show)."""
    results: dict[str, tuple[list[Item], bool]] = {}
    counts = store.counts_by_label()
    first = None
    if initial and not view.active and getattr(store, "deferred", False):
        # The first frame, from the current week's file (a lean open: the week is brought
        # into memory after it, with the rest of the recent window).
        rows = {pane: min(limits[pane], first_frame_rows(lines)) for pane in PANES}
        first = store.first_pages([view.item_filter(pane, limit=rows[pane]) for pane in PANES])
        limits = rows if first is not None else limits
    for n, pane in enumerate(PANES):
        if cancelled():
            return None
        query = view.item_filter(pane, limit=limits[pane])
        if initial and not view.active:
            # The first paint shows the recent window (in memory); older weeks stay on
            # disk until "load more" or a filter asks for them.
            query = replace(query, archive=False)
        items = first[n] if first is not None else store.query(query, progress=progress)
        total = counts.get(store_label(pane), 0)
        more = len(items) >= limits[pane] or (not view.active and total > len(items))
        results[pane] = (items, more)
    flags = flags_for(store, (item for items, _ in results.values() for item in items))
    last = last_polled(store.feed_states().values())
    corrected = {iid: fix.at for iid, fix in store.corrections().items()}
    return PanesLoaded(generation, results, flags, counts, last, initial, corrected)


def query_more(store: Any, generation: int, pane: str, view: ViewFilter, offset: int,
               limit: int, progress: Progress) -> MoreLoaded:
    """A pane's next ``limit`` items after ``offset``."""
    items = store.query(view.item_filter(pane, limit=limit, offset=offset), progress=progress)
    return MoreLoaded(generation, pane, items, len(items) >= limit, flags_for(store, items))


def by_pane(items: Iterable[Item]) -> dict[str, list[Item]]:
    """New items grouped by the panes they appear in."""
    out: dict[str, list[Item]] = {}
    for item in items:
        for pane in panes_of(item):
            out.setdefault(pane, []).append(item)
    return out

"""Unread counts for the pane titles, the headers and feed health.

Counted by the store (``Store.unread_counts``) in a thread worker: an item is unread unless
flagged read, and only the recent window is counted (archived weeks are in the totals, not
in the unread counts; see the store). A recount is asked after every load of the panes,
every batch of new items and every mark; a burst of them ends in one count.

A viewer's marks reach its store only when the daemon has saved them and the viewer has
reloaded: the recount after that reload (the panes are loaded again) brings its counts up.
"""
from __future__ import annotations

from typing import Any, Callable

from textual.dom import DOMNode
from textual.signal import Signal

from tui.dashboard.debounce import Debounce, SetTimer

RECOUNT_DELAY = 0.1  # seconds: a burst of marks or inserts is counted once


class UnreadCounts:
    """``by_label`` (store labels, ``"none"`` for Other) and ``by_feed`` (feed keys); empty
    until the first count. ``changed`` publishes None after each count."""

    def __init__(self, owner: DOMNode, store: Callable[[], Any], *, set_timer: SetTimer,
                 after: Callable[[], None] | None = None, delay: float = RECOUNT_DELAY) -> None:
        """``store()`` is the store to count; ``after()`` runs after each count (the App's
        headers)."""
        self.by_label: dict[str, int] = {}
        self.by_feed: dict[str, int] = {}
        self.known = False  # counted at least once
        self.changed: Signal[object] = Signal(owner, "unread-changed")
        self._owner, self._store, self._after = owner, store, after
        self._debounce = Debounce(set_timer, delay, self._start)

    def recount(self) -> None:
        """Count again a moment from now (a burst of asks is one count)."""
        self._debounce.poke()

    @property
    def pending(self) -> bool:
        """A recount is asked for and not started yet."""
        return self._debounce.pending

    def label(self, label: str) -> int | None:
        return self.by_label.get(label, 0) if self.known else None

    def _start(self) -> None:
        self._owner.run_worker(self._count, thread=True, group="unread", exclusive=True,
                               exit_on_error=False, name="unread counts")

    def _count(self) -> None:
        labels, feeds = self._store().unread_counts()
        self._owner.call_from_thread(self.counted, labels, feeds)

    def counted(self, labels: dict[str, int], feeds: dict[str, int]) -> None:
        self.by_label, self.by_feed, self.known = labels, feeds, True
        self.changed.publish(None)
        if self._after is not None:
            self._after()

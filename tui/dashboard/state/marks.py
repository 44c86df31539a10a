"""Read and star flags as the dashboard shows them: changed at once, saved in a worker, put
back if the store refuses, and made durable by one debounced flush after a burst of marks."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from textual.dom import DOMNode
from textual.signal import Signal

from feeds.model import Item
from feeds.text import safe_text
from storage.query import NO_FLAGS, Flags
from tui.dashboard.backend import Backend
from tui.dashboard.debounce import Debounce, SetTimer

FLUSH_DELAY = 2.0  # seconds after the last mark before the store is flushed

Save = Callable[[str, "bool | None", "bool | None", Flags], Any]


class Marks:
    """Flags of the items shown (only flagged ones are kept). ``changed`` publishes the id of
    an item whose flags changed, for the rows and details showing it."""

    def __init__(self, owner: DOMNode, backend: Backend, *, save: Save,
                 flush: Callable[[], Any], set_timer: SetTimer, notify: Callable[..., Any],
                 flush_delay: float = FLUSH_DELAY) -> None:
        """``save(item_id, read, starred, previous)`` starts the worker that saves a mark
        (``backend.mark``); ``flush()`` the one that flushes the store."""
        self.flags: dict[str, Flags] = {}
        self.changed: Signal[str] = Signal(owner, "marks-changed")
        self.flush = Debounce(set_timer, flush_delay, flush)
        self._backend, self._save, self._notify = backend, save, notify

    def flags_of(self, item_id: str) -> Flags:
        return self.flags.get(item_id, NO_FLAGS)

    def reloaded(self, items: Iterable[Item], flags: dict[str, Flags]) -> None:
        """A query's answer: ``flags`` holds only its flagged items, so the flags of every
        item it returned are forgotten first (or an unmark made elsewhere, by another viewer
        of the daemon, would stay on screen)."""
        for item in items:
            self.flags.pop(item.id, None)
        self.flags.update(flags)

    def toggle_read(self, item: Item) -> None:
        self.set(item.id, read=not self.flags_of(item.id).read)

    def toggle_star(self, item: Item) -> None:
        self.set(item.id, starred=not self.flags_of(item.id).starred)

    def set(self, item_id: str, *, read: bool | None = None, starred: bool | None = None) -> None:
        """Show the change now and save it (``read``/``starred`` None: left as they are)."""
        if not self._backend.can_write:
            self._notify(f"Cannot mark items: {self._backend.reason}", severity="warning",
                         timeout=4)
            return
        previous = self.flags_of(item_id)
        new = Flags(previous.read if read is None else read,
                    previous.starred if starred is None else starred)
        self.show(item_id, new)
        self._save(item_id, read, starred, previous)

    def failed(self, item_id: str, previous: Flags, error: str) -> None:
        """The store refused a mark: it is undone, and the user told."""
        self.show(item_id, previous)
        self._notify(f"Could not mark the item: {safe_text(error, 200)}", severity="error")

    def show(self, item_id: str, flags: Flags) -> None:
        if flags == NO_FLAGS:
            self.flags.pop(item_id, None)
        else:
            self.flags[item_id] = flags
        self.changed.publish(item_id)

"""Read and star flags as the dashboard shows them: changed at once, saved in a worker, put
back if the store refuses, and made durable by one debounced flush after a burst of marks.

"Mark all read" (``mark_all_read``) asks the store which items of a view are unread, marks
them in one ``backend.mark_many`` (a viewer's go to the daemon) and keeps their ids for one
undo (``undo``)."""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any, Callable, Iterable, Sequence

from textual.dom import DOMNode
from textual.signal import Signal

from feeds.model import Item
from feeds.text import safe_text
from storage.query import NO_FLAGS, Flags, ItemFilter
from tui.dashboard.backend import Backend
from tui.dashboard.debounce import Debounce, SetTimer
from tui.render import plural

FLUSH_DELAY = 2.0  # seconds after the last mark before the store is flushed

Save = Callable[[str, "bool | None", "bool | None", Flags], Any]


class Marks:
    """Flags of the items shown (only flagged ones are kept). ``changed`` publishes the id of
    an item whose flags changed, for the rows and details showing it ("": many at once)."""

    def __init__(self, owner: DOMNode, backend: Backend, *, save: Save,
                 flush: Callable[[], Any], set_timer: SetTimer, notify: Callable[..., Any],
                 flush_delay: float = FLUSH_DELAY) -> None:
        """``save(item_id, read, starred, previous)`` starts the worker that saves a mark
        (``backend.mark``); ``flush()`` the one that flushes the store."""
        self.flags: dict[str, Flags] = {}
        self.changed: Signal[str] = Signal(owner, "marks-changed")
        self.flush = Debounce(set_timer, flush_delay, flush)
        self._owner, self._backend, self._save, self._notify = owner, backend, save, notify
        self.undoable: list[str] = []  # the items the last "mark all read" changed

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
        if self._refused():
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
        self._keep(item_id, flags)
        self.changed.publish(item_id)

    def _keep(self, item_id: str, flags: Flags) -> None:
        if flags == NO_FLAGS:
            self.flags.pop(item_id, None)
        else:
            self.flags[item_id] = flags

    # --- many at once ----------------------------------------------------------------------

    def _refused(self) -> bool:
        if self._backend.can_write:
            return False
        self._notify(f"Cannot mark items: {self._backend.reason}", severity="warning", timeout=4)
        return True

    def mark_all_read(self, filters: Sequence[ItemFilter], what: str,
                      shown: Iterable[str] = ()) -> None:
        """Mark read every unread item matching any of ``filters``, and those of ``shown``
        (rows paged in from older weeks), in a worker; ``what`` names them in the toast
        ("in Talks")."""
        if not self._refused():
            self._run(partial(self._mark_all, tuple(filters), what, tuple(shown)))

    def undo(self) -> None:
        """Mark unread again the items the last "mark all read" changed."""
        ids, self.undoable = self.undoable, []
        if not ids:
            self._notify("Nothing to undo.", timeout=3)
        elif not self._refused():
            self._run(partial(self._save_many, ids, False, "", undo=True))

    def _run(self, work: Callable[[], None]) -> None:
        self._owner.run_worker(work, thread=True, group="mark-all", exit_on_error=False,
                               name="mark all read")

    def _mark_all(self, filters: tuple[ItemFilter, ...], what: str,
                  shown: tuple[str, ...]) -> None:
        """(worker) The unread matches, newest first, then one save."""
        store = self._backend.store
        ids = {iid: None for iid in shown if not store.flags(iid).read}
        for f in filters:
            for item in store.query(replace(f, unread=True, limit=None, offset=0)):
                ids[item.id] = None
        if not ids:
            self._owner.call_from_thread(self._notify, f"Nothing unread {what}.", timeout=4)
            return
        self._save_many(list(ids), True, what)

    def _save_many(self, ids: list[str], read: bool, what: str, *, undo: bool = False) -> None:
        """(worker) Save, then show: the rows change once the store (or daemon) took it."""
        try:
            flush = self._backend.mark_many(ids, read, None)
        except Exception as e:  # noqa: BLE001 - shown to the user; nothing was shown changed
            self._owner.call_from_thread(
                self._notify, f"Could not mark the items: {safe_text(str(e), 200)}",
                severity="error")
            return
        starred = {iid: self._backend.store.flags(iid).starred for iid in ids}
        self._owner.call_from_thread(self._many_saved, starred, read, what, flush, undo)

    def _many_saved(self, starred: dict[str, bool], read: bool, what: str, flush: bool,
                    undo: bool) -> None:
        for iid, star in starred.items():
            self._keep(iid, Flags(read, star or self.flags_of(iid).starred))
        self.changed.publish("")
        if flush:
            self.flush.poke()
        items = plural(len(starred), "item")
        if undo:
            self._notify(f"Marked {items} unread again.", timeout=4)
            return
        self.undoable = list(starred)
        self._notify(f"Marked {items} read {what}. U: undo", title="Mark all read",
                     timeout=8)

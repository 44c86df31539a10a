"""Labels set by hand (``l``): the desk teaching the rules.

An analyst's correction is saved in a worker (through the daemon for a viewer) and then
shown: ``changed`` publishes the item as now stored, so the main screen reloads its panes
(the item moves to its new panes, the counts follow) and the item screen shows it. Which
items were corrected (the ✎ in rows and details) is kept here from each load of the panes.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from textual.dom import DOMNode
from textual.signal import Signal

from feeds.model import LABELS, Item
from feeds.text import safe_text
from tui.dashboard.backend import Backend
from tui.dashboard.messages import LabelsSaved

Save = Callable[[Item, tuple[str, ...]], Any]


class Labels:
    """``corrected``: item id → when its labels were set by hand (UTC ISO)."""

    def __init__(self, owner: DOMNode, backend: Backend, *, save: Save,
                 notify: Callable[..., Any]) -> None:
        """``save(item, labels)`` starts the worker that calls :meth:`save_now`."""
        self.corrected: dict[str, str] = {}
        # Saved here but maybe not yet in a viewer's copy of the store (the daemon saved
        # it; the viewer reloads a moment later): kept until a load of the panes has it.
        self._unseen: dict[str, str] = {}
        self.changed: Signal[Item] = Signal(owner, "labels-changed")
        self._backend, self._save, self._notify = backend, save, notify

    def is_corrected(self, item_id: str) -> bool:
        return item_id in self.corrected

    def reloaded(self, corrected: dict[str, str]) -> None:
        """The store's corrections, read with the panes (another viewer may have added one)."""
        for iid in [i for i in self._unseen if i in corrected]:
            del self._unseen[iid]
        self.corrected = {**corrected, **self._unseen}

    def can_edit(self) -> bool:
        """True if labels can be set here; otherwise the user is told why not."""
        if self._backend.can_write:
            return True
        reason = self._backend.reason or "the store is read-only here"
        self._notify(f"Cannot set labels: {reason}", severity="warning", timeout=4)
        return False

    def set(self, item: Item, labels: Iterable[str]) -> None:
        """Save ``labels`` (none: unlabelled) as the item's, in a worker."""
        given = set(labels)
        chosen = tuple(lbl for lbl in LABELS if lbl in given)
        if self.can_edit():
            self._save(item, chosen)

    def save_now(self, item: Item, labels: tuple[str, ...]) -> LabelsSaved:
        """(in a worker thread: blocking) Save, and say how it went."""
        try:
            new, at = self._backend.set_labels(item, labels)
        except Exception as e:  # noqa: BLE001 - ControlError, a full disk…: shown to the user
            return LabelsSaved(item, None, "", str(e))
        return LabelsSaved(item, new, at)

    def saved(self, message: LabelsSaved) -> None:
        if message.item is None:
            self._notify(f"Could not set the labels: {safe_text(message.error, 200)}",
                         severity="error")
            return
        new = message.item
        self.corrected[new.id] = self._unseen[new.id] = message.at
        title = safe_text(new.title, 60) or "(no title)"
        self._notify(f"Labels set by hand: {', '.join(new.labels) or 'none'} · {title}",
                     timeout=4)
        self.changed.publish(new)

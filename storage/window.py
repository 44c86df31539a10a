"""The recent window in memory: the resident weeks' items by id, and in display order.

``order`` is ascending by (published, first_seen, id), newest last, so the newest page is a
reversed walk that never sorts. The Store calls this under its lock.
"""
from __future__ import annotations

from bisect import bisect_left, insort
from itertools import islice
from typing import Any, Iterable

from feeds.model import Item

from .codec import doc_differs, items_from_docs
from .partition import Partition, doc_id, item_id_of
from .query import NO_FLAGS, Flags, Matcher
from .query import SORT_KEY as _SORT_KEY


class RecentWindow:
    """Items of the resident partitions: ``items`` by id, ``order`` sorted."""

    __slots__ = ("items", "order")

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}  # never rebound: the Store keeps a reference
        self.order: list[Item] = []  # ascending by _SORT_KEY; newest is last

    def newest(self, limit: int | None = None) -> list[Item]:
        return list(islice(reversed(self.order), limit))

    def matching(self, m: Matcher, flags: dict[str, Flags], need: int | None) -> list[Item]:
        """Matches newest first, stopping at ``need`` (None: all)."""
        mem: list[Item] = []
        for item in reversed(self.order):
            if m.item(item, flags.get(item.id, NO_FLAGS)):
                mem.append(item)
                if need is not None and len(mem) >= need:
                    break
        return mem

    def hold(self, p: Partition, items: list[Item]) -> list[Item]:
        """Make a partition's checked items resident (by id, and in its id set); they
        still have to be ordered (``add``)."""
        ids = [it.id for it in items]
        self.items.update(zip(ids, items))
        p.ids.update(ids)
        return items

    def add(self, items: list[Item]) -> None:
        """Many items into the order at once: one sort, not an insort each."""
        if items:
            self.order.extend(items)
            self.order.sort(key=_SORT_KEY)

    def insert(self, p: Partition, items: list[Item]) -> None:
        """New items of a resident partition, held and ordered."""
        for it in items:
            self.items[it.id] = it
            p.ids.add(it.id)
        # insort is O(log n) compares + a memmove; a full sort computes n keys.
        if len(items) * 8 > len(self.order):
            self.order.extend(items)
            self.order.sort(key=_SORT_KEY)
        else:
            for it in items:
                insort(self.order, it, key=_SORT_KEY)

    def replace(self, changes: Iterable[tuple[Item, Item]]) -> None:
        """(old, new) versions of held items: the new ones take their place."""
        for old, new in changes:
            if old.id in self.items:
                self.remove(self.items[old.id])
                self.items[new.id] = new
                insort(self.order, new, key=_SORT_KEY)

    def remove(self, item: Item) -> None:
        """Take one item out of the order (not out of ``items``)."""
        order = self.order
        i = bisect_left(order, _SORT_KEY(item), key=_SORT_KEY)
        while i < len(order) and order[i] is not item:
            i += 1
        if i < len(order):
            del order[i]

    def forget(self, p: Partition) -> None:
        """Drop all of a partition's items (it leaves the window, or is reloaded)."""
        gone = p.ids
        for iid in gone:
            self.items.pop(iid, None)
        if gone:
            self.order = [it for it in self.order if it.id not in gone]
        p.ids = set()

    def discard(self, p: Partition, victims: list[str]) -> None:
        """Drop some of a partition's items (retention)."""
        gone = set(victims)
        for iid in gone:
            self.items.pop(iid, None)
        p.ids -= gone
        self.order = [it for it in self.order if it.id not in gone]

    def refresh(self, p: Partition, docs: dict[str, dict[str, Any]]) -> list[Item]:
        """Update a resident partition from its re-read documents, rebuilding only the
        items that are new or whose stored fields changed; returns those (to be ordered)."""
        fresh: dict[str, dict[str, Any]] = {}
        for k, d in docs.items():
            fresh[item_id_of(k)] = d
        for iid in p.ids - fresh.keys():  # removed by the writer (retention, recovery)
            old = self.items.pop(iid, None)
            if old is not None:
                self.remove(old)
        rebuild: dict[str, dict[str, Any]] = {}
        for iid, d in fresh.items():
            old = self.items.get(iid)
            if old is None or doc_differs(old, d):
                if old is not None:
                    self.remove(old)
                rebuild[str(doc_id(iid))] = d
        p.ids = set(fresh)
        return self.hold(p, items_from_docs(p.path, rebuild)) if rebuild else []

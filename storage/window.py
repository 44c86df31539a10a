"""The recent window in memory: the resident weeks' items by id, and in display order.

``order`` is ascending by (published, first_seen, id), newest last, so the newest page is a
reversed walk that never sorts. The Store calls this under its lock.
"""
from __future__ import annotations

import contextlib
import heapq
import mmap
import os
from bisect import bisect_left, bisect_right, insort
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import orjson

from feeds.model import Item

from .atomic import decode_tables, read_raw
from .codec import bad_document, doc_differs, items_from_docs
from .partition import Partition, doc_id, item_id_of, stat_key
from .query import NO_FLAGS, Flags, ItemFilter, Matcher
from .rawdocs import DOC_START_B, SORT_FIELDS as _SORT_FIELDS, Row, doc_end, sorted_rows
from .weeklog import log_path, read_log
from . import weekorder
from .query import SORT_KEY as _SORT_KEY


class RecentWindow:
    """Items of the resident partitions: ``items`` by id, ``order`` sorted."""

    __slots__ = ("items", "_order", "_unordered")

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}  # never rebound: the Store keeps a reference
        self._order: list[Item] = []  # ascending by _SORT_KEY; newest is last
        # Inserted since the order was last read: a poll stores each feed's items, and an
        # insort each costs a memmove of the whole order (quadratic in a 100k-item window);
        # they are merged into it in one pass when something reads it.
        self._unordered: list[Item] = []

    @property
    def order(self) -> list[Item]:
        """Every held item, ascending by (published, first_seen, id)."""
        if self._unordered:
            self._merge()
        return self._order

    def _merge(self) -> None:
        """The inserted items into the order, each where ``insort`` would have put it
        (after equal keys, in insertion order), in one pass of slice copies."""
        pending, self._unordered = self._unordered, []
        pending.sort(key=_SORT_KEY)  # (stable: equal keys keep their insertion order)
        order = self._order
        if len(pending) * 8 > len(order):
            order.extend(pending)
            order.sort(key=_SORT_KEY)
            return
        merged: list[Item] = []
        start = 0
        for it in pending:
            at = bisect_right(order, _SORT_KEY(it), lo=start, key=_SORT_KEY)
            merged.extend(order[start:at])
            merged.append(it)
            start = at
        merged.extend(order[start:])
        self._order = merged

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
            order = self.order
            order.extend(items)
            order.sort(key=_SORT_KEY)

    def insert(self, p: Partition, items: list[Item]) -> None:
        """New items of a resident partition, held; ordered when the order is next read."""
        for it in items:
            self.items[it.id] = it
            p.ids.add(it.id)
        self._unordered.extend(items)

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
            self._order = [it for it in self.order if it.id not in gone]
        p.ids = set()

    def discard(self, p: Partition, victims: list[str]) -> None:
        """Drop some of a partition's items (retention)."""
        gone = set(victims)
        for iid in gone:
            self.items.pop(iid, None)
        p.ids -= gone
        self._order = [it for it in self.order if it.id not in gone]

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


# --- a week's first pages, before it is in memory ------------------------------------------
# The documents are ordered by their sort fields as the raw bytes hold them (the week's
# order index, storage.weekorder, when it names this file; else rawdocs.sorted_rows), merged
# with the append log's, and decoded newest first, only until every page is full.

def week_pages(p: Partition, filters: Sequence[ItemFilter],
               flags: Mapping[str, Flags]) -> list[list[Item]]:
    """Each filter's page among a week's items (file, log and unsaved changes) that is not
    in memory: the dashboard's first frame. A week of 20k items costs a few ms this way
    with its order index, ~0.3 s without, where decoding it whole costs ~0.7 s.
    CorruptStoreError as decoding the week would."""
    if p.db is not None:  # (its documents are in memory already)
        return newest_pages(p.path, p.docs(), filters, flags)
    extra = dict(p.log_docs if p.log_docs is not None else read_log(log_path(p.path)))
    extra.update(p.unsaved)
    pages = _indexed_pages(p.path, extra, filters, flags)
    if pages is not None:
        return pages
    raw = read_raw(p.path)
    if raw is not None:
        found = sorted_rows(raw)
        if found is not None:
            rows, starts = found
            pages = _raw_pages(p.path, raw, rows, lambda n: (starts[n], doc_end(raw, starts, n)),
                               extra, filters, flags)
            if pages is not None:
                return pages
    docs = {} if raw is None else decode_tables(raw, p.path).get("items", {})
    docs.update(extra)
    return newest_pages(p.path, docs, filters, flags)


def _indexed_pages(path: Path, extra: Mapping[str, dict[str, Any]],
                   filters: Sequence[ItemFilter], flags: Mapping[str, Flags]
                   ) -> list[list[Item]] | None:
    """:func:`week_pages` through the week's order index, mapping the file (only the pages
    of the documents decoded are read); None without a current index."""
    try:
        with open(path, "rb") as fh:
            order = weekorder.load(path, stat_key(os.fstat(fh.fileno())))
            if not order:
                return None
            raw = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    try:
        return _raw_pages(path, raw, _indexed_rows(raw, order), order.__getitem__, extra,
                          filters, flags)
    finally:
        with contextlib.suppress(BufferError):  # (closed when collected, then)
            raw.close()


def _indexed_rows(raw: Any, order: list[tuple[int, int]]) -> Iterator[Row]:
    """The index's documents as sort rows, each read from its own bytes as it is reached."""
    for n, (start, end) in enumerate(order):
        m = _SORT_FIELDS.search(raw, start, end)
        if m is None or raw[start:start + 9] != DOC_START_B:
            raise ValueError("the order index does not match the file")
        yield m[1], m[2], raw[start + 9:start + 25], n


def _raw_pages(path: Path, raw: Any, rows: Iterable[Row], span: Callable[[int], tuple[int, int]],
               extra: Mapping[str, dict[str, Any]], filters: Sequence[ItemFilter],
               flags: Mapping[str, Flags]) -> list[list[Item]] | None:
    """The pages from the file's rows (newest first; ``span``: a row's document, from its
    start marker to its end) and the log's documents (``extra``, which win over the file's);
    None when a slice is no document (the file is then decoded whole)."""
    extras = list(extra.items())
    try:
        logged = sorted(((doc["published"].encode(), doc["first_seen"].encode(),
                          doc["id"].encode(), -1 - j) for j, (_, doc) in enumerate(extras)),
                        reverse=True)
    except (KeyError, TypeError, AttributeError):
        return None
    if logged:
        ids = {row[2] for row in logged}
        rows = (row for row in rows if row[2] not in ids)

    def fetch(n: int) -> tuple[str, dict[str, Any]]:
        if n < 0:
            return extras[-1 - n]
        start, end = span(n)
        key = raw[raw.rfind(b'"', 0, start) + 1:start]
        if not (key.isascii() and key.isdigit()):
            raise ValueError(key)
        return key.decode(), orjson.loads(raw[start + 2:end])

    try:
        return _walk(path, heapq.merge(rows, logged, reverse=True), fetch, filters, flags)
    except (ValueError, KeyError, TypeError, AttributeError):  # (a slice that is no document)
        return None


def newest_pages(path: Path, docs: Mapping[str, dict[str, Any]], filters: Sequence[ItemFilter],
                 flags: Mapping[str, Flags]) -> list[list[Item]]:
    """Each filter's page (newest first, as ``RecentWindow.matching`` finds it) among a
    week's decoded documents, building items only for the documents on a page."""
    try:
        sources = list(docs.items())
        rows = [(d["published"], d["first_seen"], d["id"], n) for n, (_, d) in enumerate(sources)]
        rows.sort(reverse=True)
        return _walk(path, rows, sources.__getitem__, filters, flags)
    except (KeyError, TypeError, AttributeError):
        raise bad_document(path, dict(docs)) from None


def _walk(path: Path, rows: list[Any], fetch: Callable[[int], tuple[str, dict[str, Any]]],
          filters: Sequence[ItemFilter], flags: Mapping[str, Flags]) -> list[list[Item]]:
    """The documents newest first (``rows``: sort key…, then what ``fetch`` takes to give the
    document's key and document), each matched until every page is full."""
    matchers = [Matcher(f) for f in filters]
    needs = [None if f.limit is None else f.offset + f.limit for f in filters]
    pages: list[list[str]] = [[] for _ in filters]  # document keys, newest first
    shown: dict[str, dict[str, Any]] = {}
    for row in rows:
        if all(need is not None and len(page) >= need for page, need in zip(pages, needs)):
            break
        key, doc = fetch(row[-1])
        item_flags = flags.get(doc["id"], NO_FLAGS)
        for m, page, need in zip(matchers, pages, needs):
            if (need is None or len(page) < need) and m.doc(doc, item_flags):
                page.append(key)
                shown[key] = doc
    items = dict(zip(shown, items_from_docs(path, shown)))  # one item per document
    return [[items[key] for key in page[f.offset:]] for page, f in zip(pages, filters)]

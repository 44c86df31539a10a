"""The repository the rest of diplowatch uses: ``Store``.

A store is a directory::

    writer.lock            one writer at a time (storage.lock)
    state.json             TinyDB: feeds (FeedState per feed key), flags (read/starred per item
                           id, only items with a flag set), meta (schema, generation, manifest…)
    items-YYYY-Www.json    TinyDB, table "items": the items first seen in that ISO week
    items-YYYY-Www.ids     id index of the partition (a rebuildable cache)
    *.bak                  the previous good version of each file

Every file is written by AtomicJSONStorage: whole-file atomic replace, on ``flush()`` only.
A poll touches only the current week's partition plus state.json, so the cost of the write
after a poll does not grow with history.

In memory: the partitions whose week overlaps the last ``recent_days`` (id → Item, plus a
list sorted by (published, first_seen, id)); the live manifest (counts per partition, kept
current on every change); for older partitions only their id index. Archives are read on
demand (``get`` of an old id, a query that reaches back) and dropped again.

Threading: one writer process, but inside it the poller and UI threads share the store.
Every public method takes one RLock. ``flush()`` serializes under the lock and writes the
files outside it (copy-on-serialize), so a query is never stuck behind an fsync.
Never call ``flush()`` while holding the lock from another path (flush takes _flush_lock
first, then the lock).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
import time
from bisect import bisect_left, insort
from dataclasses import dataclass, fields, replace
from heapq import heappush, heappushpop
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import orjson
from tinydb import TinyDB
from tinydb.table import Document, Table

from feeds.model import LABELS, NO_LABEL, FeedState, Item, Match, utc_iso

from .atomic import (AtomicJSONStorage, backup_path, decode_tables, paused_gc, read_raw,
                     read_tables, release_free_heap, remove_stray_temps)
from .errors import CorruptStoreError, ReadOnlyStoreError, StoreError, StoreWriteError, os_reason
from .lock import WriterLock
from .partition import (DAY, ITEM_ID_RE, IdIndex, doc_id, docs_containing, entry_add,
                        entry_from_docs, index_name, item_doc_slices, item_id_of, new_entry,
                        partition_key_of, partition_name, prefilter_terms, read_index, stat_key,
                        week_bounds, week_key, week_key_at, write_index)
from .query import NO_FLAGS, Flags, ItemFilter, Matcher
from .query import SORT_KEY as _SORT_KEY

__all__ = ["Store", "FlushReport", "Flags", "ItemFilter", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
STATE_NAME = "state.json"
_META_ID = 1  # meta is one document: {key: value}
_RESERVED_META = frozenset({"schema", "generation", "partitions"})

_intern = sys.intern


@dataclass(frozen=True, slots=True)
class FlushReport:
    """What one ``flush()`` wrote."""

    files: int = 0
    bytes: int = 0
    seconds: float = 0.0


def _copy_entry(e: Mapping[str, Any]) -> dict[str, Any]:
    """A manifest entry without its file stat, deep enough to mutate independently."""
    return {"count": int(e.get("count", 0)), "feeds": dict(e.get("feeds", {})),
            "labels": dict(e.get("labels", {})),
            "days": {d: dict(c) for d, c in e.get("days", {}).items()},
            "min_published": e.get("min_published"), "max_published": e.get("max_published")}


def _valid_entry(e: Any) -> bool:
    return (isinstance(e, dict) and isinstance(e.get("count"), int)
            and isinstance(e.get("feeds"), dict) and isinstance(e.get("labels"), dict)
            and isinstance(e.get("days"), dict) and isinstance(e.get("stat"), list))


_N_ITEM_FIELDS = len(fields(Item))


def _doc_differs(item: Item, d: dict[str, Any]) -> bool:
    """Does the stored document say something else than the item in memory? (Every field a
    writer changes on an existing item: text, link, date, classification, actors, cluster.)"""
    return (item.title != d.get("title") or item.summary != d.get("summary")
            or item.link != d.get("link") or item.published != d.get("published")
            or item.primary != d.get("primary") or list(item.labels) != d.get("labels")
            or item.scores != d.get("scores") or list(item.actors) != d.get("actors")
            or item.cluster != d.get("cluster") or item.date_missing != d.get("date_missing")
            or _evidence_differs(item.evidence, d.get("evidence") or ()))


def _evidence_differs(evidence: tuple[Match, ...], docs: list[dict[str, Any]]) -> bool:
    return len(evidence) != len(docs) or any(
        m.label != e.get("label") or m.term != e.get("term") or m.text != e.get("text")
        or m.field != e.get("field") or m.start != e.get("start") or m.end != e.get("end")
        or m.weight != e.get("weight") for m, e in zip(evidence, docs))


def _usable(item: Item) -> bool:
    """The fields every list sorts and counts by are strings (a foreign or hand-edited file
    may hold anything: it must be reported, not crash a sort later)."""
    return (type(item.id) is str and type(item.published) is str
            and type(item.first_seen) is str and type(item.feed) is str)


def _bad_document(path: Path, docs: dict[str, Any]) -> CorruptStoreError:
    """Name the first document of a partition that is not a valid item."""
    for k, d in docs.items():
        try:
            if not _usable(Item.from_dict(d)):
                raise TypeError("id, feed, published and first_seen must be strings")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return CorruptStoreError(path, f"document {k} is not a valid item ({exc!r})")
    return CorruptStoreError(path, "a document is not a valid item")


def _entry_of(path: Path, docs: dict[str, Any]) -> dict[str, Any]:
    """A partition's manifest entry, recomputed; a document that is not an item is named."""
    try:
        return entry_from_docs(docs.values())
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        raise _bad_document(path, docs) from None


def _item_from_doc(d: dict[str, Any]) -> Item:
    """``Item.from_dict`` for documents in exactly the ``to_dict`` shape, faster and leaner.

    Opening a store builds tens of thousands of items; this path is ~30% faster than
    from_dict and shares the strings that repeat across items (feed, source, labels, rule
    terms), which saves ~25 MB per 60k items. Anything else (an older or newer document
    shape, a missing key) goes through ``Item.from_dict`` itself. A test pins the two equal.
    """
    if len(d) != _N_ITEM_FIELDS:
        return Item.from_dict(d)
    try:
        ev = d["evidence"]
        primary = d["primary"]
        return Item(
            d["id"], _intern(d["feed"]), _intern(d["source"]), d["guid"], d["title"],
            d["summary"], d["link"], d["published"], _intern(d["first_seen"]),
            bool(d["date_missing"]), tuple([_intern(x) for x in d["labels"]]),
            _intern(primary) if primary else primary, dict(d["scores"]),
            tuple([Match(_intern(m["label"]), _intern(m["term"]), m["text"], _intern(m["field"]),
                         int(m["start"]), int(m["end"]), float(m["weight"])) for m in ev])
            if ev else (),
            tuple(d["actors"]), d["cluster"])
    except (KeyError, TypeError):
        return Item.from_dict(d)


def _merge(old: Item, new: Item) -> Item:
    """A re-seen item: new text and classification; identity and history stay.

    first_seen, source, feed and guid are kept; actors/cluster only change if the incoming
    item sets them. A dateless item's published is the fetch time, which would move every
    poll, so an incoming ``date_missing`` item keeps the stored date.
    """
    published, date_missing = new.published, new.date_missing
    if new.date_missing:
        published, date_missing = old.published, old.date_missing
    return replace(old, title=new.title, summary=new.summary, link=new.link,
                   published=published, date_missing=date_missing, labels=tuple(new.labels),
                   primary=new.primary, scores=dict(new.scores), evidence=tuple(new.evidence),
                   actors=tuple(new.actors) if new.actors else old.actors,
                   cluster=new.cluster if new.cluster is not None else old.cluster)


def _key_doc_id(key: str) -> int:
    """Feed keys are URLs; TinyDB wants int doc ids: a stable 63-bit hash of the key."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(),
                          "big") >> 1


class _Partition:
    """One weekly file and what is known about it in memory."""

    __slots__ = ("key", "path", "start", "end", "resident", "ids", "db", "index", "stat", "pending")

    def __init__(self, key: str, directory: Path) -> None:
        self.key = key
        self.path = directory / partition_name(key)
        self.start, self.end = week_bounds(key)
        self.resident = False  # its items are in the in-memory index
        self.ids: set[str] = set()  # item ids in memory (resident partitions)
        self.db: TinyDB | None = None  # loaded for writing (current week, or pending changes)
        self.index: IdIndex | None = None  # archive partitions: which ids the file holds
        self.stat: list[int] | None = None  # (size, mtime_ns, inode) of the file as last seen
        # New documents not yet handed to TinyDB: each TinyDB write call rebuilds the whole
        # table, so the inserts of a poll cycle (one call per feed) are applied as one.
        self.pending: list[Document] = []

    @property
    def storage(self) -> AtomicJSONStorage | None:
        return self.db.storage if self.db is not None else None  # type: ignore[return-value]

    @property
    def dirty(self) -> bool:
        return bool(self.pending) or (self.db is not None and self.db.storage.dirty)  # type: ignore[attr-defined]

    def sync(self) -> None:
        """Apply the pending inserts (one TinyDB call for all of them)."""
        if self.pending:
            assert self.db is not None
            docs, self.pending = self.pending, []
            self.db.table("items").insert_multiple(docs)

    def docs(self) -> dict[str, dict[str, Any]]:
        assert self.db is not None
        self.sync()
        return self.db.storage.read().get("items", {})

    def table(self) -> Table:
        assert self.db is not None
        self.sync()
        return self.db.table("items")


class Store:
    """Items, flags, feed states and metadata of one store directory. Use ``Store.open``.

    Items returned are shared with the store's index: treat them as read-only.
    """

    def __init__(self, path: Path, *, readonly: bool, recent_days: int,
                 clock: Callable[[], float], lock: WriterLock | None,
                 defer_older: bool = False) -> None:
        self.path = path
        self._defer_older = defer_older  # older weeks of the window wait for load_deferred()
        self.readonly = readonly
        self.recent_days = recent_days
        self._clock = clock
        self._writer_lock = lock
        self._lock = threading.RLock()
        self._flush_lock = threading.Lock()
        self._closed = False
        self._state_db: TinyDB | None = None
        self._state_stat: list[int] | None = None
        self._feeds: dict[str, FeedState] = {}
        self._pending_feeds: dict[int, dict[str, Any]] = {}  # feed states not yet in TinyDB
        self._feed_doc_ids: dict[int, str] = {}  # doc id → feed key, to refuse a hash collision
        self._flags: dict[str, Flags] = {}
        # Two manifests: the durable one describes the files on disk (with their stat, saved
        # in state.json); the live one includes changes not flushed yet (answers queries).
        self._disk_manifest: dict[str, dict[str, Any]] = {}
        self._manifest: dict[str, dict[str, Any]] = {}
        self._parts: dict[str, _Partition] = {}
        self._items: dict[str, Item] = {}
        self._order: list[Item] = []  # ascending by _SORT_KEY; newest is last

    # ------------------------------------------------------------------ open / close
    @classmethod
    def open(cls, path: Path | str, *, readonly: bool = False, recent_days: int = 7,
             clock: Callable[[], float] = time.time, defer_older: bool = False) -> "Store":
        """Open (a writer creates it, mode 0700) the store directory ``path``.

        With ``defer_older`` only the current week is brought into memory; the older weeks
        of the recent window stay archives (found by id, searched on disk, never lost)
        until :meth:`load_deferred`. The dashboard paints the current week first: at a
        million stored items that halves what its first frame waits for.

        A writer takes the writer lock (StoreLockedError if another process has it); a
        readonly store takes no lock and never writes. Corrupt files raise CorruptStoreError
        and are left untouched.
        """
        if recent_days < 1:
            raise ValueError("recent_days must be >= 1")
        directory = Path(path).expanduser()
        if readonly:
            if not directory.is_dir():
                raise StoreError(directory, f"no store at {directory} (nothing to open read-only)")
        else:
            try:
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            except FileExistsError:
                raise StoreError(directory, f"{directory} exists and is not a directory") from None
            except OSError as exc:
                raise StoreError(directory, f"cannot create the store directory {directory}: "
                                            f"{os_reason(exc)}") from None
        lock = None if readonly else WriterLock(directory).acquire()
        try:
            store = cls(directory, readonly=readonly, recent_days=recent_days, clock=clock,
                        lock=lock, defer_older=defer_older)
            store._load()
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        return store

    def close(self) -> None:
        """Flush if dirty (writer), write the id indexes, release the lock."""
        if self._closed:
            return
        try:
            # (a forked child no longer holds the lock: it leaves saving to its parent)
            if not self.readonly and self._writer_lock is not None and self._writer_lock.held:
                self.flush()
                with self._lock:
                    for p in self._parts.values():
                        if p.resident and p.stat is not None:
                            self._save_index(p, IdIndex.from_doc_ids(map(doc_id, p.ids)))
        finally:
            with self._lock:
                self._closed = True
            if self._writer_lock is not None:
                self._writer_lock.release()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "readonly" if self.readonly else "writer"
        return f"<Store {self.path} {mode} items_in_memory={len(self._items)}>"

    # ------------------------------------------------------------------ items
    def upsert_items(self, items: Iterable[Item], *, owned: bool = False) -> list[Item]:
        """Store a batch; return the items that were new (id never stored), as stored.

        An existing id keeps first_seen, source, flags and (unless the incoming item sets
        them) actors/cluster; it takes the new title, summary, link, published and
        classification. No disk I/O (except loading an archive partition that holds an old
        id); call ``flush()`` to save. New items are copied unless ``owned`` (the caller
        hands them over and will not mutate them: the poller's freshly parsed items).
        """
        self._require_writer("store items")
        batch = [self._checked(it) for it in items]
        if not batch:
            return []
        with self._lock:
            self._require_open()
            fresh: dict[str, Item] = {}  # new in this batch → stored copy
            changed: dict[str, tuple[_Partition, Item, Item]] = {}  # id → (home, old, new)
            for inc in batch:
                iid = inc.id
                if iid in fresh:
                    fresh[iid] = _merge(fresh[iid], inc)
                    continue
                if iid in changed:
                    home, old, cur = changed[iid]
                    changed[iid] = (home, old, _merge(cur, inc))
                    continue
                home, old = self._find(iid)
                if old is None:
                    # A private copy: the caller may go on mutating its object.
                    fresh[iid] = inc if owned else replace(
                        inc, labels=tuple(inc.labels), scores=dict(inc.scores),
                        evidence=tuple(inc.evidence), actors=tuple(inc.actors))
                    continue
                assert home is not None
                merged = _merge(old, inc)
                if merged != old:
                    changed[iid] = (home, old, merged)
            # Serialized once: the check that refuses what would make every later flush fail
            # also yields the document handed to TinyDB.
            docs = {iid: self._encodable_doc(item) for iid, item in fresh.items()}
            docs.update((iid, self._encodable_doc(new)) for iid, (_h, _o, new) in changed.items())

            by_week: dict[str, list[Item]] = {}
            for item in fresh.values():
                by_week.setdefault(week_key(item.first_seen), []).append(item)
            for key, new_items in by_week.items():
                self._insert(self._partition_for_insert(key), new_items, docs)

            by_home: dict[str, dict[str, tuple[Item, Item]]] = {}
            for iid, (home, old, new) in changed.items():
                if new != old:
                    by_home.setdefault(home.key, {})[iid] = (old, new)
            for key, ups in by_home.items():
                self._update(self._parts[key], ups, docs)
            return list(fresh.values())

    def known(self, item_id: str) -> bool:
        """Is the id in the recent window? (in memory, cheap; archives not consulted)"""
        return item_id in self._items

    def missing(self, item_ids: Iterable[str]) -> list[str]:
        """The ids (of those given, in order) that no partition holds: checked against memory,
        pending changes and the archives' id indexes, never by reading an archive."""
        with self._lock:
            self._require_open()
            return [iid for iid in dict.fromkeys(item_ids) if not self._holds(iid)]

    def get(self, item_id: str) -> Item | None:
        """The item with this id: recent window first, then the archive that holds it."""
        with self._lock:
            self._require_open()
            item = self._items.get(item_id)
            if item is not None or not ITEM_ID_RE.fullmatch(item_id):
                return item
            p = self._locate(item_id)
            if p is None:
                return None
            key = str(doc_id(item_id))
            if p.db is not None:
                doc = p.docs().get(key)
                return Item.from_dict(doc) if doc is not None else None
            path = p.path
        # Reading an archive file happens outside the lock: files are replaced atomically.
        doc = ((read_tables(path) or {}).get("items") or {}).get(key)
        return Item.from_dict(doc) if doc is not None else None

    def recent(self, limit: int | None = None) -> list[Item]:
        """Newest first, from memory."""
        with self._lock:
            return list(islice(reversed(self._order), limit))

    def query(self, f: ItemFilter, *,
              progress: Callable[[int, int], None] | None = None) -> list[Item]:
        """Items matching ``f``, newest first by (published, first_seen, id).

        The recent window is searched first. Older partitions are read only when
        ``f.archive`` is True, or (``archive`` None) when ``f.since`` reaches back into them
        or fewer than ``offset + limit`` matched in memory. Archives whose manifest rules
        them out (published range, label, feed, starred) are skipped; with a limit, the scan
        stops once no remaining partition can hold a newer match. ``progress(done, total)``
        reports partitions scanned.
        """
        m = Matcher(f)
        need = None if f.limit is None else f.offset + f.limit
        with self._lock:
            self._require_open()
            flags = self._flags
            mem: list[Item] = []
            if need != 0:
                for item in reversed(self._order):
                    if m.item(item, flags.get(item.id, NO_FLAGS)):
                        mem.append(item)
                        if need is not None and len(mem) >= need:
                            break
            if f.archive is False or need == 0:
                go = False
            elif f.archive is True:
                go = True
            else:
                go = f.since is not None or (need is not None and len(mem) < need)
            if not go:
                return mem[f.offset:need]
            plan = self._archive_plan(f, m)
            if not plan:  # the manifest rules every archive out: nothing to scan or report
                return mem[f.offset:need]
            flag_view = dict(flags) if (f.unread or f.starred) else None
            # Archives with unsaved changes are filtered now, under the lock (copies: an
            # update rewrites documents in place).
            pending = {p.key: [dict(d) for d in p.docs().values()
                               if m.doc(d, flags.get(d["id"], NO_FLAGS))]
                       for p, _hi, _n in plan if p.db is not None}
        return self._scan_archives(f, m, mem, need, plan, pending, flag_view, progress)

    def counts_by_label(self) -> dict[str, int]:
        """Items per label over the whole store (an item counts under each of its labels;
        ``"none"`` counts unlabelled items). From the manifest, no archive read."""
        with self._lock:
            out = {label: 0 for label in (*LABELS, NO_LABEL)}
            for e in self._manifest.values():
                for label, n in e["labels"].items():
                    out[label] = out.get(label, 0) + n
            return out

    def daily_counts(self, days: int, now: float | None = None) -> dict[str, list[int]]:
        """label → items per UTC day of ``published``, the last ``days`` days, oldest first."""
        if days <= 0:
            return {label: [] for label in (*LABELS, NO_LABEL)}
        now = self._clock() if now is None else now
        last = int(now // DAY)
        day_names = [utc_iso((last - days + 1 + i) * DAY)[:10] for i in range(days)]
        slot = {d: i for i, d in enumerate(day_names)}
        out = {label: [0] * days for label in (*LABELS, NO_LABEL)}
        with self._lock:
            for e in self._manifest.values():
                hi = e.get("max_published")
                if hi is None or hi[:10] < day_names[0]:
                    continue
                for day, counts in e["days"].items():
                    i = slot.get(day)
                    if i is None:
                        continue
                    for label, n in counts.items():
                        out.setdefault(label, [0] * days)[i] += n
        return out

    def items_per_feed(self) -> dict[str, int]:
        """feed key → items stored (whole store, from the manifest)."""
        with self._lock:
            out: dict[str, int] = {}
            for e in self._manifest.values():
                for feed, n in e["feeds"].items():
                    out[feed] = out.get(feed, 0) + n
            return out

    def replace_all(self, transform: Callable[[Item], Item],
                    progress: Callable[[int, int], None] | None = None) -> int:
        """Apply ``transform`` to every stored item (re-classification); return how many
        changed. Partitions are rewritten one at a time, each atomically, newest first; an
        interruption leaves some partitions transformed and the rest as they were.
        ``transform`` must keep id, feed and first_seen.
        """
        self._require_writer("rewrite items")
        with self._lock:
            self._require_open()
            keys = sorted(self._parts, reverse=True)
        total, changed = len(keys), 0
        if progress is not None:
            progress(0, total)
        for n, key in enumerate(keys, 1):
            with self._lock:
                p = self._parts.get(key)
                ups: dict[str, tuple[Item, Item]] = {}
                docs: dict[str, dict[str, Any]] = {}
                if p is not None:
                    if p.resident:
                        olds: Iterable[Item] = [self._items[i] for i in p.ids]
                    else:
                        olds = [Item.from_dict(d) for d in self._load_db(p).docs().values()]
                    for old in olds:
                        new = transform(old)
                        if new is old or new == old:
                            continue
                        if (new.id, new.feed, new.first_seen) != (old.id, old.feed, old.first_seen):
                            raise ValueError(f"replace_all: transform changed the identity of "
                                             f"item {old.id} (id, feed and first_seen must stay)")
                        docs[old.id] = self._encodable_doc(new)
                        ups[old.id] = (old, new)
                    if ups:
                        self._update(p, ups, docs)
                    changed += len(ups)
            if ups:
                self.flush()  # this partition (and the manifest) saved before the next one
            with self._lock:
                if p is not None:
                    self._release_db(p)
            if progress is not None:
                progress(n, total)
        return changed

    def apply_retention(self, days: int, now: float | None = None) -> int:
        """Remove items first seen more than ``days`` ago, except starred ones; return the
        count removed. Whole old partitions are deleted; one holding starred items (or
        straddling the cutoff) is rewritten without the removed items. Flushes.
        """
        self._require_writer("apply retention")
        if days < 0:
            raise ValueError("retention days must be >= 0")
        now = self._clock() if now is None else now
        cutoff_ts = now - days * DAY
        cutoff = utc_iso(cutoff_ts)
        removed = 0
        with self._lock:
            self._require_open()
            starred = {i for i, fl in self._flags.items() if fl.starred}
            gone_ids: list[str] = []
            for key in sorted(self._parts):
                p = self._parts[key]
                if p.start >= cutoff_ts:
                    continue
                ids = self._partition_ids(p)
                if p.end <= cutoff_ts and not any(i in starred for i in ids):
                    self._delete_partition(p)
                    gone_ids.extend(ids)
                    removed += len(ids)
                    continue
                docs = self._load_db(p).docs()
                victims = [d["id"] for d in docs.values()
                           if d["first_seen"] < cutoff and d["id"] not in starred]
                if victims:
                    self._remove_from_partition(p, victims)
                    gone_ids.extend(victims)
                    removed += len(victims)
            flagged = [i for i in gone_ids if i in self._flags]
            if flagged:
                self._state_table("flags").remove(doc_ids=[doc_id(i) for i in flagged])
                for i in flagged:
                    del self._flags[i]
            if removed:
                self._state.touch()
        self.flush()
        with self._lock:
            for p in list(self._parts.values()):
                self._release_db(p)
        return removed

    # ------------------------------------------------------------------ flags
    def flags(self, item_id: str) -> Flags:
        with self._lock:
            return self._flags.get(item_id, NO_FLAGS)

    def mark(self, item_id: str, *, read: bool | None = None,
             starred: bool | None = None) -> bool:
        """Set read and/or starred. False (and nothing stored) if the id is unknown."""
        return self.mark_many([item_id], read=read, starred=starred) == 1

    def mark_many(self, item_ids: Iterable[str], *, read: bool | None = None,
                  starred: bool | None = None) -> int:
        """``mark`` for many ids in one table update ("mark all read"); returns how many
        known ids were marked."""
        self._require_writer("mark items")
        with self._lock:
            self._require_open()
            puts: dict[int, dict[str, bool]] = {}
            drops: list[int] = []
            marked = 0
            for iid in dict.fromkeys(item_ids):
                if not self._holds(iid):
                    continue
                marked += 1
                cur = self._flags.get(iid, NO_FLAGS)
                new = Flags(cur.read if read is None else bool(read),
                            cur.starred if starred is None else bool(starred))
                if new == cur:
                    continue
                if new == NO_FLAGS:
                    del self._flags[iid]
                    drops.append(doc_id(iid))
                else:
                    self._flags[iid] = new
                    puts[doc_id(iid)] = {"read": new.read, "starred": new.starred}
            tbl = self._state_table("flags")
            if drops:
                tbl.remove(doc_ids=drops)
            if puts:
                self._put_docs(tbl, puts)
            return marked

    # ------------------------------------------------------------------ feed state
    def feed_state(self, key: str) -> FeedState | None:
        with self._lock:
            st = self._feeds.get(key)
            return replace(st) if st is not None else None

    def feed_states(self) -> dict[str, FeedState]:
        with self._lock:
            return {k: replace(v) for k, v in self._feeds.items()}

    def put_feed_state(self, state: FeedState) -> None:
        self._require_writer("save feed state")
        doc = state.to_dict()
        try:
            orjson.dumps(doc)
        except TypeError as exc:
            raise ValueError(f"feed state of {state.key!r} cannot be stored: {exc}") from None
        did = _key_doc_id(state.key)
        with self._lock:
            self._require_open()
            clash = self._feed_doc_ids.setdefault(did, state.key)
            if clash != state.key:  # 1 in 2**63; refuse rather than overwrite another feed
                raise ValueError(f"feed keys {state.key!r} and {clash!r} collide in the store")
            self._feeds[state.key] = replace(state)
            # Written to TinyDB at flush, all feeds in one call (a poll puts one per feed).
            self._pending_feeds[did] = doc

    def _sync_feed_states(self) -> None:
        if self._pending_feeds:
            docs, self._pending_feeds = self._pending_feeds, {}
            self._put_docs(self._state_table("feeds"), docs)

    def forget_feed(self, key: str) -> None:
        """Drop a feed's state (its items stay)."""
        self._require_writer("forget a feed")
        with self._lock:
            self._require_open()
            if self._feeds.pop(key, None) is not None:
                self._feed_doc_ids.pop(_key_doc_id(key), None)
                self._sync_feed_states()
                self._state_table("feeds").remove(doc_ids=[_key_doc_id(key)])

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            meta = self._meta_doc()
            if key not in meta:
                return default
            value = meta[key]
            # A copy, so a caller mutating it cannot change the store behind its back.
            return orjson.loads(orjson.dumps(value)) if isinstance(value, (dict, list)) else value

    def set_meta(self, key: str, value: Any) -> None:
        """Store a small JSON value (rules fingerprint, UI state…). Keys ``schema``,
        ``generation`` and ``partitions`` are the store's own."""
        self._require_writer("save metadata")
        if key in _RESERVED_META:
            raise ValueError(f"meta key {key!r} is reserved by the store")
        try:
            value = orjson.loads(orjson.dumps(value))
        except TypeError as exc:
            raise ValueError(f"meta {key!r} must be JSON-serializable: {exc}") from None
        with self._lock:
            self._require_open()
            self._state_table("meta").update({key: value}, doc_ids=[_META_ID])

    @property
    def generation(self) -> int:
        """Bumped and saved on every flush, so read-only viewers can notice writes."""
        with self._lock:
            return int(self._meta_doc().get("generation", 0))

    # ------------------------------------------------------------------ persistence
    @property
    def dirty(self) -> bool:
        with self._lock:
            if self._state_db is None:
                return False
            return (bool(self._pending_feeds) or self._state.dirty
                    or any(p.dirty for p in self._parts.values()))

    def flush(self) -> FlushReport:
        """Save every dirty file atomically: typically the current partition, then state.json.

        Partitions are written before state.json, whose manifest records each partition
        file's stat: after a crash in between, the stale manifest entry is detected and
        recomputed at open. On StoreWriteError nothing more is written, the files on disk are
        the previous good ones and the changes stay pending for the next flush.
        """
        t0 = time.perf_counter()
        if self.readonly:
            return FlushReport()
        if self._writer_lock is not None and not self._writer_lock.held:
            # e.g. a forked worker: its copy of the lock was dropped, so it must not write
            raise StoreError(self.path, f"this process does not hold the writer lock of "
                                        f"{self.path} (a forked child?): not saving")
        files = written = 0
        with self._flush_lock:
            with self._lock:
                self._require_open()
                jobs = []
                self._sync_feed_states()
                for p in self._parts.values():
                    p.sync()
                    storage = p.storage
                    if storage is not None and storage.dirty:
                        snap = storage.snapshot()
                        if snap is not None:
                            jobs.append((p, storage, snap[0], snap[1], _copy_entry(
                                self._manifest.get(p.key) or new_entry())))
                if not jobs and not self._state.dirty:
                    return FlushReport(0, 0, time.perf_counter() - t0)
            for p, storage, payload, version, entry in jobs:
                st = storage.commit(payload)
                with self._lock:
                    storage.mark_saved(version)
                    if self._parts.get(p.key) is not p:
                        # Deleted by retention while we wrote it: do not resurrect it.
                        with contextlib.suppress(OSError):
                            p.path.unlink()
                        continue
                    p.stat = stat_key(st)
                    entry["stat"] = p.stat
                    self._disk_manifest[p.key] = entry
                files += 1
                written += len(payload)
            with self._lock:
                gen = int(self._meta_doc().get("generation", 0)) + 1
                self._state_table("meta").update(
                    {"generation": gen, "partitions": self._disk_manifest}, doc_ids=[_META_ID])
                payload, version = self._state.snapshot()  # type: ignore[misc]
            st = self._state.commit(payload)
            with self._lock:
                self._state.mark_saved(version)
                self._state_stat = stat_key(st)
                files += 1
                written += len(payload)
                self._after_flush()
        return FlushReport(files, written, time.perf_counter() - t0)

    def reload(self) -> bool:
        """Read-only viewers: pick up what the writer saved (files whose stat changed).
        True if anything changed. A writer's memory is the truth: returns False."""
        if not self.readonly:
            return False
        with self._lock:
            self._require_open()
            changed = False
            try:
                st = stat_key(os.stat(self.path / STATE_NAME))
            except FileNotFoundError:
                st = None
            if st != self._state_stat:
                self._state_db = TinyDB(self.path / STATE_NAME, storage=AtomicJSONStorage,
                                        readonly=True)
                self._load_state()
                self._state_stat = st
                changed = True
            with paused_gc():
                changed |= self._sync_partitions()
            changed |= self._evict_aged()
            return changed

    # ================================================================== internals
    @property
    def _state(self) -> AtomicJSONStorage:
        assert self._state_db is not None
        return self._state_db.storage  # type: ignore[return-value]

    def _state_table(self, name: str) -> Table:
        assert self._state_db is not None
        return self._state_db.table(name)

    def _meta_doc(self) -> dict[str, Any]:
        if self._state_db is None:
            return {}
        return self._state.read().get("meta", {}).get(str(_META_ID)) or {}

    def _require_open(self) -> None:
        if self._closed:
            raise StoreError(self.path, f"the store {self.path} is closed")

    def _require_writer(self, action: str) -> None:
        if self.readonly:
            raise ReadOnlyStoreError(self.path, action)

    def _window_start(self) -> float:
        return self._clock() - self.recent_days * DAY

    def _resident_start(self) -> float:
        """Partitions ending after this are held in memory: the recent window, or only the
        current week while the older ones are deferred."""
        start = self._window_start()
        if self._defer_older:
            start = max(start, week_bounds(week_key_at(self._clock()))[0])
        return start

    @property
    def deferred(self) -> bool:
        """Are older weeks of the recent window still waiting for :meth:`load_deferred`?"""
        return self._defer_older

    def load_deferred(self) -> int:
        """Bring the older weeks of the recent window into memory (after
        ``open(defer_older=True)``); returns how many items that added (unsaved changes to
        those weeks included)."""
        with self._lock:
            self._require_open()
            if not self._defer_older:
                return 0
            self._defer_older = False
            window_start = self._window_start()
            added: list[Item] = []
            with paused_gc():
                for p in self._parts.values():
                    if p.resident or p.end <= window_start:
                        continue
                    added.extend(self._items_from_docs(p, p.docs()) if p.db is not None
                                 else self._items_from_file(p))
                    p.resident, p.index = True, None
                self._order_add(added)
        release_free_heap()
        return len(added)

    @staticmethod
    def _checked(item: Item) -> Item:
        if not isinstance(item, Item):
            raise TypeError(f"expected an Item, got {type(item).__name__}")
        if not isinstance(item.id, str) or not ITEM_ID_RE.fullmatch(item.id):
            raise ValueError(f"item id {item.id!r} is not 16 lowercase hex digits")
        try:
            week_key(item.first_seen)
        except (TypeError, ValueError):
            raise ValueError(f"item {item.id}: first_seen {item.first_seen!r} is not a UTC "
                             f"ISO timestamp") from None
        if not isinstance(item.published, str) or not isinstance(item.feed, str):
            raise ValueError(f"item {item.id}: published and feed must be strings")
        return item

    @staticmethod
    def _encodable_doc(item: Item) -> dict[str, Any]:
        """The item's document; refuse now what would otherwise make every later flush fail."""
        doc = item.to_dict()
        try:
            orjson.dumps(doc)
        except TypeError as exc:
            raise ValueError(f"item {item.id} cannot be stored as JSON: {exc}") from None
        return doc

    @staticmethod
    def _put_docs(tbl: Table, docs: dict[int, dict[str, Any]]) -> None:
        """Insert-or-replace by doc id: two table calls in all, never one per document."""
        present = [i for i in docs if tbl.contains(doc_id=i)]
        if present:
            tbl.remove(doc_ids=present)
        tbl.insert_multiple([Document(d, doc_id=i) for i, d in docs.items()])

    # --- loading ------------------------------------------------------------------------
    def _load(self) -> None:
        if not self.readonly:
            remove_stray_temps(self.path)
        self._state_db = TinyDB(self.path / STATE_NAME, storage=AtomicJSONStorage,
                                readonly=self.readonly)
        self._load_state()
        try:
            self._state_stat = stat_key(os.stat(self.path / STATE_NAME))
        except FileNotFoundError:
            self._state_stat = None
        if not self.readonly and str(_META_ID) not in self._state.read().get("meta", {}):
            self._state_table("meta").insert(Document(
                {"schema": SCHEMA_VERSION, "generation": 0, "partitions": self._disk_manifest},
                doc_id=_META_ID))
        with paused_gc():
            self._sync_partitions()

    def _load_state(self) -> None:
        path = self.path / STATE_NAME
        tables = self._state.read()
        meta = tables.get("meta", {}).get(str(_META_ID)) or {}
        schema = meta.get("schema", SCHEMA_VERSION)
        if not isinstance(schema, int) or schema > SCHEMA_VERSION:
            raise StoreError(path, f"{path} was written by a newer diplowatch (store schema "
                                   f"{schema!r}, this version reads {SCHEMA_VERSION}): upgrade")
        feeds: dict[str, FeedState] = {}
        for k, d in tables.get("feeds", {}).items():
            try:
                fs = FeedState.from_dict(d)
            except (KeyError, TypeError, ValueError) as exc:
                raise CorruptStoreError(path, f"feed state {k} is not valid ({exc!r})") from None
            feeds[fs.key] = fs
        self._feeds = feeds
        self._feed_doc_ids = {_key_doc_id(k): k for k in feeds}
        self._flags = {item_id_of(k): Flags(bool(d.get("read")), bool(d.get("starred")))
                       for k, d in tables.get("flags", {}).items()}
        manifest = meta.get("partitions")
        if not isinstance(manifest, dict):
            manifest = {}
        # Drop malformed entries: they are recomputed from the files.
        self._disk_manifest = {k: e for k, e in manifest.items() if _valid_entry(e)}
        if "partitions" in meta:
            meta["partitions"] = self._disk_manifest

    def _sync_partitions(self) -> bool:
        """Bring the partitions in line with the files on disk (open, and viewer reload).

        Resident weeks are loaded into memory; archives get their id index (from the
        sidecar if it matches the file, else rebuilt). A manifest entry whose stat does not
        match its file (crash between a partition write and state.json) is recomputed.
        """
        disk: dict[str, list[int]] = {}
        with os.scandir(self.path) as it:
            for entry in it:
                key = partition_key_of(entry.name)
                if key is not None and entry.is_file():
                    disk[key] = stat_key(entry.stat())
        changed = False
        fixed = False
        for key in list(self._parts):
            p = self._parts[key]
            if key not in disk and p.stat is not None and not p.dirty:
                self._drop_partition(p)  # deleted on disk (retention by the writer)
                changed = True
        window_start = self._resident_start()
        current = week_key_at(self._clock())
        added: list[Item] = []
        for key in sorted(disk):
            st = disk[key]
            p = self._parts.get(key)
            if p is not None and (p.stat == st or p.dirty):
                continue
            if p is None:
                p = self._parts[key] = _Partition(key, self.path)
            changed = True
            durable = self._disk_manifest.get(key)
            entry_ok = durable is not None and durable.get("stat") == st
            if p.end > window_start:
                keep_db = not self.readonly and key == current
                docs = self._read_docs(p, keep_db)
                p.index = None
                if p.resident and self.readonly:
                    # A viewer following the writer: the current week was rewritten with a
                    # few new items; rebuilding all of its items would cost ~0.5 s at 25k.
                    added.extend(self._refresh_resident(p, docs))
                else:
                    if p.resident:
                        self._forget_resident_items(p)
                    p.resident = True
                    added.extend(self._items_from_docs(p, docs))
                if not entry_ok:
                    durable = _entry_of(p.path, docs)
                    durable["stat"] = st
                    self._disk_manifest[key] = durable
                    fixed = True
            else:
                if p.resident:
                    self._forget_resident_items(p)
                    p.resident = False
                index = read_index(self.path / index_name(key), st) if entry_ok else None
                if index is None:
                    docs = (read_tables(p.path) or {}).get("items", {})
                    index = IdIndex.from_doc_ids(int(k) for k in docs)
                    if not entry_ok:
                        durable = _entry_of(p.path, docs)
                        durable["stat"] = st
                        self._disk_manifest[key] = durable
                        fixed = True
                    del docs
                    p.stat = st
                    self._save_index(p, index)
                p.index = index
            p.stat = st
            self._manifest[key] = _copy_entry(durable)  # type: ignore[arg-type]
        for key in [k for k in self._disk_manifest if k not in disk]:
            del self._disk_manifest[key]
            if key not in self._parts:
                self._manifest.pop(key, None)
            fixed = True
        self._order_add(added)
        if fixed and not self.readonly:
            self._state.touch()  # save the corrected manifest with the next flush
        return changed

    def _read_docs(self, p: _Partition, keep_db: bool) -> dict[str, dict[str, Any]]:
        if keep_db:
            return self._load_db(p).docs()
        return (read_tables(p.path) or {}).get("items", {})

    def _items_from_file(self, p: _Partition) -> list[Item]:
        """A partition's items, its documents decoded one at a time: the file's bytes and
        one document at a time besides the items (a week decoded whole held ~50 MB more at
        20k items). Anything unexpected goes the whole-file way, whose errors name it."""
        raw = read_raw(p.path)
        if raw is None:
            return []
        slices = item_doc_slices(raw)
        if slices is not None:
            view, out = memoryview(raw), []
            try:
                for key, start, end in slices:
                    doc = orjson.loads(view[start:end])
                    if type(doc) is not dict:
                        break
                    item = _item_from_doc(doc)
                    if not _usable(item) or item.id != item_id_of(key):
                        break
                    out.append(item)
                else:
                    return self._hold(p, out)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                pass
        return self._items_from_docs(p, decode_tables(raw, p.path).get("items", {}))

    def _items_from_docs(self, p: _Partition, docs: dict[str, dict[str, Any]]) -> list[Item]:
        try:
            out = [_item_from_doc(d) for d in docs.values()]
            if not all(map(_usable, out)):
                raise TypeError
        except (KeyError, TypeError, ValueError, AttributeError):
            raise _bad_document(p.path, docs) from None
        ids = [it.id for it in out]
        if ids != [item_id_of(k) for k in docs]:
            bad = next(k for k, i in zip(docs, ids) if item_id_of(k) != i)
            raise CorruptStoreError(p.path, f"document {bad} holds item {docs[bad].get('id')!r}, "
                                            f"whose id does not match")
        return self._hold(p, out)

    def _hold(self, p: _Partition, items: list[Item]) -> list[Item]:
        """Make a partition's checked items resident (by id, and in its id set)."""
        ids = [it.id for it in items]
        self._items.update(zip(ids, items))
        p.ids.update(ids)
        return items

    def _refresh_resident(self, p: _Partition, docs: dict[str, dict[str, Any]]) -> list[Item]:
        """Update a resident partition from its re-read documents, rebuilding only the
        items that are new or whose stored fields changed; returns those (to be ordered)."""
        fresh: dict[str, dict[str, Any]] = {}
        for k, d in docs.items():
            fresh[item_id_of(k)] = d
        for iid in p.ids - fresh.keys():  # removed by the writer (retention, recovery)
            old = self._items.pop(iid, None)
            if old is not None:
                self._order_remove(old)
        rebuild: dict[str, dict[str, Any]] = {}
        for iid, d in fresh.items():
            old = self._items.get(iid)
            if old is None or _doc_differs(old, d):
                if old is not None:
                    self._order_remove(old)
                rebuild[str(doc_id(iid))] = d
        p.ids = set(fresh)
        return self._items_from_docs(p, rebuild) if rebuild else []

    def _load_db(self, p: _Partition) -> _Partition:
        """Make the partition's TinyDB resident (reads the file once)."""
        if p.db is None:
            db = TinyDB(p.path, storage=AtomicJSONStorage, readonly=self.readonly)
            db.storage.read()  # surface CorruptStoreError now
            p.db = db
        return p

    def _release_db(self, p: _Partition) -> None:
        """Drop a clean partition's raw documents unless it is the current week's.

        An archive's id index is refreshed from the documents first (it may have grown).
        """
        if p.db is None or p.dirty:
            return
        if p.key == week_key_at(self._clock()) and p.resident and not self.readonly:
            return
        if not p.resident:
            p.index = IdIndex.from_doc_ids(int(k) for k in p.docs())
            if p.stat is not None:
                self._save_index(p, p.index)
        p.db = None

    def _save_index(self, p: _Partition, index: IdIndex) -> None:
        if self.readonly or p.stat is None:
            return
        with contextlib.suppress(StoreWriteError):  # a cache: rebuilt if missing
            write_index(self.path / index_name(p.key), index, p.stat)

    # --- memory index ---------------------------------------------------------------------
    def _forget_resident_items(self, p: _Partition) -> None:
        gone = p.ids
        for iid in gone:
            self._items.pop(iid, None)
        if gone:
            self._order = [it for it in self._order if it.id not in gone]
        p.ids = set()

    def _holds(self, item_id: str) -> bool:
        """Is the id stored: in memory, or in a partition's id index or pending changes?"""
        return item_id in self._items or (ITEM_ID_RE.fullmatch(item_id) is not None
                                          and self._locate(item_id) is not None)

    def _order_add(self, items: list[Item]) -> None:
        """Many items into the recent order at once: one sort, not an insort each."""
        if items:
            self._order.extend(items)
            self._order.sort(key=_SORT_KEY)

    def _order_remove(self, item: Item) -> None:
        order = self._order
        i = bisect_left(order, _SORT_KEY(item), key=_SORT_KEY)
        while i < len(order) and order[i] is not item:
            i += 1
        if i < len(order):
            del order[i]

    def _drop_partition(self, p: _Partition) -> None:
        if p.resident:
            self._forget_resident_items(p)
        self._parts.pop(p.key, None)
        self._manifest.pop(p.key, None)

    def _evict_aged(self) -> bool:
        """Partitions that left the recent window become archives (long-running process)."""
        window_start = self._window_start()
        evicted = False
        for p in self._parts.values():
            if p.resident and p.end <= window_start and not p.dirty and p.stat is not None:
                index = IdIndex.from_doc_ids(map(doc_id, p.ids))
                self._save_index(p, index)
                self._forget_resident_items(p)
                p.resident = False
                p.index = index
                p.db = None
                evicted = True
        return evicted

    def _after_flush(self) -> None:
        for p in list(self._parts.values()):
            self._release_db(p)
        self._evict_aged()

    # --- locating and changing items -------------------------------------------------------
    def _locate(self, item_id: str) -> _Partition | None:
        """Which partition holds this id (memory, pending changes or id index)."""
        did = doc_id(item_id)
        skey = str(did)
        for p in self._parts.values():
            if p.resident:
                if item_id in p.ids:
                    return p
            elif p.db is not None:
                if skey in p.docs():
                    return p
            elif p.index is not None and did in p.index:
                return p
        return None

    def _find(self, item_id: str) -> tuple[_Partition | None, Item | None]:
        item = self._items.get(item_id)
        if item is not None:
            for p in self._parts.values():
                if p.resident and item_id in p.ids:
                    return p, item
        p = self._locate(item_id)
        if p is None or p.resident:
            return None, None
        doc = self._load_db(p).docs().get(str(doc_id(item_id)))
        return (p, Item.from_dict(doc)) if doc is not None else (None, None)

    def _partition_for_insert(self, key: str) -> _Partition:
        p = self._parts.get(key)
        if p is None:
            p = self._parts[key] = _Partition(key, self.path)
            p.resident = p.end > self._window_start()
            self._manifest.setdefault(key, new_entry())
        return self._load_db(p)

    def _insert(self, p: _Partition, items: list[Item], docs: dict[str, dict[str, Any]]) -> None:
        """``docs``: each item's document, already checked by ``_encodable_doc``."""
        p.pending.extend(Document(docs[it.id], doc_id=doc_id(it.id))
                         for it in items)
        entry = self._manifest.setdefault(p.key, new_entry())
        for it in items:
            entry_add(entry, it.feed, it.published, it.labels)
        if p.resident:
            for it in items:
                self._items[it.id] = it
                p.ids.add(it.id)
            # insort is O(log n) compares + a memmove; a full sort computes n keys.
            if len(items) * 8 > len(self._order):
                self._order.extend(items)
                self._order.sort(key=_SORT_KEY)
            else:
                for it in items:
                    insort(self._order, it, key=_SORT_KEY)

    def _update(self, p: _Partition, ups: dict[str, tuple[Item, Item]],
                docs: dict[str, dict[str, Any]]) -> None:
        """``docs``: each new version's document, already checked by ``_encodable_doc``."""
        self._load_db(p)
        new_docs = {iid: docs[iid] for iid in ups}

        def apply(doc: dict[str, Any]) -> None:
            fresh = new_docs[doc["id"]]
            doc.clear()
            doc.update(fresh)

        p.table().update(apply, doc_ids=[doc_id(i) for i in new_docs])
        entry = self._manifest.setdefault(p.key, new_entry())
        for old, new in ups.values():
            entry_add(entry, old.feed, old.published, old.labels, -1)
            entry_add(entry, new.feed, new.published, new.labels, +1)
            if p.resident and old.id in self._items:
                self._order_remove(self._items[old.id])
                self._items[new.id] = new
                insort(self._order, new, key=_SORT_KEY)

    def _partition_ids(self, p: _Partition) -> list[str]:
        if p.resident:
            return list(p.ids)
        if p.db is not None:
            return [item_id_of(k) for k in p.docs()]
        return p.index.item_ids() if p.index is not None else []

    def _remove_from_partition(self, p: _Partition, victims: list[str]) -> None:
        self._load_db(p)
        p.table().remove(doc_ids=[doc_id(i) for i in victims])
        # Exact recount (min/max published may shrink).
        self._manifest[p.key] = entry_from_docs(p.docs().values())
        if p.resident:
            gone = set(victims)
            for iid in gone:
                self._items.pop(iid, None)
            p.ids -= gone
            self._order = [it for it in self._order if it.id not in gone]

    def _delete_partition(self, p: _Partition) -> None:
        """Delete a whole partition's files (retention); state.json is flushed after."""
        for path in (p.path, backup_path(p.path), self.path / index_name(p.key)):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise StoreWriteError(path, os_reason(exc), exc.errno) from exc
        p.db = None
        self._drop_partition(p)
        self._disk_manifest.pop(p.key, None)

    # --- archive scan -----------------------------------------------------------------------
    def _archive_plan(self, f: ItemFilter, m: Matcher) -> list[tuple[_Partition, str, int]]:
        """Archive partitions that may hold a match, newest max_published first."""
        starred_homes: set[str] | None = None
        if f.starred:
            starred_homes = set()
            for iid, fl in self._flags.items():
                if fl.starred and iid not in self._items:
                    home = self._locate(iid)
                    if home is not None:
                        starred_homes.add(home.key)
        plan = []
        for p in self._parts.values():
            if p.resident:
                continue
            e = self._manifest.get(p.key)
            if e is None or e["count"] <= 0:
                continue
            hi = e.get("max_published") or ""
            lo = e.get("min_published") or ""
            if f.since is not None and hi < f.since:
                continue
            if f.until is not None and lo and lo >= f.until:
                continue
            if f.label is not None and not e["labels"].get(f.label):
                continue
            if f.feeds is not None and not any(e["feeds"].get(k) for k in f.feeds):
                continue
            if starred_homes is not None and p.key not in starred_homes:
                continue
            plan.append((p, hi, int(e["count"])))
        plan.sort(key=lambda t: (t[1], t[0].key), reverse=True)
        return plan

    def _scan_archives(self, f: ItemFilter, m: Matcher, mem: list[Item], need: int | None,
                       plan: list[tuple[_Partition, str, int]], pending: dict[str, list[dict]],
                       flags: dict[str, Flags] | None,
                       progress: Callable[[int, int], None] | None) -> list[Item]:
        total = len(plan)
        if progress is not None:
            progress(0, total)
        # Top `need` by key in a min-heap (key tuples are unique: they end with the id).
        heap: list[tuple[tuple[str, str, str], Any]] = []
        found: list[tuple[tuple[str, str, str], Any]] = []

        def take(key: tuple[str, str, str], value: Any) -> None:
            if need is None:
                found.append((key, value))
            elif len(heap) < need:
                heappush(heap, (key, value))
            elif key > heap[0][0]:
                heappushpop(heap, (key, value))

        for item in mem:
            take(_SORT_KEY(item), item)
        get_flags = flags.get if flags is not None else None
        raw_terms = prefilter_terms(m.terms)
        # Tens of thousands of acyclic documents: collections would re-walk them all (~1/3 of
        # a full-history search).
        with paused_gc():
            done = 0
            for done, (p, hi, count) in enumerate(plan, 1):
                if need is not None and len(heap) >= need and hi < heap[0][0][0]:
                    done -= 1
                    break  # nothing left can beat the current page
                docs: Iterable[dict] | None
                if p.key in pending:
                    docs = pending[p.key]
                else:
                    raw = read_raw(p.path)
                    if raw is None:
                        docs = ()  # deleted meanwhile (retention)
                    else:
                        docs = docs_containing(raw, raw_terms, count) if raw_terms else None
                        if docs is None:
                            items = decode_tables(raw, p.path).get("items", {})
                            docs = items.values()
                        del raw
                try:
                    for d in docs:
                        fl = get_flags(d["id"], NO_FLAGS) if get_flags is not None else NO_FLAGS
                        if p.key in pending or m.doc(d, fl):
                            take((d["published"], d["first_seen"], d["id"]), d)
                except (KeyError, TypeError, AttributeError) as exc:
                    raise CorruptStoreError(p.path, f"a document is not a valid item "
                                                    f"({exc!r})") from None
                docs = None
                if progress is not None:
                    progress(done, total)
        if progress is not None and done < total:
            progress(total, total)
        chosen = sorted(heap if need is not None else found, key=lambda kv: kv[0], reverse=True)
        chosen = chosen[f.offset:need]
        with paused_gc():
            return [v if isinstance(v, Item) else _item_from_doc(v) for _k, v in chosen]

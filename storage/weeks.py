"""The item partitions of one store directory together, and every change to their items.

In memory: the partitions whose week overlaps the last ``recent_days`` (their items in the
RecentWindow); the live manifest (counts per partition, kept current on every change); for
older partitions only their id index. Archives are read on demand (an old id re-seen or
marked, retention, re-classification) and dropped again. ``sync`` keeps all this in line
with the files on disk (at open, and when a viewer reloads). A save appends the current
week's changes to its log (storage.weeklog) when it can, and writes a week whole when it
must. A lean open (``lean``) holds every week as its id index until ``materialize``.
Not thread-safe: the Store calls it under its lock.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson
from tinydb import TinyDB
from tinydb.table import Document

from feeds.model import Item

from . import archive, weekorder, wordindex
from .atomic import (AtomicJSONStorage, atomic_write, backup_path, read_raw, read_tables,
                     remove_file)
from .codec import encodable_doc, encoded_doc, items_from_docs, items_from_raw, merge_item
from .errors import CorruptStoreError, StoreWriteError
from .manifest import ManifestEntry
from .partition import (DAY, ITEM_ID_RE, IdIndex, Partition, UnsavedDocs, doc_id, index_name,
                        item_id_of, partition_key_of, read_index, stat_key, week_bounds,
                        week_chunks, week_key, week_key_at, write_index)
from .query import Flags, ItemFilter
from .rawdocs import item_doc_slices
from .weeklog import (LOG_SUFFIX, append_lines, join_lines, log_path, may_append, read_log,
                      remove_log)
from .window import RecentWindow


@dataclass(slots=True)
class FlushJob:
    """What flush() writes for one partition: the whole file, or (``append``) lines for its
    log; ``entry`` is the manifest entry that describes the result."""

    p: Partition
    payload: bytes
    version: int  # of the partition's TinyDB storage when serialized (0: none loaded)
    entry: ManifestEntry
    taken: UnsavedDocs  # the unsaved documents this save carries
    append: bool
    before: bytes = b""  # lines appended to the log before a full save (see weeklog)
    # A week's first save, written without TinyDB and encoded as it is written (the payload
    # is empty): its documents stay unsaved until it is on disk, then only those are dropped.
    kept: bool = False
    rows: list[Any] | None = None  # kept: where each document went (week_chunks)


class Weeks:
    """The partitions of a store, its two manifests and its recent window."""

    def __init__(self, directory: Path, *, readonly: bool, recent_days: int,
                 clock: Callable[[], float], defer_older: bool, lean: bool = False,
                 on_disk: bool = False) -> None:
        self.directory = directory
        self.on_disk = on_disk  # no week held in memory, a logged one as a lean open's
        # A lean open (a one-shot poll): every week is only its id index (and its log's
        # documents) until something asks for items (:meth:`materialize`).
        self.lean = lean
        self.keeps_encoded = not lean  # for good: a lean open materialized stays a one-shot
        self.readonly = readonly
        self.recent_days = recent_days
        self.clock = clock
        self.defer_older = defer_older  # older weeks of the window wait for load_deferred()
        # Two manifests: the durable one describes the files on disk (with their stat, saved
        # in state.json); the live one includes changes not flushed yet (answers queries).
        self.disk_manifest: dict[str, ManifestEntry] = {}
        self.manifest: dict[str, ManifestEntry] = {}
        self.parts: dict[str, Partition] = {}
        self.window = RecentWindow()

    @property
    def dirty(self) -> bool:
        return any(p.dirty for p in self.parts.values())

    def window_start(self) -> float:
        return self.clock() - self.recent_days * DAY

    def resident_start(self) -> float:
        """Partitions ending after this are held in memory: the recent window, or only the
        current week while the older ones are deferred."""
        if self.on_disk:
            return float("inf")
        start = self.window_start()
        if self.defer_older:
            start = max(start, week_bounds(week_key_at(self.clock()))[0])
        return start

    # --- in line with the disk ----------------------------------------------------------
    def sync(self) -> tuple[bool, bool]:
        """Bring the partitions in line with the files on disk (open, and viewer reload).

        Resident weeks are loaded into memory; archives get their id index (from the
        sidecar if it matches the file, else rebuilt). A manifest entry whose stat does not
        match its file (crash between a partition write and state.json) is recomputed.
        Returns (anything changed, the saved manifest was corrected).
        """
        disk = self._files_on_disk()
        changed = False
        for key in list(self.parts):
            p = self.parts[key]
            if key not in disk and p.stat is not None and not p.dirty:
                self.drop(p)  # deleted on disk (retention by the writer)
                changed = True
        window_start = self.resident_start()
        current = week_key_at(self.clock())
        added: list[Item] = []
        fixed = False
        for key in sorted(disk):
            st = disk[key]
            p = self.parts.get(key)
            if p is not None and (p.stat == st or p.dirty):
                continue
            if p is None:
                p = self.parts[key] = Partition(key, self.directory)
            changed = True
            durable = self.disk_manifest.get(key)
            if durable is not None and durable.stat != st:
                durable = None
            if self.lean or (self.on_disk and len(st) > 3):  # (a search reads the log later)
                entry = self._load_lean(p, st, durable is None)
            elif p.end > window_start or len(st) > 3:  # (a week with a log stays in memory)
                entry = self._load_resident(p, not self.readonly and key == current,
                                            durable is None, added)
            else:
                entry = self._load_archive(p, st, durable is None)
            if entry is not None:
                entry.stat = st
                self.disk_manifest[key] = durable = entry
                fixed = True
            p.stat = st
            self.manifest[key] = durable.live_copy()  # type: ignore[union-attr]  (set above)
        for key in [k for k in self.disk_manifest if k not in disk]:
            del self.disk_manifest[key]
            if key not in self.parts:
                self.manifest.pop(key, None)
            fixed = True
        self.window.add(added)
        return changed, fixed

    def _files_on_disk(self) -> dict[str, list[int]]:
        """week key → stat of each partition file in the directory."""
        disk: dict[str, list[int]] = {}
        logs: dict[str, int] = {}
        with os.scandir(self.directory) as it:
            for entry in it:
                key = partition_key_of(entry.name)
                if key is not None and entry.is_file():
                    disk[key] = stat_key(entry.stat())
                elif entry.name.endswith(LOG_SUFFIX):
                    key = partition_key_of(entry.name[:-len(LOG_SUFFIX)] + ".json")
                    if key is not None:
                        logs[key] = entry.stat().st_size
        for key, size in logs.items():
            if size and key in disk:  # (a log without its file: a week deleted meanwhile)
                disk[key].append(size)
        return disk

    def week_docs(self, p: Partition) -> dict[str, dict[str, Any]]:
        """A week's documents as a reader sees them: its file, its log, unsaved changes."""
        docs = (read_tables(p.path) or {}).get("items", {})
        docs.update(p.log_docs if p.log_docs is not None else read_log(log_path(p.path)))
        docs.update(p.unsaved)
        return docs

    def _load_lean(self, p: Partition, st: list[int], need_entry: bool) -> ManifestEntry | None:
        """A lean open's week: its id index (the sidecar, else rebuilt) and its log."""
        p.log_docs = read_log(log_path(p.path)) if len(st) > 3 else {}
        index = None if need_entry else read_index(self.directory / index_name(p.key), st)
        entry = None
        if index is None:
            docs = self.week_docs(p)
            index = IdIndex.from_doc_ids(int(k) for k in docs)
            if need_entry:
                entry = ManifestEntry.of_partition(p.path, docs)
            p.stat = st
            self.save_index(p, index)
        p.index = index
        return entry

    def materialize(self) -> None:
        """After a lean open: the weeks of the window into memory, as a full open has them
        (unsaved changes included)."""
        self.lean = False
        start = self.resident_start()
        current = week_key_at(self.clock())
        added: list[Item] = []
        for p in self.parts.values():
            p.raw = None
            if p.end > start or p.log_bytes:
                self._load_resident(p, not self.readonly and p.key == current, False, added)
                p.log_docs = None
            elif p.unsaved:
                self.load_db(p)  # an archive with changes: as after an upsert of an old id
        self.window.add(added)

    def _load_resident(self, p: Partition, keep_db: bool, need_entry: bool,
                       added: list[Item]) -> ManifestEntry | None:
        """Bring a week of the window into memory (its items into ``added``, to be
        ordered); returns its recomputed manifest entry when ``need_entry``."""
        docs = self.load_db(p).docs() if keep_db else self.week_docs(p)
        p.index = None
        if p.resident and self.readonly:
            # A viewer following the writer: the current week was rewritten with a few new
            # items; rebuilding all of its items would cost ~0.5 s at 25k.
            added.extend(self.window.refresh(p, docs))
        else:
            if p.resident:
                self.window.forget(p)
            p.resident = True
            added.extend(self.window.hold(p, items_from_docs(p.path, docs)))
        return ManifestEntry.of_partition(p.path, docs) if need_entry else None

    def _load_archive(self, p: Partition, st: list[int],
                      need_entry: bool) -> ManifestEntry | None:
        """Make a week an archive: only its id index in memory."""
        if p.resident:
            self.window.forget(p)
            p.resident = False
        index, entry, rebuilt = archive.load_index(p, st, need_entry)
        if rebuilt:
            p.stat = st
            self.save_index(p, index)
        p.index, p.log_docs = index, None  # (an on-disk reader's log may have been folded)
        return entry

    def load_deferred(self) -> int:
        """Bring the older weeks of the recent window into memory; returns how many items
        that added."""
        self.defer_older = False
        window_start = self.window_start()
        added: list[Item] = []
        for p in self.parts.values():
            if p.resident or p.end <= window_start:
                continue
            if p.db is not None:
                items = items_from_docs(p.path, p.docs())
            elif p.log_bytes or p.unsaved:
                items = items_from_docs(p.path, self.week_docs(p))
            else:
                items = self._items_of_file(p.path)
            added.extend(self.window.hold(p, items))
            p.resident, p.index = True, None
        self.window.add(added)
        return len(added)

    @staticmethod
    def _items_of_file(path: Path) -> list[Item]:
        # (a function of its own: the file's bytes are freed before the next week's are read)
        raw = read_raw(path)
        return [] if raw is None else items_from_raw(raw, path)

    def load_db(self, p: Partition) -> Partition:
        """Make the partition's TinyDB resident (reads the file once, and its log; unsaved
        changes of a lean open are applied and stay unsaved)."""
        if p.db is None:
            db = TinyDB(p.path, storage=AtomicJSONStorage, readonly=self.readonly)
            tables = db.storage.read()  # surface CorruptStoreError now
            logged = p.log_docs if p.log_docs is not None else read_log(log_path(p.path))
            if logged or p.unsaved:
                docs = tables.setdefault("items", {})
                docs.update(logged)
                docs.update(p.unsaved)
                if p.unsaved:
                    db.storage.touch()
            p.log_docs = None
            p.db = db
        return p

    def release_db(self, p: Partition) -> None:
        """Drop a clean partition's raw documents, the current week's too: its changes go
        to its log as documents of their own (``unsaved``), and only a full save of it (a
        fold, a removal) reads its file again. Kept, they cost a resident writer as much
        as its items again (~12 MiB at 10k items).

        An archive's id index is refreshed from the documents first (it may have grown).
        """
        if p.db is None or p.dirty:
            return
        if not p.resident:
            p.index = IdIndex.from_doc_ids(int(k) for k in p.docs())
            if p.stat is not None:
                self.save_index(p, p.index)
        p.db = None

    def save_index(self, p: Partition, index: IdIndex) -> None:
        if self.readonly or p.stat is None:
            return
        with contextlib.suppress(StoreWriteError):  # a cache: rebuilt if missing
            write_index(self.directory / index_name(p.key), index, p.stat)

    def save_resident_indexes(self) -> None:
        """At close: the resident weeks' id indexes, for the next open's archives."""
        for p in self.parts.values():
            if p.resident and p.stat is not None:
                self.save_index(p, IdIndex.from_doc_ids(map(doc_id, p.ids)))

    def drop(self, p: Partition) -> None:
        if p.resident:
            self.window.forget(p)
        self.parts.pop(p.key, None)
        self.manifest.pop(p.key, None)

    def evict_aged(self) -> bool:
        """Partitions that left the recent window become archives (long-running process)."""
        window_start = self.window_start()
        evicted = False
        for p in self.parts.values():
            if (p.resident and p.end <= window_start and not p.dirty and p.stat is not None
                    and not p.log_bytes):
                index = IdIndex.from_doc_ids(map(doc_id, p.ids))
                self.save_index(p, index)
                self.window.forget(p)
                p.resident = False
                p.index = index
                p.db = None
                evicted = True
        return evicted

    # --- flush ----------------------------------------------------------------------------
    def snapshots(self) -> list[FlushJob]:
        """Every dirty partition serialized now, with the manifest entry it will match: the
        lines to append to its log when only items of the current week were added or
        changed and the log stays under an eighth of the file (or 1 MiB), else the whole file
        (which folds the log in). A week with a log that is no longer the current one is folded."""
        jobs = []
        current = week_key_at(self.clock())
        for p in self.parts.values():
            p.sync()
            fold = p.log_bytes > 0 and p.key != current
            if not (p.dirty or fold):
                continue
            entry = (self.manifest.get(p.key) or ManifestEntry()).live_copy()
            storage = p.storage
            version = storage.version if storage is not None else 0
            if p.unsaved and not p.rewrite and p.key == current and p.stat is not None:
                lines = join_lines(data for _, data in p.unsaved.encoded())
                if may_append(p.log_bytes, len(lines), p.stat[0]):
                    taken, p.unsaved = p.unsaved, UnsavedDocs()
                    jobs.append(FlushJob(p, lines, version, entry, taken, True))
                    continue
            if p.db is None and p.stat is None and p.key == current and not p.rewrite:
                # The week's first save: every document is unsaved, written as it is encoded.
                taken = p.unsaved.copy()
                jobs.append(FlushJob(p, b"", 0, entry, taken, False, kept=True, rows=[]))
                continue
            storage = self.load_db(p).storage
            assert storage is not None
            if fold:
                storage.touch()
            snap = storage.snapshot()
            if snap is None:
                continue
            taken, p.unsaved = p.unsaved, UnsavedDocs()
            before = b""
            if taken and p.log_bytes:
                before = join_lines(data for _, data in taken.encoded())
            jobs.append(FlushJob(p, snap[0], snap[1], entry, taken, False, before))
        return jobs

    @staticmethod
    def commit(job: FlushJob) -> os.stat_result | int:
        """Write one job (outside the store's lock): the file's stat, or the log's size."""
        p = job.p
        if job.append:
            return append_lines(log_path(p.path), job.payload)
        if job.before:  # so that a log left by a kill right after the file agrees with it
            append_lines(log_path(p.path), job.before)
        if p.storage is not None:
            st = p.storage.commit(job.payload)
        elif p.path.exists():  # (a file this writer never read: maybe one for `recover`)
            raise CorruptStoreError(p.path, "refusing to replace a file that was not read")
        else:
            st = atomic_write(p.path, week_chunks(job.taken, job.rows) if job.kept
                              else job.payload, backup=False)
        remove_log(log_path(p.path))
        return st

    @staticmethod
    def unsave(jobs: list[FlushJob]) -> None:
        """Jobs a failed flush did not write: their documents are unsaved again."""
        for job in jobs:
            if not job.kept:
                job.p.unsaved = job.taken.under(job.p.unsaved)

    def saved(self, job: FlushJob, st: os.stat_result | int) -> bool:
        """A partition's payload is on disk; False if retention deleted it meanwhile."""
        p, entry = job.p, job.entry
        if p.storage is not None:
            p.storage.mark_saved(job.version)
        if self.parts.get(p.key) is not p:
            # Deleted by retention while we wrote it: do not resurrect it.
            with contextlib.suppress(OSError):
                (log_path(p.path) if job.append else p.path).unlink()
            return False
        if isinstance(st, int):
            assert p.stat is not None
            p.stat = p.stat[:3] + [st]
            if p.log_docs is not None:
                p.log_docs.update(job.taken)
        else:
            p.stat = stat_key(st)
            p.raw = p.log_docs = None
            p.rewrite = False
            if job.kept:
                p.unsaved.forget_saved(job.taken)
        entry.stat = p.stat
        self.disk_manifest[p.key] = entry
        return True

    def after_flush(self) -> None:
        for p in list(self.parts.values()):
            p.raw = None
            self.release_db(p)
        self.evict_aged()

    # --- finding items --------------------------------------------------------------------
    def holds(self, item_id: str) -> bool:
        """Is the id stored: in memory, or in a partition's id index or pending changes?"""
        return item_id in self.window.items or (ITEM_ID_RE.fullmatch(item_id) is not None
                                                and self.locate(item_id) is not None)

    def in_window(self, item_id: str) -> bool:
        """A lean open's ``known``: is the id in a week of the recent window?"""
        if ITEM_ID_RE.fullmatch(item_id) is None:
            return False
        start, did = self.window_start(), doc_id(item_id)
        skey = str(did)
        for p in self.parts.values():
            if p.end > start and (
                    skey in p.unsaved or (p.log_docs is not None and skey in p.log_docs)
                    or (p.index is not None and did in p.index)
                    or (p.db is not None and skey in p.docs()) or item_id in p.ids):
                return True
        return False

    def locate(self, item_id: str) -> Partition | None:
        """Which partition holds this id (memory, pending changes or id index)."""
        did = doc_id(item_id)
        skey = str(did)
        for p in self.parts.values():
            if p.resident:
                if item_id in p.ids:
                    return p
            elif p.db is not None:
                if skey in p.docs():
                    return p
            elif (skey in p.unsaved or (p.log_docs is not None and skey in p.log_docs)
                  or (p.index is not None and did in p.index)):
                return p
        return None

    def with_prefix(self, prefix: str, limit: int) -> list[str]:
        """Up to ``limit`` stored ids starting with the hex ``prefix`` (memory, pending
        changes and the archives' id indexes; no archive is read)."""
        shift = 4 * (16 - len(prefix))
        lo = int(prefix, 16) << shift
        hi = lo + (1 << shift)
        found = {iid for iid in self.window.items if iid.startswith(prefix)}
        for p in self.parts.values():
            if len(found) >= limit:
                break
            if p.resident:
                found.update(iid for iid in p.ids if iid.startswith(prefix))
            elif p.db is not None:
                found.update(f"{int(k):016x}" for k in p.docs() if lo <= int(k) < hi)
            elif p.index is not None:
                found.update(f"{d:016x}" for d in p.index.between(lo, hi, limit))
                found.update(item_id_of(k) for k in p.log_docs or () if lo <= int(k) < hi)
        return sorted(found)[:limit]

    def find(self, item_id: str) -> tuple[Partition | None, Item | None]:
        item = self.window.items.get(item_id)
        if item is not None:
            for p in self.parts.values():
                if p.resident and item_id in p.ids:
                    return p, item
        p = self.locate(item_id)
        if p is None or p.resident:
            return None, None
        key = str(doc_id(item_id))
        doc = self._lean_doc(p, key) if self.lean and p.db is None else self.load_db(p).docs().get(key)
        return (p, Item.from_dict(doc)) if doc is not None else (None, None)

    def _lean_doc(self, p: Partition, key: str) -> dict[str, Any] | None:
        """One stored document of a lean open's week, decoded alone (a poll sees again
        the items of the feeds that changed: decoding the week for them cost ~0.2 s)."""
        doc = p.unsaved.get(key) or (p.log_docs or {}).get(key)
        if doc is not None:
            return doc
        if p.raw is None:
            raw = read_raw(p.path) or b'{"items":{}}'
            slices = item_doc_slices(raw)
            if slices is None:  # another layout: the whole file, as a full open reads it
                return self.load_db(p).docs().get(key)
            p.raw = (raw, {k: (a, b) for k, a, b in slices})
        raw, where = p.raw
        span = where.get(key)
        if span is None:
            return None
        try:
            doc = orjson.loads(memoryview(raw)[span[0]:span[1]])
        except orjson.JSONDecodeError:
            doc = None
        if type(doc) is not dict or doc.get("id") != item_id_of(key):
            return self.load_db(p).docs().get(key)
        return doc

    def archive_plan(self, f: ItemFilter, flags: dict[str, Flags]) -> archive.Plan:
        """The archives a query must read (see archive.plan)."""
        starred_homes: set[str] | None = None
        if f.starred:
            starred_homes = set()
            for iid, fl in flags.items():
                if fl.starred and iid not in self.window.items:
                    home = self.locate(iid)
                    if home is not None:
                        starred_homes.add(home.key)
        return archive.plan(self.parts.values(), self.manifest, f, starred_homes)

    # --- changing items -------------------------------------------------------------------
    def upsert(self, batch: list[Item], owned: bool) -> list[Item]:
        """Store.upsert_items on checked items."""
        fresh: dict[str, Item] = {}  # new in this batch → stored copy
        changed: dict[str, tuple[Partition, Item, Item]] = {}  # id → (home, old, new)
        for inc in batch:
            iid = inc.id
            if iid in fresh:
                fresh[iid] = merge_item(fresh[iid], inc)
                continue
            if iid in changed:
                home, old, cur = changed[iid]
                changed[iid] = (home, old, merge_item(cur, inc))
                continue
            home, old = self.find(iid)
            if old is None:
                # A private copy: the caller may go on mutating its object.
                fresh[iid] = inc if owned else replace(
                    inc, labels=tuple(inc.labels), scores=dict(inc.scores),
                    evidence=tuple(inc.evidence), actors=tuple(inc.actors))
                continue
            assert home is not None
            merged = merge_item(old, inc)
            if merged != old:
                changed[iid] = (home, old, merged)
        # Serialized once: the check that refuses what would make every later flush fail
        # also yields the document handed to TinyDB, and the bytes the save writes.
        docs: dict[str, dict[str, Any]] = {}
        raw: dict[str, bytes] = {}
        for iid, item in chain(fresh.items(), ((i, new) for i, (_h, _o, new) in changed.items())):
            docs[iid], raw[iid] = encoded_doc(item)

        by_week: dict[str, list[Item]] = {}
        for item in fresh.values():
            by_week.setdefault(week_key(item.first_seen), []).append(item)
        for key, new_items in by_week.items():
            self._insert(self._partition_for_insert(key), new_items, docs, raw)

        by_home: dict[str, dict[str, tuple[Item, Item]]] = {}
        for iid, (home, old, new) in changed.items():
            if new != old:
                by_home.setdefault(home.key, {})[iid] = (old, new)
        for key, ups in by_home.items():
            self.update(self.parts[key], ups, docs, raw)
        return list(fresh.values())

    def _partition_for_insert(self, key: str) -> Partition:
        p = self.parts.get(key)
        if p is None:
            p = self.parts[key] = Partition(key, self.directory)
            p.resident = not self.lean and p.end > self.window_start()
            self.manifest.setdefault(key, ManifestEntry())
        return self._writable(p)

    def _writable(self, p: Partition) -> Partition:
        """``p``, ready for changes: an archive's documents loaded (it answers ``get`` from
        them); a week of the window, or any week of a lean open, stays as it is (``unsaved``
        carries its changes: to its log, or into a full save that reads its file then)."""
        return p if p.db is not None or p.resident or self.lean else self.load_db(p)

    def _insert(self, p: Partition, items: list[Item], docs: dict[str, dict[str, Any]],
                raw: dict[str, bytes]) -> None:
        """``docs``: each item's document, checked by ``encoded_doc``; ``raw``: its encoding."""
        if p.db is not None:
            p.pending.extend(Document(docs[it.id], doc_id=doc_id(it.id))
                             for it in items)
        if self.keeps_encoded:  # see UnsavedDocs
            for it in items:
                p.unsaved.hold_encoded(str(doc_id(it.id)), it, raw[it.id])
        else:  # opened lean (a one-shot poll): its peak memory before ~10 MiB of encodings
            p.unsaved.update((str(doc_id(it.id)), it) for it in items)
        add = self.manifest.setdefault(p.key, ManifestEntry()).add
        for it in items:
            add(it.feed, it.published, it.labels)
        if p.resident:
            self.window.insert(p, items)

    def update(self, p: Partition, ups: dict[str, tuple[Item, Item]],
               docs: dict[str, dict[str, Any]], raw: dict[str, bytes] | None = None) -> None:
        """``docs``: each new version's document, already checked by ``encodable_doc``."""
        new_docs = {iid: docs[iid] for iid in ups}
        if self._writable(p).db is not None:

            def apply(doc: dict[str, Any]) -> None:
                fresh = new_docs[doc["id"]]
                doc.clear()
                doc.update(fresh)

            p.table().update(apply, doc_ids=[doc_id(i) for i in new_docs])
        if raw is None:
            p.unsaved.update((str(doc_id(i)), new) for i, (_old, new) in ups.items())
        else:
            for i, (_old, new) in ups.items():
                p.unsaved.hold_encoded(str(doc_id(i)), new, raw[i])
        add = self.manifest.setdefault(p.key, ManifestEntry()).add
        for old, new in ups.values():
            add(old.feed, old.published, old.labels, -1)
            add(new.feed, new.published, new.labels, +1)
        if p.resident:
            self.window.replace(ups.values())

    def transform(self, p: Partition, transform: Callable[[Item], Item]) -> int:
        """Store.replace_all for one partition; returns how many items changed."""
        ups: dict[str, tuple[Item, Item]] = {}
        docs: dict[str, dict[str, Any]] = {}
        if p.resident:
            olds: Iterable[Item] = [self.window.items[i] for i in p.ids]
        else:
            olds = [Item.from_dict(d) for d in self.load_db(p).docs().values()]
        for old in olds:
            new = transform(old)
            if new is old or new == old:
                continue
            if (new.id, new.feed, new.first_seen) != (old.id, old.feed, old.first_seen):
                raise ValueError(f"replace_all: transform changed the identity of "
                                 f"item {old.id} (id, feed and first_seen must stay)")
            docs[old.id] = encodable_doc(new)
            ups[old.id] = (old, new)
        if ups:
            self.update(p, ups, docs)
        return len(ups)

    def retain(self, cutoff_ts: float, cutoff: str, starred: set[str]) -> list[str]:
        """Store.apply_retention's removals; returns the ids removed."""
        gone_ids: list[str] = []
        for key in sorted(self.parts):
            p = self.parts[key]
            if p.start >= cutoff_ts:
                continue
            ids = self._partition_ids(p)
            if p.end <= cutoff_ts and not any(i in starred for i in ids):
                self._delete(p)
                gone_ids.extend(ids)
                continue
            docs = self.load_db(p).docs()
            victims = [d["id"] for d in docs.values()
                       if d["first_seen"] < cutoff and d["id"] not in starred]
            if victims:
                self._remove(p, victims)
                gone_ids.extend(victims)
        return gone_ids

    def _partition_ids(self, p: Partition) -> list[str]:
        if p.resident:
            return list(p.ids)
        if p.db is not None:
            return [item_id_of(k) for k in p.docs()]
        return p.index.item_ids() if p.index is not None else []

    def _remove(self, p: Partition, victims: list[str]) -> None:
        self.load_db(p)
        p.table().remove(doc_ids=[doc_id(i) for i in victims])
        p.rewrite = True
        for i in victims:
            p.unsaved.pop(str(doc_id(i)), None)
        # Exact recount (min/max published may shrink).
        self.manifest[p.key] = ManifestEntry.from_docs(p.docs().values())
        if p.resident:
            self.window.discard(p, victims)

    def _delete(self, p: Partition) -> None:
        """Delete a whole partition's files (retention); state.json is flushed after."""
        for path in (log_path(p.path), p.path, backup_path(p.path), self.directory /
                     index_name(p.key), wordindex.index_path(p.path), weekorder.index_path(p.path)):
            remove_file(path)
        p.db = None
        self.drop(p)
        self.disk_manifest.pop(p.key, None)

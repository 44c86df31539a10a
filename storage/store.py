"""The repository the rest of diplowatch uses: ``Store``.

A store is a directory::

    writer.lock            who is the writer (storage.lock: the lock is on the folder itself)
    state.json             TinyDB: feeds (FeedState per feed key), flags (read/starred per item
                           id, only items with a flag set), labels (corrections by hand per
                           item id), meta (schema, generation, manifest…)
    items-YYYY-Www.json    TinyDB, table "items": the items first seen in that ISO week
    items-YYYY-Www.log     the current week's append log: items added or changed since its
                           file was last written whole (storage.weeklog)
    items-YYYY-Www.ids     id index of the partition (a rebuildable cache)
    items-YYYY-Www.words   word index of an ended week, for search (storage.wordindex; a
                           rebuildable cache)
    items-YYYY-Www.order   the current week's documents newest first, for the dashboard's
                           first frame (storage.weekorder; a rebuildable cache)
    *.bak                  the previous good version of each file

Every file is written by AtomicJSONStorage: whole-file atomic replace, on ``flush()`` only
(the log is appended to, see storage.weeklog). A poll touches only the current week's
partition (its log, mostly) plus state.json, so the cost of the write after a poll does not
grow with history, nor with the week.

The Store is a facade: state.json is a StateFile (storage.state), the partitions with their
manifest and in-memory recent window are Weeks (storage.weeks), and a query reaching back
searches the archives (storage.archive).

Threading: one writer process, but inside it the poller and UI threads share the store.
Every public method takes one RLock. ``flush()`` serializes under the lock and writes the
files outside it (copy-on-serialize), so a query is never stuck behind an fsync.
Never call ``flush()`` while holding the lock from another path (flush takes _flush_lock
first, then the lock).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from feeds.heap import release_free_heap
from feeds.model import LABELS, NO_LABEL, Item, utc_iso

from . import archive, weekorder, wordindex
from .atomic import paused_gc, remove_stray_temps
from .codec import checked_item
from .corrections import Correction, LabelCorrections, corrected
from .errors import ReadOnlyStoreError, StoreError, WriterLockLostError
from .lock import WriterLock, store_directory
from .manifest import daily_label_counts, feed_totals, label_totals
from .partition import DAY, ITEM_ID_RE, doc_id, week_key_at
from .query import NO_FLAGS, Flags, ItemFilter, Matcher
from .state import SCHEMA_VERSION, StateAccess, StateFile
from .weeks import Weeks
from .window import week_pages

__all__ = ["Store", "FlushReport", "Flags", "ItemFilter", "Correction", "SCHEMA_VERSION"]


@dataclass(frozen=True, slots=True)
class FlushReport:
    """What one ``flush()`` wrote."""

    files: int = 0
    bytes: int = 0
    seconds: float = 0.0


class Store(StateAccess, LabelCorrections):
    """Items, flags, feed states and metadata of one store directory. Use ``Store.open``.

    Items returned are shared with the store's index: treat them as read-only.
    """

    def __init__(self, path: Path, *, readonly: bool, recent_days: int,
                 clock: Callable[[], float], lock: WriterLock | None,
                 defer_older: bool = False, lean: bool = False, on_disk: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self.recent_days = recent_days
        self._clock = clock
        self._writer_lock = lock
        self._lock = threading.RLock()
        self._flush_lock = threading.Lock()
        self._closed = False
        self._lost: WriterLockLostError | None = None
        self._state = StateFile(path, readonly=readonly)
        self._weeks = Weeks(path, readonly=readonly, recent_days=recent_days, clock=clock,
                            defer_older=defer_older, lean=lean, on_disk=on_disk)
        self._window = self._weeks.window
        self._items = self._window.items  # the recent window by id (never rebound)
        self._words_week: str | None = None  # the week whose ended weeks were word-indexed
        self._order_week: str | None = None  # the week whose order index was checked
        # The current week's order index (storage.weekorder) serves the dashboard's first
        # frame. A full open (the daemon) keeps it at its flushes; the dashboard (lean,
        # deferred) at its close, as sorting a week in its flush worker would stall the
        # UI for a moment; a one-shot poll (lean, nothing deferred) not at all: its cold
        # run would pay the sort.
        self._order_at = "flush" if not lean else "close" if defer_older else "never"

    # ------------------------------------------------------------------ open / close
    @classmethod
    def open(cls, path: Path | str, *, readonly: bool = False, recent_days: int = 7,
             clock: Callable[[], float] = time.time, defer_older: bool = False,
             lean: bool = False, on_disk: bool = False) -> "Store":
        """Open (a writer creates it, mode 0700) the store directory ``path``.

        With ``defer_older`` only the current week is brought into memory; the older weeks
        of the recent window stay archives (found by id, searched on disk, never lost)
        until :meth:`load_deferred`. The dashboard paints the current week first: at a
        million stored items that halves what its first frame waits for.

        ``lean`` (a one-shot poll): no week's items are decoded at open, only the feed
        states, the manifest and each week's id index (and append log); stored items a poll
        sees again are decoded alone. The first call that needs items (recent, query, get…)
        brings the window in as a full open would: a lean store answers everything.

        ``on_disk`` (a reader's one-shot search of the whole history, ``list --archive``):
        no week is brought into memory; queries read every week from disk, the ended ones
        through their word indexes, the others parsing only the documents whose raw text
        holds the search words (a week with an append log: its file's, then its log's, as a
        full open overlays them). Readers only.

        A writer takes the writer lock (StoreLockedError if another process has it;
        StoreUnwritableError on a read-only or full filesystem); a readonly store takes no
        lock and never writes. Corrupt files raise CorruptStoreError and are left untouched.
        """
        if recent_days < 1:
            raise ValueError("recent_days must be >= 1")
        if on_disk and not readonly:
            raise ValueError("on_disk is for readers")
        directory = store_directory(path, create=not readonly)
        lock = None if readonly else WriterLock(directory).acquire()
        try:
            store = cls(directory, readonly=readonly, recent_days=recent_days, clock=clock,
                        lock=lock, defer_older=defer_older, lean=lean, on_disk=on_disk)
            store._load()
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        return store

    def _load(self) -> None:
        if not self.readonly:
            remove_stray_temps(self.path)
        self._weeks.disk_manifest = self._state.load()
        self._state.stat = self._state.read_stat()
        if not self.readonly:
            self._state.ensure_meta(self._weeks.disk_manifest)
        with paused_gc():
            self._sync()

    def _sync(self) -> bool:
        changed, fixed = self._weeks.sync()
        if fixed and not self.readonly:
            self._state.storage.touch()  # save the corrected manifest with the next flush
        return changed

    def _materialize(self) -> None:
        """Under the lock, before anything that reads items: a lean open's window in."""
        if self._weeks.lean:
            with paused_gc():
                self._weeks.materialize()

    def close(self, *, save: bool = True) -> None:
        """Flush if dirty (writer), write the id indexes, release the lock. ``save=False``:
        leave unsaved changes unsaved (a one-shot command whose save already failed)."""
        if self._closed:
            return
        try:
            # (a forked child no longer holds the lock: it leaves saving to its parent; a
            # writer that lost the store writes nothing more)
            lock = self._writer_lock
            if save and not self.readonly and lock is not None and lock.held and self._lost is None:
                self.flush()
                self._check_owner()  # the id indexes too go only into our own folder
                with self._lock:
                    self._weeks.save_resident_indexes()
                if self._order_at == "close":
                    weekorder.tidy(self.path, self._clock())
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

    def _require_open(self) -> None:
        if self._closed:
            raise StoreError(self.path, f"the store {self.path} is closed")

    def _require_writer(self, action: str) -> None:
        if self.readonly:
            raise ReadOnlyStoreError(self.path, action)
        if self._lost is not None:
            raise self._lost

    @property
    def lost(self) -> WriterLockLostError | None:
        """Set once a save found this writer no longer owns the store folder at ``path``
        (deleted, renamed, replaced): from then on nothing is written."""
        return self._lost

    def _check_owner(self) -> None:
        """Before writing anything: still the writer of the folder at ``path``?"""
        if self._lost is not None:
            raise self._lost
        if self._writer_lock is not None:
            try:
                self._writer_lock.verify()
            except WriterLockLostError as exc:
                self._lost = exc
                raise

    # ------------------------------------------------------------------ items
    def upsert_items(self, items: Iterable[Item], *, owned: bool = False) -> list[Item]:
        """Store a batch; return the items that were new (id never stored), as stored.

        An existing id keeps first_seen, source, flags and (unless the incoming item sets
        them) actors/cluster; it takes the new title, summary, link, published and
        classification (but labels corrected by hand stay: :meth:`set_labels`). No disk I/O
        (except loading an archive partition that holds an old id); call ``flush()`` to save.
        New items are copied unless ``owned`` (the caller hands them over and will not mutate
        them: the poller's freshly parsed items).
        """
        self._require_writer("store items")
        batch = [checked_item(it) for it in items]
        if not batch:
            return []
        with self._lock:
            self._require_open()
            fixes = self._state.labels
            if fixes:
                batch = [corrected(it, fixes.get(it.id)) for it in batch]
            return self._weeks.upsert(batch, owned)

    def known(self, item_id: str) -> bool:
        """Is the id in the recent window? (in memory, cheap; archives not consulted; a
        lean open answers from the window weeks' id indexes)"""
        if self._weeks.lean:
            with self._lock:
                return self._weeks.in_window(item_id)
        return item_id in self._items

    def missing(self, item_ids: Iterable[str]) -> list[str]:
        """The ids (of those given, in order) that no partition holds: checked against memory,
        pending changes and the archives' id indexes, never by reading an archive."""
        with self._lock:
            self._require_open()
            holds = self._weeks.holds
            return [iid for iid in dict.fromkeys(item_ids) if not holds(iid)]

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> list[str]:
        """Up to ``limit`` stored ids that start with ``prefix`` (lower-case hex)."""
        with self._lock:
            self._require_open()
            self._materialize()
            return self._weeks.with_prefix(prefix, limit)

    def get(self, item_id: str) -> Item | None:
        """The item with this id: recent window first, then the archive that holds it."""
        with self._lock:
            self._require_open()
            self._materialize()
            item = self._items.get(item_id)
            if item is not None or not ITEM_ID_RE.fullmatch(item_id):
                return item
            p = self._weeks.locate(item_id)
            if p is None:
                return None
            key = str(doc_id(item_id))
            if p.db is not None:
                doc = p.docs().get(key)
                return Item.from_dict(doc) if doc is not None else None
            if p.log_docs and key in p.log_docs:  # (an on-disk reader's week with a log)
                return Item.from_dict(p.log_docs[key])
            path = p.path
        doc = archive.read_doc(path, key)  # outside the lock
        return Item.from_dict(doc) if doc is not None else None

    def recent(self, limit: int | None = None) -> list[Item]:
        """Newest first, from memory."""
        with self._lock:
            self._materialize()
            return self._window.newest(limit)

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
            self._materialize()
            flags = self._state.flags
            mem = self._window.matching(m, flags, need) if need != 0 else []
            if f.archive is False or need == 0:
                go = False
            elif f.archive is True:
                go = True
            else:
                go = f.since is not None or (need is not None and len(mem) < need)
            if not go:
                return mem[f.offset:need]
            plan = self._weeks.archive_plan(f, flags)
            if not plan:  # the manifest rules every archive out: nothing to scan or report
                return mem[f.offset:need]
            flag_view = dict(flags) if (f.unread or f.starred) else None
            pending = archive.unsaved_matches(plan, m, flags)
        return archive.scan(f, m, mem, need, plan, pending, flag_view, progress)

    def first_pages(self, filters: list[ItemFilter]) -> list[list[Item]] | None:
        """A lean open's first look (the dashboard's first frame): each filter's page among
        the current week's items, read from its file and log without bringing the window
        into memory. None once the window is in: ``query`` answers then."""
        with self._lock:
            self._require_open()
            if not self._weeks.lean:
                return None
            p = self._weeks.parts.get(week_key_at(self._clock()))
            if p is None:
                return [[] for _ in filters]
            with paused_gc():
                return week_pages(p, filters, self._state.flags)

    def counts_by_label(self) -> dict[str, int]:
        """Items per label over the whole store (an item counts under each of its labels;
        ``"none"`` counts unlabelled items). From the manifest, no archive read."""
        with self._lock:
            return label_totals(self._weeks.manifest.values())

    def daily_counts(self, days: int, now: float | None = None) -> dict[str, list[int]]:
        """label → items per UTC day of ``published``, the last ``days`` days, oldest first."""
        if days <= 0:
            return {label: [] for label in (*LABELS, NO_LABEL)}
        now = self._clock() if now is None else now
        last = int(now // DAY)
        day_names = [utc_iso((last - days + 1 + i) * DAY)[:10] for i in range(days)]
        with self._lock:
            return daily_label_counts(self._weeks.manifest.values(), day_names)

    def unread_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Unread items per label (``"none"``: unlabelled) and per feed key.

        An item is unread unless flagged read. These counts cover the recent window only
        (the weeks in memory; with ``defer_older``, only the current week until
        :meth:`load_deferred`): an archived week would have to be read from disk at every
        count, so its items are in the totals (``counts_by_label``) but never counted here.
        One pass over the window, under the lock."""
        labels: dict[str, int] = {}
        feeds: dict[str, int] = {}
        with self._lock:
            self._require_open()
            self._materialize()
            flags = self._state.flags
            for item in self._window.order:
                fl = flags.get(item.id)
                if fl is not None and fl.read:
                    continue
                for label in item.labels or (NO_LABEL,):
                    labels[label] = labels.get(label, 0) + 1
                feeds[item.feed] = feeds.get(item.feed, 0) + 1
        return labels, feeds

    def items_per_feed(self) -> dict[str, int]:
        """feed key → items stored (whole store, from the manifest)."""
        with self._lock:
            return feed_totals(self._weeks.manifest.values())

    def replace_all(self, transform: Callable[[Item], Item],
                    progress: Callable[[int, int], None] | None = None) -> int:
        """Apply ``transform`` to every stored item (re-classification); return how many
        changed. Partitions are rewritten one at a time, each atomically, newest first; an
        interruption leaves some partitions transformed and the rest as they were.
        ``transform`` must keep id, feed and first_seen. Labels corrected by hand are applied
        to what it returns: a re-classification never undoes them.
        """
        self._require_writer("rewrite items")
        given = transform

        def transform(item: Item) -> Item:
            return corrected(given(item), self._state.labels.get(item.id))

        with self._lock:
            self._require_open()
            self._materialize()
            keys = sorted(self._weeks.parts, reverse=True)
        total, changed = len(keys), 0
        if progress is not None:
            progress(0, total)
        for n, key in enumerate(keys, 1):
            with self._lock:
                p = self._weeks.parts.get(key)
                done = self._weeks.transform(p, transform) if p is not None else 0
                changed += done
            if done:
                self.flush()  # this partition (and the manifest) saved before the next one
            with self._lock:
                if p is not None:
                    self._weeks.release_db(p)
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
        self._check_owner()  # retention deletes files before its flush
        with self._lock:
            self._require_open()
            self._materialize()
            starred = {i for i, fl in self._state.flags.items() if fl.starred}
            gone = self._weeks.retain(cutoff_ts, cutoff, starred)
            self._state.drop_items(gone)
            if gone:
                self._state.storage.touch()
        self.flush()
        with self._lock:
            for p in list(self._weeks.parts.values()):
                self._weeks.release_db(p)
        return len(gone)

    # ------------------------------------------------------------------ flags
    def flags(self, item_id: str) -> Flags:
        with self._lock:
            return self._state.flags.get(item_id, NO_FLAGS)

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
            return self._state.mark(item_ids, read, starred, self._weeks.holds)

    # ------------------------------------------------------------------ persistence
    @property
    def dirty(self) -> bool:
        with self._lock:
            return (bool(self._state.pending_feeds) or self._state.storage.dirty
                    or self._weeks.dirty)

    def flush(self) -> FlushReport:
        """Save every dirty file atomically: typically the current partition, then state.json.

        Partitions are written before state.json, whose manifest records each partition
        file's stat: after a crash in between, the stale manifest entry is detected and
        recomputed at open. On StoreWriteError nothing more is written, the files on disk are
        the previous good ones and the changes stay pending for the next flush.
        WriterLockLostError (then also :attr:`lost`): the folder at ``path`` is no longer the
        one this writer locked; from then on nothing more is written.
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
                self._state.sync_feed_states()
                jobs = self._weeks.snapshots()
                if not jobs and not self._state.storage.dirty:
                    return FlushReport(0, 0, time.perf_counter() - t0)
            saved, written_rows = [], {}
            for n, job in enumerate(jobs):
                try:
                    self._check_owner()  # before every file: never into a folder not ours
                    st = self._weeks.commit(job)
                except BaseException:
                    with self._lock:  # what was not written stays unsaved, for the next flush
                        self._weeks.unsave(jobs[n:])
                    raise
                with self._lock:
                    if not self._weeks.saved(job, st):
                        continue
                files += 1
                written += st.st_size if job.kept else len(job.payload)
                if not job.append:
                    saved.append((job.p.path, job.payload, st))
                    if job.rows is not None:
                        written_rows[job.p.path] = job.rows
            with self._lock:
                payload, version = self._state.stage(self._weeks.disk_manifest)
            self._check_owner()
            st = self._state.storage.commit(payload)
            with self._lock:
                self._state.saved(version, st)
                files += 1
                written += len(payload)
                self._weeks.after_flush()
            self._words_week = wordindex.after_flush(self.path, saved, self._clock(),
                                                     self._words_week)
            if self._order_at == "flush":
                self._order_week = weekorder.after_flush(self.path, saved, self._clock(),
                                                         self._order_week, written_rows)
        return FlushReport(files, written, time.perf_counter() - t0)

    def reload(self) -> bool:
        """Read-only viewers: pick up what the writer saved (files whose stat changed).
        True if anything changed. A writer's memory is the truth: returns False."""
        if not self.readonly:
            return False
        with self._lock:
            self._require_open()
            changed = False
            st = self._state.read_stat()
            if st != self._state.stat:
                self._weeks.disk_manifest = self._state.reopen()
                self._state.stat = st
                changed = True
            with paused_gc():
                changed |= self._sync()
            changed |= self._weeks.evict_aged()
            return changed

    @property
    def deferred(self) -> bool:
        """Are older weeks of the recent window still waiting for :meth:`load_deferred`?"""
        return self._weeks.defer_older

    def load_deferred(self) -> int:
        """Bring the older weeks of the recent window into memory (after
        ``open(defer_older=True)``); returns how many items that added (unsaved changes to
        those weeks included)."""
        with self._lock:
            self._require_open()
            self._materialize()
            if not self._weeks.defer_older:
                return 0
            with paused_gc():
                added = self._weeks.load_deferred()
        # Decoded on a worker thread, in that thread's malloc arena, which glibc does not shrink
        # by itself: the dashboard kept ~55 MB of freed JSON at a million items.
        release_free_heap()
        return added

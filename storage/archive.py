"""Archive weeks (older than the recent window): their id index, reading one, searching all.

An archive stays on disk; memory holds only its id index and its manifest entry. A query
that reaches back reads archives one at a time, newest first, and stops once no remaining
week can hold a newer match than the page already has. With search words, a week's word
index (storage.wordindex) names the documents that can match and only those are read; a
week without a usable one is scanned, parsing only the documents whose raw text holds the
words.
"""
from __future__ import annotations

from heapq import heappush, heappushpop
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import orjson

from feeds.model import Item

from .atomic import decode_tables, paused_gc, read_raw, read_tables
from .codec import item_from_doc
from .errors import CorruptStoreError
from .manifest import ManifestEntry
from .partition import IdIndex, Partition, index_name, read_index
from .query import NO_FLAGS, Flags, ItemFilter, Matcher
from .query import SORT_KEY as _SORT_KEY
from .rawdocs import Keyed, docs_containing, newest_containing, prefilter_terms
from .weeklog import log_path, read_log
from .wordindex import matching_docs

# Archives a query reads: (partition, its max published, its item count), newest first.
Plan = list[tuple[Partition, str, int]]
# The oldest sort key a full page holds (None: not full, or no page): nothing older enters.
Floor = Callable[[], tuple[str, str, str] | None] | None


def load_index(p: Partition, st: list[int],
               need_entry: bool) -> tuple[IdIndex, ManifestEntry | None, bool]:
    """An archive's id index: the sidecar if it describes this very file (and the saved
    manifest entry is good), else rebuilt from the file, which then also gives the entry
    when ``need_entry``. Returns (index, recomputed entry or None, rebuilt)."""
    index = None if need_entry else read_index(p.path.with_name(index_name(p.key)), st)
    if index is not None:
        return index, None, False
    docs = (read_tables(p.path) or {}).get("items", {})
    index = IdIndex.from_doc_ids(int(k) for k in docs)
    return index, ManifestEntry.of_partition(p.path, docs) if need_entry else None, True


def read_doc(path: Path, key: str) -> dict[str, Any] | None:
    """One document of an archive file (read whole: files are replaced atomically, so this
    needs no lock)."""
    return ((read_tables(path) or {}).get("items") or {}).get(key)


def plan(parts: Iterable[Partition], manifest: dict[str, ManifestEntry], f: ItemFilter,
         starred_homes: set[str] | None) -> Plan:
    """Archive partitions that may hold a match, newest max_published first."""
    out = []
    for p in parts:
        if p.resident:
            continue
        e = manifest.get(p.key)
        if e is None or not e.may_hold(f):
            continue
        if starred_homes is not None and p.key not in starred_homes:
            continue
        out.append((p, e.max_published or "", int(e.count)))
    out.sort(key=lambda t: (t[1], t[0].key), reverse=True)
    return out


def unsaved_matches(archives: Plan, m: Matcher,
                    flags: dict[str, Flags]) -> dict[str, list[dict[str, Any]]]:
    """Matching documents of the planned archives with unsaved changes, filtered now under
    the lock (copies: an update rewrites documents in place)."""
    return {p.key: [dict(d) for d in p.docs().values() if m.doc(d, flags.get(d["id"], NO_FLAGS))]
            for p, _hi, _n in archives if p.db is not None}


def _candidates(p: Partition, count: int, pending: dict[str, list[dict]], m: Matcher,
                raw_terms: tuple[str, ...], floor: Floor) -> Iterable[dict]:
    """The documents of one archive worth testing: its unsaved matches, or those its word
    index gives for the search words and label, or (no usable index) those of its file
    whose raw text holds every search word (all of them without a usable word).

    A week with an append log (an on-disk reader's current week, see Store.open): its
    file's candidates, then every document of its log, read after the file as a full open
    reads them (a save that folds the log in writes the file before it deletes the log);
    the log's version of an item wins over the file's."""
    if p.key in pending:
        return pending[p.key]
    if p.log_docs is None:
        return _file_candidates(p, count, m, raw_terms, floor)
    found = _file_candidates(p, None, m, raw_terms, floor)
    logged = read_log(log_path(p.path))
    if not logged:
        return found
    ids = {d["id"] for d in logged.values()}
    # (the log's first: they raise the floor that a newest-first file read stops at)
    return chain(logged.values(), (d for d in found if d["id"] not in ids))


def _file_candidates(p: Partition, count: int | None, m: Matcher,
                     raw_terms: tuple[str, ...], floor: Floor) -> Iterable[dict]:
    """:func:`_candidates` from the file alone (``count``: its documents, None if unknown)."""
    indexed = matching_docs(p.path, m.terms, m.label)
    if indexed is not None:
        return indexed
    raw = read_raw(p.path)
    if raw is None:
        return ()  # deleted meanwhile (retention)
    keyed = newest_containing(raw, raw_terms) if raw_terms and floor is not None else None
    if keyed is not None:
        return _newest_first(p, raw, keyed, floor)
    docs = docs_containing(raw, raw_terms, count) if raw_terms else None
    if docs is None:
        return decode_tables(raw, p.path).get("items", {}).values()
    return docs


def _newest_first(p: Partition, raw: bytes, keyed: list[Keyed], floor: Floor) -> Iterator[dict]:
    """The candidates decoded newest first, until the page's floor (its oldest entry once
    full) is newer than the next one: nothing older could enter the page. A slice that does
    not decode to the document its key promised: the rest from the whole file, unordered."""
    done: set[str] = set()
    for key, start, end in keyed:
        low = floor()  # type: ignore[misc]
        if low is not None and key < low:
            return
        try:
            doc = orjson.loads(raw[start:end])
            same = (doc["published"], doc["first_seen"], doc["id"]) == key
        except (orjson.JSONDecodeError, KeyError, TypeError):
            same = False
        if not same:
            yield from (d for d in decode_tables(raw, p.path).get("items", {}).values()
                        if d.get("id") not in done)
            return
        done.add(key[2])
        yield doc


def scan(f: ItemFilter, m: Matcher, mem: list[Item], need: int | None, archives: Plan,
         pending: dict[str, list[dict]], flags: dict[str, Flags] | None,
         progress: Callable[[int, int], None] | None) -> list[Item]:
    """The page of ``f`` over the memory matches ``mem`` and the planned archives.
    ``flags``: a copy, when ``f`` tests them (None otherwise)."""
    total = len(archives)
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

    def page_floor() -> tuple[str, str, str] | None:
        return heap[0][0] if need is not None and len(heap) >= need else None

    floor = page_floor if need is not None else None  # (all of them wanted: file order)
    get_flags = flags.get if flags is not None else None
    raw_terms = prefilter_terms(m.terms)
    # Tens of thousands of acyclic documents: collections would re-walk them all (~1/3 of
    # a full-history search).
    with paused_gc():
        done = 0
        for done, (p, hi, count) in enumerate(archives, 1):
            if need is not None and len(heap) >= need and hi < heap[0][0][0]:
                done -= 1
                break  # nothing left can beat the current page
            docs: Iterable[dict] | None = _candidates(p, count, pending, m, raw_terms, floor)
            try:
                for d in docs:  # type: ignore[union-attr]
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
        return [v if isinstance(v, Item) else item_from_doc(v) for _k, v in chosen]

"""Weekly item partitions: naming, item ids, the id index, and a partition in memory.

Items live in ``items-YYYY-Www.json`` by the ISO week of ``first_seen``. New items are seen
now, so a poll only ever rewrites the current week's file and a year of history costs the
write nothing. A small binary id index (``items-YYYY-Www.ids``, a sorted uint64 array) tells,
without loading the archive, whether an id is stored there: dedup on upsert and
``get()``/``mark()`` of old items. It is a cache validated against the partition file's
(size, mtime_ns, inode) and rebuilt from it when stale (as is the partition's manifest
entry, see storage.manifest).
"""
from __future__ import annotations

import re
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import MutableMapping
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson
from tinydb import TinyDB
from tinydb.table import Document, Table

from feeds.model import Item

from .atomic import AtomicJSONStorage, atomic_write
from .rawdocs import SORT_FIELDS

PARTITION_RE = re.compile(r"items-(\d{4})-W(\d{2})\.json")
ITEM_ID_RE = re.compile(r"[0-9a-f]{16}")
DAY = 86400.0


@lru_cache(maxsize=8192)
def _week_of_date(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_key(iso: str) -> str:
    """UTC ISO timestamp → ISO week key ``YYYY-Www`` (cached per calendar day)."""
    return _week_of_date(iso[:10])


def week_key_at(ts: float) -> str:
    return _week_of_date(datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d"))


@lru_cache(maxsize=1024)
def week_bounds(key: str) -> tuple[float, float]:
    """Epoch seconds [start, end) of an ISO week key (Monday 00:00 UTC, 7 days)."""
    year, week = int(key[:4]), int(key[6:8])
    start = datetime.combine(date.fromisocalendar(year, week, 1), datetime.min.time(),
                             tzinfo=timezone.utc).timestamp()
    return start, start + 7 * DAY


def partition_name(key: str) -> str:
    return f"items-{key}.json"


def index_name(key: str) -> str:
    return f"items-{key}.ids"


def partition_key_of(name: str) -> str | None:
    m = PARTITION_RE.fullmatch(name)
    if not m or not 1 <= int(m.group(2)) <= 53:
        return None
    return f"{m.group(1)}-W{m.group(2)}"


def doc_id(item_id: str) -> int:
    """Item ids are 16 lowercase hex digits; the TinyDB doc id is their value."""
    return int(item_id, 16)


def item_id_of(doc_id_: int | str) -> str:
    return f"{int(doc_id_):016x}"


def stat_key(st: Any) -> list[int]:
    """What identifies one version of a partition file: size, mtime_ns, inode."""
    return [int(st.st_size), int(st.st_mtime_ns), int(st.st_ino)]


# Encoded documents a week keeps until its save (~10 MiB): all of a 200-feed cold cycle's.
RAW_KEPT = 12_000


class UnsavedDocs(MutableMapping):
    """A week's documents added or changed since its last save, by doc id. A stored item is
    held as the item itself and made its document when read (an append, a save, a reader):
    the item is in memory anyway (the window, a poll's report), and its document beside it
    cost as much again (~12 MiB at 10k items). Items are never changed once stored.

    ``raw``: a held item's document as encoded by the upsert that stored it (its check that
    the item can be saved), so that the save writes those bytes instead of encoding it again
    (a tenth of a poll's cold cycle); dropped with the item when it is replaced or saved."""

    __slots__ = ("held", "raw")

    def __init__(self, held: dict[str, Any] | None = None,
                 raw: dict[str, bytes] | None = None) -> None:
        self.held: dict[str, Any] = {} if held is None else held  # doc id → Item or document
        self.raw: dict[str, bytes] = {} if raw is None else raw  # doc id → its held item, encoded

    def __getitem__(self, key: str) -> dict[str, Any]:
        value = self.held[key]
        return value.to_dict() if type(value) is Item else value

    def __setitem__(self, key: str, value: Any) -> None:
        self.held[key] = value
        if self.raw:
            self.raw.pop(key, None)

    def __delitem__(self, key: str) -> None:
        del self.held[key]
        self.raw.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self.held

    def __iter__(self) -> Iterator[str]:
        return iter(self.held)

    def __len__(self) -> int:
        return len(self.held)

    def hold_encoded(self, key: str, item: Item, raw: bytes) -> None:
        """Hold ``item`` with ``raw``, its document exactly as ``orjson.dumps`` encodes it
        (kept for the first RAW_KEPT of them: the rest are encoded again when saved)."""
        self.held[key] = item
        if len(self.raw) < RAW_KEPT:
            self.raw[key] = raw
        else:
            self.raw.pop(key, None)

    def encoded(self) -> Iterator[tuple[str, bytes]]:
        """(doc id, encoded document) of every held change, in order."""
        raw, dumps = self.raw, orjson.dumps
        for key in self.held:
            data = raw.get(key)
            yield key, dumps(self[key]) if data is None else data

    def copy(self) -> "UnsavedDocs":
        return UnsavedDocs(dict(self.held), dict(self.raw))

    def under(self, newer: "UnsavedDocs") -> "UnsavedDocs":
        """These changes with ``newer`` over them (a failed save's, given back)."""
        raw = {k: v for k, v in self.raw.items() if k not in newer.held}
        raw.update(newer.raw)
        return UnsavedDocs({**self.held, **newer.held}, raw)

    def forget_saved(self, saved: "UnsavedDocs") -> None:
        """Drop what ``saved`` wrote, but not what changed again since."""
        held, raw = self.held, self.raw
        for key, value in saved.held.items():
            if held.get(key) is value:
                del held[key]
                raw.pop(key, None)


WRITE_CHUNK = 1 << 20


def week_chunks(docs: UnsavedDocs, rows: list[Any] | None = None) -> Iterator[bytes]:
    """A week's file as TinyDB's storage writes it (``{"items":{…}}``, orjson, compact),
    encoded one document at a time as it is written: neither the week's documents nor its
    file are ever whole in memory beside its items (~20 MiB at 10k items). ``rows``: each
    document's sort fields and where it lies in the file are appended to it (its order
    index, storage.weekorder), or one None if a document lacks them."""
    parts, pending, sep, written = [b'{"items":{'], 0, b"", len(b'{"items":{')
    for n, (key, data) in enumerate(docs.encoded()):  # (keys: doc ids, digits only)
        piece = b'%s"%s":%s' % (sep, key.encode(), data)
        if rows is not None:
            marker = written + len(sep) + 1 + len(key)  # (rawdocs.doc_starts finds it)
            m = SORT_FIELDS.search(data)
            rows.append(None if m is None else
                        (m[1], m[2], data[7:23], n, marker, marker + 2 + len(data)))
        parts.append(piece)
        pending += len(piece)
        written += len(piece)
        sep = b","
        if pending >= WRITE_CHUNK:
            yield b"".join(parts)
            parts, pending = [], 0
    parts.append(b"}}")
    yield b"".join(parts)


class Partition:
    """One weekly file and what is known about it in memory."""

    __slots__ = ("key", "path", "start", "end", "resident", "ids", "db", "index", "stat", "pending",
                 "log_docs", "unsaved", "rewrite", "raw")

    def __init__(self, key: str, directory: Path) -> None:
        self.key = key
        self.path = directory / partition_name(key)
        self.start, self.end = week_bounds(key)
        self.resident = False  # its items are in the in-memory index
        self.ids: set[str] = set()  # item ids in memory (resident partitions)
        self.db: TinyDB | None = None  # loaded for writing (current week, or pending changes)
        self.index: IdIndex | None = None  # archive partitions: which ids the file holds
        # (size, mtime_ns, inode) of the file as last seen, and the size of its append log
        # (storage.weeklog) when there is one
        self.stat: list[int] | None = None
        # New documents not yet handed to TinyDB: each TinyDB write call rebuilds the whole
        # table, so the inserts of a poll cycle (one call per feed) are applied as one.
        self.pending: list[Document] = []
        # The append log's documents while the file is not loaded (a lean open), by doc id.
        self.log_docs: dict[str, dict[str, Any]] | None = None
        # Documents added or changed since the last save, by doc id: what an append writes.
        self.unsaved = UnsavedDocs()
        self.rewrite = False  # a change only a full save can carry (items removed)
        # A lean open's view of the file: its bytes and each document's slice, so that the
        # few stored items a poll sees again are decoded alone.
        self.raw: tuple[bytes, dict[str, tuple[int, int]]] | None = None

    @property
    def storage(self) -> AtomicJSONStorage | None:
        return self.db.storage if self.db is not None else None  # type: ignore[return-value]

    @property
    def dirty(self) -> bool:
        return (bool(self.pending) or bool(self.unsaved) or self.rewrite
                or (self.db is not None and self.db.storage.dirty))  # type: ignore[attr-defined]

    @property
    def log_bytes(self) -> int:
        """The size of the week's append log on disk as last seen (0: none)."""
        return self.stat[3] if self.stat is not None and len(self.stat) > 3 else 0

    def sync(self) -> None:
        """Apply the pending inserts: into the storage's documents directly, as TinyDB's
        insert would store them (every TinyDB write rebuilds the whole table: ~0.2 s for a
        poll's 100 items at 25k in the week, where the save itself is now an append)."""
        if self.pending:
            assert self.db is not None
            docs, self.pending = self.pending, []
            table = self.db.storage.read().setdefault("items", {})
            for d in docs:
                key = str(d.doc_id)
                if key in table:
                    raise ValueError(f"Document with ID {key} already exists")
                table[key] = dict(d)
            self.db.storage.touch()  # type: ignore[attr-defined]
            self.db.table("items").clear_cache()

    def docs(self) -> dict[str, dict[str, Any]]:
        assert self.db is not None
        self.sync()
        return self.db.storage.read().get("items", {})

    def table(self) -> Table:
        assert self.db is not None
        self.sync()
        return self.db.table("items")


# --- id index ------------------------------------------------------------------------------
# Layout: 8-byte magic, then <size, mtime_ns, inode, count> of the partition it describes
# (uint64 little endian), then `count` sorted uint64 doc ids.

_MAGIC = b"DWIDX01\n"
_HEAD = struct.Struct("<4Q")


class IdIndex:
    """Sorted doc ids of one partition; membership by binary search (8 bytes per item)."""

    __slots__ = ("ids",)

    def __init__(self, ids: array) -> None:
        self.ids = ids

    @classmethod
    def from_doc_ids(cls, doc_ids: Iterable[int]) -> "IdIndex":
        return cls(array("Q", sorted(doc_ids)))

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, doc_id_: int) -> bool:
        ids = self.ids
        i = bisect_left(ids, doc_id_)
        return i < len(ids) and ids[i] == doc_id_

    def item_ids(self) -> list[str]:
        return [f"{i:016x}" for i in self.ids]

    def between(self, lo: int, hi: int, limit: int) -> list[int]:
        """Up to ``limit`` doc ids in [lo, hi) (an id prefix is such a range)."""
        ids = self.ids
        i = bisect_left(ids, lo)
        return [int(d) for d in ids[i:i + limit] if d < hi]


def write_index(path: Path, index: IdIndex, partition_stat: list[int]) -> None:
    """A cache, so no fsync: if lost or stale it is rebuilt from the partition."""
    ids = index.ids
    if sys.byteorder != "little":
        ids = array("Q", ids)
        ids.byteswap()
    size, mtime_ns, ino = partition_stat[:3]  # (the file's; not its log's size)
    payload = _MAGIC + _HEAD.pack(size, mtime_ns, ino, len(ids)) + ids.tobytes()
    atomic_write(path, payload, backup=False, durable=False)


def read_index(path: Path, partition_stat: list[int]) -> IdIndex | None:
    """The index if it exists and describes exactly this version of the partition."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + _HEAD.size
    if len(raw) < head or raw[:len(_MAGIC)] != _MAGIC:
        return None
    size, mtime_ns, ino, count = _HEAD.unpack_from(raw, len(_MAGIC))
    if [size, mtime_ns, ino] != list(partition_stat)[:3] or len(raw) != head + 8 * count:
        return None
    ids = array("Q")
    ids.frombytes(raw[head:])
    if sys.byteorder != "little":
        ids.byteswap()
    return IdIndex(ids)

"""state.json: feed states, read/starred flags, labels set by hand, and the store's metadata.

TinyDB tables ``feeds`` (a FeedState per feed, keyed by a hash of the feed key), ``flags``
(per item id, only items with a flag set), ``labels`` (per item id, the items whose labels
an analyst corrected: storage.corrections) and ``meta`` (one document: schema, generation,
the saved manifest, and small values callers store). In memory: the decoded feed states,
flags and corrections, which answer reads. The Store calls this under its lock.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson
from tinydb import TinyDB
from tinydb.table import Document, Table

from feeds.model import FeedState

from .atomic import AtomicJSONStorage
from .codec import encodable
from .corrections import Correction
from .errors import CorruptStoreError, StoreError
from .manifest import ManifestEntry, manifest_from_dict, manifest_to_dict
from .partition import doc_id, item_id_of, stat_key
from .query import NO_FLAGS, Flags

SCHEMA_VERSION = 1
STATE_NAME = "state.json"
META_ID = 1  # meta is one document: {key: value}
RESERVED_META = frozenset({"schema", "generation", "partitions"})


def key_doc_id(key: str) -> int:
    """Feed keys are URLs; TinyDB wants int doc ids: a stable 63-bit hash of the key."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(),
                          "big") >> 1


def feed_doc(state: FeedState) -> dict[str, Any]:
    """The feed state's document; refused now if it cannot be saved."""
    return encodable(state.to_dict(), f"feed state of {state.key!r}")


def meta_value(key: str, value: Any) -> Any:
    """A caller's meta value as it will be stored (a JSON copy), or ValueError."""
    if key in RESERVED_META:
        raise ValueError(f"meta key {key!r} is reserved by the store")
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError as exc:
        raise ValueError(f"meta {key!r} must be JSON-serializable: {exc}") from None


def put_docs(tbl: Table, docs: dict[int, dict[str, Any]]) -> None:
    """Insert-or-replace by doc id, into the storage's documents directly: TinyDB's own
    calls rebuild the table per call and look each id up (~2.5 ms for a cycle's 200 feed
    states, most of an all-304 save's CPU). Every id here is explicit; TinyDB's next-id
    counter is reset as its own explicit-id insert resets it."""
    storage = tbl.storage
    storage.touch()  # type: ignore[attr-defined]  # (first: a read-only store refuses here)
    table = storage.read().setdefault(tbl.name, {})  # (AtomicJSONStorage: its cached dict)
    for i, d in docs.items():
        table[str(i)] = dict(d)
    tbl.clear_cache()
    tbl._next_id = None  # (TinyDB 4.9, pinned: recounted from the table when next needed)


class StateFile:
    """state.json of one store directory, loaded by :meth:`load`."""

    def __init__(self, directory: Path, *, readonly: bool) -> None:
        self.path = directory / STATE_NAME
        self.readonly = readonly
        self.db = TinyDB(self.path, storage=AtomicJSONStorage, readonly=readonly)
        self.stat: list[int] | None = None  # (size, mtime_ns, inode) as last read or written
        self.feeds: dict[str, FeedState] = {}
        self.pending_feeds: dict[int, dict[str, Any]] = {}  # feed states not yet in TinyDB
        self.feed_doc_ids: dict[int, str] = {}  # doc id → feed key, to refuse a hash collision
        self.flags: dict[str, Flags] = {}
        self.labels: dict[str, Correction] = {}

    @property
    def storage(self) -> AtomicJSONStorage:
        return self.db.storage  # type: ignore[return-value]

    def table(self, name: str) -> Table:
        return self.db.table(name)

    def meta(self) -> dict[str, Any]:
        return self.storage.read().get("meta", {}).get(str(META_ID)) or {}

    def load(self) -> dict[str, ManifestEntry]:
        """Read the file: feed states and flags into memory; returns the saved manifest
        (malformed entries dropped: they are recomputed from the files)."""
        tables = self.storage.read()
        meta = tables.get("meta", {}).get(str(META_ID)) or {}
        schema = meta.get("schema", SCHEMA_VERSION)
        if not isinstance(schema, int) or schema > SCHEMA_VERSION:
            raise StoreError(self.path, f"{self.path} was written by a newer diplowatch (store "
                                        f"schema {schema!r}, this version reads "
                                        f"{SCHEMA_VERSION}): upgrade")
        feeds: dict[str, FeedState] = {}
        for k, d in tables.get("feeds", {}).items():
            try:
                fs = FeedState.from_dict(d)
            except (KeyError, TypeError, ValueError) as exc:
                raise CorruptStoreError(self.path,
                                        f"feed state {k} is not valid ({exc!r})") from None
            feeds[fs.key] = fs
        self.feeds = feeds
        self.feed_doc_ids = {key_doc_id(k): k for k in feeds}
        self.flags = {item_id_of(k): Flags(bool(d.get("read")), bool(d.get("starred")))
                      for k, d in tables.get("flags", {}).items()}
        self.labels = self._corrections(tables.get("labels", {}))
        manifest = manifest_from_dict(meta.get("partitions"))
        if "partitions" in meta:
            meta["partitions"] = manifest_to_dict(manifest)
        return manifest

    @staticmethod
    def _corrections(docs: dict[str, Any]) -> dict[str, Correction]:
        # A damaged correction (hand-edited, or from a newer version's labels) is skipped
        # rather than refusing the store: its item keeps the labels stored with it, only
        # not protected from the next re-classification.
        out = {}
        for k, d in docs.items():
            try:
                out[item_id_of(k)] = Correction.from_dict(d)
            except (AttributeError, TypeError, ValueError):
                continue
        return out

    def reopen(self) -> dict[str, ManifestEntry]:
        """:meth:`load` the file afresh (a viewer following the writer)."""
        self.db = TinyDB(self.path, storage=AtomicJSONStorage, readonly=self.readonly)
        return self.load()

    def read_stat(self) -> list[int] | None:
        try:
            return stat_key(self.path.stat())
        except FileNotFoundError:
            return None

    def ensure_meta(self, manifest: dict[str, ManifestEntry]) -> None:
        """A writer's new store gets its meta document."""
        if str(META_ID) not in self.storage.read().get("meta", {}):
            self.table("meta").insert(Document(
                {"schema": SCHEMA_VERSION, "generation": 0,
                 "partitions": manifest_to_dict(manifest)}, doc_id=META_ID))

    def stage(self, manifest: dict[str, ManifestEntry]) -> tuple[bytes, int]:
        """Bump the generation, record the manifest and serialize the file (flush)."""
        gen = int(self.meta().get("generation", 0)) + 1
        self.table("meta").update({"generation": gen, "partitions": manifest_to_dict(manifest)},
                                  doc_ids=[META_ID])
        return self.storage.snapshot()  # type: ignore[return-value]

    def saved(self, version: int, st: Any) -> None:
        self.storage.mark_saved(version)
        self.stat = stat_key(st)

    # --- meta ---------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any) -> Any:
        meta = self.meta()
        if key not in meta:
            return default
        value = meta[key]
        # A copy, so a caller mutating it cannot change the store behind its back.
        return orjson.loads(orjson.dumps(value)) if isinstance(value, (dict, list)) else value

    def set_meta(self, key: str, value: Any) -> None:
        self.table("meta").update({key: value}, doc_ids=[META_ID])

    # --- feed states ----------------------------------------------------------------------
    def put_feed_state(self, state: FeedState, doc: dict[str, Any]) -> None:
        did = key_doc_id(state.key)
        clash = self.feed_doc_ids.setdefault(did, state.key)
        if clash != state.key:  # 1 in 2**63; refuse rather than overwrite another feed
            raise ValueError(f"feed keys {state.key!r} and {clash!r} collide in the store")
        self.feeds[state.key] = state.copy()
        # Written to TinyDB at flush, all feeds in one call (a poll puts one per feed).
        self.pending_feeds[did] = doc

    def sync_feed_states(self) -> None:
        if self.pending_feeds:
            docs, self.pending_feeds = self.pending_feeds, {}
            put_docs(self.table("feeds"), docs)

    def forget_feed(self, key: str) -> None:
        if self.feeds.pop(key, None) is not None:
            self.feed_doc_ids.pop(key_doc_id(key), None)
            self.sync_feed_states()
            self.table("feeds").remove(doc_ids=[key_doc_id(key)])

    # --- flags ----------------------------------------------------------------------------
    def mark(self, item_ids: Iterable[str], read: bool | None, starred: bool | None,
             holds: Callable[[str], bool]) -> int:
        """Set flags of the ids ``holds`` knows, in one table update; returns how many."""
        puts: dict[int, dict[str, bool]] = {}
        drops: list[int] = []
        marked = 0
        for iid in dict.fromkeys(item_ids):
            if not holds(iid):
                continue
            marked += 1
            cur = self.flags.get(iid, NO_FLAGS)
            new = Flags(cur.read if read is None else bool(read),
                        cur.starred if starred is None else bool(starred))
            if new == cur:
                continue
            if new == NO_FLAGS:
                del self.flags[iid]
                drops.append(doc_id(iid))
            else:
                self.flags[iid] = new
                puts[doc_id(iid)] = {"read": new.read, "starred": new.starred}
        tbl = self.table("flags")
        if drops:
            tbl.remove(doc_ids=drops)
        if puts:
            put_docs(tbl, puts)
        return marked

    def drop_items(self, item_ids: list[str]) -> None:
        """Forget the flags and corrections of removed items (retention)."""
        for name, held in (("flags", self.flags), ("labels", self.labels)):
            gone = [i for i in item_ids if i in held]
            if gone:
                self.table(name).remove(doc_ids=[doc_id(i) for i in gone])
                for i in gone:
                    del held[i]

    # --- labels set by hand ------------------------------------------------------------------
    def set_labels(self, item_id: str, correction: Correction) -> None:
        self.labels[item_id] = correction
        put_docs(self.table("labels"), {doc_id(item_id): correction.to_dict()})


class StateAccess:
    """The store's feed states and metadata, as Store exposes them (mixed into
    storage.store.Store, whose state file, lock and checks they use)."""

    def feed_state(self, key: str) -> FeedState | None:
        with self._lock:
            st = self._state.feeds.get(key)
            return st.copy() if st is not None else None

    def feed_states(self) -> dict[str, FeedState]:
        with self._lock:
            return {k: v.copy() for k, v in self._state.feeds.items()}

    def put_feed_state(self, state: FeedState) -> None:
        self._require_writer("save feed state")
        doc = feed_doc(state)
        with self._lock:
            self._require_open()
            self._state.put_feed_state(state, doc)

    def forget_feed(self, key: str) -> None:
        """Drop a feed's state (its items stay)."""
        self._require_writer("forget a feed")
        with self._lock:
            self._require_open()
            self._state.forget_feed(key)

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._state.get_meta(key, default)

    def set_meta(self, key: str, value: Any) -> None:
        """Store a small JSON value (rules fingerprint, UI state…). Keys ``schema``,
        ``generation`` and ``partitions`` are the store's own."""
        self._require_writer("save metadata")
        value = meta_value(key, value)
        with self._lock:
            self._require_open()
            self._state.set_meta(key, value)

    @property
    def generation(self) -> int:
        """Bumped and saved on every flush, so read-only viewers can notice writes."""
        with self._lock:
            return int(self._state.meta().get("generation", 0))


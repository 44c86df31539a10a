"""The current week's documents newest first (``items-YYYY-Www.order``), so that the
dashboard's first frame reads its pages from the week's file without finding and sorting
every document in it (a 20k-item week: ~0.3 s of CPU before the first paint, against a
few milliseconds for the ~400 documents a first frame decodes).

A cache, like the word index (storage.wordindex): it names the (size, mtime_ns, inode) of
the partition file it describes and carries a CRC of its body; a missing, stale or damaged
index means the week's documents are found and sorted from the raw bytes (storage.window),
never a wrong page. The writer builds it when the current week's file is written whole (a
fold of its append log; appends leave it current: the log is merged at read), and at its
first flush when the week has none.

Layout (little endian): magic, the partition's size, mtime_ns and inode (uint64), the
number of documents and the body's CRC32 (uint32); the body: per document, newest first
by (published, first_seen, id) as the bytes hold them, where its start marker is
(rawdocs.doc_starts) and where its JSON ends (uint32 each).
"""
from __future__ import annotations

import contextlib
import os
import struct
import zlib
from array import array
from pathlib import Path
from typing import Any

from .partition import partition_key_of, stat_key, week_key_at
from .rawdocs import doc_end, sorted_rows
from .sidecar import U32, arr, le, names_version, write_cache

SUFFIX = ".order"
_MAGIC = b"DWORDER1\n"
_HEAD = struct.Struct("<3Q2I")


def index_path(partition: Path) -> Path:
    """``items-YYYY-Www.json`` → ``items-YYYY-Www.order`` beside it."""
    return partition.with_suffix(SUFFIX)


def build(raw: bytes, partition_stat: list[int]) -> bytes | None:
    """The index of a partition file's bytes (whose stat is ``partition_stat``); None for a
    file not in this store's own layout or over 4 GiB."""
    found = sorted_rows(raw)
    if found is None:
        return None
    rows, doc_starts = found
    return _pack([(doc_starts[n], doc_end(raw, doc_starts, n)) for *_, n in rows],
                 partition_stat)


def from_rows(rows: list[Any], partition_stat: list[int]) -> bytes | None:
    """The index of a file as week_chunks wrote it (its ``rows``); None if a document
    lacked its sort fields (the file is then indexed from its bytes)."""
    if any(row is None for row in rows):
        return None
    rows.sort(key=lambda row: row[:4], reverse=True)
    return _pack([row[4:] for row in rows], partition_stat)


def _pack(spans: list[tuple[int, int]], partition_stat: list[int]) -> bytes | None:
    if any(end >= 1 << 32 for _, end in spans):  # (offsets are uint32: a file over 4 GiB)
        return None
    starts, ends = array(U32, (s for s, _ in spans)), array(U32, (e for _, e in spans))
    body = le(starts) + le(ends)
    size, mtime_ns, ino = partition_stat
    return _MAGIC + _HEAD.pack(size, mtime_ns, ino, len(spans), zlib.crc32(body)) + body


def save(partition: Path, raw: bytes, partition_stat: list[int]) -> bool:
    """Write the index of ``raw`` (the partition file as saved, with that stat). A cache: no
    fsync, and a failure to write is only a slower first frame."""
    return write_cache(index_path(partition), build(raw, partition_stat))


def load(partition: Path, partition_stat: list[int]) -> list[tuple[int, int]] | None:
    """The (start marker, end) of each document, newest first, if the index on disk names
    this version of the partition and is whole; else None."""
    try:
        buf = index_path(partition).read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + _HEAD.size
    if len(buf) < head or buf[:len(_MAGIC)] != _MAGIC:
        return None
    size, mtime_ns, ino, docs, crc = _HEAD.unpack_from(buf, len(_MAGIC))
    body = buf[head:]
    if [size, mtime_ns, ino] != list(partition_stat) or len(body) != 8 * docs \
            or zlib.crc32(body) != crc:
        return None
    starts, ends = arr(U32, body[:4 * docs]), arr(U32, body[4 * docs:])
    return list(zip(starts, ends))


def is_current(partition: Path, partition_stat: list[int]) -> bool:
    """Does the index on disk name this version of the partition? (its head only)"""
    return names_version(index_path(partition), _MAGIC, _HEAD, partition_stat)


def after_flush(directory: Path, saved: list[tuple[Path, bytes, Any]], now: float,
                checked_week: str | None, written_rows: dict[Path, list[Any]] | None = None
                ) -> str:
    """The writer, after a flush: the current week written whole gets the index of what was
    written (``written_rows``: a file encoded as it was written, see week_chunks); at the
    first flush of each week (and of a process), :func:`tidy`. Returns the week checked,
    to be passed back next time."""
    current = week_key_at(now)
    for path, payload, st in saved:
        if partition_key_of(path.name) == current:
            rows = (written_rows or {}).get(path)
            if payload:
                save(path, payload, stat_key(st))
            elif rows is None or not write_cache(index_path(path), from_rows(rows, stat_key(st))):
                build_for(path)  # (read back)
    if checked_week != current:
        tidy(directory, now)
    return current


def tidy(directory: Path, now: float) -> None:
    """The current week gets its index if it has none; an ended week's index goes (its
    first frames are over)."""
    current = week_key_at(now)
    for path in _files(directory):
        if path.suffix == SUFFIX and partition_key_of(path.stem + ".json") != current:
            path.unlink(missing_ok=True)
        elif partition_key_of(path.name) == current:
            build_for(path)


def build_for(partition: Path) -> bool:
    """Index the partition file if its index is missing or stale; True if one was written."""
    try:
        with open(partition, "rb") as fh:
            st = stat_key(os.fstat(fh.fileno()))
            if is_current(partition, st):
                return False
            raw = fh.read()
    except OSError:
        return False
    return save(partition, raw, st)


def _files(directory: Path) -> list[Path]:
    with contextlib.suppress(OSError), os.scandir(directory) as it:
        return [Path(e.path) for e in it if e.is_file()]
    return []

"""A week's append log: ``items-YYYY-Www.log`` next to ``items-YYYY-Www.json``.

A save that only adds or updates items of a week appends their documents here (one JSON
line each, one ``write`` and an fsync per save) instead of re-encoding and replacing the
whole week file: the cost of a poll's save follows what the poll stored, not the week's
size. A week's items are its file's documents overlaid with the log's, in order (a later
line wins). A full save of the week (when the log has grown past an eighth of the file, a
removal, the first save of a week, a week that left the current one) writes file + log as
one file and then deletes the log.

Crash safety: each save's lines end with an empty line, its commit mark (orjson never
writes a raw newline inside a document). A kill during an append leaves a save without its
mark (lines torn or whole): dropped on reading and cut off before the next append, so a
save is there whole or not at all, as with the atomic file writes. A kill between a full save and the
log's deletion leaves a log whose lines the new file already holds: replaying it changes
nothing, because every change to a week with a log is appended before the full save.
A week with a log is held in memory, never an archive, except by an on-disk reader (a
search of the whole history), whose archive scan reads the log after the file.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterable

import orjson

from . import atomic
from .atomic import AtomicJSONStorage, fsync_dir
from .errors import CorruptStoreError, StoreWriteError, os_reason
from .partition import ITEM_ID_RE

LOG_SUFFIX = ".log"
LOG_MIN_FOLD = 1 << 20  # a log may always grow to 1 MiB before it is folded
# Past that, to an eighth of the week file: a dashboard's open decodes the whole log (~17 ms
# a MiB) before its first frame, and a year-long store's week file is ~30 MB. (Half the file
# cost a first paint up to ~0.25 s more; a fold of such a week is ~0.3 s of a writer's flush.)
LOG_FOLD_SHARE = 8
Docs = dict[str, dict[str, Any]]  # TinyDB doc id (the item id's value, as text) → document


def log_path(partition_path: Path) -> Path:
    """``items-YYYY-Www.json`` → ``items-YYYY-Www.log``."""
    return partition_path.with_suffix(LOG_SUFFIX)


def may_append(log_bytes: int, adding: int, base_bytes: int) -> bool:
    """Append, rather than fold the log into a full save of the week?"""
    return log_bytes + adding <= max(LOG_MIN_FOLD, base_bytes // LOG_FOLD_SHARE)


def join_lines(encoded: Iterable[bytes]) -> bytes:
    """One save's lines and its commit mark, from its documents encoded by ``orjson.dumps``."""
    return b"".join(d + b"\n" for d in encoded) + b"\n"


def read_log(path: Path) -> Docs:
    """The log's documents, later lines winning ({} when there is none). Lines after the
    last commit mark are what a killed append left: dropped. Any other line that is not an
    item document makes the store refuse to open (``diplowatch recover`` keeps the good
    lines)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CorruptStoreError(path, f"the file cannot be read ({os_reason(exc)})") from None
    docs, bad = parse_lines(raw)
    if bad:
        raise CorruptStoreError(path, f"line {bad} is not an item document")
    return docs


def parse_lines(raw: bytes) -> tuple[Docs, int]:
    """(documents of the committed lines that decode, number of the first bad line or 0).
    The unfinished save at the end (no commit mark) is not bad: it is skipped."""
    docs: Docs = {}
    bad = 0
    mark = raw.rfind(b"\n\n")
    for n, line in enumerate(raw[:mark + 2 if mark >= 0 else 0].split(b"\n"), 1):
        if not line:
            continue
        try:
            doc = orjson.loads(line)
            iid = doc["id"]
            if type(doc) is not dict or type(iid) is not str or not ITEM_ID_RE.fullmatch(iid):
                raise ValueError
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            bad = bad or n
            continue
        docs[str(int(iid, 16))] = doc
    return docs, bad


def append_lines(path: Path, payload: bytes) -> int:
    """Append ``payload`` (one save, :func:`join_lines`) durably; returns the log's size
    after. An unfinished save (a killed append) is cut off first: never in the middle."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise StoreWriteError(path, os_reason(exc), exc.errno) from exc
    try:
        size = os.fstat(fd).st_size
        good = _complete_size(fd, size) if size else 0
        if good != size:
            os.ftruncate(fd, good)
        try:
            atomic._write_all(fd, payload)  # (the store's one write path: faults are tested there)
            os.fsync(fd)
        except OSError:  # a full disk: nothing half-written stays, no empty log either
            with contextlib.suppress(OSError):
                os.ftruncate(fd, good)
                if not good:
                    os.unlink(path)
            raise
        size = os.fstat(fd).st_size
    except OSError as exc:
        raise StoreWriteError(path, os_reason(exc), exc.errno) from exc
    finally:
        os.close(fd)
    if not good:
        try:
            fsync_dir(path.parent)
        except OSError as exc:
            raise StoreWriteError(path, os_reason(exc), exc.errno) from exc
    return size


def _complete_size(fd: int, size: int) -> int:
    """The size of the log up to and including its last commit mark."""
    pos = size
    while pos > 1:
        start = max(0, pos - 65536)
        chunk = os.pread(fd, pos - start, start)
        mark = chunk.rfind(b"\n\n")
        if mark >= 0:
            return start + mark + 2
        pos = start + 1  # (a mark may straddle two chunks)
    return 0


def remove_log(path: Path) -> None:
    """After a full save of the week: its file holds every line."""
    atomic.remove_file(path)


def fold_log(partition_path: Path) -> int | None:
    """``recover`` (writer lock held, the file itself already good): the log's good lines
    folded into the week's file, then the log deleted; a torn or damaged line is dropped.
    Returns the documents folded in, None when the week has no log."""
    path = log_path(partition_path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    docs, _bad = parse_lines(raw)
    if docs:
        storage = AtomicJSONStorage(partition_path, overwrite=True)
        tables = storage.read()
        tables.setdefault("items", {}).update(docs)
        storage.write(tables)
        storage.flush()
    remove_log(path)
    return len(docs)

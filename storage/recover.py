"""``diplowatch recover``: put a store with a corrupt file back into a usable state.

For every store file that does not load: keep the damaged bytes as
``<name>.corrupt-<UTC timestamp>``, rebuild the content from what can still be trusted — the
``.bak`` (previous good version) plus every document that decodes from the damaged file
(a truncated file still holds its first N complete documents; a hole of NUL bytes is skipped)
— and atomically write a fresh valid file. Newer (salvaged) documents win over the backup.
Never runs while a writer holds the store. Each week's append log is then folded into its
file (its good lines: storage.weeklog), and the word index of every ended week that lacks a
current one is built (storage.wordindex): full-history search reads those.
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import orjson

from feeds.model import FeedState, Item

from .atomic import AtomicJSONStorage, backup_path, read_tables, remove_stray_temps
from .corrections import Correction
from .errors import CorruptStoreError, StoreError
from .lock import WriterLock
from .partition import index_name, partition_key_of, week_key_at
from .wordindex import build_missing, ended_partitions, index_path
from .weeklog import fold_log
from . import weekorder
from .state import STATE_NAME

Tables = dict[str, dict[str, Any]]

_WS = re.compile(r"[ \t\n\r]*")
# Where the next document of a table starts: `"123":{`. A quote inside a JSON string is
# always escaped and a string value is never followed by `:`, so this only finds keys of
# objects; the separator before it may itself be inside the damaged stretch.
_DOC_START = re.compile(r'"(\d+)"[ \t\n\r]*:[ \t\n\r]*\{')


@dataclass
class FileRecovery:
    """What happened to one file."""

    path: Path
    problem: str | None = None  # None: the file was fine and left alone
    moved_to: Path | None = None
    from_backup: int = 0  # documents only the .bak had
    salvaged: int = 0  # documents decoded from the damaged file
    dropped: int = 0  # decoded but unusable (not a valid item / feed state)
    documents: int = 0  # in the fresh file
    skipped_regions: int = 0  # undecodable stretches jumped over

    @property
    def recovered(self) -> bool:
        return self.problem is not None


@dataclass
class RecoverReport:
    directory: Path
    files: list[FileRecovery] = field(default_factory=list)
    stray_temps_removed: int = 0
    indexes_built: int = 0  # word indexes of ended weeks (re)built

    @property
    def checked(self) -> int:
        return len(self.files)

    @property
    def recovered(self) -> list[FileRecovery]:
        return [f for f in self.files if f.recovered]

    def summary(self) -> str:
        lines = [f"{self.checked} file(s) checked in {self.directory}; "
                 f"{len(self.recovered)} recovered."]
        for f in self.recovered:
            aside = f.moved_to.name if f.moved_to else "(no copy could be kept)"
            lines.append(
                f"- {f.path.name}: {f.problem}. Moved aside to {aside}; "
                f"rebuilt with {f.documents} document(s): {f.salvaged} salvaged from the "
                f"damaged file, {f.from_backup} only in the backup"
                + (f", {f.dropped} unusable dropped" if f.dropped else "")
                + (f", {f.skipped_regions} damaged region(s) skipped" if f.skipped_regions else "")
                + ".")
        if self.indexes_built:
            lines.append(f"{self.indexes_built} week(s) indexed for search.")
        return "\n".join(lines)

    __str__ = summary


def _ws(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]


def salvage_tables(raw: bytes) -> tuple[Tables, int]:
    """Decode document by document what is left of a TinyDB JSON file.

    Returns ({table: {doc id: doc}}, number of damaged regions skipped). Stops at the end
    of the data; a stretch that does not decode is skipped up to the next document start.
    """
    text = raw.decode("utf-8", errors="replace")
    dec = json.JSONDecoder()
    tables: Tables = {}
    skipped = 0
    n = len(text)
    pos = _ws(text, 0)
    if pos >= n or text[pos] != "{":
        return tables, 1 if n else 0
    pos += 1
    while True:  # tables
        pos = _ws(text, pos)
        if pos >= n or text[pos] == "}":
            break
        try:
            name, pos = dec.raw_decode(text, pos)
            pos = _ws(text, pos)
            if not isinstance(name, str) or text[pos] != ":":
                break
            pos = _ws(text, pos + 1)
            if text[pos] != "{":
                break
        except (ValueError, IndexError):
            break
        pos, bad, ended = _salvage_documents(text, pos + 1, dec, tables.setdefault(name, {}))
        skipped += bad
        if ended:
            break
        pos = _ws(text, pos)
        if pos < n and text[pos] == ",":
            pos += 1
            continue
        break
    return tables, skipped


def _salvage_documents(text: str, pos: int, dec: json.JSONDecoder,
                       table: dict[str, Any]) -> tuple[int, int, bool]:
    """The documents of one table, from ``pos`` (just after its "{"), into ``table``.
    Returns (where the table ends, damaged regions skipped, whether the data ended)."""
    n = len(text)
    skipped = 0
    while True:
        pos = _ws(text, pos)
        if pos >= n:
            return pos, skipped, True
        if text[pos] == "}":
            return pos + 1, skipped, False
        try:
            key, nxt = dec.raw_decode(text, pos)
            nxt = _ws(text, nxt)
            if not (isinstance(key, str) and key.isdigit()) or text[nxt] != ":":
                raise ValueError("not a document key")
            doc, nxt = dec.raw_decode(text, _ws(text, nxt + 1))
            if not isinstance(doc, dict):
                raise ValueError("not a document")
            table[key] = doc
            pos = _ws(text, nxt)
            if pos < n and text[pos] == ",":
                pos += 1
                continue
            if pos < n and text[pos] == "}":
                return pos + 1, skipped, False
            raise ValueError("no separator")
        except (ValueError, IndexError):
            m = _DOC_START.search(text, pos + 1)
            if m is None:
                return pos, skipped, True
            skipped += 1
            pos = m.start()


def _usable(name: str, table: str, doc_key: str, doc: dict[str, Any]) -> bool:
    """Only keep documents the store will be able to load."""
    try:
        orjson.dumps(doc)  # e.g. a lone surrogate from a damaged escape
        if partition_key_of(name) is not None and table == "items":
            item = Item.from_dict(doc)
            return f"{int(doc_key):016x}" == item.id
        if name == "state.json" and table == "feeds":
            FeedState.from_dict(doc)
        if name == "state.json" and table == "labels":
            Correction.from_dict(doc)
    except (TypeError, ValueError, KeyError, AttributeError, orjson.JSONEncodeError):
        return False
    return True


def _unique(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}-{n}")
        n += 1
    return candidate


def recover_file(path: Path, problem: str, *, stamp: str) -> FileRecovery:
    """Recover one file known to be corrupt (caller holds the writer lock)."""
    rec = FileRecovery(path=path, problem=problem)
    try:
        raw: bytes | None = path.read_bytes()
    except OSError:
        raw = None
    aside = _unique(path.with_name(f"{path.name}.corrupt-{stamp}"))
    try:
        os.link(path, aside)  # the damaged bytes stay, and `path` is never missing
    except OSError:
        if raw is not None:
            aside.write_bytes(raw)
        else:
            os.rename(path, aside)
    rec.moved_to = aside

    try:
        backup = read_tables(backup_path(path)) or {}
    except CorruptStoreError:
        backup = {}
    salvaged, rec.skipped_regions = salvage_tables(raw) if raw else ({}, 0)

    merged: Tables = {}
    for table, docs in backup.items():
        for k, doc in docs.items():
            if _usable(path.name, table, k, doc):
                merged.setdefault(table, {})[k] = doc
                rec.from_backup += 1
    for table, docs in salvaged.items():
        for k, doc in docs.items():
            if not _usable(path.name, table, k, doc):
                rec.dropped += 1
                continue
            out = merged.setdefault(table, {})
            if k in out:
                rec.from_backup -= 1
            out[k] = doc
            rec.salvaged += 1
    rec.documents = sum(len(t) for t in merged.values())

    fresh = AtomicJSONStorage(path, keep_backup=False, overwrite=True)
    fresh.write(merged)
    fresh.flush()
    key = partition_key_of(path.name)
    if key is not None:  # its id and word indexes describe the old file
        (path.parent / index_name(key)).unlink(missing_ok=True)
        index_path(path).unlink(missing_ok=True)
    return rec


def _is_store_file(name: str) -> bool:
    return name == STATE_NAME or partition_key_of(name) is not None


def recover(path: Path | str, *, clock: Callable[[], float] = time.time) -> RecoverReport:
    """Check every file of the store at ``path`` (a store directory, or one store file:
    state.json or items-YYYY-Www.json, nothing else) and recover the corrupt ones. Takes the
    writer lock: refuses (StoreLockedError) while diplowatch is running on this store."""
    target = Path(path).expanduser()
    directory = target if target.is_dir() else target.parent
    if not directory.is_dir() or not (target.is_dir() or target.exists()):
        raise StoreError(target, f"no store at {target}")
    if not target.is_dir() and not _is_store_file(target.name):
        # Never "recover" (replace) a file that is not one of a store's: a mistyped path.
        raise StoreError(target, f"{target} is not a store folder nor one of its files "
                                 f"(state.json, items-YYYY-Www.json)")
    lock = WriterLock(directory).acquire()
    try:
        report = RecoverReport(directory=directory)
        report.stray_temps_removed = remove_stray_temps(directory)
        if target.is_dir():
            files = [directory / STATE_NAME] + sorted(
                p for p in directory.iterdir() if partition_key_of(p.name) is not None)
            files = [p for p in files if p.exists()]
        else:
            files = [target]
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(clock()))
        for file in files:
            try:
                read_tables(file)
            except CorruptStoreError as exc:
                report.files.append(recover_file(file, exc.problem, stamp=stamp))
            else:
                report.files.append(FileRecovery(path=file))
        for file in files:  # the weeks' append logs into their (now good) files
            key = partition_key_of(file.name)
            if key is not None and fold_log(file):
                (directory / index_name(key)).unlink(missing_ok=True)
                index_path(file).unlink(missing_ok=True)
        ended = ended_partitions(directory, week_key_at(clock()))
        report.indexes_built = build_missing(ended if target.is_dir() else
                                             [p for p in ended if p.name == target.name],
                                             verify=True)
        if target.is_dir() or partition_key_of(target.name) == week_key_at(clock()):
            weekorder.tidy(directory, clock())  # the current week's order (the first frame)
        return report
    finally:
        if lock is not None:
            lock.release()


__all__ = ["recover", "recover_file", "salvage_tables", "RecoverReport", "FileRecovery"]

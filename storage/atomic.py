"""Crash-safe TinyDB storage: reads served from memory, writes done atomically on ``flush()``.

TinyDB's own JSONStorage overwrites the file in place, so a crash can leave a truncated,
half-applied or "Extra data" file, and a 0-byte file reads as an empty database
(notes/reliability.md §2). Here a save is: serialize, write a temp file in the same
directory, fsync, keep the previous file as ``<name>.bak``, ``os.replace``, fsync the
directory. Any file that does not decode to a dict of tables is refused, never replaced.
"""
from __future__ import annotations

import contextlib
import errno
import gc
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson
from tinydb.storages import Storage

from .errors import CorruptStoreError, ReadOnlyStoreError, StoreWriteError, os_reason
from .rawdocs import item_doc_slices

# Temp files are named ".<target name>.<random>.dwtmp": unique to us, so cleaning them at
# open can never touch someone else's file.
TMP_SUFFIX = ".dwtmp"
BAK_SUFFIX = ".bak"

Tables = dict[str, dict[str, Any]]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic GC while building many containers at once.

    Decoding a big file allocates millions of dicts; every allocation burst would trigger
    collections that re-walk the whole (acyclic) heap, which measured ~1.7x slower loads.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + BAK_SUFFIX)


def remove_file(path: Path) -> None:
    """Delete a store file if it is there; a failure to delete is a write error naming it."""
    try:
        path.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreWriteError(path, os_reason(exc), exc.errno) from exc


def stray_temps(directory: Path, name: str | None = None) -> list[Path]:
    """Temp files a killed writer left behind (for one target name, or all)."""
    pattern = f".{name}.*{TMP_SUFFIX}" if name else f".*{TMP_SUFFIX}"
    try:
        return sorted(directory.glob(pattern))
    except OSError:
        return []


def remove_stray_temps(directory: Path, name: str | None = None) -> int:
    """Delete leftovers of interrupted saves. Only call with the writer lock held."""
    removed = 0
    for tmp in stray_temps(directory, name):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed += 1
    return removed


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def describe_decode_problem(raw: bytes, exc: Exception) -> str:
    """Say what is wrong with bytes orjson refused, in terms of what probably happened."""
    size = len(raw)
    msg = str(exc)
    pos = getattr(exc, "pos", None)
    if size == 0:
        return "the file is empty (0 bytes), so the last save was interrupted"
    if not raw.strip(b"\x00"):
        return f"the file holds only NUL bytes ({size} bytes), so its content was lost"
    nul = raw.find(b"\x00")
    if "after document" in msg:
        what = "NUL bytes" if nul >= 0 and nul >= (pos or 0) else "extra data"
        return (f"{what} after the end of the JSON (byte {pos} of {size}): a longer older "
                f"version was partly overwritten")
    if nul >= 0:
        return f"the file contains NUL bytes (first at byte {nul} of {size})"
    if "end of data" in msg:
        return f"the JSON is truncated (the file stops after {size} bytes, mid-document)"
    if "UTF-8" in msg:
        return "the file is not valid UTF-8 text"
    return f"the file is not valid JSON ({msg})"


def check_tables(data: Any, path: Path) -> Tables:
    """Accept only what TinyDB can use: {table name: {numeric doc id: {document}}}."""
    if not isinstance(data, dict):
        raise CorruptStoreError(path, f"expected a JSON object of tables, found {_json_type(data)}")
    for name, table in data.items():
        if not isinstance(table, dict):
            raise CorruptStoreError(
                path, f"table {name!r} is {_json_type(table)}, expected an object of documents")
        # Two C-speed passes; only walk item by item to name the culprit.
        if not all(type(doc) is dict for doc in table.values()):
            bad = next(k for k, doc in table.items() if type(doc) is not dict)
            raise CorruptStoreError(
                path, f"document {bad!r} of table {name!r} is {_json_type(table[bad])}, "
                      f"expected an object")
        if not all(k.isascii() and k.isdigit() for k in table):
            bad = next(k for k in table if not (k.isascii() and k.isdigit()))
            raise CorruptStoreError(path, f"table {name!r} has a non-numeric document id {bad!r}")
    return data


def decode_tables(raw: bytes, path: Path) -> Tables:
    """Bytes → validated tables, or CorruptStoreError naming the file and the problem."""
    try:
        with paused_gc():
            data = _by_document(raw) if len(raw) > BY_DOCUMENT else None
            if data is None:
                data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CorruptStoreError(path, describe_decode_problem(raw, exc)) from None
    return check_tables(data, path)


BY_DOCUMENT = 1 << 20  # bytes: a bigger items partition is decoded one document at a time


def _by_document(raw: bytes) -> Tables | None:
    """An items partition decoded one document at a time (the same tables): one call over a
    25 MB week holds the GIL for 0.2-0.5 s, a pause of the dashboard's UI while a worker
    reads it. None for another layout (or a cut that is no document): decoded whole then."""
    slices = item_doc_slices(raw)
    if slices is None:
        return None
    loads = orjson.loads
    try:
        return {"items": {key: loads(raw[start:end]) for key, start, end in slices}}
    except orjson.JSONDecodeError:
        return None


def read_raw(path: Path) -> bytes | None:
    """A store file's bytes; None when it does not exist; unreadable raises."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise CorruptStoreError(path, "a directory is where the file should be") from None
    except OSError as exc:
        raise CorruptStoreError(path, f"the file cannot be read ({os_reason(exc)})") from None


def read_tables(path: Path) -> Tables | None:
    """Load a store file. None when it does not exist; anything unusable raises."""
    raw = read_raw(path)
    return None if raw is None else decode_tables(raw, path)


def _write_all(fd: int, data: bytes | Iterable[bytes]) -> None:
    """Write ``data``: bytes, or chunks of them (a payload encoded as it is written)."""
    for chunk in (data,) if isinstance(data, bytes) else data:
        view = memoryview(chunk)
        while view:
            written = os.write(fd, view)
            view = view[written:]


def fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX: the directory entry lives in the directory)."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some filesystems cannot fsync a directory; nothing more can be done there.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _temp_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.urandom(6).hex()}{TMP_SUFFIX}")


def replace_file(path: Path, payload: bytes | Iterable[bytes], *, backup: bool = False,
                 durable: bool = True, mode: int | None = None) -> os.stat_result:
    """Replace ``path`` with ``payload`` so that a crash leaves the old or the new file: the one
    atomic write of the project (store files, config edits, briefings). ``payload`` may be an
    iterable of chunks (written as they come: never whole in memory).

    ``backup``: first hard-link the current file to ``<name>.bak`` (atomically, via a temp
    name), so the previous good version survives. ``durable=False`` skips the fsyncs (for
    rebuildable caches). ``mode``: the new file's permission bits; by default an existing
    file keeps its own and a new one gets mkstemp's 0600. Returns the new file's stat (same
    inode after the rename). Raises OSError; on any exception the temp files are removed.
    """
    fd = -1
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
        _write_all(fd, payload)
        if mode is None:
            with contextlib.suppress(FileNotFoundError):
                mode = path.stat().st_mode & 0o777
        if mode is not None:
            os.fchmod(fd, mode)
        if durable:
            os.fsync(fd)
        st = os.fstat(fd)
        os.close(fd)
        fd = -1
        if backup:
            _keep_backup(path)
        os.replace(tmp, path)
        tmp = None
        if durable:
            fsync_dir(path.parent)
        return st
    finally:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _keep_backup(path: Path) -> None:
    """Hard-link (or copy) ``path`` to ``<name>.bak`` through a temp name, so the previous
    good version survives the replace."""
    bak_tmp = _temp_sibling(path)
    try:
        os.link(path, bak_tmp)
    except FileNotFoundError:
        return  # nothing to keep yet
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK,
                             errno.EOPNOTSUPP):
            raise
        shutil.copyfile(path, bak_tmp)  # filesystem without hard links
    try:
        os.replace(bak_tmp, backup_path(path))
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(bak_tmp)
        raise
    # A rename onto another link of the same file does nothing and leaves the source
    # (the .bak already is this file: a save killed right after keeping its backup).
    with contextlib.suppress(FileNotFoundError):
        os.unlink(bak_tmp)


def atomic_write(path: Path, payload: bytes | Iterable[bytes], *, backup: bool = True,
                 durable: bool = True) -> os.stat_result:
    """:func:`replace_file` for the store: keeps a ``.bak`` by default and raises
    StoreWriteError (naming the file and the reason) instead of OSError."""
    try:
        return replace_file(path, payload, backup=backup, durable=durable)
    except OSError as exc:
        raise StoreWriteError(path, os_reason(exc), exc.errno) from exc


class AtomicJSONStorage(Storage):
    """TinyDB storage: load once, serve reads from memory, save atomically on ``flush()``.

    Like CachingMiddleware, ``read()`` returns the cached dict that TinyDB then mutates in
    place; ``write()`` only marks it dirty. Nothing reaches the disk until ``flush()`` (or
    ``close()``), which is where the caller decides the batching: one save per poll cycle.

    ``flush()`` is ``snapshot()`` + ``commit()`` + ``mark_saved()``; a multi-threaded owner
    calls ``snapshot()`` under its lock and ``commit()`` outside it, so a slow fsync does not
    block readers. Versions make that safe: a change made during the commit stays dirty.
    """

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False,
                 keep_backup: bool = True, overwrite: bool = False) -> None:
        """``overwrite=True`` lets a storage that never read the file replace it (recovery)."""
        self.path = Path(path)
        self.readonly = readonly
        self.keep_backup = keep_backup
        self._overwrite = overwrite
        self._cache: Tables | None = None
        self._version = 0  # bumped by every write()
        self._saved_version = 0  # the version last known to be on disk
        self._verified = False  # the file on disk is known good, so it may become the .bak
        self._existed = False
        if not readonly:
            remove_stray_temps(self.path.parent, self.path.name)

    # --- TinyDB Storage interface -------------------------------------------------------
    def read(self) -> Tables:
        if self._cache is None:
            data = read_tables(self.path)
            self._existed = data is not None
            self._verified = True
            self._cache = {} if data is None else data
        return self._cache

    def write(self, data: Tables) -> None:
        if self.readonly:
            raise ReadOnlyStoreError(self.path, "save changes")
        self._cache = data
        self._version += 1

    def close(self) -> None:
        if not self.readonly and self.dirty:
            self.flush()

    # --- persistence --------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self._version != self._saved_version

    @property
    def version(self) -> int:
        """Bumped by every change; :meth:`mark_saved` takes the version a save carried."""
        return self._version

    @property
    def loaded(self) -> bool:
        return self._cache is not None

    def touch(self) -> None:
        """Mark dirty after changing the cached dict directly (not through TinyDB)."""
        if self.readonly:
            raise ReadOnlyStoreError(self.path, "save changes")
        self._version += 1

    def snapshot(self) -> tuple[bytes, int] | None:
        """Serialize the cache now (copy-on-serialize). None when there is nothing to save.

        Serializing first also means a value that cannot be encoded fails here, before any
        file is touched.
        """
        if not self.dirty or self._cache is None:
            return None
        return orjson.dumps(self._cache), self._version

    def commit(self, payload: bytes) -> os.stat_result:
        """Atomically put ``payload`` on disk. Raises StoreWriteError, leaving the old file."""
        if self.readonly:
            raise ReadOnlyStoreError(self.path, "save changes")
        if not self._verified and not self._overwrite and self.path.exists():
            # Never replace a file we did not (successfully) read: it may be a corrupt one
            # waiting for `diplowatch recover`.
            raise CorruptStoreError(self.path, "refusing to replace a file that was not read")
        st = atomic_write(self.path, payload, backup=self.keep_backup and self._verified)
        self._verified = True
        self._existed = True
        return st

    def mark_saved(self, version: int) -> None:
        if version > self._saved_version:
            self._saved_version = version

    def flush(self) -> int:
        """Save if dirty; returns the bytes written (0 when clean)."""
        snap = self.snapshot()
        if snap is None:
            return 0
        payload, version = snap
        self.commit(payload)
        self.mark_saved(version)
        return len(payload)

    def drop_cache(self) -> None:
        """Forget the loaded data (to free memory); refused while changes are unsaved."""
        if self.dirty:
            raise RuntimeError(f"{self.path}: unsaved changes")
        self._cache = None

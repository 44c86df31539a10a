"""One writer per store: an exclusive ``flock`` on the store folder itself.

The lock is held on a descriptor of the folder (``open(dir, O_RDONLY|O_DIRECTORY)``), not on
a file in it: deleting a lock file cannot defeat it, as deleting ``writer.lock`` under a
running writer used to (a second writer then created and locked a new file, and both wrote).
``writer.lock`` stays, also flocked (what older versions lock), as the record of who holds
the store (pid, start time, hostname), so a second instance can say who is running.

Before each save the writer checks it still owns what it is about to write
(:meth:`WriterLock.verify`): the path must still name the folder it locked (not deleted,
renamed away or re-created: a second writer may have started in a new folder at that path)
and ``writer.lock`` must still be its own file. A deleted ``writer.lock`` is simply put back.

flock is tied to the open file description, so the kernel releases it when the holder dies,
even on SIGKILL: a stale lock never needs manual cleanup. A forked child (e.g. a
multiprocessing "fork" parse worker) would inherit the descriptors and keep the lock alive
after the writer died; an at-fork hook closes the child's copies (closing, never unlocking:
the lock belongs to the open file description the parent still holds).
Caveat: flock is advisory and may not work across NFS hosts.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from .errors import (StoreError, StoreLockedError, StoreUnwritableError, WriterLockLostError,
                     os_reason)

LOCK_NAME = "writer.lock"

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC
# flock on a folder is refused by a few filesystems: the lock file alone then guards it.
_NO_FLOCK = {errno.EINVAL, errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EBADF}

_held: set["WriterLock"] = set()  # locks held by this process
_hook_installed = False


def _drop_in_child() -> None:
    for lock in list(_held):
        lock._close_fds()
    _held.clear()


def _install_fork_hook() -> None:
    global _hook_installed
    if not _hook_installed and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_drop_in_child)
        _hook_installed = True


def _read_holder(fd: int) -> dict[str, Any] | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 4096)
        info = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _holder_at(path: Path) -> dict[str, Any] | None:
    """The record in a writer.lock (without locking it), or None."""
    try:
        fd = os.open(path, os.O_RDONLY | _CLOEXEC)
    except OSError:
        return None
    try:
        return _read_holder(fd)
    finally:
        os.close(fd)


def _try_flock(fd: int, mode: int) -> bool | None:
    """Lock without blocking: True taken, False held by someone else, None not supported."""
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno in _NO_FLOCK:
            return None
        raise
    return True


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def store_directory(path: Path | str, *, create: bool) -> Path:
    """The store folder at ``path``, created (mode 0700) for a writer; StoreError in words
    for a file in its place, a missing folder (a reader) or one that cannot be made."""
    directory = Path(path).expanduser()
    if directory.exists() and not directory.is_dir():
        raise StoreError(directory, f"{directory} is a file, not a store folder")
    if not create:
        if not directory.is_dir():
            raise StoreError(directory, f"no store at {directory} (nothing to open read-only)")
        return directory
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise StoreError(directory, f"{directory} is a file, not a store folder") from None
    except OSError as exc:
        raise StoreError(directory, f"cannot create the store directory {directory}: "
                                    f"{os_reason(exc)}") from None
    return directory


class WriterLock:
    """Exclusive, non-blocking writer lock for a store directory.

    Usage: ``lock = WriterLock(store_dir).acquire()`` (StoreLockedError if taken), then
    ``lock.verify()`` before each save and ``lock.release()``; or use it as a context manager.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self._dir_fd: int | None = None
        self._fd: int | None = None  # writer.lock
        self._dir_id: tuple[int, int] | None = None

    @property
    def held(self) -> bool:
        return self._dir_fd is not None

    def acquire(self, *, attempts: int = 3, retry_delay: float = 0.02) -> "WriterLock":
        if self._dir_fd is not None:
            return self
        try:
            dir_fd = os.open(self.directory, _DIR_FLAGS)
        except OSError as exc:
            raise StoreError(self.directory, f"cannot open the store folder {self.directory}: "
                                             f"{os_reason(exc)}") from None
        fd = -1
        try:
            # The folder first: a refused writer never creates or touches writer.lock.
            self._lock(dir_fd, attempts, retry_delay)
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _CLOEXEC, 0o600)
            except OSError as exc:  # a read-only or full filesystem, a folder not ours
                raise StoreUnwritableError(self.directory, os_reason(exc)) from None
            self._lock(fd, attempts, retry_delay)  # an older version may hold only this one
        except BaseException:
            for f in (fd, dir_fd):
                if f >= 0:
                    os.close(f)
            raise
        _write_record(fd)
        self._dir_fd, self._fd = dir_fd, fd
        self._dir_id = _identity(os.fstat(dir_fd))
        _install_fork_hook()
        _held.add(self)
        return self

    def _lock(self, fd: int, attempts: int, retry_delay: float) -> None:
        # A viewer's lock_holder() probe takes a shared lock for an instant; retry briefly so
        # that probe is never mistaken for a running writer.
        for attempt in range(attempts):
            if _try_flock(fd, fcntl.LOCK_EX) is not False:
                return
            if attempt < attempts - 1:
                time.sleep(retry_delay)
        raise StoreLockedError(self.directory, _holder_at(self.path))

    def verify(self) -> None:
        """Raise WriterLockLostError unless this process still owns the store folder at
        ``directory``; put a deleted writer.lock back. Two stats: cheap before every save."""
        if self._dir_fd is None or self._fd is None:
            raise WriterLockLostError(self.directory, "this process does not hold its writer "
                                                      "lock (a forked child?)")
        try:
            now = _identity(os.stat(self.directory))
        except (FileNotFoundError, NotADirectoryError):
            raise WriterLockLostError(self.directory, "the store folder was deleted or moved "
                                                      "away") from None
        except OSError:
            return  # cannot tell (EACCES, EIO): the save itself will say what is wrong
        if now != self._dir_id:
            raise WriterLockLostError(self.directory, "the store folder was replaced (moved "
                                                      "away, and another folder took its name)")
        try:
            lock_file = _identity(os.stat(self.path))
        except FileNotFoundError:
            self._restore_lock_file()
            return
        except OSError:
            return
        if lock_file != _identity(os.fstat(self._fd)):
            raise WriterLockLostError(self.directory, f"its {LOCK_NAME} was replaced by another "
                                                      "file (another diplowatch?)")

    def _restore_lock_file(self) -> None:
        """writer.lock was deleted: the folder lock still guards the store; recreate the
        record (O_EXCL: if someone else made one meanwhile, the store is not ours alone)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o600)
        except FileExistsError:
            raise WriterLockLostError(self.directory, f"its {LOCK_NAME} was replaced by another "
                                                      "file (another diplowatch?)") from None
        except OSError:
            return  # e.g. read-only now: the save will report it
        if _try_flock(fd, fcntl.LOCK_EX) is False:
            os.close(fd)
            raise WriterLockLostError(self.directory, f"another process locked a new {LOCK_NAME}")
        _write_record(fd)
        old, self._fd = self._fd, fd
        if old is not None:
            os.close(old)

    def _close_fds(self) -> None:
        for attr in ("_fd", "_dir_fd"):
            fd = getattr(self, attr)
            setattr(self, attr, None)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def release(self) -> None:
        _held.discard(self)
        fd = self._fd
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # no stale record for the next reader
        for f in (fd, self._dir_fd):
            if f is not None:
                with contextlib.suppress(OSError):
                    fcntl.flock(f, fcntl.LOCK_UN)
        self._close_fds()

    def __enter__(self) -> "WriterLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _write_record(fd: int) -> None:
    """Who holds the lock, for the messages of the processes it refuses."""
    info = {"pid": os.getpid(), "started": time.time(),
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "hostname": socket.gethostname()}
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
    except OSError:
        pass  # the lock works without the record; only the message gets vaguer


def _busy(path: Path, flags: int) -> bool:
    """Does some process hold an exclusive flock on ``path``? (a shared lock for an instant)"""
    try:
        fd = os.open(path, flags)
    except OSError:
        return False
    try:
        taken = _try_flock(fd, fcntl.LOCK_SH)
        if taken:
            fcntl.flock(fd, fcntl.LOCK_UN)
        return taken is False
    finally:
        os.close(fd)


def lock_holder(directory: Path | str) -> dict[str, Any] | None:
    """Who holds the writer lock of a store: its record (pid, started, hostname), or None.

    None means no live writer (never run, exited, or killed). A live holder whose record is
    unreadable (or deleted) gives ``{}``. Cheap enough for a viewer to poll.
    """
    directory = Path(directory)
    if not (_busy(directory, _DIR_FLAGS) or _busy(directory / LOCK_NAME, os.O_RDONLY | _CLOEXEC)):
        return None
    return _holder_at(directory / LOCK_NAME) or {}

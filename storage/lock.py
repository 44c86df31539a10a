"""One writer per store: an exclusive ``flock`` on ``<store>/writer.lock``.

flock is tied to the open file description, so the kernel releases it when the holder dies,
even on SIGKILL: a stale lock never needs manual cleanup. The file also records who holds it
(pid, start time, hostname) so a second instance can say who is running.

A forked child (e.g. a multiprocessing "fork" parse worker) would inherit the descriptor and
keep the lock alive after the writer died; an at-fork hook closes the child's copy (closing,
never unlocking: the lock belongs to the open file description the parent still holds).
Caveat: flock is advisory and may not work across NFS hosts.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from .errors import StoreLockedError

LOCK_NAME = "writer.lock"

_held: set["WriterLock"] = set()  # locks held by this process
_hook_installed = False


def _drop_in_child() -> None:
    for lock in list(_held):
        fd, lock._fd = lock._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
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


class WriterLock:
    """Exclusive, non-blocking writer lock for a store directory.

    Usage: ``lock = WriterLock(store_dir).acquire()`` (StoreLockedError if taken), then
    ``lock.release()``; or use it as a context manager.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, *, attempts: int = 3, retry_delay: float = 0.02) -> "WriterLock":
        if self._fd is not None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        # A viewer's lock_holder() probe takes a shared lock for an instant; retry briefly so
        # that probe is never mistaken for a running writer.
        for attempt in range(attempts):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == attempts - 1:
                    holder = _read_holder(fd)
                    os.close(fd)
                    raise StoreLockedError(self.directory, holder) from None
                time.sleep(retry_delay)
            except OSError:
                os.close(fd)
                raise
        # Only now that we hold it may the previous holder's record be replaced.
        info = {"pid": os.getpid(), "started": time.time(),
                "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "hostname": socket.gethostname()}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        except OSError:
            pass  # the lock works without the record; only the message gets vaguer
        self._fd = fd
        _install_fork_hook()
        _held.add(self)
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        _held.discard(self)
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # no stale record for the next reader
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> "WriterLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_holder(directory: Path | str) -> dict[str, Any] | None:
    """Who holds the writer lock of a store: its record (pid, started, hostname), or None.

    None means no live writer (never run, exited, or killed). A live holder whose record is
    unreadable gives ``{}``. Cheap enough for a viewer to poll.
    """
    path = Path(directory) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd) or {}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)

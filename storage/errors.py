"""Errors the store raises. Each carries the path it concerns and a message a person can act on."""
from __future__ import annotations

import errno as _errno
import os
from pathlib import Path
from typing import Any


class StoreError(Exception):
    """Base class: ``.path`` is the file or store directory concerned, ``.message`` the words."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = Path(path)
        self.message = message
        super().__init__(message)


class CorruptStoreError(StoreError):
    """A store file exists but cannot be used. It is left exactly as found."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.problem = problem
        p = Path(path)
        super().__init__(
            p,
            f"{p}: {problem}. diplowatch did not change the file. Run `diplowatch recover` on "
            f"this store (directory {p.parent}) to move it aside and salvage what can be read, "
            f"or start with `--db` pointing to another directory.",
        )


class StoreLockedError(StoreError):
    """Another process is the writer of this store."""

    def __init__(self, path: Path | str, holder: dict[str, Any] | None) -> None:
        self.holder = holder or {}
        self.pid: int | None = self.holder.get("pid")
        who = f"pid {self.pid}" if self.pid is not None else "pid unknown"
        host = self.holder.get("hostname")
        if host:
            who += f" on {host}"
        super().__init__(
            path,
            f"diplowatch is already running ({who}) with the store {Path(path)}: only one "
            f"process may write it. Open it read-only to watch alongside, or stop that process.",
        )


class WriterLockLostError(StoreError):
    """This process was the store's writer, but the store folder it locked is no longer the
    one at ``path`` (deleted, renamed, re-created) or its writer.lock was replaced: it must
    not write there any more."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.reason = reason
        super().__init__(
            path,
            f"stopped writing the store {Path(path)}: {reason}. This process is no longer its "
            f"writer, so it saves nothing more (its unsaved changes are not written); start "
            f"diplowatch again to go on with the store now at that path.",
        )


class StoreUnwritableError(StoreError):
    """The store cannot be opened as the writer: its folder refuses writes."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.reason = reason
        super().__init__(
            path,
            f"cannot write to the store {Path(path)}: {reason}. Nothing was changed; it can "
            f"still be read (e.g. `diplowatch list`).",
        )


class StoreWriteError(StoreError):
    """Saving failed. The previous file is intact and the change is still pending."""

    def __init__(self, path: Path | str, reason: str, errno: int | None = None) -> None:
        self.reason = reason
        self.errno = errno
        super().__init__(
            path,
            f"could not save {Path(path)}: {reason}. The previous version of the file is "
            f"intact; the unsaved changes are kept in memory and will be retried.",
        )


class ReadOnlyStoreError(StoreError):
    """A read-only store was asked to change something."""

    def __init__(self, path: Path | str, action: str) -> None:
        self.action = action
        super().__init__(
            path,
            f"cannot {action}: the store {Path(path)} is open read-only (another diplowatch "
            f"process is its writer, or read-only was requested).",
        )


_REASONS = {
    _errno.ENOSPC: "disk full",
    _errno.EDQUOT: "disk quota exceeded",
    _errno.EACCES: "permission denied",
    _errno.EPERM: "permission denied",
    _errno.EROFS: "read-only file system",
    _errno.EIO: "input/output error (failing disk?)",
    _errno.ENOENT: "the directory no longer exists",
}


def os_reason(exc: BaseException) -> str:
    """An OSError in words: 'disk full' rather than '[Errno 28] No space left on device'."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return _REASONS.get(exc.errno) or os.strerror(exc.errno).lower()
    return str(exc) or type(exc).__name__

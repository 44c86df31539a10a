"""What every command needs, loaded once and only when needed: the config, the store.

Problems the user can fix (bad config, corrupt or locked store, a store that cannot be
written) become :class:`UserError` with a message naming the file; the CLI prints it and exits
with status 2, never a traceback.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from feeds.config.paths import resolve_db_path

if TYPE_CHECKING:  # the loader is imported when the config is read: a poll the daemon runs never does
    from feeds.config.load import Config


class UserError(Exception):
    """A problem for the user to fix; ``str()`` is the message, ``code`` the exit status."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def store_error_text(exc: BaseException, action: str = "save this command's changes",
                     hint: str = "") -> str:
    """A StoreError (or OSError) of a one-shot command in one line naming the store and the
    problem. A failed save is not "kept in memory and retried" here: the process exits."""
    from storage.errors import StoreError, StoreWriteError, os_reason

    if isinstance(exc, StoreWriteError):
        return (f"store {exc.path.parent}: could not {action}: {exc.reason} (writing "
                f"{exc.path.name}). Its files are intact (each is the previous or the new "
                f"version){'; ' + hint if hint else ''}.")
    if isinstance(exc, StoreError):
        return f"store: {exc.message}"
    if isinstance(exc, OSError) and exc.filename:
        return f"store: could not {action}: {exc.filename}: {os_reason(exc)}"
    return f"store: could not {action}: {os_reason(exc)}"


class StoreLocked(UserError):
    """Another process holds the store's writer lock; ``holder`` says which (pid, started…)."""

    def __init__(self, message: str, holder: dict | None) -> None:
        super().__init__(message)
        self.holder = holder or {}


@contextlib.contextmanager
def through_daemon(obj: "AppContext", locked: StoreLocked,
                   done_before: Callable[[], str] = lambda: "") -> Iterator[Any]:
    """The control client of the daemon that holds the store (``locked`` said someone does):
    not a daemon → the lock holder's message stands; a refusal → one line, followed by
    ``done_before()`` (what was already done)."""
    from feeds.service.control import ControlClient, ControlError, DaemonUnavailable

    try:
        yield ControlClient(obj.store_path)
    except DaemonUnavailable:
        raise locked from None
    except ControlError as e:
        raise UserError(f"{e}{done_before()}") from None


class StoreUnwritable(UserError):
    """The store's folder refuses writes (a read-only mount, no permission): readable still."""


@dataclass
class AppContext:
    config_path: str | None = None
    db_path: str | None = None
    clock: Callable[[], float] = time.time
    # Only the writers that run on their own (poll, daemon, the dashboard) create a missing
    # store; the review commands say "no store at PATH" (a mistyped --db creates nothing).
    creates_store: bool = True
    _save_failed: bool = field(default=False, repr=False)
    _config: Config | None = field(default=None, repr=False)
    _store: Any = field(default=None, repr=False)
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            from feeds.config.load import ConfigError, load_config, resolve_config_path

            try:
                self._config = load_config(resolve_config_path(self.config_path))
            except ConfigError as e:
                raise UserError(f"config: {e}") from None
        return self._config

    @property
    def store_path(self) -> Path:
        return resolve_db_path(self.db_path, lambda: self.config)  # the config only if needed

    def open_store(self, *, readonly: bool = False, defer_older: bool = False,
                   lean: bool = False, on_disk: bool = False) -> Any:
        """The store, opened once; a reader never takes the writer lock. ``defer_older``:
        the dashboard's open (older weeks of the recent window after the first paint);
        ``lean``: `poll --once` (no item decoded until something reads them); ``on_disk``:
        a reader's search of the whole history (no week loaded, every one read on disk)."""
        if self._store is not None:
            if not readonly and self._store.readonly:
                raise UserError("internal: store already opened read-only")  # pragma: no cover
            return self._store
        from storage.errors import StoreError, StoreLockedError, StoreUnwritableError
        from storage.store import Store

        path = self.store_path
        if path.exists() and not path.is_dir():
            raise UserError(f"store: {path} is a file, not a store folder (the store is the "
                            f"folder named by --db, $DIPLOWATCH_DB or [storage] path)")
        if not path.exists() and not self.creates_store:
            raise UserError(f"no store at {path}: is the path mistyped? (`diplowatch poll "
                            f"--once` or `diplowatch daemon` create a store)")
        try:
            if readonly and not path.exists():
                # Nothing stored yet: create the empty store so a reader sees "no items".
                Store.open(path, clock=self.clock).close()
            self._store = Store.open(path, readonly=readonly,
                                     recent_days=self.config.storage.recent_days, clock=self.clock,
                                     defer_older=defer_older, lean=lean, on_disk=on_disk)
        except StoreLockedError as e:
            raise StoreLocked(f"store: {e}", getattr(e, "holder", None)) from None
        except StoreUnwritableError as e:
            raise StoreUnwritable(store_error_text(e)) from None
        except StoreError as e:
            raise UserError(store_error_text(e)) from None
        return self._store

    def save_failed(self, exc: BaseException, action: str, hint: str = "") -> UserError:
        """The error to raise for a save that failed: closing the store then does not try
        again (the command has reported it; nothing is retried after exit)."""
        self._save_failed = True
        return UserError(store_error_text(exc, action, hint))

    def save(self, store: Any, action: str, hint: str = "") -> None:
        """``store.flush()``; a failure becomes one line (UserError, exit 2)."""
        from storage.errors import StoreError

        try:
            store.flush()
        except StoreError as e:
            raise self.save_failed(e, action, hint) from None

    def on_close(self, closer: Callable[[], None]) -> None:
        """Run ``closer`` (e.g. stop a viewer's follower thread) before the store closes."""
        self._closers.append(closer)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()
        if self._store is not None:
            from storage.errors import StoreError

            store, self._store = self._store, None
            try:
                store.close(save=not self._save_failed)
            except StoreError as e:  # the final save of a command that changed the store
                raise UserError(store_error_text(e)) from None

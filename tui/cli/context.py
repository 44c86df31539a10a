"""What every command needs, loaded once and only when needed: the config, the store.

Problems the user can fix (bad config, corrupt or locked store) become :class:`UserError`
with a message naming the file; the CLI prints it and exits with status 2, never a traceback.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from feeds.config.load import Config, ConfigError, load_config, resolve_config_path, resolve_db_path


class UserError(Exception):
    """A problem for the user to fix; ``str()`` is the message, ``code`` the exit status."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class StoreLocked(UserError):
    """Another process holds the store's writer lock; ``holder`` says which (pid, started…)."""

    def __init__(self, message: str, holder: dict | None) -> None:
        super().__init__(message)
        self.holder = holder or {}


@dataclass
class AppContext:
    config_path: str | None = None
    db_path: str | None = None
    clock: Callable[[], float] = time.time
    _config: Config | None = field(default=None, repr=False)
    _store: Any = field(default=None, repr=False)
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(resolve_config_path(self.config_path))
            except ConfigError as e:
                raise UserError(f"config: {e}") from None
        return self._config

    @property
    def store_path(self) -> Path:
        return resolve_db_path(self.db_path, lambda: self.config)  # the config only if needed

    def open_store(self, *, readonly: bool = False, defer_older: bool = False) -> Any:
        """The store, opened once; a reader never takes the writer lock. ``defer_older``:
        the dashboard's open (older weeks of the recent window after the first paint)."""
        if self._store is not None:
            if not readonly and self._store.readonly:
                raise UserError("internal: store already opened read-only")  # pragma: no cover
            return self._store
        from storage.errors import StoreError, StoreLockedError
        from storage.store import Store

        try:
            if readonly and not self.store_path.exists():
                # Nothing stored yet: create the empty store so a reader sees "no items".
                Store.open(self.store_path, clock=self.clock).close()
            self._store = Store.open(self.store_path, readonly=readonly,
                                     recent_days=self.config.storage.recent_days, clock=self.clock,
                                     defer_older=defer_older)
        except StoreLockedError as e:
            raise StoreLocked(f"store: {e}", getattr(e, "holder", None)) from None
        except StoreError as e:
            raise UserError(f"store: {e}") from None
        return self._store

    def on_close(self, closer: Callable[[], None]) -> None:
        """Run ``closer`` (e.g. stop a viewer's follower thread) before the store closes."""
        self._closers.append(closer)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()
        if self._store is not None:
            store, self._store = self._store, None
            store.close()

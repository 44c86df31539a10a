"""diplowatch store: TinyDB files, atomic writes, one writer. Never imports textual.

The repair command's ``storage.recover`` is imported by those who use it: a poll does not."""
from .errors import (CorruptStoreError, ReadOnlyStoreError, StoreError, StoreLockedError,
                     StoreUnwritableError, StoreWriteError, WriterLockLostError)
from .lock import WriterLock, lock_holder
from .query import Flags, ItemFilter, matches
from .store import FlushReport, Store

__all__ = [
    "Store", "FlushReport", "ItemFilter", "Flags", "matches", "WriterLock", "lock_holder",
    "StoreError", "CorruptStoreError", "StoreLockedError",
    "StoreWriteError", "ReadOnlyStoreError", "StoreUnwritableError", "WriterLockLostError",
]

"""diplowatch store: TinyDB files, atomic writes, one writer. Never imports textual."""
from .errors import (CorruptStoreError, ReadOnlyStoreError, StoreError, StoreLockedError,
                     StoreUnwritableError, StoreWriteError, WriterLockLostError)
from .lock import WriterLock, lock_holder
from .query import Flags, ItemFilter, matches
from .recover import RecoverReport, recover
from .store import FlushReport, Store

__all__ = [
    "Store", "FlushReport", "ItemFilter", "Flags", "matches", "WriterLock", "lock_holder",
    "recover", "RecoverReport", "StoreError", "CorruptStoreError", "StoreLockedError",
    "StoreWriteError", "ReadOnlyStoreError", "StoreUnwritableError", "WriterLockLostError",
]

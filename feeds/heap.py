"""Freed heap given back to the operating system: glibc keeps what a process frees for its
own later use, so a process's size would follow the largest thing it ever held (a cycle's
documents, a week file decoded, a parse worker's rules compile) rather than what it keeps.
No imports beyond the standard library's ctypes, and that only at the first call: a parse
worker uses it too."""
from __future__ import annotations

from typing import Any

_malloc_trim: Any = None  # glibc's malloc_trim once looked up; False where there is none


def release_free_heap() -> None:
    """glibc's ``malloc_trim(0)``; nothing where it does not exist (not glibc, no ctypes).
    Looked up in the process's own symbols, not by ``ctypes.util.find_library``, which
    runs ``ldconfig`` (tens of milliseconds) to find a file name."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL(None).malloc_trim
        except Exception:  # noqa: BLE001 - not glibc, or no ctypes: the heap stays as it is
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)

"""What the caches beside a partition file share (the word index, storage.wordindex; the
order index, storage.weekorder): a head that names the partition version they describe
(its size, mtime_ns and inode first), little-endian arrays, and a write that may fail
(a cache: no fsync, and a failed write is only a slower read)."""
from __future__ import annotations

import struct
import sys
from array import array
from pathlib import Path
from typing import Any

from .atomic import atomic_write
from .errors import StoreWriteError

U32 = "I" if array("I").itemsize == 4 else "L"
_LITTLE = sys.byteorder == "little"


def arr(code: str, data: Any) -> array:
    """An array of ``code`` from little-endian bytes."""
    a = array(code)
    a.frombytes(data)
    if not _LITTLE:
        a.byteswap()
    return a


def le(a: array) -> bytes:
    """An array's little-endian bytes."""
    if not _LITTLE:
        a = array(a.typecode, a)
        a.byteswap()
    return a.tobytes()


def write_cache(path: Path, payload: bytes | None) -> bool:
    """Write a cache file (nothing for None); False if it could not be written."""
    if payload is None:
        return False
    try:
        atomic_write(path, payload, backup=False, durable=False)
    except StoreWriteError:
        return False
    return True


def names_version(path: Path, magic: bytes, head: struct.Struct,
                  partition_stat: list[int]) -> bool:
    """Does the cache at ``path`` (``magic``, then ``head`` whose first three fields are
    the partition's size, mtime_ns and inode) describe this version of the partition?"""
    try:
        with open(path, "rb") as fh:
            got = fh.read(len(magic) + head.size)
    except OSError:
        return False
    if len(got) != len(magic) + head.size or got[:len(magic)] != magic:
        return False
    return list(head.unpack_from(got, len(magic))[:3]) == list(partition_stat)

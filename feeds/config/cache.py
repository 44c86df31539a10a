"""A config as parsed: kept per change of its files instead of parsed at every start.

Reading the TOML (~100 kB of it, mostly rules: ~10 ms), parsing the rules and the actor
gazetteer (~220 patterns and exclusions, the term classes: ~30 ms) and hashing them for the
store's re-classification check (~20 ms) cost every command ~60 ms: as much as the rest of
an all-304 poll's own work, and a twelfth of the dashboard's first paint. The result is kept
in the user's cache folder (``config/``) and read back in ~13 ms; the other sections are
validated from the kept documents as ever (~1 ms).

A kept result is used only when its file holds the same key, whole: the key is everything
the result is built from (the texts of the user's and the bundled config, the source of the
code that parses them: every module of ``feeds/``, ``feeds/classify/`` and ``feeds/config/``,
by size and time of change; the interpreter). A missing, torn or foreign file is parsed again
and rewritten; only a config that loaded is kept, so a bad one is reported as ever. The
files are this program's own pickles, private (0600 in a 0700 folder) like the regex cache
beside them: a config's text is their key, never unpickled from anywhere else.
"""
from __future__ import annotations

import dataclasses
import io
import os
import pickle
import sys
import zlib
from pathlib import Path
from typing import Any

import orjson

from feeds import __version__
from feeds.files import cache_dir, read_cache_file, write_cache_file

KEEP = 8  # a few configs' worth (a user's, the bundled one, a test's)
_FORMAT = b"dwconf2"
_PARSERS = Path(__file__).resolve().parents[1]  # feeds/: its classify/ and config/ parse them


def key_of(texts: tuple[str | None, ...]) -> bytes | None:
    """The key of a config made of these texts (the user's, the bundled one's when it is
    another file), with the parsing code's size and time of change; None without a cache."""
    if cache_dir("config") is None:
        return None
    stamps = []
    for folder in ("", "classify", "config"):  # (feeds/ itself: model.py's LABELS, …)
        try:
            with os.scandir(_PARSERS / folder) as it:
                stamps.extend((folder, e.name, e.stat().st_mtime_ns, e.stat().st_size)
                              for e in it if e.name.endswith(".py"))
        except OSError:
            return None
    return orjson.dumps([sys.version, __version__, sorted(stamps), texts])


def load(key: bytes) -> tuple | None:
    """What :func:`keep` kept under ``key``, or None."""
    body = read_cache_file(_path(key), _FORMAT)
    if body is None:
        return None
    try:
        stored, value = pickle.loads(body)
    except Exception:  # a file from another version of the program: parsed again
        return None
    return value if stored == key else None


def keep(key: bytes, value: tuple) -> None:
    """Keep ``value`` (documents, and specs as :func:`dumps` gave them) under ``key``."""
    write_cache_file(_path(key), _FORMAT, pickle.dumps((key, value), pickle.HIGHEST_PROTOCOL),
                     KEEP)


def dumps(specs: Any) -> bytes:
    """``specs`` (plain data and slotted dataclasses) pickled for ``pickle.loads``, which
    builds them back by :func:`_rebuild`. Kept apart from the documents: a command that
    needs only their fingerprints never decodes them (feeds.config.specs)."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(specs)
    return buffer.getvalue()


def _path(key: bytes) -> Path:
    return cache_dir("config") / f"{zlib.crc32(key):08x}-{len(key)}.conf"


class _Pickler(pickle.Pickler):
    """Pickles a slotted dataclass as its class and field values: unpickled by
    :func:`_rebuild`, in half the time of the dataclass's own ``__setstate__`` (which looks
    its fields up again for each of the spec's ~3,400 objects)."""

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__:
            return _rebuild, (cls, tuple(getattr(obj, name) for name in _names(cls)))
        return NotImplemented


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    found = _NAMES.get(cls)
    if found is None:
        found = _NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return found


def _rebuild(cls: type, values: tuple) -> Any:
    obj = object.__new__(cls)
    for name, value in zip(_names(cls), values):
        object.__setattr__(obj, name, value)
    return obj

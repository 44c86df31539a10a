"""Large regular expressions compiled once per machine instead of once per process.

The classifier's phrase trie becomes three regexes of ~27 kB each; Python's ``re`` parses and
compiles them in pure Python, ~0.1 s each: a one-shot poll that classifies a few new items
spent ~0.3 s of its ~0.8 s there, and every parse worker as much again at its start. The
compiled program (a list of ints) is kept in the user's cache folder and handed straight to
the regex engine (``_sre.compile``, what ``re.compile`` ends with) on the next start.

A cached program is used only when everything that could change it matches: the file name
is a checksum of the pattern, flags and interpreter build, and the file carries the pattern
again and a checksum of its own content (zlib's CRC-32: hashlib would bring OpenSSL, some
megabytes, into every parse worker). Anything else (no cache folder, a file that is
missing, torn, from another Python, or refused by the engine's own code check) falls back
to ``re.compile``; a failed write is ignored. Files are private (0600 in a 0700 folder), and
the folder keeps only the newest :data:`KEEP` programs.
"""
from __future__ import annotations

import marshal
import re
import sys
import zlib
from pathlib import Path

from feeds import files

KEEP = 24  # programs kept: a few rule sets' worth (three regexes each, ~250 kB apiece)
MIN_LENGTH = 1024  # shorter patterns compile in about a millisecond: not worth a file
_FORMAT = b"dwre3"


def compile_cached(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, from the cached program when there is a good one."""
    directory = files.cache_dir("regex") if len(pattern) >= MIN_LENGTH else None
    if directory is None:
        return re.compile(pattern, flags)
    text = pattern.encode("utf-8", "surrogatepass")
    key = zlib.crc32(b"%s\0%d\0%s" % (sys.version.encode(), flags, text))
    path = directory / f"{key:08x}-{len(text)}.bin"
    compiled = _load(path, pattern, text, flags)
    if compiled is not None:
        return compiled
    try:
        compiled, program = _compile(pattern, flags)
    except Exception:  # an interpreter whose re internals differ: the plain way
        return re.compile(pattern, flags)
    _store(path, text, flags, program)
    return compiled


def _compile(pattern: str, flags: int) -> tuple[re.Pattern[str], tuple]:
    """What ``re._compiler.compile`` does, keeping the arguments it gives ``_sre.compile``."""
    import _sre
    from re import _compiler, _parser

    parsed = _parser.parse(pattern, flags)
    code = [int(op) for op in _compiler._code(parsed, flags)]
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    program = (flags | parsed.state.flags, code, parsed.state.groups - 1, groupindex,
               tuple(indexgroup))
    return _sre.compile(pattern, *program), program


def _load(path: Path, pattern: str, text: bytes, flags: int) -> re.Pattern[str] | None:
    body = files.read_cache_file(path, _FORMAT)
    if body is None:
        return None
    try:
        stored, stored_flags, program = marshal.loads(body)
        body.release()
        del body  # (freed before the engine's copy of the program is made: less heap)
        if stored != text or stored_flags != flags:
            return None
        import _sre

        return _sre.compile(pattern, *program)  # (the engine checks the program itself)
    except Exception:
        return None


def _store(path: Path, text: bytes, flags: int, program: tuple) -> None:
    files.write_cache_file(path, _FORMAT, marshal.dumps((text, flags, program)), KEEP)

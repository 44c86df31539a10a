"""Files the app writes for the user (logs, briefings, exports, config copies): private.

A new file is 0600 and the folders the app creates for its own files (the log folder, the
config folder) are 0700, whatever the umask: a briefing, an export or a log names the feeds
watched, and a config may hold URL credentials. A file or folder that already exists keeps
its mode (the user chose it), and a path the user typed (``-o``) gets no folders made for it
(a typo must not create directories). Writes are atomic (``storage.atomic.replace_file``).
"""
from __future__ import annotations

import os
import zlib
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each 0700; existing ones are left alone."""
    missing: list[Path] = []
    current = directory
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made meanwhile by someone else: theirs
            continue
        os.chmod(folder, DIR_MODE)  # (mkdir's mode is filtered by the umask)


def write_private(path: Path, payload: bytes, *, make_dirs: bool = False) -> None:
    """Write ``payload`` atomically to ``path``: a new file 0600 (with ``make_dirs``, in
    0700 folders created as needed); an existing one keeps its mode. Raises OSError."""
    from storage.atomic import replace_file  # (the storage package: ~20 ms the log does not need)

    if make_dirs:
        private_dirs(path.parent)
    replace_file(path, payload)


def open_private(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_APPEND) -> int:
    """A descriptor on ``path``, created 0600 if new (for append-only files such as logs)."""
    private_dirs(path.parent)
    return os.open(path, flags | getattr(os, "O_CLOEXEC", 0), FILE_MODE)


# --- the user's cache folder: things this program rebuilds when they are missing -----------

def cache_dir(name: str) -> Path | None:
    """``$XDG_CACHE_HOME/diplowatch/<name>`` (``~/.cache`` without it); None without a home."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.environ.get("HOME")
        if not home:
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "diplowatch" / name


def read_cache_file(path: Path, magic: bytes) -> memoryview | None:
    """The body of a cache file written by :func:`write_cache_file` with ``magic``, if the
    file is whole (its CRC checks); None if it is missing, torn or another kind."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    start = len(magic) + 4
    body = memoryview(data)[start:]
    if data[:len(magic)] != magic or zlib.crc32(body).to_bytes(4, "big") != data[len(magic):start]:
        body.release()
        return None
    return body


def write_cache_file(path: Path, magic: bytes, body: bytes, keep: int) -> None:
    """Write a cache file (``magic``, the body's CRC-32, the body) atomically: 0600 in 0700
    folders, a temporary file renamed over. Then keep only the folder's newest ``keep`` files
    of its suffix. A failure is ignored: the next run rebuilds what was to be cached. (Not
    storage.atomic.replace_file: a parse worker writes the regex cache, and that module
    brings tinydb, tempfile and hashlib's OpenSSL into it.)"""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        private_dirs(path.parent)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0),
                     FILE_MODE)
        try:
            view = memoryview(magic + zlib.crc32(body).to_bytes(4, "big") + body)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _prune(path.parent, path.suffix, keep)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _prune(directory: Path, suffix: str, keep: int) -> None:
    entries = []
    with os.scandir(directory) as it:
        for entry in it:
            if entry.name.endswith(suffix) and not entry.name.startswith("."):
                try:
                    entries.append((entry.stat().st_mtime_ns, entry.path))
                except OSError:
                    continue
    for _, old in sorted(entries, reverse=True)[keep:]:
        try:
            os.unlink(old)
        except OSError:
            pass

"""Files the app writes for the user (logs, briefings, exports, config copies): private.

A new file is 0600 and the folders the app creates for its own files (the log folder, the
config folder) are 0700, whatever the umask: a briefing, an export or a log names the feeds
watched, and a config may hold URL credentials. A file or folder that already exists keeps
its mode (the user chose it), and a path the user typed (``-o``) gets no folders made for it
(a typo must not create directories). Writes are atomic (``storage.atomic.replace_file``).
"""
from __future__ import annotations

import os
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

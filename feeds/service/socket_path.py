"""Where a store's control socket lives.

Apart from :mod:`feeds.service.control` so that a one-shot command can ask whether a daemon
runs without importing the control protocol first (a few ms of every headless poll).
"""
from __future__ import annotations

import os
from pathlib import Path

SOCKET_NAME = "control.sock"
_SUN_PATH_MAX = 107  # sockaddr_un.sun_path holds 108 bytes with the NUL


def control_socket_path(store_dir: Path | str) -> Path:
    """The control socket of a store: ``<store>/control.sock``.

    A Unix socket path is limited to 107 bytes; for a deeper store the socket goes to a
    private per-user folder under the temp dir, named by a hash of the store's real path,
    so the daemon and its viewers still derive the same path without asking anyone.
    """
    directory = Path(store_dir).expanduser()
    path = directory / SOCKET_NAME
    if len(os.fsencode(str(path.absolute()))) <= _SUN_PATH_MAX:
        return path.absolute()
    import hashlib  # (with tempfile: ~8 ms of a start, for deep stores only)
    import tempfile

    digest = hashlib.blake2b(os.fsencode(str(directory.resolve())), digest_size=8).hexdigest()
    return Path(tempfile.gettempdir()) / f"diplowatch-{os.getuid()}" / f"{digest}.sock"

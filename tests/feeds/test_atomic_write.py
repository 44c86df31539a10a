"""storage.atomic.replace_file as the core uses it for the files a user owns (config edits,
briefings): permission bits, and nothing left behind when a write fails."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from storage import atomic
from storage.atomic import TMP_SUFFIX, replace_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _temps(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"*{TMP_SUFFIX}"))


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"old")
    path.chmod(0o640)  # neither mkstemp's 0600 nor the umask's 0644
    replace_file(path, b"new")
    assert path.read_bytes() == b"new" and _mode(path) == 0o640


def test_a_new_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "brief.md"
    replace_file(path, b"text")
    assert path.read_bytes() == b"text" and _mode(path) == 0o600
    assert _temps(tmp_path) == []


def test_a_read_only_directory_raises_and_leaves_the_old_file_and_no_temp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_bytes(b"old")
    if os.geteuid() == 0:
        # Root ignores directory permissions: refuse the rename as the kernel would refuse a
        # user, after the temp file was written (the temp must go too).
        def refuse(src, dst, *a, **k):
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        monkeypatch.setattr(atomic.os, "replace", refuse)
    else:
        folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError):
            replace_file(path, b"new")
    finally:
        folder.chmod(0o700)
        monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert sorted(folder.iterdir()) == [path]  # no temp file left


def test_a_write_that_fails_midway_removes_its_temp(tmp_path: Path) -> None:
    target = tmp_path / "brief.md"
    target.mkdir()  # os.replace(temp, a non-empty directory) fails after the temp is written
    (target / "keep").write_text("x")
    with pytest.raises(OSError):
        replace_file(target, b"new")
    assert _temps(tmp_path) == [] and (target / "keep").read_text() == "x"

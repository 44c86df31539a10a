"""AtomicJSONStorage: atomic saves, refusal of corrupt files, clean failure on write errors."""
from __future__ import annotations

import errno
import os

import orjson
import pytest
from tinydb import TinyDB

import storage.atomic as atomic
from storage.atomic import TMP_SUFFIX, AtomicJSONStorage, backup_path
from storage.errors import CorruptStoreError, ReadOnlyStoreError, StoreWriteError

GOOD = {"items": {"1": {"a": 1}, "2": {"a": 2}}}


def write_good(path, data=GOOD):
    path.write_bytes(orjson.dumps(data))
    return path.read_bytes()


def temps(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(TMP_SUFFIX))


def test_missing_file_is_an_empty_db_and_nothing_is_written_until_flush(tmp_path):
    path = tmp_path / "db.json"
    db = TinyDB(path, storage=AtomicJSONStorage)
    assert db.tables() == set()
    db.table("items").insert({"x": 1})
    assert not path.exists()  # writes stay in memory
    assert db.storage.dirty
    assert db.storage.flush() > 0
    assert not db.storage.dirty
    assert orjson.loads(path.read_bytes()) == {"items": {"1": {"x": 1}}}


def test_reads_served_from_memory_after_first_load(tmp_path):
    path = tmp_path / "db.json"
    write_good(path)
    st = AtomicJSONStorage(path)
    first = st.read()
    path.write_bytes(b"garbage that would not parse")
    assert st.read() is first  # no second disk read


def test_flush_keeps_previous_version_as_bak_and_leaves_no_temp(tmp_path):
    path = tmp_path / "db.json"
    old = write_good(path)
    db = TinyDB(path, storage=AtomicJSONStorage)
    db.table("items").insert({"a": 3})
    db.storage.flush()
    assert backup_path(path).read_bytes() == old
    assert len(orjson.loads(path.read_bytes())["items"]) == 3
    assert temps(tmp_path) == []


@pytest.mark.parametrize("content, needle", [
    (b"", "empty (0 bytes)"),
    (b'{"items": {"1": {"a": 1}, "2": {"a"', "truncated"),
    (b'{"items": {}}{"items": {}}', "extra data"),
    (b"\x00" * 64, "NUL"),
    (b'{"items": {"1": {"a": 1}}}\x00\x00\x00', "NUL"),
    (b'{"items": {"1": \x00\x00\x00{"a": 1}}}', "NUL"),
    (b"[]", "found an array"),
    (b"null", "found null"),
    (b'{"items": []}', "table 'items' is an array"),
    (b'{"items": {"1": 5}}', "document '1'"),
    (b'{"items": {"x": {}}}', "non-numeric document id"),
    (b'{"a": "\xff\xfe"}', "UTF-8"),
])
def test_corrupt_file_is_refused_and_left_untouched(tmp_path, content, needle):
    path = tmp_path / "db.json"
    path.write_bytes(content)
    with pytest.raises(CorruptStoreError) as err:
        TinyDB(path, storage=AtomicJSONStorage).tables()
    assert str(path) in str(err.value)
    assert needle in err.value.problem
    assert "diplowatch recover" in str(err.value) and "--db" in str(err.value)
    assert path.read_bytes() == content  # never overwritten, never "repaired" to empty


def test_unreadable_file_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "db.json"
    content = write_good(path)
    if os.geteuid() == 0:  # chmod does not stop root: emulate the refusal
        def deny(*a, **k):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        monkeypatch.setattr(atomic, "open", deny, raising=False)
    else:
        path.chmod(0)
    try:
        with pytest.raises(CorruptStoreError) as err:
            AtomicJSONStorage(path).read()
        assert "permission denied" in err.value.problem
    finally:
        path.chmod(0o600)
    assert path.read_bytes() == content


def test_storage_never_replaces_a_file_it_could_not_read(tmp_path):
    path = tmp_path / "db.json"
    path.write_bytes(b"{broken")
    st = AtomicJSONStorage(path)
    st.write({"items": {}})
    with pytest.raises(CorruptStoreError):
        st.flush()
    assert path.read_bytes() == b"{broken"


def test_readonly_never_writes(tmp_path):
    path = tmp_path / "db.json"
    content = write_good(path)
    stray = tmp_path / f".db.json.abc{TMP_SUFFIX}"
    stray.write_bytes(b"x")
    db = TinyDB(path, storage=AtomicJSONStorage, readonly=True)
    assert len(db.table("items")) == 2
    with pytest.raises(ReadOnlyStoreError):
        db.table("items").insert({"a": 9})
    assert db.storage.flush() == 0
    assert path.read_bytes() == content
    assert stray.exists()  # cleaning is the writer's job


def test_stray_temp_from_killed_writer_is_removed_at_open(tmp_path):
    path = tmp_path / "db.json"
    write_good(path)
    (tmp_path / f".db.json.k1ll3d{TMP_SUFFIX}").write_bytes(b'{"items": {"1": {"a"')
    other = tmp_path / f".other.json.zz{TMP_SUFFIX}"
    other.write_bytes(b"")
    AtomicJSONStorage(path)
    assert temps(tmp_path) == [other.name]  # only this file's leftovers


def _dirty_storage(tmp_path):
    path = tmp_path / "db.json"
    old = write_good(path)
    db = TinyDB(path, storage=AtomicJSONStorage)
    db.table("items").insert({"new": True})
    return path, old, db


@pytest.mark.parametrize("fail_on", ["write", "fsync", "replace", "link"])
def test_failure_before_the_rename_leaves_previous_file(tmp_path, monkeypatch, fail_on):
    path, old, db = _dirty_storage(tmp_path)
    err = OSError(errno.ENOSPC, "No space left on device")

    def boom(*a, **k):
        raise err
    target = {"write": "write", "fsync": "fsync", "replace": "replace", "link": "link"}[fail_on]
    monkeypatch.setattr(atomic.os, target, boom)
    with pytest.raises(StoreWriteError) as exc:
        db.storage.flush()
    monkeypatch.undo()
    assert "disk full" in str(exc.value) and str(path) in str(exc.value)
    assert path.read_bytes() == old
    assert temps(tmp_path) == []
    assert db.storage.dirty  # still pending
    db.storage.flush()  # the retry succeeds
    assert len(orjson.loads(path.read_bytes())["items"]) == 3


def test_failure_after_the_rename_leaves_the_new_file(tmp_path, monkeypatch):
    path, old, db = _dirty_storage(tmp_path)
    real_fsync = os.fsync
    calls = []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 2:  # the first is the temp file, the second the directory
            raise OSError(errno.EIO, "I/O error")
        return real_fsync(fd)
    monkeypatch.setattr(atomic.os, "fsync", fsync)
    with pytest.raises(StoreWriteError):
        db.storage.flush()
    monkeypatch.undo()
    assert len(orjson.loads(path.read_bytes())["items"]) == 3  # new state is in place
    assert backup_path(path).read_bytes() == old
    assert temps(tmp_path) == []
    assert AtomicJSONStorage(path).read() == db.storage.read()


def test_readonly_directory_gives_clear_error(tmp_path, monkeypatch):
    path, old, db = _dirty_storage(tmp_path)
    if os.geteuid() == 0:
        def denied(*a, **k):
            raise PermissionError(errno.EACCES, "Permission denied")
        monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)
    else:
        tmp_path.chmod(0o500)
    try:
        with pytest.raises(StoreWriteError) as exc:
            db.storage.flush()
    finally:
        tmp_path.chmod(0o700)
        monkeypatch.undo()
    assert "permission denied" in str(exc.value)
    assert path.read_bytes() == old and db.storage.dirty
    db.storage.flush()
    assert not db.storage.dirty


def test_change_during_commit_stays_dirty(tmp_path):
    path = tmp_path / "db.json"
    db = TinyDB(path, storage=AtomicJSONStorage)
    items = db.table("items")
    items.insert({"a": 1})
    payload, version = db.storage.snapshot()
    items.insert({"a": 2})  # e.g. the poller thread, while the fsync runs
    db.storage.commit(payload)
    db.storage.mark_saved(version)
    assert db.storage.dirty
    db.storage.flush()
    assert len(orjson.loads(path.read_bytes())["items"]) == 2

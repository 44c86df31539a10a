"""One writer per store; a killed writer's lock is recovered by the kernel."""
from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from storage import Store, StoreLockedError, WriterLock, lock_holder
from storage.errors import WriterLockLostError
from storage.lock import LOCK_NAME
from tests.storage.storage_helpers import make_item

ROOT = Path(__file__).resolve().parents[2]

HOLDER = """
import sys, time
sys.path.insert(0, {root!r})
from storage import Store
store = Store.open({path!r})
print("locked", flush=True)
time.sleep(60)
"""


def test_second_writer_is_refused_with_pid_and_readonly_hint(tmp_path):
    with Store.open(tmp_path / "db") as first:
        with pytest.raises(StoreLockedError) as err:
            Store.open(tmp_path / "db")
        msg = str(err.value)
        assert f"already running (pid {os.getpid()}" in msg
        assert "read-only" in msg
        assert err.value.pid == os.getpid()
        # a viewer may open alongside
        with Store.open(tmp_path / "db", readonly=True) as viewer:
            assert viewer.readonly
        assert not first.readonly
    # released on close
    Store.open(tmp_path / "db").close()


def test_lock_holder_reports_live_writer_only(tmp_path):
    assert lock_holder(tmp_path) is None  # no lock file
    lock = WriterLock(tmp_path).acquire()
    holder = lock_holder(tmp_path)
    assert holder is not None and holder["pid"] == os.getpid()
    assert {"started", "hostname"} <= holder.keys()
    lock.release()
    assert lock_holder(tmp_path) is None
    # the probe itself does not block the next writer
    WriterLock(tmp_path).acquire().release()


def test_lock_of_sigkilled_writer_is_recovered(tmp_path):
    db = tmp_path / "db"
    child = subprocess.Popen([sys.executable, "-c", HOLDER.format(root=str(ROOT), path=str(db))],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError) as err:
            Store.open(db)
        assert err.value.pid == child.pid
        assert f"pid {child.pid}" in str(err.value)
        assert lock_holder(db)["pid"] == child.pid
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert lock_holder(db) is None
    with Store.open(db) as store:  # no manual cleanup needed
        assert not store.readonly
        assert lock_holder(db)["pid"] == os.getpid()


FORKER = """
import os, sys, time
sys.path.insert(0, {root!r})
from storage import Store
store = Store.open({path!r})
pid = os.fork()
if pid == 0:  # a forked worker outliving the writer
    os.close(1); os.close(2)  # let the test read the output to the end
    time.sleep(30)
    os._exit(0)
print(pid, flush=True)
os._exit(0)  # the writer dies without closing
"""


def test_forked_child_does_not_keep_a_dead_writers_lock(tmp_path):
    db = tmp_path / "db"
    out = subprocess.run([sys.executable, "-c", FORKER.format(root=str(ROOT), path=str(db))],
                         capture_output=True, text=True, timeout=20)
    worker = int(out.stdout.strip())
    try:
        assert lock_holder(db) is None
        Store.open(db).close()
    finally:
        os.kill(worker, signal.SIGKILL)


# --- the lock is on the folder: deleting or moving files cannot let a second writer in -----

WRITER = """
import sys
sys.path.insert(0, {root!r})
from storage import Store
from storage.errors import StoreError
from tests.storage.storage_helpers import make_item
store = Store.open({path!r})
store.upsert_items([make_item(n) for n in (1, 2, 3)])
store.flush()
print("ready", flush=True)
for line in sys.stdin:  # "star N": star item N and save; every answer is one line
    n = int(line.split()[1])
    try:
        store.mark(f"{{n:016x}}", starred=True)
        store.flush()
        print("saved", flush=True)
    except StoreError as e:
        print(f"{{type(e).__name__}}: {{e}}", flush=True)
store.close()
"""

OPENER = """
import sys
sys.path.insert(0, {root!r})
from storage import Store, StoreLockedError
from tests.storage.storage_helpers import make_item
try:
    store = Store.open({path!r})
except StoreLockedError as e:
    print(f"refused: {{e}}")
    sys.exit(0)
store.upsert_items([make_item(9)])
store.close()
print("opened")
"""


class Writer:
    """A writer process driven line by line: ``star(n)`` returns its one-line answer."""

    def __init__(self, db: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", WRITER.format(root=str(ROOT), path=str(db))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def star(self, n: int) -> str:
        self.proc.stdin.write(f"star {n}\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(20)

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.close()
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


def second_writer(db: Path) -> str:
    out = subprocess.run([sys.executable, "-c", OPENER.format(root=str(ROOT), path=str(db))],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def starred(db: Path) -> list[str]:
    with Store.open(db, readonly=True) as view:
        return [f"{n:016x}" for n in (1, 2, 3, 9) if view.flags(f"{n:016x}").starred]


def test_deleting_writer_lock_does_not_let_a_second_writer_in(tmp_path):
    db = tmp_path / "db"
    with Writer(db) as first:
        assert first.star(1) == "saved"  # acknowledged
        (db / LOCK_NAME).unlink()
        answer = second_writer(db)
        assert answer.startswith("refused: diplowatch is already running"), answer
        assert lock_holder(db) == {}  # a live writer, its record gone with the file
        assert first.star(2) == "saved"  # still the one writer; the record is put back
        assert lock_holder(db)["pid"] == first.proc.pid
    assert starred(db) == [f"{1:016x}", f"{2:016x}"]
    assert second_writer(db) == "opened"  # free once the first has closed


def test_a_writer_whose_folder_was_moved_away_stops_writing(tmp_path):
    db, moved = tmp_path / "db", tmp_path / "moved"
    with Writer(db) as first:
        assert first.star(1) == "saved"
        db.rename(moved)
        assert second_writer(db) == "opened"  # a new store at the old path: allowed
        answer = first.star(2)
        assert answer.startswith(f"WriterLockLostError: stopped writing the store {db}: the "
                                 f"store folder was replaced"), answer
        assert first.star(3).startswith("WriterLockLostError")  # and stays stopped
    assert starred(moved) == [f"{1:016x}"]  # the acknowledged star is where it was saved
    with Store.open(db, readonly=True) as other:  # nothing of the first writer got in
        assert other.get(f"{9:016x}") is not None and other.get(f"{1:016x}") is None
    assert starred(db) == []


def test_a_writer_whose_folder_was_deleted_stops_writing(tmp_path):
    db = tmp_path / "db"
    with Writer(db) as first:
        assert first.star(1) == "saved"
        shutil.rmtree(db)
        answer = first.star(2)
        assert "stopped writing the store" in answer and "deleted or moved away" in answer
        assert not db.exists()  # not re-created by the writer that lost it


def test_a_replaced_writer_lock_stops_the_writer(tmp_path, clock):
    store = Store.open(tmp_path / "db", clock=clock)
    try:
        store.upsert_items([make_item()])
        other = tmp_path / "db" / "other.lock"
        other.write_text("{}")
        os.replace(other, tmp_path / "db" / LOCK_NAME)
        with pytest.raises(WriterLockLostError, match="writer.lock was replaced") as err:
            store.flush()
        assert err.value.path == tmp_path / "db"
        assert store.lost is err.value and store.dirty
        with pytest.raises(WriterLockLostError):
            store.mark(make_item().id, read=True)
    finally:
        store.close()  # releases the lock without writing


def test_an_older_version_holding_only_writer_lock_still_excludes(tmp_path):
    db = tmp_path / "db"
    db.mkdir()
    fd = os.open(db / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(StoreLockedError):
            Store.open(db)
        assert lock_holder(db) == {}
    finally:
        os.close(fd)
    Store.open(db).close()


def test_retention_of_a_writer_that_lost_its_folder_deletes_nothing(tmp_path, clock):
    """Retention deletes whole week files by name: never in a folder that is not its own."""
    db = tmp_path / "db"
    old = Store.open(db, clock=clock)
    try:
        old.upsert_items([make_item(1, first_seen="2024-01-10T10:00:00Z")])
        old.flush()
        db.rename(tmp_path / "moved")
        with Store.open(db, clock=clock) as other:  # the same week's file, another store
            other.upsert_items([make_item(2, first_seen="2024-01-10T10:00:00Z")])
        before = sorted(p.name for p in db.iterdir())
        with pytest.raises(WriterLockLostError, match="the store folder was replaced"):
            old.apply_retention(30)
        assert sorted(p.name for p in db.iterdir()) == before
    finally:
        old.close()
    with Store.open(db, readonly=True, clock=clock) as other:
        assert other.get(f"{2:016x}") is not None

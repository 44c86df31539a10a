"""One writer per store; a killed writer's lock is recovered by the kernel."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from storage import Store, StoreLockedError, WriterLock, lock_holder

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

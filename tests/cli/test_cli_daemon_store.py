"""``diplowatch daemon`` (and ``poll --once``) as real processes when the store is taken from
under them (the lock file deleted, the folder moved), when the disk is full, and `recover`
while a daemon runs."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from feeds.service.control import ControlClient, ControlError
from storage.lock import LOCK_NAME, lock_holder
from storage.query import ItemFilter
from storage.store import Store
from tests.cli.cli_helpers import FaultyDaemon, notify_config, one_error_line, one_line
from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.service.conftest import REPO, SEED, SEED_TITLE, SERVICE_POLLING, Wire, until


@pytest.fixture
def wire(feed_server: FeedServer) -> Wire:
    wire = Wire(feed_server)
    wire.add("Envoys agree on a prisoner exchange")
    return wire


@pytest.fixture
def config(write_config, wire: Wire, tmp_path: Path) -> Path:
    return write_config([("Seed", str(SEED)), ("Wire", wire.url)], polling=SERVICE_POLLING,
                        extra=notify_config(tmp_path / "notified.txt", tmp_path / "db"))


@pytest.fixture
def launch(config: Path, tmp_path: Path) -> Iterator[Callable[..., FaultyDaemon]]:
    """``launch(store)``: a daemon whose writes fail while tmp_path/full exists."""
    started: list[FaultyDaemon] = []

    def start(store: Path) -> FaultyDaemon:
        d = FaultyDaemon(config, store, tmp_path / f"daemon-{len(started)}.log", tmp_path / "full")
        started.append(d)
        return d.start()

    yield start
    for d in started:
        d.kill()


def dw(config: Path, store: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli.main", "--config", str(config), "--db",
                           str(store), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def ids_by_title(store: Path) -> dict[str, str]:
    with Store.open(store, readonly=True) as view:
        return {i.title: i.id for i in view.query(ItemFilter(archive=True))}


def starred(store: Path) -> set[str]:
    with Store.open(store, readonly=True) as view:
        return {i.title for i in view.query(ItemFilter(archive=True, starred=True))}


def test_a_deleted_writer_lock_lets_no_second_daemon_in(launch, config: Path, tmp_path: Path) -> None:
    store = tmp_path / "db"
    first = launch(store)
    first.wait_cycles(1)
    seed = ids_by_title(store)[SEED_TITLE]
    (store / LOCK_NAME).unlink()
    r = dw(config, store, "daemon")
    assert r.returncode == 2 and f"daemon (pid {first.pid}) is already running" in r.stderr
    assert "Traceback" not in r.stderr
    assert first.client.mark([seed], starred=True) == 1  # acknowledged
    assert lock_holder(store)["pid"] == first.pid  # its record is back
    r = dw(config, store, "recover")
    assert r.returncode == 2
    assert one_line(r.stderr).startswith(f"diplowatch: store: diplowatch is already running "
                                         f"(pid {first.pid}")
    assert first.stop(signal.SIGTERM) == 0
    assert starred(store) == {SEED_TITLE}


def test_a_daemon_whose_folder_is_moved_stops_and_says_so(launch, tmp_path: Path) -> None:
    store, moved = tmp_path / "db", tmp_path / "mv"
    first = launch(store)
    first.wait_cycles(1)
    ids = ids_by_title(store)
    assert first.client.mark([ids[SEED_TITLE]], starred=True) == 1
    store.rename(moved)  # its control socket moves along
    second = launch(store)  # a new store at the old path
    second.wait_cycles(1)
    with pytest.raises(ControlError, match=f"not saved: stopped writing the store {store}: "
                                           "the store folder was replaced"):
        ControlClient(moved).mark([ids["Envoys agree on a prisoner exchange"]], starred=True)
    assert first.proc.wait(20) == 2
    log = first.stderr()
    one_error_line(log, f"stopped writing the store {store}")
    assert log.rstrip().splitlines()[-1].startswith("diplowatch: store: stopped writing the store")
    assert starred(moved) == {SEED_TITLE}  # the acknowledged star, where it was saved
    assert starred(store) == set()  # nothing of the first daemon in the second's store
    assert lock_holder(store)["pid"] == second.pid
    assert second.stop() == 0


def test_a_full_disk_keeps_the_cycle_in_memory_and_notifies_after_the_save(
        launch, tmp_path: Path, wire: Wire) -> None:
    store, full, notified = tmp_path / "db", tmp_path / "full", tmp_path / "notified.txt"
    daemon = launch(store)
    daemon.wait_cycles(1)  # the feeds' first documents: their backlog, saved, not news
    before = set(ids_by_title(store))
    full.touch()
    wire.add("Talks set a second prisoner exchange")
    daemon.client.poll_now()
    status = daemon.wait_cycles(2)
    assert "disk full" in status["last_cycle"]["flush_error"]
    one_error_line(daemon.stderr(), "could not save the poll cycle (will retry)")
    assert set(ids_by_title(store)) == before  # nothing new on disk…
    time.sleep(2.0)  # (a notify command started at the parse would have written by now)
    assert not notified.exists()  # …so nobody was told about the watched item
    assert daemon.proc.poll() is None  # it keeps running, with the items in memory
    full.unlink()
    daemon.client.poll_now(force=False)  # the next cycle (no feed due) saves them
    daemon.wait_cycles(3)
    assert set(ids_by_title(store)) == {SEED_TITLE, "Envoys agree on a prisoner exchange",
                                        "Talks set a second prisoner exchange"}
    until(notified.exists, what="the notify command")
    assert daemon.stop() == 0
    [line] = notified.read_text().splitlines()
    assert line.endswith(" saved")  # it ran once its item was on disk


def test_poll_once_whose_folder_is_moved_mid_poll_exits_2(config: Path, feed_server: FeedServer,
                                                           tmp_path: Path) -> None:
    store, moved, gate = tmp_path / "db", tmp_path / "mv", threading.Event()

    def held(request) -> Response:  # answers once the folder has moved
        gate.wait(30)
        return Response(body=rss([rss_item("Late news", guid="late")]))

    feed_server.route("/slow.xml", held)
    slow = f'\n[[feeds]]\nname = "Slow"\nurl = "{feed_server.url("/slow.xml")}"\n'
    config.write_text(config.read_text() + slow)
    poll = subprocess.Popen([sys.executable, "-m", "tui.cli.main", "--config", str(config), "--db",
                             str(store), "poll", "--once"], cwd=REPO, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        until(lambda: feed_server.requests("/slow.xml"), what="the poll to ask the slow feed")
        store.rename(moved)
    finally:
        gate.set()
    out, err = poll.communicate(timeout=60)
    assert poll.returncode == 2, err
    assert one_line(err).startswith(f"diplowatch: store: stopped writing the store {store}: the "
                                    f"store folder was deleted or moved away")
    assert not store.exists()  # nothing written at the old path
    assert ids_by_title(moved) == {}  # nor in the moved folder: the poll saved nothing

"""The store refuses a write (disk full, read-only) or is not there: every command says so in
one line naming the store and the problem, exits 2, and never leaves a traceback.

Faults are injected in a real ``diplowatch`` process at the atomic layer (the store's one
write path), so they work as root, where ``chmod`` stops nothing; the tests with a real full
or read-only filesystem are in test_cli_real_fs.py.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from storage.query import ItemFilter
from storage.store import Store
from tests.cli.cli_helpers import FAULTY, notify_config, one_line
from tests.feedserver import FeedServer, Response, rss, rss_item
from tui.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "seed-feed.xml"


@pytest.fixture
def setup(tmp_path: Path, feed_server: FeedServer, write_config):
    """A config (Seed, a local file; Wire, loopback; a watch term with a notify command), a
    store path, the fault flag, ``run(*args, fault=None)`` and the notify record."""
    feed_server.route("/wire.xml", Response(body=rss([
        rss_item("Envoys agree on a prisoner exchange", guid="w1", pub="Tue, 05 Apr 2022 10:00:00 GMT")])))
    notified, store, flag = tmp_path / "notified.txt", tmp_path / "store", tmp_path / "disk-is-full"
    config = write_config([("Seed", str(SEED)), ("Wire", feed_server.url("/wire.xml"))],
                          extra=notify_config(notified, store))

    def run(*args: str, fault: str | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "DW_FAULT_FLAG": str(flag), "DW_FAULT": fault or "ENOSPC"}
        if fault:
            flag.touch()
        else:
            flag.unlink(missing_ok=True)
        return subprocess.run([sys.executable, "-c", FAULTY, "--config", str(config), "--db",
                               str(store), *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)

    run.store, run.notified, run.config = store, notified, config  # type: ignore[attr-defined]
    return run


def files(store: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in store.iterdir() if p.suffix == ".json"}


def item_ids(store: Path) -> list[str]:
    with Store.open(store, readonly=True) as view:
        return sorted(i.id for i in view.query(ItemFilter(archive=True)))


def test_poll_once_on_a_full_disk_exits_2_and_notifies_nothing(setup, feed_server: FeedServer) -> None:
    feed_server.route("/wire.xml", Response(body=rss([])))
    assert setup("poll", "--once").returncode == 0  # the feeds' first documents: backlog
    feed_server.route("/wire.xml", Response(body=rss([
        rss_item("Envoys agree on a prisoner exchange", guid="w1", pub="Tue, 05 Apr 2022 10:00:00 GMT")])))
    before = files(setup.store)
    r = setup("poll", "--once", "--all", fault="ENOSPC")
    assert r.returncode == 2, r.stderr
    line = one_line(r.stderr)
    assert line.startswith(f"diplowatch: store {setup.store}: could not save this poll: disk full")
    assert "poll again once fixed" in line and "kept in memory" not in line  # no false promise
    assert "polled 2 feeds: 1 new item" in r.stdout and "watch" not in r.stdout
    assert not setup.notified.exists()  # the hit's item was not saved: nobody is told
    assert files(setup.store) == before  # nothing half-written, no temp file left
    assert not [p for p in os.listdir(setup.store) if p.endswith(".dwtmp")]
    # With room again, the same poll saves everything and notifies once.
    r = setup("poll", "--once", "--all")
    assert r.returncode == 0, r.stderr
    assert "1 new item" in r.stdout and "watch         prisoner exchange" in r.stdout
    assert len(item_ids(setup.store)) == 2
    [line] = setup.notified.read_text().splitlines()
    assert line.endswith(" saved")  # it ran once its item was on disk


def test_mark_on_a_read_only_store_exits_2_and_marks_nothing(setup) -> None:
    assert setup("poll", "--once").returncode == 0
    seed = item_ids(setup.store)[0]
    before = files(setup.store)
    r = setup("mark", seed, "--star", fault="EROFS")
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert line.startswith(f"diplowatch: store {setup.store}: could not save the marks: "
                           f"read-only file system (writing state.json)")
    assert line.endswith("nothing was marked.")
    assert files(setup.store) == before
    assert setup("mark", seed, "--star").returncode == 0  # and it works once writable


def test_rules_apply_on_a_full_disk_exits_2(setup) -> None:
    assert setup("poll", "--once").returncode == 0
    before = files(setup.store)
    r = setup("rules", "apply", fault="ENOSPC")
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert line.startswith(f"diplowatch: store {setup.store}: could not save the "
                           f"re-classification: disk full")
    assert line.endswith("run `diplowatch rules apply` again once fixed.")
    assert files(setup.store) == before


def test_recover_on_a_full_disk_exits_2_and_keeps_the_damaged_file(setup) -> None:
    assert setup("poll", "--once").returncode == 0
    state = setup.store / "state.json"
    state.write_bytes(state.read_bytes()[:40])  # truncated: recover has something to rewrite
    damaged = state.read_bytes()
    r = setup("recover", fault="ENOSPC")
    assert r.returncode == 2
    assert one_line(r.stderr).startswith(f"diplowatch: store {setup.store}: could not recover: "
                                         f"disk full (writing state.json)")
    assert state.read_bytes() == damaged  # never replaced by a half-written file
    r = setup("recover")
    assert r.returncode == 0 and "1 recovered" in r.stdout


# --- a store that is not there, or not a folder ------------------------------------------

READERS = [("list",), ("show", "0000000000000001"), ("export",), ("trends",), ("brief",),
           ("clusters", "list"), ("clusters", "show", "x"), ("feeds", "list")]
WRITERS = [("mark", "0000000000000001", "--read"), ("rules", "apply"), ("clusters", "rebuild"),
           ("recover",)]


@pytest.mark.parametrize("args", READERS + WRITERS, ids=" ".join)
def test_a_mistyped_store_path_is_reported_not_created(tmp_path: Path, write_config, args) -> None:
    config = write_config([("Seed", str(SEED))])
    missing = tmp_path / "no" / "such-store"
    r = CliRunner().invoke(cli, ["--config", str(config), "--db", str(missing), *args])
    assert r.exit_code == 2, r.output
    assert f"no store at {missing}" in r.output and "Traceback" not in r.output
    assert not missing.exists() and not missing.parent.exists()


@pytest.mark.parametrize("args", READERS + WRITERS + [("poll", "--once"), ("daemon",)], ids=" ".join)
def test_a_file_given_as_the_store_gets_a_clear_message(tmp_path: Path, write_config, args) -> None:
    config = write_config([("Seed", str(SEED))])
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    r = subprocess.run([sys.executable, "-m", "tui.cli.main", "--config", str(config), "--db",
                        str(notes), *args], cwd=REPO, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 2, r.stderr
    assert f"{notes} is a file, not a store folder" in r.stderr and "Traceback" not in r.stderr
    assert notes.read_text() == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "notes.txt"]


def test_poll_once_still_creates_a_new_store(tmp_path: Path, write_config) -> None:
    config = write_config([("Seed", str(SEED))])
    store = tmp_path / "new" / "store"
    r = CliRunner().invoke(cli, ["--config", str(config), "--db", str(store), "poll", "--once"])
    assert r.exit_code == 0, r.output
    assert (store / "state.json").is_file()

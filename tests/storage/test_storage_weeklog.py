"""The current week's append log and the lean open of a one-shot poll: a save writes what
changed, a kill between an append and the fold loses nothing, a torn line is dropped."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from feeds.model import FeedState
from storage import CorruptStoreError, ItemFilter, Store
from storage.recover import recover
from storage import codec
from storage.weeklog import read_log
from tests.storage.storage_helpers import count_decodings, make_item

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
WEEK = "2024-W19"  # the clock's week
PART, LOG = f"items-{WEEK}.json", f"items-{WEEK}.log"
SEEN = "2024-05-10T10:00:00Z"


def _files(path: Path) -> dict[str, tuple[int, int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_ino, p.read_bytes())
            for p in path.iterdir() if not p.name.endswith(".lock")}


def _ids(store: Store) -> set[str]:
    return {i.id for i in store.query(ItemFilter(archive=True))}


@pytest.fixture
def week(tmp_path, clock):
    """A store whose current week has a file of 40 items (and its id index)."""
    items = [make_item(first_seen=SEEN) for _ in range(40)]
    with Store.open(tmp_path / "db", clock=clock) as s:
        s.upsert_items(items)
    return tmp_path / "db", items


def test_a_poll_that_stores_nothing_writes_only_the_feed_states(week, clock):
    path, items = week
    before = _files(path)
    with Store.open(path, clock=clock, lean=True) as s:
        assert s.known(items[0].id) and not s.known("00000000ffffffff")
        assert s.upsert_items([items[1]]) == []  # seen again, unchanged: nothing to save
        s.put_feed_state(FeedState(key="k", url="https://k"))
    changed = {n for n, f in _files(path).items() if before.get(n) != f}
    assert changed == {"state.json", "state.json.bak"}


def test_a_lean_open_decodes_only_the_items_a_poll_sees_again(week, clock, monkeypatch):
    path, items = week
    decoded = count_decodings(monkeypatch, codec)
    new = make_item(first_seen=SEEN)
    edited = replace(items[2], title="Talks moved to Doha")
    with Store.open(path, clock=clock, lean=True) as s:
        assert s.upsert_items([new, edited, items[3]]) == [new]
        s.flush()
        assert decoded == []  # no week decoded whole: the two stored items alone
        # Anything reading items gets the window a full open has (unsaved changes included).
        assert s.get(items[2].id).title == "Talks moved to Doha"
        assert len(s.recent()) == 41
    assert (path / LOG).exists()
    with Store.open(path, clock=clock, readonly=True) as s:
        assert s.get(items[2].id).title == "Talks moved to Doha"
        assert _ids(s) == {i.id for i in items} | {new.id}
        assert s.counts_by_label()["talks"] == 41


def test_the_log_is_folded_into_the_week_once_it_outgrows_half_of_it(week, clock, monkeypatch):
    import storage.weeklog as weeklog

    path, items = week
    monkeypatch.setattr(weeklog, "LOG_MIN_FOLD", 0)
    size = (path / PART).stat().st_size
    with Store.open(path, clock=clock, lean=True) as s:
        s.upsert_items([make_item(first_seen=SEEN)])
        s.flush()
        assert (path / LOG).exists() and (path / PART).stat().st_size == size
        s.upsert_items([make_item(first_seen=SEEN) for _ in range(30)])
        s.flush()
        assert not (path / LOG).exists() and (path / PART).stat().st_size > size
    with Store.open(path, clock=clock, lean=True) as s:
        assert len(s.recent()) == 71


def test_a_past_week_log_is_folded_by_the_next_save(week, clock):
    path, items = week
    with Store.open(path, clock=clock) as s:
        s.upsert_items([make_item(first_seen=SEEN)])
    assert (path / LOG).exists()
    clock.t += 7 * 86400
    with Store.open(path, clock=clock, lean=True) as s:
        s.put_feed_state(FeedState(key="k", url="https://k"))
    assert not (path / LOG).exists()
    with Store.open(path, clock=clock, readonly=True, recent_days=1) as s:
        assert len(_ids(s)) == 41  # an archive now, read from its file



def test_a_writer_keeps_no_documents_of_a_saved_week_and_loses_no_change(week, clock,
                                                                          monkeypatch):
    """A resident writer (daemon, dashboard) drops the current week's documents once they are
    saved: later changes are appended without them, a fold reads the file again."""
    import storage.weeks as weeks

    path, items = week
    new, edited = make_item(first_seen=SEEN), replace(items[5], title="Talks moved to Doha")
    with Store.open(path, clock=clock) as s:
        p = s._weeks.parts[WEEK]
        s.upsert_items([new, edited])
        s.flush()
        assert p.db is None and (path / LOG).exists()
        again = replace(items[6], title="Sanctions on oil lifted")
        s.upsert_items([again, make_item(first_seen=SEEN)])
        assert p.db is None  # (an append needs no document of the week)
        s.flush()
        assert p.db is None and s.get(again.id).title == "Sanctions on oil lifted"
        monkeypatch.setattr(weeks, "may_append", lambda *a: False)
        s.upsert_items([replace(items[7], title="Envoys meet in Oman")])
        s.flush()  # a fold: the whole week from its file, its log and the change
        assert p.db is None and not (path / LOG).exists()
    with Store.open(path, clock=clock, readonly=True) as s:
        assert len(_ids(s)) == 42
        assert [s.get(i.id).title for i in (edited, again, items[7])] == \
               ["Talks moved to Doha", "Sanctions on oil lifted", "Envoys meet in Oman"]


def test_a_weeks_first_save_is_the_file_tinydb_would_write_and_keeps_later_changes(
        tmp_path, clock, monkeypatch):
    """A new week's file is encoded one document at a time from the stored items; an item
    stored while that file is written stays unsaved, for the next save."""
    import orjson

    import storage.weeks as weeks
    from storage.partition import doc_id

    items = [make_item(first_seen=SEEN) for _ in range(30)]
    late = make_item(first_seen=SEEN)
    with Store.open(tmp_path / "db", clock=clock) as s:
        s.upsert_items(items)
        write = weeks.atomic_write

        def write_meanwhile(path, payload, **kw):
            s.upsert_items([late])  # (another thread's poll, between snapshot and commit)
            return write(path, payload, **kw)

        monkeypatch.setattr(weeks, "atomic_write", write_meanwhile)
        s.flush()
        monkeypatch.setattr(weeks, "atomic_write", write)
        raw = (tmp_path / "db" / PART).read_bytes()
        assert raw == orjson.dumps({"items": {str(doc_id(i.id)): i.to_dict() for i in items}})
        assert s.dirty and s._weeks.parts[WEEK].unsaved.keys() == {str(doc_id(late.id))}
    with Store.open(tmp_path / "db", clock=clock, readonly=True) as s:
        assert _ids(s) == {i.id for i in items} | {late.id}
        assert s.get(items[3].id) == items[3]

KILL = """
import os, sys
from storage import Store
from tests.storage.storage_helpers import Clock, make_item
path, mode = sys.argv[1], sys.argv[2]
s = Store.open(path, clock=Clock(), lean=mode == "append")
s.upsert_items([make_item(0x7000 + i, first_seen="2024-05-10T10:00:00Z") for i in range(5)])
if mode == "append":
    s.flush()  # appended to the log, fsynced
    os._exit(3)  # killed before the fold (and before close)
import storage.weeks as weeks
weeks.may_append = lambda *a: False  # the next save is a fold: killed between file and log
def killed(p):
    os._exit(3)
weeks.remove_log = killed
s.flush()
"""


@pytest.mark.parametrize("mode", ["append", "fold"])
def test_appended_items_survive_a_kill_between_append_and_fold(week, clock, mode):
    path, items = week
    if mode == "fold":  # a log to fold first
        with Store.open(path, clock=clock) as s:
            s.upsert_items([make_item(0x6000, first_seen=SEEN)])
    proc = subprocess.run([sys.executable, "-c", KILL, str(path), mode], env=ENV, cwd=ROOT)
    assert proc.returncode == 3
    assert (path / LOG).exists()
    expected = {i.id for i in items} | {f"{0x7000 + i:016x}" for i in range(5)}
    if mode == "fold":
        expected.add(f"{0x6000:016x}")
    for lean in (True, False):
        with Store.open(path, clock=clock, lean=lean) as s:
            assert _ids(s) == expected
            assert s.counts_by_label()["talks"] == len(expected)


def test_a_torn_log_line_is_dropped_and_the_store_loads(week, clock):
    path, items = week
    with Store.open(path, clock=clock) as s:
        s.upsert_items([make_item(0x8000, first_seen=SEEN)])
    with open(path / LOG, "ab") as fh:  # a kill in the middle of the next append
        fh.write(b'{"id":"0000000000008003","feed":"x"}\n{"id":"0000000000008001","feed":"https://exa')
    for lean in (True, False):
        with Store.open(path, clock=clock, lean=lean) as s:
            assert _ids(s) == {i.id for i in items} | {f"{0x8000:016x}"}
    # The next append cuts the torn line off first: it never ends up in the middle.
    with Store.open(path, clock=clock, lean=True) as s:
        s.upsert_items([make_item(0x8002, first_seen=SEEN)])
    raw = (path / LOG).read_bytes()
    assert b"8001" not in raw and b"8003" not in raw and len(read_log(path / LOG)) == 2
    with Store.open(path, clock=clock) as s:
        assert {f"{0x8000:016x}", f"{0x8002:016x}"} <= _ids(s)


def test_a_damaged_log_line_is_refused_and_recover_keeps_the_good_lines(week, clock):
    path, items = week
    with Store.open(path, clock=clock) as s:
        s.upsert_items([make_item(0x9000, first_seen=SEEN)])
        s.flush()
        s.upsert_items([make_item(0x9001, first_seen=SEEN)])
    lines = (path / LOG).read_bytes().splitlines(keepends=True)
    (path / LOG).write_bytes(b"\x00garbage\n" + b"".join(lines))
    with pytest.raises(CorruptStoreError):
        Store.open(path, clock=clock)
    recover(path, clock=clock)
    assert not (path / LOG).exists()
    with Store.open(path, clock=clock) as s:
        assert _ids(s) == {i.id for i in items} | {f"{0x9000:016x}", f"{0x9001:016x}"}

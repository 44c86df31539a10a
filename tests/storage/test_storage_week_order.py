"""The current week's order index (items-YYYY-Www.order): the writers that stay (the
dashboard, the daemon) keep it for the file they write whole; the dashboard's first frame
reads its pages through it without finding and sorting every document; a missing, stale or
damaged index is only the slower path, never a different page."""
from __future__ import annotations

import os
from dataclasses import replace

import pytest

import storage.window as window
from storage import ItemFilter, Store
from storage.recover import recover
from storage import weekorder
from storage.partition import stat_key
from tests.storage.storage_helpers import DAY, count_decodings, make_item

WEEK = "2024-W19"  # the clock's week
LABELS = [("talks",), ("sanctions",), ("talks", "sanctions"), (), ("statements",)]
FILTERS = [ItemFilter(label=label, limit=4) for label in ("talks", "sanctions", "statements",
                                                          "none")]


def _items(count: int, base: int = 0x500) -> list:
    return [make_item(base + n * 7 % count, published=f"2024-05-{6 + n % 4:02d}T0{n % 3}:00:00Z",
                      first_seen=f"2024-05-10T1{n // 12 % 2}:00:00Z",
                      labels=LABELS[n % len(LABELS)]) for n in range(count)]


def _pages(path, clock, filters=FILTERS) -> list[list[str]]:
    with Store.open(path, clock=clock, defer_older=True, lean=True, readonly=True) as s:
        pages = s.first_pages(filters)
    assert pages is not None
    return [[item.id for item in page] for page in pages]


def _queried(path, clock, filters=FILTERS) -> list[list[str]]:
    with Store.open(path, clock=clock, readonly=True) as s:
        return [[i.id for i in s.query(replace(f, archive=False))] for f in filters]


def _no_sorting(monkeypatch) -> None:
    monkeypatch.setattr(window, "sorted_rows", lambda raw: pytest.fail("sorted the week"))


@pytest.fixture
def db(tmp_path, clock):
    """A store written by the dashboard: this week's file, and its order index written at
    the close (not in a flush, which runs beside the UI)."""
    path = tmp_path / "db"
    with Store.open(path, clock=clock, defer_older=True, lean=True) as s:
        s.upsert_items(_items(30))
        s.flush()
        assert (path / f"items-{WEEK}.json").exists()
        assert not (path / f"items-{WEEK}.order").exists()
    assert (path / f"items-{WEEK}.order").exists()
    return path


def test_the_first_frame_reads_its_pages_through_the_index(db, clock, monkeypatch):
    _no_sorting(monkeypatch)
    decoded = count_decodings(monkeypatch, window)
    pages = _pages(db, clock)
    assert pages == _queried(db, clock) and all(pages)
    assert decoded == [len({i for page in pages for i in page})]  # only what the pages show


def test_the_append_log_merges_with_the_indexed_file(db, clock, monkeypatch):
    items = _items(30)
    moved = replace(items[0], labels=("statements",), primary="statements",
                    published="2024-05-10T11:00:00Z")
    new = make_item(0x600, published="2024-05-10T11:30:00Z", first_seen="2024-05-10T11:30:00Z",
                    labels=("talks",))
    with Store.open(db, clock=clock, defer_older=True, lean=True) as s:
        s.upsert_items([moved, new])
        s.flush()  # appended to the week's log: the file and its index stay as they are
    assert (db / f"items-{WEEK}.log").exists()
    _no_sorting(monkeypatch)
    pages = _pages(db, clock)
    assert pages == _queried(db, clock)
    assert pages[0][0] == new.id and pages[2][0] == moved.id and moved.id not in pages[0]


def test_an_index_of_another_version_of_the_file_is_not_used(db, clock, monkeypatch):
    # The file replaced by another writer that did not index it (same documents, a new
    # file): the index names the old one.
    part = db / f"items-{WEEK}.json"
    (db / "new.json").write_bytes(part.read_bytes())
    os.replace(db / "new.json", part)
    sorted_calls = []
    real = window.sorted_rows
    monkeypatch.setattr(window, "sorted_rows", lambda raw: (sorted_calls.append(1), real(raw))[1])
    assert _pages(db, clock) == _queried(db, clock) and sorted_calls == [1]


@pytest.mark.parametrize("damage", ["body", "truncated", "empty", "not an index"])
def test_a_damaged_index_is_only_the_slower_path(db, clock, damage):
    index = db / f"items-{WEEK}.order"
    raw = bytearray(index.read_bytes())
    if damage == "body":
        raw[-3] ^= 0xFF  # the CRC no longer matches
    elif damage == "truncated":
        raw = raw[:len(raw) // 2]
    elif damage == "empty":
        raw = bytearray()
    else:
        raw = bytearray(b'{"items":{}}')
    index.write_bytes(bytes(raw))
    assert weekorder.load(db / f"items-{WEEK}.json", [0, 0, 0]) is None
    assert _pages(db, clock) == _queried(db, clock)


def test_a_one_shot_poll_keeps_no_index(tmp_path, clock):
    path = tmp_path / "db"
    with Store.open(path, clock=clock, lean=True) as s:  # `poll --once`: its cold run would pay
        s.upsert_items(_items(12))
    assert (path / f"items-{WEEK}.json").exists()
    assert not (path / f"items-{WEEK}.order").exists()


def test_the_daemon_keeps_it_at_its_flushes_and_it_follows_the_weeks(db, clock):
    clock.t += 7 * DAY  # a new week: the ended week's index goes, the new week gets one
    with Store.open(db, clock=clock) as s:
        s.upsert_items([make_item(0x800, published="2024-05-17T09:00:00Z",
                                  first_seen="2024-05-17T09:00:00Z", labels=("talks",))])
        s.flush()
        assert not (db / f"items-{WEEK}.order").exists()
        assert (db / "items-2024-W20.order").exists()


def test_recover_builds_the_current_weeks_index(db, clock):
    (db / f"items-{WEEK}.order").unlink()
    recover(db, clock=clock)
    assert weekorder.is_current(db / f"items-{WEEK}.json", stat_key((db / f"items-{WEEK}.json").stat()))


def test_a_first_save_is_indexed_as_it_is_written_without_reading_it_back(tmp_path, clock,
                                                                            monkeypatch):
    """(the daemon's cold cycle: the week's file is encoded as it is written; reading 10k
    items back to sort them would cost it ~15 MiB at its peak)"""
    path = tmp_path / "db"
    with monkeypatch.context() as m:
        m.setattr(weekorder, "sorted_rows", lambda raw: pytest.fail("sorted the file's bytes"))
        with Store.open(path, clock=clock) as s:
            s.upsert_items(_items(30))
            s.flush()
            part = path / f"items-{WEEK}.json"
            index = (path / f"items-{WEEK}.order").read_bytes()
    assert index == weekorder.build(part.read_bytes(), stat_key(part.stat()))
    assert _pages(path, clock) == _queried(path, clock)

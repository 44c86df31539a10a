"""The dashboard's first frame from a lean open: each pane's page read from the current week's
file (and its append log) without bringing the week into memory is the page a query of the
window answers, and only the documents on a page are decoded."""
from __future__ import annotations

import os
from dataclasses import replace

import orjson
import pytest

import storage.window as window
from storage import CorruptStoreError, ItemFilter, Store
from tests.storage.storage_helpers import DAY, NOW, count_decodings, make_item

WEEK = "2024-W19"  # the clock's week
PART = f"items-{WEEK}.json"
LABELS = [("talks",), ("sanctions",), ("talks", "sanctions"), (), ("statements",)]


def _filters(limit: int | None) -> list[ItemFilter]:
    return [*(ItemFilter(label=label, limit=limit)
              for label in ("talks", "sanctions", "statements", "none")),
            ItemFilter(text="geneva", limit=limit), ItemFilter(starred=True, limit=limit)]


def _pages(store: Store, filters: list[ItemFilter]) -> list[list[str]]:
    pages = store.first_pages(filters)
    assert pages is not None
    return [[item.id for item in page] for page in pages]


def _queried(path, clock, filters: list[ItemFilter]) -> list[list[str]]:
    """What the window answers, opened as the dashboard did before it opened lean."""
    with Store.open(path, clock=clock, defer_older=True, readonly=True) as s:
        return [[i.id for i in s.query(replace(f, archive=False))] for f in filters]


@pytest.fixture
def week(tmp_path, clock):
    """This week's 30 items (several labels, one starred; ids not in the order stored), and
    one of last week's."""
    items = []
    for n in range(30):
        # Every 12th shares a published time, every 24th its first-seen time too.
        published = f"2024-05-{6 + n % 4:02d}T0{n % 3}:00:00Z"
        first_seen = f"2024-05-10T1{n // 12 % 2}:00:00Z"
        items.append(make_item(0x500 + n * 7 % 30, published=published, first_seen=first_seen,
                               labels=LABELS[n % len(LABELS)],
                               summary="Envoys met in Geneva." if n % 2 else "No venue."))
    last_week = make_item(0x400, published="2024-05-03T10:00:00Z",
                          first_seen="2024-05-03T10:00:00Z")
    with Store.open(tmp_path / "db", clock=clock) as s:
        s.upsert_items([*items, last_week])
        s.mark(items[7].id, starred=True)
    return tmp_path / "db", items


@pytest.mark.parametrize("limit", [1, 4, None])
def test_the_first_pages_are_the_pages_the_window_answers(week, clock, limit, monkeypatch):
    path, _ = week
    filters = _filters(limit)
    with Store.open(path, clock=clock, defer_older=True, lean=True) as s:
        with monkeypatch.context() as m:  # found in the raw bytes: the file is not decoded whole
            m.setattr(window, "decode_tables", lambda *a: pytest.fail("decoded whole"))
            pages = _pages(s, filters)
    assert pages == _queried(path, clock, filters)
    assert all(_queried(path, clock, filters))  # not vacuous: every page has rows


def test_only_the_documents_shown_are_decoded(week, clock, monkeypatch):
    path, _ = week
    decoded = count_decodings(monkeypatch, window)
    with Store.open(path, clock=clock, defer_older=True, lean=True) as s:
        pages = s.first_pages([ItemFilter(label="talks", limit=2),
                               ItemFilter(label="sanctions", limit=2)])
        assert [len(p) for p in pages] == [2, 2]
        assert decoded == [len({i.id for p in pages for i in p})]  # an item on two pages: once
        assert s.first_pages(_filters(3)) is not None  # still lean: nothing was brought in
        s.recent()  # anything reading items brings the window in: query answers from now on
        assert s.first_pages(_filters(3)) is None


def test_the_append_log_wins_over_the_file(week, clock):
    path, items = week
    moved = replace(items[0], labels=("statements",), primary="statements",
                    published="2024-05-10T11:00:00Z")
    new = make_item(0x600, published="2024-05-10T11:30:00Z", first_seen="2024-05-10T11:30:00Z",
                    labels=())
    with Store.open(path, clock=clock, lean=True) as s:
        s.upsert_items([moved, new])
        s.flush()  # appended to the week's log
    assert (path / f"items-{WEEK}.log").exists()
    filters = _filters(None)
    with Store.open(path, clock=clock, defer_older=True, lean=True) as s:
        pages = _pages(s, filters)
    assert pages == _queried(path, clock, filters)
    assert pages[2][0] == moved.id and moved.id not in pages[0] and pages[3][0] == new.id


def test_a_file_in_another_layout_is_decoded_whole(week, clock):
    path, _ = week
    docs = orjson.loads((path / PART).read_bytes())
    (path / PART).write_bytes(orjson.dumps(docs, option=orjson.OPT_INDENT_2))
    filters = _filters(3)
    with Store.open(path, clock=clock, defer_older=True, lean=True) as s:
        assert _pages(s, filters) == _queried(path, clock, filters)


def test_a_document_whose_fields_are_in_another_order_is_found_too(week, clock):
    path, items = week
    docs = orjson.loads((path / PART).read_bytes())
    key, doc = next(iter(docs["items"].items()))
    published = doc.pop("published")
    docs["items"][key] = {**doc, "published": published}  # after first_seen, not before
    (path / PART).write_bytes(orjson.dumps(docs))
    filters = _filters(None)
    with Store.open(path, clock=clock, defer_older=True, lean=True) as s:
        pages = _pages(s, filters)
    assert pages == _queried(path, clock, filters) and doc["id"] in pages[0] + pages[1] + pages[3]


def test_a_week_not_stored_yet_has_empty_pages(tmp_path, clock):
    clock.t = NOW + 7 * DAY  # next week: no file yet
    with Store.open(tmp_path / "db", clock=clock, defer_older=True, lean=True) as s:
        assert s.first_pages(_filters(3)) == [[]] * 6


def test_a_document_on_a_page_that_is_not_an_item_is_reported(week, clock):
    path, items = week
    file = path / PART
    raw, st = file.read_bytes(), file.stat()
    newest = max(items, key=lambda i: (i.published, i.first_seen, i.id))
    start = raw.index(b'"labels":', raw.index(f'"id":"{newest.id}"'.encode())) + 9
    end = raw.index(b"]", start) + 1
    # Its labels a number, written in place with the file's size and time: the manifest
    # still matches, so the open does not look at the documents.
    with open(file, "r+b") as fh:
        fh.seek(start)
        fh.write(b"7" * (end - start))
    os.utime(file, ns=(st.st_atime_ns, st.st_mtime_ns))
    with Store.open(path, clock=clock, defer_older=True, lean=True) as s:
        with pytest.raises(CorruptStoreError, match="not a valid item"):
            s.first_pages(_filters(3))


def test_a_big_week_is_decoded_one_document_at_a_time_to_the_same_tables(week, monkeypatch):
    """(A worker reading the current week must not hold the GIL for the whole file.)"""
    import storage.atomic as atomic

    path, _ = week
    raw = (path / PART).read_bytes()
    calls: list[int] = []
    real = orjson.loads
    monkeypatch.setattr(atomic, "BY_DOCUMENT", 0)
    monkeypatch.setattr(atomic.orjson, "loads", lambda b: (calls.append(len(b)), real(b))[1])
    assert atomic.decode_tables(raw, path / PART) == real(raw)
    assert len(calls) == 30 and max(calls) < len(raw) // 10  # every document alone
    calls.clear()
    indented = orjson.dumps(real(raw), option=orjson.OPT_INDENT_2)
    assert atomic.decode_tables(indented, path / PART) == real(raw) and len(calls) == 1

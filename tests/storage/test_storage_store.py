"""Store: upsert semantics, flags, feed state, meta, queries, counts, viewers, threads."""
from __future__ import annotations

import errno
import os
import random
import stat
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

import storage.atomic as atomic
from feeds.model import FeedState, Match
from storage import (CorruptStoreError, Flags, ItemFilter, ReadOnlyStoreError, Store,
                     StoreWriteError, matches)
from storage.query import SORT_KEY
from storage.weeklog import read_log
from tests.storage.storage_helpers import DAY, NOW, make_item


@pytest.fixture
def store(tmp_path, clock):
    s = Store.open(tmp_path / "db", clock=clock)
    yield s
    s.close()


def reopen(store, clock=None, **kw):
    store.close()
    return Store.open(store.path, clock=clock or store._clock, **kw)


# --- upsert -----------------------------------------------------------------------------

def test_new_and_existing_items(store):
    a, b = make_item(), make_item()
    assert store.upsert_items([a, b]) == [a, b]
    assert store.upsert_items([a, b]) == []  # nothing new
    c = make_item()
    assert [i.id for i in store.upsert_items([a, c])] == [c.id]
    assert len(store.recent()) == 3
    assert store.known(a.id) and store.get(a.id) == a


def test_reupsert_never_duplicates_even_within_a_batch_and_after_reopen(store):
    a = make_item()
    assert len(store.upsert_items([a, a, replace(a, title="again")])) == 1
    store.flush()
    store = reopen(store)
    try:
        assert store.upsert_items([a]) == []
        assert len(store.recent()) == 1
        doc = orjson.loads((store.path / "items-2024-W19.json").read_bytes())
        assert len(doc["items"]) == 1
    finally:
        store.close()


def test_existing_item_keeps_history_and_takes_new_content(store):
    a = make_item(actors=("UN",), cluster="c1", source="Old name")
    store.upsert_items([a])
    store.mark(a.id, starred=True)
    later = replace(a, first_seen="2024-05-10T11:30:00Z", source="New name", title="Updated",
                    summary="New summary", link="https://example.org/new",
                    published="2024-05-10T09:00:00Z", labels=("sanctions",),
                    primary="sanctions", scores={"sanctions": 2.0}, actors=(), cluster=None,
                    evidence=(Match("sanctions", "sanction*", "sanctions", "title", 0, 9, 2.0),))
    assert store.upsert_items([later]) == []
    got = store.get(a.id)
    assert (got.first_seen, got.source, got.actors, got.cluster) == (
        a.first_seen, "Old name", ("UN",), "c1")
    assert (got.title, got.summary, got.link, got.published, got.labels, got.primary) == (
        "Updated", "New summary", "https://example.org/new", "2024-05-10T09:00:00Z",
        ("sanctions",), "sanctions")
    assert store.flags(a.id) == Flags(read=False, starred=True)
    assert store.counts_by_label()["sanctions"] == 1 and store.counts_by_label()["talks"] == 0
    # incoming actors/cluster do replace
    store.upsert_items([replace(later, actors=("EU",), cluster="c2")])
    assert store.get(a.id).actors == ("EU",) and store.get(a.id).cluster == "c2"


def test_dateless_item_keeps_its_stored_date(store):
    a = make_item(date_missing=True, published="2024-05-10T10:00:00Z")
    store.upsert_items([a])
    store.upsert_items([replace(a, published="2024-05-10T11:00:00Z")])  # fetch time moved
    assert store.get(a.id).published == "2024-05-10T10:00:00Z"


def test_unchanged_reupsert_does_not_dirty(store):
    a = make_item()
    store.upsert_items([a])
    store.flush()
    store.upsert_items([a])
    assert not store.dirty


def test_upsert_validates_before_changing_anything(store):
    store.flush()  # a new store is dirty until its state.json exists
    good = make_item()
    with pytest.raises(ValueError, match="16 lowercase hex"):
        store.upsert_items([good, replace(make_item(), id="ABC")])
    with pytest.raises(ValueError, match="first_seen"):
        store.upsert_items([replace(make_item(), first_seen="yesterday")])
    with pytest.raises(ValueError, match="cannot be stored as JSON"):
        store.upsert_items([replace(make_item(), scores={"talks": object()})])
    assert store.recent() == [] and not store.dirty


def test_upsert_does_no_disk_io(store):
    store.flush()
    before = sorted(os.listdir(store.path))
    store.upsert_items([make_item() for _ in range(10)])
    assert sorted(os.listdir(store.path)) == before
    assert store.dirty


def test_stored_item_is_a_copy(store):
    a = make_item()
    store.upsert_items([a])
    a.title = "mutated by the caller"
    a.scores["talks"] = 99
    assert store.get(a.id).title != "mutated by the caller"
    assert store.get(a.id).scores["talks"] == 1.0


# --- flags, feed state, meta ---------------------------------------------------------------

def test_flags_persist_and_only_flagged_items_are_stored(store):
    a, b = make_item(), make_item()
    store.upsert_items([a, b])
    assert store.flags(a.id) == Flags()
    assert store.mark(a.id, read=True)
    assert store.mark(b.id, starred=True)
    assert not store.mark("f" * 16, read=True)  # unknown id
    assert not store.mark("not-an-id", read=True)
    assert store.mark(b.id, starred=False)  # back to no flag → removed
    store.flush()
    state = orjson.loads((store.path / "state.json").read_bytes())
    assert list(state["flags"].values()) == [{"read": True, "starred": False}]
    store = reopen(store)
    try:
        assert store.flags(a.id) == Flags(read=True)
        assert store.flags(b.id) == Flags()
        assert store.mark_many([a.id, b.id, "0" * 16], starred=True) == 2
    finally:
        store.close()


def test_feed_state_roundtrip(store):
    st = FeedState(key="https://example.org/a.xml", url="https://example.org/a.xml",
                   etag='"x"', failures=2, recent_ids=("a" * 16,))
    store.put_feed_state(st)
    got = store.feed_state(st.key)
    assert got == st and got is not st
    got.failures = 99  # a copy: the store is unchanged
    assert store.feed_state(st.key).failures == 2
    store.put_feed_state(replace(st, etag=None, status="ok"))
    store.put_feed_state(FeedState(key="k2", url="https://b"))
    store = reopen(store)
    try:
        assert store.feed_state(st.key).status == "ok" and store.feed_state(st.key).etag is None
        assert set(store.feed_states()) == {st.key, "k2"}
        store.forget_feed("k2")
        assert store.feed_state("k2") is None
    finally:
        store.close()


def test_meta_roundtrip_and_generation(store):
    store.set_meta("rules_fingerprint", "abc")
    store.set_meta("ui", {"pane": [1, 2]})
    got = store.get_meta("ui")
    got["pane"].append(3)
    assert store.get_meta("ui") == {"pane": [1, 2]}
    assert store.get_meta("missing", 7) == 7
    with pytest.raises(ValueError):
        store.set_meta("generation", 5)
    with pytest.raises(ValueError):
        store.set_meta("x", object())
    g = store.generation
    store.flush()
    assert store.generation == g + 1
    store = reopen(store)
    try:
        assert store.get_meta("rules_fingerprint") == "abc"
        assert store.generation == g + 1
        assert store.get_meta("schema") == 1
    finally:
        store.close()


# --- queries ---------------------------------------------------------------------------------

def test_query_filters(store):
    t = make_item(title="Ceasefire talks in Geneva", labels=("talks",),
                  published="2024-05-09T08:00:00Z", actors=("Russia", "Ukraine"))
    s = make_item(title="New sanctions", summary="Treasury acts", labels=("sanctions",),
                  published="2024-05-08T08:00:00Z", feed="https://example.org/b.xml",
                  source="Treasury Wire")
    n = make_item(title="Weather", summary="Rain", labels=(), published="2024-05-07T08:00:00Z")
    store.upsert_items([t, s, n])
    store.mark(s.id, read=True, starred=True)

    def ids(**kw):
        return [i.id for i in store.query(ItemFilter(**kw))]
    assert ids() == [t.id, s.id, n.id]  # newest published first
    assert ids(label="talks") == [t.id]
    assert ids(label="none") == [n.id]
    assert ids(feeds=frozenset({"https://example.org/b.xml"})) == [s.id]
    assert ids(since="2024-05-08T08:00:00Z") == [t.id, s.id]
    assert ids(until="2024-05-08T08:00:00Z") == [n.id]
    assert ids(since="2024-05-08", until="2024-05-09") == [s.id]
    assert ids(text="GENEVA ceasefire") == [t.id]
    assert ids(text="geneva weather") == []
    assert ids(text="treasury wire") == [s.id]  # source is searched too
    assert ids(unread=True) == [t.id, n.id]
    assert ids(starred=True) == [s.id]
    assert ids(actor="ukraine") == [t.id]
    assert ids(limit=2) == [t.id, s.id]
    assert ids(limit=2, offset=1) == [s.id, n.id]
    assert ids(limit=0) == []
    assert [i.id for i in store.recent(2)] == [t.id, s.id]


def test_matches_is_pure_and_casefolds():
    item = make_item(title="Die STRASSE nach Genf", summary="")
    assert matches(item, Flags(), ItemFilter(text="straße"))
    assert not matches(item, Flags(read=True), ItemFilter(unread=True))
    assert matches(item, Flags(read=True), ItemFilter())


def test_sort_ties_break_on_first_seen_then_id(store):
    a = make_item(0x10, published="2024-05-09T00:00:00Z", first_seen="2024-05-10T01:00:00Z")
    b = make_item(0x20, published="2024-05-09T00:00:00Z", first_seen="2024-05-10T01:00:00Z")
    c = make_item(0x05, published="2024-05-09T00:00:00Z", first_seen="2024-05-10T02:00:00Z")
    store.upsert_items([a, b, c])
    assert [i.id for i in store.recent()] == [c.id, b.id, a.id]
    store.upsert_items([replace(a, published="2024-05-10T00:00:00Z")])  # moves to the top
    assert [i.id for i in store.recent()] == [a.id, c.id, b.id]


def test_counts(store):
    store.upsert_items([
        make_item(labels=("talks",), published="2024-05-10T01:00:00Z"),
        make_item(labels=("talks", "statements"), published="2024-05-09T01:00:00Z"),
        make_item(labels=(), published="2024-05-09T02:00:00Z", feed="f2"),
        make_item(labels=("sanctions",), published="2024-04-01T02:00:00Z", feed="f2"),
    ])
    assert store.counts_by_label() == {"talks": 2, "sanctions": 1, "statements": 1, "none": 1}
    assert store.items_per_feed() == {"https://example.org/a.xml": 2, "f2": 2}
    daily = store.daily_counts(3, now=NOW)
    assert daily["talks"] == [0, 1, 1]
    assert daily["statements"] == [0, 1, 0]
    assert daily["none"] == [0, 1, 0]
    assert daily["sanctions"] == [0, 0, 0]  # published a month earlier
    assert store.daily_counts(60, now=NOW)["sanctions"].count(1) == 1
    store = reopen(store)  # same answers from the saved manifest
    try:
        assert store.counts_by_label() == {"talks": 2, "sanctions": 1, "statements": 1, "none": 1}
        assert store.daily_counts(3, now=NOW)["talks"] == [0, 1, 1]
    finally:
        store.close()


# --- read-only viewers ---------------------------------------------------------------------

def test_readonly_store_refuses_writes_and_reloads(tmp_path, clock):
    writer = Store.open(tmp_path / "db", clock=clock)
    a = make_item()
    writer.upsert_items([a])
    writer.flush()
    viewer = Store.open(tmp_path / "db", readonly=True, clock=clock)
    try:
        assert viewer.get(a.id) == a
        with pytest.raises(ReadOnlyStoreError, match="read-only"):
            viewer.upsert_items([make_item()])
        with pytest.raises(ReadOnlyStoreError):
            viewer.mark(a.id, read=True)
        assert viewer.reload() is False
        b = make_item()
        writer.upsert_items([b])
        writer.mark(a.id, starred=True)
        writer.flush()
        assert viewer.reload() is True
        assert viewer.known(b.id) and viewer.flags(a.id).starred
        assert viewer.generation == writer.generation
        assert viewer.reload() is False
    finally:
        viewer.close()
        writer.close()


def test_a_viewer_sees_every_change_a_writer_saves(tmp_path, clock):
    """Changes that keep the scores and the number of matches (a rule renamed, a span moved,
    a date found) still reach a viewer following the writer."""
    ev = (Match("talks", "negotiat*", "negotiations", "title", 0, 12, 1.0),)
    a = replace(make_item(), labels=("talks",), primary="talks", scores={"talks": 1.0},
                evidence=ev, date_missing=True)
    writer = Store.open(tmp_path / "db", clock=clock)
    writer.upsert_items([a])
    writer.flush()
    viewer = Store.open(tmp_path / "db", readonly=True, clock=clock)
    try:
        changed = replace(a, evidence=(replace(ev[0], term="negotiation*", start=1, end=13),),
                          date_missing=False)
        writer.upsert_items([changed])
        writer.flush()
        assert viewer.reload() is True
        assert viewer.get(a.id) == changed
    finally:
        viewer.close()
        writer.close()


def test_readonly_open_of_missing_store_fails(tmp_path):
    with pytest.raises(Exception, match="no store"):
        Store.open(tmp_path / "nope", readonly=True)
    assert not (tmp_path / "nope").exists()


def test_store_directory_is_private(tmp_path):
    Store.open(tmp_path / "new" / "db").close()
    assert stat.S_IMODE((tmp_path / "new" / "db").stat().st_mode) == 0o700


# --- damaged files and failed writes at the Store level ---------------------------------------

@pytest.mark.parametrize("name", ["state.json", "items-2024-W19.json"])
@pytest.mark.parametrize("content", [b"", b'{"items": {"1": {"id"', b"\x00" * 100, b"[]",
                                     b"null", b'{"meta": {}}trailing'])
def test_corrupt_file_stops_open_untouched(tmp_path, clock, name, content):
    s = Store.open(tmp_path / "db", clock=clock)
    s.upsert_items([make_item()])
    s.close()
    target = tmp_path / "db" / name
    target.write_bytes(content)
    with pytest.raises(CorruptStoreError) as err:
        Store.open(tmp_path / "db", clock=clock)
    assert name in str(err.value)
    assert target.read_bytes() == content
    with pytest.raises(CorruptStoreError):
        Store.open(tmp_path / "db", readonly=True, clock=clock)
    # the lock was released: a second attempt fails on the file again, not on the lock
    with pytest.raises(CorruptStoreError):
        Store.open(tmp_path / "db", clock=clock)


def test_invalid_item_document_is_corruption(tmp_path, clock):
    s = Store.open(tmp_path / "db", clock=clock)
    s.upsert_items([make_item()])
    s.close()
    (tmp_path / "db" / "items-2024-W19.json").write_bytes(b'{"items": {"1": {"title": "x"}}}')
    with pytest.raises(CorruptStoreError, match="not a valid item"):
        Store.open(tmp_path / "db", clock=clock)


@pytest.mark.parametrize("field", ["published", "first_seen", "feed"])
def test_an_item_document_with_a_field_of_the_wrong_type_is_corruption(tmp_path, clock, field):
    """A foreign or hand-edited file: reported at open, not a crash in a later sort."""
    s = Store.open(tmp_path / "db", clock=clock)
    a = make_item()
    s.upsert_items([a])
    s.close()
    path = tmp_path / "db" / "items-2024-W19.json"
    data = orjson.loads(path.read_bytes())
    (key,) = data["items"]
    data["items"][key][field] = 12
    path.write_bytes(orjson.dumps(data))
    with pytest.raises(CorruptStoreError, match=f"items-2024-W19.json.*document {key} is not a valid item"):
        Store.open(tmp_path / "db", clock=clock)


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "disk full"),
                                         (errno.EROFS, "read-only file system")])
def test_write_error_on_flush_keeps_data_pending(tmp_path, clock, monkeypatch, code, words):
    store = Store.open(tmp_path / "db", clock=clock)
    a = make_item()
    store.upsert_items([a])
    store.flush()
    before = {p.name: p.read_bytes() for p in store.path.iterdir() if p.suffix == ".json"}
    b = make_item()
    store.upsert_items([b])
    real_write = os.write

    def failing_write(fd, data):
        real_write(fd, bytes(data[:10]))  # a partial temp file, then the error
        raise OSError(code, os.strerror(code))
    monkeypatch.setattr(atomic.os, "write", failing_write)
    with pytest.raises(StoreWriteError) as err:
        store.flush()
    assert words in str(err.value)
    assert store.dirty
    after = {p.name: p.read_bytes() for p in store.path.iterdir() if p.suffix == ".json"}
    assert after == before
    assert not [p for p in os.listdir(store.path) if p.endswith(".dwtmp")]
    monkeypatch.undo()
    store.flush()
    store = reopen(store)
    try:
        assert store.known(a.id) and store.known(b.id)
    finally:
        store.close()


def test_readonly_directory_on_flush(tmp_path, clock, monkeypatch):
    store = Store.open(tmp_path / "db", clock=clock)
    store.upsert_items([make_item()])
    if os.geteuid() == 0:  # root ignores directory permissions: emulate the refusal
        def denied(*a, **k):
            raise PermissionError(errno.EACCES, "Permission denied")
        monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)
    else:
        store.path.chmod(0o500)
    try:
        with pytest.raises(StoreWriteError, match="permission denied"):
            store.flush()
    finally:
        store.path.chmod(0o700)
        monkeypatch.undo()
    assert store.dirty
    store.flush()
    assert not store.dirty
    store.close()


# --- threads ------------------------------------------------------------------------------------

def test_concurrent_writers_and_readers_in_one_process(store):
    """8 poll workers finishing together, a UI thread querying, a flusher: every item
    stored once, exactly one writer."""
    errors = []
    stop = threading.Event()

    def poller(w):
        try:
            for batch in range(20):
                items = [make_item(w * 100000 + batch * 100 + i) for i in range(25)]
                store.upsert_items(items + items[:5])  # with in-batch duplicates
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    def ui():
        try:
            while not stop.is_set():
                store.query(ItemFilter(text="item", limit=50))
                store.counts_by_label()
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    def flusher():
        try:
            while not stop.is_set():
                store.flush()
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    side = [threading.Thread(target=ui), threading.Thread(target=flusher)]
    workers = [threading.Thread(target=poller, args=(w,)) for w in range(8)]
    for t in side + workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    for t in side:
        t.join()
    assert errors == []
    store.flush()
    assert len(store.recent()) == 8 * 20 * 25
    assert store.counts_by_label()["talks"] == 8 * 20 * 25
    docs = orjson.loads((store.path / "items-2024-W19.json").read_bytes())["items"]
    docs.update(read_log(store.path / "items-2024-W19.log"))  # (the saves it appended)
    assert len(docs) == 8 * 20 * 25


def test_closed_store_refuses_use(tmp_path, clock):
    s = Store.open(tmp_path / "db", clock=clock)
    s.close()
    s.close()  # idempotent
    with pytest.raises(Exception, match="closed"):
        s.upsert_items([make_item()])


def test_clock_controls_partition_and_window(tmp_path, clock):
    clock.t = NOW + 7 * DAY
    with Store.open(tmp_path / "db", clock=clock) as s:
        s.upsert_items([make_item(first_seen="2024-05-17T10:00:00Z")])
        s.flush()
    assert (tmp_path / "db" / "items-2024-W20.json").exists()


def test_storage_imports_no_ui_and_does_no_io_at_import(tmp_path):
    code = ("import sys, builtins\n"
            "opened = []\n"
            "real = builtins.open\n"
            "builtins.open = lambda f, *a, **k: (opened.append(str(f)), real(f, *a, **k))[1]\n"
            "import storage, storage.store, storage.recover, storage.lock, storage.atomic\n"
            "assert not {'textual', 'rich'} & set(sys.modules), 'UI imported'\n"
            "assert not [f for f in opened if not f.endswith('.py')], opened\n")
    root = str(Path(__file__).resolve().parents[2])
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path,
                   env={**os.environ, "PYTHONPATH": root})


def test_viewer_reload_rebuilds_only_new_and_changed_items(tmp_path) -> None:
    """A read-only viewer following a writer: unchanged items keep their objects; new,
    changed and removed items are reflected."""
    from dataclasses import replace as _replace

    from feeds.model import Item
    from storage.store import Store

    now = 1_780_000_000.0

    def item(n: int, title: str) -> Item:
        return Item(id=f"{n:016x}", feed="f", source="F", guid=str(n), title=title, summary="s",
                    link="", published="2026-05-28T20:00:00Z", first_seen="2026-05-28T20:00:00Z")

    with Store.open(tmp_path / "s", clock=lambda: now) as writer:
        writer.upsert_items([item(n, f"t{n}") for n in range(1, 6)])
        writer.flush()
        viewer = Store.open(tmp_path / "s", readonly=True, clock=lambda: now)
        kept = {i.id: i for i in viewer.recent()}
        writer.upsert_items([item(6, "t6"), _replace(item(2, "t2"), title="t2 edited")])
        writer.flush()
        assert viewer.reload()
        after = {i.id: i for i in viewer.recent()}
        assert sorted(i.title for i in after.values()) == ["t1", "t2 edited", "t3", "t4", "t5", "t6"]
        assert after[f"{1:016x}"] is kept[f"{1:016x}"]  # not rebuilt
        assert after[f"{2:016x}"] is not kept[f"{2:016x}"]
        assert len(viewer.recent()) == 6 and viewer.get(f"{6:016x}").title == "t6"
        viewer.close()


def test_recent_order_holds_over_many_small_batches_read_between(store):
    """Items stored a feed at a time (the window orders them when next read) come back
    newest first by (published, first_seen, id), whatever order they arrived in and however
    the reads fall between the batches; an updated item moves to its new place."""
    rnd = random.Random(7)
    stored = []
    for batch in range(40):
        items = [make_item(0x5000 + batch * 10 + i,
                           published=f"2024-05-{rnd.randint(6, 10):02d}T{rnd.randint(0, 23):02d}:00:00Z")
                 for i in range(rnd.randint(1, 6))]
        stored.extend(store.upsert_items(items))
        if batch % 7 == 3:
            assert store.recent() == sorted(stored, key=SORT_KEY, reverse=True)
    moved = replace(stored[0], published="2024-05-10T23:59:00Z", title="moved")
    store.upsert_items([moved])
    stored = [store.get(it.id) for it in stored]
    expected = sorted(stored, key=SORT_KEY, reverse=True)
    assert store.recent()[0].title == "moved"
    assert store.recent() == expected
    assert store.recent(5) == expected[:5]
    store.flush()
    store = reopen(store)
    try:
        assert store.recent() == expected
    finally:
        store.close()


@pytest.mark.parametrize("kept", [None, 3])
def test_saved_week_and_log_hold_each_items_document_as_encoded(store, monkeypatch, kept):
    """A save writes the bytes the upsert's check encoded (or, past the documents a week
    keeps encoded, encodes them then): the week file (first save) and its log (later ones)
    hold exactly ``orjson.dumps(item.to_dict())`` of the latest version of each item, and a
    reopened store reads the same items back."""
    if kept is not None:
        monkeypatch.setattr("storage.partition.RAW_KEPT", kept)
    first = [make_item(0x7000 + i, title=f"first {i} é \"q\"") for i in range(20)]
    store.upsert_items(first)
    store.flush()
    week = store.path / "items-2024-W19.json"
    assert week.read_bytes() == b'{"items":{' + b",".join(
        b'"%d":%s' % (int(it.id, 16), orjson.dumps(it.to_dict())) for it in first) + b"}}"
    later = [make_item(0x7100 + i) for i in range(5)]
    changed = replace(first[3], title="changed")
    store.upsert_items([*later, changed])
    store.flush()
    stored = {it.id: it for it in store.recent()}
    lines = [ln for ln in (store.path / "items-2024-W19.log").read_bytes().split(b"\n") if ln]
    assert lines == [orjson.dumps(stored[it.id].to_dict()) for it in [*later, changed]]
    store = reopen(store)
    try:
        assert {it.id: it for it in store.recent()} == stored
    finally:
        store.close()


def test_a_lean_writer_keeps_no_encodings_and_saves_the_same_bytes(tmp_path, clock):
    """A one-shot poll opens lean: its peak memory matters more than encoding each new item
    once, so it holds the items only; the week file it saves is byte for byte the same."""
    items = [make_item(0x7200 + i, title=f"lean {i} é") for i in range(12)]
    full = Store.open(tmp_path / "full", clock=clock)
    lean = Store.open(tmp_path / "lean", clock=clock, lean=True)
    try:
        lean.recent()  # brings the window in, as a one-shot poll's stories do: still lean at heart
        for s in (full, lean):
            s.upsert_items(items)
        assert not any(p.unsaved.raw for p in lean._weeks.parts.values())
        assert any(p.unsaved.raw for p in full._weeks.parts.values())
        for s in (full, lean):
            s.flush()
        assert ((tmp_path / "lean" / "items-2024-W19.json").read_bytes()
                == (tmp_path / "full" / "items-2024-W19.json").read_bytes())
    finally:
        full.close()
        lean.close()

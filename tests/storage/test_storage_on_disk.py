"""`list --archive`'s open (``on_disk``): no week decoded at open, a week with an append log
read from its file and then its log at query time, and every answer the same as a full
open's (same items, same versions, same order)."""
from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from feeds.model import Item
from storage import ItemFilter, Store, rawdocs, wordindex
from storage.partition import week_key_at
from tests.storage.storage_helpers import DAY, NOW, Clock, make_item

WORDS = ["ceasefire", "talks", "Straße", "İstanbul", "Kelvin", "\u212a", "ﬁnance", "envoys",
         "Geneva", "sanctions,", "Doha;", "al-Assad", '"stop"', "C:\\data", "🕊", "Köln",
         "mediation", "truce", "summit", "x"]
WEEKS = ["2024-04-16", "2024-04-23", "2024-04-30", "2024-05-07"]  # W16..W19 (NOW: W19)
FEEDS = ["https://a.example/rss", "https://b.example/rss"]
LABELINGS = [(), ("talks",), ("sanctions",), ("talks", "statements")]
NEW_WORD = "zeppelin"  # only in the versions the log holds


def _item(n: int, rnd: random.Random, day: str, words: list[str]) -> Item:
    return make_item(n, first_seen=f"{day}T{n % 24:02d}:{n % 60:02d}:00Z",
                     published=f"{day}T{(n * 7) % 24:02d}:{n % 60:02d}:00Z",
                     title=" ".join(rnd.sample(words, 3)), summary=" ".join(rnd.sample(words, 4)),
                     source=rnd.choice(["Wire", "Zürich Post"]), feed=rnd.choice(FEEDS),
                     labels=rnd.choice(LABELINGS), actors=("UN",) if n % 3 else ())


@pytest.fixture(params=["unicode", "ascii"])
def logged_store(tmp_path: Path, request) -> tuple[Path, Clock, list[str]]:
    """Ended weeks (one without its word index) and a current week saved whole, then
    changed by appends to its log: new items, new versions (one twice), labels set by
    hand, flags. Returns the folder, the clock and the ids whose newest version is logged.
    "ascii": no text that folds differently, so the raw prefilter takes its fast path."""
    words = [w for w in WORDS if w.isascii()] if request.param == "ascii" else WORDS
    rnd = random.Random(11)
    clock = Clock()
    db = tmp_path / "db"
    items = [_item(0x7000 + i, rnd, WEEKS[i % len(WEEKS)], words) for i in range(240)]
    current = [it for it in items if it.first_seen.startswith(WEEKS[-1])]
    with Store.open(db, clock=clock, recent_days=1) as store:
        store.upsert_items(items)
        store.flush()
    wordindex.build_missing(wordindex.ended_partitions(db, week_key_at(clock())))
    wordindex.index_path(db / "items-2024-W17.json").unlink()  # that week is scanned
    logged = []
    with Store.open(db, clock=clock, recent_days=1) as store:
        fresh = [_item(0x9000 + i, rnd, WEEKS[-1], words) for i in range(30)]
        store.upsert_items(fresh)
        renamed = [replace(it, title=f"{it.title} {NEW_WORD}") for it in current[:12]]
        store.upsert_items(renamed)
        store.set_labels(current[20].id, ["sanctions"])
        store.set_labels(items[0].id, [])  # an ended week's item (that week saved whole)
        store.mark_many([it.id for it in current[::3]], read=True)
        store.mark_many([it.id for it in items[::7]] + [fresh[0].id], starred=True)
        store.flush()
        # A second version of one already logged (the later line wins), and one retracted.
        store.upsert_items([replace(renamed[0], title="Truce summit",
                                    published="2024-05-10T11:59:00Z"),
                            replace(current[13], title="plain words only")])
        logged = [it.id for it in fresh + renamed + [current[13], current[20]]]
    assert (db / "items-2024-W19.log").stat().st_size > 0
    return db, clock, logged


def _filters() -> list[ItemFilter]:
    out = [ItemFilter(archive=True), ItemFilter(archive=True, limit=51),
           ItemFilter(text="talks", archive=True, limit=10, offset=5),
           ItemFilter(text=NEW_WORD, archive=True), ItemFilter(text="truce summit", archive=True),
           ItemFilter(text="plain", archive=True), ItemFilter(unread=True, archive=True),
           ItemFilter(starred=True, archive=True), ItemFilter(label="none", archive=True),
           ItemFilter(feeds=frozenset(FEEDS[:1]), since="2024-05-01", archive=True),
           ItemFilter(actor="un", text="envoys", archive=True)]
    for word in [*WORDS, "strasse", "STRASSE", "istanbul", "k", "finance", "cafe", "zürich",
                 "\\data", "nowhere", "ceasefire talks"]:
        for label in (None, "talks", "sanctions", "none"):
            out.append(ItemFilter(text=word, label=label, archive=True))
        out.append(ItemFilter(text=word, archive=True, limit=51))
    return out


def _same_answers(db: Path, clock: Clock) -> int:
    """Every filter answered alike by a full open and an on-disk one; returns the items
    the answers held (so that a test can tell they were not all empty)."""
    total = 0
    with Store.open(db, readonly=True, clock=clock) as full, \
            Store.open(db, readonly=True, clock=clock, on_disk=True) as disk:
        assert disk.recent() == []  # nothing decoded at open
        assert full.recent()
        for f in _filters():
            expected = full.query(f)
            assert disk.query(f) == expected, f
            total += len(expected)
    return total


def test_an_on_disk_search_answers_as_a_full_open(logged_store, request, monkeypatch):
    db, clock, _logged = logged_store
    fast = []  # the raw prefilter's fast path, taken where nothing folds to ASCII
    real = rawdocs._spans_containing_ascii
    monkeypatch.setattr(rawdocs, "_spans_containing_ascii",
                        lambda *a: fast.append(1) or real(*a))
    assert _same_answers(db, clock) > 1000
    assert bool(fast) == (request.node.callspec.params["logged_store"] == "ascii")


def test_an_ended_week_with_its_log_and_its_word_index(logged_store):
    """A week left with a log when it ended (its writer not run since), then indexed: the
    index describes the file, the log's versions still win."""
    db, _clock, _logged = logged_store
    later = Clock(NOW + 7 * DAY)
    assert wordindex.build_missing([db / "items-2024-W19.json"]) == 1
    assert (db / "items-2024-W19.log").exists()
    assert _same_answers(db, later) > 1000


def test_the_logged_versions_win(logged_store):
    db, clock, logged = logged_store
    with Store.open(db, readonly=True, clock=clock, on_disk=True) as disk:
        hits = disk.query(ItemFilter(text=NEW_WORD, archive=True))
        assert len(hits) == 11 and all(NEW_WORD in it.title for it in hits)
        [twice] = disk.query(ItemFilter(text="truce summit", archive=True,
                                        since="2024-05-10T11:59:00Z"))
        assert twice.title == "Truce summit"
        assert disk.get(twice.id) == twice
        assert disk.get(logged[-1]).labels == ("sanctions",)
        new_id = logged[0]
        assert disk.ids_with_prefix(new_id) == [new_id]
        assert disk.get(new_id) is not None


def test_newest_first_stops_at_the_page_floor_and_falls_back_on_a_foreign_slice(tmp_path):
    """Candidates come newest first and stop below the floor; a document that does not
    decode to the sort key read for it sends the rest through the whole file's decoding:
    none is lost, none comes twice. A key written twice is declined up front."""
    import orjson

    from storage import archive
    from storage.partition import Partition

    rnd = random.Random(2)
    items = [_item(0xA000 + i, rnd, WEEKS[-1], ["talks", "truce", "summit", "envoys"])
             for i in range(40)]
    raw = orjson.dumps({"items": {str(int(it.id, 16)): it.to_dict() for it in items}})
    p = Partition("2024-W19", tmp_path)
    newest = sorted(items, key=lambda it: (it.published, it.first_seen, it.id), reverse=True)
    keyed = rawdocs.newest_containing(raw, ("talks",))
    assert [k[0][2] for k in keyed] == [it.id for it in newest]
    floor = (newest[9].published, newest[9].first_seen, newest[9].id)
    got = [d["id"] for d in archive._newest_first(p, raw, keyed, lambda: floor)]
    assert got == [it.id for it in newest[:10]]

    keyed[5] = (keyed[6][0], *keyed[5][1:])  # the sixth slice: not the key given for it
    got = [d["id"] for d in archive._newest_first(p, raw, keyed, lambda: floor)]
    assert got[:5] == [it.id for it in newest[:5]]
    assert sorted(got) == sorted(it.id for it in items)

    at = raw.index(b'"cluster":', raw.index(f'"id":"{newest[30].id}"'.encode()))
    twice = raw[:at] + b'"published":"2099-01-01T00:00:00Z",' + raw[at:]
    assert rawdocs.newest_containing(twice, ("talks",)) is None

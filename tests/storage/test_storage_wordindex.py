"""The ended weeks' word indexes: built when a week is saved after it ended and by recover,
used by full-history search, and never a cause of a different answer than a scan."""
from __future__ import annotations

import os
import random
from dataclasses import replace
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from feeds.model import Item
from storage import ItemFilter, Store, wordindex
from storage.errors import CorruptStoreError
from storage.partition import stat_key
from storage.query import NO_FLAGS, SORT_KEY, matches
from storage.recover import recover
from tests.storage.storage_helpers import Clock, make_item

ROOT = Path(__file__).resolve().parents[2]

# Words with case, accents and folds (ß → ss, ﬁ → fi, İ → i̇, the Kelvin sign → k),
# punctuation that is part of a word, quotes and backslashes.
WORDS = ["Ceasefire", "talks", "Straße", "STRASSE", "Köln", "KÖLN", "İstanbul", "ﬁnance",
         "Kelvin", "\u212a", "café", "CAFÉ", "cafe\u0301", "U.S.", "al-Assad", '"stop"',
         "C:\\data", "🕊", "Geneva", "envoys", "Ärzte", "sanction", "sanctions,", "Doha;",
         "ΣΊΣΥΦΟΣ", "σίσυφος", "mediation", "x", "a", "peace-talks", "(UN)"]
SOURCES = ["Wire", "Agence \"Q\"", "Zürich Post", "Doha Daily"]
LABELINGS = [(), ("talks",), ("sanctions",), ("talks", "statements"), ("custom",)]
WEEKS = ["2024-04-09", "2024-04-16", "2024-04-23", "2024-04-30", "2024-05-09"]  # W15..W19


def _corpus(n: int = 240, seed: int = 3) -> list[Item]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        day = WEEKS[i % len(WEEKS)]
        title = " ".join(rnd.sample(WORDS, 4))
        summary = " ".join(rnd.sample(WORDS, 6)) + ("\tand\nmore" if i % 7 == 0 else "")
        item = make_item(0x5000 + i, first_seen=f"{day}T{i % 24:02d}:{i % 60:02d}:00Z",
                         title=title, summary=summary, source=rnd.choice(SOURCES),
                         labels=rnd.choice(LABELINGS))
        out.append(replace(item, link=f"https://ex.org/zebra/{i}"))  # not searched
    return out


def _queries(items: list[Item], n: int = 250, seed: int = 9) -> list[str]:
    rnd = random.Random(seed)
    fixed = ["strasse", "STRASSE", "straße", "köln", "i̇stanbul", "istanbul", "fi", "finance",
             "k", "kelvin", "cafe", "café", '"stop"', "\\data", "zebra", "nowhere", "a x",
             "u.s.", "-assad", "🕊", "sisyphus", "σίσυφοσ", "sanctions,", "doha; wire",
             "ceasefire talks envoys", "q\"", "post", "and more", "d\n"]
    words = [w for it in items for w in f"{it.title} {it.summary} {it.source}".split()]
    out = list(fixed)
    for _ in range(n):
        picked = []
        for _k in range(rnd.choice([1, 1, 2, 3])):
            w = rnd.choice(words)
            if rnd.random() < 0.4 and len(w) > 2:  # a part of a word
                a = rnd.randrange(len(w) - 1)
                w = w[a:a + rnd.randrange(1, len(w) - a + 1)]
            w = rnd.choice([w, w.upper(), w.lower(), w.title()])
            picked.append(w)
        out.append(" ".join(picked))
    return out


def _expected(items: list[Item], f: ItemFilter) -> list[str]:
    found = sorted((it for it in items if matches(it, NO_FLAGS, f)), key=SORT_KEY, reverse=True)
    return [it.id for it in found][f.offset:None if f.limit is None else f.offset + f.limit]


@pytest.fixture
def store_dir(tmp_path: Path) -> tuple[Path, list[Item], Clock]:
    clock = Clock()  # 2024-05-10, ISO week 2024-W19
    items = _corpus()
    with Store.open(tmp_path / "db", clock=clock, recent_days=1) as store:
        store.upsert_items(items)
        store.flush()
    return tmp_path / "db", items, clock


def _ended(db: Path) -> list[Path]:
    return sorted(p for p in db.glob("items-*.json") if "W19" not in p.name)


def _ids(store: Store, f: ItemFilter) -> list[str]:
    return [it.id for it in store.query(f)]


def test_saving_an_ended_week_writes_its_index(store_dir):
    db, _items, _clock = store_dir
    ended = _ended(db)
    assert len(ended) == 4
    for path in ended:
        assert wordindex.is_current(path, stat_key(path.stat()))
    assert not list(db.glob("items-2024-W19.words"))  # the current week changes every poll


@pytest.mark.parametrize("label", [None, "talks", "none", "custom", "statements"])
def test_search_through_the_indexes_equals_the_exact_test(store_dir, label):
    db, items, clock = store_dir
    with Store.open(db, readonly=True, clock=clock, recent_days=1) as store:
        for q in _queries(items):
            f = ItemFilter(text=q, label=label, archive=True)
            assert _ids(store, f) == _expected(items, f), q
        page = ItemFilter(text="talks", label=label, limit=7, offset=3, archive=True)
        assert _ids(store, page) == _expected(items, page)


def test_the_index_narrows_what_is_read(store_dir):
    db, items, _clock = store_dir
    path = _ended(db)[0]
    week = [it for it in items if it.first_seen.startswith(WEEKS[0])]
    docs = wordindex.matching_docs(path, ("köln",), None)
    assert docs is not None
    exact = {it.id for it in week if "köln" in f"{it.title}\n{it.summary}\n{it.source}".casefold()}
    assert {d["id"] for d in docs} == exact and 0 < len(docs) < len(week)
    talks = wordindex.matching_docs(path, (), "talks")
    assert {d["id"] for d in talks} == {it.id for it in week if "talks" in it.labels}
    # A word that narrows nothing leaves the week to the scan.
    assert wordindex.matching_docs(path, (), None) is None


def _damage(db: Path) -> None:
    """Each ended week's index damaged another way (each file replaced: a new inode)."""
    idx = sorted(db.glob("*.words"))
    assert len(idx) == 4
    raws = [p.read_bytes() for p in idx]
    flipped = bytearray(raws[0])
    flipped[-3] ^= 0x01  # a posting: only the CRC tells
    variants = [bytes(flipped), raws[1][:len(raws[1]) // 2], b"garbage", b""]
    for path, data in zip(idx, variants):
        tmp = path.with_name(path.name + ".new")
        tmp.write_bytes(data)
        os.replace(tmp, path)


def test_a_damaged_or_stale_index_means_a_scan_then_recover_rebuilds_it(store_dir):
    db, items, clock = store_dir
    _damage(db)
    queries = _queries(items, n=60)
    with Store.open(db, readonly=True, clock=clock, recent_days=1) as store:
        for q in queries:
            f = ItemFilter(text=q, archive=True)
            assert _ids(store, f) == _expected(items, f), q
    for path in _ended(db):
        assert wordindex.matching_docs(path, ("köln",), None) is None
    report = recover(db, clock=clock)
    assert report.indexes_built == 4 and "indexed for search" in report.summary()
    for path in _ended(db):
        assert wordindex.matching_docs(path, ("köln",), None) is not None
    # A week rewritten after its index was written: the index names the old file.
    week = _ended(db)[1]
    tmp = week.with_name("rewrite.tmp")
    tmp.write_bytes(week.read_bytes())  # same documents, another version of the file
    os.replace(tmp, week)
    assert not wordindex.is_current(week, stat_key(week.stat()))
    with Store.open(db, readonly=True, clock=clock, recent_days=1) as store:
        for q in queries:
            f = ItemFilter(text=q, archive=True)
            assert _ids(store, f) == _expected(items, f), q
    assert wordindex.matching_docs(week, ("köln",), None) is None  # stale: scanned
    assert recover(db, clock=clock).indexes_built == 1


def test_an_update_to_an_ended_week_reindexes_it(store_dir):
    db, items, clock = store_dir
    old = items[0]  # in 2024-W15
    with Store.open(db, clock=clock, recent_days=1) as store:
        store.upsert_items([make_item(int(old.id, 16), first_seen=old.first_seen,
                                      title="Quokka summit", summary=old.summary,
                                      source=old.source, labels=old.labels)])
        store.flush()
        assert _ids(store, ItemFilter(text="quokka", archive=True)) == [old.id]
    path = db / "items-2024-W15.json"
    docs = wordindex.matching_docs(path, ("quokka",), None)
    assert docs is not None and [d["id"] for d in docs] == [old.id]


KILLED_WRITE = """
import os, signal, sys
from pathlib import Path
import storage.atomic as atomic
from storage import wordindex

path = Path(sys.argv[1])
real = atomic._write_all
def half_then_die(fd, data):
    real(fd, data[:len(data) // 2])
    os.kill(os.getpid(), signal.SIGKILL)
atomic._write_all = half_then_die
st = os.stat(path)
wordindex.save(path, path.read_bytes(), [st.st_size, st.st_mtime_ns, st.st_ino])
"""


def test_a_kill_during_an_index_write_leaves_the_store_loadable(store_dir):
    db, items, clock = store_dir
    week = _ended(db)[0]
    before = wordindex.index_path(week).read_bytes()
    wordindex.index_path(_ended(db)[1]).unlink()  # one week with no index at all
    for path in (week, _ended(db)[1]):
        proc = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(path)], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == -signal.SIGKILL
    assert wordindex.index_path(week).read_bytes() == before  # the old index, whole
    assert not wordindex.index_path(_ended(db)[1]).exists()
    assert any(p.name.endswith(".dwtmp") for p in db.iterdir())
    with Store.open(db, clock=clock, recent_days=1) as store:
        assert not any(p.name.endswith(".dwtmp") for p in db.iterdir())
        for q in _queries(items, n=40):
            f = ItemFilter(text=q, archive=True)
            assert _ids(store, f) == _expected(items, f), q
        store.mark(items[0].id, read=True)
        store.flush()  # the first flush of a process indexes the newest ended week missing one
    assert wordindex.matching_docs(_ended(db)[1], ("köln",), None) is not None


def test_retention_deletes_a_week_with_its_index(store_dir):
    db, _items, clock = store_dir
    assert wordindex.index_path(db / "items-2024-W15.json").exists()
    with Store.open(db, clock=clock, recent_days=1) as store:
        store.apply_retention(days=21)
    assert not (db / "items-2024-W15.json").exists()
    assert not wordindex.index_path(db / "items-2024-W15.json").exists()


def test_a_query_reads_only_what_the_index_names(store_dir):
    """Store.query goes through the index: a document it rules out is never read (here one
    damaged in place behind the index's back, which a scan of the week trips over)."""
    db, items, clock = store_dir
    path = db / "items-2024-W15.json"
    st = path.stat()
    raw = path.read_bytes()
    at = raw.index(b'"labels":[]')  # an unlabelled document: no "talks" candidate
    with open(path, "r+b") as fh:
        fh.seek(at)
        fh.write(b'"labels":[}')
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # the same (size, mtime, inode)
    talks = ItemFilter(label="talks", archive=True)
    expected = _expected(items, talks)
    with Store.open(db, readonly=True, clock=clock, recent_days=1) as store:
        assert _ids(store, talks) == expected
        wordindex.index_path(path).unlink()
        with pytest.raises(CorruptStoreError):
            store.query(talks)


def test_an_on_disk_reader_answers_as_a_full_open(store_dir):
    """`list --archive`'s open: no week in memory, every one read from disk (the ended ones
    through their indexes, the current one scanned), the same answers."""
    db, items, clock = store_dir
    with Store.open(db, readonly=True, clock=clock, recent_days=7, on_disk=True) as store:
        assert store.recent() == []  # nothing was loaded
        for q in _queries(items, n=60):
            f = ItemFilter(text=q, archive=True)
            assert _ids(store, f) == _expected(items, f), q
        assert _ids(store, ItemFilter(archive=True)) == _expected(items, ItemFilter())
    with pytest.raises(ValueError):
        Store.open(db, clock=clock, on_disk=True)

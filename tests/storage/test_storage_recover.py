"""recover(): quarantine the damaged file, salvage what decodes, write a valid one."""
from __future__ import annotations

import orjson
import pytest

from feeds.model import FeedState
from storage import CorruptStoreError, ItemFilter, Store, StoreError, StoreLockedError
from storage.recover import recover, salvage_tables
from tests.storage.storage_helpers import make_item

PART = "items-2024-W19.json"


@pytest.fixture
def db(tmp_path, clock):
    """A store whose partition has a .bak with 20 items and a file with 30."""
    with Store.open(tmp_path / "db", clock=clock) as s:
        s.upsert_items([make_item(first_seen="2024-05-10T10:00:00Z") for _ in range(20)])
        s.flush()
        # A week later the week is no longer the current one: its save is a whole file
        # (the current week's would be appended to its log).
        clock.t += 7 * 86400
        s.upsert_items([make_item(first_seen="2024-05-10T10:00:00Z") for _ in range(10)])
        s.put_feed_state(FeedState(key="k", url="https://k"))
    clock.t -= 7 * 86400
    return tmp_path / "db"


def ids_in(path):
    with Store.open(path) as s:
        return {i.id for i in s.query(ItemFilter(archive=True))}


def test_salvage_truncated_and_holed_json():
    docs = {str(i): {"n": i, "s": "x" * 20} for i in range(1, 11)}
    raw = orjson.dumps({"items": docs})
    tables, skipped = salvage_tables(raw[: len(raw) // 2])
    assert 3 <= len(tables["items"]) < 10 and skipped == 0
    assert all(tables["items"][k] == docs[k] for k in tables["items"])
    i, j = raw.index(b'"4":'), raw.index(b'"6":')
    holed = raw[:i] + b"\x00" * (j - i) + raw[j:]
    tables, skipped = salvage_tables(holed)
    assert sorted(tables["items"], key=int) == ["1", "2", "3", "6", "7", "8", "9", "10"]
    assert skipped == 1
    tables, _ = salvage_tables(raw + b"garbage}")  # "Extra data"
    assert tables["items"] == docs
    # json.dumps style (TinyDB's own JSONStorage) with spaces and several tables
    spaced = b'{"_default": {"1": {"a": 1}, "2": {"a": 2}}, "t": {"5": {"b": []}}}'
    assert salvage_tables(spaced)[0] == {"_default": {"1": {"a": 1}, "2": {"a": 2}},
                                         "t": {"5": {"b": []}}}
    assert salvage_tables(b"")[0] == {} and salvage_tables(b"\x00\x00")[0] == {}


def test_recover_truncated_partition_merges_bak_and_salvage(db, clock):
    part = db / PART
    full = orjson.loads(part.read_bytes())["items"]
    raw = part.read_bytes()
    part.write_bytes(raw[: int(len(raw) * 0.8)])  # crash mid-write of an in-place writer
    with pytest.raises(CorruptStoreError):
        Store.open(db, clock=clock)
    report = recover(db, clock=clock)
    rec = report.recovered
    assert len(rec) == 1 and rec[0].path == part
    assert "truncated" in rec[0].problem
    assert rec[0].moved_to.read_bytes() == raw[: int(len(raw) * 0.8)]
    assert rec[0].moved_to.name.startswith(PART + ".corrupt-")
    assert rec[0].salvaged >= 20 and rec[0].documents >= 20
    assert "recovered" in report.summary() and PART in report.summary()
    assert str(report) == report.summary()  # what `diplowatch recover` prints
    got = ids_in(db)
    # everything in the .bak plus every complete document of the damaged file
    assert len(got) == rec[0].documents and got <= {d["id"] for d in full.values()}
    assert len(got) >= 20


@pytest.mark.parametrize("content", [b"", b"\x00" * 4096, b"[]", b"null"])
def test_recover_falls_back_to_bak(db, clock, content):
    part = db / PART
    part.write_bytes(content)
    report = recover(db, clock=clock)
    assert report.recovered[0].from_backup == 20
    assert len(ids_in(db)) == 20


def test_recover_state_file(db, clock):
    state = db / "state.json"
    state.write_bytes(state.read_bytes()[:-7] + b"\x00\x00\x00")
    report = recover(db, clock=clock)
    assert [f.path.name for f in report.recovered] == ["state.json"]
    with Store.open(db, clock=clock) as s:
        assert len(s.recent()) == 30  # partitions untouched; manifest rebuilt if needed
        assert s.counts_by_label()["talks"] == 30


def test_recover_with_nothing_to_salvage_writes_an_empty_valid_file(tmp_path, clock):
    d = tmp_path / "db"
    with Store.open(d, clock=clock) as s:
        s.upsert_items([make_item()])
    (d / PART).write_bytes(b"\x00" * 10)
    report = recover(d)
    assert report.recovered[0].documents == 0
    with Store.open(d, clock=clock) as s:
        assert s.recent() == []


def test_recover_leaves_healthy_files_alone_and_refuses_while_running(db, clock):
    before = {p.name: p.read_bytes() for p in db.iterdir() if p.suffix == ".json"}
    report = recover(db)
    assert report.recovered == [] and report.checked == 2
    assert {p.name: p.read_bytes() for p in db.iterdir() if p.suffix == ".json"} == before
    with Store.open(db, clock=clock):
        with pytest.raises(StoreLockedError):
            recover(db)


def test_recover_refuses_a_file_that_is_not_a_store_file(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not JSON at all\n")
    with pytest.raises(StoreError, match="is not a store folder nor one of its files"):
        recover(notes)
    assert notes.read_text() == "not JSON at all\n"  # never "recovered" into an empty store file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]

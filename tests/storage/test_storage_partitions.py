"""Weekly partitions: placement, write amplification, recent window, archive queries,
retention, re-classification, manifest self-repair."""
from __future__ import annotations

import os
from dataclasses import replace

import orjson
import pytest

import storage.archive as archive_module
import storage.atomic as atomic
import storage.codec as codec
import storage.weeks as weeks_module
from storage import Flags, ItemFilter, Store
from tests.storage.storage_helpers import DAY, NOW, make_item, tricky_items

# NOW is Friday 2024-05-10 (W19). Weeks used below: W19 (current), W18, W10, W05.
W19, W18, W10, W05 = ("2024-05-10T10:00:00Z", "2024-05-01T10:00:00Z",
                      "2024-03-05T10:00:00Z", "2024-02-01T10:00:00Z")


def files(store):
    return sorted(p.name for p in store.path.iterdir() if p.name.startswith("items-")
                  and p.name.endswith(".json"))


@pytest.fixture
def spread(tmp_path, clock):
    """A store with 3 items in each of four weeks, flushed and reopened."""
    with Store.open(tmp_path / "db", clock=clock) as s:
        items = {w: [make_item(first_seen=w, title=f"{w[:10]} item {i}") for i in range(3)]
                 for w in (W19, W18, W10, W05)}
        s.upsert_items([i for batch in items.values() for i in batch])
    return tmp_path / "db", items


@pytest.fixture
def reads(monkeypatch):
    """Names of store files read from disk."""
    seen: list[str] = []
    real = atomic.read_raw

    def spy(path):
        seen.append(path.name)
        return real(path)
    for module in (atomic, archive_module, weeks_module):  # every reader of store files
        monkeypatch.setattr(module, "read_raw", spy)
    return seen


def test_items_go_to_the_partition_of_their_first_seen_week(spread):
    path, items = spread
    with Store.open(path, readonly=True) as s:
        assert files(s) == ["items-2024-W05.json", "items-2024-W10.json",
                            "items-2024-W18.json", "items-2024-W19.json"]
    for week, key in ((W19, "2024-W19"), (W05, "2024-W05")):
        doc = orjson.loads((path / f"items-{key}.json").read_bytes())
        assert sorted(d["id"] for d in doc["items"].values()) == sorted(i.id for i in items[week])
        # doc id is the item id's value: an upsert is a keyed update
        assert all(int(k) == int(d["id"], 16) for k, d in doc["items"].items())


def test_poll_flush_rewrites_only_current_partition_and_state(spread, clock):
    path, _ = spread

    def snapshot():
        return {p.name: (p.stat().st_mtime_ns, p.stat().st_ino, p.read_bytes())
                for p in path.iterdir() if not p.name.endswith(".lock")}
    with Store.open(path, clock=clock) as s:
        before = snapshot()
        s.upsert_items([make_item(first_seen=W19) for _ in range(5)])
        report = s.flush()
        after = snapshot()
    assert report.files == 2
    changed = {n for n in after if before.get(n) != after[n]}
    # The new items are appended to the current week's log: its file is not rewritten.
    assert changed == {"items-2024-W19.log", "state.json", "state.json.bak"}
    for name in ("items-2024-W05.json", "items-2024-W10.json", "items-2024-W18.json",
                 "items-2024-W19.json", "items-2024-W05.ids", "items-2024-W10.ids"):
        assert after[name] == before[name]


def test_open_loads_only_the_recent_window(spread, clock, reads):
    path, items = spread
    with Store.open(path, clock=clock) as s:
        assert sorted(set(reads)) == ["items-2024-W18.json", "items-2024-W19.json", "state.json"]
        assert all(s.known(i.id) for i in items[W19] + items[W18])
        assert not any(s.known(i.id) for i in items[W10] + items[W05])
        assert len(s.recent()) == 6
        # whole-store answers come from the manifest, without reading archives
        assert s.counts_by_label()["talks"] == 12
        assert sum(s.items_per_feed().values()) == 12
        assert sorted(set(reads)) == ["items-2024-W18.json", "items-2024-W19.json", "state.json"]
        # get() of an archived id reads just that archive
        old = items[W05][1]
        assert s.get(old.id) == old
        assert reads.count("items-2024-W05.json") == 1 and "items-2024-W10.json" not in reads
        assert s.get("ffffffffffffffff") is None


def test_recent_days_sets_the_window(spread, clock):
    path, items = spread
    with Store.open(path, clock=clock, recent_days=3) as s:
        assert len(s.recent()) == 3
    with Store.open(path, clock=clock, recent_days=120) as s:
        assert len(s.recent()) == 12


def test_query_reaches_archive_only_when_needed(spread, clock, reads):
    path, items = spread
    with Store.open(path, clock=clock) as s:
        reads.clear()
        assert len(s.query(ItemFilter(limit=5))) == 5  # satisfied in memory
        assert len(s.query(ItemFilter())) == 6  # no limit: the recent window
        assert len(s.query(ItemFilter(archive=False, limit=50))) == 6
        assert reads == []
        progress = []
        got = s.query(ItemFilter(archive=True), progress=lambda d, t: progress.append((d, t)))
        assert len(got) == 12
        assert progress[0] == (0, 2) and progress[-1] == (2, 2)
        assert sorted(reads) == ["items-2024-W05.json", "items-2024-W10.json"]
        reads.clear()
        # fewer than limit matched in memory → archive fills the page, newest first
        got = s.query(ItemFilter(limit=8))
        assert [i.first_seen for i in got] == [W19] * 3 + [W18] * 3 + [W10] * 2
        assert reads == ["items-2024-W10.json"]  # W05 cannot beat the page: skipped
        reads.clear()
        # since reaching back before the window
        got = s.query(ItemFilter(since="2024-03-01T00:00:00Z"))
        assert len(got) == 9 and reads == ["items-2024-W10.json"]
        # text search over the whole history
        got = s.query(ItemFilter(text="2024-02-01 item", archive=True))
        assert {i.id for i in got} == {i.id for i in items[W05]}
        # manifest prunes archives that cannot match
        reads.clear()
        calls = []
        assert s.query(ItemFilter(label="sanctions", archive=True),
                       progress=lambda d, t: calls.append((d, t))) == []
        assert reads == [] and calls == []  # nothing to scan, nothing to report


def test_archive_query_honours_flags_and_offset(spread, clock):
    path, items = spread
    with Store.open(path, clock=clock) as s:
        old = items[W05][0]
        assert s.mark(old.id, starred=True)  # an archived id can be marked
        got = s.query(ItemFilter(starred=True, archive=True))
        assert [i.id for i in got] == [old.id]
        everything = s.query(ItemFilter(archive=True))
        page = s.query(ItemFilter(archive=True, limit=4, offset=7))
        assert page == everything[7:11]


def test_old_item_reupserted_is_updated_in_its_archive_not_duplicated(spread, clock):
    path, items = spread
    old = items[W10][0]
    with Store.open(path, clock=clock) as s:
        assert s.upsert_items([replace(old, title="Edited", first_seen=W19)]) == []
        assert s.get(old.id).title == "Edited"
        s.flush()
    with Store.open(path, clock=clock) as s:
        assert s.get(old.id).title == "Edited" and s.get(old.id).first_seen == W10
        assert s.counts_by_label()["talks"] == 12
    w19 = orjson.loads((path / "items-2024-W19.json").read_bytes())["items"]
    assert str(int(old.id, 16)) not in w19


def test_new_item_with_old_first_seen_goes_to_its_week(spread, clock):
    path, _ = spread
    with Store.open(path, clock=clock) as s:
        late = make_item(first_seen="2024-01-02T00:00:00Z")
        assert s.upsert_items([late]) == [late]
        assert not s.known(late.id) and s.get(late.id) == late
        assert s.upsert_items([late]) == []
        s.flush()
        assert s.get(late.id) == late
    assert (path / "items-2024-W01.json").exists()


def test_retention_removes_old_unstarred_keeps_starred(spread, clock):
    path, items = spread
    with Store.open(path, clock=clock) as s:
        keep = items[W10][2]
        read_old = items[W05][0]
        s.mark(keep.id, starred=True)
        s.mark(read_old.id, read=True)
        removed = s.apply_retention(30)
        assert removed == 5  # W05: 3, W10: 2 (one starred)
        assert files(s) == ["items-2024-W10.json", "items-2024-W18.json", "items-2024-W19.json"]
        assert not (path / "items-2024-W05.json.bak").exists()
        assert s.get(keep.id) == keep and s.get(items[W10][0].id) is None
        assert s.flags(read_old.id) == Flags()  # flags of removed items go too
        assert s.counts_by_label()["talks"] == 7
    with Store.open(path, clock=clock) as s:
        assert s.counts_by_label()["talks"] == 7
        assert len(s.query(ItemFilter(archive=True))) == 7
        assert s.flags(keep.id).starred


def test_retention_inside_the_recent_window(spread, clock):
    path, items = spread
    with Store.open(path, clock=clock) as s:
        assert s.apply_retention(5) == 9  # W18 is 9 days old, W19 stays
        assert len(s.recent()) == 3
        assert s.counts_by_label()["talks"] == 3


def test_replace_all_transforms_every_partition(spread, clock):
    path, items = spread
    with Store.open(path, clock=clock) as s:
        s.upsert_items([make_item(first_seen=W19)])  # pending, unflushed
        progress = []

        def reclassify(item):
            return replace(item, labels=("statements",), primary="statements")
        n = s.replace_all(reclassify, progress=lambda d, t: progress.append((d, t)))
        assert n == 13
        assert progress[-1] == (4, 4)
        assert s.counts_by_label()["statements"] == 13 and s.counts_by_label()["talks"] == 0
        assert not s.dirty
        assert s.replace_all(reclassify) == 0
        with pytest.raises(ValueError, match="identity"):
            s.replace_all(lambda i: replace(i, first_seen="2020-01-01T00:00:00Z"))
    with Store.open(path, clock=clock) as s:
        got = s.query(ItemFilter(archive=True))
        assert len(got) == 13 and all(i.labels == ("statements",) for i in got)
        assert s.counts_by_label()["statements"] == 13


def test_window_moves_in_a_long_running_process(spread, clock):
    path, items = spread
    with Store.open(path, clock=clock) as s:
        assert s.known(items[W18][0].id)
        clock.t = NOW + 21 * DAY
        s.upsert_items([make_item(first_seen="2024-05-31T10:00:00Z")])
        s.flush()  # W18 and W19 left the window: evicted from memory
        assert not s.known(items[W18][0].id) and not s.known(items[W19][0].id)
        assert s.get(items[W18][0].id) == items[W18][0]
        assert len(s.recent()) == 1
        assert s.upsert_items([items[W19][0]]) == []  # still deduplicated via the id index


def test_stale_manifest_is_recomputed(spread, clock):
    """A crash after a partition was written but before state.json: the manifest entry no
    longer matches its file and is rebuilt from the file."""
    path, _ = spread
    old_state = (path / "state.json").read_bytes()
    with Store.open(path, clock=clock) as s:
        s.upsert_items([make_item(first_seen=W19, labels=("sanctions",)) for _ in range(4)])
        s.upsert_items([make_item(first_seen=W05, labels=("sanctions",))])
        s.flush()
    (path / "state.json").write_bytes(old_state)  # as if the state write never happened
    (path / "items-2024-W05.ids").unlink()
    with Store.open(path, clock=clock) as s:
        assert s.counts_by_label()["sanctions"] == 5
        assert s.items_per_feed() == {"https://example.org/a.xml": 17}
        assert len(s.query(ItemFilter(label="sanctions", archive=True))) == 5
    with Store.open(path, clock=clock, readonly=True) as s:
        assert s.counts_by_label()["sanctions"] == 5
    assert (path / "items-2024-W05.ids").exists()


def test_partition_deleted_by_hand_is_dropped_from_manifest(spread, clock):
    path, _ = spread
    os.unlink(path / "items-2024-W10.json")
    with Store.open(path, clock=clock) as s:
        assert s.counts_by_label()["talks"] == 9
        assert len(s.query(ItemFilter(archive=True))) == 9


def test_week_rollover_starts_a_new_partition(tmp_path, clock):
    clock.t = NOW + 2 * DAY + 23 * 3600  # Sunday 23:00, still W19
    with Store.open(tmp_path / "db", clock=clock) as s:
        a = make_item(first_seen="2024-05-12T23:00:00Z")
        s.upsert_items([a])
        s.flush()
        clock.t += 2 * 3600  # Monday 01:00, W20
        b = make_item(first_seen="2024-05-13T01:00:00Z")
        s.upsert_items([b])
        before = (tmp_path / "db" / "items-2024-W19.json").stat().st_mtime_ns
        assert s.flush().files == 2
        assert (tmp_path / "db" / "items-2024-W19.json").stat().st_mtime_ns == before
        assert [i.id for i in s.recent()] == [b.id, a.id]
        assert s.upsert_items([a, b]) == []


def test_viewer_follows_retention_and_new_weeks(spread, clock):
    path, items = spread
    viewer = Store.open(path, readonly=True, clock=clock)
    try:
        assert len(viewer.query(ItemFilter(archive=True))) == 12
        with Store.open(path, clock=clock) as writer:
            writer.apply_retention(30)
        assert viewer.reload() is True
        assert len(viewer.query(ItemFilter(archive=True))) == 6
        assert viewer.counts_by_label()["talks"] == 6
        assert viewer.get(items[W05][0].id) is None
    finally:
        viewer.close()


# --- deferred open: the dashboard paints the current week first --------------------------

W18_RECENT = "2024-05-05T10:00:00Z"  # Sunday of W18: 5 days ago, inside the 7-day window


@pytest.fixture
def two_recent_weeks(tmp_path, clock):
    with Store.open(tmp_path / "db", clock=clock) as s:
        current = [make_item(first_seen=W19, title=f"current {i}") for i in range(3)]
        older = [make_item(first_seen=W18_RECENT, title=f"older {i}") for i in range(2)]
        archived = [make_item(first_seen=W10, title="archived")]
        s.upsert_items(current + older + archived)
    return tmp_path / "db", current, older, archived


@pytest.mark.parametrize("readonly", [True, False])
def test_deferred_open_holds_the_current_week_until_load_deferred(two_recent_weeks, clock, readonly):
    path, current, older, archived = two_recent_weeks
    with Store.open(path, readonly=readonly, clock=clock, defer_older=True) as s:
        assert s.deferred
        assert {i.id for i in s.recent()} == {i.id for i in current}
        # Deferred weeks are archives meanwhile: found by id, searched with archive=True.
        assert s.get(older[0].id) == older[0]
        assert {i.id for i in s.query(ItemFilter(archive=True))} == \
            {i.id for i in current + older + archived}
        assert s.load_deferred() == len(older)
        assert not s.deferred and s.load_deferred() == 0
        assert {i.id for i in s.recent()} == {i.id for i in current + older}
    with Store.open(path, readonly=True, clock=clock) as plain:
        assert {i.id for i in plain.recent()} == {i.id for i in current + older}


def test_an_item_of_a_deferred_week_seen_again_is_not_new(two_recent_weeks, clock):
    path, current, older, _ = two_recent_weeks
    with Store.open(path, clock=clock, defer_older=True) as s:
        again = replace(older[0], title="older 0, corrected")
        assert s.upsert_items([again]) == []  # an update, not a new item
        assert s.load_deferred() == len(older)  # the unsaved update included
        assert s.get(older[0].id).title == "older 0, corrected"
        s.flush()
        assert s.get(older[0].id).title == "older 0, corrected"
        assert sum(1 for i in s.recent() if i.id == older[0].id) == 1
    with Store.open(path, readonly=True, clock=clock) as s:
        assert s.get(older[0].id).title == "older 0, corrected"
        assert len(s.recent()) == len(current) + len(older)


def test_a_deferred_week_is_read_one_document_at_a_time_and_equals_a_whole_read(
        two_recent_weeks, clock, monkeypatch):
    """The streamed path builds the same items as decoding the file whole (the tricky
    texts included), without decoding the file whole."""
    path, current, older, _ = two_recent_weeks
    tricky = [replace(i, first_seen=W18_RECENT, published=W18_RECENT,
                      title=i.title + ' ":{"id":"x"} ,"12":{') for i in tricky_items(30)]
    with Store.open(path, clock=clock) as s:
        s.upsert_items(tricky)
    whole_decodes: list[str] = []
    real = codec.decode_tables
    monkeypatch.setattr(codec, "decode_tables",
                        lambda raw, p: (whole_decodes.append(p.name), real(raw, p))[1])
    with Store.open(path, readonly=True, clock=clock, defer_older=True) as s:
        whole_decodes.clear()
        assert s.load_deferred() == len(older) + len(tricky)
        streamed = {i.id: i for i in s.recent()}
        assert whole_decodes == []
    monkeypatch.undo()
    with Store.open(path, readonly=True, clock=clock) as plain:
        assert streamed == {i.id: i for i in plain.recent()}


@pytest.mark.parametrize("damage", ["other layout", "bad document"])
def test_a_deferred_week_in_another_layout_or_damaged_goes_the_whole_file_way(
        two_recent_weeks, clock, damage):
    import json

    from storage import CorruptStoreError

    path, current, older, _ = two_recent_weeks
    week = path / "items-2024-W18.json"
    data = json.loads(week.read_bytes())
    if damage == "bad document":
        first = next(iter(data["items"]))
        data["items"][first]["published"] = 12
        week.write_bytes(orjson.dumps(data))
    else:
        week.write_text(json.dumps(data, indent=1))  # spaces, newlines: not our layout
    if damage == "bad document":
        # A document whose date is not a string: named, whether found by the open (the
        # file changed under the manifest) or by the load; never a crash in a sort later.
        with pytest.raises(CorruptStoreError, match=f"{week.name}.*document {first} is not a valid item"):
            with Store.open(path, readonly=True, clock=clock, defer_older=True) as s:
                s.load_deferred()
        return
    with Store.open(path, readonly=True, clock=clock, defer_older=True) as s:
        assert s.load_deferred() == len(older)
        assert {i.id for i in s.recent()} == {i.id for i in current + older}

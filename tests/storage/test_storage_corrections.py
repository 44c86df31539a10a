"""Labels set by hand: kept in state.json, applied to the stored item everywhere it is read,
and never undone by a poll or a re-classification."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from feeds.model import Classification
from storage import ItemFilter, Store
from storage.corrections import Correction, checked_labels, corrected
from tests.storage.storage_helpers import DAY, make_item


def test_set_labels_moves_the_item_and_survives_reopen(tmp_path, clock):
    with Store.open(tmp_path / "db", clock=clock) as store:
        item = make_item(1, labels=("talks",))
        store.upsert_items([item])
        new = store.set_labels(item.id, ["statements", "sanctions"])
        assert new is not None and new.labels == ("sanctions", "statements")
        assert new.primary in new.labels
        assert [it.id for it in store.query(ItemFilter(label="sanctions"))] == [item.id]
        assert store.query(ItemFilter(label="talks")) == []
        assert store.counts_by_label()["talks"] == 0
        assert store.counts_by_label()["statements"] == 1
        store.flush()
    doc = json.loads((tmp_path / "db" / "state.json").read_text())
    assert list(doc["labels"].values())[0]["labels"] == ["sanctions", "statements"]
    with Store.open(tmp_path / "db", readonly=True, clock=clock) as store:
        assert store.get(item.id).labels == ("sanctions", "statements")
        fix = store.correction(item.id)
        assert fix is not None and fix.at.startswith("2024-05-10")
        assert set(store.corrections()) == {item.id}


def test_none_means_unlabelled(tmp_path, clock):
    with Store.open(tmp_path / "db", clock=clock) as store:
        item = make_item(2, labels=("talks",))
        store.upsert_items([item])
        assert store.set_labels(item.id, []).labels == ()
        assert [it.id for it in store.query(ItemFilter(label="none"))] == [item.id]
        assert store.counts_by_label()["none"] == 1


def test_unknown_item_or_label(tmp_path, clock):
    with Store.open(tmp_path / "db", clock=clock) as store:
        assert store.set_labels("00000000000000ff", ["talks"]) is None
        assert store.set_labels("not an id", ["talks"]) is None
        assert store.corrections() == {}
        store.upsert_items([make_item(3)])
        with pytest.raises(ValueError, match="unknown label 'sport'"):
            store.set_labels(make_item(3).id, ["sport"])


def test_a_poll_and_a_reclassification_keep_the_correction(tmp_path, clock):
    with Store.open(tmp_path / "db", clock=clock) as store:
        item = make_item(4, labels=("talks",))
        store.upsert_items([item])
        store.set_labels(item.id, ["sanctions"])
        # The feed carries it again, classified as before.
        store.upsert_items([replace(item, title="Item 4, updated")])
        again = store.get(item.id)
        assert again.title == "Item 4, updated" and again.labels == ("sanctions",)
        # The rules change: every item is classified again.
        talks = Classification(("talks",), "talks", {"talks": 3.0})
        store.replace_all(lambda it: it.with_classification(talks))
        assert store.get(item.id).labels == ("sanctions",)
        assert store.get(item.id).scores == {"talks": 3.0}  # the rules' view stays visible


def test_correction_of_an_archived_item(tmp_path, clock):
    old = make_item(5, first_seen="2024-03-01T10:00:00Z", labels=("talks",))
    with Store.open(tmp_path / "db", clock=clock) as store:
        store.upsert_items([old])
    clock.t += 2 * DAY
    with Store.open(tmp_path / "db", clock=clock) as store:
        assert not store.known(old.id)  # on disk only
        assert store.set_labels(old.id, ["statements"]).labels == ("statements",)
        store.flush()
    with Store.open(tmp_path / "db", clock=clock) as store:
        assert store.get(old.id).labels == ("statements",)
        found = store.query(ItemFilter(label="statements", archive=True))
        assert [it.id for it in found] == [old.id]


def test_retention_forgets_corrections_of_removed_items(tmp_path, clock):
    old = make_item(6, first_seen="2024-03-01T10:00:00Z")
    with Store.open(tmp_path / "db", clock=clock) as store:
        store.upsert_items([old])
        store.set_labels(old.id, [])
        assert store.apply_retention(30) == 1
        assert store.corrections() == {}


def test_corrected_is_pure():
    item = make_item(7, labels=("talks",))
    assert corrected(item, None) is item
    assert corrected(item, Correction(("talks",), "t")) is item
    moved = corrected(item, Correction(("statements",), "t"))
    assert moved.labels == ("statements",) and moved.primary == "statements"
    assert item.labels == ("talks",)
    assert checked_labels(["statements", "talks", "talks"]) == ("talks", "statements")


def test_a_damaged_correction_is_skipped_not_the_store(tmp_path, clock):
    with Store.open(tmp_path / "db", clock=clock) as store:
        store.upsert_items([make_item(8), make_item(9)])
        store.set_labels(make_item(8).id, ["talks"])
        store.set_labels(make_item(9).id, ["sanctions"])
    state = tmp_path / "db" / "state.json"
    doc = json.loads(state.read_text())
    key = next(k for k, d in doc["labels"].items() if d["labels"] == ["sanctions"])
    doc["labels"][key]["labels"] = ["sport"]
    state.write_text(json.dumps(doc))
    with Store.open(tmp_path / "db", clock=clock) as store:
        assert set(store.corrections()) == {make_item(8).id}
        assert store.get(make_item(9).id).labels == ("sanctions",)  # as stored

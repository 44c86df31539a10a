"""Store.unread_counts: unread items per label and per feed, over the recent window."""
from __future__ import annotations

from pathlib import Path

from storage.store import Store
from tests.storage.storage_helpers import make_item

B = "https://example.org/b.xml"


def test_unread_counts_cover_the_recent_window(tmp_path: Path, clock) -> None:
    talks = make_item(1, labels=("talks",))
    both = make_item(2, labels=("talks", "sanctions"), feed=B)
    none = make_item(3, labels=())
    old = make_item(4, labels=("talks",), first_seen="2024-01-10T10:00:00Z")  # archived
    with Store.open(tmp_path / "s", clock=clock, recent_days=7) as store:
        store.upsert_items([talks, both, none, old])
        store.flush()
    with Store.open(tmp_path / "s", clock=clock, recent_days=7) as store:
        labels, feeds = store.unread_counts()
        # the archived talk is in the stored total, not in the unread count
        assert store.counts_by_label()["talks"] == 3
        assert labels == {"talks": 2, "sanctions": 1, "none": 1}
        assert feeds == {"https://example.org/a.xml": 2, B: 1}
        store.mark_many([both.id], read=True)
        store.mark(none.id, starred=True)  # starred, still unread
        assert store.unread_counts() == ({"talks": 1, "none": 1},
                                         {"https://example.org/a.xml": 2})

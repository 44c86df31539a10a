"""`list --search … --archive`: the whole history, read through the ended weeks' word
indexes (only the current week is loaded), gives what a query over a full open gives."""
from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from feeds.model import Item, utc_iso
from storage import ItemFilter, Store, wordindex
from tui.cli.main import cli

DAY = 86400.0


def _item(n: int, ts: float, title: str, labels: tuple[str, ...]) -> Item:
    return Item(id=f"{0xA000 + n:016x}", feed="https://example.org/a.xml", source="Wire",
                guid=f"g{n}", title=title, summary="Envoys met in Geneva.", link="",
                published=utc_iso(ts), first_seen=utc_iso(ts), labels=labels,
                primary=labels[0] if labels else None)


def test_list_search_archive_covers_every_week(tmp_path: Path, write_config) -> None:
    now = time.time()
    words = ["Quokka talks", "quokka SANCTIONS", "Straße QUOKKAS", "nothing here"]
    # Days back: the current week, the week before (in the recent window), older archives.
    items = [_item(n, now - back * DAY - n, words[n % len(words)], ("talks",) if n % 2 else ())
             for n, back in enumerate([0, 0, 8, 9, 15, 30, 60, 61, 90, 200])]
    db = tmp_path / "store"
    with Store.open(db) as store:
        store.upsert_items(items)
        store.flush()
    ended = list(db.glob("*" + wordindex.SUFFIX))
    assert ended  # the ended weeks were indexed as they were saved
    queries = ["quokka", "QUOKKA talks", "strasse", "quokkas", "geneva", "nowhere"]
    with Store.open(db, readonly=True) as store:  # a full open: the window in memory
        expected = {q: [it.id for it in store.query(ItemFilter(text=q, archive=True))]
                    for q in queries}
        talks = [it.id for it in store.query(ItemFilter(label="talks", text="quokka",
                                                        archive=True))]
    assert len(expected["quokka"]) == 8 and len(expected["geneva"]) == 10
    config = write_config()

    def run(*args: str) -> list[str]:
        r = CliRunner().invoke(cli, ["--config", str(config), "--db", str(db), "list", *args,
                                     "--archive", "--format", "json"])
        assert r.exit_code == 0, r.output
        return [row["id"] for row in json.loads(r.output)]

    for q in queries:
        assert run("--search", q) == expected[q], q
    assert run("--search", "quokka", "--label", "talks") == talks

"""Trends over a frozen clock: counts per label per day, top actors, sparklines, the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from feeds.analysis.trends import build_trends, compute_trends, sparkline
from storage.store import Store
from tests.features.conftest import DAY, HOUR, T0, make_item

# T0 is Thursday 2026-05-14 12:00 UTC: day 13 of a 14-day window is 2026-05-14.
PLAN = [  # (days before T0, label or None, actors)
    (0, "talks", ("Russia", "Ukraine")),
    (0, "talks", ("Russia",)),
    (0, "sanctions", ("European Union", "Russia")),
    (1, "sanctions", ("European Union",)),
    (2, "sanctions", ()),
    (3, "sanctions", ("United States",)),
    (1, "statements", ("Ukraine",)),
    (1, None, ()),
    (9, "sanctions", ("Russia",)),
    (10, "sanctions", ()),
    (13, "talks", ("Turkey",)),
    (20, "talks", ("Turkey", "Russia")),  # only in a 30-day window
]


@pytest.fixture
def store(tmp_path: Path, clock):
    with Store.open(tmp_path / "store", clock=clock, recent_days=14) as store:
        store.upsert_items([make_item(f"Item {n}", published=T0 - days * DAY - HOUR,
                                      labels=(label,) if label else (), actors=actors)
                            for n, (days, label, actors) in enumerate(PLAN)])
        store.flush()
        yield store


def test_counts_per_label_per_day(store) -> None:
    tr = compute_trends(store, 14, T0)
    assert tr.days[0] == "2026-05-01" and tr.days[-1] == "2026-05-14" and len(tr.days) == 14
    assert tr.labels["talks"] == (1,) + (0,) * 12 + (2,)
    assert tr.labels["sanctions"] == (0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1)
    assert tr.labels["statements"][-2] == 1 and tr.labels["none"][-2] == 1
    assert tr.items == 11  # the item of 20 days ago is outside
    assert tr.change("sanctions") == (4, 2)  # doubled this week
    assert tr.total("talks") == 3


def test_top_actors_over_the_window(store) -> None:
    tr = compute_trends(store, 14, T0, top=3)
    assert [(a.name, a.total) for a in tr.actors] == [
        ("Russia", 4), ("European Union", 2), ("Ukraine", 2)]  # ties by name
    assert tr.actors[0].daily[-1] == 3 and tr.actors[0].daily[4] == 1
    month = compute_trends(store, 30, T0)
    assert {a.name: a.total for a in month.actors}["Turkey"] == 2  # read from the archive too


def test_memory_only_actor_counts(store) -> None:
    tr = compute_trends(store, 30, T0, archive=False)
    assert {a.name: a.total for a in tr.actors}["Turkey"] == 1


def test_items_outside_the_window_are_ignored() -> None:
    tr = build_trends({}, [make_item(published=T0 + 2 * DAY, actors=("Russia",))], 7, T0)
    assert tr.actors == () and tr.items == 0 and tr.labels["talks"] == (0,) * 7


def test_sparkline() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([3]) == "█" and sparkline([]) == ""


def test_cli_table_and_json(store, write_config, run_cli) -> None:
    config = write_config()
    store.close()
    r = run_cli(config, "trends")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "Items per day (UTC), 2026-05-01 to 2026-05-14: 11 items"
    sanctions = next(ln for ln in lines if ln.startswith("sanctions"))
    assert sanctions.split() == ["sanctions", "6", "4", "2", "+100%", "▁▁▁██▁▁▁▁▁████"]
    assert any(ln.split()[:2] == ["Russia", "4"] for ln in lines)
    assert "TOP ACTORS" in r.output and any(ln.split()[:1] == ["other"] for ln in lines)
    assert "unlabelled" not in r.output and "none" not in r.output
    data = json.loads(run_cli(config, "trends", "--days", "30", "--format", "json").output)
    assert list(data["labels"]) == ["talks", "sanctions", "statements", "other"]
    assert len(data["days"]) == 30 and data["labels"]["talks"][-1] == 2
    assert data["actors"][0] == {"name": "Russia", "total": 5, "daily": data["actors"][0]["daily"]}
    assert run_cli(config, "trends", "--days", "1").exit_code == 2

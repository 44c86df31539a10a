"""Trends: items per label per day, and the actors named most, over the last N days.

Label counts come from the store's manifest (``daily_counts``: no item is read). Actor counts
need the items: one query over the window, reading only what it must (the recent window is
in memory; a 30-day window also reads the older weeks' files once). Days are UTC days of
``published``, oldest first, the last one being today.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from feeds.model import LABELS, NO_LABEL, Item, label_name, utc_iso

DAY = 86400
SPARK = "▁▂▃▄▅▆▇█"


def change(counts: tuple[int, ...], span: int = 7) -> tuple[int, int]:
    """(the sum of the last ``span`` daily ``counts``, the sum of the ``span`` before them;
    0 when there are fewer than ``2 * span`` days)."""
    return sum(counts[-span:]), sum(counts[-2 * span:-span]) if len(counts) >= 2 * span else 0


@dataclass(frozen=True, slots=True)
class ActorTrend:
    name: str
    total: int  # items naming the actor in the window
    daily: tuple[int, ...]  # per day, oldest first


@dataclass(frozen=True, slots=True)
class Trends:
    days: tuple[str, ...]  # "YYYY-MM-DD" (UTC), oldest first
    # store label → per day: talks, sanctions, statements, "none" (shown as "other")
    labels: dict[str, tuple[int, ...]]
    actors: tuple[ActorTrend, ...] = ()  # the top actors, most items first
    items: int = 0  # items in the window (each counted once)

    def total(self, label: str) -> int:
        return sum(self.labels.get(label, ()))

    def change(self, label: str, span: int = 7) -> tuple[int, int]:
        """(items in the last ``span`` days, items in the ``span`` days before them)."""
        return change(self.labels.get(label, ()), span)

    def to_dict(self) -> dict[str, Any]:
        return {"days": list(self.days), "items": self.items,
                "labels": {label_name(k): list(v) for k, v in self.labels.items()},
                "actors": [{"name": a.name, "total": a.total, "daily": list(a.daily)}
                           for a in self.actors]}


def compute_trends(store: Any, days: int, now: float, *, top: int = 10,
                   archive: bool | None = None) -> Trends:
    """Counts per label per day and the ``top`` actors over the last ``days`` days, from a
    ``storage.Store``. ``archive=False`` counts actors over the in-memory window only (fast,
    for a dashboard refresh); the label counts always cover every day (manifest)."""
    from storage.query import ItemFilter  # the one place feeds/ reads through the Store API

    if days < 1:
        raise ValueError("days must be >= 1")
    since = utc_iso((int(now // DAY) - days + 1) * DAY)[:10]
    items = store.query(ItemFilter(since=since, archive=archive))
    return build_trends(store.daily_counts(days, now), items, days, now, top=top)


def build_trends(daily: dict[str, list[int]], items: Iterable[Item], days: int, now: float,
                 *, top: int = 10) -> Trends:
    """The pure part: ``daily`` as ``Store.daily_counts(days, now)`` returns it, ``items``
    published in the window (others are ignored)."""
    last = int(now // DAY)
    names = tuple(utc_iso(d * DAY)[:10] for d in range(last - days + 1, last + 1))
    labels = {label: tuple(daily.get(label, [0] * days)) for label in (*LABELS, NO_LABEL)}
    for label, counts in daily.items():  # a label the store knows and this version does not
        labels.setdefault(label, tuple(counts))
    slot = {name: i for i, name in enumerate(names)}
    per_actor: dict[str, list[int]] = {}
    n_items = 0
    for item in items:
        i = slot.get(item.published[:10])
        if i is None:
            continue  # outside the window (or ahead of our clock)
        n_items += 1
        for actor in item.actors:
            counts = per_actor.get(actor)
            if counts is None:
                counts = per_actor[actor] = [0] * days
            counts[i] += 1
    ranked = sorted(per_actor.items(), key=lambda kv: (-sum(kv[1]), kv[0]))[:top]
    return Trends(names, labels, tuple(ActorTrend(name, sum(c), tuple(c)) for name, c in ranked),
                  n_items)


def sparkline(values: tuple[int, ...] | list[int]) -> str:
    """One character per value: ▁ for zero, ▂…█ scaled to the largest value."""
    peak = max(values, default=0)
    if peak <= 0:
        return SPARK[0] * len(values)
    top = len(SPARK) - 1
    return "".join(SPARK[0] if v <= 0 else SPARK[max(1, round(v / peak * top))]
                   for v in values)

"""Helpers for the storage tests: an item factory, items with tricky texts, and a clock the
test moves by hand."""
from __future__ import annotations

import itertools
import random

from feeds.model import Item, Match, parse_utc_iso

# Friday 2024-05-10 12:00 UTC, ISO week 2024-W19.
NOW = parse_utc_iso("2024-05-10T12:00:00Z")
DAY = 86400.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = NOW) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


_counter = itertools.count(1)


def make_item(n: int | None = None, *, first_seen: str = "2024-05-10T10:00:00Z",
              published: str | None = None, feed: str = "https://example.org/a.xml",
              title: str | None = None, summary: str = "Envoys met in Geneva.",
              labels: tuple[str, ...] = ("talks",), **kw) -> Item:
    n = next(_counter) if n is None else n
    return Item(
        id=f"{n:016x}", feed=feed, source=kw.pop("source", "Example"), guid=f"guid-{n}",
        title=f"Item {n}" if title is None else title, summary=summary,
        link=f"https://example.org/{n}", published=published or first_seen,
        first_seen=first_seen, labels=labels, primary=labels[0] if labels else None,
        scores={"talks": 1.0} if labels else {},
        evidence=(Match("talks", "talk*", "talks", "title", 0, 5, 1.0),) if labels else (),
        **kw)


TRICKY = ['He said "stop" now', "back\\slash path C:\\data", 'braces },"12":{ inside',
          "Straße in KÖLN", "İstanbul talks", "Kelvin \u212a sign", "emoji 🕊 peace",
          "tab\tand newline\nin text", "ﬁnance ministers", "ΣΊΣΥΦΟΣ"]


def tricky_items(n=60, seed=5):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        title = f"{rnd.choice(TRICKY)} {i}"
        out.append(make_item(0x1000 + i, title=title, summary=rnd.choice(TRICKY),
                             source=rnd.choice(["Wire", "Agence \"Q\"", "Zürich Post"]),
                             labels=rnd.choice([(), ("talks",), ("talks", "sanctions")]),
                             actors=("Ärzte", "UN") if i % 3 else (),
                             cluster="c" if i % 2 else None,
                             date_missing=bool(i % 5 == 0)))
    return out


def count_decodings(monkeypatch, module) -> list[int]:
    """Spy on ``module.items_from_docs``: the returned list gets each call's document count."""
    decoded: list[int] = []
    real = module.items_from_docs
    monkeypatch.setattr(module, "items_from_docs",
                        lambda p, docs: (decoded.append(len(docs)), real(p, docs))[1])
    return decoded

"""Keeping an item's identity when a feed changes its guid on every poll.

Ids come from (feed, guid). Some feeds regenerate guids each time they are built; without
care every poll would store the same stories again. The previous document's ids are kept with
a short hash of each item's link: an incoming item with an unknown id whose link is the link
of exactly one previous item (and of no other incoming item) takes that item's id.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import replace
from typing import Iterable

from feeds.model import Item


def link_key(link: str) -> str:
    return hashlib.blake2b(link.encode("utf-8", "replace"), digest_size=6).hexdigest() if link else ""


def carry_over_ids(items: list[Item], prev_ids: Iterable[str], prev_links: Iterable[str],
                   known: set[str], kept: Iterable[tuple[str, str]] = ()) -> list[Item]:
    """``items`` with unknown ids replaced by the previous id of the same link, where unique.
    ``kept``: (id, link key) of the document's other entries, unchanged since the last parse
    (their ids and links count, but they are not given as items)."""
    prev = list(zip(prev_ids, prev_links))
    prev_count = Counter(k for _, k in prev if k)
    by_link = {k: i for i, k in prev if k and prev_count[k] == 1}
    if not by_link or not items:
        return items
    kept = list(kept)
    keys = [link_key(it.link) for it in items]
    now_count = Counter(k for k in [*keys, *(k for _, k in kept)] if k)
    taken = {it.id for it in items} | {i for i, _ in kept}
    out = []
    for it, k in zip(items, keys):
        old = by_link.get(k) if k and now_count[k] == 1 else None
        if old and it.id not in known and old not in taken:
            it = replace(it, id=old)
            taken.add(old)
        out.append(it)
    return out

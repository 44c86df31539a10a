"""The manifest: per weekly partition, the counts the dashboard asks for.

An entry holds the partition's item count, items per feed, per label and per published day
(by label), and the range of ``published``, so whole-store counts are answered and archives
ruled out of a query without opening them. The entries describing the files on disk are
saved in state.json (meta ``partitions``: {week key: entry}) with the stat of the file each
describes; an entry whose stat does not match its file is recomputed from the file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from feeds.model import LABELS, NO_LABEL

from .codec import bad_document
from .query import ItemFilter


def _bump(counter: dict[str, int], key: str, delta: int) -> None:
    n = counter.get(key, 0) + delta
    if n > 0:
        counter[key] = n
    else:
        counter.pop(key, None)


@dataclass(slots=True)
class ManifestEntry:
    """One partition summarised. ``stat`` is the (size, mtime_ns, inode) of the file the
    entry describes: set on saved entries, None on live ones (which include unsaved changes)."""

    count: int = 0
    feeds: dict[str, int] = field(default_factory=dict)  # feed key → items
    labels: dict[str, int] = field(default_factory=dict)  # label (or "none") → items
    days: dict[str, dict[str, int]] = field(default_factory=dict)  # YYYY-MM-DD → label → items
    min_published: str | None = None
    max_published: str | None = None
    stat: list[int] | None = None

    @classmethod
    def from_docs(cls, docs: Iterable[Mapping[str, Any]]) -> ManifestEntry:
        entry = cls()
        add = entry.add
        for d in docs:
            add(d["feed"], d["published"], d.get("labels") or ())
        return entry

    @classmethod
    def of_partition(cls, path: Path, docs: dict[str, Any]) -> ManifestEntry:
        """A partition's entry, recomputed; a document that is not an item is named."""
        try:
            return cls.from_docs(docs.values())
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            raise bad_document(path, docs) from None

    @classmethod
    def from_dict(cls, d: Any) -> ManifestEntry | None:
        """A saved entry; None if it is malformed (it is then recomputed from its file)."""
        if not (isinstance(d, dict) and isinstance(d.get("count"), int)
                and isinstance(d.get("feeds"), dict) and isinstance(d.get("labels"), dict)
                and isinstance(d.get("days"), dict) and isinstance(d.get("stat"), list)):
            return None
        return cls(d["count"], d["feeds"], d["labels"], d["days"], d.get("min_published"),
                   d.get("max_published"), d["stat"])

    def to_dict(self) -> dict[str, Any]:
        """The saved form (keys in this order: state.json stays byte for byte the same)."""
        d = {"count": self.count, "feeds": self.feeds, "labels": self.labels, "days": self.days,
             "min_published": self.min_published, "max_published": self.max_published}
        if self.stat is not None:
            d["stat"] = self.stat
        return d

    def live_copy(self) -> ManifestEntry:
        """A copy without the file stat, deep enough to mutate independently."""
        return ManifestEntry(int(self.count), dict(self.feeds), dict(self.labels),
                             {d: dict(c) for d, c in self.days.items()},
                             self.min_published, self.max_published)

    def add(self, feed: str, published: str, labels: Iterable[str], delta: int = 1) -> None:
        """Count (delta=1) or uncount (delta=-1) one item.

        min/max published only ever widen: they are bounds for pruning, and stay valid as
        bounds when an item leaves. A rewrite of the partition recomputes them exactly.
        """
        self.count += delta
        _bump(self.feeds, feed, delta)
        keys = tuple(labels) or (NO_LABEL,)
        for label in keys:
            _bump(self.labels, label, delta)
        day = self.days.setdefault(published[:10], {})
        for label in keys:
            _bump(day, label, delta)
        if not day:
            del self.days[published[:10]]
        if delta > 0:
            lo, hi = self.min_published, self.max_published
            if lo is None or published < lo:
                self.min_published = published
            if hi is None or published > hi:
                self.max_published = published

    def may_hold(self, f: ItemFilter) -> bool:
        """Could the partition hold a match of ``f``? (count, published range, label, feeds)"""
        if self.count <= 0:
            return False
        hi = self.max_published or ""
        lo = self.min_published or ""
        if f.since is not None and hi < f.since:
            return False
        if f.until is not None and lo and lo >= f.until:
            return False
        if f.label is not None and not self.labels.get(f.label):
            return False
        return f.feeds is None or any(self.feeds.get(k) for k in f.feeds)


def manifest_from_dict(raw: Any) -> dict[str, ManifestEntry]:
    """The saved manifest; malformed entries are dropped (recomputed from their files)."""
    if not isinstance(raw, dict):
        return {}
    entries = {k: ManifestEntry.from_dict(e) for k, e in raw.items()}
    return {k: e for k, e in entries.items() if e is not None}


def manifest_to_dict(manifest: Mapping[str, ManifestEntry]) -> dict[str, dict[str, Any]]:
    return {k: e.to_dict() for k, e in manifest.items()}


def label_totals(entries: Iterable[ManifestEntry]) -> dict[str, int]:
    """Items per label (an item counts under each of its labels; "none": unlabelled)."""
    out = {label: 0 for label in (*LABELS, NO_LABEL)}
    for e in entries:
        for label, n in e.labels.items():
            out[label] = out.get(label, 0) + n
    return out


def feed_totals(entries: Iterable[ManifestEntry]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in entries:
        for feed, n in e.feeds.items():
            out[feed] = out.get(feed, 0) + n
    return out


def daily_label_counts(entries: Iterable[ManifestEntry],
                       day_names: list[str]) -> dict[str, list[int]]:
    """label → items per day of ``day_names`` (consecutive YYYY-MM-DD, oldest first)."""
    days = len(day_names)
    slot = {d: i for i, d in enumerate(day_names)}
    out = {label: [0] * days for label in (*LABELS, NO_LABEL)}
    for e in entries:
        hi = e.max_published
        if hi is None or hi[:10] < day_names[0]:
            continue
        for day, counts in e.days.items():
            i = slot.get(day)
            if i is None:
                continue
            for label, n in counts.items():
                out.setdefault(label, [0] * days)[i] += n
    return out

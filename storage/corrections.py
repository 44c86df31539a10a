"""Labels set by hand: an analyst's correction of what the rules said about one item.

A correction lives in state.json (table ``labels``, per item id) and is applied to the
stored item itself, so every read, query, count and archive search sees the corrected
labels without knowing about corrections. The store applies it again wherever the
classifier's labels come back: a poll re-seeing the item, a re-classification after a rules
change. The classifier's scores and evidence stay: they show what the rules thought.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable

from feeds.model import LABELS, Item, utc_iso

from .codec import encodable_doc
from .partition import ITEM_ID_RE


@dataclass(frozen=True, slots=True)
class Correction:
    """The labels an analyst gave an item (none: an empty tuple), and when (UTC ISO)."""

    labels: tuple[str, ...]
    at: str

    def to_dict(self) -> dict[str, Any]:
        return {"labels": list(self.labels), "at": self.at}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Correction":
        return cls(checked_labels(d.get("labels") or ()), str(d.get("at") or ""))


def checked_labels(labels: Iterable[str]) -> tuple[str, ...]:
    """``labels`` in the order of LABELS, without repeats; ValueError names an unknown one."""
    given = list(labels)
    unknown = [lbl for lbl in given if lbl not in LABELS]
    if unknown:
        raise ValueError(f"unknown label {unknown[0]!r} (known: {', '.join(LABELS)})")
    return tuple(lbl for lbl in LABELS if lbl in given)


def corrected(item: Item, correction: Correction | None) -> Item:
    """``item`` with the correction's labels (``item`` itself when nothing differs)."""
    if correction is None:
        return item
    labels = correction.labels
    primary = _primary(item, labels)
    if labels == tuple(item.labels) and primary == item.primary:
        return item
    return replace(item, labels=labels, primary=primary)


def _primary(item: Item, labels: tuple[str, ...]) -> str | None:
    # The classifier's primary label while it is among the corrected ones; otherwise the
    # corrected label the rules scored highest (ties: the order of LABELS).
    if item.primary in labels:
        return item.primary
    if not labels:
        return None
    return max(labels, key=lambda lbl: (item.scores.get(lbl, 0.0), -LABELS.index(lbl)))


class LabelCorrections:
    """The store's side of corrections (mixed into storage.store.Store, whose state, weeks,
    lock and clock it uses)."""

    def set_labels(self, item_id: str, labels: Iterable[str]) -> Item | None:
        """Give an item these labels by hand (none: unlabelled); returns the item as now
        stored, or None (and nothing stored) if the id is unknown. ValueError for a label
        not in LABELS. The correction, with its time, is kept in state.json and wins over
        the classifier from now on (polls, re-classification). ``flush()`` to save."""
        self._require_writer("set labels")
        fix = Correction(checked_labels(labels), utc_iso(self._clock()))
        with self._lock:
            self._require_open()
            home, old = self._weeks.find(item_id) if ITEM_ID_RE.fullmatch(item_id) else (None, None)
            if home is None or old is None:
                return None
            self._state.set_labels(item_id, fix)
            new = corrected(old, fix)
            if new is not old:
                self._weeks.update(home, {item_id: (old, new)}, {item_id: encodable_doc(new)})
            return new

    def correction(self, item_id: str) -> Correction | None:
        """The labels an analyst set on this item, if any."""
        with self._lock:
            return self._state.labels.get(item_id)

    def corrections(self) -> dict[str, Correction]:
        """Every item whose labels were set by hand: id → correction."""
        with self._lock:
            return dict(self._state.labels)


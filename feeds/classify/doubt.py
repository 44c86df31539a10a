"""How sure the rules are of an item's labels: the label whose score lies nearest its threshold.

The rules are most often wrong where a score sits near its threshold, on either side: of the
labelled wires, the 5 % nearest one are wrong two to two and a half times as often as the
average (benchmarks/bench_review.py). The desk reads those first (`diplowatch labels review`,
the dashboard's review screen) and corrects them, and the corrections become an evaluation
set for the rules.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping, TypeVar

from feeds.model import LABELS

if TYPE_CHECKING:
    from feeds.classify.rules import RulesSpec

T = TypeVar("T")


def label_thresholds(spec: "RulesSpec", about: str | None = None) -> dict[str, float]:
    """Each label's threshold in these rules; with ``about``, that label's alone (so that
    only the doubts about it are weighed)."""
    found = {lr.label: lr.threshold for lr in spec.labels}
    return found if about is None else {k: v for k, v in found.items() if k == about}


@dataclass(frozen=True, slots=True)
class Doubt:
    """The label nearest its threshold, with its score."""

    label: str
    score: float
    threshold: float

    @property
    def distance(self) -> float:
        """How far the score is from the threshold, as a share of it: 1.8 against 2 is as
        near as 0.9 against 1 (0.1). Rounded, so that sums of the same weights in another
        order (0.6 + 0.3 and 0.9) are equally near."""
        return round(abs(self.score - self.threshold) / self.threshold, 9)

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score, "threshold": self.threshold}

    @property
    def words(self) -> str:
        """"statements 1.9/2": the label, its score and its threshold."""
        return f"{self.label} {self.score:g}/{self.threshold:g}"


def doubt(scores: Mapping[str, float], thresholds: Mapping[str, float]) -> Doubt | None:
    """The label whose score is nearest its threshold, or None when no label has a score
    above 0 (no rule fired, or only penalties: nothing pulls the item towards a label, so
    there is nothing to doubt). Ties go to the earlier label."""
    best: Doubt | None = None
    for label in LABELS:
        score, threshold = scores.get(label, 0.0), thresholds.get(label)
        if score <= 0 or not threshold:
            continue
        found = Doubt(label, score, threshold)
        if best is None or found.distance < best.distance:
            best = found
    return best


def least_sure(scored: Iterable[tuple[T, Mapping[str, float]]], thresholds: Mapping[str, float],
               limit: int) -> list[tuple[Doubt, T]]:
    """The ``limit`` things (items, rows) whose scores lie nearest a threshold, nearest first;
    among equals, in the order given. Those with no score above 0 are left out."""
    found = ((near, n, thing) for n, (thing, scores) in enumerate(scored)
             if (near := doubt(scores, thresholds)) is not None)
    return [(near, thing) for near, _, thing in
            heapq.nsmallest(limit, found, key=lambda x: (x[0].distance, x[1]))]

"""How sure the rules are of an item's labels: the label whose score lies nearest its threshold.

The rules are most often wrong where a score sits near its threshold, on either side: the
10 % of the labelled wires nearest one hold about twice the wrong label sets of the rest. The
desk reads those first (`diplowatch labels review`) and corrects them, and the corrections
become an evaluation set for the rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from feeds.model import LABELS


@dataclass(frozen=True, slots=True)
class Doubt:
    """The label nearest its threshold, with its score."""

    label: str
    score: float
    threshold: float

    @property
    def distance(self) -> float:
        """How far the score is from the threshold, as a share of it: 1.8 against 2 is as
        near as 0.9 against 1 (0.1)."""
        return abs(self.score - self.threshold) / self.threshold


def doubt(scores: Mapping[str, float], thresholds: Mapping[str, float]) -> Doubt | None:
    """The label whose score is nearest its threshold, or None when no rule fired for any
    label (a score of 0: the rules saw nothing to weigh, so there is nothing to doubt).
    Ties go to the earlier label."""
    best: Doubt | None = None
    for label in LABELS:
        score, threshold = scores.get(label, 0.0), thresholds.get(label)
        if not score or not threshold:
            continue
        found = Doubt(label, score, threshold)
        if best is None or found.distance < best.distance:
            best = found
    return best

"""Building the classifier's results fast: a frozen dataclass's ``__init__`` sets each field
through ``object.__setattr__``; writing the slots directly builds an equal object in half the
time, and every item builds a Classification and its evidence. If model.py changes these
classes, the plain constructors are used."""
from __future__ import annotations

from dataclasses import fields
from typing import Callable

from feeds.model import Classification, Match


def _match_builder() -> Callable[..., Match]:
    names = tuple(f.name for f in fields(Match))
    if names != ("label", "term", "text", "field", "start", "end", "weight"):
        return Match
    s_label, s_term, s_text, s_field, s_start, s_end, s_weight = (
        getattr(Match, name).__set__ for name in names)
    new = object.__new__

    def build(label: str, term: str, text: str, field: str, start: int, end: int,
              weight: float) -> Match:
        m = new(Match)
        s_label(m, label)
        s_term(m, term)
        s_text(m, text)
        s_field(m, field)
        s_start(m, start)
        s_end(m, end)
        s_weight(m, weight)
        return m

    return build


def _classification_builder() -> Callable[..., Classification]:
    names = tuple(f.name for f in fields(Classification))
    if names != ("labels", "primary", "scores", "evidence"):
        return Classification
    s_labels, s_primary, s_scores, s_evidence = (
        getattr(Classification, name).__set__ for name in names)
    new = object.__new__

    def build(labels: tuple[str, ...], primary: str | None, scores: dict[str, float],
              evidence: tuple[Match, ...]) -> Classification:
        c = new(Classification)
        s_labels(c, labels)
        s_primary(c, primary)
        s_scores(c, scores)
        s_evidence(c, evidence)
        return c

    return build


new_match = _match_builder()
new_classification = _classification_builder()

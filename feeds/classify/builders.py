"""Building the classifier's results fast: a frozen dataclass's ``__init__`` sets each field
through ``object.__setattr__``, and even writing its slots through their descriptors costs a
C call (with an argument tuple) per field; every item builds a Classification and its
evidence, ~6 matches. Instead, a plain class with the same slots is filled by ordinary
attribute stores (a few instructions each), and the object then becomes the frozen class by
``__class__`` assignment, which Python allows between classes of the same layout: the
result is an ordinary instance of the frozen class, equal to (and pickled like) one built by
its constructor, in about a third of the time. If model.py changes these classes so that
this no longer holds, the plain constructors are used."""
from __future__ import annotations

from dataclasses import fields
from typing import Callable

from feeds.model import Classification, Match


def _twin(cls: type, names: tuple[str, ...]) -> type | None:
    """A plain class with ``cls``'s slots that an instance can leave for ``cls``, or None."""
    if tuple(f.name for f in fields(cls)) != names or getattr(cls, "__slots__", None) != names:
        return None
    twin = type(f"_{cls.__name__}Raw", (), {"__slots__": names})
    try:
        probe = object.__new__(twin)
        for name in names:
            setattr(probe, name, None)
        probe.__class__ = cls
    except TypeError:  # a layout Python will not convert
        return None
    return twin


def _match_builder() -> Callable[..., Match]:
    twin = _twin(Match, ("label", "term", "text", "field", "start", "end", "weight"))
    if twin is None:
        return Match
    new = object.__new__

    def build(label: str, term: str, text: str, field: str, start: int, end: int,
              weight: float) -> Match:
        m = new(twin)
        m.label = label
        m.term = term
        m.text = text
        m.field = field
        m.start = start
        m.end = end
        m.weight = weight
        m.__class__ = Match
        return m

    return build


def _classification_builder() -> Callable[..., Classification]:
    twin = _twin(Classification, ("labels", "primary", "scores", "evidence"))
    if twin is None:
        return Classification
    new = object.__new__

    def build(labels: tuple[str, ...], primary: str | None, scores: dict[str, float],
              evidence: tuple[Match, ...]) -> Classification:
        c = new(twin)
        c.labels = labels
        c.primary = primary
        c.scores = scores
        c.evidence = evidence
        c.__class__ = Classification
        return c

    return build


new_match = _match_builder()
new_classification = _classification_builder()

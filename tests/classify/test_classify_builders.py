"""The fast result builders give the same objects as the dataclass constructors."""
from __future__ import annotations

import dataclasses
import pickle

import pytest

from feeds.classify.builders import _twin, new_classification, new_match
from feeds.model import Classification, Match


def test_a_built_match_is_a_plain_frozen_match() -> None:
    built = new_match("talks", "peace talks", "Peace talks", "title", 0, 11, 1.5)
    plain = Match("talks", "peace talks", "Peace talks", "title", 0, 11, 1.5)
    assert type(built) is Match
    assert built == plain and hash(built) == hash(plain) and repr(built) == repr(plain)
    assert pickle.loads(pickle.dumps(built)) == plain
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.text = "other"  # type: ignore[misc]


def test_a_built_classification_is_a_plain_frozen_classification() -> None:
    evidence = (new_match("sanctions", "embargo*", "embargoes", "summary", 4, 13, 1.0),)
    built = new_classification(("sanctions",), "sanctions", {"sanctions": 1.0}, evidence)
    plain = Classification(("sanctions",), "sanctions", {"sanctions": 1.0}, evidence)
    assert type(built) is Classification
    assert built == plain and repr(built) == repr(plain)
    assert pickle.loads(pickle.dumps(built)) == plain
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.primary = None  # type: ignore[misc]


def test_classes_of_another_layout_get_no_twin() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int
        b: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Other:
        a: int
        b: int

    assert _twin(NoSlots, ("a", "b")) is None  # no slots: the constructor is used
    assert _twin(Other, ("b", "a")) is None  # fields renamed or reordered
    twin = _twin(Other, ("a", "b"))
    assert twin is not None
    made = object.__new__(twin)
    made.a, made.b = 1, 2
    made.__class__ = Other
    assert made == Other(1, 2)

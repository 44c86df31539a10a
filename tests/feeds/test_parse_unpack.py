"""A worker's result read back: equal label, actor and score values become one object."""
from __future__ import annotations

import pickle

from feeds.model import Item, Match
from feeds.parse.document import ParsedFeed
from feeds.parse.pool import pack, unpack


def _item(n: int, scores: dict[str, float], weight: float = 2.0) -> Item:
    return Item(f"id{n}", "http://x/feed", "X", f"g{n}", f"Talks resume {n}", "", "",
                "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", labels=("talks",),
                primary="talks", scores=scores, actors=("Russia", "Ukraine"),
                evidence=(Match("talks", "talks", "Talks", "title", 0, 5, weight),))


def _round_trip(items: list[Item]) -> list[Item]:
    """As from a worker: each document pickled on its own."""
    return [unpack(pickle.loads(pickle.dumps(pack(ParsedFeed(True, [item]))))).items[0]
            for item in items]


def test_equal_values_of_items_from_different_documents_are_one_object() -> None:
    scores = {"talks": 2.0, "sanctions": 0.0, "statements": 0.0}
    a, b = _round_trip([_item(1, dict(scores)), _item(2, dict(scores))])
    assert a.to_dict() == _item(1, scores).to_dict() and b.to_dict() == _item(2, scores).to_dict()
    assert a.scores is b.scores and a.labels is b.labels and a.actors is b.actors
    assert a.evidence[0].weight is b.evidence[0].weight
    assert a.title is not b.title


def test_negative_zero_is_never_shared_with_zero() -> None:
    plus = {"talks": 2.0, "sanctions": 0.0, "statements": 0.0}
    minus = {"talks": 2.0, "sanctions": -0.0, "statements": 0.0}
    a, b, c = _round_trip([_item(1, plus), _item(2, minus), _item(3, dict(plus))])
    assert repr(b.scores) == repr(minus) and repr(a.scores) == repr(plus)
    assert a.scores is c.scores and b.scores is not a.scores
    zero, negative = _round_trip([_item(4, plus, 0.0), _item(5, plus, -0.0)])
    assert repr(zero.evidence[0].weight) == "0.0" and repr(negative.evidence[0].weight) == "-0.0"


def test_equal_matches_of_different_documents_are_one_object() -> None:
    scores = {"talks": 2.0, "sanctions": 0.0, "statements": 0.0}
    a, b = _round_trip([_item(1, dict(scores)), _item(2, dict(scores))])
    assert a.evidence[0] is b.evidence[0] and a.evidence == _item(1, scores).evidence
    other = _round_trip([_item(3, dict(scores), weight=3.0)])[0]
    assert other.evidence[0] is not a.evidence[0] and other.evidence[0].weight == 3.0
    zero, zero_again = _round_trip([_item(4, scores, 0.0), _item(5, scores, 0.0)])
    assert zero.evidence[0] is not zero_again.evidence[0]  # (0.0 would match -0.0)

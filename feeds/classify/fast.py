"""The compiled rules as tables for the C scan (``feeds/classify/_scan.c``).

The C module does an item's whole hot path, the scan, near pairing, exclusions and the
per-label totals, in one call; the engine then only turns totals into labels and kept spans
into evidence. It is optional: where it was not built (no C compiler at install), or its
tables cannot express a rule, the engine's pure-Python path runs, which gives the same
classifications (tests compare the two on every item they can find).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from feeds.classify.near import crosses
from feeds.classify.scancopy import LOWER_BLANK_ASCII, scan_text
from feeds.model import LABELS, Match

if TYPE_CHECKING:
    from feeds.classify.engine import _Compiled

try:  # built from _scan.c at install; absent where that was not possible
    from feeds.classify import _scan
except ImportError:  # pragma: no cover - depends on the install
    _scan = None  # type: ignore[assignment]


def available() -> bool:
    """Whether the C scan was built for this interpreter."""
    return _scan is not None


def build_engine(c: "_Compiled", rows: tuple) -> Any | None:
    """The C engine for the compiled rules ``c``, or None (no C module, or a phrase it
    cannot take). ``rows``: per field, per rule, what its evidence holds there (label,
    rule as written, field, weight)."""
    if _scan is None or not c.phrases:
        return None
    phrases = [(phrase, False, atoms) for phrase, atoms in c.literal.items()]
    phrases += [(phrase, True, atoms) for phrase, atoms in c.stems.items()]
    rules = [(r.label_index, r.title_weight, r.weight,
              r.distance if r.distance is not None else -1, int(r.ordered), int(r.sentence),
              int(i in c.field_skip[0]), int(i in c.field_skip[1]))
             for i, r in enumerate(c.rules)]
    exclusions = [(LABELS.index(label), distance if distance is not None else -1,
                   int(ordered), int(sentence))
                  for label, _, distance, ordered, sentence in c.exclusions]
    try:
        return _scan.Engine(phrases, c.uses, rules, exclusions, dict(c.cased), len(LABELS),
                            crosses, Match, rows, LOWER_BLANK_ASCII, scan_text)
    # Match no longer a class of slots (TypeError), or a phrase with a character the C
    # trie has no edge for (ValueError): the Python path runs.
    except (TypeError, ValueError):
        return None

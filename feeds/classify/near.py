"""Pairing the two parts of a near pattern (``A ~N B``) in one field: which occurrences
pair up, and the words between them. The engine finds the occurrences in its one scan;
this module only counts words and pairs spans. See :mod:`feeds.classify.rules`, "Near
patterns", for what a match means."""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import lru_cache

# What counts as one word between the two parts of a near pattern.
_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
_GAPS_MAX = 50_000
_GAPS: dict[str, int] = {}  # short gaps and their words: news repeats " the ", " on "


def _gap_words(text: str, a: int, b: int, limit: int) -> int:
    """The words in ``text[a:b]``, counted up to ``limit + 1``: a near pattern only needs
    to know whether there are more than ``limit``, and a far pair should not cost a regex
    run over the whole gap."""
    if b - a <= 40:  # a short gap: one C call beats a Python loop, and a known gap both
        gap = text[a:b]
        n = _GAPS.get(gap)
        if n is None:
            if len(_GAPS) >= _GAPS_MAX:
                _GAPS.clear()
            n = _GAPS[gap] = len(_WORD.findall(gap))
        return n
    if _more_than(limit).match(text, a, b):
        return limit + 1
    return len(_WORD.findall(text, a, b))


@lru_cache(maxsize=None)  # one per near distance in the rules
def _more_than(limit: int) -> re.Pattern[str]:
    """Matches at the start of a gap holding more than ``limit`` words (as :data:`_WORD`
    counts them): one C call, where counting them costs a Python step per word. Each word
    is taken whole (an atomic group), so a long word never counts as two."""
    return re.compile(r"(?>\W*\w+(?:['\u2019]\w+)*){%d}" % (limit + 1))


# A sentence ends at . ! or ? followed by space and a capitalised word (closing and opening
# quotes or brackets may sit between).
_STOP = re.compile("[.!?][\"'\u201d\u2019)\\]]*\\s+[\"'\u201c\u2018(\\[]*([^\\W\\d_]\\w*)")
# Before a capitalised name, never a sentence end: "Mr. Lavrov", "Gen. Smith".
_TITLE_ABBREV = frozenset(
    "mr mrs ms dr gen sen rep gov lt col capt sgt st prof jr sr no vs maj adm cmdr rev hon "
    "ft mt messrs pres atty supt cpl pvt brig gov't".split())
# After a dotted abbreviation or an initial ("U.S.", "U.N.", "J."), a sentence end only when
# the next word is one that starts sentences, not a name: "U.S. He denies" vs "U.S. Army".
_STARTERS = frozenset(
    "the he she it they we i in but a an this that these those on at after as his her their "
    "its there however meanwhile earlier later also separately while when if what".split())


def sentence_stops(text: str, start: int = 0, end: int | None = None) -> list[int]:
    """Offsets of the punctuation that ends a sentence in ``text`` (from ``start`` up to
    ``end``), ascending."""
    out = []
    for m in _STOP.finditer(text, start, len(text) if end is None else end):
        if not m[1][0].isupper():
            continue
        p = m.start()
        if text[p] == ".":
            j = p
            while j > 0 and not text[j - 1].isspace() and text[j - 1] not in "\"'(\u201c\u2018[":
                j -= 1
            word = text[j:p].lower()
            if word in _TITLE_ABBREV:
                continue
            if (len(word) == 1 or "." in word) and m[1].lower() not in _STARTERS:
                continue
        out.append(p)
    return out


def crosses(text: str, a: int, b: int) -> bool:
    """Whether a sentence ends between offsets ``a`` and ``b``; ``a - 1`` counts, as the
    first part may end with the period ("U.S. He"). Most gaps hold no . ! or ?, which a
    C-level search rules out. (Callers test the rule's ``sentence`` flag first: most near
    rules have none, and the test is cheaper than a call.)"""
    gap = text[max(a - 1, 0):b]
    if "." not in gap and "!" not in gap and "?" not in gap:
        return False
    # The capitalised word after the stop may be the second part itself: read past b.
    return any(p < b for p in sentence_stops(text, max(a - 1, 0), b + 20))


def _all_pairs(text: str, left: list[tuple[int, int]], right: list[tuple[int, int]],
               distance: int, ordered: bool, sentence: bool = False
               ) -> list[tuple[int, tuple, tuple, tuple]]:
    """:func:`_candidates` by trying every left x right pair: cheaper for a few of each."""
    out = []
    for lspan in left:
        ls, le = lspan
        for rspan in right:
            rs, re_ = rspan
            if le <= rs:
                words = _gap_words(text, le, rs, distance)
                if words <= distance and not (sentence and crosses(text, le, rs)):
                    out.append((words, (ls, re_), lspan, rspan))
            elif re_ <= ls and not ordered:
                words = _gap_words(text, re_, ls, distance)
                if words <= distance and not (sentence and crosses(text, re_, ls)):
                    out.append((words, (rs, le), lspan, rspan))
    return out


def _candidates(text: str, left: list[tuple[int, int]], right: list[tuple[int, int]],
                distance: int, ordered: bool, sentence: bool
                ) -> list[tuple[int, tuple, tuple, tuple]]:
    """Every (words, window, left span, right span) within ``distance`` words, for more
    than three left x right pairs (:func:`near_windows` tries fewer directly). The words
    between grow as a right part lies further away on either side, so each left part
    walks outwards from its position and stops at the first right part too far: the cost
    follows the pairs that fire, not every left x right pair of a long lede."""
    out = []
    after = sorted(right)
    after_starts = [r[0] for r in after]
    before = sorted(right, key=lambda r: (r[1], r[0])) if not ordered else []
    before_ends = [r[1] for r in before]
    for lspan in left:
        ls, le = lspan
        for i in range(bisect_left(after_starts, le), len(after)):
            words = _gap_words(text, le, after[i][0], distance)
            if words > distance or sentence and crosses(text, le, after[i][0]):
                break  # further ones are further, and past the same sentence end
            out.append((words, (ls, after[i][1]), lspan, after[i]))
        for i in range(bisect_right(before_ends, ls) - 1, -1, -1):
            rs, re_ = before[i]
            words = _gap_words(text, re_, ls, distance)
            if words > distance or sentence and crosses(text, re_, ls):
                break
            out.append((words, (rs, le), lspan, before[i]))
    return out


def near_windows(text: str, left: list[tuple[int, int]], right: list[tuple[int, int]],
                  distance: int, ordered: bool = False, sentence: bool = False
                  ) -> list[tuple[int, int]]:
    """Spans of the near matches in one field. Each occurrence of a part pairs with at most
    one occurrence of the other, the nearest first: "talks failed; resumed talks" gives one
    match of ``resum* ~3 talks``, "resumed talks". ``ordered``: the right part must follow
    the left one. ``sentence``: the parts must be in one sentence."""
    if len(left) == 1 and len(right) == 1:  # the common case: one of each, no pairing
        (ls, le), (rs, re_) = left[0], right[0]
        if le <= rs:
            return ([(ls, re_)] if _gap_words(text, le, rs, distance) <= distance
                    and not (sentence and crosses(text, le, rs)) else [])
        if re_ <= ls and not ordered:
            return ([(rs, le)] if _gap_words(text, re_, ls, distance) <= distance
                    and not (sentence and crosses(text, re_, ls)) else [])
        return []
    # Two or three pairs: try them all. More: walk, as each word count costs a regex run.
    if len(left) * len(right) <= 3:
        pairs = _all_pairs(text, left, right, distance, ordered, sentence)
    else:
        pairs = _candidates(text, left, right, distance, ordered, sentence)
    if len(pairs) < 2:
        return [p[1] for p in pairs]
    pairs.sort()
    windows, used_left, used_right = [], set(), set()
    for _, window, lspan, rspan in pairs:
        if lspan not in used_left and rspan not in used_right:
            used_left.add(lspan)
            used_right.add(rspan)
            windows.append(window)
    return windows

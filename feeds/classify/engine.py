"""The classifier: compiled keyword rules → labels, scores and evidence for one item.

Every phrase alternative of every rule (terms, near parts, exclusions) is compiled into one
regular expression shaped like a character trie, and an item (headline and summary) is
scanned once. At each word start the regex finds the longest phrase there; every shorter
phrase ending at a word boundary inside that match is recovered from two dictionaries (exact
phrases and wildcard stems), so the one scan reports every phrase occurrence, overlapping
ones included. Near pairs, exclusions and scores then work on those few occurrences. See
:mod:`feeds.classify.rules` for the rules language.

A :class:`Classifier` pickles as its :class:`~feeds.classify.rules.RulesSpec` and recompiles when
unpickled (milliseconds), so it can be shipped to parse worker processes.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Callable, Iterable

from feeds.model import LABELS, Classification, Match
from feeds.classify.rules import Pattern, Phrase, RulesSpec, lower_keep_length

# Only the start of a summary is classified: wire ledes put the news first, and a long body
# would invent events from background paragraphs (old talks, past sanctions).
SUMMARY_LIMIT = 1000
TITLE_LIMIT = 1000  # titles are capped at ingestion already; this only bounds the work

# The scan runs on a copy of the text, lowercased, where the characters below become spaces
# (same length, so offsets stay valid). A word then starts after a space or an apostrophe,
# which the regex engine finds with a plain character search; a \W class would be tested on
# every character and cost as much as the rest of the scan. Sentence punctuation (. , ; : !
# ?) is kept so that a phrase never runs across it.
_BLANKED = ("-\u2010\u2011\u2012\u2013\u2014\u2015/\\()[]{}<>\"\u201c\u201d\u201e\u00ab\u00bb"
            "\u2018*#@|+=~^`$%\u2022\u00b7\t\n\r\x0b\x0c\xa0\u2009\u200a\u202f\u2002\u2003"
            "\u3000")
_BLANK_ASCII = bytes.maketrans(
    "".join(c for c in _BLANKED if c.isascii()).encode(),
    b" " * sum(c.isascii() for c in _BLANKED))
_BLANK_RE = re.compile("[" + re.escape(_BLANKED) + "]")
_APOSTROPHES = "'\u2019"  # a word can start after a quote mark, and words contain them
_APOS_CLASS = "['\u2019\u2018\u02bc]"
_APOS = re.compile(_APOS_CLASS)
# What counts as one word between the two parts of a near pattern.
_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
_EPS = 1e-9  # scores are sums of floats; 0.6 + 0.4 must reach a threshold of 1.0

_TERM, _NEAR, _EXCL, _EXCL_NEAR = range(4)  # how a phrase occurrence is used
_SEP_TOKEN, _APOS_TOKEN, _END_WORD, _END_WILD = "\x00sep", "\x00apos", "\x00end", "\x00wild"
# Word-initial letters of English news text, most frequent first: the engine tries a trie
# node's branches in order, so common letters should not wait behind rare ones.
_LETTER_ORDER = {c: i for i, c in enumerate("taosipfcrmwbhduelngkjvyzqx")}
_CACHE_MAX = 50_000
_FIELDS = ("title", "summary")


@dataclass(frozen=True, slots=True)
class Veto:
    """A match dropped because it overlapped one of its label's exclusions."""

    match: Match
    exclusion: str  # the exclusion as written
    text: str  # what the exclusion matched, in the same field as the match
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Explanation:
    """A classification with what ``rules explain`` shows besides it."""

    classification: Classification
    thresholds: dict[str, float]
    title_bonus: float
    vetoed: tuple[Veto, ...] = ()
    summary_chars: int = 0  # how much of the summary was looked at
    summary_total: int = 0
    # Per evidence match (same order): the class members it matched, as
    # ("official", "foreign minister", "Foreign Minister"); empty when its rule names no class.
    members: tuple[tuple[tuple[str, str, str], ...], ...] = ()


# --- compiling -----------------------------------------------------------------------------

def _tokens(phrase: Phrase) -> list[str]:
    out: list[str] = []
    for i, word in enumerate(phrase.words):
        if i:
            out.append(_SEP_TOKEN)
        out.extend(_APOS_TOKEN if c == "'" else c for c in word)
    out.append(_END_WILD if phrase.wildcard else _END_WORD)
    return out


def _trie(phrases: Iterable[Phrase]) -> str:
    """One alternation shaped like a trie: the engine never tries two branches that start
    with the same character. Continuations come before endings, so the match at a word start
    is the longest phrase there; shorter ones are recovered by ``Classifier._identify``."""
    root: dict = {}
    for phrase in phrases:
        node = root
        for token in _tokens(phrase):
            node = node.setdefault(token, {})

    def order(token: str) -> tuple[int, str]:
        return _LETTER_ORDER.get(token, len(_LETTER_ORDER)), token

    def emit(node: dict) -> str:
        alts = []
        for token in sorted((k for k in node if k not in (_END_WORD, _END_WILD)), key=order):
            edge = {_SEP_TOKEN: r"\s+", _APOS_TOKEN: _APOS_CLASS}.get(token)
            alts.append((edge or re.escape(token)) + emit(node[token]))
        if _END_WILD in node:
            alts.append(r"\w*")  # greedy: runs to the end of the word
        elif _END_WORD in node:
            alts.append(r"(?!\w)")
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(root)


@dataclass(frozen=True, slots=True)
class _RuleInfo:
    label: str
    label_index: int  # position in LABELS
    source: str
    weight: float
    title_weight: float  # weight + title bonus
    distance: int | None
    ordered: bool  # near: the second part must follow the first


@dataclass(frozen=True, slots=True)
class _Compiled:
    """Everything derived from a spec; immutable, shared by classifiers of the same spec."""

    # (character, regex) finding phrases at word starts after that character; "" = a space,
    # always scanned; the others only when the text holds the character.
    scanners: tuple[tuple[str, re.Pattern[str]], ...]
    literal: dict[str, tuple[int, ...]]  # "word word" → atom ids
    stems: dict[str, tuple[int, ...]]  # "word stem" → atom ids of wildcard phrases
    uses: tuple[tuple[tuple[int, int, int], ...], ...]  # atom → (kind, index, side)
    rules: tuple[_RuleInfo, ...]
    exclusions: tuple[tuple[str, str, int | None, bool], ...]  # (label, source, distance, ordered)
    thresholds: dict[str, float]
    threshold_list: tuple[float, ...]  # in LABELS order
    title_bonus: float


@lru_cache(maxsize=8)
def _compile(spec: RulesSpec) -> _Compiled:
    atoms: dict[Phrase, int] = {}
    uses: list[list[tuple[int, int, int]]] = []

    def use(pattern: Pattern, index: int, kind_term: int, kind_near: int) -> None:
        for side, part in enumerate(pattern.parts):
            for phrase in part:
                atom = atoms.setdefault(phrase, len(atoms))
                if atom == len(uses):
                    uses.append([])
                entry = (kind_near if pattern.is_near else kind_term, index, side)
                if entry not in uses[atom]:
                    uses[atom].append(entry)

    rules: list[_RuleInfo] = []
    exclusions: list[tuple[str, str, int | None, bool]] = []
    for lr in spec.labels:
        for rule in lr.rules:
            if rule.weight > 0:  # weight 0 switches a rule off
                use(rule.pattern, len(rules), _TERM, _NEAR)
                rules.append(_RuleInfo(lr.label, LABELS.index(lr.label), rule.pattern.source,
                                       rule.weight, rule.weight + spec.title_bonus,
                                       rule.pattern.distance, rule.pattern.ordered))
        for pattern in lr.exclude:
            use(pattern, len(exclusions), _EXCL, _EXCL_NEAR)
            exclusions.append((lr.label, pattern.source, pattern.distance, pattern.ordered))

    literal: dict[str, list[int]] = {}
    stems: dict[str, list[int]] = {}
    for phrase, atom in atoms.items():
        (stems if phrase.wildcard else literal).setdefault(" ".join(phrase.words), []).append(atom)
    trie = _trie(atoms) if atoms else None
    return _Compiled(
        scanners=tuple((q.strip(), re.compile(re.escape(q) + "(?=(" + trie + "))"))
                       for q in " " + _APOSTROPHES) if trie else (),
        literal={k: tuple(v) for k, v in literal.items()},
        stems={k: tuple(v) for k, v in stems.items()},
        uses=tuple(tuple(u) for u in uses),
        rules=tuple(rules),
        exclusions=tuple(exclusions),
        thresholds={lr.label: lr.threshold for lr in spec.labels},
        threshold_list=tuple(spec.label(label).threshold for label in LABELS),
        title_bonus=spec.title_bonus,
    )


# --- building results ----------------------------------------------------------------------

# A frozen dataclass's __init__ sets each field through object.__setattr__; writing the slots
# directly builds an equal object in half the time, and every item builds a Classification
# and its evidence. If model.py changes these classes, the plain constructors are used.
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


_new_match = _match_builder()
_new_classification = _classification_builder()


# --- matching helpers ----------------------------------------------------------------------

def _scan_copy(text: str) -> str:
    """Lowercase, with :data:`_BLANKED` characters as spaces; as long as ``text``."""
    if text.isascii():
        return text.lower().encode().translate(_BLANK_ASCII).decode()
    return _BLANK_RE.sub(" ", lower_keep_length(text))


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # what the regex \w matches


def _gap_words(text: str, a: int, b: int, limit: int) -> int:
    """The words in ``text[a:b]``, counted up to ``limit + 1``: a near pattern only needs
    to know whether there are more than ``limit``, and a far pair should not cost a regex
    run over the whole gap."""
    if b - a <= 40:  # a short gap: one C call beats a Python loop
        return len(_WORD.findall(text, a, b))
    n = 0
    for _ in _WORD.finditer(text, a, b):
        n += 1
        if n > limit:
            break
    return n


def _all_pairs(text: str, left: list[tuple[int, int]], right: list[tuple[int, int]],
               distance: int, ordered: bool) -> list[tuple[int, tuple, tuple, tuple]]:
    """:func:`_candidates` by trying every left x right pair: cheaper for a few of each."""
    out = []
    for lspan in left:
        ls, le = lspan
        for rspan in right:
            rs, re_ = rspan
            if le <= rs:
                words = _gap_words(text, le, rs, distance)
                if words <= distance:
                    out.append((words, (ls, re_), lspan, rspan))
            elif re_ <= ls and not ordered:
                words = _gap_words(text, re_, ls, distance)
                if words <= distance:
                    out.append((words, (rs, le), lspan, rspan))
    return out


def _candidates(text: str, left: list[tuple[int, int]], right: list[tuple[int, int]],
                distance: int, ordered: bool) -> list[tuple[int, tuple, tuple, tuple]]:
    """Every (words, window, left span, right span) within ``distance`` words. The words
    between grow as a right part lies further away on either side, so each left part
    walks outwards from its position and stops at the first right part too far: the cost
    follows the pairs that fire, not every left x right pair of a long lede."""
    if len(left) * len(right) <= 12:  # a few of each: every pair, no sorting or bisecting
        return _all_pairs(text, left, right, distance, ordered)
    out = []
    after = sorted(right)
    after_starts = [r[0] for r in after]
    before = sorted(right, key=lambda r: (r[1], r[0])) if not ordered else []
    before_ends = [r[1] for r in before]
    for lspan in left:
        ls, le = lspan
        for i in range(bisect_left(after_starts, le), len(after)):
            words = _gap_words(text, le, after[i][0], distance)
            if words > distance:
                break
            out.append((words, (ls, after[i][1]), lspan, after[i]))
        for i in range(bisect_right(before_ends, ls) - 1, -1, -1):
            rs, re_ = before[i]
            words = _gap_words(text, re_, ls, distance)
            if words > distance:
                break
            out.append((words, (rs, le), lspan, before[i]))
    return out


def _near_windows(text: str, left: list[tuple[int, int]], right: list[tuple[int, int]],
                  distance: int, ordered: bool = False) -> list[tuple[int, int]]:
    """Spans of the near matches in one field. Each occurrence of a part pairs with at most
    one occurrence of the other, the nearest first: "talks failed; resumed talks" gives one
    match of ``resum* ~3 talks``, "resumed talks". ``ordered``: the right part must follow
    the left one."""
    if len(left) == 1 and len(right) == 1:  # the common case: one of each, no pairing
        (ls, le), (rs, re_) = left[0], right[0]
        if le <= rs:
            return [(ls, re_)] if _gap_words(text, le, rs, distance) <= distance else []
        if re_ <= ls and not ordered:
            return [(rs, le)] if _gap_words(text, re_, ls, distance) <= distance else []
        return []
    pairs = _candidates(text, left, right, distance, ordered)
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


# --- explaining class matches ------------------------------------------------------------

_CLASS_REF = re.compile(r"@([a-z_][a-z0-9_]*)")


@lru_cache(maxsize=4096)
def _member_regex(member: str) -> re.Pattern[str]:
    """A class member (a phrase as written) as a regex over a lowercased scan copy."""
    wildcard = member.endswith("*")
    words = [w for w in re.split("[\\s\\-\u2010\u2011]+", member.rstrip("*").lower()) if w]
    body = r"\s+".join(_APOS.sub(_APOS_CLASS, re.escape(w)) for w in words)
    return re.compile(r"(?<!\w)" + body + (r"\w*" if wildcard else r"(?!\w)"))


def class_members(term: str, text: str, classes: dict[str, tuple[str, ...]]
                  ) -> tuple[tuple[str, str, str], ...]:
    """Which members of the classes a rule names matched inside its matched ``text``: one
    (class, member as written, text) per class, the longest match. Explain only: the scan
    itself never looks at classes, they are expanded into the trie."""
    copy = _scan_copy(text)
    out = []
    for name in dict.fromkeys(_CLASS_REF.findall(term)):
        best: tuple[int, str, str] | None = None
        for member in classes.get(name, ()):
            for m in _member_regex(member).finditer(copy):
                if best is None or m.end() - m.start() > best[0]:
                    best = (m.end() - m.start(), member, text[m.start():m.end()])
        if best is not None:
            out.append((name, best[1], best[2]))
    return tuple(out)


def _sided(near: list[tuple[int, int, int]], excl: list[tuple[int, int, int, int]],
           n_rules: int) -> tuple[int, int]:
    """Bit masks of the near rules (bit n) and near exclusions (bit ``n_rules`` + n) a
    phrase is a first part of, and of those it is a second part of. Ints, not sets: the
    scan ORs them once per match, and an int OR is the cheapest way to do that."""
    first = second = 0
    for rule, side, _ in near:
        if side == 0:
            first |= 1 << rule
        else:
            second |= 1 << rule
    for kind, index, side, _ in excl:
        if kind == _EXCL_NEAR:
            if side == 0:
                first |= 1 << (n_rules + index)
            else:
                second |= 1 << (n_rules + index)
    return first, second


def _veto(excl: list[tuple[int, int, int, int]], fi: int, s: int, e: int, label: str,
          exclusions: tuple[tuple[str, str, int | None, bool], ...]
          ) -> tuple[int, int, int, int] | None:
    """The first exclusion span of ``label`` in field ``fi`` overlapping ``[s, e)``."""
    for x in excl:
        if x[0] == fi and s < x[3] and x[2] < e and exclusions[x[1]][0] == label:
            return x
    return None


# --- the classifier ------------------------------------------------------------------------

class Classifier:
    """Compiled rules. Build with :meth:`from_spec`; call :meth:`classify` per item."""

    def __init__(self, spec: RulesSpec) -> None:
        self._spec = spec
        self._c = _compile(spec)
        self._cache: dict[str, tuple[tuple, tuple]] = {}  # regex match → its meaning

    @classmethod
    def from_spec(cls, spec: RulesSpec) -> "Classifier":
        return cls(spec)

    @property
    def spec(self) -> RulesSpec:
        return self._spec

    def __reduce__(self) -> tuple:
        # The compiled regex and the phrase cache are rebuilt, not pickled.
        return (Classifier.from_spec, (self._spec,))

    def classify(self, title: str, summary: str) -> Classification:
        """Labels, per-label scores and evidence for one item (plain-text title + summary)."""
        return self._run(title[:TITLE_LIMIT], summary[:SUMMARY_LIMIT], None)

    def explain(self, title: str, summary: str) -> Explanation:
        """:meth:`classify` plus thresholds and the matches that exclusions vetoed."""
        vetoed: list[Veto] = []
        result = self._run(title[:TITLE_LIMIT], summary[:SUMMARY_LIMIT], vetoed)
        classes = dict(self._spec.classes)
        members = tuple(class_members(m.term, m.text, classes) for m in result.evidence)
        return Explanation(result, dict(self._c.thresholds), self._c.title_bonus,
                           tuple(vetoed), min(len(summary), SUMMARY_LIMIT), len(summary),
                           members)

    # -- scanning --

    def _identify(self, key: str) -> tuple[tuple, tuple, tuple, int, int]:
        """What a regex match means, for every phrase matching at its start: the term rules
        it fires, as (rule, end offset); the near rules it is a part of, as (rule, side, end
        offset); its uses in exclusions, as (kind, exclusion, side, end offset); and the near
        rules and near exclusions it is a first or a second part of (``_sided``). Cached:
        news repeats its vocabulary.

        The regex returns the longest phrase; shorter ones end at a word boundary inside it:
        at the end of an earlier word, or before an apostrophe or period inside a word
        ("kremlin" in "kremlin's")."""
        c = self._c
        found: list[tuple[int, int]] = []  # (atom, end)
        head = ""
        for m in re.finditer(r"\S+", key):
            word, start = _APOS.sub("'", m.group()), m.start()
            size = len(word)
            for p in range(1, size + 1):
                if p == size or not _is_word_char(word[p]):
                    for atom in c.literal.get(head + word[:p], ()):
                        found.append((atom, start + p))
            for n in range(size, 1, -1):
                atoms = c.stems.get(head + word[:n])
                if atoms:
                    end = n
                    while end < size and _is_word_char(word[end]):
                        end += 1  # the wildcard runs to the end of the word
                    found.extend((atom, start + end) for atom in atoms)
            head += word + " "
        terms: list[tuple[int, int]] = []
        near: list[tuple[int, int, int]] = []
        excl: list[tuple[int, int, int, int]] = []
        for atom, end in found:
            for kind, index, side in c.uses[atom]:
                if kind == _TERM:
                    terms.append((index, end))
                elif kind == _NEAR:
                    near.append((index, side, end))
                else:
                    excl.append((kind, index, side, end))
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        first, second = _sided(near, excl, len(c.rules))
        self._cache[key] = result = (tuple(terms), tuple(near), tuple(excl), first, second)
        return result

    def _run(self, title: str, summary: str, vetoed: list[Veto] | None) -> Classification:
        c = self._c
        if not c.scanners or not (title or summary):
            return _new_classification((), None, dict.fromkeys(LABELS, 0.0), ())
        # One scan over both fields. The leading space gives the first word its start; the
        # NUL between the fields is neither a word character nor a separator, so no phrase
        # runs from the title into the summary. match.start() is the space or quote before
        # a word, which is the word's offset in the title, or `bound` past it in the summary.
        copy = " " + _scan_copy(title) + "\x00 " + _scan_copy(summary)
        bound = len(title) + 2
        hits: list[tuple[int, int, int, int]] = []  # (field, rule, start, -end): sortable
        near: list[tuple[int, tuple, int, int]] = []  # (field, near uses, start, mask)
        excl: list[tuple[int, tuple, int]] = []  # (field, exclusion uses, start)
        # Per field, bit masks of the near rules and near exclusions seen as a first part
        # and as a second part (see _sided).
        masks = [0, 0, 0, 0]
        for quote, regex in c.scanners:
            if quote and quote not in copy:
                continue
            self._scan(regex.finditer(copy, 0, bound), 0, 0, hits, near, excl, masks)
            self._scan(regex.finditer(copy, bound), 1, bound, hits, near, excl, masks)
        texts = (title, summary)
        # A near rule fires only where both its parts occur in one field: an AND of the
        # masks finds those few, and only their occurrences are paired.
        both = (masks[0] & masks[1], masks[2] & masks[3])
        if near and (both[0] or both[1]):
            self._near(texts, near, hits, both)
        if not hits:
            return _new_classification((), None, dict.fromkeys(LABELS, 0.0), ())
        return self._result(hits, self._exclusions(texts, excl, both) if excl else None,
                            vetoed, texts)

    def _scan(self, matches: Iterable[re.Match[str]], fi: int, offset: int,
              hits: list, near: list, excl: list, masks: list[int]) -> None:
        """Record the phrases one field's regex matches stand for (the hot loop: one
        cache look-up per match, the rest appends and int ORs)."""
        cache_get = self._cache.get
        add_hit = hits.append
        first = second = 0
        for m in matches:
            key = m.group(1)
            found = cache_get(key)
            if found is None:
                found = self._identify(key)
            terms, near_uses, excl_uses, f, g = found
            s = m.start() - offset
            for rule, end in terms:
                add_hit((fi, rule, s, -s - end))
            if near_uses:
                near.append((fi, near_uses, s, f | g))
                first |= f
                second |= g
            if excl_uses:
                excl.append((fi, excl_uses, s))
                first |= f
                second |= g
        masks[2 * fi] |= first
        masks[2 * fi + 1] |= second

    def _near(self, texts: tuple[str, str], near: list[tuple[int, tuple, int, int]],
              hits: list[tuple[int, int, int, int]], both: tuple[int, int]) -> None:
        """Add the near rules that fire to ``hits``; ``both``: per field, the mask of the
        rules whose two parts occur there."""
        sides: dict[tuple[int, int], tuple[list, list]] = {}
        for fi, uses, s, parts in near:
            wanted = both[fi]
            if not wanted & parts:  # a part of no rule whose other part is there too
                continue
            for rule, side, end in uses:
                if not wanted >> rule & 1:
                    continue
                pair = sides.get((fi, rule))
                if pair is None:
                    pair = sides[fi, rule] = ([], [])
                pair[side].append((s, s + end))
        rules = self._c.rules
        for (fi, rule), (left, right) in sides.items():
            info = rules[rule]
            for s, e in _near_windows(texts[fi], left, right, info.distance, info.ordered):
                hits.append((fi, rule, s, -e))

    def _exclusions(self, texts: tuple[str, str], excl: list[tuple[int, tuple, int]],
                    both: tuple[int, int]) -> list[tuple[int, int, int, int]]:
        """(field, exclusion, start, end) of every exclusion match; ``both`` as in
        :meth:`_near` (near exclusion n as bit n_rules + n)."""
        spans: list[tuple[int, int, int, int]] = []
        sides: dict[tuple[int, int], tuple[list, list]] = {}
        n_rules = len(self._c.rules)
        for fi, uses, s in excl:
            wanted = both[fi] >> n_rules
            for kind, index, side, end in uses:
                if kind == _EXCL:
                    spans.append((fi, index, s, s + end))
                elif wanted >> index & 1:
                    pair = sides.get((fi, index))
                    if pair is None:
                        pair = sides[fi, index] = ([], [])
                    pair[side].append((s, s + end))
        exclusions = self._c.exclusions
        for (fi, index), (left, right) in sides.items():
            _, _, distance, ordered = exclusions[index]
            for s, e in _near_windows(texts[fi], left, right, distance, ordered):
                spans.append((fi, index, s, e))
        return spans

    def _match(self, rule: int, fi: int, s: int, e: int, texts: tuple[str, str]) -> Match:
        info = self._c.rules[rule]
        return Match(info.label, info.source, texts[fi][s:e], _FIELDS[fi], s, e,
                     info.title_weight if fi == 0 else info.weight)

    def _result(self, hits: list[tuple[int, int, int, int]],
                excl: list[tuple[int, int, int, int]] | None, vetoed: list[Veto] | None,
                texts: tuple[str, str]) -> Classification:
        """Drop repeated and vetoed hits, then score what is left."""
        c = self._c
        rules, exclusions = c.rules, c.exclusions
        # Alternatives of a rule ("peace|peace talks", "talk*|talks") can match the same or
        # nested text: sorted by (field, rule, start, -end), the outermost span comes first.
        hits.sort()
        kept: list[tuple[int, int, int, int]] = []  # (field, start, end, rule): reading order
        last_fi = last_rule = last_end = -1
        for fi, rule, s, neg_end in hits:
            e = -neg_end
            if rule == last_rule and fi == last_fi and e <= last_end:
                continue
            last_fi, last_rule, last_end = fi, rule, e
            if excl:
                veto = _veto(excl, fi, s, e, rules[rule].label, exclusions)
                if veto is not None:
                    if vetoed is not None:
                        vetoed.append(Veto(self._match(rule, fi, s, e, texts),
                                           exclusions[veto[1]][1],
                                           texts[fi][veto[2]:veto[3]], veto[2], veto[3]))
                    continue
            kept.append((fi, s, e, rule))
        # Reading order: title first, then by position; rules are numbered label by label in
        # LABELS order, which breaks ties. A rule's first match is in the title if any is.
        kept.sort()
        totals = [0.0] * len(LABELS)
        counted: set[int] = set()
        evidence = []
        for fi, s, e, rule in kept:
            info = rules[rule]
            weight = info.title_weight if fi == 0 else info.weight
            if rule not in counted:
                counted.add(rule)
                totals[info.label_index] += weight
            evidence.append(_new_match(info.label, info.source, texts[fi][s:e], _FIELDS[fi],
                                       s, e, weight))
        scores = {}
        labels = []
        primary, best = None, -1.0
        for i, label in enumerate(LABELS):
            total = totals[i]
            score = scores[label] = round(total, 6) if total else 0.0
            if total and score >= c.threshold_list[i] - _EPS:
                labels.append(label)
                if score > best:  # strictly greater: ties go to the earlier label
                    primary, best = label, score
        return _new_classification(tuple(labels), primary, scores, tuple(evidence))

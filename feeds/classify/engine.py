"""The classifier: compiled keyword rules → labels, scores and evidence for one item.

Every phrase alternative of every rule (terms, near parts, exclusions) is compiled into one
regular expression shaped like a character trie, and an item (headline and summary) is
scanned once. At each word start the regex finds the longest phrase there; every shorter
phrase ending at a word boundary inside that match is recovered from two dictionaries (exact
phrases and wildcard stems), so the one scan reports every phrase occurrence, overlapping
ones included. Near pairs, exclusions and scores then work on those few occurrences. See
:mod:`feeds.classify.rules` for the rules language.

:meth:`Classifier.classify` hands an item to the same work in C (:mod:`feeds.classify.fast`)
where that module was built at install, about five times faster; the Python path here is
the reference it is tested against, what ``explain`` runs, and the fallback.

A :class:`Classifier` pickles as its :class:`~feeds.classify.rules.RulesSpec`, so it can be
shipped to parse worker processes; it compiles on its first item, not when it is built.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any, Iterable

from feeds.model import LABELS, Classification, Match
from feeds.classify.builders import new_classification as _new_classification
from feeds.classify.builders import new_match as _new_match
from feeds.classify.fast import build_engine
from feeds.classify.near import near_windows as _near_windows
from feeds.classify.regexcache import compile_cached
from feeds.classify.members import class_members
from feeds.classify.rules import Pattern, Phrase, RulesSpec
from feeds.classify.scancopy import APOS, APOS_CLASS, APOSTROPHES, scan_text

# Only the start of a summary is classified: wire ledes put the news first, and a long body
# would invent events from background paragraphs (old talks, past sanctions).
SUMMARY_LIMIT = 1000
TITLE_LIMIT = 1000  # titles are capped at ingestion already; this only bounds the work

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


# A token's place among a trie node's branches, as one int: the letters of _LETTER_ORDER
# first, then the rest by their text ("\x00" < the tokens above < any other character).
_RANKS = {**_LETTER_ORDER, **{t: i for i, t in enumerate(sorted(
    ("\x00", _SEP_TOKEN, _APOS_TOKEN, _END_WORD, _END_WILD)), len(_LETTER_ORDER))}}
_ENDS = (_RANKS[_END_WILD], _RANKS[_END_WORD])
_EDGES = {_SEP_TOKEN: r"\s+", _APOS_TOKEN: APOS_CLASS}


def _trie(phrases: Iterable[Phrase]) -> str:
    """One alternation shaped like a trie: the engine never tries two branches that start
    with the same character. Continuations come before endings, so the match at a word start
    is the longest phrase there; shorter ones are recovered by ``Classifier._identify``.
    Emitted from the phrases' token sequences sorted by rank (a trie of dicts: ~2 MiB)."""
    tokens: dict[int, str] = {}
    paths = set()
    for phrase in phrases:
        path = []
        for token in _tokens(phrase):
            rank = _RANKS.get(token, len(_RANKS) - 1 + ord(token[0]))
            tokens[rank] = token
            path.append(rank)
        paths.add(tuple(path))
    return _emit(sorted(paths), tokens, 0, len(paths), 0)


def _emit(seqs: list[tuple[int, ...]], tokens: dict[int, str], lo: int, hi: int, depth: int) -> str:
    """The alternation of the trie node that ``seqs[lo:hi]`` share (up to ``depth``)."""
    alts, ends = [], set()
    while lo < hi:
        rank, group = seqs[lo][depth], lo + 1
        while group < hi and seqs[group][depth] == rank:
            group += 1
        if rank in _ENDS:
            ends.add(rank)  # (an end token ends its sequence)
        else:
            edge = _EDGES.get(tokens[rank]) or re.escape(tokens[rank])
            alts.append(edge + _emit(seqs, tokens, lo, group, depth + 1))
        lo = group
    if _ENDS[0] in ends:
        alts.append(r"\w*")  # greedy: runs to the end of the word
    elif _ENDS[1] in ends:
        alts.append(r"(?!\w)")
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"


@dataclass(frozen=True, slots=True)
class _RuleInfo:
    label: str
    label_index: int  # position in LABELS
    source: str
    weight: float
    title_weight: float  # weight + title bonus
    distance: int | None
    ordered: bool  # near: the second part must follow the first
    sentence: bool  # near: both parts in one sentence


@dataclass(frozen=True, slots=True)
class _Compiled:
    """Everything derived from a spec; immutable, shared by classifiers of the same spec."""

    phrases: tuple[Phrase, ...]  # by atom id
    literal: dict[str, tuple[int, ...]]  # "word word" → atom ids
    stems: dict[str, tuple[int, ...]]  # "word stem" → atom ids of wildcard phrases
    uses: tuple[tuple[tuple[int, int, int], ...], ...]  # atom → (kind, index, side)
    rules: tuple[_RuleInfo, ...]
    # (label, source, distance, ordered, sentence)
    exclusions: tuple[tuple[str, str, int | None, bool, bool], ...]
    thresholds: dict[str, float]
    threshold_list: tuple[float, ...]  # in LABELS order
    title_bonus: float
    # Atoms with case-sensitive words (=US): atom → (words as written or None, wildcard).
    cased: dict[int, tuple[tuple[str | None, ...], bool]]
    # Per field, the rules that may not fire there ("title:" / "summary:" rules), and the
    # mask of the near rules that may (all bits set when no rule is restricted).
    field_skip: tuple[frozenset[int], frozenset[int]]
    field_mask: tuple[int, int]
    # Bits of near rules and exclusions in a mask: a phrase's first-part bits and its
    # second-part bits travel in one int, the second ones shifted left by this.
    shift: int
    # The regex path's scanners, made on its first use (the C scan never needs them).
    _scanners: list = field(default_factory=list, compare=False, repr=False)

    @property
    def scanners(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """("", regex) finding phrases at word starts after a space, and (the quote marks,
        regex) after one of them, scanned when the text holds one (one regex: ~0.3 MiB a
        worker each); () when there are no phrases."""
        if not self._scanners:
            trie = _trie(self.phrases) if self.phrases else None
            self._scanners.append(
                (("", compile_cached(re.escape(" ") + "(?=(" + trie + "))")),
                 (APOSTROPHES, compile_cached("[" + APOSTROPHES + "](?=(" + trie + "))")))
                if trie else ())
        return self._scanners[0]


@lru_cache(maxsize=8)
def _compile(spec: RulesSpec) -> _Compiled:
    atoms: dict[Phrase, int] = {}
    uses: list[list[tuple[int, int, int]]] = []
    entries: dict[tuple[int, int, int], tuple[int, int, int]] = {}  # one tuple for each use

    def use(pattern: Pattern, index: int, kind_term: int, kind_near: int) -> None:
        for side, part in enumerate(pattern.parts):
            entry = (kind_near if pattern.is_near else kind_term, index, side)
            entry = entries.setdefault(entry, entry)  # (shared by the part's phrases: ~0.4 MiB)
            for phrase in part:
                atom = atoms.setdefault(phrase, len(atoms))
                if atom == len(uses):
                    uses.append([])
                if entry not in uses[atom]:
                    uses[atom].append(entry)

    rules: list[_RuleInfo] = []
    exclusions: list[tuple[str, str, int | None, bool, bool]] = []
    skip: tuple[set[int], set[int]] = (set(), set())
    for lr in spec.labels:
        for rule in lr.rules:
            if rule.weight:  # weight 0 switches a rule off; below 0, a penalty
                p = rule.pattern
                if p.field:
                    skip[_FIELDS.index(p.field) ^ 1].add(len(rules))
                use(p, len(rules), _TERM, _NEAR)
                rules.append(_RuleInfo(lr.label, LABELS.index(lr.label), p.source, rule.weight,
                                       rule.weight + spec.title_bonus * (rule.weight > 0),
                                       p.distance, p.ordered, p.sentence))
        for pattern in lr.exclude:
            use(pattern, len(exclusions), _EXCL, _EXCL_NEAR)
            exclusions.append((lr.label, pattern.source, pattern.distance, pattern.ordered,
                               pattern.sentence))
    everything = (1 << (len(rules) + len(exclusions))) - 1

    literal: dict[str, list[int]] = {}
    stems: dict[str, list[int]] = {}
    for phrase, atom in atoms.items():
        (stems if phrase.wildcard else literal).setdefault(" ".join(phrase.words), []).append(atom)
    return _Compiled(
        phrases=tuple(atoms),  # (a dict keeps insertion order: atom ids)
        literal={k: tuple(v) for k, v in literal.items()},
        stems={k: tuple(v) for k, v in stems.items()},
        uses=tuple(tuple(u) for u in uses),
        rules=tuple(rules),
        exclusions=tuple(exclusions),
        thresholds={lr.label: lr.threshold for lr in spec.labels},
        threshold_list=tuple(spec.label(label).threshold for label in LABELS),
        title_bonus=spec.title_bonus,
        cased={atom: (p.cased, p.wildcard) for p, atom in atoms.items() if p.cased},
        field_skip=(frozenset(skip[0]), frozenset(skip[1])),
        field_mask=tuple(everything & ~sum(1 << r for r in sk) for sk in skip),
        shift=len(rules) + len(exclusions),
    )


# --- matching helpers ----------------------------------------------------------------------

def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # what the regex \w matches


def _meaning(c: _Compiled, found: list[tuple[int, int]]) -> tuple[tuple, tuple]:
    """What the phrases (atom, end offset) matching at one word start stand for, per field:
    (terms, near, near_mask, exclusions, sided).

    ``terms``: the term rules they fire there, as (rule, end offset). ``near``: bit →
    (near rule, ((side, end offset), ...)) of the near rules they are a part of, and
    ``near_mask`` those bits. ``exclusions``: () when they are in none, else (plain, excl,
    excl_mask): the plain exclusions they match, as (exclusion, end offset), and the near
    exclusions they are a part of, as (bit, exclusion, side, end offset). ``sided``: the
    bits of the near rules (bit n) and near exclusions (bit ``n_rules`` + n) they are a
    first part of, and those they are a second part of, shifted left by ``c.shift``. Ints,
    not sets: the scan ORs ``sided`` once per match, the cheapest way to do that, and a
    near rule's bit leads straight to its uses."""
    terms: dict[int, int] = {}  # rule → end of its longest phrase here
    near: dict[int, tuple[int, list[tuple[int, int]]]] = {}
    plain: list[tuple[int, int]] = []
    excl: list[tuple[int, int, int, int]] = []
    n_rules = len(c.rules)
    sided = near_mask = excl_mask = 0
    for atom, end in found:
        for kind, index, side in c.uses[atom]:
            if kind == _TERM:
                # A shorter match of the same rule here is nested in the longest one, which
                # drops it as a repeat anyway (``_result``): keep the longest only.
                if terms.get(index, -1) < end:
                    terms[index] = end
            elif kind == _EXCL:
                plain.append((index, end))
            elif kind == _NEAR:
                bit = 1 << index
                near.setdefault(bit, (index, []))[1].append((side, end))
                near_mask |= bit
                sided |= bit << (c.shift * side)
            else:
                bit = 1 << (n_rules + index)
                excl.append((bit, index, side, end))
                excl_mask |= bit
                sided |= bit << (c.shift * side)
    exclusions = (tuple(plain), tuple(excl), excl_mask) if plain or excl else ()
    near_uses = {bit: (rule, tuple(ends)) for bit, (rule, ends) in near.items()}
    # "title:" and "summary:" rules fire only in their field: drop them here, once per key.
    title, summary = ((tuple((r, e) for r, e in terms.items() if r not in skip), near_uses,
                       near_mask, exclusions, sided) for skip in c.field_skip)
    return title, (title if summary == title else summary)


_RULE = itemgetter(3)  # of a kept hit: (field, start, end, rule)


def _case_ok(cased: tuple[tuple[str | None, ...], bool], key: str, written: str,
             end: int) -> bool:
    """Whether the phrase matched at the start of ``key`` (ending at ``end``) has its
    case-sensitive words as written in ``written``, the same text before lowercasing."""
    forms, wildcard = cased
    words = [APOS.sub("'", written[m.start():m.end()]) for m in re.finditer(r"\S+", key[:end])]
    last = len(forms) - 1
    return len(words) == len(forms) and all(
        form is None or (word.startswith(form) if wildcard and i == last else word == form)
        for i, (word, form) in enumerate(zip(words, forms)))


def _unlabelled() -> Classification:
    """The classification of an item no rule fires on."""
    return _new_classification((), None, dict.fromkeys(LABELS, 0.0), ())


# --- the classifier ------------------------------------------------------------------------

class Classifier:
    """Compiled rules. Build with :meth:`from_spec`; call :meth:`classify` per item."""

    def __init__(self, spec: RulesSpec, fast: bool = True) -> None:
        self._spec = spec
        # The C scan (feeds.classify.fast) when built; ``fast=False``: this module's own
        # path, the reference the C one is tested against.
        self._use_fast = fast
        self._fast: Any = None
        # Compiled on first use (~18 ms with the C scan; the regex path's trie and regex,
        # ~30 ms more, only where that path runs): a poll that finds nothing new, or a worker
        # that parses no item, never pays for it. Rule errors were reported when the spec
        # loaded.
        self._c: _Compiled = None  # type: ignore[assignment]
        self._cache: dict[str, tuple[tuple, tuple]] = {}  # regex match → its meaning
        # Regex matches whose meaning depends on case (a =US phrase): by the text as written.
        self._cased_keys: set[str] = set()
        self._cased_cache: dict[tuple[str, str], tuple] = {}
        self._scores: dict[tuple[float, ...], tuple] = {}  # totals → labels, primary, scores
        # Per rule, what scoring and evidence read, as flat tuples: fewer attribute loads;
        # evidence rows per field: (label, source, field name, weight there).
        self._weights: tuple[tuple[int, float, float], ...] = ()
        self._rows: tuple[tuple[tuple[str, str, str, float], ...], ...] = ()

    def _compiled(self) -> _Compiled:
        if self._c is None:
            c = _compile(self._spec)
            self._weights = tuple((r.label_index, r.title_weight, r.weight) for r in c.rules)
            self._rows = tuple(
                tuple((r.label, r.source, field, r.title_weight if fi == 0 else r.weight)
                      for r in c.rules) for fi, field in enumerate(_FIELDS))
            if self._use_fast:
                self._fast = build_engine(c, self._rows)
            self._c = c
        return self._c

    def prepare(self) -> None:
        """Compile now: for a parse worker, which exists to classify and is started ahead of
        the cycle that will use it."""
        self._compiled()

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
        title, summary = title[:TITLE_LIMIT], summary[:SUMMARY_LIMIT]
        if self._c is None:
            self._compiled()
        fast = self._fast
        if fast is None:
            return self._run(title, summary, None)
        if not (title or summary):
            return _unlabelled()
        found = fast.run(title, summary)
        if found is None:
            return _unlabelled()
        evidence, totals = found
        labels, primary, scores = self._labels(totals)
        return _new_classification(labels, primary, dict(scores), evidence)

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

    def _identify(self, key: str, written: str | None = None) -> tuple[tuple, tuple]:
        """What a regex match means, in the title and in the summary: ``_meaning`` of every
        phrase matching at its start. Cached: news repeats its vocabulary.

        The regex returns the longest phrase; shorter ones end at a word boundary inside it:
        at the end of an earlier word, or before an apostrophe or period inside a word
        ("kremlin" in "kremlin's"). ``written``: the same text as written, for phrases
        with case-sensitive words; a key they match is cached by its written form."""
        c = self._c
        if written is not None and key in self._cased_keys:
            hit = self._cased_cache.get((key, written))
            if hit is not None:
                return hit
        found = self._phrases(key)
        cache = self._cache
        if c.cased and any(atom in c.cased for atom, _ in found):
            found = [(atom, end) for atom, end in found
                     if atom not in c.cased or _case_ok(c.cased[atom], key, written or "", end)]
            if len(self._cased_keys) >= _CACHE_MAX:
                self._cased_keys.clear()
                self._cased_cache.clear()
            self._cased_keys.add(key)
            # By both forms: one written form can lowercase two ways ("AΣ" → "aς", "AΣ.B"
            # → "aσ.b"), so the written text alone does not say which phrases matched.
            cache, key = self._cased_cache, (key, written or "")
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[key] = result = _meaning(c, found)
        return result

    def _phrases(self, key: str) -> list[tuple[int, int]]:
        """(atom, end offset) of every phrase matching at the start of ``key``."""
        c = self._c
        found: list[tuple[int, int]] = []
        head = ""
        for m in re.finditer(r"\S+", key):
            word, start = APOS.sub("'", m.group()), m.start()
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
        return found

    def _run(self, title: str, summary: str, vetoed: list[Veto] | None) -> Classification:
        c = self._c if self._c is not None else self._compiled()
        if not c.scanners or not (title or summary):
            return _unlabelled()
        # One scan over both fields. The leading space gives the first word its start; the
        # NUL between the fields is neither a word character nor a separator, so no phrase
        # runs from the title into the summary. match.start() is the space or quote before
        # a word, which is the word's offset in the title, or `bound` past it in the summary.
        copy = scan_text(title, summary)
        bound = len(title) + 2
        written = " " + title + "\x00 " + summary if c.cased else None
        hits: list[tuple[int, int, int, int]] = []  # (field, rule, start, -end): sortable
        near: list[tuple[int, dict, int, int]] = []  # (field, near uses, start, near_mask)
        excl: list[tuple[int, tuple, int]] = []  # (field, exclusions, start)
        # Per field, the near rules and near exclusions seen as a first part and as a second
        # part, as one int (``sided`` of _meaning).
        masks = [0, 0]
        self._scan(c.scanners[0][1], copy, bound, hits, near, excl, masks, written)
        if "'" in copy or not copy.isascii() and "\u2019" in copy:  # (APOSTROPHES)
            quotes, regex = c.scanners[1]
            present = [q for q in quotes if q in copy]
            # Both marks: a pass per mark (the matches' order: that of the vetoes explained).
            for quote in present if len(present) > 1 else ("",):
                self._scan(regex, copy, bound, hits, near, excl, masks, written, quote)
        texts = (title, summary)
        # A near rule fires only where both its parts occur in one field: an AND of the
        # masks finds those few, and only their occurrences are paired.
        allowed, shift = c.field_mask, c.shift
        both = (masks[0] & masks[0] >> shift & allowed[0],
                masks[1] & masks[1] >> shift & allowed[1])
        if near and (both[0] or both[1]):
            self._near(texts, near, hits, both)
        if not hits:
            return _unlabelled()
        return self._result(hits, self._exclusions(texts, excl, both) if excl else None,
                            vetoed, texts)

    def _scan(self, regex: re.Pattern[str], copy: str, bound: int, hits: list, near: list,
              excl: list, masks: list[int], written: str | None, after: str = "") -> None:
        """Record the phrases the regex matches in both fields stand for (the hot loop: one
        cache look-up per match, the rest appends and int ORs). ``written``: the scanned
        text before lowercasing, when some phrase is case-sensitive. ``after``: only the
        matches after this character."""
        cache_get = self._cache.get
        add_hit, add_near, add_excl = hits.append, near.append, excl.append
        for fi, offset, matches in ((0, 0, regex.finditer(copy, 0, bound)),
                                    (1, bound, regex.finditer(copy, bound))):
            if after:
                matches = [m for m in matches if copy[m.start()] == after]
            sided = 0
            for m in matches:
                key = m[1]
                found = cache_get(key)
                if found is None:
                    found = self._identify(key, written and written[m.start(1):m.end(1)])
                terms, near_uses, near_mask, exclusions, parts = found[fi]
                s = m.start() - offset
                if terms:
                    for rule, end in terms:
                        add_hit((fi, rule, s, -s - end))
                if near_mask:
                    add_near((fi, near_uses, s, near_mask))
                if exclusions:
                    add_excl((fi, exclusions, s))
                sided |= parts  # 0 for a phrase of no near rule or exclusion
            masks[fi] |= sided

    def _near(self, texts: tuple[str, str], near: list[tuple[int, dict, int, int]],
              hits: list[tuple[int, int, int, int]], both: tuple[int, int]) -> None:
        """Add the near rules that fire to ``hits``; ``both``: per field, the mask of the
        rules whose two parts occur there."""
        sides: dict[tuple[int, int], tuple[list, list]] = {}
        for fi, uses, s, mask in near:
            bits = both[fi] & mask  # mostly 0: a part of no rule whose other part is there
            while bits:
                bit = bits & -bits  # the lowest bit set: one rule
                bits ^= bit
                rule, ends = uses[bit]
                pair = sides.get((fi, rule))
                if pair is None:
                    pair = sides[fi, rule] = ([], [])
                for side, end in ends:
                    pair[side].append((s, s + end))
        rules = self._c.rules
        for (fi, rule), (left, right) in sides.items():
            info = rules[rule]
            for s, e in _near_windows(texts[fi], left, right, info.distance, info.ordered,
                                      info.sentence):
                hits.append((fi, rule, s, -e))

    def _exclusions(self, texts: tuple[str, str], excl: list[tuple[int, tuple, int]],
                    both: tuple[int, int]) -> list[tuple[int, int, int, int]]:
        """(field, exclusion, start, end) of every exclusion match; ``both`` as in
        :meth:`_near` (near exclusion n as bit n_rules + n)."""
        spans: list[tuple[int, int, int, int]] = []
        sides: dict[tuple[int, int], tuple[list, list]] = {}
        for fi, (plain, uses, mask), s in excl:
            if plain:
                for index, end in plain:
                    spans.append((fi, index, s, s + end))
            wanted = both[fi]
            if not wanted & mask:  # most are parts of near exclusions without their other part
                continue
            for bit, index, side, end in uses:
                if wanted & bit:
                    pair = sides.get((fi, index))
                    if pair is None:
                        pair = sides[fi, index] = ([], [])
                    pair[side].append((s, s + end))
        exclusions = self._c.exclusions
        for (fi, index), (left, right) in sides.items():
            _, _, distance, ordered, sentence = exclusions[index]
            for s, e in _near_windows(texts[fi], left, right, distance, ordered, sentence):
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
        # Alternatives of a rule ("peace|peace talks", "talk*|talks") can match the same or
        # nested text: sorted by (field, rule, start, -end), the outermost span comes first.
        hits.sort()
        if excl:
            return self._vetoed(hits, excl, vetoed, texts)
        kept: list[tuple[int, int, int, int]] = []  # (field, start, end, rule): reading order
        add = kept.append
        last_fi = last_rule = last_end = -1
        for fi, rule, s, neg_end in hits:
            if rule == last_rule and fi == last_fi and -neg_end <= last_end:
                continue
            last_fi, last_rule, last_end = fi, rule, -neg_end
            add((fi, s, last_end, rule))
        return self._score(kept, texts)

    def _vetoed(self, hits: list[tuple[int, int, int, int]],
                excl: list[tuple[int, int, int, int]], vetoed: list[Veto] | None,
                texts: tuple[str, str]) -> Classification:
        """:meth:`_result` when exclusions matched: a hit overlapping one of its label's
        exclusion spans (the first found) is dropped."""
        rules, exclusions = self._c.rules, self._c.exclusions
        by_label: dict[str, list[tuple[int, int, int, int]]] = {}
        for x in excl:
            by_label.setdefault(exclusions[x[1]][0], []).append(x)
        kept: list[tuple[int, int, int, int]] = []
        last_fi = last_rule = last_end = -1
        for fi, rule, s, neg_end in hits:
            e = -neg_end
            if rule == last_rule and fi == last_fi and e <= last_end:
                continue
            last_fi, last_rule, last_end = fi, rule, e
            for x in by_label.get(rules[rule].label, ()):
                if x[0] == fi and s < x[3] and x[2] < e:
                    if vetoed is not None:
                        vetoed.append(Veto(self._match(rule, fi, s, e, texts),
                                           exclusions[x[1]][1], texts[fi][x[2]:x[3]],
                                           x[2], x[3]))
                    break
            else:
                kept.append((fi, s, e, rule))
        return self._score(kept, texts)

    def _score(self, kept: list[tuple[int, int, int, int]], texts: tuple[str, str]
               ) -> Classification:
        """Scores, labels and evidence of the hits that count."""
        if not kept:
            return _unlabelled()
        # Reading order: title first, then by position; rules are numbered label by label in
        # LABELS order, which breaks ties. A rule's first match is in the title if any is.
        # Scores add the rules in the order of their first match (float sums depend on it).
        kept.sort()
        n_title = bisect_left(kept, (1,))  # kept[:n_title] are in the title
        in_title = set(map(_RULE, kept[:n_title])) if n_title else ()
        totals = [0.0] * len(LABELS)
        weights = self._weights
        for rule in dict.fromkeys(map(_RULE, kept)):
            index, title_weight, weight = weights[rule]
            totals[index] += title_weight if rule in in_title else weight
        labels, primary, scores = self._labels(tuple(totals))
        rows = self._rows
        evidence = []
        for fi, s, e, rule in kept:
            label, source, field, weight = rows[fi][rule]
            evidence.append(_new_match(label, source, texts[fi][s:e], field, s, e, weight))
        return _new_classification(labels, primary, dict(scores), tuple(evidence))

    def _labels(self, totals: tuple[float, ...]
                ) -> tuple[tuple[str, ...], str | None, dict[str, float]]:
        """Labels, primary label and scores from the per-label totals; cached, as items
        share a few sums (callers copy the scores)."""
        found = self._scores.get(totals)
        if found is not None:
            return found
        scores = {}
        labels = []
        primary, best = None, -1.0
        for i, label in enumerate(LABELS):
            total = totals[i]
            score = scores[label] = round(total, 6) or 0.0  # (never -0.0)
            if total and score >= self._c.threshold_list[i] - _EPS:
                labels.append(label)
                if score > best:  # strictly greater: ties go to the earlier label
                    primary, best = label, score
        if len(self._scores) >= _CACHE_MAX:
            self._scores.clear()
        self._scores[totals] = found = (tuple(labels), primary, scores)
        return found

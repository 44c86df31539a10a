"""Rule suggestions from a labelled TSV (``rules suggest``): the terms, near patterns and
exclusions that would fix the most errors of the current rules on that file.

How it works, per label:

1. The file is classified with the current rules, as ``rules eval`` does (the same
   :func:`~feeds.classify.evaluate.evaluate`), giving the missed rows (false negatives) and
   the wrongly labelled rows (false positives).
2. Candidates are drawn from the errors: words, 2-3-word phrases and ``*`` stems of the
   missed rows, and pairs of words close together there (``A ~N B``); for false positives,
   exclusions around the text that fired (``talk show``, ``fifa ~3 sanctions``).
3. A cheap count keeps the candidates found in more error rows than in rows they could
   break, at most a few dozen of each kind per label.
4. Each survivor is written as a TOML line and parsed by the project's own rules parser
   (:func:`~feeds.classify.rules.load_rules`); a line it rejects is dropped. The candidate
   is added to the rules (a term or near rule at the label's threshold, so that it fires on
   its own) and the rows it may match are scored again; the rows without its words keep the
   labels of step 1. A rule adds to its label's score on its own and exclusions veto each
   rule's matches alone, so the candidates of a label are matched by one small classifier,
   compiled once, and their effect is added to each row's score as the engine scores it.
5. gain = errors fixed - errors introduced. The suggestions shown are measured once more
   the plain way, the full rules plus the candidate through ``evaluate`` on every row, and
   those are the figures reported (:func:`verify`; the measure is ``measure.py``'s, which
   ``rules audit`` shares).
6. With a hold-out fraction, that share of the rows is set aside first
   (:func:`~feeds.classify.measure.split_rows`); steps 1-5 run on the others, and each
   suggestion shown is measured on the rows set aside too, which never choose or rank them.

No model is learned: every suggestion is a rule for a person to read, judge and paste.
Nothing here prints or writes files.
"""
from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from feeds.classify.engine import Classifier
from feeds.classify.evaluate import Row
from feeds.classify.measure import (Baseline, baseline, effect, ids_text, label_classifier,
                                    plain_effect, row_text, rule_shares, split_rows,
                                    swap_label)
from feeds.classify.rules import _APOS, Pattern, Rule, RuleError, RulesSpec, load_rules
from feeds.model import LABELS, Match

# Candidates of each kind kept per label after the count: each is measured on the rows
# holding its words, and the verification of a shown one re-runs the full rules.
MAX_TERMS = 40
MAX_NEAR = 25
MAX_EXCLUDE = 25
MAX_NEAR_GAP = 4  # words between the two parts of a near candidate
STEM_MIN = 4  # characters before a suggested `*`: shorter stems match too many words

# Function words: a phrase starting or ending with one is a worse version of a shorter phrase,
# and a near part made of one fires everywhere.
STOPWORDS = frozenset("""
a about above after again against all also an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself just
me more most my no nor not now of off on once only or other our out over own same she
should so some such than that the their theirs them then there these they this those
through to too under until up very was we were what when where which while who whom why
will with would you your new year years week day one two three amid
""".split())
# Suffixes removed to make a `*` stem ("blacklisted" → "blacklist*").
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ions", "ing", "ion", "ers", "ies",
             "ed", "es", "er", "s")
_TOKEN = re.compile(r"\w+(?:'\w+)*")
# What may stand between the words of a phrase: the engine joins a phrase's words across
# whitespace, hyphens, dashes, quotes and brackets, never across sentence punctuation.
_JOINS = re.compile("[\\s\\-\u2010-\u2015\"\u201c\u201d()\\[\\]]+\\Z")


@dataclass(frozen=True, slots=True)
class Candidate:
    label: str
    kind: str  # "terms", "near" or "exclude"
    pattern: str


@dataclass(slots=True)
class Suggestion:
    """A candidate measured on the file."""

    candidate: Candidate
    weight: float | None  # None for exclusions
    section: str  # the TOML table to paste under
    line: str  # the TOML line itself
    fixed: list[str]  # row ids whose error on this label it fixes
    introduced: list[str]  # row ids it makes wrong (new false positives, or new misses)
    f1_before: float
    f1_after: float
    replaces: float | None = None  # the weight of an existing rule with the same pattern
    alternatives: list[str] = field(default_factory=list)  # same effect, ranked lower
    weaker: list[str] = field(default_factory=list)  # fix no more, break no less
    held_out: HeldOut | None = None  # its effect on the rows held out, when some are

    @property
    def gain(self) -> int:
        return len(self.fixed) - len(self.introduced)

    def rank_key(self) -> tuple:
        c = self.candidate
        return (-self.gain, len(self.introduced), len(c.pattern), c.pattern, c.label, c.kind)

    def to_json(self) -> dict[str, Any]:
        c = self.candidate
        return {
            "label": c.label, "kind": c.kind, "pattern": c.pattern, "weight": self.weight,
            "replaces_weight": self.replaces, "section": self.section, "toml": self.line,
            "gain": self.gain, "fixed": len(self.fixed), "introduced": len(self.introduced),
            "f1_before": round(self.f1_before, 4), "f1_after": round(self.f1_after, 4),
            "fixed_ids": self.fixed, "introduced_ids": self.introduced,
            "alternatives": self.alternatives, "weaker": self.weaker,
            "held_out": self.held_out.to_json() if self.held_out else None,
        }


@dataclass(slots=True)
class HeldOut:
    """A suggestion's effect on rows it was not drawn from: does it hold beyond them?"""

    fixed: list[str]
    introduced: list[str]
    f1_before: float
    f1_after: float

    @property
    def gain(self) -> int:
        return len(self.fixed) - len(self.introduced)

    def to_json(self) -> dict[str, Any]:
        return {"gain": self.gain, "fixed": len(self.fixed), "introduced": len(self.introduced),
                "f1_before": round(self.f1_before, 4), "f1_after": round(self.f1_after, 4),
                "fixed_ids": self.fixed, "introduced_ids": self.introduced}


@dataclass(slots=True)
class SuggestReport:
    rows: int  # the rows the suggestions were drawn from and ranked on
    macro_f1: float
    candidates: int  # measured by re-classifying
    suggestions: list[Suggestion]  # ranked, gain > 0
    held_out_rows: int = 0  # rows set aside to check each suggestion on (0: none)

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "macro_f1": round(self.macro_f1, 4),
                "candidates_measured": self.candidates, "held_out_rows": self.held_out_rows,
                "suggestions": [s.to_json() for s in self.suggestions]}


# --- the rows as words ---------------------------------------------------------------------

@dataclass(slots=True)
class _Doc:
    """One row as the candidate search sees it: lowercase words and what they contain."""

    row: Row
    text: str  # lowercase, straight apostrophes; the fields joined by " . "
    tokens: list[tuple[str, int, int]]  # (word, start, end) in ``text``
    units: set[str]  # words and their `*` stems, as written in a pattern
    grams: set[str]  # 2- and 3-word phrases that the engine would match as one


class Stems:
    """The `*` stems worth suggesting: those the file holds in two forms or more
    ("sanctioned", "sanctions" → "sanction*"), so that a name such as "Boris" never becomes
    "bori*"."""

    def __init__(self, words: Iterable[str]) -> None:
        self.vocab = frozenset(words)
        self._cache: dict[str, str | None] = {}

    def __call__(self, word: str) -> str | None:
        if word not in self._cache:
            self._cache[word] = self._stem(word)
        return self._cache[word]

    def _stem(self, word: str) -> str | None:
        for suffix in sorted(_SUFFIXES, key=len):  # the longest root that has two forms
            if word.endswith(suffix) and len(word) - len(suffix) >= STEM_MIN:
                root = word[: -len(suffix)]
                forms = {root + end for end in ("", "e", *_SUFFIXES)} & self.vocab
                if len(forms) >= 2:
                    return root + "*"
        return None

    def unit(self, word: str) -> str:
        """The word as a pattern part: its stem when there is one."""
        return self(word) or word


def _content(word: str) -> bool:
    return len(word) >= 2 and word not in STOPWORDS and not word.isdigit()


def _doc(row: Row) -> _Doc:
    text = row_text(row)
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    units: set[str] = set()
    for word, _, _ in tokens:
        units.add(word)
        for n in range(STEM_MIN, len(word) + 1):  # every stem this word would match
            units.add(word[:n] + "*")
    grams: set[str] = set()
    for i in range(len(tokens)):
        for n in (2, 3):
            gram = _gram(text, tokens, i, n)
            if gram:
                grams.add(gram)
    return _Doc(row, text, tokens, units, grams)


def _gram(text: str, tokens: Sequence[tuple[str, int, int]], i: int, n: int) -> str | None:
    """The ``n`` words from ``i`` as a phrase, if only phrase joins stand between them."""
    if i + n > len(tokens):
        return None
    for k in range(i, i + n - 1):
        if not _JOINS.match(text[tokens[k][2]:tokens[k + 1][1]]):
            return None
    return " ".join(t[0] for t in tokens[i:i + n])


def _has(doc: _Doc, pattern: str) -> bool:
    """Whether a one-part candidate (word, stem or phrase) is in the row: a cheap stand-in
    for the classifier, used only to rank candidates before they are measured."""
    return pattern in (doc.grams if " " in pattern else doc.units)


def _near_gap(doc: _Doc, a: str, b: str) -> int | None:
    """Fewest words between a word matching ``a`` and one matching ``b`` (units)."""
    def hits(unit: str) -> list[int]:
        if unit.endswith("*"):
            return [i for i, t in enumerate(doc.tokens) if t[0].startswith(unit[:-1])]
        return [i for i, t in enumerate(doc.tokens) if t[0] == unit]

    gaps = [abs(i - j) - 1 for i in hits(a) for j in hits(b) if i != j]
    return min(gaps) if gaps else None


# --- candidates ----------------------------------------------------------------------------

def _term_counts(missed: list[_Doc], stem: Stems) -> Counter:
    """Rows of ``missed`` holding each word, stem and phrase (content words at both ends)."""
    counts: Counter = Counter()
    for doc in missed:
        found: set[str] = set()
        for word, _, _ in doc.tokens:
            if _content(word):
                found.add(word)
                found.add(stem.unit(word))
        for gram in doc.grams:
            words = gram.split(" ")
            if _content(words[0]) and _content(words[-1]):
                found.add(gram)
        counts.update(found)
    return counts


def _near_counts(missed: list[_Doc], stem: Stems) -> tuple[Counter, dict[tuple[str, str], int]]:
    """Rows of ``missed`` holding two content words at most MAX_NEAR_GAP words apart, and
    the widest of those gaps (so that the pattern's N covers every row it was drawn from)."""
    counts: Counter = Counter()
    widest: dict[tuple[str, str], int] = defaultdict(int)
    for doc in missed:
        best: dict[tuple[str, str], int] = {}
        words = [t[0] for t in doc.tokens]
        for i, a in enumerate(words):
            if len(a) < 3 or not _content(a):
                continue
            for j in range(i + 1, min(i + MAX_NEAR_GAP + 2, len(words))):
                b = words[j]
                if len(b) < 3 or not _content(b) or stem.unit(a) == stem.unit(b):
                    continue
                pair = tuple(sorted((stem.unit(a), stem.unit(b))))
                best[pair] = min(best.get(pair, 99), j - i - 1)  # type: ignore[index]
        counts.update(best)
        for pair, gap in best.items():
            widest[pair] = max(widest[pair], gap)
    return counts, widest


def _top(scored: Iterable[tuple[int, int, str]], cap: int) -> list[str]:
    """(hits in error rows, hits in rows it could break, pattern) → the best ``cap``."""
    ranked = sorted(scored, key=lambda s: (-(s[0] - s[1]), s[1], len(s[2]), s[2]))
    return [p for hits, risk, p in ranked if hits > risk][:cap]


def term_candidates(label: str, missed: list[_Doc], clean: list[_Doc], min_rows: int,
                    stem: Stems) -> list[Candidate]:
    """Words, phrases and stems of the missed rows of ``label``, rare in ``clean`` (rows
    without the label, not predicted: where a new rule would add false positives)."""
    counts = _term_counts(missed, stem)
    scored = [(n, sum(_has(d, p) for d in clean), p) for p, n in counts.items() if n >= min_rows]
    return [Candidate(label, "terms", p) for p in _top(scored, MAX_TERMS)]


def near_candidates(label: str, missed: list[_Doc], clean: list[_Doc], min_rows: int,
                    stem: Stems) -> list[Candidate]:
    """``A ~N B`` from word pairs close together in the missed rows of ``label``."""
    counts, widest = _near_counts(missed, stem)
    scored = []
    for (a, b), n in counts.items():
        if n < min_rows:
            continue
        gap = widest[a, b]
        risk = sum(1 for d in clean if a in d.units and b in d.units
                   and (_near_gap(d, a, b) or 0) <= gap)
        scored.append((n, risk, f"{a} ~{gap} {b}"))
    return [Candidate(label, "near", p) for p in _top(scored, MAX_NEAR)]


def _exclusion_patterns(doc: _Doc, fired: Iterable[str], stem: Stems) -> set[str]:
    """Phrases of 2-3 words overlapping a text that fired (and reaching beyond it), and near
    pairs of a content word with it: what an exclusion must overlap to veto the match."""
    out: set[str] = set()
    for text in fired:
        text = _APOS.sub("'", text.lower())
        target = [m.group() for m in _TOKEN.finditer(text)]
        if not target or len(target) > 3:
            continue
        for m in re.finditer(re.escape(text), doc.text):
            inside = [i for i, t in enumerate(doc.tokens) if t[1] < m.end() and m.start() < t[2]]
            if not inside:
                continue
            lo, hi = inside[0], inside[-1]
            for n in (2, 3):
                for i in range(max(0, lo - n + 1), hi + 1):
                    gram = _gram(doc.text, doc.tokens, i, n)
                    if gram and (i < lo or i + n - 1 > hi) and i + n - 1 >= lo:
                        out.add(gram)
            for j in list(range(max(0, lo - MAX_NEAR_GAP - 1), lo)) + list(
                    range(hi + 1, min(len(doc.tokens), hi + MAX_NEAR_GAP + 2))):
                word = doc.tokens[j][0]
                if len(word) >= 3 and _content(word) and word not in target:
                    gap = lo - j - 1 if j < lo else j - hi - 1
                    out.add(f"{stem.unit(word)} ~{gap} {' '.join(target)}")
    return out


def _has_exclusion(doc: _Doc, pattern: str) -> bool:
    if "~" not in pattern:
        return pattern in doc.grams
    a, rest = pattern.split(" ~", 1)
    gap, b = rest.split(" ", 1)
    first = b.split(" ")[0]
    found = _near_gap(doc, a, first)
    return a in doc.units and found is not None and found <= int(gap)


def exclude_candidates(label: str, wrong: list[tuple[_Doc, list[str]]], right: list[_Doc],
                       min_rows: int, stem: Stems) -> list[Candidate]:
    """Exclusions around what fired in the false positives of ``label`` (``wrong``: each
    row with its matched texts), rare in ``right`` (its true positives, which an exclusion
    could turn into misses)."""
    counts: Counter = Counter()
    for doc, fired in wrong:
        counts.update(_exclusion_patterns(doc, fired, stem))
    scored = [(n, sum(_has_exclusion(d, p) for d in right), p)
              for p, n in counts.items() if n >= min_rows]
    return [Candidate(label, "exclude", p) for p in _top(scored, MAX_EXCLUDE)]


# --- measuring -----------------------------------------------------------------------------

def toml_line(candidate: Candidate, weight: float | None) -> tuple[str, str]:
    """The table to paste under and the line itself. JSON strings of these characters
    (words, spaces, ``*``, ``~``, ``'``) are valid TOML basic strings."""
    key = json.dumps(candidate.pattern, ensure_ascii=False)
    if candidate.kind == "exclude":
        return f"[rules.{candidate.label}]", f"exclude = [{key}]"
    return f"[rules.{candidate.label}.{candidate.kind}]", f"{key} = {weight:g}"


def parse_suggestion(section: str, line: str) -> Pattern:
    """The pattern of a suggested TOML line, through the project's own rules parser (a line
    it rejects is never shown). Raises :class:`RuleError` or ``tomllib.TOMLDecodeError``."""
    spec = load_rules(tomllib.loads(f"{section}\n{line}\n"))
    for lr in spec.labels:
        for found in (*(r.pattern for r in lr.rules), *lr.exclude):
            return found
    raise RuleError(section, "no rule in the suggested line")


def _with(spec: RulesSpec, candidate: Candidate, pattern: Pattern,
          weight: float | None) -> tuple[RulesSpec, float | None]:
    """``spec`` with the candidate added, as pasting it into a config would: a term or near
    rule whose pattern the label already has replaces that rule's weight. Also returns the
    weight replaced, if any."""
    lr = spec.label(candidate.label)
    if candidate.kind == "exclude":
        new = dataclasses.replace(lr, exclude=lr.exclude + (pattern,))
        return dataclasses.replace(spec, labels=swap_label(spec, new)), None
    rules = list(lr.rules)
    same = [i for i, r in enumerate(rules) if r.pattern.canonical == pattern.canonical]
    replaced = rules[same[0]].weight if same else None
    rule = Rule(candidate.label, pattern, float(weight or 0))
    if same:
        rules[same[0]] = rule
    else:
        rules.append(rule)
    new = dataclasses.replace(lr, rules=tuple(rules))
    return dataclasses.replace(spec, labels=swap_label(spec, new)), replaced


def _tiny(base: Baseline, label: str, rules: Iterable[Rule], reached: frozenset[int],
          *, exclusions: bool = True) -> Classifier:
    """A classifier of ``label`` with only ``rules`` and (``exclusions``) the label's
    exclusions that may match one of the ``reached`` rows."""
    lr = base.spec.label(label)
    excl = [p for p in lr.exclude if base.rows_reached(p) & reached] if exclusions else []
    return label_classifier(base, label, rules, excl)


def _matches(base: Baseline, label: str, rules: list[Rule], *, exclusions: bool
             ) -> dict[str, dict[int, list[Match]]]:
    """The matches of each rule, by rule source and row: all the candidates of a label in one
    classifier, compiled once. A rule counts on its own and exclusions veto each rule's
    matches alone, so sharing a classifier changes no rule's matches."""
    reached = frozenset().union(*(base.rows_reached(r.pattern) for r in rules))
    tiny = _tiny(base, label, rules, reached, exclusions=exclusions)
    out: dict[str, dict[int, list[Match]]] = defaultdict(lambda: defaultdict(list))
    for i in reached:
        for m in tiny.classify(*base.inputs[i]).evidence:
            out[m.term][i].append(m)
    return out


def _score_without(base: Baseline, i: int, label: str, vetoes: list[Match]) -> float:
    """The label's score on row ``i`` once the matches overlapping ``vetoes`` are dropped,
    scored as the engine does: each rule once, at its best remaining match (the weight, plus
    the title bonus for a match in the headline)."""
    kept = (m for m in base.results[i].evidence
            if not any(v.field == m.field and v.start < m.end and m.start < v.end
                       for v in vetoes))
    return round(sum(rule_shares(kept, label).values()), 6)


def _scores_after(base: Baseline, candidate: Candidate, pattern: Pattern,
                  replaced: float | None, found: dict[int, list[Match]]) -> dict[int, float]:
    """The label's score on each row where the candidate matches, with the candidate added:
    a new rule adds its best match (replacing the old weight of a pattern the label has),
    an exclusion drops the label's matches that its own matches overlap."""
    label = candidate.label
    if candidate.kind == "exclude":
        return {i: _score_without(base, i, label, vetoes) for i, vetoes in found.items()}
    weight = base.spec.label(label).threshold
    out = {}
    for i, matches in found.items():
        share = max(m.weight for m in matches)
        # The old rule's weight here (none: 0): plus the same title bonus, unless it was a
        # penalty, as the engine weighs a rule in the headline.
        old = replaced + (share - weight) * (replaced > 0) if replaced else 0.0
        out[i] = round(base.results[i].scores[label] + share - old, 6)
    return out


def _parse(base: Baseline, candidate: Candidate) -> tuple | None:
    """(candidate, weight, section, line, pattern); None when the line does not parse."""
    weight = None if candidate.kind == "exclude" else base.spec.label(candidate.label).threshold
    section, line = toml_line(candidate, weight)
    try:
        return candidate, weight, section, line, parse_suggestion(section, line)
    except (RuleError, tomllib.TOMLDecodeError):
        return None


def measure_all(base: Baseline, candidates: Iterable[Candidate]) -> list[Suggestion]:
    """Each candidate whose TOML line parses, measured on the rows it matches."""
    parsed = [p for p in map(lambda c: _parse(base, c), candidates) if p is not None]
    found: dict[tuple[str, bool], dict[str, dict[int, list[Match]]]] = {}
    for label in LABELS:
        for excl in (False, True):
            # An exclusion candidate runs as a rule of its own, without the label's
            # exclusions: what it matches is what it would veto.
            rules = [Rule(label, pattern, weight or 1.0) for c, weight, _, _, pattern in parsed
                     if c.label == label and (c.kind == "exclude") == excl]
            if rules:
                found[label, excl] = _matches(base, label, rules, exclusions=not excl)
    out = []
    for c, weight, section, line, pattern in parsed:
        _, replaced = _with(base.spec, c, pattern, weight)
        matches = found[c.label, c.kind == "exclude"].get(pattern.source, {})
        scores = _scores_after(base, c, pattern, replaced, matches)
        threshold = base.spec.label(c.label).threshold - 1e-9  # the engine's float tolerance
        changed = [(i, score >= threshold) for i, score in sorted(scores.items())]
        fixed, introduced, f1 = effect(base, c.label, changed)
        out.append(Suggestion(c, weight, section, line, fixed, introduced,
                              base.report.stats[c.label].f1, f1, replaced))
    return out


def _plain(base: Baseline, s: Suggestion) -> tuple[list[str], list[str], float]:
    """Rows fixed and broken, and the label's F1, with the suggestion pasted into the rules
    of ``base``: every row of its file through ``evaluate``."""
    c = s.candidate
    spec, _ = _with(base.spec, c, parse_suggestion(s.section, s.line), s.weight)
    return plain_effect(base, spec, c.label, c.pattern)


def verify(base: Baseline, s: Suggestion) -> Suggestion:
    """The suggestion measured again the plain way on the file it was drawn from. These are
    the figures shown."""
    s.fixed, s.introduced, s.f1_after = _plain(base, s)
    return s


@dataclass(slots=True)
class Words:
    """The rows of a baseline as the candidate search reads them."""

    docs: list[_Doc]
    stems: Stems


def words_of(base: Baseline) -> Words:
    docs = [_doc(r) for r in base.rows]
    return Words(docs, Stems(w for d in docs for w, _, _ in d.tokens))


def _candidates(base: Baseline, words: Words, label: str, min_rows: int) -> list[Candidate]:
    missed, clean, wrong, right = [], [], [], []
    evidence = {id(e.row): e.evidence for e in base.report.errors}
    for i, doc in enumerate(words.docs):
        gold, predicted = label in doc.row.labels, label in base.results[i].labels
        if gold and not predicted:
            missed.append(doc)
        elif predicted and not gold:
            # (not a penalty's: an exclusion there would raise the score)
            fired = {m.text for m in evidence.get(id(doc.row), ())
                     if m.label == label and not m.against}
            wrong.append((doc, sorted(fired)))
        elif predicted:
            right.append(doc)
        else:
            clean.append(doc)
    out = []
    if missed:
        out += term_candidates(label, missed, clean, min_rows, words.stems)
        out += near_candidates(label, missed, clean, min_rows, words.stems)
    if wrong:
        out += exclude_candidates(label, wrong, right, min_rows, words.stems)
    return out


def _fold(ranked: list[Suggestion]) -> list[Suggestion]:
    """Keep the best of the suggestions with the same effect (the same rows fixed and
    broken: "gaza ceasefire" and "gaza ~0 ceasefire"), listing the others as alternatives;
    and drop a suggestion that a better one of its label covers (fixes all it fixes and
    breaks nothing more: "blacklists" under "blacklist*"), listing it as weaker."""
    kept: list[Suggestion] = []
    for s in ranked:
        fixed, broken = set(s.fixed), set(s.introduced)
        for k in kept:
            if (k.candidate.label, k.candidate.kind) != (s.candidate.label, s.candidate.kind):
                continue
            if fixed == set(k.fixed) and broken == set(k.introduced):
                k.alternatives.append(s.candidate.pattern)
                break
            if fixed <= set(k.fixed) and broken >= set(k.introduced):
                k.weaker.append(s.candidate.pattern)
                break
        else:
            kept.append(s)
    return kept


def check_held_out(held: Baseline, s: Suggestion) -> Suggestion:
    """The suggestion measured, the plain way, on the rows of ``held``, which it was not
    drawn from."""
    fixed, broken, f1 = _plain(held, s)
    s.held_out = HeldOut(fixed, broken, held.report.stats[s.candidate.label].f1, f1)
    return s


def suggest(spec: RulesSpec, rows: Sequence[Row], labels: Iterable[str] = LABELS,
            top: int = 10, min_rows: int = 2, holdout: float = 0.0) -> SuggestReport:
    """Rank rule changes by their gain on ``rows`` under ``spec``; the best ``top``, only
    those with a gain above 0. ``min_rows``: error rows a candidate must come from.
    ``holdout``: the fraction of the rows set aside (:func:`split_rows`): suggestions are
    drawn from and ranked on the others, and each shown is also measured on those set
    aside, which never choose or order them."""
    held: list[Row] = []
    if holdout > 0:
        rows, held = split_rows(rows, holdout)
    base = baseline(spec, rows)
    words = words_of(base)
    measured = measure_all(base, [c for label in labels
                                  for c in _candidates(base, words, label, min_rows)])
    useful = sorted((s for s in measured if s.gain > 0 and len(s.fixed) >= min_rows),
                    key=Suggestion.rank_key)
    shown = [verify(base, s) for s in _fold(useful)[:top]]
    shown = sorted((s for s in shown if s.gain > 0 and len(s.fixed) >= min_rows),
                   key=Suggestion.rank_key)
    if held:
        held_base = baseline(spec, held)
        shown = [check_held_out(held_base, s) for s in shown]
    return SuggestReport(len(rows), base.report.macro_f1, len(measured), shown, len(held))


# --- plain text ----------------------------------------------------------------------------

def format_suggestions(report: SuggestReport) -> str:
    """What ``rules suggest`` prints: per suggestion its effect, then the TOML to paste."""
    rows = (f"{report.rows} rows to draw from ({report.held_out_rows} more held out, to check "
            "each suggestion on)" if report.held_out_rows else f"{report.rows} rows")
    lines = [f"{rows}, macro-F1 {report.macro_f1:.3f}; {report.candidates} candidate rules "
             f"measured, {len(report.suggestions)} shown (gain = errors fixed - errors "
             "introduced, on this file)"]
    if not report.suggestions:
        lines.append("No rule found that fixes more errors than it introduces.")
    for n, s in enumerate(report.suggestions, 1):
        c = s.candidate
        broke = "new misses" if c.kind == "exclude" else "new false positives"
        lines += ["", f"{n:>2}. {c.label} {c.kind}: gain {s.gain:+d} (fixes {len(s.fixed)}, "
                  f"{broke} {len(s.introduced)})  F1 {s.f1_before:.3f} → {s.f1_after:.3f}",
                  f"    {s.section}", f"    {s.line}"]
        if s.replaces is not None:
            lines.append(f"    (the rules have this pattern at weight {s.replaces:g}: this "
                         "line raises it)")
        if c.kind == "exclude":
            lines.append("    (if the label already has an exclude array, add the pattern to it)")
        lines.append(f"    fixes: {ids_text(s.fixed)}")
        if s.introduced:
            lines.append(f"    breaks: {ids_text(s.introduced)}")
        if (h := s.held_out) is not None:
            lines.append(f"    held out: gain {h.gain:+d} (fixes {len(h.fixed)}, {broke} "
                         f"{len(h.introduced)})  F1 {h.f1_before:.3f} → {h.f1_after:.3f}"
                         + ("" if h.gain > 0 else "  (it does not hold beyond the rows it "
                            "came from)"))
        if s.alternatives:
            lines.append(f"    same effect: {', '.join(s.alternatives[:4])}")
        if s.weaker:
            lines.append(f"    weaker: {', '.join(s.weaker[:4])}")
    return "\n".join(lines)

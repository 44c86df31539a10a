"""The classification rules language: parse, validate, merge and fingerprint the rules.

This module turns the ``[classify]`` and ``[rules.*]`` tables of a config into frozen data
(:class:`RulesSpec`); matching lives in :mod:`feeds.classify.engine`. Nothing here does I/O.

Classification rules
====================

An item gets the labels ``talks``, ``sanctions`` and ``statements`` (any of them, or none)
from keyword rules in ``config.toml``: ``[classify]`` holds the settings, and one
``[rules.<label>]`` table per label holds its rules. Any other label is an error. The rules
look at the headline (title) and at the first 1,000 characters of the summary: wire ledes put
the news first, and later paragraphs mostly recall background (old talks, past sanctions).

.. code-block:: toml

    [classify]
    threshold = 1.0     # a label applies when its score >= threshold
    title_bonus = 0.5   # added to a rule's weight when one of its matches is in the headline
    mode = "extend"     # how your [rules.*] combine with the defaults: "extend" | "replace"

    [rules.talks]
    threshold = 1.5                                  # optional: this label's own threshold
    terms = { "peace talks" = 2, "negotiat*" = 1.5 } # or a list of patterns, each of weight 1
    near = { "resum*|halt* ~3 talks|negotiation*" = 2 }
    exclude = ["talk show", "talks with fans"]

``[classify]`` keys: ``threshold`` (a number > 0; default 1.0), ``title_bonus`` (a number
>= 0; default 0.5), ``mode`` (default ``"extend"``). ``[rules.<label>]`` keys:
``threshold`` (a number > 0), ``terms`` and ``near`` (a table of pattern = weight, or an
array of patterns of weight 1), ``exclude`` (an array of patterns). Every key is optional;
any other key is an error. Long tables read best as sub-tables::

    [rules.sanctions.terms]
    "sanction*" = 1.5
    "embargo*" = 1.5

Phrases (``terms``)
-------------------
- Case does not matter, and a phrase matches whole words only: ``talks`` does not match
  "talkshow" or "walkie-talkies". A match starts at the beginning of the headline or
  summary, or after whitespace, an apostrophe, a hyphen or dash, a quote mark, a bracket,
  a backslash or one of ``/ * # @ | + = ~ ^ ` $ % • ·``; it ends where the word ends (the
  next character is not a letter, digit or ``_``). So "talks," and "(talks)" match
  ``talks``, but "U.S.sanctions", glued to a period or comma, does not match ``sanctions``.
- A word of a pattern is letters, digits and ``_``; after its first character it may also
  hold apostrophes, periods and ``&`` (``u.s.``, ``kremlin's``, ``at&t``). Straight and curly
  apostrophes are the same character.
- A space or hyphen between the words of a pattern matches any run of whitespace, hyphens,
  dashes, quote marks and brackets: ``cease fire`` matches "cease fire", "cease-fire" and
  'cease "fire"', but not "ceasefire" (list that as well) and not "cease. Fire": a phrase
  never runs across . , ; : ! or ?.
- ``*`` at the very end is a suffix wildcard on the last word: ``negotiat*`` matches
  "negotiate", "negotiations", "negotiator". It needs at least two characters before it and
  is allowed nowhere else: ``*tiate``, ``neg*ate`` and ``halt* talks`` are errors (write
  ``halt* ~0 talks``).
- ``|`` separates alternatives: ``embargo|embargoes|arms ban`` is one rule matching any of
  them.

Near patterns (``near``)
------------------------
``A ~N B`` fires when a match of ``A`` and a match of ``B`` are in the same field (headline
or summary), do not overlap, and have at most ``N`` words between them, in either order.
``A`` and ``B`` are phrases as above (alternatives, wildcards, several words); ``N`` is a
whole number from 0 to 30, written right after ``~``. ``impos* ~3 sanction*`` matches
"imposed sanctions" (0 words between), "imposed tough new sanctions" (2) and "sanctions
Brussels imposed" (1). A word here is a run of letters, digits and ``_`` (an apostrophe
inside it does not split it); punctuation does not count as a word and does not stop a near
match. A near match spans from the start of its first part to the end of its second part,
including the words between. Each match of a part pairs with at most one match of the other
part, nearest first: "talks failed; resumed talks" is one match of ``resum* ~3 talks``,
"resumed talks".

``A ~N> B`` is the ordered form: ``B`` must come after ``A`` (a speaker before its verb).
``A ~N. B`` / ``A ~N.> B`` keep both parts in one sentence. ``=US`` matches that word only as
written (capitals). ``title: …`` / ``summary: …`` rules fire only in that field. See the
README, "Near patterns", "Phrases" and "Headline or summary only".

Term classes (``@name``)
------------------------
``[classes]`` names lists of phrases (``official = "minister*|spokes*|government"``); a rule
uses one as ``@official``: as an alternative (``@official|embassy ~6 said``), as a whole rule
(``"@reaction" = 0.5``) or inside a phrase (``has @reaction``: every member in its place).
``@actor`` is built from the ``[actors]`` gazetteer. References are expanded into the
patterns here, so the engine's one scan needs no pass per class; ``RulesSpec.classes``
keeps the members as written for ``rules explain``. See the README, "Term classes".

Exclusions (``exclude``)
------------------------
Phrases or near patterns. A match of one of the label's ``terms`` or ``near`` rules that
overlaps (shares a character with) a match of one of the label's exclusions is dropped, as if
it had not fired. A near exclusion covers its whole span, both parts and the words between:
``fifa|uefa|olympic* ~6 sanction*`` drops "sanctions" in "UEFA hands Russian club
sanctions", and ``talk show`` drops ``talk*`` in "talk show host". Only their own label's.

Scoring
-------
- A rule (one ``terms`` or ``near`` entry) counts at most once per item, however often it
  matches: it adds its weight, plus ``title_bonus`` when at least one of its remaining
  matches is in the headline. A label's score is the sum over its rules.
- A label applies when its score >= its threshold (the label's own, else ``[classify]``'s).
  An item may get several labels, or none.
- The primary label is the applied label with the highest score; a tie goes to the first of
  talks, sanctions, statements. No label applied: no primary.
- Weight 0 switches a rule off (in ``extend`` mode, the way to silence a default rule). A
  negative weight is a penalty: evidence against the label from either field (a lede that
  congratulates makes a headline's call a courtesy), never raised by the title bonus.
- Two rules of a label whose matches overlap both count: with ``peace talks`` = 1 and
  ``talks`` = 0.6, "peace talks" scores 1.6. Alternatives of one rule that match the same or
  nested text count as one match.
- The evidence lists every remaining match of every rule that counted, headline first,
  then by position: label, the rule as written, the matched text, field, character offsets
  into the headline or summary as given, and the rule's weight there (+ title_bonus in the
  headline, unless it is a penalty).

Your rules and the bundled defaults
-----------------------------------
A config without ``[classify]`` and ``[rules]`` uses the bundled defaults as they are. In
``mode = "extend"`` (the default) each ``[rules.<label>]`` you write adds to the defaults of
that label: your terms and near rules join the default ones (for a pattern the defaults
already have, compared ignoring case, spacing, hyphens and the order of alternatives, your
weight wins), your exclusions join the default exclusions, and your threshold replaces the
default. In ``mode = "replace"`` each label you define uses only your rules; labels you do
not define keep the defaults; a ``[rules.<label>]`` with no ``terms`` and no ``near``
switches that label off. Your ``threshold`` and ``title_bonus`` override the defaults in
both modes.

Fingerprint
-----------
``RulesSpec.fingerprint`` is a stable hash (16 hex digits) of the effective rules: it changes
with any threshold, bonus, weight, pattern or exclusion, and with the matching semantics
(``MATCHING_VERSION``), but not with key order, case, spacing, hyphens, the order of
alternatives or of near parts, weights written 1 or 1.0, or rules of weight 0. Stored items
are re-classified when it changes.

Errors
------
Unknown keys and labels, wrong types, empty patterns, alternatives or arrays, a misplaced
wildcard, an unsupported character, a malformed near pattern, a near pattern in ``terms``
or a plain phrase in ``near``, duplicate patterns, thresholds <= 0, a negative title bonus,
numbers beyond ±1000 and an unknown class raise :class:`RuleError`, naming the rule, e.g.
``rules.sanctions.near."impos* ~x sanction*": malformed near pattern: expected 'A ~N B' …``.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from feeds.model import LABELS

# Bump when the meaning of a rule changes (matching semantics, summary cap) so that stored
# items are re-classified even though the rules text did not change.
MATCHING_VERSION = 1

DEFAULT_THRESHOLD = 1.0
DEFAULT_TITLE_BONUS = 0.5
MODES = ("extend", "replace")
MAX_NEAR_DISTANCE = 30

_CLASSIFY_KEYS = ("mode", "threshold", "title_bonus")
ACTOR_CLASS = "actor"  # the class made of the [actors] gazetteer's aliases
_CLASS_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")
# Acronym aliases whose lowercase is an everyday word: the rules ignore case, so "US" would
# match "us". The dotted form ("U.S.") stays in the class.
_ACTOR_CLASS_SKIP = frozenset({"us", "un", "it", "am", "is", "no", "me", "so", "or", "an"})
_LABEL_KEYS = ("exclude", "near", "terms", "threshold")

# Between the words of a pattern: whitespace and hyphens.
_PATTERN_SEP = re.compile("[\\s\\-\u2010\u2011]+")
_APOS = re.compile("[\u2019\u2018\u02bc]")
# A pattern word: a word character, then word characters, apostrophes, periods or "&".
_WORD_OK = re.compile(r"\w[\w'.&]*\Z")
_PLAIN = re.compile(r"[a-z0-9_][a-z0-9_'.&]*(?: [a-z0-9_][a-z0-9_'.&]*)*\Z")  # most phrases
_NEAR = re.compile(r"\A(?P<a>.*?)\s*~(?P<n>\S*)\s+(?P<b>.*)\Z", re.S)
_FIELD_PREFIX = re.compile(r"\s*(title|summary):\s*")  # "title: ..." fires in the headline only
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
_QUOTED_KEY = re.compile(r'\.("(?:[^"\\]|\\.)*")')


class RuleError(ValueError):
    """A rule table is invalid. The message is "<where>: <problem>", ``where`` being the
    dotted path of the rule as TOML writes it (``rules.talks.terms."negotiat*"``); ``key``
    is the same path unquoted, for locating the line in a config file."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem
        self.key = _QUOTED_KEY.sub(lambda m: "." + json.loads(m.group(1)), where)


@dataclass(frozen=True, slots=True)
class Phrase:
    """One alternative of a pattern: lowercase words, the last one a stem when ``wildcard``.
    ``cased``: per word, the form it must have as written (``=US``), or None for any case;
    empty when no word is case-sensitive."""

    words: tuple[str, ...]
    wildcard: bool = False
    cased: tuple[str | None, ...] = ()

    @property
    def canonical(self) -> str:
        words = (self.words if not self.cased else
                 tuple(w if c is None else "=" + c for w, c in zip(self.words, self.cased)))
        return " ".join(words) + ("*" if self.wildcard else "")


@dataclass(frozen=True, slots=True)
class Pattern:
    """A phrase pattern (one part) or a near pattern (two parts and a distance)."""

    source: str  # as written in the config; shown as Match.term
    parts: tuple[tuple[Phrase, ...], ...]
    distance: int | None = None  # words allowed between the parts; near patterns only
    ordered: bool = False  # "A ~N> B": B must come after A
    sentence: bool = False  # "A ~N. B": both parts in one sentence
    field: str | None = None  # "title: ..." / "summary: ...": fires only in that field

    @property
    def is_near(self) -> bool:
        return self.distance is not None

    @property
    def canonical(self) -> str:
        """Case, spacing, hyphens and the order of alternatives and (unordered) near parts
        removed."""
        sides = ["|".join(sorted({p.canonical for p in part})) for part in self.parts]
        prefix = f"{self.field}: " if self.field else ""
        dot = "." if self.sentence else ""
        if self.ordered:
            return prefix + f" ~{self.distance}{dot}> ".join(sides)
        sides.sort()
        return prefix + (f" ~{self.distance}{dot} ".join(sides) if self.is_near else sides[0])


@dataclass(frozen=True, slots=True)
class Rule:
    label: str
    pattern: Pattern
    weight: float


@dataclass(frozen=True, slots=True)
class LabelRules:
    label: str
    threshold: float  # effective: the label's own, else the global one
    rules: tuple[Rule, ...] = ()
    exclude: tuple[Pattern, ...] = ()


@dataclass(frozen=True, slots=True)
class RulesSpec:
    """The effective rules, ready to compile. Frozen and picklable. Class references are
    already expanded into the patterns; ``classes`` keeps each class's members as written,
    for ``rules explain``."""

    threshold: float
    title_bonus: float
    labels: tuple[LabelRules, ...]  # one per label, in LABELS order
    classes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    memo: dict[str, str] = field(default_factory=dict, init=False, compare=False, repr=False)

    def label(self, name: str) -> LabelRules:
        for lr in self.labels:
            if lr.label == name:
                return lr
        raise KeyError(name)

    @property
    def fingerprint(self) -> str:
        """Stable hash of what the rules mean: unchanged by key order, case or spacing."""
        if "fingerprint" not in self.memo:  # (kept: ~10 ms, and pickled with the spec)
            labels = {lr.label: {"threshold": lr.threshold,
                                 "rules": sorted([r.pattern.canonical, r.weight]
                                                 for r in lr.rules if r.weight != 0),
                                 "exclude": sorted({p.canonical for p in lr.exclude})}
                      for lr in self.labels}
            doc = {"v": MATCHING_VERSION, "title_bonus": self.title_bonus, "labels": labels}
            blob = json.dumps(doc, sort_keys=True, separators=(",", ":"))
            import hashlib  # (here: OpenSSL's ~3.6 MiB, never in a parse worker)

            self.memo["fingerprint"] = hashlib.sha256(blob.encode()).hexdigest()[:16]
        return self.memo["fingerprint"]


# --- parsing -------------------------------------------------------------------------------

def _key(name: str) -> str:
    """A TOML key as it would be written in a dotted path."""
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


MAX_NUMBER = 1000.0  # weights, thresholds, title_bonus


def _number(value: Any, where: str, *, positive: bool = False, signed: bool = False) -> float:
    # bool is an int subclass: `weight = true` must not silently mean 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RuleError(where, f"expected a number, got {_type_name(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise RuleError(where, f"expected a finite number, got {value}")
    if positive and number <= 0:
        raise RuleError(where, f"must be greater than 0, got {value}")
    if number < 0 and not signed:
        raise RuleError(where, f"must not be negative, got {value}")
    if abs(number) > MAX_NUMBER:  # sums of absurd weights overflow to inf and every label applies
        bound = (f"between -{MAX_NUMBER:g} and {MAX_NUMBER:g}" if signed
                 else f"at most {MAX_NUMBER:g}")
        raise RuleError(where, f"must be {bound}, got {value}")
    return number


def lower_keep_length(text: str) -> str:
    """Lowercase, except characters that lowercasing would lengthen (like "İ"): offsets
    into the lowered text must stay offsets into the original."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)


@lru_cache(maxsize=16384)  # merging a user's rules parses the defaults' phrases again
def _phrase(text: str, where: str) -> Phrase:
    alt = text.strip()
    if not alt:
        raise RuleError(where, "empty alternative (check for a stray '|')")
    wildcard = alt.endswith("*")
    if wildcard:
        alt = alt[:-1]
    if _PLAIN.match(alt) and (not wildcard or len(alt) - alt.rfind(" ") > 2):
        return Phrase(tuple(alt.split(" ")), wildcard)  # lowercase words: nothing to check
    if "*" in alt:
        raise RuleError(where, "wildcard '*' is only allowed at the end of the last word")
    if wildcard and _PATTERN_SEP.match(alt[-1:] or " "):
        raise RuleError(where, "wildcard '*' must end a word (no space before it)")
    raw = [w for w in _PATTERN_SEP.split(_APOS.sub("'", alt)) if w]
    # "=US": this word matches only as written (case-sensitive).
    cased = tuple(w[1:] if w.startswith("=") else None for w in raw)
    words = tuple(lower_keep_length(w[1:] if w.startswith("=") else w) for w in raw)
    if not words:
        raise RuleError(where, "empty alternative")
    if "" in words:
        raise RuleError(where, "'=' must be followed by a word written as it must match, "
                        "e.g. =US")
    for word in words:
        if not _WORD_OK.match(word):
            bad = next((c for c in word if not (c.isalnum() or c in "_'.&")), word[0])
            raise RuleError(where, f"unsupported character {bad!r} in {word!r} (a word "
                            "is letters, digits and _, with ' . & after its first character)")
    if wildcard and len(words[-1]) < 2:
        raise RuleError(where, "wildcard '*' needs at least 2 characters before it")
    return Phrase(words, wildcard, cased if any(c is not None for c in cased) else ())


Classes = dict[str, tuple[Phrase, ...]]


def _class_ref(alt: str, where: str, classes: Classes | None) -> tuple[Phrase, ...]:
    name = alt[1:]
    if not _CLASS_NAME.match(name):
        raise RuleError(where, f"malformed class reference {alt!r} (expected @ and a name of "
                        "lowercase letters, digits and _, e.g. @official)")
    if not classes or name not in classes:
        known = ", ".join(f"@{n}" for n in sorted(classes or ())) or "none"
        raise RuleError(where, f"unknown class {alt!r} (defined: {known}; add it to "
                        "[classes])")
    return classes[name]


def _join_cased(a: Phrase, b: Phrase) -> tuple[str | None, ...]:
    if not a.cased and not b.cased:
        return ()
    return (a.cased or (None,) * len(a.words)) + (b.cased or (None,) * len(b.words))


MAX_CLASS_PHRASES = 20_000  # phrases one alternative with classes inside it may stand for


def _phrase_with_classes(alt: str, where: str, classes: Classes | None) -> list[Phrase]:
    """``has @reaction`` or ``@official said``: every member in place of the reference, so
    that the whole phrase is one entry of the trie (the scan then never reports a bare
    "has"). A member with a wildcard may only end the phrase."""
    pieces: list[tuple[Phrase, ...]] = []
    for token in _PATTERN_SEP.split(alt.strip()):
        if token.startswith("@"):
            pieces.append(_class_ref(token, where, classes))
        elif token:
            pieces.append((_phrase(token, where),))
    combos: list[Phrase] = [Phrase(())]
    for i, options in enumerate(pieces):
        last = i == len(pieces) - 1
        for option in options:
            if option.wildcard and not last:
                raise RuleError(where, f"class member {option.canonical!r} ends in a "
                                "wildcard, so its class can only end a phrase")
        combos = [Phrase(c.words + o.words, o.wildcard, _join_cased(c, o))
                  for c in combos for o in options]
        if len(combos) > MAX_CLASS_PHRASES:
            raise RuleError(where, f"{alt!r} stands for more than {MAX_CLASS_PHRASES} "
                            "phrases (use a near pattern)")
    return combos


def _alternatives(text: str, where: str, classes: Classes | None = None
                  ) -> tuple[Phrase, ...]:
    """The phrases of ``a|b|@class|has @class``: a class reference stands for all its
    members, so it compiles into the same trie as any other phrase."""
    out: dict[Phrase, None] = {}
    for alt in text.split("|"):
        alt = alt.strip()
        if alt.startswith("@") and not _PATTERN_SEP.search(alt):
            out.update(dict.fromkeys(_class_ref(alt, where, classes)))
        elif "@" in alt:
            out.update(dict.fromkeys(_phrase_with_classes(alt, where, classes)))
        else:
            out[_phrase(alt, where)] = None
    return tuple(out)


def parse_pattern(text: str, where: str, *, near: bool | None,
                  classes: Classes | None = None) -> Pattern:
    """Parse one pattern. ``near``: True → must be ``A ~N B``; False → must be a phrase;
    None → either (exclusions). ``classes``: what ``@name`` references may name."""
    if not isinstance(text, str):
        raise RuleError(where, f"expected a string, got {_type_name(text)}")
    if not text.strip():
        raise RuleError(where, "empty pattern")
    source, field = text, None
    prefix = _FIELD_PREFIX.match(text)
    if prefix:
        if near is None:
            raise RuleError(where, f"'{prefix[1]}:' is for terms and near rules, not "
                            "exclusions")
        field, text = prefix[1], text[prefix.end():]
        if not text.strip():
            raise RuleError(where, f"empty pattern after '{field}:'")
    if "~" not in text:
        if near:
            raise RuleError(where, "not a near pattern: expected 'A ~N B', e.g. "
                            "'impos* ~3 sanction*' (phrases go in terms)")
        return Pattern(source, (_alternatives(text, where, classes),), field=field)
    if near is False:
        raise RuleError(where, "'~' is only allowed in near patterns (move it to near)")
    m = _NEAR.match(text.strip())
    ordered = bool(m) and m["n"].endswith(">")
    n = m["n"].rstrip(">") if m else ""
    sentence = n.endswith(".")
    n = n[:-1] if sentence else n
    if text.count("~") != 1 or not m or not n.isdigit():
        raise RuleError(where, "malformed near pattern: expected 'A ~N B' with N a whole "
                        f"number of words (0-{MAX_NEAR_DISTANCE}), e.g. 'impos* ~3 sanction*', "
                        "'~3>' (ordered), '~3.' or '~3.>' (in one sentence)")
    distance = int(n)
    if distance > MAX_NEAR_DISTANCE:
        raise RuleError(where, f"near distance {distance} is larger than "
                        f"{MAX_NEAR_DISTANCE} words")
    if not m["a"].strip() or not m["b"].strip():
        raise RuleError(where, "malformed near pattern: a part is missing on one side of "
                        f"'~{distance}'")
    return Pattern(source, (_alternatives(m["a"], where, classes),
                            _alternatives(m["b"], where, classes)), distance, ordered,
                   sentence, field)


def _weighted(value: Any, where: str, *, near: bool,
              classes: Classes | None = None) -> list[tuple[Pattern, float]]:
    """``terms``/``near``: a table of pattern = weight, or a list of patterns (weight 1)."""
    if isinstance(value, dict):
        items = [(p, w, f"{where}.{_key(p)}") for p, w in value.items()]
    elif isinstance(value, list):
        items = [(p, 1.0, f"{where}.{_key(p)}" if isinstance(p, str) else f"{where}[{i}]")
                 for i, p in enumerate(value)]
    else:
        raise RuleError(where, "expected a table of pattern = weight or an array of "
                        f"patterns, got {_type_name(value)}")
    if not items:
        raise RuleError(where, "is empty (add a pattern or remove the key)")
    out: list[tuple[Pattern, float]] = []
    seen: dict[str, str] = {}
    for text, weight, rule_where in items:
        pattern = parse_pattern(text, rule_where, near=near, classes=classes)
        # A negative weight is a penalty: evidence against the label, wherever it matches.
        out.append((pattern, _number(weight, rule_where, signed=True)))
        if (canonical := pattern.canonical) in seen:  # (computed at each read: read once)
            raise RuleError(rule_where, f"duplicate of {seen[canonical]!r}")
        seen[canonical] = text
    return out


def _exclusions(value: Any, where: str, classes: Classes | None = None) -> list[Pattern]:
    if not isinstance(value, list):
        raise RuleError(where, f"expected an array of patterns, got {_type_name(value)}")
    if not value:
        raise RuleError(where, "is empty (add a pattern or remove the key)")
    return [parse_pattern(p, f"{where}.{_key(p)}" if isinstance(p, str) else f"{where}[{i}]",
                          near=None, classes=classes) for i, p in enumerate(value)]


def _check_keys(table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise RuleError(f"{where}.{_key(key)}", "unknown key (expected one of: "
                            f"{', '.join(allowed)})")


def _tables(table: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``classify`` and ``rules`` tables of a config document, type-checked."""
    if not isinstance(table, dict):
        raise RuleError("config", f"expected a table, got {_type_name(table)}")
    classify = table.get("classify", {})
    rules = table.get("rules", {})
    for name, value in (("classify", classify), ("rules", rules),
                        ("classes", table.get("classes", {}))):
        if not isinstance(value, dict):
            raise RuleError(name, f"expected a table, got {_type_name(value)}")
    _check_keys(classify, _CLASSIFY_KEYS, "classify")
    if "mode" in classify and classify["mode"] not in MODES:
        raise RuleError("classify.mode", "expected \"extend\" or \"replace\", got "
                        f"{classify['mode']!r}")
    for label, body in rules.items():
        if label not in LABELS:
            raise RuleError(f"rules.{_key(label)}", "unknown label (expected one of: "
                            f"{', '.join(LABELS)})")
        if not isinstance(body, dict):
            raise RuleError(f"rules.{label}", f"expected a table, got {_type_name(body)}")
        _check_keys(body, _LABEL_KEYS, f"rules.{label}")
    return classify, rules


def _class_table(value: Any) -> dict[str, list[str]]:
    """``[classes]``: name = "a|b|c" or an array of such strings → members as written."""
    if not isinstance(value, dict):
        raise RuleError("classes", f"expected a table, got {_type_name(value)}")
    out: dict[str, list[str]] = {}
    for name, body in value.items():
        where = f"classes.{_key(name)}"
        if name == ACTOR_CLASS:
            raise RuleError(where, "@actor is the [actors] gazetteer; add aliases there")
        if not _CLASS_NAME.match(name):
            raise RuleError(where, "a class name is lowercase letters, digits and _")
        parts = [body] if isinstance(body, str) else body
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            raise RuleError(where, "expected a string of alternatives (\"a|b*|c d\") or an "
                            f"array of them, got {_type_name(body)}")
        members = [alt.strip() for part in parts for alt in part.split("|")]
        if not members or "@" in "".join(members) or "~" in "".join(members):
            raise RuleError(where, "a class is phrases only: no near pattern, no @class")
        out[name] = members
    return out


def _actor_members(actors: Any) -> list[str]:
    """The aliases of an :class:`~feeds.classify.actors.ActorSpec` (or of an ``[actors]``
    table) that work case-insensitively."""
    if isinstance(actors, dict):
        from feeds.classify.actors import load_actors  # actors.py imports this module

        actors = load_actors(actors)
    return [alias for actor in actors.actors for alias in actor.aliases
            if alias.lower() not in _ACTOR_CLASS_SKIP]


def _classes(table: dict[str, Any], actors: Any) -> tuple[Classes, dict[str, list[str]]]:
    """Compiled classes (name → phrases) and their members as written."""
    written = _class_table(table.get("classes", {}))
    compiled: Classes = {}
    for name, members in written.items():
        compiled[name] = tuple(dict.fromkeys(_phrase(m, f"classes.{_key(name)}")
                                             for m in members))
    source = actors if actors is not None else table.get("actors")
    if source is not None:
        kept: dict[Phrase, str] = {}
        for alias in _actor_members(source):
            try:
                kept.setdefault(_phrase(alias, "actors"), alias)
            except RuleError:
                continue  # an alias the rules cannot spell; the gazetteer still tags it
        compiled[ACTOR_CLASS] = tuple(kept)
        written[ACTOR_CLASS] = list(kept.values())
    return compiled, written


def _label_rules(label: str, body: dict[str, Any], threshold: float,
                 classes: Classes) -> LabelRules:
    where = f"rules.{label}"
    own = body.get("threshold")
    parsed: list[Rule] = []
    for key, near in (("terms", False), ("near", True)):
        if key in body:
            for pattern, weight in _weighted(body[key], f"{where}.{key}", near=near,
                                             classes=classes):
                parsed.append(Rule(label, pattern, weight))
    return LabelRules(
        label=label,
        threshold=(_number(own, f"{where}.threshold", positive=True) if own is not None
                   else threshold),
        rules=tuple(parsed),
        exclude=tuple(_exclusions(body["exclude"], f"{where}.exclude", classes))
        if "exclude" in body else (),
    )


def load_rules(table: dict[str, Any], actors: Any = None) -> RulesSpec:
    """Validate a config document's ``[classify]``, ``[classes]`` and ``[rules.*]`` tables
    (other top-level keys are ignored) and return the effective rules. ``@actor`` is built
    from ``actors`` (an ``ActorSpec``) when given, else from the document's ``[actors]``.
    Raises :class:`RuleError`."""
    classify, rules = _tables(table)
    threshold = (_number(classify["threshold"], "classify.threshold", positive=True)
                 if "threshold" in classify else DEFAULT_THRESHOLD)
    title_bonus = (_number(classify["title_bonus"], "classify.title_bonus")
                   if "title_bonus" in classify else DEFAULT_TITLE_BONUS)
    classes, written = _classes(table, actors)
    labels = tuple(_label_rules(label, rules.get(label, {}), threshold, classes)
                   for label in LABELS)
    return RulesSpec(threshold, title_bonus, labels,
                     tuple((name, tuple(members)) for name, members in sorted(written.items())))


# --- merging user rules into the defaults --------------------------------------------------

def _merge_weighted(default: Any, user: Any, where: str, *, near: bool,
                    classes: Classes) -> dict[str, Any]:
    """Default and user entries as one table; a user entry replaces the default entry with
    the same canonical pattern (so "Negotiat*" = 0 silences the default "negotiat*")."""
    merged: dict[str, tuple[str, Any]] = {}
    for source in (default, user):
        if source is None:
            continue
        for pattern, weight in _weighted(source, where, near=near, classes=classes):
            merged[pattern.canonical] = (pattern.source, weight)
    return {text: weight for text, weight in merged.values()}


def _merge_label(d_body: dict[str, Any], u_body: dict[str, Any], where: str,
                 classes: Classes) -> dict[str, Any]:
    """One label in ``extend`` mode: the user's rules join the defaults."""
    body: dict[str, Any] = {}
    if "threshold" in u_body or "threshold" in d_body:
        body["threshold"] = u_body.get("threshold", d_body.get("threshold"))
    for key, near in (("terms", False), ("near", True)):
        if key in d_body or key in u_body:
            body[key] = _merge_weighted(d_body.get(key), u_body.get(key),
                                        f"{where}.{key}", near=near, classes=classes)
    if "exclude" in d_body or "exclude" in u_body:
        excl: dict[str, str] = {}
        for source in (d_body.get("exclude", []), u_body.get("exclude", [])):
            for p in _exclusions(source, f"{where}.exclude", classes) if source else []:
                excl.setdefault(p.canonical, p.source)
        body["exclude"] = list(excl.values())
    return body


def merge_rules(default_table: dict[str, Any], user_table: dict[str, Any],
                actors: Any = None) -> dict[str, Any]:
    """Combine the bundled config document with a user's one into the effective
    ``{"classify": {...}, "classes": {...}, "rules": {...}}`` table for :func:`load_rules`.

    Both documents are validated (the user's first, so that its errors are reported as
    such); other top-level keys such as ``[[feeds]]`` are ignored. A user's class replaces
    the bundled class of the same name, in both modes. ``actors`` (an ``ActorSpec``) builds
    ``@actor``; without it, the default document's ``[actors]`` does. See the module
    docstring for what ``extend`` and ``replace`` do.
    """
    d_classify, d_rules = _tables(default_table)
    u_classify, u_rules = _tables(user_table)
    merged_classes = {**_class_table(default_table.get("classes", {})),
                      **_class_table(user_table.get("classes", {}))}
    actors = actors if actors is not None else default_table.get("actors")
    # Full validation of the user's patterns, weights and thresholds; they may name classes
    # of the defaults.
    load_rules({**user_table, "classes": merged_classes}, actors)
    classes, _ = _classes({"classes": merged_classes}, actors)
    mode = u_classify.get("mode", "extend")
    classify = {k: v for k, v in {**d_classify, **u_classify}.items() if k != "mode"}
    rules: dict[str, Any] = {}
    for label in LABELS:
        d_body, u_body = d_rules.get(label), u_rules.get(label)
        if u_body is None or mode == "replace":
            body = u_body if u_body is not None else d_body
            if body is not None:
                rules[label] = body
            continue
        rules[label] = _merge_label(d_body or {}, u_body, f"rules.{label}", classes)
    out: dict[str, Any] = {"classify": classify, "classes": merged_classes, "rules": rules}
    if actors is not None:
        out["actors"] = actors
    return out

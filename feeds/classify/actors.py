"""The actors gazetteer: which countries, capitals, offices, blocs and bodies an item names.

``[actors]`` in the config maps a canonical actor name to its aliases::

    [actors]
    mode = "extend"   # "extend" (default): merged into the bundled gazetteer; "replace"
    Russia = ["Russian", "Russians", "Moscow", "Kremlin"]
    Turkey = ["Türkiye", "Turkish", "Ankara"]

Matching
--------
- The canonical name is an alias too. Whole words only: "Russia" matches "Russia",
  "Russia's", "(Russia)" and "Russia-Ukraine", never "Prussia". Between the words of an
  alias any run of spaces or hyphens matches ("White House", "White-House").
- Diacritics never matter: "Türkiye" matches "Turkiye" and the other way round. Straight
  and curly apostrophes are the same character.
- Case: an alias written in capitals (an acronym: ``US``, ``UN``, ``EU``) matches only in
  capitals, so "us" and "un" are not actors. An alias that starts with a capital (a proper
  noun: ``Kyiv``, ``Polish``, ``Nato``) needs a capital first letter in the text and ignores
  the case of the rest ("Kyiv", "KYIV"; not "polish the shoes"; ``Nato`` matches "Nato" and
  "NATO"). An alias written in lowercase ignores case entirely.
- At one position the longest alias wins. Demonyms ("Russian") are listed as aliases like
  any other word. The title and the first 1,000 characters of the summary are scanned (as
  by the classification rules); ``Item.actors`` holds canonical names in order of first
  mention, the title first.
- Leaders: the bundled gazetteer names states by their offices (Kremlin, White House,
  Downing Street), not by their office holders, which change with elections. Add people
  yourself when you want them: ``Russia = ["Putin", "Lavrov"]`` in your config.

Combining with the bundled gazetteer
------------------------------------
``mode = "extend"``: each of your actors adds its aliases to the bundled actor of the same
name (compared ignoring case and diacritics), or is a new actor; ``Name = []`` removes a
bundled actor. ``mode = "replace"``: only your actors. Changing the gazetteer re-tags stored
items (``ActorSpec.fingerprint``, like the rules).
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

# The rules language's own pieces: the modes, apostrophes, what one word of an alias may
# be, and how a TOML key is written in an error message. (The engine's lede limit is read
# when the regex is compiled: loading a config never imports the engine.)
from feeds.classify.rules import _APOS, MODES, _key
from feeds.classify.rules import _WORD_OK as _ALIAS_OK

# Bump when the matching semantics change so that stored items are re-tagged.
ACTOR_MATCHING_VERSION = 1

_SEP = re.compile("[\\s\\-\u2010\u2011\u2012\u2013]+")
_END = "\x00end"
_UNSEEN: Any = object()  # (a spelling not looked up yet)
_NAMES_MAX = 20_000  # spellings remembered by a tagger


class ActorError(ValueError):
    """An invalid ``[actors]`` table; ``key`` is the dotted config key (for its line)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem


def fold(text: str) -> str:
    """Diacritics removed, apostrophes straightened; case kept."""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text)
                       if not unicodedata.combining(c))
        text = _APOS.sub("'", text)
    return text


def _alias_key(alias: str) -> str:
    """How two aliases compare for duplicates and lookups: folded, lowercase, one space."""
    return " ".join(_SEP.split(fold(alias).strip())).lower()


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    aliases: tuple[str, ...]  # as written (the canonical name first)


@dataclass(frozen=True, slots=True)
class ActorSpec:
    """The effective gazetteer. Frozen and picklable (it is shipped to parse workers)."""

    actors: tuple[Actor, ...] = ()
    memo: dict[str, str] = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.actors)

    @property
    def alias_words(self) -> frozenset[str]:
        """Every word of every alias, folded and lowercased (clustering weighs them down)."""
        return frozenset(w for a in self.actors for alias in a.aliases
                         for w in re.findall(r"\w+", _alias_key(alias)))

    def resolve(self, name: str) -> str | None:
        """The canonical actor for a name or any alias of it (ignoring case and diacritics):
        ``resolve("kremlin")`` → "Russia". None when no actor has it."""
        key = _alias_key(name)
        for actor in self.actors:
            if any(_alias_key(alias) == key for alias in actor.aliases):
                return actor.name
        return None

    @property
    def fingerprint(self) -> str:
        """Stable hash of what the gazetteer matches (not of its order or spacing)."""
        if "fingerprint" not in self.memo:  # (kept, and pickled with the spec)
            doc = {"v": ACTOR_MATCHING_VERSION,
                   "actors": sorted([a.name, sorted({_case_form(x) for x in a.aliases})]
                                    for a in self.actors)}
            blob = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            import hashlib  # (here: OpenSSL's ~3.6 MiB, never in a parse worker)

            self.memo["fingerprint"] = hashlib.sha256(blob.encode()).hexdigest()[:16]
        return self.memo["fingerprint"]


def _case_form(alias: str) -> str:
    """The alias reduced to what matching sees: folded, one space, case only where it counts."""
    key = " ".join(_SEP.split(fold(alias).strip()))
    kind = _case_kind(key)
    return key if kind == "exact" else (key[0] + key[1:].lower() if kind == "capital" else key.lower())


def _case_kind(alias: str) -> str:
    letters = [c for c in alias if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and any(c.lower() != c for c in letters):
        return "exact"  # an acronym
    if alias[:1].isupper():
        return "capital"
    return "any"


# --- loading ---------------------------------------------------------------------------------

def _actors_table(table: Any, where: str = "actors") -> tuple[str, dict[str, list[str]]]:
    if not isinstance(table, dict):
        raise ActorError(where, f"expected a table [actors], got {type(table).__name__}")
    mode = table.get("mode", "extend")
    if mode not in MODES:
        raise ActorError(f"{where}.mode", f'expected "extend" or "replace", got {mode!r}')
    out: dict[str, list[str]] = {}
    for name, aliases in table.items():
        if name == "mode":
            continue
        key = f"{where}.{_key(name)}"
        if not name.strip():
            raise ActorError(key, "an actor needs a non-empty name")
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ActorError(key, "expected an array of aliases (strings), e.g. "
                             '["Moscow", "Kremlin"]')
        for alias in [name, *aliases]:
            words = _SEP.split(fold(alias).strip())
            if not alias.strip() or not all(_ALIAS_OK.match(w) for w in words if w):
                raise ActorError(key, f"alias {alias!r}: an alias is words of letters, digits "
                                 "and _, with ' . & after a word's first character")
        out[name.strip()] = [a.strip() for a in aliases]
    return mode, out


def load_actors(default_table: Any, user_table: Any = None) -> ActorSpec:
    """The effective gazetteer from the bundled ``[actors]`` table and the user's (if any)."""
    _, merged = _actors_table(default_table or {})
    if user_table is not None:
        mode, user = _actors_table(user_table)
        if mode == "replace":
            merged = {}
        by_key = {_alias_key(n): n for n in merged}
        for name, aliases in user.items():
            existing = by_key.get(_alias_key(name))
            if existing is None:
                if aliases:
                    merged[name] = aliases
                    by_key[_alias_key(name)] = name
            elif not aliases:
                del merged[existing]  # Name = [] removes a bundled actor
            else:
                merged[existing] = merged[existing] + aliases
    actors, owner = [], {}
    for name, aliases in merged.items():
        seen: dict[str, str] = {}
        for alias in [name, *aliases]:
            seen.setdefault(_case_form(alias), alias)
            other = owner.setdefault(_alias_key(alias), name)
            if other != name:
                raise ActorError(f"actors.{_key(name)}",
                                 f"alias {alias!r} is already an alias of {other!r}")
        actors.append(Actor(name, tuple(seen.values())))
    return ActorSpec(tuple(actors))


# --- matching --------------------------------------------------------------------------------

def _tokens(form: str, first: str) -> list[str]:
    """Regex pieces for one alias, starting with the literal ``first`` character; the
    characters whose case matters are literal, the others a two-case class."""
    kind = _case_kind(form)
    out = [re.escape(first)]
    for ch in form[1:]:
        if ch == " ":
            out.append("[\\s\\-\u2010\u2011\u2012\u2013]+")
        elif kind == "exact" or ch.lower() == ch.upper():
            out.append(re.escape(ch))
        else:
            out.append(f"[{re.escape(ch.lower())}{re.escape(ch.upper())}]")
    out.append(_END)
    return out


def _trie(forms: list[str]) -> str:
    """One alternation shaped like a trie whose every branch starts with a literal: the
    regex engine then jumps from one possible first letter to the next in C."""
    root: dict = {}
    for form in forms:
        firsts = {form[0]} if _case_kind(form) != "any" else {form[0].lower(), form[0].upper()}
        for first in firsts:
            node = root
            for tok in _tokens(form, first):
                node = node.setdefault(tok, {})

    def emit(node: dict) -> str:
        # Continuations first: the match at a position is its longest alias.
        alts = [tok + emit(child) for tok, child in sorted(node.items()) if tok != _END]
        if _END in node:
            alts.append(r"(?!\w)")
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(root)


class ActorTagger:
    """A compiled gazetteer: ``tag(title, summary)`` → canonical actor names.

    One regex shaped like a trie over every alias; pickles as its spec (for parse workers).
    Built directly, the regex is compiled at the first ``tag``: the poller's clusterer holds
    one, and a poll where no feed changed never tags anything. :meth:`from_spec` compiles at
    once (parse workers build theirs before they report ready).
    """

    def __init__(self, spec: ActorSpec) -> None:
        self.spec = spec
        self._exact: dict[str, str] = {}  # acronyms, as written
        self._lower: dict[str, str] = {}
        self._forms: list[str] = []
        for actor in spec.actors:
            for alias in actor.aliases:
                form = _case_form(alias)
                self._forms.append(form)
                table = self._exact if _case_kind(form) == "exact" else self._lower
                table[form if table is self._exact else form.lower()] = actor.name
        self._regex: re.Pattern[str] | None = None
        self._limit = 0  # how much of a summary is scanned: the engine's SUMMARY_LIMIT
        self._names: dict[str, str | None] = {}  # a match as written → its actor, or None

    def _compiled(self) -> re.Pattern[str] | None:
        if self._regex is None and self._forms:
            from feeds.classify.engine import SUMMARY_LIMIT

            self._limit = SUMMARY_LIMIT
            from feeds.classify.regexcache import compile_cached

            self._regex = compile_cached(_trie(self._forms))
        return self._regex

    @classmethod
    def from_spec(cls, spec: ActorSpec) -> "ActorTagger":
        tagger = cls(spec)
        tagger._compiled()
        return tagger

    def __reduce__(self) -> tuple:
        return (ActorTagger.from_spec, (self.spec,))

    def tag(self, title: str, summary: str = "") -> tuple[str, ...]:
        """Canonical names of the actors named, in order of first mention (title first)."""
        regex = self._regex or self._compiled()
        if regex is None:
            return ()
        # One scan over both fields: no alias holds a NUL, nor matches across one; a NUL is
        # a starter, so folding the joined text folds each field as it would alone.
        text = title + "\x00" + summary[:self._limit]
        if not text.isascii():
            text = fold(text)
        names, found = self._names, {}
        for m in regex.finditer(text):
            start = m.start()
            if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
                continue  # inside a word (a lookbehind would cost the fast first-letter scan)
            written = m.group()
            name = names.get(written, _UNSEEN)
            if name is _UNSEEN:  # news repeats its names: each spelling is looked up once
                key = " ".join(_SEP.split(written))
                name = self._exact.get(key) or self._lower.get(key.lower())
                if len(names) >= _NAMES_MAX:
                    names.clear()
                names[written] = name
            if name is not None:
                found[name] = None
        return tuple(found)

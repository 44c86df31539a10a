"""Watch terms: alert on new items that match, and run the user's notify command once each.

``[watch]`` in the config::

    [watch]
    terms = ["ceasefire|cease fire|truce", "zaporizhzhia ~3 nuclear"]  # or a table:
    # [watch.terms]
    # Ceasefire = "ceasefire|cease fire|truce"
    exclude = ["truce talks collapse*"]      # optional: a match overlapping one is dropped
    bell = true                              # the dashboard and `poll --once` ring the bell
    notify_command = ["notify-send", "diplowatch"]
    notify_timeout = "10s"

Terms are patterns of the rules language (phrases, ``*``, ``|``, near ``A ~N B``), matched by
the same compiled engine as the classification rules, on the headline and the first 1,000
characters of the summary. The poller matches only items that are new to the store, so an
item alerts once, however often it is polled again.

``notify_command`` is an argument list, run without a shell, once per matching item, with
the item as JSON on its standard input (the stored item's fields, with ``feed`` its feed's
name and ``feed_url`` its URL as in every JSON output, plus ``"watch_terms"``). Feed
text never reaches its command line. Commands run on background threads, a few at a time, so
a poll never waits for them; one that fails or outlives ``notify_timeout`` is killed and
logged, never fatal. A poll cycle's hits share one time budget (``notify_budget``), at most
NOTIFY_QUEUE hits wait, and stopping diplowatch kills what still runs: a burst of hits or a
hung command can neither pile up nor hold up a shutdown (:mod:`feeds.analysis.notify`: the
parse workers, which match the terms, never import what runs commands).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterable

from feeds.model import LABELS, Item, Match
from feeds.classify.rules import LabelRules, Pattern, Rule, RulesSpec, parse_pattern

if TYPE_CHECKING:  # (WatchSettings: a parse worker builds a matcher without the config)
    from feeds.classify.engine import Classifier
    from feeds.config.load import WatchSettings

_CARRIER = LABELS[0]  # the rules engine needs a label to hang the watch terms on


@dataclass(frozen=True, slots=True)
class WatchHit:
    """A new item that matched watch terms."""

    item: Item
    terms: tuple[str, ...]  # names of the terms that matched, in config order
    evidence: tuple[Match, ...] = ()  # what matched where (Match.term is the term's name)

    def to_dict(self) -> dict:
        """The JSON a notify command reads on stdin."""
        from feeds.redact import redact_url  # (here: logging, ~0.4 MiB, stays out of workers)

        d = self.item.to_dict()
        # The names of every JSON output: the stored "source" is the feed's name, "feed" its URL.
        name, url = d.pop("source"), redact_url(d.pop("feed"))
        d = {"id": d.pop("id"), "feed": name, "feed_url": url, **d}
        d["link"] = redact_url(d["link"])
        d["watch_terms"] = list(self.terms)
        return d


class WatchMatcher:
    """Compiled watch terms. ``match(item)`` → a :class:`WatchHit` or None."""

    def __init__(self, settings: WatchSettings) -> None:
        self.settings = settings
        self.names = tuple(name for name, _ in settings.terms)
        # Each term's pattern gets its index as its source, so that two terms with the same
        # pattern under different names stay apart in the evidence.
        rules = tuple(Rule(_CARRIER, replace(parse_pattern(p, "watch.terms", near=None),
                                             source=str(i)), 1.0)
                      for i, (_, p) in enumerate(settings.terms))
        exclude = tuple(parse_pattern(p, "watch.exclude", near=None) for p in settings.exclude)
        labels = tuple(LabelRules(label, 1.0, rules if label == _CARRIER else (),
                                  exclude if label == _CARRIER else ())
                       for label in LABELS)
        self._spec = RulesSpec(1.0, 0.0, labels) if rules else None
        self._needles = _needles(rule.pattern for rule in rules)
        # Built at the first match (the engine's import and compile): a poll where no feed
        # changed matches nothing.
        self._classifier: Classifier | None = None
        self._limits = (0, 0)

    @property
    def active(self) -> bool:
        return self._spec is not None

    def match(self, item: Item) -> WatchHit | None:
        if self._spec is None:
            return None
        if self._classifier is None:
            from feeds.classify.engine import SUMMARY_LIMIT, TITLE_LIMIT, Classifier

            self._classifier = Classifier(self._spec)
            self._limits = TITLE_LIMIT, SUMMARY_LIMIT
        if not self._may_match(item.title, item.summary):
            return None
        found = self._classifier.classify(item.title, item.summary).evidence
        if not found:
            return None
        indexes = sorted({int(m.term) for m in found})
        evidence = tuple(replace(m, label="watch", term=self.names[int(m.term)]) for m in found)
        return WatchHit(item, tuple(dict.fromkeys(self.names[i] for i in indexes)), evidence)

    def hits(self, items: Iterable[Item]) -> list[WatchHit]:
        return [hit for hit in map(self.match, items) if hit is not None]

    def _may_match(self, title: str, summary: str) -> bool:
        """False when the item holds none of the needles, so that no term can match: a
        parse worker checks every item, and few match (a substring search costs ~2 µs an
        item, the engine's scan ~10 µs). Text that is not ASCII always goes to the engine,
        whose lowercasing differs from ``str.lower`` there."""
        needles = self._needles
        if needles is None:
            return True
        title_limit, summary_limit = self._limits  # what the engine reads of an item
        text = title[:title_limit] + "\n" + summary[:summary_limit]
        if not text.isascii():
            return True
        text = text.lower()
        for needle in needles:
            if needle in text:
                return True
        return False


def _needles(patterns: Iterable[Pattern]) -> tuple[str, ...] | None:
    """Strings one of which every match of these patterns contains, in lowercase ASCII
    text: per phrase, its longest word (the engine blanks no character of a word, and in
    ASCII text an apostrophe matches only itself); per near pattern, the phrases of the
    part whose shortest needle is longest (both parts must match). None when a needle is
    not ASCII."""
    needles: set[str] = set()
    for pattern in patterns:
        best: set[str] | None = None
        for part in pattern.parts:
            words = {max(phrase.words, key=len) for phrase in part}
            if best is None or min(map(len, words)) > min(map(len, best)):
                best = words
        needles |= best or {""}
    if not all(needle and needle.isascii() for needle in needles):
        return None
    # A needle that holds another is redundant; the shortest are tried first.
    kept: list[str] = []
    for needle in sorted(needles, key=lambda n: (len(n), n)):
        if not any(k in needle for k in kept):
            kept.append(needle)
    return tuple(kept)

"""What to look for in the store (``ItemFilter``) and the pure test of one item against it.

The same predicate runs over in-memory ``Item`` objects and over raw archive documents
(dicts straight from a partition file), so a full-history search never builds an ``Item``
for a document that does not match.
"""
from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Iterable, Mapping

from feeds.model import NO_LABEL, Item

# The order of items everywhere (store, panes, watch list): newest sorts last.
SORT_KEY = attrgetter("published", "first_seen", "id")


@dataclass(frozen=True, slots=True)
class Flags:
    """What the user did with an item. Stored apart from the item so marking is cheap."""

    read: bool = False
    starred: bool = False


NO_FLAGS = Flags()


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """A query. Every field left at its default matches everything.

    - ``label``: the item carries that label; ``"none"`` means it carries none.
    - ``feeds``: feed keys (``FeedSource.key``).
    - ``since``/``until``: UTC ISO bounds on ``published``: ``since <= published < until``
      (a date such as ``"2024-05-01"`` also works, compared as text).
    - ``text``: every whitespace-separated word must occur, case-insensitively, somewhere in
      title, summary or source.
    - ``unread``/``starred``: only unread / only starred items.
    - ``actor``: ``item.actors`` contains it (case-insensitive).
    - ``limit``/``offset``: a page of the newest-first result.
    - ``archive``: True → always search older partitions too; False → recent window only;
      None → only when needed (``since`` reaches back before the window, or fewer than
      ``limit`` matched in memory).
    """

    label: str | None = None
    feeds: frozenset[str] | None = None
    since: str | None = None
    until: str | None = None
    text: str | None = None
    unread: bool = False
    starred: bool = False
    actor: str | None = None
    limit: int | None = None
    offset: int = 0
    archive: bool | None = None

    def __post_init__(self) -> None:
        if self.feeds is not None and not isinstance(self.feeds, frozenset):
            object.__setattr__(self, "feeds", frozenset(self.feeds))
        if self.limit is not None and self.limit < 0:
            raise ValueError("ItemFilter.limit must be >= 0")
        if self.offset < 0:
            raise ValueError("ItemFilter.offset must be >= 0")


def text_terms(text: str | None) -> tuple[str, ...]:
    """Search words, case-folded (casefold, not lower: 'Straße' finds 'STRASSE')."""
    return tuple(text.casefold().split()) if text else ()


def haystack(title: str, summary: str, source: str) -> str:
    # Joined by newlines: a search word never contains whitespace, so no false match can
    # straddle two fields.
    return f"{title}\n{summary}\n{source}".casefold()


class Matcher:
    """An ItemFilter compiled once per query: terms folded, cheap tests first."""

    __slots__ = ("label", "none", "feeds", "since", "until", "terms", "unread", "starred",
                 "actor")

    def __init__(self, f: ItemFilter) -> None:
        self.label = f.label
        self.none = f.label == NO_LABEL
        self.feeds = f.feeds
        self.since = f.since
        self.until = f.until
        self.terms = text_terms(f.text)
        self.unread = f.unread
        self.starred = f.starred
        self.actor = f.actor.casefold() if f.actor else None

    def fields(self, title: str, summary: str, source: str, feed: str, published: str,
               labels: Iterable[str], actors: Iterable[str], flags: Flags) -> bool:
        if self.unread and flags.read:
            return False
        if self.starred and not flags.starred:
            return False
        if self.feeds is not None and feed not in self.feeds:
            return False
        if self.label is not None:
            if self.none:
                if labels:
                    return False
            elif self.label not in labels:
                return False
        if self.since is not None and published < self.since:
            return False
        if self.until is not None and published >= self.until:
            return False
        if self.actor is not None and not any(a.casefold() == self.actor for a in actors):
            return False
        if self.terms:
            hay = haystack(title, summary, source)
            for term in self.terms:
                if term not in hay:
                    return False
        return True

    def item(self, item: Item, flags: Flags) -> bool:
        return self.fields(item.title, item.summary, item.source, item.feed, item.published,
                           item.labels, item.actors, flags)

    def doc(self, doc: Mapping[str, Any], flags: Flags) -> bool:
        """The same test on a stored document (``Item.to_dict`` shape)."""
        return self.fields(doc.get("title", ""), doc.get("summary", ""), doc.get("source", ""),
                           doc["feed"], doc["published"], doc.get("labels") or (),
                           doc.get("actors") or (), flags)


def matches(item: Item, flags: Flags, f: ItemFilter) -> bool:
    """Does ``item`` (with its ``flags``) satisfy ``f``? Pure; ignores limit/offset/archive."""
    return Matcher(f).item(item, flags)

"""What a parse worker runs: a job, the parts it is parsed with, and its packed result.

:mod:`feeds.parse.worker` imports this module, not :mod:`feeds.parse.pool`: a worker has no
use for the pool's threads, queues and pipes (~0.3 MiB of imports in each worker). The pool
re-exports these names; a job or a ``WatchTerms`` pickles by this module's name.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, fields
from typing import Any

from feeds.model import Item, Match
from feeds.parse.document import ParsedFeed, parse_document

_classifier: Any = None
_tagger: Any = None
_watcher: Any = None


def build_parts(rules_spec: Any, actors_spec: Any = None, watch_spec: Any = None,
                ) -> tuple[Any, Any, Any]:
    """The classifier, the actor tagger and the watch matcher of these specs (each may be None)."""
    watcher = classifier = tagger = None
    if watch_spec is not None and watch_spec.terms:
        from feeds.analysis.watch import WatchMatcher

        watcher = WatchMatcher(watch_spec)
    if rules_spec is not None:
        from feeds.classify.engine import Classifier

        classifier = Classifier.from_spec(rules_spec)
    if actors_spec is not None:
        from feeds.classify.actors import ActorTagger

        tagger = ActorTagger.from_spec(actors_spec)
    return classifier, tagger, watcher


def init_worker(rules_spec: Any, actors_spec: Any = None, watch_spec: Any = None) -> None:
    """In a worker: build the classifier, the actor tagger and the watch matcher once.
    feedparser is imported by the first document that needs it (~0.1 s, within its
    deadline): the fast path reads most feeds without it, and it costs a worker ~3 MiB. The
    fast path itself is imported now (every document tries it first)."""
    global _classifier, _tagger, _watcher
    import feeds.parse.fast  # noqa: F401 - (with xml.etree: ~10 ms a worker's first document paid)

    _classifier, _tagger, _watcher = build_parts(rules_spec, actors_spec, watch_spec)
    if _classifier is not None:  # a daemon warms its workers up before the cycle needs them
        _classifier.prepare()


@dataclass(frozen=True, slots=True)
class WatchTerms:
    """What a worker's watch matcher reads of the [watch] settings: sent instead of them, so
    that a worker does not import the config module (~3.5 MiB each) to unpickle them."""

    terms: tuple[tuple[str, str], ...]
    exclude: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ParseJob:
    body: bytes
    feed_key: str
    feed_name: str
    url: str
    content_type: str | None
    now: float
    max_items: int
    seen: bytes = b""  # the digests of this feed's last parse (ParsedFeed.digests)

    def __reduce__(self) -> tuple:
        # Pickled as its fields: a slotted dataclass's own state calls fields() both ways.
        return (ParseJob, (self.body, self.feed_key, self.feed_name, self.url,
                           self.content_type, self.now, self.max_items, self.seen))


def run_job(job: ParseJob, parts: tuple[Any, Any, Any] | None = None,
            fast_only: bool = False) -> ParsedFeed:
    """A worker's entry point for one document (also usable in-process, with ``parts`` from
    :func:`build_parts`; ``fast_only``: see :func:`parse_document`)."""
    classifier, tagger, watcher = parts or (_classifier, _tagger, _watcher)
    try:
        parsed = parse_document(job.body, feed_key=job.feed_key, feed_name=job.feed_name,
                                url=job.url, content_type=job.content_type, now=job.now,
                                max_items=job.max_items, classifier=classifier, tagger=tagger,
                                seen=job.seen, fast_only=fast_only)
        if watcher is not None and parsed.ok:
            parsed.watch = {hit.item.id: (hit.terms, hit.evidence)
                            for hit in watcher.hits(parsed.items)}
        return parsed
    except MemoryError:
        return ParsedFeed(False, error="document too large to parse (memory limit)")


_ITEM_FIELDS = tuple(f.name for f in fields(Item))
_item_values = operator.attrgetter(*_ITEM_FIELDS)
_match_values = operator.attrgetter(*(f.name for f in fields(Match)))
_EVIDENCE = _ITEM_FIELDS.index("evidence")
_FEED_FIELDS = tuple(f.name for f in fields(ParsedFeed) if f.name != "items")
_feed_values = operator.attrgetter(*_FEED_FIELDS)


def pack(parsed: ParsedFeed) -> tuple:
    """A worker's result as plain tuples: unpickling a slotted dataclass calls fields() for
    each object, ~15 µs an item; ``Item(*values)`` costs a tenth of that."""
    items = []
    for item in parsed.items:
        values = _item_values(item)
        if item.evidence:
            values = (*values[:_EVIDENCE], tuple(map(_match_values, item.evidence)),
                      *values[_EVIDENCE + 1:])
        items.append(values)
    return items, _feed_values(parsed)

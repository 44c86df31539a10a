"""Plain data shared by every stage: what a feed is, what an item is, what the classifier says.

Nothing here does I/O. Items and feed states cross process boundaries (parse workers) and
are stored as JSON, so each has a ``to_dict``/``from_dict`` pair with plain JSON types.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from enum import StrEnum
from functools import lru_cache
from operator import attrgetter
from typing import Any, Iterable

LABELS: tuple[str, ...] = ("talks", "sanctions", "statements")
# The label key of items that carry none (filters, counts, partitions, trends): how stores
# spell it on disk, so it stays.
NO_LABEL = "none"
# What people and scripts see for those items, in every output (panes, trends, `list`,
# JSON); NO_LABEL is only an alias on input. Convert with label_name / label_key.
OTHER_LABEL = "other"


def label_name(key: str) -> str:
    """A store label key as outputs show it: ``"none"`` → ``"other"``, labels as they are."""
    return OTHER_LABEL if key == NO_LABEL else key


def label_key(name: str) -> str:
    """A label as typed (``"other"``, or its alias ``"none"``) → the store's key."""
    return NO_LABEL if name == OTHER_LABEL else name


def utc_iso(ts: float) -> str:
    """Epoch seconds → fixed-width UTC ISO 8601 (sorts lexicographically)."""
    return _utc_iso_second(math.floor(ts))  # (as gmtime rounds; inf and NaN raise as there)


@lru_cache(maxsize=64)
def _utc_iso_second(second: int) -> str:
    # Kept per second: a poll cycle writes three stamps a feed, nearly all of one second.
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % time.gmtime(second)[:6]


_UTC_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z", re.ASCII)


def is_utc_iso(text: str) -> bool:
    """Whether ``text`` has the form :func:`utc_iso` writes: such stamps compare as text
    the way their times do (``parse_utc_iso`` would also refuse an impossible date)."""
    return _UTC_ISO.fullmatch(text) is not None


@lru_cache(maxsize=1024)
def parse_utc_iso(text: str) -> float:
    """The inverse of :func:`utc_iso`. (The fixed-width form by a regex and datetime's own
    range checks: strptime cost ~15 µs, and a poll cycle reads four stamps a feed. Kept per
    stamp: the feeds of one cycle share a few seconds' stamps, read again at every turn.)"""
    m = _UTC_ISO.fullmatch(text)
    if m is None:  # what strptime would still take (or refuse, with its message)
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    return datetime(*map(int, m.groups()), tzinfo=timezone.utc).timestamp()


@dataclass(frozen=True, slots=True)
class FeedSource:
    """One ``[[feeds]]`` table of the config. ``url`` is an http(s) URL or an absolute path."""

    name: str
    url: str
    tags: tuple[str, ...] = ()
    interval: float | None = None  # seconds; None → the polling default
    enabled: bool = True
    # May reach internal addresses (a name on the LAN); a URL naming one itself
    # (127.0.0.1, localhost) may anyway (feeds.net.policy).
    allow_internal: bool = False
    folder: str = ""  # "World/Europe": where the user files it (OPML folders); "" = none

    @property
    def key(self) -> str:
        """Stable identity of the feed in the store: the URL as configured.

        Renaming a feed keeps its items; a permanent redirect changes the *effective* URL
        (kept in the feed state), never the key.
        """
        return self.url

    @property
    def is_local(self) -> bool:
        return not self.url.startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class Match:
    """One piece of evidence: a rule term that fired on a span of the title or summary."""

    label: str
    term: str  # the rule as written in the config, e.g. "negotiat*" or "impos* ~4 sanction*"
    text: str  # the text it matched
    field: str  # "title" or "summary"
    start: int
    end: int
    weight: float

    @property
    def against(self) -> bool:
        """A penalty's match (a negative weight): evidence against its label."""
        return self.weight < 0

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "term": self.term, "text": self.text, "field": self.field,
                "start": self.start, "end": self.end, "weight": self.weight}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Match":
        return cls(d["label"], d["term"], d["text"], d["field"], int(d["start"]), int(d["end"]),
                   float(d["weight"]))


@dataclass(frozen=True, slots=True)
class Classification:
    """What the rules say about one item: labels over threshold, every score, the evidence."""

    labels: tuple[str, ...] = ()
    primary: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    evidence: tuple[Match, ...] = ()

    def evidence_for(self, label: str) -> tuple[Match, ...]:
        return tuple(m for m in self.evidence if m.label == label)


@dataclass(slots=True)
class Item:
    """A normalised, classified feed entry. Text fields are plain text, control-free, capped."""

    id: str
    feed: str  # FeedSource.key
    source: str  # the feed's name when the item was first stored
    guid: str
    title: str
    summary: str
    link: str  # "" unless an absolute http(s) URL
    published: str  # UTC ISO; the first-seen time when the feed gave none or an absurd one
    first_seen: str  # UTC ISO
    date_missing: bool = False  # published was missing/absurd and fell back to first_seen
    labels: tuple[str, ...] = ()
    primary: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    evidence: tuple[Match, ...] = ()
    # Derived features (stories, actors, watch); empty until computed.
    actors: tuple[str, ...] = ()
    cluster: str | None = None

    @property
    def classification(self) -> Classification:
        return Classification(self.labels, self.primary, dict(self.scores), self.evidence)

    def with_classification(self, c: Classification) -> "Item":
        return replace(self, labels=c.labels, primary=c.primary, scores=dict(c.scores),
                       evidence=c.evidence)

    def to_dict(self) -> dict[str, Any]:
        # Spelled out (in field order; a test pins it): a poll serialises every new item,
        # and a literal is twice as fast as a loop over the fields.
        return {"id": self.id, "feed": self.feed, "source": self.source, "guid": self.guid,
                "title": self.title, "summary": self.summary, "link": self.link,
                "published": self.published, "first_seen": self.first_seen,
                "date_missing": self.date_missing, "labels": list(self.labels),
                "primary": self.primary, "scores": self.scores,
                "evidence": [m.to_dict() for m in self.evidence], "actors": list(self.actors),
                "cluster": self.cluster}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Item":
        return cls(
            id=d["id"], feed=d["feed"], source=d.get("source", ""), guid=d.get("guid", ""),
            title=d.get("title", ""), summary=d.get("summary", ""), link=d.get("link", ""),
            published=d["published"], first_seen=d["first_seen"],
            date_missing=bool(d.get("date_missing", False)),
            labels=tuple(d.get("labels", ())), primary=d.get("primary"),
            scores=dict(d.get("scores", {})),
            evidence=tuple(Match.from_dict(m) for m in d.get("evidence", ())),
            actors=tuple(d.get("actors", ())), cluster=d.get("cluster"),
        )


class FeedStatus(StrEnum):
    """Feed health as the user reads it. Members equal their strings: stored feed states, JSON
    output and printed lines carry the plain values."""

    NEW = "new"  # never polled
    OK = "ok"
    NOT_MODIFIED = "not modified"  # 304, or a body identical to the last one
    ERROR = "error"
    GONE = "gone"  # 410: polling stopped until the user re-enables the feed
    RATE_LIMITED = "rate limited"  # 429/503: waiting for Retry-After
    DISABLED = "disabled"  # shown only (FeedHealth): never stored in a FeedState


# The statuses of a feed that is failing (the user should look at it).
FAILING_STATUSES: tuple[FeedStatus, ...] = (FeedStatus.ERROR, FeedStatus.GONE, FeedStatus.RATE_LIMITED)


@dataclass(slots=True)
class FeedState:
    """What the poller remembers about a feed between polls (stored, one record per feed key)."""

    key: str
    url: str  # effective URL: the configured one, or a confirmed permanent redirect target
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    status: str = FeedStatus.NEW  # a FeedStatus (a plain str when read back from the store)
    http_status: int | None = None
    error: str | None = None  # last error, in words
    last_attempt: str | None = None
    last_success: str | None = None
    failing_since: str | None = None
    failures: int = 0  # consecutive
    next_poll: str | None = None  # None → due now
    retry_after: str | None = None  # no request before this (429/503)
    redirect_target: str | None = None  # permanent redirect seen, not yet confirmed
    redirect_count: int = 0  # consecutive polls that confirmed redirect_target
    last_new: int = 0  # items added by the last successful poll
    recent_ids: tuple[str, ...] = ()  # ids in the last parsed document (dedup across partitions)
    recent_links: tuple[str, ...] = ()  # short hash of each recent item's link ("" if none)
    # When the poller first met the feed: what its first document holds from before then is
    # the feed's backlog, stored but not news (no watch alert, no toast).
    added: str | None = None
    # The entry digests of the last parsed document (ParsedFeed.digests, hex): the next parse,
    # in this process or the next one, classifies and stores only the entries that changed.
    digests: str = ""

    def copy(self) -> "FeedState":
        """A copy (what it holds is immutable): the store hands out and keeps copies, and
        ``dataclasses.replace`` takes ~10× as long (a keyword call after a walk of the fields)."""
        return FeedState(*_state_values(self))

    def to_dict(self) -> dict[str, Any]:
        d = {name: getattr(self, name) for name in _STATE_FIELDS}  # asdict() deep-copies: slow
        d["recent_ids"] = list(self.recent_ids)
        d["recent_links"] = list(self.recent_links)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FeedState":
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        kw["recent_ids"] = tuple(kw.get("recent_ids", ()))
        kw["recent_links"] = tuple(kw.get("recent_links", ()))
        return cls(**kw)


_STATE_FIELDS = tuple(f.name for f in fields(FeedState))
_state_values = attrgetter(*_STATE_FIELDS)


def new_feed_state(source: FeedSource, now: float | None = None) -> FeedState:
    """A feed the poller has no state for: ``now`` is when it met it (``added``)."""
    return FeedState(key=source.key, url=source.url,
                     added=utc_iso(now) if now is not None else None)


def reset_feed_state(state: FeedState) -> FeedState:
    """The user asked to try a feed again (re-enabled it): forget failures, backoff and a
    gone status; keep the validators and what the last document held."""
    return replace(state, status=FeedStatus.NEW, error=None, failures=0, failing_since=None,
                   next_poll=None, retry_after=None, http_status=None)


def label_order(labels: Iterable[str]) -> tuple[str, ...]:
    """Labels in the canonical order (talks, sanctions, statements, then any user label)."""
    known = [lbl for lbl in LABELS if lbl in labels]
    return tuple(known + sorted(set(labels) - set(LABELS)))

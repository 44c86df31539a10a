"""Fetched bytes → normalised, classified items (runs in a parse worker process).

feedparser is given an ``io.BytesIO`` (given bytes or a str it would open a local path or a
URL itself), the final URL as ``content-location`` so relative links resolve, and a document
already made safe by :mod:`feeds.parse.xmlprep`. A result without a ``version`` is a failed poll,
never "the feed is now empty".
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath
from typing import Any
from urllib.parse import urljoin

try:  # hashlib's own BLAKE2 (importing hashlib maps OpenSSL: ~3.6 MiB in each parse worker)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import blake2b

from feeds.model import Item, utc_iso
from feeds.text import GUID_MAX, SUMMARY_MAX, TITLE_MAX, plain_text, safe_link, strip_controls
from feeds.parse.xmlprep import UnsafeDocument, prepare

EARLIEST_DATE = 631152000.0  # 1990-01-01: older "published" dates are treated as absurd
FUTURE_SLACK = 86400.0  # a date more than a day ahead of the clock is absurd too
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(slots=True)
class ParsedFeed:
    ok: bool
    items: list[Item] = field(default_factory=list)
    error: str | None = None  # why the document is not a usable feed, in words
    warning: str | None = None  # bozo and other trouble that did not stop the parse
    title: str = ""
    version: str = ""
    ttl: float | None = None  # seconds, from <ttl>
    entries_total: int = 0  # entries in the document (before the max_items cap)
    skipped: int = 0  # entries without anything to identify them
    # Set by a parse worker that has the [watch] terms: item id → (term names, evidence) of
    # the items that match, so that the app's process matches nothing itself.
    watch: dict[str, tuple[tuple[str, ...], tuple[Any, ...]]] | None = None
    # Given the digests of the last parse of this feed (``seen``): the ids of the entries
    # unchanged since, left out of ``items`` (neither classified nor tagged nor sent back);
    # and every entry's digest, 8 bytes each, for the next parse.
    same: list[str] = field(default_factory=list)
    digests: bytes = b""


def item_id(feed_key: str, identity: str) -> str:
    """Stable 16-hex-digit id of an item: hash of its feed and its identity within the feed."""
    return blake2b(f"{id_scope(feed_key)}\n{identity}".encode("utf-8", "replace"),
                   digest_size=8).hexdigest()


def id_scope(feed_key: str) -> str:
    """What an item's id is scoped to: the feed's URL, or a local file's name (not its
    folder: the bundled seed item has the same id in every checkout)."""
    if feed_key.startswith(("http://", "https://")):
        return feed_key
    return "file:" + PurePath(feed_key).name


def parse_document(body: bytes, *, feed_key: str, feed_name: str, url: str,
                   content_type: str | None, now: float, max_items: int = 1000,
                   classifier: Any = None, tagger: Any = None, seen: bytes = b"",
                   fast_only: bool = False) -> ParsedFeed:
    """Parse one fetched document. Never raises for anything the document contains, except
    :class:`NeedsFeedparser` with ``fast_only`` (a document the expat fast path declines).

    ``classifier`` (feeds.classify.engine.Classifier) labels each item; ``tagger``
    (feeds.classify.actors.ActorTagger) tags the actors it names. ``seen``: the
    ``digests`` of the feed's last parse; an entry among them goes to ``same``, not ``items``."""
    if not body.strip():
        return ParsedFeed(False, error="empty document (the server sent no content)")
    try:
        data, encoding, notes = prepare(body, content_type)
    except UnsafeDocument as e:
        return ParsedFeed(False, error=f"refused: {e}")
    try:
        result = _read(data, fast_only)
    except _Unreadable as e:
        return ParsedFeed(False, error=str(e))
    parsed = _check(result, body, data, encoding, notes)
    if parsed.ok:
        _add_items(parsed, result.get("entries", []), max_items, feed_key, feed_name, url, now,
                   classifier, tagger, seen)
    return parsed


def item_digest(item: Item) -> bytes:
    """8 bytes over what a stored item takes from a new parse of it (its text, link and date;
    see storage's merge) and its id: equal digests, nothing to classify or store again."""
    published = "" if item.date_missing else item.published  # a missing date is kept as stored
    text = "\0".join((item.id, item.title, item.summary, item.link, published))
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()


class _Unreadable(Exception):
    """feedparser gave up on the document (the message says why, in words)."""


class NeedsFeedparser(Exception):
    """With ``fast_only``: the document needs feedparser (which runs only in a worker)."""


def _read(data: bytes, fast_only: bool = False) -> Any:
    """The document as feedparser's result (a dict-like with version, feed, entries…)."""
    from feeds.parse.fast import parse_simple

    result = parse_simple(data)  # well-formed RSS 2.0 / Atom 1.0: expat directly, ~10× faster
    if result is not None:
        return result
    if fast_only:
        raise NeedsFeedparser
    import feedparser  # heavy imports, only in the worker that parses

    # Relative links are resolved by _normalise against the document's URL; feedparser
    # resolving every element against a content-location costs a third of its time.
    try:
        return feedparser.parse(io.BytesIO(data),
                                response_headers={"content-type": "application/xml; charset=utf-8"},
                                sanitize_html=False, resolve_relative_uris=False)
    except MemoryError:
        raise _Unreadable("document too large to parse (memory limit)") from None
    except Exception as e:  # feedparser raises on some hostile input (see reliability notes)
        raise _Unreadable(f"feedparser failed: {e.__class__.__name__}: {_short(e)}") from None


def _check(result: Any, body: bytes, data: bytes, encoding: str, notes: list[str]) -> ParsedFeed:
    """A failed ParsedFeed when ``result`` is not a usable feed, else an empty one (no items
    yet) with the feed's title, version, ttl and the warnings about the document."""
    version = result.get("version") or ""
    bozo = result.get("bozo_exception") if result.get("bozo") else None
    if not version and not (result.get("entries") and not _HTML_SNIFF.search(body[:2048])):
        return ParsedFeed(False, error=_not_a_feed(body, bozo))
    if bozo is not None and _is_truncated(data):
        return ParsedFeed(False, version=version,
                          error=f"document truncated (ends mid-element: {_short(bozo)})")
    warning = "; ".join(([f"not well-formed: {_short(bozo)}"] if bozo is not None else []) + notes) or None
    if not version:  # entries, but no format feedparser names (e.g. CDF)
        version = "unknown"
        warning = "; ".join(filter(None, [warning, "unrecognised feed format"]))
    if encoding != "utf-8":
        warning = "; ".join(filter(None, [warning, f"decoded as {encoding}"]))
    feed_info = result.get("feed", {})
    return ParsedFeed(True, warning=warning, version=version,
                      title=plain_text(feed_info.get("title"), TITLE_MAX),
                      ttl=_ttl(feed_info.get("ttl")))


def _add_items(parsed: ParsedFeed, entries: list[Any], max_items: int, feed_key: str,
               feed_name: str, url: str, now: float, classifier: Any, tagger: Any,
               last: bytes) -> None:
    """Normalise, classify and tag the first ``max_items`` entries into ``parsed.items``
    (those whose digest is in ``last`` only normalised, into ``parsed.same``)."""
    parsed.entries_total = len(entries)
    seen: dict[str, int] = {}
    unchanged = {last[i:i + 8] for i in range(0, len(last), 8)}
    digests: list[bytes] = []
    first_seen = utc_iso(now)  # one moment for the whole document
    for entry in entries[:max_items]:
        item = _normalise(entry, feed_key, feed_name, url, now, first_seen, seen)
        if item is None:
            parsed.skipped += 1
            continue
        digest = item_digest(item)
        digests.append(digest)
        if digest in unchanged:
            parsed.same.append(item.id)
            continue
        if classifier is not None:
            # Set in place (the item is ours until returned): a replace() per item cost
            # ~6 µs, 5 % of parsing a farm feed. (Each classification's scores are a dict
            # of its own.)
            c = classifier.classify(item.title, item.summary)
            item.labels, item.primary, item.scores, item.evidence = \
                c.labels, c.primary, c.scores, c.evidence
        if tagger is not None:
            item.actors = tagger.tag(item.title, item.summary)
        parsed.items.append(item)
    parsed.digests = b"".join(digests)


def _normalise(entry: Any, feed_key: str, feed_name: str, base: str, now: float,
               first_seen: str, seen: dict[str, int]) -> Item | None:
    title_detail = entry.get("title_detail") or {}
    title = plain_text(entry.get("title"), TITLE_MAX,
                       is_html=title_detail.get("type") in _HTML_TYPES)
    summary_raw = entry.get("summary")
    summary_type = (entry.get("summary_detail") or {}).get("type")
    content = entry.get("content") or [{}]
    if not summary_raw:
        summary_raw, summary_type = content[0].get("value"), content[0].get("type")
    elif summary_type is None and summary_raw == content[0].get("value"):
        summary_type = content[0].get("type")  # feedparser copies content without its type
    summary = plain_text(summary_raw, SUMMARY_MAX, is_html=summary_type != "text/plain")
    raw_link = entry.get("link") or ""
    if raw_link and not raw_link.startswith(("http://", "https://")) and base.startswith(("http://", "https://")):
        raw_link = urljoin(base, strip_controls(raw_link).strip())  # relative to the document
    link = safe_link(raw_link)
    published_ts = _timestamp(entry.get("published_parsed")) or _timestamp(entry.get("updated_parsed"))
    date_missing = published_ts is None or not (EARLIEST_DATE <= published_ts <= now + FUTURE_SLACK)
    if date_missing:
        published_ts = now
    guid = strip_controls(str(entry.get("id") or ""))[:GUID_MAX].strip()
    if guid == link:  # a permalink guid: one string, pickled once and kept once in the store
        guid = link
    identity = guid or (raw_link.strip() and "link:" + raw_link.strip()[:GUID_MAX])
    if not identity and title:
        identity = "title:" + title + "|" + str(entry.get("published") or entry.get("updated") or "")
    if not identity and summary:
        identity = "summary:" + summary[:500]
    if not identity:
        return None
    # Several entries sharing one identity in a document are told apart by occurrence.
    n = seen.get(identity, 0)
    seen[identity] = n + 1
    if n:
        identity = f"{identity}#{n}"
    return Item(
        id=item_id(feed_key, identity), feed=feed_key, source=feed_name, guid=guid,
        title=title or (summary[:120] if summary else "(untitled)"), summary=summary, link=link,
        published=first_seen if date_missing else utc_iso(published_ts), first_seen=first_seen,
        date_missing=date_missing,
    )


_EPOCH_DAY = date(1970, 1, 1).toordinal()


def _timestamp(parsed: Any) -> float | None:
    """``calendar.timegm`` of a time tuple, as its own arithmetic: the calendar module (and
    the locale module it imports) cost each parse worker ~0.25 MiB."""
    if not parsed:
        return None
    try:
        year, month, day, hour, minute, second = parsed[:6]
        days = date(year, month, 1).toordinal() - _EPOCH_DAY + day - 1
        return float(((days * 24 + hour) * 60 + minute) * 60 + second)
    except (TypeError, ValueError, OverflowError):
        return None


def _ttl(value: Any) -> float | None:
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return float(minutes * 60) if 0 < minutes < 100_000 else None


# The XML parser's "<unknown>:2:361: no element found" (a file name it never had).
_SAX_PLACE = re.compile(r"^<unknown>:(\d+):(\d+): ")


def _short(e: Any, limit: int = 160) -> str:
    text = _SAX_PLACE.sub(r"line \1, column \2: ", str(e))
    return plain_text(text, limit, is_html=False) or e.__class__.__name__


_HTML_SNIFF = re.compile(rb"<\s*(!doctype\s+html|html\b)", re.I)


def _not_a_feed(body: bytes, bozo: Any) -> str:
    head = body[:2048]
    if _HTML_SNIFF.search(head):
        return "not a feed: the server sent an HTML page"
    if head.lstrip().startswith((b"{", b"[")):
        return "not a feed: the server sent JSON (JSON Feed is not supported)"
    if bozo is not None:
        return f"not a feed: the document cannot be read as RSS or Atom ({_short(bozo)})"
    return "not a feed: an XML document that is neither RSS nor Atom"


_END_TAG = re.compile(rb"</\s*([A-Za-z_][\w.:-]*)\s*>\s*(?:<!--.*?-->\s*)*$", re.S)


def _is_truncated(data: bytes) -> bool:
    """A not-well-formed document that does not end with a closing tag was cut off."""
    return _END_TAG.search(data[-4096:].rstrip()) is None

"""Stored documents ↔ Items: the checks on the way in, the fast decoding on the way out.

A partition holds each item as ``Item.to_dict()``. Opening a store decodes tens of thousands
of them, so decoding skips what ``Item.from_dict`` generalises and shares the strings that
repeat; anything unexpected falls back to the plain path, whose errors name the document.
"""
from __future__ import annotations

import sys
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import orjson

from feeds.model import Item, Match

from .atomic import decode_tables
from .errors import CorruptStoreError
from .partition import ITEM_ID_RE, item_id_of, week_key
from .rawdocs import item_doc_slices

_intern = sys.intern
_N_ITEM_FIELDS = len(fields(Item))


# --- into the store -------------------------------------------------------------------------

def checked_item(item: Item) -> Item:
    """The item, if the store can file it (id, first_seen, published and feed usable)."""
    if not isinstance(item, Item):
        raise TypeError(f"expected an Item, got {type(item).__name__}")
    if not isinstance(item.id, str) or not ITEM_ID_RE.fullmatch(item.id):
        raise ValueError(f"item id {item.id!r} is not 16 lowercase hex digits")
    try:
        week_key(item.first_seen)
    except (TypeError, ValueError):
        raise ValueError(f"item {item.id}: first_seen {item.first_seen!r} is not a UTC "
                         f"ISO timestamp") from None
    if not isinstance(item.published, str) or not isinstance(item.feed, str):
        raise ValueError(f"item {item.id}: published and feed must be strings")
    return item


def encodable(doc: dict[str, Any], what: str) -> dict[str, Any]:
    """``doc``, refused now (ValueError naming ``what``) if it cannot be encoded: later it
    would make every flush fail."""
    _dumps(doc, what)
    return doc


def _dumps(doc: dict[str, Any], what: str) -> bytes:
    try:
        return orjson.dumps(doc)
    except TypeError as exc:
        raise ValueError(f"{what} cannot be stored as JSON: {exc}") from None


def encodable_doc(item: Item) -> dict[str, Any]:
    """The item's document (see :func:`encodable`)."""
    return encodable(item.to_dict(), f"item {item.id}")


def encoded_doc(item: Item) -> tuple[dict[str, Any], bytes]:
    """The item's document and its encoding (ValueError as :func:`encodable`), kept until
    the next save. A copy: orjson's own result sits in a buffer several KiB larger, which
    held for 10k items until the save grew the heap by ~70 MiB."""
    doc = item.to_dict()
    return doc, bytes(memoryview(_dumps(doc, f"item {item.id}")))


def merge_item(old: Item, new: Item) -> Item:
    """A re-seen item: new text and classification; identity and history stay.

    first_seen, source, feed and guid are kept; actors/cluster only change if the incoming
    item sets them. A dateless item's published is the fetch time, which would move every
    poll, so an incoming ``date_missing`` item keeps the stored date.
    """
    published, date_missing = new.published, new.date_missing
    if new.date_missing:
        published, date_missing = old.published, old.date_missing
    return replace(old, title=new.title, summary=new.summary, link=new.link,
                   published=published, date_missing=date_missing, labels=tuple(new.labels),
                   primary=new.primary, scores=dict(new.scores), evidence=tuple(new.evidence),
                   actors=tuple(new.actors) if new.actors else old.actors,
                   cluster=new.cluster if new.cluster is not None else old.cluster)


# --- out of the store -----------------------------------------------------------------------

def usable_item(item: Item) -> bool:
    """The fields every list sorts and counts by are strings (a foreign or hand-edited file
    may hold anything: it must be reported, not crash a sort later)."""
    return (type(item.id) is str and type(item.published) is str
            and type(item.first_seen) is str and type(item.feed) is str)


def bad_document(path: Path, docs: dict[str, Any]) -> CorruptStoreError:
    """Name the first document of a partition that is not a valid item."""
    for k, d in docs.items():
        try:
            if not usable_item(Item.from_dict(d)):
                raise TypeError("id, feed, published and first_seen must be strings")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return CorruptStoreError(path, f"document {k} is not a valid item ({exc!r})")
    return CorruptStoreError(path, "a document is not a valid item")


def item_from_doc(d: dict[str, Any]) -> Item:
    """``Item.from_dict`` for documents in exactly the ``to_dict`` shape, faster and leaner.

    Opening a store builds tens of thousands of items; this path is ~30% faster than
    from_dict and shares the strings that repeat across items (feed, source, labels, rule
    terms), which saves ~25 MB per 60k items. Anything else (an older or newer document
    shape, a missing key) goes through ``Item.from_dict`` itself. A test pins the two equal.
    """
    if len(d) != _N_ITEM_FIELDS:
        return Item.from_dict(d)
    try:
        ev = d["evidence"]
        primary = d["primary"]
        return Item(
            d["id"], _intern(d["feed"]), _intern(d["source"]), d["guid"], d["title"],
            d["summary"], d["link"], d["published"], _intern(d["first_seen"]),
            bool(d["date_missing"]), tuple([_intern(x) for x in d["labels"]]),
            _intern(primary) if primary else primary, dict(d["scores"]),
            tuple([Match(_intern(m["label"]), _intern(m["term"]), m["text"], _intern(m["field"]),
                         int(m["start"]), int(m["end"]), float(m["weight"])) for m in ev])
            if ev else (),
            tuple(d["actors"]), d["cluster"])
    except (KeyError, TypeError):
        return Item.from_dict(d)


def items_from_docs(path: Path, docs: dict[str, dict[str, Any]]) -> list[Item]:
    """A partition's documents as items, each checked (usable, and filed under its own id)."""
    try:
        out = [item_from_doc(d) for d in docs.values()]
        if not all(map(usable_item, out)):
            raise TypeError
    except (KeyError, TypeError, ValueError, AttributeError):
        raise bad_document(path, docs) from None
    ids = [it.id for it in out]
    if ids != [item_id_of(k) for k in docs]:
        bad = next(k for k, i in zip(docs, ids) if item_id_of(k) != i)
        raise CorruptStoreError(path, f"document {bad} holds item {docs[bad].get('id')!r}, "
                                      f"whose id does not match")
    return out


def items_from_raw(raw: bytes, path: Path) -> list[Item]:
    """A partition file's items, its documents decoded one at a time: the file's bytes and
    one document at a time besides the items (a week decoded whole held ~50 MB more at 20k
    items). Anything unexpected goes the whole-file way, whose errors name it."""
    slices = item_doc_slices(raw)
    if slices is not None:
        view, out = memoryview(raw), []
        try:
            for key, start, end in slices:
                doc = orjson.loads(view[start:end])
                if type(doc) is not dict:
                    break
                item = item_from_doc(doc)
                if not usable_item(item) or item.id != item_id_of(key):
                    break
                out.append(item)
            else:
                return out
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            pass
    return items_from_docs(path, decode_tables(raw, path).get("items", {}))


def doc_differs(item: Item, d: dict[str, Any]) -> bool:
    """Does the stored document say something else than the item in memory? (Every field a
    writer changes on an existing item: text, link, date, classification, actors, cluster.)"""
    return (item.title != d.get("title") or item.summary != d.get("summary")
            or item.link != d.get("link") or item.published != d.get("published")
            or item.primary != d.get("primary") or list(item.labels) != d.get("labels")
            or item.scores != d.get("scores") or list(item.actors) != d.get("actors")
            or item.cluster != d.get("cluster") or item.date_missing != d.get("date_missing")
            or _evidence_differs(item.evidence, d.get("evidence") or ()))


def _evidence_differs(evidence: tuple[Match, ...], docs: list[dict[str, Any]]) -> bool:
    return len(evidence) != len(docs) or any(
        m.label != e.get("label") or m.term != e.get("term") or m.text != e.get("text")
        or m.field != e.get("field") or m.start != e.get("start") or m.end != e.get("end")
        or m.weight != e.get("weight") for m, e in zip(evidence, docs))

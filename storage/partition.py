"""Weekly item partitions: naming, the manifest that summarises each, and its id index.

Items live in ``items-YYYY-Www.json`` by the ISO week of ``first_seen``. New items are seen
now, so a poll only ever rewrites the current week's file and a year of history costs the
write nothing. Per partition the manifest (kept in ``state.json``) holds the counts the
dashboard needs (per feed, per label, per published day) so those are answered without
opening archives. A small binary id index (``items-YYYY-Www.ids``, a sorted uint64 array)
tells, without loading the archive, whether an id is stored there: dedup on upsert and
``get()``/``mark()`` of old items. Both are caches validated against the partition file's
(size, mtime_ns, inode) and rebuilt from it when stale.
"""
from __future__ import annotations

import bisect
import re
import struct
import sys
from array import array
from bisect import bisect_left
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import orjson

from .atomic import atomic_write
from feeds.model import NO_LABEL

PARTITION_RE = re.compile(r"items-(\d{4})-W(\d{2})\.json")
ITEM_ID_RE = re.compile(r"[0-9a-f]{16}")
DAY = 86400.0


@lru_cache(maxsize=8192)
def _week_of_date(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_key(iso: str) -> str:
    """UTC ISO timestamp → ISO week key ``YYYY-Www`` (cached per calendar day)."""
    return _week_of_date(iso[:10])


def week_key_at(ts: float) -> str:
    return _week_of_date(datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d"))


@lru_cache(maxsize=1024)
def week_bounds(key: str) -> tuple[float, float]:
    """Epoch seconds [start, end) of an ISO week key (Monday 00:00 UTC, 7 days)."""
    year, week = int(key[:4]), int(key[6:8])
    start = datetime.combine(date.fromisocalendar(year, week, 1), datetime.min.time(),
                             tzinfo=timezone.utc).timestamp()
    return start, start + 7 * DAY


def partition_name(key: str) -> str:
    return f"items-{key}.json"


def index_name(key: str) -> str:
    return f"items-{key}.ids"


def partition_key_of(name: str) -> str | None:
    m = PARTITION_RE.fullmatch(name)
    if not m or not 1 <= int(m.group(2)) <= 53:
        return None
    return f"{m.group(1)}-W{m.group(2)}"


def doc_id(item_id: str) -> int:
    """Item ids are 16 lowercase hex digits; the TinyDB doc id is their value."""
    return int(item_id, 16)


def item_id_of(doc_id_: int | str) -> str:
    return f"{int(doc_id_):016x}"


# --- manifest entries ------------------------------------------------------------------

def new_entry() -> dict[str, Any]:
    return {"count": 0, "feeds": {}, "labels": {}, "days": {},
            "min_published": None, "max_published": None}


def _bump(counter: dict[str, int], key: str, delta: int) -> None:
    n = counter.get(key, 0) + delta
    if n > 0:
        counter[key] = n
    else:
        counter.pop(key, None)


def entry_add(entry: dict[str, Any], feed: str, published: str, labels: Iterable[str],
              delta: int = 1) -> None:
    """Count (delta=1) or uncount (delta=-1) one item in a manifest entry.

    min/max published only ever widen: they are bounds for pruning, and stay valid as bounds
    when an item leaves. A rewrite of the partition recomputes them exactly.
    """
    entry["count"] += delta
    _bump(entry["feeds"], feed, delta)
    keys = tuple(labels) or (NO_LABEL,)
    for label in keys:
        _bump(entry["labels"], label, delta)
    day = entry["days"].setdefault(published[:10], {})
    for label in keys:
        _bump(day, label, delta)
    if not day:
        del entry["days"][published[:10]]
    if delta > 0:
        lo, hi = entry["min_published"], entry["max_published"]
        if lo is None or published < lo:
            entry["min_published"] = published
        if hi is None or published > hi:
            entry["max_published"] = published


def entry_from_docs(docs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    entry = new_entry()
    for d in docs:
        entry_add(entry, d["feed"], d["published"], d.get("labels") or ())
    return entry


def stat_key(st: Any) -> list[int]:
    """What identifies one version of a partition file: size, mtime_ns, inode."""
    return [int(st.st_size), int(st.st_mtime_ns), int(st.st_ino)]


# --- text prefilter over a raw partition -------------------------------------------------
# A full-history search would spend most of its time building dicts for documents that do
# not match. orjson writes a partition as {"items":{"<id>":{...},"<id>":{...}}} on one line,
# and inside an item `},"<digits>":{` can only be a document boundary (quotes in strings are
# escaped; no item field is an object keyed by digits). So the raw text is split into
# documents, case-folded, and only documents containing every search word are parsed.
# No false negatives: orjson escapes only `"`, `\` and control characters, which terms
# using the prefilter may not contain, and casefold works character by character.

_ITEMS_HEAD = re.compile(r'\{[ \t\n\r]*"items"[ \t\n\r]*:[ \t\n\r]*\{')
_ITEMS_HEAD_B = re.compile(rb'\{[ \t\n\r]*"items"[ \t\n\r]*:[ \t\n\r]*\{')


def prefilter_terms(terms: Iterable[str]) -> tuple[str, ...]:
    """The search words the raw prefilter can use (see above)."""
    return tuple(t for t in terms if '"' not in t and "\\" not in t
                 and not any(ord(c) < 0x20 for c in t))


_DOC_START = '":{"id":"'  # where every document begins: its key's closing quote, then "id"
_DOC_START_B = _DOC_START.encode()


def _doc_starts(text: str | bytes) -> list[int]:
    """Where each document begins (see _DOC_START), in the text or in the raw bytes."""
    marker = _DOC_START if isinstance(text, str) else _DOC_START_B
    out, find, pos = [], text.find, 0
    while True:
        pos = find(marker, pos)
        if pos < 0:
            return out
        out.append(pos)
        pos += len(marker)


# Characters whose case-folding yields ASCII letters (ß → ss, ﬁ → fi, the Kelvin sign → k,
# ſ → s, İ → i̇): where one of them is in a file, ASCII lowering is not casefolding.
_FOLDS_TO_ASCII = tuple(ch.encode() for ch in "\u00df\u1e9e\u017f\u0130\u212a\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06")
_ESCAPE_U = re.compile(rb"\\u")  # (3× faster than `in` over a week file: memchr on the backslash)
_ASCII = bytes(range(128))


def _no_char_folds_to_ascii(raw: bytes) -> bool:
    if raw.isascii():
        return True
    rest = raw.translate(None, _ASCII)  # the non-ASCII bytes only: small, searched fast
    return not any(ch in rest for ch in _FOLDS_TO_ASCII)


_LINK_KEY = b',"link":'
_SEARCHED_KEYS = (b'"source":', b'"title":', b'"summary":')


def _searched_part(low: bytes, start: int, end: int) -> bytes:
    """The part of a document that a text search reads (source, title, summary: written
    before the link): a word found only in the link or the evidence does not make a
    candidate worth parsing. The whole document if its keys are in another order."""
    link = low.find(_LINK_KEY, start, end)
    if link < 0 or any(low.find(key, start, link) < 0 for key in _SEARCHED_KEYS):
        return low[start:end]
    return low[start:link]


def _docs_containing_ascii(raw: bytes, terms: tuple[str, ...]) -> list[dict] | None:
    """The fast case: ASCII words, and no character in the file that folds to ASCII. Then
    lowering the bytes (ASCII only) finds exactly what casefolding would, at the same
    offsets, and each hit's document is found around it: no pass over the whole file but
    the search for the first word."""
    low = raw.lower()
    words = [t.encode("ascii") for t in terms]
    probe = max(words, key=len)
    out, seen, find, pos = [], set(), low.find, 0
    while True:
        pos = find(probe, pos)
        if pos < 0:
            return out
        # The document holding the hit begins at the last start at or before it (a hit may
        # lie inside a start marker itself: "id").
        start = low.rfind(_DOC_START_B, 0, pos + len(_DOC_START_B))
        if start < 0:  # a hit before the first document: in the file's head
            pos += 1
            continue
        nxt = low.find(_DOC_START_B, start + 1)
        pos = nxt if nxt >= 0 else len(low)
        if start in seen:
            continue
        seen.add(start)
        end = raw.rfind(b",", start, nxt) if nxt >= 0 else len(raw) - 2  # the last one: before "}}"
        if not all(w in _searched_part(low, start, end) for w in words):
            continue
        try:
            doc = orjson.loads(raw[start + 2:end])
        except orjson.JSONDecodeError:
            return None
        if not isinstance(doc, dict):
            return None
        out.append(doc)


def item_doc_slices(raw: bytes) -> list[tuple[str, int, int]] | None:
    """``(key, start, end)`` of every document of an items partition in this store's own
    layout (orjson's, no spaces: ``{"items":{"<key>":{"id":…},…}}``), found without decoding
    the file, so that its documents can be decoded one at a time. None for any other
    layout. A cut in the wrong place (a nested object that begins with "id") leaves a slice
    that is not one whole JSON object: decoding it fails, and the caller decodes the file."""
    head = _ITEMS_HEAD_B.match(raw)
    if head is None:
        return None
    body = head.end()
    if raw[body:] == b"}}":
        return []
    if raw[body:body + 1] != b'"' or not raw.endswith(b"}}}"):
        return None
    starts = _doc_starts(raw)
    key_opens = [raw.rfind(b'"', 0, start) for start in starts]
    if not starts or key_opens[0] != body \
            or any(raw[k - 1:k] != b"," for k in key_opens[1:]):
        return None
    ends = [k - 1 for k in key_opens[1:]] + [len(raw) - 2]
    out = []
    for start, key_open, end in zip(starts, key_opens, ends):
        key = raw[key_open + 1:start]
        if not (key.isascii() and key.isdigit()):
            return None
        out.append((key.decode("ascii"), start + 2, end))
    return out


def docs_containing(raw: bytes, terms: tuple[str, ...], expected: int) -> list[dict] | None:
    """Documents of a raw items partition whose JSON text contains every (case-folded)
    term, parsing only those. None when the layout is not the expected one (written by
    something else, escaped non-ASCII, count mismatch…): then parse the whole file.

    The words are looked for in the case-folded text with ``str.find``; only a document
    holding a hit is located (by the positions of the documents' starts) and checked for
    the other words. Casefolding may change the text's length (ß → ss), so document starts
    are found in the folded and in the original text, and matched by their rank.
    """
    if not terms or _ESCAPE_U.search(raw):
        return None
    if (all(t.isascii() for t in terms) and _ITEMS_HEAD_B.match(raw) and raw.endswith(b"}}}")
            and _no_char_folds_to_ascii(raw)):
        return _docs_containing_ascii(raw, terms)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head = _ITEMS_HEAD.match(text)
    if head is None or not text.endswith("}}}"):
        return None
    body = text[head.end():-2]
    folded = body.casefold()
    probe = max(terms, key=len)  # the longest word is the rarest, usually
    hits, find, pos = [], folded.find, 0
    while True:
        pos = find(probe, pos)
        if pos < 0:
            break
        hits.append(pos)
        pos += 1
    if not hits:
        return []
    f_starts = _doc_starts(folded)
    if len(f_starts) != expected:
        return None
    candidates = sorted({max(bisect.bisect_right(f_starts, h) - 1, 0) for h in hits})
    o_starts: list[int] | None = None
    out = []
    for k in candidates:
        f_end = f_starts[k + 1] if k + 1 < expected else len(folded)
        piece = folded[f_starts[k]:f_end]
        if not all(t in piece for t in terms):
            continue
        if o_starts is None:
            o_starts = _doc_starts(body)
            if len(o_starts) != expected:
                return None
        begin = o_starts[k] + 2  # the document's "{"
        end = body.rfind(",", begin, o_starts[k + 1]) if k + 1 < expected else len(body)
        try:
            doc = orjson.loads(body[begin:end])
        except orjson.JSONDecodeError:
            return None
        if not isinstance(doc, dict):
            return None
        out.append(doc)
    return out


# --- id index ------------------------------------------------------------------------------
# Layout: 8-byte magic, then <size, mtime_ns, inode, count> of the partition it describes
# (uint64 little endian), then `count` sorted uint64 doc ids.

_MAGIC = b"DWIDX01\n"
_HEAD = struct.Struct("<4Q")


class IdIndex:
    """Sorted doc ids of one partition; membership by binary search (8 bytes per item)."""

    __slots__ = ("ids",)

    def __init__(self, ids: array) -> None:
        self.ids = ids

    @classmethod
    def from_doc_ids(cls, doc_ids: Iterable[int]) -> "IdIndex":
        return cls(array("Q", sorted(doc_ids)))

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, doc_id_: int) -> bool:
        ids = self.ids
        i = bisect_left(ids, doc_id_)
        return i < len(ids) and ids[i] == doc_id_

    def item_ids(self) -> list[str]:
        return [f"{i:016x}" for i in self.ids]


def write_index(path: Path, index: IdIndex, partition_stat: list[int]) -> None:
    """A cache, so no fsync: if lost or stale it is rebuilt from the partition."""
    ids = index.ids
    if sys.byteorder != "little":
        ids = array("Q", ids)
        ids.byteswap()
    size, mtime_ns, ino = partition_stat
    payload = _MAGIC + _HEAD.pack(size, mtime_ns, ino, len(ids)) + ids.tobytes()
    atomic_write(path, payload, backup=False, durable=False)


def read_index(path: Path, partition_stat: list[int]) -> IdIndex | None:
    """The index if it exists and describes exactly this version of the partition."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + _HEAD.size
    if len(raw) < head or raw[:len(_MAGIC)] != _MAGIC:
        return None
    size, mtime_ns, ino, count = _HEAD.unpack_from(raw, len(_MAGIC))
    if [size, mtime_ns, ino] != list(partition_stat) or len(raw) != head + 8 * count:
        return None
    ids = array("Q")
    ids.frombytes(raw[head:])
    if sys.byteorder != "little":
        ids.byteswap()
    return IdIndex(ids)

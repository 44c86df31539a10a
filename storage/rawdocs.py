"""Documents found in a partition file's raw bytes, without decoding the whole file.

orjson writes a partition as {"items":{"<id>":{...},"<id>":{...}}} on one line, and inside an
item `},"<digits>":{` can only be a document boundary (quotes in strings are escaped; no item
field is an object keyed by digits). Two uses:

- the text prefilter: a full-history search would spend most of its time building dicts for
  documents that do not match, so the raw text is split into documents, case-folded, and
  only documents containing every search word are parsed. No false negatives: orjson escapes
  only `"`, `\\` and control characters, which terms using the prefilter may not contain, and
  casefold works character by character. With a page to fill (``newest_containing``), the
  candidates are ordered by the sort fields their bytes hold and decoded newest first, only
  until the page is full (a word in a third of a 20k-item week: ~6,600 decodings saved);
- document slices: a week's documents decoded one at a time (a whole decoded file costs
  tens of MB more at its peak).

Anything in another layout is declined (None): the caller then decodes the file whole.
"""
from __future__ import annotations

import bisect
import re
from operator import lt
from typing import Iterable, Iterator

import orjson

_ITEMS_HEAD = re.compile(r'\{[ \t\n\r]*"items"[ \t\n\r]*:[ \t\n\r]*\{')
_ITEMS_HEAD_B = re.compile(rb'\{[ \t\n\r]*"items"[ \t\n\r]*:[ \t\n\r]*\{')


def prefilter_terms(terms: Iterable[str]) -> tuple[str, ...]:
    """The search words the raw prefilter can use (see above)."""
    return tuple(t for t in terms if '"' not in t and "\\" not in t
                 and not any(ord(c) < 0x20 for c in t))


_DOC_START = '":{"id":"'  # where every document begins: its key's closing quote, then "id"
DOC_START_B = _DOC_START.encode()


def doc_starts(text: str | bytes) -> list[int]:
    """Where each document begins (see _DOC_START), in the text or in the raw bytes."""
    marker = _DOC_START if isinstance(text, str) else DOC_START_B
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


def _searched_end(low: bytes, start: int, end: int) -> int:
    """Where the part of a document that a text search reads ends (source, title, summary:
    written before the link): a word found only in the link or the evidence does not make a
    candidate worth parsing. ``end`` (the whole document) if its keys are in another order."""
    link = low.find(_LINK_KEY, start, end)
    if link < 0 or any(low.find(key, start, link) < 0 for key in _SEARCHED_KEYS):
        return end
    return link


def _spans_containing_ascii(raw: bytes, terms: tuple[str, ...]) -> Iterator[tuple[int, int]]:
    """The fast case: ASCII words, and no character in the file that folds to ASCII. Then
    lowering the bytes (ASCII only) finds exactly what casefolding would, at the same
    offsets, and each hit's document is found around it: no pass over the whole file but
    the search for the first word. Yields where each candidate's start marker is, and
    where the document ends."""
    low = raw.lower()
    words = [t.encode("ascii") for t in terms]
    probe = max(words, key=len)
    seen, find, pos = set(), low.find, 0
    while True:
        pos = find(probe, pos)
        if pos < 0:
            return
        # The document holding the hit begins at the last start at or before it (a hit may
        # lie inside a start marker itself: "id").
        start = low.rfind(DOC_START_B, 0, pos + len(DOC_START_B))
        if start < 0:  # a hit before the first document: in the file's head
            pos += 1
            continue
        nxt = low.find(DOC_START_B, start + 1)
        pos = nxt if nxt >= 0 else len(low)
        if start in seen:
            continue
        seen.add(start)
        end = raw.rfind(b",", start, nxt) if nxt >= 0 else len(raw) - 2  # the last one: before "}}"
        stop = _searched_end(low, start, end)  # (bounds, not a slice: no copy per document)
        if all(find(w, start, stop) >= 0 for w in words):
            yield start, end


def _docs_containing_ascii(raw: bytes, terms: tuple[str, ...]) -> list[dict] | None:
    out = []
    for start, end in _spans_containing_ascii(raw, terms):
        try:
            doc = orjson.loads(raw[start + 2:end])
        except orjson.JSONDecodeError:
            return None
        if not isinstance(doc, dict):
            return None
        out.append(doc)
    return out


def _fast_path(raw: bytes, terms: tuple[str, ...]) -> bool:
    return (all(t.isascii() for t in terms) and _ITEMS_HEAD_B.match(raw) is not None
            and raw.endswith(b"}}}") and _no_char_folds_to_ascii(raw))


# A document's sort fields in this store's own layout (orjson's, in Item.to_dict's order).
SORT_FIELDS = re.compile(rb'"published":"([^"\\]*)","first_seen":"([^"\\]*)"')
Keyed = tuple[tuple[str, str, str], int, int]  # (published, first_seen, id), document slice


def newest_containing(raw: bytes, terms: tuple[str, ...]) -> list[Keyed] | None:
    """:func:`docs_containing`'s candidates not decoded yet, newest first by their sort key
    read from the bytes (a page can then stop decoding once nothing older can enter it):
    only on the fast path (None otherwise, or when a key is not where it belongs)."""
    if not terms or _ESCAPE_U.search(raw) or not _fast_path(raw, terms):
        return None
    out = []
    for start, end in _spans_containing_ascii(raw, terms):
        m = SORT_FIELDS.search(raw, start, end)
        iid = raw[start + 9:start + 25]
        # (a key written twice would decode to its last value: not this store's writing)
        if m is None or raw[start + 25:start + 26] != b'"' or \
                raw.count(b'"published":', start, end) != 1 or \
                raw.count(b'"first_seen":', start, end) != 1:
            return None
        out.append(((m[1].decode(), m[2].decode(), iid.decode()), start + 2, end))
    out.sort(reverse=True)
    return out


Row = tuple[bytes, bytes, bytes, int]  # the sort key (published, first_seen, id), rank in file


def sorted_rows(raw: bytes) -> tuple[list[Row], list[int]] | None:
    """Every document's sort key as the bytes hold it, newest first, with its rank in the
    file, and where each document begins (doc_starts, by rank); None for another layout or
    a document without its sort fields where they belong."""
    if not (raw.startswith(b'{"items":{"') and raw.endswith(b"}}}")):
        return None
    starts = doc_starts(raw)  # where each document's key ends: its id follows
    found = list(SORT_FIELDS.finditer(raw))
    at = [m.start() for m in found]
    if len(at) != len(starts) or not (all(map(lt, starts, at)) and all(map(lt, at, starts[1:]))):
        return None
    rows = [(m[1], m[2], raw[s + 9:s + 25], n) for n, (s, m) in enumerate(zip(starts, found))]
    rows.sort(reverse=True)
    return rows, starts


def doc_end(raw: bytes, starts: list[int], n: int) -> int:
    """Where the JSON of the document that begins at ``starts[n]`` ends."""
    return raw.rfind(b'"', 0, starts[n + 1]) - 1 if n + 1 < len(starts) else len(raw) - 2


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
    starts = doc_starts(raw)
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


def docs_containing(raw: bytes, terms: tuple[str, ...], expected: int | None) -> list[dict] | None:
    """Documents of a raw items partition whose JSON text contains every (case-folded)
    term, parsing only those (``expected``: how many it holds, None if unknown). None for
    another layout (escaped non-ASCII, a count mismatch…): then parse the whole file.

    The words are looked for in the case-folded text with ``str.find``; only a document
    holding a hit is located (by the positions of the documents' starts) and checked for
    the other words. Casefolding may change the text's length (ß → ss), so document starts
    are found in the folded and in the original text, and matched by their rank.
    """
    if not terms or _ESCAPE_U.search(raw):
        return None
    if _fast_path(raw, terms):
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
    f_starts = doc_starts(folded)
    expected = len(f_starts) if expected is None else expected
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
            o_starts = doc_starts(body)
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


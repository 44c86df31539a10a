"""Documents found in a partition file's raw bytes, without decoding the whole file.

orjson writes a partition as {"items":{"<id>":{...},"<id>":{...}}} on one line, and inside an
item `},"<digits>":{` can only be a document boundary (quotes in strings are escaped; no item
field is an object keyed by digits). Two uses:

- the text prefilter: a full-history search would spend most of its time building dicts for
  documents that do not match, so the raw text is split into documents, case-folded, and
  only documents containing every search word are parsed. No false negatives: orjson escapes
  only `"`, `\\` and control characters, which terms using the prefilter may not contain, and
  casefold works character by character;
- document slices: a week's documents decoded one at a time (a whole decoded file costs
  tens of MB more at its peak).

Anything in another layout is declined (None): the caller then decodes the file whole.
"""
from __future__ import annotations

import bisect
import re
from typing import Iterable

import orjson

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


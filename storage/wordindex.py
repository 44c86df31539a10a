"""The word index of an ended week (``items-YYYY-Www.words``): a full-history search reads
only the documents that can match instead of scanning every archive file.

A search word must occur, case-folded, as a substring of ``haystack(title, summary,
source)`` (storage.query). A word holds no whitespace, so it occurs there exactly when it
occurs inside one of the haystack's whitespace-separated tokens. The index holds each
week's distinct tokens and, per token, the documents holding it: a word's documents are
the union over the tokens containing it (found by a substring search of the token list),
and a query's candidates the intersection over its words (and, with a label, over the
documents carrying it: the dashboard's panes are one label each). Candidates are decoded alone
(from byte spans into the partition file) and still tested by the exact Matcher, so the
index can only leave documents out, and it leaves out none that match.

A cache, like the id index: it names the (size, mtime_ns, inode) of the partition file it
describes and carries a CRC of its body; a missing, stale or damaged index means a scan of
that week (storage.archive), never a wrong answer. The writer builds it when an ended week
is saved, one missing index per flush, and ``recover`` builds every missing one.

Layout (little endian): magic, then the partition's size, mtime_ns and inode (uint64),
then docs, tokens, vocabulary bytes, postings, posting width (2 or 4) and the body's CRC32
(uint32); the body: per document its start and end byte in the partition (uint32 each), then its
labels (one byte each: a bit per label of LABELS, one for none, one for any other label),
per token its start in the vocabulary (n+1 offsets) and in the postings (n+1 offsets),
the vocabulary (the tokens, UTF-8, each followed by a newline), the postings (document
ordinals, ascending per token).
"""
from __future__ import annotations

import contextlib
import os
import struct
import zlib
from array import array
from bisect import bisect_right
from pathlib import Path
from typing import Any, Iterable

import orjson

from feeds.model import LABELS, NO_LABEL

from .partition import partition_key_of, stat_key, week_key_at
from .query import haystack
from .rawdocs import item_doc_slices
from .sidecar import U32, arr, le, names_version, write_cache

SUFFIX = ".words"
_MAGIC = b"DWWORD2\n"
_HEAD = struct.Struct("<3Q6I")
# A word found in more tokens than this narrows nothing worth the union (a word of one or
# two letters): it is left to the exact test of the candidates the other words give.
MAX_TOKENS_PER_WORD = 4000
assert len(LABELS) <= 6, "a label byte holds six labels, none and any other"
_BIT = {label: 1 << i for i, label in enumerate(LABELS)}
_NONE_BIT, _OTHER_BIT, _ANY = 1 << 6, 1 << 7, 0xFF


def _label_bits(labels: Any) -> int:
    """A document's label byte (the Matcher's test, as a superset: never prunes a match)."""
    if not labels:
        return _NONE_BIT
    if not isinstance(labels, list):
        return _ANY
    bits = 0
    for label in labels:
        bits |= _BIT.get(label, _OTHER_BIT) if isinstance(label, str) else _ANY
    return bits


def _label_mask(label: str) -> int:
    return _NONE_BIT if label == NO_LABEL else _BIT.get(label, _OTHER_BIT)


# Above this share of the file's bytes in candidates, one read of the file beats a read
# per candidate.
_WHOLE_FILE_SHARE = 0.25

# Indexes whose CRC was checked in this process, by path → the index file's stat: a viewer
# searching four panes checks each file once.
_checked: dict[str, tuple[int, int, int]] = {}


def index_path(partition: Path) -> Path:
    """``items-YYYY-Www.json`` → ``items-YYYY-Www.words`` beside it."""
    return partition.with_suffix(SUFFIX)


def build(raw: bytes, partition_stat: list[int]) -> bytes | None:
    """The index of a partition file's bytes (whose stat is ``partition_stat``); None for a
    file not in this store's own layout or over 4 GiB (it is then always scanned)."""
    slices = item_doc_slices(raw)
    if slices is None or len(raw) >= 1 << 32:
        return None
    postings: dict[str, list[int]] = {}
    starts, ends, bits = array(U32), array(U32), bytearray()
    try:
        for n, (_key, start, end) in enumerate(slices):
            doc = orjson.loads(raw[start:end])
            hay = haystack(doc.get("title", ""), doc.get("summary", ""), doc.get("source", ""))
            for token in set(hay.split()):
                postings.setdefault(token, []).append(n)
            starts.append(start)
            ends.append(end)
            bits.append(_label_bits(doc.get("labels")))
        tokens = sorted(postings)
        vocab = "".join(f"{t}\n" for t in tokens).encode("utf-8")
    except (orjson.JSONDecodeError, AttributeError, UnicodeEncodeError):
        return None  # not one object per slice, or text no UTF-8 file can hold
    width = 2 if len(slices) <= 1 << 16 else 4
    code = "H" if width == 2 else U32
    tok_starts, post_offs, post = array(U32, [0]), array(U32, [0]), array(code)
    at = 0
    for t in tokens:
        at += len(t.encode("utf-8")) + 1
        tok_starts.append(at)
        post.extend(postings[t])
        post_offs.append(len(post))
    body = b"".join((le(starts), le(ends), bits, le(tok_starts), le(post_offs), vocab,
                     le(post)))
    size, mtime_ns, ino = partition_stat
    return _MAGIC + _HEAD.pack(size, mtime_ns, ino, len(slices), len(tokens), len(vocab),
                               len(post), width, zlib.crc32(body)) + body


def save(partition: Path, raw: bytes, partition_stat: list[int]) -> bool:
    """Write the index of ``raw`` (the partition file as saved, with that stat). A cache: no
    fsync, and a failure to write is only a slower search."""
    return write_cache(index_path(partition), build(raw, partition_stat))


def is_current(partition: Path, partition_stat: list[int]) -> bool:
    """Does the index on disk name this version of the partition? (its head only)"""
    return names_version(index_path(partition), _MAGIC, _HEAD, partition_stat)


def build_missing(partitions: Iterable[Path], limit: int | None = None, *,
                  verify: bool = False) -> int:
    """Index the given partition files (newest first) whose index is missing or stale (or,
    with ``verify``, damaged: its body is read and checked), at most ``limit`` of them;
    returns how many were written. The writer only."""
    built = 0
    for path in partitions:
        if limit is not None and built >= limit:
            break
        try:
            with open(path, "rb") as fh:
                st = stat_key(os.fstat(fh.fileno()))
                if is_current(path, st) and (not verify or _load(path, st) is not None):
                    continue
                raw = fh.read()
        except OSError:
            continue
        built += save(path, raw, st)
    return built


def after_flush(directory: Path, saved: list[tuple[Path, bytes, os.stat_result]], now: float,
                checked_week: str | None) -> str:
    """The writer, after a flush: an ended week just saved gets the index of what was
    written; and at the first flush of each week (and of a process) the newest ended week
    without a current index gets one (the week that just ended; an older store's weeks one
    at a time). Returns the week checked, to be passed back next time."""
    current = week_key_at(now)
    for path, payload, st in saved:
        key = partition_key_of(path.name)
        if key is not None and key < current:
            save(path, payload, stat_key(st))
    if checked_week != current:
        build_missing(ended_partitions(directory, current), limit=1)
    return current


def ended_partitions(directory: Path, current_key: str) -> list[Path]:
    """The partition files of weeks before ``current_key``, newest first."""
    found = []
    with contextlib.suppress(OSError), os.scandir(directory) as it:
        for entry in it:
            key = partition_key_of(entry.name)
            if key is not None and key < current_key:
                found.append((key, Path(entry.path)))
    return [p for _k, p in sorted(found, reverse=True)]


class _Index:
    """An index file read and checked against the partition file it must describe."""

    __slots__ = ("buf", "docs", "tokens", "width", "starts", "ends", "labels", "tok_starts",
                 "post_offs", "vocab", "post_at")

    def __init__(self, buf: bytes, partition_stat: list[int], verify: bool) -> None:
        head = len(_MAGIC) + _HEAD.size
        if len(buf) < head or buf[:len(_MAGIC)] != _MAGIC:
            raise ValueError("not a word index")
        size, mtime_ns, ino, docs, tokens, vocab_len, n_post, width, crc = \
            _HEAD.unpack_from(buf, len(_MAGIC))
        if [size, mtime_ns, ino] != list(partition_stat):
            raise ValueError("describes another version of the partition")
        if width not in (2, 4):
            raise ValueError("bad posting width")
        at = head
        self.starts = arr(U32, buf[at:at + 4 * docs])
        self.ends = arr(U32, buf[at + 4 * docs:at + 8 * docs])
        self.labels = buf[at + 8 * docs:at + 9 * docs]
        at += 9 * docs
        self.tok_starts = arr(U32, buf[at:at + 4 * (tokens + 1)])
        at += 4 * (tokens + 1)
        self.post_offs = arr(U32, buf[at:at + 4 * (tokens + 1)])
        at += 4 * (tokens + 1)
        self.vocab = buf[at:at + vocab_len]
        self.post_at = at + vocab_len
        if (len(buf) != self.post_at + width * n_post or len(self.post_offs) != tokens + 1
                or len(self.tok_starts) != tokens + 1 or len(self.labels) != docs):
            raise ValueError("truncated")
        if self.tok_starts[-1] != vocab_len or self.post_offs[-1] != n_post:
            raise ValueError("inconsistent")
        if verify and zlib.crc32(memoryview(buf)[head:]) != crc:
            raise ValueError("checksum")
        self.buf, self.docs, self.tokens, self.width = buf, docs, tokens, width

    def word_docs(self, word: bytes) -> set[int] | None:
        """Ordinals of the documents holding ``word``; None if it is in too many tokens to
        narrow anything."""
        find, tok_starts = self.vocab.find, self.tok_starts
        hits: list[int] = []
        pos = find(word)
        while pos >= 0:
            k = bisect_right(tok_starts, pos) - 1
            hits.append(k)
            if len(hits) > MAX_TOKENS_PER_WORD:
                return None
            pos = find(word, tok_starts[k + 1])
        out: set[int] = set()
        code = "H" if self.width == 2 else U32
        offs, base, w, buf = self.post_offs, self.post_at, self.width, self.buf
        for k in hits:
            out.update(arr(code, buf[base + w * offs[k]:base + w * offs[k + 1]]))
        return out

    def candidates(self, words: tuple[str, ...], label: str | None) -> list[int] | None:
        """Ordinals (ascending) of the documents holding every word and carrying ``label``;
        None if neither narrows the week (then it is scanned)."""
        found: set[int] | None = None
        for word in sorted(words, key=len, reverse=True):  # the longest first: the rarest
            docs = self.word_docs(word.encode("utf-8", "surrogatepass"))
            if docs is None:
                continue
            found = docs if found is None else found & docs
            if not found:
                return []
        if found and max(found) >= self.docs:
            raise ValueError("a posting past the last document")
        if label is None:
            return None if found is None else sorted(found)
        mask, labels = _label_mask(label), self.labels
        if found is None:
            return [k for k, bits in enumerate(labels) if bits & mask]
        return sorted(k for k in found if labels[k] & mask)


def _load(partition: Path, st: list[int]) -> _Index | None:
    path = index_path(partition)
    try:
        with open(path, "rb") as fh:
            ist = os.fstat(fh.fileno())
            buf = fh.read()
    except OSError:
        return None
    mark = (ist.st_size, ist.st_mtime_ns, ist.st_ino)
    key = str(path)
    try:
        # The CRC once per version of the file in this process (see _checked).
        index = _Index(buf, st, verify=_checked.get(key) != mark)
    except (ValueError, struct.error, IndexError):
        _checked.pop(key, None)
        return None
    _checked[key] = mark
    return index


def matching_docs(partition: Path, words: tuple[str, ...],
                  label: str | None) -> list[dict[str, Any]] | None:
    """The documents of a partition file that may hold every search word and ``label``
    (all that do, and maybe more: the caller tests each), in file order, each decoded alone.
    None when no usable index describes the file as it is now, or nothing narrows it: then
    scan the file."""
    if not words and label is None:
        return None
    try:
        fd = os.open(partition, os.O_RDONLY)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        index = _load(partition, stat_key(st))
        if index is None:
            return None
        try:
            chosen = index.candidates(words, label)
        except (ValueError, IndexError):
            _checked.pop(str(index_path(partition)), None)
            return None
        if chosen is None:
            return None
        return _decode(fd, st.st_size, index, chosen)
    finally:
        os.close(fd)


def _decode(fd: int, size: int, index: _Index, chosen: list[int]) -> list[dict] | None:
    """The chosen documents, read from the open partition file (one that is never written
    in place: every save replaces it, so its bytes are those the index describes)."""
    starts, ends = index.starts, index.ends
    spans = [(starts[k], ends[k]) for k in chosen]
    if any(not 0 < s < e <= size for s, e in spans):
        return None
    whole = sum(e - s for s, e in spans) > size * _WHOLE_FILE_SHARE
    raw = os.pread(fd, size, 0) if whole else b""
    out = []
    try:
        for s, e in spans:
            piece = raw[s:e] if whole else os.pread(fd, e - s, s)
            doc = orjson.loads(piece)
            if not isinstance(doc, dict):
                return None
            out.append(doc)
    except orjson.JSONDecodeError:
        return None
    return out

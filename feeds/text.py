"""Turning hostile feed text into safe plain text, and deciding which links may be opened.

Everything a feed says passes through here at ingestion, so the store only ever holds plain,
control-free, length-capped text. The UI still renders it as literal text (never markup), but
it can rely on there being no escape sequence left to reach the terminal.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from feeds.lazy import LazyModule

if TYPE_CHECKING:
    import html
else:  # (its entity table: ~3 ms of a start that decodes no HTML, as a poll where nothing changed)
    html = LazyModule("html")

# C0 except tab/newline, DEL, C1, bidi embeddings/overrides/isolates, zero-width and
# invisible formatting characters, BOM, and the Unicode line/paragraph separators.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
    "\u2028\u2029\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
# Unpaired surrogates cannot be encoded as UTF-8: they would crash a later json/orjson dump.
_SURROGATE = re.compile("[\ud800-\udfff]")
_TAG = re.compile(r"<[^>]*>")
_BLOCK_TAG = re.compile(r"</?(?:p|br|div|li|tr|h[1-6]|blockquote|pre|ul|ol|table)\b[^>]*>", re.I)
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SPACE = re.compile(r"\s+")
_ANY_SPACE = re.compile(r"\s")

TITLE_MAX = 500
SUMMARY_MAX = 2000
GUID_MAX = 1000
LINK_MAX = 2000


_LINE_BREAKS = re.compile(r"[\t\n]+")


def strip_controls(text: str) -> str:
    """Remove characters that can drive a terminal or disguise text; keep tab and newline."""
    if text.isprintable():  # most text: every character removed here is unprintable
        return text
    return _SURROGATE.sub("", _CONTROL.sub("", text))


def safe_text(value: object, limit: int | None = None, *, one_line: bool = True) -> str:
    """A plain, control-free string; tabs and newlines folded to spaces when ``one_line``."""
    text = strip_controls("" if value is None else str(value))
    if one_line:
        text = _LINE_BREAKS.sub(" ", text)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def clip(text: str, limit: int) -> str:
    """Cap length, on a word boundary when one is near, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def plain_text(value: str | None, limit: int, *, is_html: bool = True) -> str:
    """HTML or text → one line of plain text: tags dropped, entities decoded, controls
    removed, whitespace collapsed, length capped.

    The input is cut to a multiple of the limit first so that a multi-megabyte field costs
    no more than a few kilobytes of regex work.
    """
    if not value:
        return ""
    text = value[: limit * 20 + 1000]
    if text.isprintable() and "  " not in text and not (is_html and ("<" in text or "&" in text)):
        # Most feed text: no control, format or surrogate character (all unprintable) and
        # no whitespace but single ASCII spaces, so the regex passes below change nothing.
        return clip(text.strip(" "), limit)
    if is_html and ("<" in text or "&" in text):
        text = _COMMENT.sub(" ", text)
        text = _SCRIPT.sub(" ", text)
        text = _BLOCK_TAG.sub(" ", text)
        text = _TAG.sub("", text)
        text = html.unescape(text)
    text = strip_controls(text)
    text = _SPACE.sub(" ", text).strip()
    return clip(text, limit)


# What nearly every feed link is: http(s), a host of letters, digits, dots and hyphens, an
# optional port, then printable ASCII without spaces. Such a link passes the full check below
# unchanged (a test pins the two equal); it just costs a fifth as much.
_PLAIN_HTTP_URL = re.compile(r"https?://[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]{1,5})?(?:[/?#][!-~]*)?",
                             re.I)


def safe_link(url: str | None) -> str:
    """The link if it is an absolute http(s) URL a browser may open, else ""."""
    if not url:
        return ""
    if len(url) <= LINK_MAX and _PLAIN_HTTP_URL.fullmatch(url):
        return url
    return checked_link(url)


def checked_link(url: str) -> str:
    """:func:`safe_link` without its fast path."""
    url = strip_controls(url).strip()
    if len(url) > LINK_MAX or _ANY_SPACE.search(url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return url

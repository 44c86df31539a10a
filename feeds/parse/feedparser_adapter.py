"""The private parts of feedparser that diplowatch uses, in one place.

The fast path (:mod:`feeds.parse.fast`) must read dates and guess HTML exactly as feedparser
does, so it calls feedparser's own helpers, which are private: ``feedparser.datetimes._parse_date``
and ``feedparser.mixin._FeedParserMixin.looks_like_html``. They are checked against
CHECKED_VERSION (the version pinned in pyproject.toml) by tests/feeds/test_library_adapters.py,
which fails when the pin moves or when either helper is gone or answers differently.
Heavy: importing this imports feedparser (only the parse workers do).
"""
from __future__ import annotations

from feedparser.datetimes import _parse_date
from feedparser.mixin import _FeedParserMixin

CHECKED_VERSION = "6.0.14"

# A date in any of the formats feedparser knows → a UTC time.struct_time, or None.
parse_date = _parse_date
# feedparser's rule for RSS text that may be HTML (str → bool).
looks_like_html = _FeedParserMixin.looks_like_html

__all__ = ["CHECKED_VERSION", "looks_like_html", "parse_date"]

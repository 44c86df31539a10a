"""The text the classifier's scan reads: a copy of an item's fields, lowercased, with
separators as spaces, as long as the text, so that offsets in it are offsets in the item.
Shared by the regex scan (:mod:`feeds.classify.engine`), the C scan
(:mod:`feeds.classify.fast`) and the explanation of class members."""
from __future__ import annotations

import re

from feeds.classify.rules import lower_keep_length

# The scan runs on a copy of the text, lowercased, where the characters below become spaces
# (same length, so offsets stay valid). A word then starts after a space or an apostrophe,
# which the regex engine finds with a plain character search; a \W class would be tested on
# every character and cost as much as the rest of the scan. Sentence punctuation (. , ; : !
# ?) is kept so that a phrase never runs across it.
BLANKED = ("-\u2010\u2011\u2012\u2013\u2014\u2015/\\()[]{}<>\"\u201c\u201d\u201e\u00ab\u00bb"
           "\u2018*#@|+=~^`$%\u2022\u00b7\t\n\r\x0b\x0c\xa0\u2009\u200a\u202f\u2002\u2003"
           "\u3000")
BLANK_ASCII = bytes.maketrans(
    "".join(c for c in BLANKED if c.isascii()).encode(),
    b" " * sum(c.isascii() for c in BLANKED))
BLANK_RE = re.compile("[" + re.escape(BLANKED) + "]")
APOSTROPHES = "'\u2019"  # a word can start after a quote mark, and words contain them
APOS_CLASS = "['\u2019\u2018\u02bc]"
APOS = re.compile(APOS_CLASS)


def scan_copy(text: str) -> str:
    """Lowercase, with :data:`BLANKED` characters as spaces; as long as ``text``."""
    if text.isascii():
        return text.lower().encode().translate(BLANK_ASCII).decode()
    # U+02BC (a letter to Python's \w) written as an apostrophe is one: "Zelenskyyʼs".
    return BLANK_RE.sub(" ", lower_keep_length(text)).replace("\u02bc", "'")


# ASCII text: lowercased and blanked by one bytes.translate.
LOWER_BLANK_ASCII = bytes.maketrans(
    bytes(range(65, 91)) + "".join(c for c in BLANKED if c.isascii()).encode(),
    bytes(range(97, 123)) + b" " * sum(c.isascii() for c in BLANKED))


def scan_text(title: str, summary: str) -> str:
    """What the scan reads: " " + title + NUL + " " + summary, each part a
    :func:`scan_copy`."""
    joined = " " + title + "\x00 " + summary
    if joined.isascii():
        return joined.encode().translate(LOWER_BLANK_ASCII).decode()
    return " " + scan_copy(title) + "\x00 " + scan_copy(summary)

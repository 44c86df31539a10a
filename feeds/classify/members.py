"""Which members of a rule's term classes (``@official`` …) matched: what ``rules explain``
shows beside a match. The scan itself never looks at classes: they are expanded into its
phrases when the rules compile."""
from __future__ import annotations

import re
from functools import lru_cache

from feeds.classify.scancopy import APOS, APOS_CLASS, BLANK_RE, scan_copy

_CLASS_REF = re.compile(r"@([a-z_][a-z0-9_]*)")


@lru_cache(maxsize=4096)
def _member_regex(member: str) -> re.Pattern[str]:
    """A class member (a phrase as written) as a regex over a lowercased scan copy, or,
    when it has case-sensitive words (``=US``), over the text as written with blanks."""
    wildcard = member.endswith("*")
    words = [w for w in re.split("[\\s\\-\u2010\u2011]+", member.rstrip("*")) if w]
    cased = any(w.startswith("=") for w in words)

    def word(w: str) -> str:
        if w.startswith("="):
            return APOS.sub(APOS_CLASS, re.escape(w[1:]))
        w = APOS.sub(APOS_CLASS, re.escape(w.lower()))
        return f"(?i:{w})" if cased else w

    body = r"\s+".join(word(w) for w in words)
    return re.compile(r"(?<!\w)" + body + (r"\w*" if wildcard else r"(?!\w)"))


def class_members(term: str, text: str, classes: dict[str, tuple[str, ...]]
                  ) -> tuple[tuple[str, str, str], ...]:
    """Which members of the classes a rule names matched inside its matched ``text``: one
    (class, member as written, text) per class, the longest match. Explain only: the scan
    itself never looks at classes, they are expanded into the trie."""
    copy = scan_copy(text)
    blanked = BLANK_RE.sub(" ", text)
    out = []
    for name in dict.fromkeys(_CLASS_REF.findall(term)):
        best: tuple[int, str, str] | None = None
        for member in classes.get(name, ()):
            seen = blanked if "=" in member else copy
            for m in _member_regex(member).finditer(seen):
                if best is None or m.end() - m.start() > best[0]:
                    best = (m.end() - m.start(), member, text[m.start():m.end()])
        if best is not None:
            out.append((name, best[1], best[2]))
    return tuple(out)

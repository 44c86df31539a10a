"""Feed text → things Textual can show without ever reading it as markup.

Every string that came from a feed (title, summary, source, link, error text) passes through
``feeds.text.safe_text`` before a widget shows it: control characters are stripped (again: the store
only holds stripped text, but a renderer must not trust its input). Widgets then wrap the
plain string in ``rich.text.Text`` or ``textual.content.Content`` (never markup). Label
colours live here too, as theme variables, so that every widget agrees; and the time words.
"""
from __future__ import annotations

from datetime import datetime, timezone

from feeds.model import LABELS, OTHER_LABEL, Item, label_key, parse_utc_iso
from feeds.config.units import format_duration

OTHER = OTHER_LABEL  # the pane (and CSS class) of items that carry no label
PANES: tuple[str, ...] = (*LABELS, OTHER)
PANE_TITLES = {"talks": "Talks", "sanctions": "Sanctions", "statements": "Statements",
               OTHER: "Other"}


def store_label(pane: str) -> str:
    """The store's label for a pane (counts, filters, trends): "other" holds "none"."""
    return label_key(pane)


def panes_of(item: Item) -> tuple[str, ...]:
    """The panes an item appears in: each of its labels, or Other."""
    shown = tuple(label for label in item.labels if label in LABELS)
    return shown or (OTHER,)


# Theme variables, so a theme switch recolours labels everywhere (Content resolves them).
# The text-* variants stay readable on the background; the plain ones fill blocks.
LABEL_VARS = {"talks": "text-success", "sanctions": "text-error", "statements": "text-warning",
              OTHER: "text-secondary"}
LABEL_BLOCK_VARS = {"talks": "success", "sanctions": "error", "statements": "warning",
                    OTHER: "secondary"}


def label_var(label: str | None) -> str:
    return LABEL_VARS.get(label or OTHER, "accent")


def label_style(label: str | None, extra: str = "") -> str:
    """A Content style for a label's text, e.g. ``"$text-success bold"``."""
    return f"${label_var(label)} {extra}".strip()


def label_chip_style(label: str | None) -> str:
    """A Content style for a label as a coloured block."""
    return f"bold $background on ${LABEL_BLOCK_VARS.get(label or OTHER, 'accent')}"


# --- time --------------------------------------------------------------------------------

def _local(iso: str) -> datetime:
    # fromisoformat (C) reads the store's "YYYY-MM-DDTHH:MM:SSZ"; strptime is 10x slower.
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return datetime.fromtimestamp(parse_utc_iso(iso), timezone.utc).astimezone()
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone()


def local_time(iso: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if not iso:
        return "-"
    try:
        return _local(iso).strftime(fmt)
    except (ValueError, OverflowError, OSError):
        return iso


def relative(iso: str | None, now: float, *, never: str = "never") -> str:
    """"3m ago", "in 5m", or ``never``."""
    if not iso:
        return never
    try:
        delta = now - parse_utc_iso(iso)
    except ValueError:
        return iso
    if -1 < delta < 1:
        return "now"
    words = span_words(delta)
    return f"{words} ago" if delta > 0 else f"in {words}"


def span_words(seconds: float) -> str:
    """A short duration that stays short for old items: "45s", "2h 5m", "12d", "5mo", "4y"."""
    s = abs(seconds)
    if s < 30 * 86400:
        return format_duration(s)
    if s < 365 * 86400:
        return f"{int(s // (30 * 86400))}mo"
    return f"{int(s // (365 * 86400))}y"


def short_time(iso: str, now: float) -> str:
    """Eight cells at most: the time for today, the day this year, else the month and year
    ("Nov 2025": a year alone hides whether an item is one month or eleven old)."""
    try:
        when = _local(iso)
        today = datetime.fromtimestamp(now, timezone.utc).astimezone()
    except (ValueError, OverflowError, OSError):
        return "?"
    if when.date() == today.date():
        return when.strftime("%H:%M")
    if when.year == today.year:
        return when.strftime("%b %d")
    return when.strftime("%b %Y")


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 source``, ``2 sources`` (``words``: an irregular plural)."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"

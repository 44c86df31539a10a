"""The selected item in full: title, source, dates, the actors it names, labels with scores
(✎ when an analyst set them by hand),
the watch terms it matched, every source's version of its story, the evidence (rule terms
highlighted where they matched in the title and summary), and the link.

Everything is assembled as ``Content`` from plain strings plus styles we choose; feed text
is never markup. Styles use theme variables, so highlights follow the theme.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from feeds.model import LABELS, Item, Match, label_order
from feeds.text import safe_link, safe_text
from storage.query import Flags
from tui.render import OTHER, label_chip_style, label_style, local_time, relative


@dataclass(frozen=True, slots=True)
class DetailView:
    item: Item
    flags: Flags
    now: float
    feed_name: str | None = None  # the feed's current name (the item keeps its first one)
    compact: bool = False  # the side pane: evidence without its rules, fewer scores
    # Every version of the item's story (itself included), newest first, with the name of
    # each one's feed; empty when the story has one version (or is not known yet).
    versions: tuple[tuple[str, Item], ...] = ()
    watch_terms: tuple[str, ...] = ()  # the watch terms the item matched, if any
    corrected: str | None = None  # when its labels were set by hand (UTC ISO), if they were


def _spans(text: str, matches: list[Match]) -> list[tuple[int, int, str]]:
    """(start, end, label) of each match inside ``text``; offsets are checked, and a match
    whose offsets do not fit the text is found by its words instead."""
    out = []
    folded = text.casefold()
    for m in matches:
        start, end = m.start, m.end
        if not (0 <= start < end <= len(text)) or text[start:end].casefold() != m.text.casefold():
            found = folded.find(m.text.casefold()) if m.text else -1
            if found < 0:
                continue
            start, end = found, found + len(m.text)
        out.append((start, end, m.label))
    return out


def highlighted(text: str, matches: list[Match], base: str = "") -> Content:
    """``text`` with each match underlined in its label's colour."""
    body = Content.styled(text, base) if base else Content(text)
    for start, end, label in _spans(text, matches):
        body = body.stylize(label_style(label, "bold underline"), start, end)
    return body


def render_detail(view: DetailView) -> Content:
    item = view.item
    title = safe_text(item.title) or "(no title)"
    summary = safe_text(item.summary)
    by_field: dict[str, list[Match]] = {"title": [], "summary": []}
    for m in item.evidence:
        if not m.against:  # a penalty's match is evidence against: not highlighted
            by_field.setdefault(m.field, []).append(m)

    lines: list[Content] = [highlighted(title, by_field["title"], "bold"), *_about(view)]
    lines += [Content(""), _chips(item, view.compact, view.corrected)]
    if len(view.versions) > 1:
        lines += [Content(""), render_versions(view)]
    if item.evidence:
        lines += [Content(""), Content.styled("Evidence", "bold underline")]
        lines += _evidence(item, view.compact)

    lines += [Content(""), Content.styled("Summary", "bold underline")]
    lines.append(highlighted(summary, by_field["summary"]) if summary
                 else Content.styled("(no summary)", "$text-muted"))

    link = safe_link(item.link)
    lines += [Content(""), Content.styled("Link", "bold underline")]
    lines.append(Content.styled(safe_text(link), "$text-primary underline") if link
                 else Content.styled("(no web link that can be opened)", "$text-muted"))
    return Content("\n").join(lines)


def _about(view: DetailView) -> list[Content]:
    """Source and dates; read, starred and first seen; the actors; the watch terms."""
    item, flags, now = view.item, view.flags, view.now
    source = safe_text(view.feed_name or item.source) or "?"
    meta: list[Content | str | tuple[str, str]] = [(source, "$accent")]
    published = local_time(item.published, "%a %d %b %Y %H:%M")
    meta += ["  ·  ", published, (f" ({relative(item.published, now)})", "$text-muted")]
    if item.date_missing:
        meta.append((" (no date in the feed: first seen)", "$text-warning"))
    lines = [Content.assemble(*meta)]

    state: list[Content | str | tuple[str, str]] = []
    if flags.starred:
        state.append(("★ starred", "$warning bold"))
    state.append(("read" if flags.read else "unread", "$text-muted" if flags.read else "bold"))
    if item.first_seen != item.published:
        state.append((f"first seen {local_time(item.first_seen)}", "$text-muted"))
    lines.append(Content("  ·  ").join(Content.assemble(p) for p in state))

    if item.actors:
        lines.append(Content.assemble(("actors  ", "$text-muted"), Content(" · ").join(
            Content.styled(safe_text(a), "bold $text-primary") for a in item.actors)))
    if view.watch_terms:
        lines.append(Content.assemble(("◉ watch  ", "bold $text-warning"), Content(", ").join(
            Content.styled(safe_text(t), "$text-warning") for t in view.watch_terms)))
    return lines


def _chips(item: Item, compact: bool, corrected: str | None = None) -> Content:
    """The labels as coloured chips with their scores, and the other scores; the scores are
    the rules' even when the labels were set by hand (what the rules would have to learn)."""
    chips: list[Content] = []
    labels = set(item.labels)
    for label in label_order(set(item.scores) | labels | set(LABELS)):
        score = item.scores.get(label, 0.0)
        if label in labels:
            chips.append(Content.styled(f" {label} {score:.1f} ", label_chip_style(label)))
        elif score != 0 or not compact:
            chips.append(Content.styled(f"{label} {score:.1f}", "$text-muted"))
    if not labels:
        chips.insert(0, Content.styled(f" {OTHER} ", label_chip_style(OTHER)))
    if corrected is not None:
        when = safe_text(local_time(corrected, "%d %b %H:%M"), 40) if corrected else ""
        chips.append(Content.styled(f"✎ corrected {when}".rstrip(), "bold $text-accent"))
    return Content("  ").join(chips)


def _evidence(item: Item, compact: bool) -> list[Content]:
    """What matched, per label (with the rule that matched, unless ``compact``)."""
    lines = []
    for label in label_order({m.label for m in item.evidence}):
        # Keyed by the sign too: a penalty's match is shown as evidence against, apart from a
        # rule for the label on the same text.
        rules: dict[tuple[str, str, str], str] = {}
        for m in item.evidence:
            if m.label == label:
                rules.setdefault((safe_text(m.text), m.field, " against" * m.against),
                                 safe_text(m.term))
        if compact:  # one flowing line per label: what matched, and where
            hits = [Content.assemble((f"“{matched}”", "bold"),
                                     (f" {field}{against}", "$text-muted"))
                    for (matched, field, against) in rules]
            lines.append(Content.assemble((f"{label}  ", label_style(label, "bold")),
                                          Content(", ").join(hits)))
            continue
        for (matched, field, against), term in rules.items():
            lines.append(Content.assemble(
                (f"  {label:<11}", label_style(label, "bold")), (f"“{matched}”", "bold"),
                (f" in the {field}{against}", "$text-muted")))
            # A long rule wraps under itself, not at the margin (Content has no hanging indent).
            for i, part in enumerate(textwrap.wrap(term, 56, break_on_hyphens=False) or [""]):
                lines.append(Content.assemble((" " * 13 + ("rule " if i == 0 else "     "),
                                               "$text-muted"), (part, "italic $text-muted")))
    return lines


def render_versions(view: DetailView) -> Content:
    """The story's versions, one per line: feed, time, title (and, in full, the link); the
    item shown is marked ▸."""
    feeds = len({it.feed for _, it in view.versions})
    lines = [Content.assemble(("Story", "bold underline"),
                              (f"  {feeds} source{'s' if feeds != 1 else ''}, "
                               f"{len(view.versions)} versions", "$text-muted"))]
    for name, it in view.versions:
        here = it.id == view.item.id
        when = local_time(it.published, "%d %b %H:%M")
        head = Content.assemble(("▸ " if here else "  ", "bold $text-accent"),
                                (safe_text(name, 22 if view.compact else 50) or "?",
                                 "bold $accent" if here else "$accent"),
                                (f"  {when}", "$text-muted"))
        title = Content.styled(safe_text(it.title) or "(no title)", "bold" if here else "")
        lines += [head, Content.assemble("  ", title)]  # the title under its source
        link = safe_link(it.link)
        if link and not view.compact:
            lines.append(Content.styled("  " + safe_text(link), "$text-primary"))
    return Content("\n").join(lines)


class ItemDetail(VerticalScroll):
    """Scrollable detail of one item (or a hint when nothing is selected)."""

    EMPTY = Content.styled("No item selected. Move through a pane with ↑/↓ or j/k; "
                           "enter opens an item.", "$text-muted")

    def __init__(self, *, focusable: bool = False, compact: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.can_focus = focusable
        self.compact = compact
        self.view: DetailView | None = None

    def compose(self) -> ComposeResult:
        yield Static(self.EMPTY, classes="detail-body")

    def show(self, view: DetailView | None) -> None:
        if view is not None and self.compact != view.compact:
            view = replace(view, compact=self.compact)
        if view == self.view:
            return
        same_item = view is not None and self.view is not None and view.item.id == self.view.item.id
        self.view = view
        body = self.query_one(".detail-body", Static)
        body.update(render_detail(view) if view else self.EMPTY)
        # Measure again once the update has been painted: under load the body sometimes kept
        # the height of what it showed before (a layout request lost during a refresh).
        self.call_after_refresh(body.refresh, layout=True)
        if not same_item:
            self.scroll_home(animate=False)

    @property
    def item(self) -> Item | None:
        return self.view.item if self.view else None


"""The `/` filter: an input line under the panes, and the view filter it edits.

``ViewFilter`` is what the panes show (text, feed scope, actor, unread only, starred only); it
turns into a store ``ItemFilter`` per pane, so a filter narrows the whole store, not only the
rows on screen.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

from feeds.model import Item
from storage.query import NO_FLAGS, Flags, ItemFilter, matches
from tui.render import store_label
from tui.dashboard.debounce import Debounce


@dataclass(frozen=True, slots=True)
class ViewFilter:
    text: str = ""
    feeds: frozenset[str] | None = None  # feed keys; None = every feed
    scope_name: str = ""  # how the feed scope reads ("tag un", "feed UN News")
    unread_only: bool = False
    starred_only: bool = False
    actor: str | None = None  # a canonical actor name (Item.actors); None = any

    @property
    def active(self) -> bool:
        return bool(self.text or self.feeds is not None or self.unread_only or self.starred_only
                    or self.actor)

    def item_filter(self, pane: str | None, *, limit: int | None, offset: int = 0) -> ItemFilter:
        """The store query for one pane, or every pane (``pane=None``: any label or none);
        ``archive=None``: older weeks only when needed."""
        label = None if pane is None else store_label(pane)
        return ItemFilter(label=label, feeds=self.feeds, text=self.text or None,
                          unread=self.unread_only, starred=self.starred_only, actor=self.actor,
                          limit=limit, offset=offset)

    def admits(self, item: Item, flags: Flags, pane: str) -> bool:
        """Would ``item`` be in ``pane`` under this filter? (for live inserts)"""
        return matches(item, flags, self.item_filter(pane, limit=1))

    def admitted(self, items: Iterable[Item], pane: str) -> list[Item]:
        """The unflagged ``items`` this filter lets into ``pane`` (a poll's new items): the
        pane's query is built once, not per item."""
        f = self.item_filter(pane, limit=1)
        return [item for item in items if matches(item, NO_FLAGS, f)]

    def describe(self) -> str:
        parts = []
        if self.text:
            parts.append(f"“{self.text}”")
        if self.scope_name:
            parts.append(self.scope_name)
        if self.actor:
            parts.append(f"actor {self.actor}")
        if self.unread_only:
            parts.append("unread")
        if self.starred_only:
            parts.append("starred")
        return " · ".join(parts)

    def with_text(self, text: str) -> "ViewFilter":
        return replace(self, text=text.strip())


class FilterBar(Input):
    """Type to filter every pane; enter keeps the filter and returns to the panes, escape
    clears it. Changes are debounced so a fast typist triggers one store query."""

    BINDINGS = [Binding("escape", "clear_filter", "Clear filter", show=True)]
    DEBOUNCE = 0.3

    class FilterChanged(Message):
        def __init__(self, text: str, done: bool) -> None:
            super().__init__()
            self.text = text
            self.done = done  # enter/escape: hand the focus back to the panes

    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder="filter: words that must all appear (title, summary, source)",
                         **kwargs)
        self._pause = Debounce(self.set_timer, self.DEBOUNCE, self._emit)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self._pause.poke()

    def _emit(self, done: bool = False) -> None:
        self.post_message(self.FilterChanged(self.value, done))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._pause.cancel()
        self._emit(done=True)

    def action_clear_filter(self) -> None:
        self._pause.cancel()
        with self.prevent(Input.Changed):
            self.value = ""
        self._emit(done=True)

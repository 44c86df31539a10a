"""`t`: show only one feed, the feeds with one tag, or the feeds of one folder.

The list moves with the arrows and with j/k; typing anything else filters it (the filter
box takes the focus, so j and k then type; the arrows still move and enter still chooses).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from feeds.config.load import Config
from feeds.text import safe_text
from tui.render import plural

KINDS = ("tag", "folder", "feed")


@dataclass(frozen=True, slots=True)
class Scope:
    name: str  # as shown in the status line ("" = every feed)
    feeds: frozenset[str] | None  # feed keys; None = every feed
    items: int = 0  # items stored from those feeds (0 when not counted)


def _folders(config: Config) -> list[str]:
    """Every folder, and every folder enclosing one ("World" for "World/Europe")."""
    out: set[str] = set()
    for f in config.feeds:
        parts = f.folder.split("/") if f.folder else []
        out.update("/".join(parts[:n]) for n in range(1, len(parts) + 1))
    return sorted(out, key=str.casefold)


def _in_folder(feed_folder: str, folder: str) -> bool:
    return feed_folder == folder or feed_folder.startswith(folder + "/")


def scopes(config: Config, counts: Mapping[str, int] | None = None) -> list[Scope]:
    """Every feed, then each tag, each folder and each feed, with the items they hold."""
    counts = counts or {}

    def scope(name: str, keys: set[str]) -> Scope:
        return Scope(name, frozenset(keys), sum(counts.get(k, 0) for k in keys))

    out = [Scope("", None, sum(counts.get(f.key, 0) for f in config.feeds))]
    for tag in sorted({t for f in config.feeds for t in f.tags}):
        out.append(scope(f"tag {tag}", {f.key for f in config.feeds if tag in f.tags}))
    for folder in _folders(config):
        out.append(scope(f"folder {folder}",
                         {f.key for f in config.feeds if _in_folder(f.folder, folder)}))
    for f in config.feeds:
        out.append(scope(f"feed {f.name}", {f.key}))
    return out


def scope_prompt(scope: Scope) -> Content:
    """A row of the picker; names come from the config or a feed's title: never markup."""
    if scope.feeds is None:
        return Content.assemble(Content.styled("every feed", "bold"),
                                (f"  {plural(scope.items, 'item')}", "$text-muted"))
    kind, _, name = scope.name.partition(" ")
    if kind == "feed":
        return Content.assemble(("feed   ", "$text-muted"), safe_text(name),
                                (f"  {plural(scope.items, 'item')}", "$text-muted"))
    n = len(scope.feeds)
    return Content.assemble((f"{kind:<7}", "$text-muted"), (safe_text(name), "bold"),
                            (f"  {plural(n, 'feed')} · {plural(scope.items, 'item')}",
                             "$text-muted"))


def matches(scope: Scope, words: str) -> bool:
    """Every word typed is in the row (kind and name), in any case."""
    text = (scope.name or "every feed").casefold()
    return all(w in text for w in words.casefold().split())


class ScopeList(OptionList):
    BINDINGS = [Binding("j", "cursor_down", show=False), Binding("k", "cursor_up", show=False)]


class ScopeScreen(ModalScreen[Scope | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"),
                # While the filter box has the focus, the arrows still move the list.
                Binding("down", "move(1)", show=False), Binding("up", "move(-1)", show=False)]

    def __init__(self, config: Config, current: frozenset[str] | None,
                 counts: Mapping[str, int] | None = None) -> None:
        super().__init__()
        self.choices = scopes(config, counts)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="scope-box"):
            yield Static(Content.styled("Show items from", "bold"))
            yield Input(placeholder="type to filter", id="scope-filter", compact=True)
            yield ScopeList(*self._options(""), id="scope-list")

    def _options(self, words: str) -> list[Option]:
        return [Option(scope_prompt(s), id=str(i)) for i, s in enumerate(self.choices)
                if matches(s, words)]

    def on_mount(self) -> None:
        olist = self.query_one(ScopeList)
        for i, scope in enumerate(self.choices):
            if scope.feeds == self.current:
                olist.highlighted = i
        olist.focus()

    def on_key(self, event: events.Key) -> None:
        """A printable key other than j/k on the list starts the filter."""
        box = self.query_one("#scope-filter", Input)
        if (self.focused is self.query_one(ScopeList) and event.is_printable
                and event.character and event.character not in "jk"):
            event.stop()
            event.prevent_default()
            box.focus()
            box.value += event.character
            box.cursor_position = len(box.value)

    @on(Input.Changed, "#scope-filter")
    def _filter(self, event: Input.Changed) -> None:
        olist = self.query_one(ScopeList)
        olist.clear_options()
        olist.add_options(self._options(event.value))
        if olist.option_count:
            olist.highlighted = 0

    def action_move(self, step: int) -> None:
        olist = self.query_one(ScopeList)
        if step > 0:
            olist.action_cursor_down()
        else:
            olist.action_cursor_up()

    @on(Input.Submitted, "#scope-filter")
    def _submitted(self) -> None:
        olist = self.query_one(ScopeList)
        if olist.highlighted is not None:
            option = olist.get_option_at_index(olist.highlighted)
            self.dismiss(self.choices[int(option.id or 0)])

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option_id or 0)])

"""`t`: show only one feed, or the feeds with one tag."""
from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from feeds.config.load import Config
from feeds.text import safe_text


@dataclass(frozen=True, slots=True)
class Scope:
    name: str  # as shown in the status line ("" = every feed)
    feeds: frozenset[str] | None  # feed keys; None = every feed


def scopes(config: Config) -> list[Scope]:
    out = [Scope("", None)]
    tags = sorted({t for f in config.feeds for t in f.tags})
    for tag in tags:
        out.append(Scope(f"tag {tag}", frozenset(f.key for f in config.feeds if tag in f.tags)))
    for f in config.feeds:
        out.append(Scope(f"feed {f.name}", frozenset({f.key})))
    return out


class ScopeScreen(ModalScreen[Scope | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, config: Config, current: frozenset[str] | None) -> None:
        super().__init__()
        self.choices = scopes(config)
        self.current = current

    def compose(self) -> ComposeResult:
        options = []
        for i, scope in enumerate(self.choices):
            if scope.feeds is None:
                prompt = Content.styled("every feed", "bold")
            elif scope.name.startswith("tag "):
                prompt = Content.assemble(("tag  ", "$text-muted"), (safe_text(scope.name[4:]), "bold"),
                                          (f"  {len(scope.feeds)} feeds", "$text-muted"))
            else:
                prompt = Content.assemble(("feed ", "$text-muted"), safe_text(scope.name[5:]))
            options.append(Option(prompt, id=str(i)))
        with Vertical(id="scope-box"):
            yield Static(Content.styled("Show items from", "bold"))
            yield OptionList(*options, id="scope-list")

    def on_mount(self) -> None:
        olist = self.query_one(OptionList)
        for i, scope in enumerate(self.choices):
            if scope.feeds == self.current:
                olist.highlighted = i
        olist.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option_id or 0)])

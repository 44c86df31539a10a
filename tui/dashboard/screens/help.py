"""`?`: the keys and screens, on one page."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Move", [
        ("↑ ↓  j k", "previous / next item"),
        ("tab  shift+tab", "next / previous pane (1 2 3 4 jump to a pane)"),
        ("g  G", "first / last item; the last one pages older items in"),
        ("n  N", "next / previous unread item, across panes"),
        ("enter", "the item on its own screen (marks it read); there j k (n p): next /"
                  " previous item"),
        ("mouse", "click a row to select it, click again to open it"),
    ]),
    ("Item", [
        ("o", "open the link in the browser (http and https links only)"),
        ("y", "copy the link"),
        ("m", "mark read / unread (read items are dimmed)"),
        ("A", "mark the active pane read (its unread items under the filter); U: undo"),
        ("ctrl+a", "mark everything shown read (every pane, the current filter)"),
        ("s", "star / unstar"),
        ("l", "set the labels by hand (✎); the rules never undo it"),
    ]),
    ("Filter", [
        ("/", "filter every pane by words (searches the whole store)"),
        ("t", "only a feed or a tag"),
        ("a", "only items naming an actor (a name or an alias: Kremlin)"),
        ("u", "unread only"),
        ("S", "starred only"),
        ("L", "load more of the active pane"),
        ("esc", "clear the filters"),
    ]),
    ("Analysis", [
        ("c", "one row per story (N▸: carried by N feeds) / per item"),
        ("T", "trends: items per label per day, top actors (d: 14/30 days)"),
        ("w", "watch: the items matching the [watch] terms (◉: new alerts)"),
        ("v", "review: the labels the rules are least sure of; l sets them by hand, "
              "1 2 3 one label's doubts, R ranks again"),
        ("b", "save the current view as a briefing (Markdown or HTML)"),
    ]),
    ("App", [
        ("r", "poll the due feeds now (one feed: f, then p)"),
        ("f", "feed health: status, errors, enable (e) / disable (d), poll now (p), "
              "mark read (A)"),
        ("ctrl+p", "command palette: every action, themes"),
        ("?", "this help"),
        ("q", "quit"),
    ]),
]


PANES_NOTE = ("Panes: Talks, Sanctions, Statements, and Other (no label). An item with several "
              "labels is in each of its panes; coloured dots before a title show its other "
              "labels. 12/351 in a title: unread (in the recent window) / stored. The sparkline "
              "in a pane's title counts its items per day over two weeks.")


def help_content() -> Content:
    """The whole help as one text (what the screen shows, for searching it)."""
    lines: list[Content] = [Content.styled("diplowatch: keys", "bold $text-accent"), Content("")]
    for title, keys in SECTIONS:
        lines.append(Content.styled(title, "bold underline"))
        for key, what in keys:
            lines.append(Content.assemble((f"  {key:<16}", "bold $text-primary"), what))
        lines.append(Content(""))
    lines.append(Content.styled(PANES_NOTE, "$text-muted"))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss(None)", "Close")]

    def compose(self) -> ComposeResult:
        # A key and its words side by side, so that words that wrap stay in their column
        # (a hanging indent) instead of restarting under the key.
        with VerticalScroll(id="help-box"):
            yield Static(Content.styled("diplowatch: keys", "bold $text-accent"))
            for title, keys in SECTIONS:
                yield Static(Content.styled(title, "bold underline"), classes="help-section")
                for key, what in keys:
                    with Horizontal(classes="help-row"):
                        yield Static(Content(key), classes="help-key")
                        yield Static(Content(what), classes="help-what")
            yield Static(Content.styled(PANES_NOTE, "$text-muted"), classes="help-section")

"""`b`: save the current view as a briefing (Markdown or HTML).

The modal chooses the format and confirms the path (default
``~/diplowatch-briefing-YYYY-MM-DD.md``); a file that exists is replaced only after a second
"Save". The app then queries the store with the current filter (every pane, bounded), builds
the briefing with ``feeds.analysis.briefing`` and writes it in a thread worker.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, RadioButton, RadioSet, Static

from feeds.parse.text import safe_text

FORMATS = (("md", "Markdown (.md)"), ("html", "HTML (.html)"))
EXTENSIONS = {"md": ".md", "html": ".html"}


@dataclass(frozen=True, slots=True)
class BriefingRequest:
    path: Path  # expanded, absolute
    fmt: str  # "md" or "html"
    include_other: bool  # unlabelled items too


def default_path(now: float, fmt: str = "md") -> str:
    """``~/diplowatch-briefing-YYYY-MM-DD.md`` (local date), as the user would type it."""
    day = datetime.fromtimestamp(now).strftime("%Y-%m-%d")
    return f"~/diplowatch-briefing-{day}{EXTENSIONS[fmt]}"


def expand(typed: str) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(typed.strip()))).absolute()


class BriefingScreen(ModalScreen[BriefingRequest | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    class Checked(Message):
        """(worker) Whether the chosen path can be written, and whether it exists."""

        def __init__(self, path: Path, exists: bool, problem: str | None) -> None:
            super().__init__()
            self.path, self.exists, self.problem = path, exists, problem

    def __init__(self, now: float, scope: str, limit: int) -> None:
        super().__init__()
        self.now = now
        self.scope = scope  # the current filter in words ("" = everything)
        self.limit = limit
        self._confirmed: Path | None = None  # a path the user agreed to replace

    def compose(self) -> ComposeResult:
        with Vertical(id="brief-box"):
            yield Static(Content.styled("Save the current view as a briefing", "bold"))
            what = Content.assemble(
                ("Items: ", "$text-muted"),
                (safe_text(self.scope), "bold") if self.scope else ("every pane, no filter", "bold"),
                (f" · the newest {self.limit:,} at most, grouped by label and story",
                 "$text-muted"))
            yield Static(what, id="brief-scope")
            with RadioSet(id="brief-format"):
                for i, (_, name) in enumerate(FORMATS):
                    yield RadioButton(name, value=i == 0)
            yield Checkbox("Include Other (unlabelled items)", value=False, id="brief-other")
            yield Input(default_path(self.now), id="brief-path")
            yield Static(id="brief-note")
            with Horizontal(id="brief-buttons"):
                yield Button("Save", variant="primary", id="brief-save")
                yield Button("Cancel", id="brief-cancel")

    def on_mount(self) -> None:
        self.query_one("#brief-path", Input).focus()

    @property
    def fmt(self) -> str:
        index = self.query_one(RadioSet).pressed_index
        return FORMATS[index if index >= 0 else 0][0]

    @on(RadioSet.Changed)
    def _format_changed(self) -> None:
        """The path follows the format while it ends with the other format's extension."""
        field = self.query_one("#brief-path", Input)
        ext = EXTENSIONS[self.fmt]
        for other in EXTENSIONS.values():
            if other != ext and field.value.endswith(other):
                field.value = field.value[: -len(other)] + ext
        self._note("")

    @on(Input.Changed, "#brief-path")
    def _path_changed(self) -> None:
        self._confirmed = None
        self.query_one("#brief-save", Button).label = "Save"
        self._note("")

    @on(Input.Submitted, "#brief-path")
    @on(Button.Pressed, "#brief-save")
    def _save(self) -> None:
        typed = self.query_one("#brief-path", Input).value
        if not typed.strip():
            self._note("Type where to save the briefing.", warn=True)
            return
        path = expand(typed)
        if path == self._confirmed:
            self._done(path)
            return
        self._check(path)

    @on(Button.Pressed, "#brief-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @work(thread=True, group="briefing-path", exclusive=True, exit_on_error=False,
          name="check briefing path")
    def _check(self, path: Path) -> None:
        problem = None
        if path.is_dir():
            problem = "That is a directory: add a file name."
        elif not path.parent.is_dir():
            problem = f"No directory {path.parent}."
        self.post_message(self.Checked(path, path.exists(), problem))

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        if message.path != expand(self.query_one("#brief-path", Input).value):
            return  # edited since
        if message.problem:
            self._note(message.problem, warn=True)
        elif message.exists:
            self._confirmed = message.path
            self.query_one("#brief-save", Button).label = "Replace"
            self._note(f"{message.path} exists: Replace (or enter) overwrites it.", warn=True)
        else:
            self._done(message.path)

    def _done(self, path: Path) -> None:
        include_other = self.query_one("#brief-other", Checkbox).value
        self.dismiss(BriefingRequest(path, self.fmt, include_other))

    def _note(self, text: str, *, warn: bool = False) -> None:
        self.query_one("#brief-note", Static).update(
            Content.styled(safe_text(text), "$text-warning" if warn else "$text-muted"))

"""`b`: save the current view as a briefing (Markdown or HTML).

The modal chooses the format and confirms the path (default
``~/diplowatch-briefing-YYYY-MM-DD.md``); a file that exists is replaced only after a second
"Save". In a browser tab of ``serve`` the modal asks only for a file name: the briefing is
downloaded by the browser, never written on the server. The dashboard then queries the store with the current filter (every pane, bounded),
builds the briefing with ``feeds.analysis.briefing`` and writes it in a thread worker
(:func:`write_briefing`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, RadioButton, RadioSet, Static

from feeds.text import safe_text
from tui.dashboard.messages import BriefingSaved
from tui.render import local_time

if TYPE_CHECKING:
    from feeds.model import Item
    from tui.dashboard.widgets.filter_bar import ViewFilter

BRIEFING_LIMIT = 1000  # items of the current view a briefing covers (the newest)
BRIEFING_TITLE = "diplowatch briefing"
FORMATS = (("md", "Markdown (.md)"), ("html", "HTML (.html)"))
EXTENSIONS = {"md": ".md", "html": ".html"}


@dataclass(frozen=True, slots=True)
class BriefingRequest:
    path: Path  # expanded, absolute
    fmt: str  # "md" or "html"
    include_other: bool  # unlabelled items too
    download: bool = False  # a browser tab: ``path`` is only the file name offered


def default_path(now: float, fmt: str = "md") -> str:
    """``~/diplowatch-briefing-YYYY-MM-DD.md`` (local date), as the user would type it."""
    day = datetime.fromtimestamp(now).strftime("%Y-%m-%d")
    return f"~/diplowatch-briefing-{day}{EXTENSIONS[fmt]}"


def download_name(typed: str, fmt: str) -> str:
    """The file name a browser is offered: the typed name without folders."""
    name = Path(typed.strip().replace("\\", "/")).name.strip(". ") or "diplowatch-briefing"
    return name if Path(name).suffix in EXTENSIONS.values() else name + EXTENSIONS[fmt]


def expand(typed: str) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(typed.strip()))).absolute()


class BriefingScreen(ModalScreen[BriefingRequest | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    class Checked(Message):
        """(worker) Whether the chosen path can be written, and whether it exists."""

        def __init__(self, path: Path, exists: bool, problem: str | None) -> None:
            super().__init__()
            self.path, self.exists, self.problem = path, exists, problem

    def __init__(self, now: float, scope: str, limit: int, *, download: bool = False) -> None:
        super().__init__()
        self.download = download
        self.now = now
        self.scope = scope  # the current filter in words ("" = everything)
        self.limit = limit
        self._confirmed: Path | None = None  # a path the user agreed to replace

    def compose(self) -> ComposeResult:
        with Vertical(id="brief-box"):
            yield Static(Content.styled("Download the current view as a briefing" if self.download
                                        else "Save the current view as a briefing", "bold"))
            what = Content.assemble(
                ("Items: ", "$text-muted"),
                (safe_text(self.scope), "bold") if self.scope else ("every pane, no filter", "bold"),
                (f" · the newest {self.limit:,} at most, grouped by label and story",
                 "$text-muted"))
            yield Static(what, id="brief-scope")
            with RadioSet(id="brief-format"):
                for i, (_, name) in enumerate(FORMATS):
                    yield RadioButton(name, value=i == 0)
            yield Checkbox("Include Other (items with no label)", value=False, id="brief-other")
            typed = default_path(self.now)
            yield Input(typed.removeprefix("~/") if self.download else typed, id="brief-path")
            yield Static(id="brief-note")
            with Horizontal(id="brief-buttons"):
                yield Button("Download" if self.download else "Save", variant="primary",
                             id="brief-save")
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
        self.query_one("#brief-save", Button).label = "Download" if self.download else "Save"
        self._note("")

    @on(Input.Submitted, "#brief-path")
    @on(Button.Pressed, "#brief-save")
    def _save(self) -> None:
        typed = self.query_one("#brief-path", Input).value
        if not typed.strip():
            self._note("Type where to save the briefing.", warn=True)
            return
        if self.download:  # nothing is written here: the browser saves it
            self.dismiss(BriefingRequest(Path(download_name(typed, self.fmt)), self.fmt,
                                         self.query_one("#brief-other", Checkbox).value, True))
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


# --- writing it (the dashboard's "briefing" worker) --------------------------------------------

def write_briefing(store: Any, config: Any, view: "ViewFilter", request: BriefingRequest,
                   clock: Callable[[], float], progress: Callable[[int, int], None]
                   ) -> BriefingSaved:
    """(worker thread) Query the view, compose the briefing and save it."""
    from feeds.analysis.briefing import compose_briefing, save_briefing

    items = store.query(view.item_filter(None, limit=BRIEFING_LIMIT), progress=progress)
    briefing = compose_briefing(items, request.fmt, clock(), BRIEFING_TITLE,
                                subtitle=_subtitle(view, items),
                                feed_names={f.key: f.name for f in config.feeds},
                                include_other=request.include_other)
    path = request.path
    limited = len(items) >= BRIEFING_LIMIT
    if request.download:
        return BriefingSaved(path, briefing.stories, briefing.items, limited, text=briefing.text)
    try:
        save_briefing(path, briefing)
    except OSError as e:
        return BriefingSaved(path, 0, 0, False, e.strerror or str(e))
    return BriefingSaved(path, briefing.stories, briefing.items, limited)


def _subtitle(view: "ViewFilter", items: list["Item"]) -> str:
    scope = view.describe() or "every pane, no filter"
    text = f"The dashboard's view: {scope}"
    if items:
        newest, oldest = items[0].published, items[-1].published
        text += (f" · {len(items):,} items published {local_time(oldest)} to "
                 f"{local_time(newest)}")
        if len(items) >= BRIEFING_LIMIT:
            text += f" (the newest {BRIEFING_LIMIT:,})"
    return text


def briefing_saved_text(message: BriefingSaved) -> tuple[str, str, bool]:
    """The toast for a briefing written (or not): (title, text, is an error)."""
    if message.error:
        return "Briefing", (f"Could not save the briefing to {message.path}: "
                            f"{safe_text(message.error, 200)}"), True
    limited = f" (the newest {BRIEFING_LIMIT:,} items of the view)" if message.limited else ""
    return "Briefing downloaded" if message.text is not None else "Briefing saved", (f"{message.path}\n{message.stories} "
                              f"{'story' if message.stories == 1 else 'stories'} from "
                              f"{message.items} item{'s' if message.items != 1 else ''}"
                              f"{limited}"), False

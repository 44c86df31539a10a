"""The status line above the footer: what the app is doing (polling, re-classifying,
searching the archive) on the left, the active filter on the right."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from feeds.text import safe_text


class StatusLine(Horizontal):
    activity: reactive[str] = reactive("")
    busy: reactive[bool] = reactive(False)  # shows a spinner-like marker
    problem: reactive[bool] = reactive(False)  # the activity text is a warning
    scope: reactive[str] = reactive("")

    def compose(self) -> ComposeResult:
        yield Static(id="status-activity")
        yield Static(id="status-scope")

    def on_mount(self) -> None:
        self._show_activity()
        self._show_scope()

    def watch_activity(self) -> None:
        self._show_activity()

    def watch_busy(self) -> None:
        self._show_activity()

    def watch_problem(self) -> None:
        self._show_activity()

    def watch_scope(self) -> None:
        self._show_scope()

    def _show_activity(self) -> None:
        if not self.is_mounted:
            return
        style = "$text-warning" if self.problem else ("$text-accent" if self.busy else "$text-muted")
        marker = "⟳ " if self.busy else ("! " if self.problem else "")
        # 1fr x 1 (app.tcss): a poll redraws this a few times a second, without a relayout.
        self.query_one("#status-activity", Static).update(
            Content.styled(f" {marker}{safe_text(self.activity)}", style), layout=False)

    def _show_scope(self) -> None:
        """The filter's text: its width changes, so this one relayouts (on a filter change)."""
        if not self.is_mounted:
            return
        scope = Content.assemble(("filter: ", "$text-muted"), (safe_text(self.scope), "bold"),
                                 "  (esc clears) ") if self.scope else Content("")
        self.query_one("#status-scope", Static).update(scope)

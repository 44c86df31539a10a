"""The one-line header: app name, mode, items per label, unseen watch alerts, last poll time."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from tui.render import OTHER, PANES, label_style, local_time, relative, store_label

if TYPE_CHECKING:
    from tui.dashboard.services import DashboardServices


class DashboardHeader(Horizontal):
    counts: reactive[dict[str, int]] = reactive(dict, always_update=True)
    last_poll: reactive[str | None] = reactive(None)  # UTC ISO
    mode: reactive[str] = reactive("")  # "", "offline", "read-only"
    now: reactive[float] = reactive(0.0)
    compact: reactive[bool] = reactive(False)  # under 100 columns: shorter words
    watch: reactive[int] = reactive(0)  # watch alerts not seen yet (w shows them)

    SHORT = {"talks": "talks", "sanctions": "sanct", "statements": "stmt", OTHER: "other"}

    def __init__(self, services: "DashboardServices | None" = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._services = services  # filled from them now and whenever headers change

    def compose(self) -> ComposeResult:
        yield Static(id="header-left")
        yield Static(id="header-right")

    def on_mount(self) -> None:
        if (s := self._services) is not None:
            s.sync_header(self)  # (the watchers wait for is_mounted: rendered just below)
            s.headers_changed.subscribe(self, lambda _: s.sync_header(self))
        self._render_left(mounting=True)
        self._render_right(mounting=True)

    def on_resize(self) -> None:
        self.compact = self.size.width < 100

    def watch_compact(self) -> None:
        self._render_left()
        self._render_right()

    def watch_counts(self) -> None:
        self._render_left()

    def watch_mode(self) -> None:
        self._render_left()

    def watch_watch(self) -> None:
        self._render_left()

    def watch_last_poll(self) -> None:
        self._render_right()

    def watch_now(self) -> None:
        self._render_right()

    def _render_left(self, mounting: bool = False) -> None:
        if not (mounting or self.is_mounted):
            return
        parts: list[Content | str | tuple[str, str]] = [(" ◆ diplowatch ", "bold $text-accent")]
        if self.mode:
            parts += [(f" {self.mode.upper()} ", "bold $background on $warning"), " "]
        for pane in PANES:
            n = self.counts.get(store_label(pane))
            if n is None:
                continue
            name = self.SHORT[pane] if self.compact else pane
            parts += [(f" {name} ", label_style(pane)), (f"{n:,} ", "bold")]
        if self.watch:
            word = "" if self.compact else " watch"
            parts += [" ", (f" ◉{word} {self.watch:,} ", "bold $background on $warning")]
        # A fixed size (1fr x 1, app.tcss): updated without a relayout of the screen, which
        # a poll would otherwise pay for at every batch of items.
        self.query_one("#header-left", Static).update(Content.assemble(*parts), layout=False)

    def _render_right(self, mounting: bool = False) -> None:
        if not (mounting or self.is_mounted):
            return
        if self.last_poll and self.compact:  # under 100 columns: how long ago only
            text = Content.styled(f"{relative(self.last_poll, self.now)} ", "$text-muted")
        elif self.last_poll:
            text = Content.assemble(("polled ", "$text-muted"), local_time(self.last_poll, "%H:%M"),
                                    (f" ({relative(self.last_poll, self.now)}) ", "$text-muted"))
        else:
            text = Content.styled("not polled yet ", "$text-muted")
        self.query_one("#header-right", Static).update(text)

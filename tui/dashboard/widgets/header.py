"""The one-line header: app name, mode, unread/stored items per label, unseen watch alerts,
last poll time."""
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


RIGHT_WIDTH = 24  # cells the poll time takes on the right ("polled 20:21 (5m ago) ")


class DashboardHeader(Horizontal):
    counts: reactive[dict[str, int]] = reactive(dict, always_update=True)
    unread: reactive[dict[str, int] | None] = reactive(None, always_update=True)  # per label
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
        self._render_left()  # whether the full words fit depends on the width too

    def watch_compact(self) -> None:
        self._render_left()
        self._render_right()

    def watch_counts(self) -> None:
        self._render_left()

    def watch_unread(self) -> None:
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
        text = self._left(self.compact)
        # The unread counts lengthen the line: short words when the full ones would run into
        # the poll time on the right.
        if not self.compact and text.cell_length + RIGHT_WIDTH > self.size.width:
            text = self._left(True)
        # A fixed size (1fr x 1, app.tcss): updated without a relayout of the screen, which
        # a poll would otherwise pay for at every batch of items.
        self.query_one("#header-left", Static).update(text, layout=False)

    def _left(self, short: bool) -> Content:
        parts: list[Content | str | tuple[str, str]] = [(" ◆ diplowatch ", "bold $text-accent")]
        if self.mode:
            parts += [(f" {self.mode.upper()} ", "bold $background on $warning"), " "]
        for pane in PANES:
            n = self.counts.get(store_label(pane))
            if n is None:
                continue
            name = self.SHORT[pane] if short else pane
            # "12/351": unread in the recent window / stored (state/unread.py)
            unread = None if self.unread is None else self.unread.get(store_label(pane), 0)
            shown = f"{n:,}" if unread is None else f"{min(unread, n):,}/{n:,}"
            parts += [(f" {name} ", label_style(pane)), (f"{shown} ", "bold")]
        if self.watch:
            word = "" if short else " watch"
            parts += [" ", (f" ◉{word} {self.watch:,} ", "bold $background on $warning")]
        return Content.assemble(*parts)

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

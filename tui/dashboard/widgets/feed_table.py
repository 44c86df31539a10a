"""Every configured feed with its health, one row per feed keyed by the feed key."""
from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from feeds.poll.health import FeedHealth
from feeds.model import FeedStatus
from feeds.text import safe_text
from tui.render import relative
from tui.dashboard.widgets.cursor import cursor_row_key, fit_column

STATUS_VARS = {FeedStatus.OK: "success", FeedStatus.NOT_MODIFIED: "success",
               FeedStatus.ERROR: "error", FeedStatus.GONE: "error",
               FeedStatus.RATE_LIMITED: "warning", FeedStatus.NEW: "secondary",
               FeedStatus.DISABLED: "foreground-muted"}
QUIET = (FeedStatus.GONE, FeedStatus.DISABLED)  # never polled: no next poll to show
COLUMNS = (("status", "Status", 13), ("feed", "Feed", 26), ("success", "Last success", 12),
           ("items", "Items", 7), ("unread", "Unread", 7), ("next", "Next poll", 11),
           ("detail", "Detail", 40))


def next_poll_words(h: FeedHealth, now: float) -> str:
    if h.status in QUIET:
        return "-"
    return relative(h.next_poll, now, never="now") if h.next_poll else "now"


class FeedHealthTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.health: dict[str, FeedHealth] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(Text(label), width=width, key=key)

    def _cells(self, h: FeedHealth, now: float, colors: dict[str, str],
               unread: int) -> list[Text]:
        color = colors.get(STATUS_VARS.get(h.status, "foreground"), "")
        failing = h.failing
        detail = h.summary if (failing or h.status in QUIET or h.url != h.shown_key) \
            else safe_text(h.url)
        return [
            Text(("✗ " if failing else "● ") + h.status, style=f"bold {color}".strip(), end=""),
            Text(safe_text(h.name), no_wrap=True, overflow="ellipsis", end="",
                 style="dim" if not h.enabled else ""),
            Text(relative(h.last_success, now) if h.last_success else "never", end="",
                 style="" if h.last_success else "dim"),
            Text(f"{h.items_stored:,}", justify="right", end=""),
            Text(f"{unread:,}", justify="right", end="", style="bold" if unread else "dim"),
            Text(next_poll_words(h, now), end=""),
            Text(safe_text(detail), no_wrap=True, overflow="ellipsis", end="",
                 style=color if failing else "dim"),
        ]

    def show(self, rows: list[FeedHealth], now: float,
             unread: dict[str, int] | None = None) -> None:
        """Update the table to ``rows`` (config order), keeping the cursor's feed; ``unread``:
        unread items per feed key (the recent window's)."""
        unread = unread or {}
        selected = self.selected_key
        colors = self.app.get_css_variables()  # once, not per row: it rebuilds every colour
        if [h.key for h in rows] != list(self.health):  # the feed list itself changed
            self.clear()
            self.health = {}
            for h in rows:
                self.add_row(*self._cells(h, now, colors, unread.get(h.key, 0)), key=h.key)
                self.health[h.key] = h
        else:
            for h in rows:
                cells = self._cells(h, now, colors, unread.get(h.key, 0))
                for (col, _, _), cell in zip(COLUMNS, cells):
                    self.update_cell(h.key, col, cell)
                self.health[h.key] = h
        if selected in self.health:
            self.move_cursor(row=self.get_row_index(selected), scroll=False)

    @property
    def selected_key(self) -> str | None:
        return cursor_row_key(self)

    @property
    def selected(self) -> FeedHealth | None:
        key = self.selected_key
        return self.health.get(key) if key else None

    def on_resize(self) -> None:
        used = sum(w + 2 for key, _, w in COLUMNS if key != "detail")
        fit_column(self, "detail", max(self.scrollable_content_region.width - used - 2, 20))

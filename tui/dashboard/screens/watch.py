"""Watch (w, or the command palette): the items that matched the ``[watch]`` terms, newest
first, with the terms they matched.

Alerts of this session (new items that matched as they were polled; each one was also a
toast and, with ``bell = true``, rang the bell) are marked ◉. Earlier matches are found
once, in a thread worker, by running the watch terms over the store's recent window.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from feeds.analysis.clusters import cluster_of
from feeds.model import Item
from feeds.text import safe_text
from storage.query import SORT_KEY
from tui.dashboard.messages import WatchScanRequested
from tui.dashboard.screens.listed import SelectedItemActions
from tui.dashboard.services import DashboardServices
from tui.render import short_time
from tui.dashboard.widgets.cursor import cursor_row_key, fit_column
from tui.dashboard.widgets.header import DashboardHeader
from tui.dashboard.widgets.item_detail import ItemDetail
from tui.dashboard.widgets.item_table import FixedCell

if TYPE_CHECKING:
    from feeds.analysis.watch import WatchHit

COLUMNS = (("mark", 2), ("time", 9), ("terms", 18), ("source", 13), ("title", 40))


class WatchTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", show_header=False, cell_padding=0, **kwargs)
        self.hits: dict[str, WatchHit] = {}
        self.alerts: frozenset[str] = frozenset()

    def on_mount(self) -> None:
        for key, width in COLUMNS:
            self.add_column("", width=width, key=key)

    def show(self, hits: Iterable["WatchHit"], alerts: Iterable[str], now: float) -> None:
        """Show ``hits`` newest first (``alerts``: the ids that alerted this session),
        keeping the cursor on its item."""
        keep = self.selected_id
        ordered = sorted(hits, key=lambda h: SORT_KEY(h.item), reverse=True)
        self.alerts = frozenset(alerts)
        self.clear()
        self.hits = {}
        warn = self.app.get_css_variables().get("text-warning", "")  # once, not per row
        for hit in ordered:
            self.hits[hit.item.id] = hit
            self.add_row(*self._cells(hit, now, warn), key=hit.item.id)
        if keep in self.hits:
            self.move_cursor(row=self.get_row_index(keep), scroll=False)

    def _cells(self, hit: "WatchHit", now: float, warn: str) -> list[FixedCell]:
        item = hit.item
        alert = item.id in self.alerts
        return [
            FixedCell("◉ " if alert else "  ", style=f"bold {warn}".strip(), end=""),
            FixedCell(short_time(item.published, now).ljust(9), end=""),
            FixedCell(safe_text(", ".join(hit.terms), 17).ljust(18), style=warn, no_wrap=True,
                      end=""),
            FixedCell(safe_text(item.source, 12).ljust(13), style="dim", no_wrap=True, end=""),
            FixedCell(safe_text(item.title) or "(no title)", no_wrap=True, overflow="ellipsis",
                      style="bold" if alert else "", end=""),
        ]

    @property
    def selected_id(self) -> str | None:
        return cursor_row_key(self)

    @property
    def selected_item(self) -> Item | None:
        iid = self.selected_id
        return self.hits[iid].item if iid in self.hits else None

    def on_resize(self) -> None:
        used = sum(w for key, w in COLUMNS if key != "title")
        fit_column(self, "title", max(self.scrollable_content_region.width - used, 10))


class WatchScreen(SelectedItemActions, Screen):
    BINDINGS = [
        Binding("escape,w", "app.pop_screen", "Back"),
        Binding("o", "open_link", "Open link"),
        Binding("y", "copy_link", "Copy link", show=False),  # what `o` offers with no browser
        Binding("r", "app.refresh", "Poll due"),
    ]

    def __init__(self, services: DashboardServices) -> None:
        super().__init__(id="watch-screen")
        self.services = services

    def compose(self) -> ComposeResult:
        yield DashboardHeader(self.services, id="watch-header")
        yield Static(id="watch-title")
        yield WatchTable(id="watch-table")
        yield ItemDetail(compact=True, id="watch-detail")
        yield Footer()

    def on_mount(self) -> None:
        s = self.services
        s.watchlist.changed.subscribe(self, self._watch_changed)
        s.stories.changed.subscribe(self, self._stories_changed)
        s.watchlist.seen()
        s.sync_header(self._header)
        self.refresh_hits()
        if s.watchlist.begin_scan(s.config.watch):
            self.post_message(WatchScanRequested())  # earlier matches, found by the App
        self.query_one(WatchTable).focus()

    @property
    def _header(self) -> DashboardHeader:
        return self.query_one(DashboardHeader)

    def _watch_changed(self, _: object) -> None:
        self.services.watchlist.seen()
        self.services.sync_header(self._header)
        self.refresh_hits()

    def _stories_changed(self, clusters: set[str] | None) -> None:
        item = self.selected_item
        if item is not None and (clusters is None or cluster_of(item) in clusters):
            self.show_selected_detail()

    def refresh_hits(self) -> None:
        watch = self.services.watchlist
        table = self.query_one(WatchTable)
        table.show(watch.rows(), watch.alerts, self.services.clock())
        self.query_one("#watch-title", Static).update(self._title(len(table.hits)))
        self._show_selected()

    def _title(self, shown: int) -> Content:
        config, watch = self.services.config, self.services.watchlist
        names = [name for name, _ in config.watch.terms]
        if not names:
            return Content.assemble(
                (" Watch", "bold"), ("  no watch terms: add them under [watch] terms in ", "$text-muted"),
                (safe_text(str(config.path)), "bold"))
        parts: list[Content | str | tuple[str, str]] = [
            (" Watch", "bold"), ("  terms ", "$text-muted"),
            Content(", ").join(Content.styled(safe_text(n), "$text-warning") for n in names),
            ("  ·  ", "$text-muted"), (f"◉ {len(watch.alerts)}", "bold $text-warning"),
            (" this session", "$text-muted"), ("  ·  ", "$text-muted"), f"{shown} shown"]
        if watch.scanning:
            parts.append(("  · searching the recent items…", "$text-muted italic"))
        return Content.assemble(*parts)

    @on(DataTable.RowHighlighted)
    def _show_selected(self) -> None:
        self.show_selected_detail()

    @property
    def listing(self) -> WatchTable:
        return self.query_one(WatchTable)

    @on(DataTable.RowSelected)
    def _open_item(self) -> None:
        self.open_selected()

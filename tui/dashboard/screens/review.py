"""Review (v, or the command palette): the items of the recent window whose labels the rules
are least sure of, nearest a threshold first, to set by hand with l.

A label's score near its threshold, on either side, is where the rules are most often wrong
(``feeds.classify.doubt``). The items are ranked in a thread worker when the screen opens and
on R, by the scores stored with them (the current rules': the dashboard re-classifies at start
when they change); items already labelled by hand are left out. An item set here stays in the
list, marked ✎ with its new labels, so that the desk sees what it has done; R ranks again
(new items polled since, and without those set). 1, 2, 3 keep the doubts about one label
(pressed again: every label).
"""
from __future__ import annotations

from typing import Iterable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, get_current_worker

from feeds.classify.doubt import Doubt, label_thresholds, least_sure
from feeds.model import Item
from feeds.text import safe_text
from tui.dashboard.screens.labels import CORRECTED_MARK, edit_labels
from tui.dashboard.screens.listed import SelectedItemActions
from tui.dashboard.services import DashboardServices
from tui.dashboard.widgets.cursor import cursor_row_key, fit_column
from tui.dashboard.widgets.header import DashboardHeader
from tui.dashboard.widgets.item_detail import ItemDetail
from tui.dashboard.widgets.item_table import FixedCell
from tui.dashboard.workers import failure_text
from tui.render import OTHER, label_var

REVIEW_ROWS = 100  # the list's length: a desk's sitting, and a table that stays light
COLUMNS = (("mark", 2), ("nearest", 19), ("labels", 25), ("source", 13), ("title", 40))


class ReviewTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", show_header=False, cell_padding=0, **kwargs)
        self.items: dict[str, tuple[Doubt, Item]] = {}
        # Set by hand on this screen: marked while listed (ranked again, they are not).
        self.set_here: set[str] = set()

    def on_mount(self) -> None:
        for key, width in COLUMNS:
            self.add_column("", width=width, key=key)

    def show(self, found: Iterable[tuple[Doubt, Item]]) -> None:
        """Show ``found`` in its order, keeping the cursor on its item."""
        keep = cursor_row_key(self)
        self.clear()
        self.items = {}
        colours = self.app.get_css_variables()  # once, not per row (~0.4 ms a call)
        for near, item in found:
            self.items[item.id] = (near, item)
            self.add_row(*self._cells(near, item, colours), key=item.id)
        if keep in self.items:
            self.move_cursor(row=self.get_row_index(keep), scroll=False)

    def restyle(self) -> None:
        """The theme changed: the same rows in its colours."""
        self.show(list(self.items.values()))

    def set_labels(self, item: Item) -> None:
        """``item`` as now stored, its labels set by hand: marked, kept in its place."""
        if item.id not in self.items:
            return
        near, _ = self.items[item.id]
        self.items[item.id] = (near, item)
        self.set_here.add(item.id)
        cells = self._cells(near, item, self.app.get_css_variables())
        for key, cell in zip((k for k, _ in COLUMNS), cells):
            self.update_cell(item.id, key, cell)

    def _cells(self, near: Doubt, item: Item, colours: dict[str, str]) -> list[FixedCell]:
        # Text styles need colours, not $variables.
        done = item.id in self.set_here
        labels = FixedCell(end="", no_wrap=True, overflow="ellipsis")
        for n, label in enumerate(item.labels or (OTHER,)):
            labels.append(", " if n else "")
            labels.append(label, style=colours.get(label_var(label), ""))
        return [
            FixedCell(f"{CORRECTED_MARK} " if done else "  ", style="bold", end=""),
            FixedCell(near.words.ljust(19), style=colours.get(label_var(near.label), ""),
                      no_wrap=True, end=""),
            labels,
            FixedCell(safe_text(item.source, 12).ljust(13), style="dim", no_wrap=True, end=""),
            FixedCell(safe_text(item.title) or "(no title)", no_wrap=True, overflow="ellipsis",
                      style="dim" if done else "", end=""),
        ]

    @property
    def selected_item(self) -> Item | None:
        iid = cursor_row_key(self)
        return self.items[iid][1] if iid in self.items else None

    def on_resize(self) -> None:
        used = sum(w for key, w in COLUMNS if key != "title")
        fit_column(self, "title", max(self.scrollable_content_region.width - used, 10))


class ReviewScreen(SelectedItemActions, Screen):
    BINDINGS = [
        Binding("escape,v", "app.pop_screen", "Back"),
        Binding("l", "set_labels", "Labels"),
        Binding("R", "rank", "Rank again"),
        Binding("1", "about('talks')", "Talks only", show=False),
        Binding("2", "about('sanctions')", "Sanctions only", show=False),
        Binding("3", "about('statements')", "Statements only", show=False),
        Binding("o", "open_link", "Open link"),
        Binding("y", "copy_link", "Copy link", show=False),
    ]

    class Ranked(Message):
        """(from the worker) the items to review, and of how many (not set by hand, a score
        above 0)."""

        def __init__(self, found: list[tuple[Doubt, Item]], weighed: int) -> None:
            super().__init__()
            self.found = found
            self.weighed = weighed

    def __init__(self, services: DashboardServices) -> None:
        super().__init__(id="review-screen")
        self.services = services
        self.ranked: "ReviewScreen.Ranked | None" = None
        self.failed: str | None = None
        self.about: str | None = None  # only the doubts about this label

    def compose(self) -> ComposeResult:
        yield DashboardHeader(self.services, id="review-header")
        yield Static(id="review-title")
        yield ReviewTable(id="review-table")
        yield ItemDetail(compact=True, id="review-detail")
        yield Footer()

    def on_mount(self) -> None:
        s = self.services
        s.labels.changed.subscribe(self, self._labels_changed)
        self.app.theme_changed_signal.subscribe(self, lambda _: self.listing.restyle())
        self.listing.focus()
        self.action_rank()

    def action_rank(self) -> None:
        """Rank the recent window (again): what was set by hand since drops out."""
        self.ranked, self.failed = None, None
        self.services.sync_header(self.query_one(DashboardHeader))
        self._show_title()
        self._rank(dict(self.services.labels.corrected), self.about)

    def action_about(self, label: str) -> None:
        """Only the doubts about ``label`` (its score near its threshold); again: every label."""
        self.about = None if self.about == label else label
        self.action_rank()

    @work(thread=True, group="review", exclusive=True, exit_on_error=False, name="rank doubts")
    def _rank(self, settled: dict[str, str], about: str | None) -> None:
        worker = get_current_worker()
        thresholds = label_thresholds(self.services.config.rules, about)
        open_items = [it for it in self.services.store.recent() if it.id not in settled]
        weighed = sum(1 for it in open_items
                      if any(it.scores.get(label, 0.0) > 0 for label in thresholds))
        found = least_sure(((it, it.scores) for it in open_items), thresholds, REVIEW_ROWS)
        if not worker.is_cancelled:
            self.post_message(self.Ranked(found, weighed))

    @on(Ranked)
    def _ranked(self, message: Ranked) -> None:
        self.ranked = message
        self.listing.show(message.found)
        self._show_title()
        self._show_selected()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # (a screen's worker: the App's handler of failed workers does not hear of it)
        text = failure_text(event.worker)
        if text is not None:
            self.failed = text
            self._show_title()
            self.notify(text, title="Something went wrong", severity="error", timeout=10)

    def _labels_changed(self, item: Item) -> None:
        self.listing.set_labels(item)
        self._show_title()
        self._show_selected()

    def _show_title(self) -> None:
        parts: list[Content | str | tuple[str, str]] = [(" Review", "bold")]
        if self.failed is not None:
            parts.append(("  could not rank the items (R tries again)", "$text-error"))
        elif self.ranked is None:
            parts.append(("  ranking the recent items…", "$text-muted italic"))
        elif not self.ranked.found:
            label = "a label's" if self.about is None else f"a {self.about}"
            parts.append((f"  nothing to review: no item not yet set by hand has {label} score "
                          "above 0", "$text-muted"))
        else:
            done = len(self.listing.set_here)
            hint = ("l sets an item's labels" if self.services.backend.can_write
                    else "read-only here: labels cannot be set")
            what = ("the labels the rules are least sure of" if self.about is None
                    else f"the rules' doubts about {self.about}")
            parts += [(f"  {what}, nearest a threshold first  ·  ", "$text-muted"),
                      (f"{len(self.ranked.found)} of {self.ranked.weighed:,}", "bold"),
                      ("  ·  ", "$text-muted"), (f"{CORRECTED_MARK} {done}", "bold"),
                      (f" set here  ·  {hint}", "$text-muted")]
        self.query_one("#review-title", Static).update(Content.assemble(*parts))

    @on(DataTable.RowHighlighted)
    def _show_selected(self) -> None:
        self.show_selected_detail()

    @property
    def listing(self) -> ReviewTable:
        return self.query_one(ReviewTable)

    @on(DataTable.RowSelected)
    def _open_item(self) -> None:
        self.open_selected()

    def action_set_labels(self) -> None:
        if (item := self._selected_or_say()) is not None:
            edit_labels(self.app, self.services, item)

"""Trends (T, or the command palette): items per label per day over the last 14 or 30 days
(d toggles), each label's total, its last week against the week before and a sparkline; the
actors named most, with theirs; and the counts per day in a table.

The numbers come from ``feeds.analysis.trends.compute_trends`` in a thread worker (label counts from
the store's manifest, actor counts from one query over the window); the screen follows
polls like feed health does.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Sparkline, Static
from textual.worker import get_current_worker

from feeds.model import NO_LABEL
from feeds.text import safe_text
from feeds.analysis.trends import change
from tui.render import PANE_TITLES, PANES, label_style, store_label
from tui.dashboard.services import DashboardServices
from tui.dashboard.widgets.header import DashboardHeader

if TYPE_CHECKING:
    from feeds.analysis.trends import Trends

SPANS = (14, 30)
TOP_ACTORS = 10
DAY_COLUMNS = (("talks", "Talks"), ("sanctions", "Sanct"), ("statements", "Stmts"),
               (NO_LABEL, "Other"))
NAME_WIDTH = 15


def change_words(last: int, prev: int) -> tuple[str, str]:
    """The last week against the week before, in words and a style."""
    if prev == 0:
        return ("new", "$text-success") if last else ("-", "$text-muted")
    pct = round((last - prev) / prev * 100)
    if pct == 0:
        return "±0%", "$text-muted"
    return f"{pct:+d}%", "$text-success" if pct > 0 else "$text-error"


def trend_line(name: str, total: int, last: int, prev: int, style: str) -> Content:
    """One row's words: name, total in the window, and the last 7 days against the 7 before."""
    words, change_style = change_words(last, prev)
    return Content.assemble((f"{safe_text(name, NAME_WIDTH - 1):<{NAME_WIDTH}}", style),
                            (f"{total:>7,}", "bold"), (f"{last:>6,}", ""),
                            (f"{words:>9}", change_style), " ")


class TrendRow(Horizontal):
    """Words and a sparkline of items per day (oldest left)."""

    def __init__(self, words: Content, daily: tuple[int, ...], *, kind: str) -> None:
        super().__init__(classes=f"trend-row -{kind}")
        self._words = words
        self._daily = list(daily)

    def compose(self) -> ComposeResult:
        yield Static(self._words, classes="trend-words")
        spark = Sparkline(self._daily, classes="trend-spark")
        spark.styles.max_width = max(len(self._daily), 1)  # a bar per day, never stretched
        yield spark


class TrendsScreen(Screen):
    BINDINGS = [
        Binding("escape,T", "app.pop_screen", "Back"),
        Binding("d", "toggle_days", "14/30 days"),
        Binding("r", "app.refresh", "Poll due"),
    ]

    days: reactive[int] = reactive(SPANS[0], init=False)

    class Loaded(Message):
        def __init__(self, trends: "Trends", days: int) -> None:
            super().__init__()
            self.trends, self.days = trends, days

    def __init__(self, services: DashboardServices, days: int = SPANS[0]) -> None:
        super().__init__(id="trends-screen")
        self.services = services
        self.set_reactive(TrendsScreen.days, days)
        self.trends: Trends | None = None
        self._pending_refresh: Any = None

    def compose(self) -> ComposeResult:
        yield DashboardHeader(self.services, id="trends-header")
        yield Static(self._title(), id="trends-title")
        with Horizontal(id="trends-body"):
            with VerticalScroll(id="trends-left"):
                yield Static(self._columns("Items per label"), classes="trend-heading")
                yield Vertical(id="trend-labels")
                yield Static(self._columns("Top actors"), classes="trend-heading")
                yield Vertical(id="trend-actors")
            yield DataTable(id="trend-days", cursor_type="row", zebra_stripes=True,
                            cell_padding=0)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#trend-days", DataTable)
        table.add_column(Text(" Day"), width=7, key="day")
        for key, name in DAY_COLUMNS:
            table.add_column(Text(name, justify="right"), width=6, key=key)
        self.services.feeds_changed.subscribe(self, self._feeds_changed)
        self.load()
        table.focus()

    # --- loading -------------------------------------------------------------------------

    def load(self) -> None:
        self._compute(self.days, self.services.clock())

    @work(thread=True, group="trends", exclusive=True, exit_on_error=False, name="trends")
    def _compute(self, days: int, now: float) -> None:
        from feeds.analysis.trends import compute_trends

        trends = compute_trends(self.services.store, days, now, top=TOP_ACTORS)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(trends, days))

    def _feeds_changed(self, _: object) -> None:
        # A poll lands feed by feed: count again once, when it has ended.
        if self.services.poll.polling:
            return
        if self._pending_refresh is None:
            self._pending_refresh = self.set_timer(0.3, self._refresh_after_poll)

    def _refresh_after_poll(self) -> None:
        self._pending_refresh = None
        self.services.sync_header(self.query_one(DashboardHeader))
        self.load()

    def watch_days(self) -> None:
        self.query_one("#trends-title", Static).update(self._title())
        self.load()

    def action_toggle_days(self) -> None:
        self.days = SPANS[(SPANS.index(self.days) + 1) % len(SPANS)] if self.days in SPANS \
            else SPANS[0]

    # --- showing -------------------------------------------------------------------------

    def _title(self) -> Content:
        parts: list[Content | str | tuple[str, str]] = [
            (" Trends", "bold"), f"  items per day (UTC), last {self.days} days"]
        if self.trends is not None and self.trends.days:
            first, last = self.trends.days[0], self.trends.days[-1]
            parts += [("  ·  ", "$text-muted"), f"{_day(first, '%d %b')} to {_day(last, '%d %b %Y')}",
                      ("  ·  ", "$text-muted"), (f"{self.trends.items:,} items", "bold")]
        parts.append(("   d: 14 / 30 days", "$text-muted"))
        return Content.assemble(*parts)

    @staticmethod
    def _columns(heading: str) -> Content:
        return Content.assemble((heading, "bold underline"),
                                " " * max(NAME_WIDTH - len(heading), 1),
                                (f"{'total':>7}{'7d':>6}{'vs prev':>9}", "$text-muted"))

    @on(Loaded)
    async def _loaded(self, message: Loaded) -> None:
        if message.days != self.days:
            return  # the span changed while counting
        tr = self.trends = message.trends
        self.query_one("#trends-title", Static).update(self._title())
        span = 7
        rows = []
        for pane in PANES:
            label = store_label(pane)
            last, prev = tr.change(label, span)
            rows.append(TrendRow(trend_line(PANE_TITLES[pane], tr.total(label), last, prev,
                                            label_style(pane, "bold")),
                                 tr.labels.get(label, ()), kind=pane))
        labels = self.query_one("#trend-labels", Vertical)
        await labels.remove_children()
        await labels.mount_all(rows)

        actors = self.query_one("#trend-actors", Vertical)
        await actors.remove_children()
        if tr.actors:
            await actors.mount_all(
                TrendRow(trend_line(a.name, a.total, *change(a.daily, span),
                                    "bold $text-primary"), a.daily, kind="actor")
                for a in tr.actors)
        else:
            await actors.mount(Static(Content.styled("No actor named in this window.",
                                                     "$text-muted"), classes="trend-empty"))

        table = self.query_one("#trend-days", DataTable)
        table.clear()
        columns = [tr.labels.get(key, ()) for key, _ in DAY_COLUMNS]
        for i in range(len(tr.days) - 1, -1, -1):  # today first
            cells = [Text(" " + _day(tr.days[i], "%b %d"))]
            for counts in columns:
                n = counts[i] if i < len(counts) else 0
                cells.append(Text(f"{n:,}" if n else "·", justify="right",
                                  style="" if n else "dim"))
            table.add_row(*cells, key=tr.days[i])


def _day(iso_day: str, fmt: str) -> str:
    try:
        return date.fromisoformat(iso_day).strftime(fmt)
    except ValueError:
        return iso_day

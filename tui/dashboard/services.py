"""What the screens use of the dashboard, handed to them when they are built: the shared
state (plain classes in state/) with its signals, and the few actions that belong to the
whole app. Screens never import the App (an import-linter contract); the App implements
this protocol. What a screen asks of the App without waiting for it (poll now, enable a
feed, scan for watch matches) it posts as an intent message (messages.py).

Screens subscribe to the signals in ``on_mount``: ``feeds_changed`` (a feed polled, a poll
ended, the config edited, the store reloaded), ``headers_changed`` (counts, last poll,
alerts or mode: call ``sync_header``), ``marks.changed``, ``labels.changed`` (labels set by
hand), ``stories.changed`` and ``watchlist.changed``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    from textual.signal import Signal

    from feeds.config.load import Config
    from feeds.model import Item
    from tui.dashboard.backend import Backend
    from tui.dashboard.state.labels import Labels
    from tui.dashboard.state.marks import Marks
    from tui.dashboard.state.poll import PollController
    from tui.dashboard.state.stories import Stories
    from tui.dashboard.state.unread import UnreadCounts
    from tui.dashboard.state.watch import Watchlist
    from tui.dashboard.widgets.header import DashboardHeader
    from tui.dashboard.widgets.item_detail import DetailView


class DashboardServices(Protocol):
    clock: Callable[[], float]
    backend: "Backend"
    browser_tab: str | None  # in a browser tab: files are downloaded, never written here
    poll: "PollController"  # polling, the headers' counts, the status line between polls
    marks: "Marks"
    unread: "UnreadCounts"  # unread per label and feed (recent window), its ``changed`` signal
    labels: "Labels"  # labels set by hand (l)
    stories: "Stories"
    watchlist: "Watchlist"
    feeds_changed: "Signal[object]"
    headers_changed: "Signal[object]"

    @property
    def config(self) -> "Config":
        """The config in use (it changes when a feed is enabled or disabled)."""

    @property
    def store(self) -> Any: ...

    def sync_header(self, header: "DashboardHeader") -> None:
        """Fill a screen's header: counts, last poll, time, unseen alerts, mode."""

    def detail_view(self, item: "Item") -> "DetailView": ...

    def open_item(self, item: "Item", step: "Callable[[int], Item | None] | None" = None) -> None:
        """The item on its own screen (marked read); ``step(n)`` moves the list it was opened
        from n rows and returns the item there (by default: the main screen's active pane)."""

    def deliver_text(self, text: Any, *, save_filename: str | None = None,
                     open_method: Any = "download", mime_type: str | None = None) -> Any:
        """(Textual's App.deliver_text) A file for the user: a download in a browser."""

    def window_loaded(self) -> None:
        """The recent window is on screen: stories, sparklines and the first poll follow."""

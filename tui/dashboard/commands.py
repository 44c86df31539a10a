"""The command palette's entries (ctrl+p), each with its key: the app's, and those of the
screen shown (the main screen, an item's screen)."""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Iterable

from textual.app import SystemCommand

from tui.render import PANE_TITLES, PANES

if TYPE_CHECKING:
    from textual.screen import Screen

    from tui.dashboard.screens.dashboard import DashboardScreen
    from tui.dashboard.screens.item import ItemScreen

SET_LABELS = ("Set labels by hand",
              "Correct the selected item's labels; the rules never undo it (l)")


def app_commands(refresh: Callable[[], Any], show: Callable[[str], Any]
                 ) -> Iterable[SystemCommand]:
    """``show(name)`` shows one of the app's screens (feeds, trends, watch, review, help)."""
    yield SystemCommand("Refresh: poll now", "Poll the due feeds now (r)", refresh)
    yield SystemCommand("Feed health", "Every feed with its status; enable, disable, poll one (f)",
                        partial(show, "feeds"))
    yield SystemCommand("Trends", "Items per label per day, 14 or 30 days, and the top actors (T)",
                        partial(show, "trends"))
    yield SystemCommand("Watch alerts", "The items that matched the [watch] terms (w)",
                        partial(show, "watch"))
    yield SystemCommand("Review labels", "The items whose labels the rules are least sure of, "
                        "to set by hand first (v)", partial(show, "review"))
    yield SystemCommand("Help: keys", "The keys and screens (?)", partial(show, "help"))


def dashboard_commands(d: "DashboardScreen") -> Iterable[SystemCommand]:
    yield SystemCommand("Filter by words", "Filter every pane; searches the whole store (/)",
                        d.action_filter)
    yield SystemCommand("Filter by feed or tag", "Only one feed, or the feeds with a tag (t)",
                        d.action_scope)
    yield SystemCommand("Filter by actor", "Only items naming an actor; aliases work (a)",
                        d.action_actor)
    yield SystemCommand("Stories: one row per story / per item",
                        "Group the panes by story, with how many feeds carry each (c)",
                        d.action_toggle_stories)
    yield SystemCommand("Save view as briefing",
                        "The current view as a Markdown or HTML briefing (b)",
                        d.action_briefing)
    yield SystemCommand("Unread only", "Toggle showing only unread items (u)",
                        d.action_unread_only)
    yield SystemCommand("Starred only", "Toggle showing only starred items (S)",
                        d.action_starred_only)
    yield SystemCommand("Clear filters", "Show everything again (esc)", d.clear_filters)
    yield SystemCommand("Load more", "Page older items into the active pane (L)",
                        d.action_load_more)
    yield SystemCommand("Open link", "Open the selected item's link in the browser (o)",
                        d.action_open_link)
    yield SystemCommand("Copy link", "Copy the selected item's link (y)", d.action_copy_link)
    yield SystemCommand("Mark read / unread", "Toggle read on the selected item (m)",
                        d.action_toggle_read)
    yield SystemCommand("Star / unstar", "Toggle the star on the selected item (s)",
                        d.action_toggle_star)
    yield SystemCommand(*SET_LABELS, d.action_set_labels)
    yield from unread_commands(d)
    for n, pane in enumerate(PANES, 1):
        yield SystemCommand(f"Go to {PANE_TITLES[pane]}", f"Focus the {PANE_TITLES[pane]} "
                            f"pane ({n})", lambda p=pane: d.action_show_pane(p))


def unread_commands(d: "DashboardScreen") -> Iterable[SystemCommand]:
    yield SystemCommand("Mark everything shown read",
                        "Every unread item of every pane under the current filter (ctrl+a)",
                        d.action_mark_shown_read)
    yield SystemCommand("Mark pane read",
                        "Every unread item of the active pane under the current filter (A)",
                        d.action_mark_pane_read)
    yield SystemCommand("Undo mark all read", "Mark unread again what the last one marked (U)",
                        d.action_undo_marks)
    yield SystemCommand("Next unread", "The next unread item, across panes (n; N: previous)",
                        partial(d.action_next_unread, 1))


def item_commands(screen: "ItemScreen") -> Iterable[SystemCommand]:
    yield SystemCommand(*SET_LABELS, screen.action_set_labels)
    yield SystemCommand("Next item", "The pane's next item (j or n)",
                        partial(screen.action_step, 1))
    yield SystemCommand("Previous item", "The pane's previous item (k or p)",
                        partial(screen.action_step, -1))


def screen_commands(screen: "Screen") -> Iterable[SystemCommand]:
    """The commands of the screen shown, if it has any."""
    from tui.dashboard.screens.dashboard import DashboardScreen
    from tui.dashboard.screens.item import ItemScreen

    if isinstance(screen, DashboardScreen):
        yield from dashboard_commands(screen)
    elif isinstance(screen, ItemScreen):
        yield from item_commands(screen)

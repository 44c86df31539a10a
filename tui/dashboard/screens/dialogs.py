"""The dialogs the main screen opens: the feed/tag scope, the actor, the briefing to save.
Imported when one is first opened (none of them is needed for the first paint)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from tui.dashboard.screens.actor import ActorChoice, ActorScreen
from tui.dashboard.screens.briefing import BRIEFING_LIMIT, BriefingRequest, BriefingScreen
from tui.dashboard.screens.scope import Scope, ScopeScreen


def choose_scope(screen: Any) -> None:
    """Filter every pane to a feed or a tag (screen: the DashboardScreen)."""
    def chosen(scope: Scope | None) -> None:
        if scope is not None:
            screen.set_filter(replace(screen.view_filter, feeds=scope.feeds,
                                      scope_name=scope.name))

    # Items per feed come from the store's manifest: in memory, no file is read.
    counts = screen.services.store.items_per_feed()
    screen.app.push_screen(ScopeScreen(screen.services.config, screen.view_filter.feeds, counts),
                           chosen)


def choose_actor(screen: Any) -> None:
    """Filter every pane to the items naming one actor (a name or any alias)."""
    actors = screen.services.config.actors
    if actors is None or not getattr(actors, "actors", ()):
        screen.notify("No actors: the [actors] gazetteer is empty.", severity="warning",
                      timeout=4, markup=False)
        return

    def chosen(choice: ActorChoice | None) -> None:
        if choice is not None:
            screen.set_filter(replace(screen.view_filter, actor=choice.actor))

    screen.app.push_screen(ActorScreen(actors, screen.view_filter.actor), chosen)


def ask_briefing(screen: Any) -> None:
    """Save the current view (every pane, the current filter) as a briefing."""
    view = screen.view_filter

    def chosen(request: BriefingRequest | None) -> None:
        if request is not None:
            screen.set_status("writing the briefing…", busy=True)
            screen.write_briefing(request, view)

    dialog = BriefingScreen(screen.services.clock(), view.describe(), BRIEFING_LIMIT,
                            download=screen.services.browser_tab is not None)
    screen.app.push_screen(dialog, chosen)


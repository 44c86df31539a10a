"""The screens the app's keys open, each imported when first shown: none of them is needed
for the first paint (their modules and widgets cost ~30 ms to import)."""
from __future__ import annotations

from typing import Any, Callable

from textual.screen import Screen


def keyed_screen(name: str, services: Any) -> Screen:
    """The screen of ``name`` ("feeds", "help", "trends", "watch"); KeyError for another."""
    return _FACTORIES[name](services)


def item_screen(item: Any, services: Any, step: Callable[[int], Any]) -> Screen:
    """The item's full view; ``step`` moves the main screen's selection."""
    from tui.dashboard.screens.item import ItemScreen

    return ItemScreen(item, services, step=step)


def _feeds(services: Any) -> Screen:
    from tui.dashboard.screens.feeds import FeedHealthScreen

    return FeedHealthScreen(services)


def _help(_services: Any) -> Screen:
    from tui.dashboard.screens.help import HelpScreen

    return HelpScreen()


def _trends(services: Any) -> Screen:
    from tui.dashboard.screens.trends import TrendsScreen

    return TrendsScreen(services)


def _watch(services: Any) -> Screen:
    from tui.dashboard.screens.watch import WatchScreen

    return WatchScreen(services)


_FACTORIES: dict[str, Callable[[Any], Screen]] = {
    "feeds": _feeds, "help": _help, "trends": _trends, "watch": _watch}

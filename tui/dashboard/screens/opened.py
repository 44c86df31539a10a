"""The screens the app's keys open, each imported when first shown: none of them is needed
for the first paint (their modules and widgets cost ~30 ms to import)."""
from __future__ import annotations

from importlib import import_module
from typing import Any, Callable

from textual.screen import Screen

# key → (module under tui.dashboard.screens, class, whether it takes the app's services)
_SCREENS = {"feeds": ("feeds", "FeedHealthScreen", True), "help": ("help", "HelpScreen", False),
            "trends": ("trends", "TrendsScreen", True), "watch": ("watch", "WatchScreen", True),
            "review": ("review", "ReviewScreen", True)}


def _screen_class(module: str, name: str) -> Any:
    return getattr(import_module(f"tui.dashboard.screens.{module}"), name)


def keyed_screen(name: str, services: Any) -> Screen:
    """The screen of ``name`` ("feeds", "help", "trends", "watch", "review"); KeyError for
    another."""
    module, cls, with_services = _SCREENS[name]
    screen = _screen_class(module, cls)
    return screen(services) if with_services else screen()


def item_screen(item: Any, services: Any, step: Callable[[int], Any]) -> Screen:
    """The item's full view; ``step`` moves the main screen's selection."""
    return _screen_class("item", "ItemScreen")(item, services, step=step)

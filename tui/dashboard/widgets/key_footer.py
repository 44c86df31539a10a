"""Textual's Footer, composed again only when the keys it shows change.

A screen posts a bindings update on every focus change, and the Footer rebuilds all its keys
each time (~20 widgets, each styled as it mounts): three times before the dashboard's first
paint, ~20 ms each, for the same keys."""
from __future__ import annotations

from typing import Any, Hashable

from textual.screen import Screen
from textual.widgets import Footer


def shown_keys(screen: Screen) -> tuple[Hashable, ...]:
    """What the footer shows for ``screen``: each shown binding with its state."""
    return tuple((binding.key, binding.action, binding.description, binding.group, enabled,
                  tooltip)
                 for _node, binding, enabled, tooltip in screen.active_bindings.values()
                 if binding.show or binding.key == screen.app.COMMAND_PALETTE_BINDING)


class KeyFooter(Footer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._composed_for: tuple[Hashable, ...] | None = None

    def bindings_changed(self, screen: Screen) -> None:
        keys = shown_keys(screen)
        if keys == self._composed_for:
            return
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._composed_for = keys  # (Footer recomposes only then)
        super().bindings_changed(screen)

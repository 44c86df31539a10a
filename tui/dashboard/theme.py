"""The theme the user picks (the command palette's "Change theme") is kept: written to
``[ui] theme`` of their config, which the next start reads (tui.cli.launch).

Only a change made while the dashboard runs is written: the theme it started with (from the
config or ``--theme``) is not. A browser tab of ``serve`` never writes: the config belongs to
whoever runs the server, not to a visitor."""
from __future__ import annotations

from functools import partial
from typing import Any, Callable

from textual.app import App

from feeds.config.load import Config, ConfigError
from feeds.text import safe_text


def keep_theme(app: App, config: Callable[[], Config]) -> None:
    """Subscribe to the app's theme changes (call once the start theme is set)."""
    last = [app.theme]

    def changed(theme: Any) -> None:
        name = getattr(theme, "name", str(theme))
        if name == last[0]:  # the start theme, seen late, or the same one picked again
            return
        last[0] = name
        app.run_worker(partial(_save, app, config(), name), thread=True, group="theme",
                       exclusive=True, exit_on_error=False)

    app.theme_changed_signal.subscribe(app, changed)


def _save(app: App, config: Config, name: str) -> None:
    """(a worker thread) Write the theme; a failure is a toast, never fatal."""
    from feeds.config.edit import set_theme

    try:
        edit = set_theme(config, name)
    except (ConfigError, OSError) as e:
        app.call_from_thread(app.notify, f"The theme was not saved: {safe_text(str(e), 300)}",
                             severity="warning", timeout=8, markup=False)
        return
    if edit.created:
        app.call_from_thread(app.notify, f"Theme saved: created your config {edit.path} from "
                             "the bundled default; it is used from now on.",
                             timeout=8, markup=False)

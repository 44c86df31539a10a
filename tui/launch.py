"""Starting the dashboard from the command line.

Everything that can fail for a reason the user must fix (bad config, corrupt store, unknown
theme) fails here, as a UserError, before the terminal switches to the dashboard. A store
locked by another diplowatch is opened read-only instead: the dashboard says so and neither
polls nor marks.
"""
from __future__ import annotations

from typing import Any

from tui.context import AppContext, StoreLocked, UserError


def build_app(obj: AppContext, *, offline: bool, theme: str | None,
              parse_pool: Any = None, transport: Any = None) -> Any:
    """The configured ``DiplowatchApp``, not yet running. ``parse_pool`` and ``transport`` are
    passed to the poller (tests share one pool; nothing else needs them)."""
    from tui.app import DiplowatchApp

    config = obj.config  # a bad config stops here, with its message
    readonly_reason = None
    try:
        store = obj.open_store(readonly=False)
    except StoreLocked as locked:
        store = obj.open_store(readonly=True)
        holder = locked.holder
        who = f"pid {holder['pid']}" if holder.get("pid") is not None else "another process"
        readonly_reason = (f"read-only: diplowatch ({who}) is writing this store; "
                           "no polling, no marks here")
    poller = None
    if not offline and not store.readonly:
        from feeds.poller import Poller

        poller = Poller(config, store, clock=obj.clock, parse_pool=parse_pool, transport=transport)
    theme_name = theme or config.ui.theme
    app = DiplowatchApp(config, store, poller=poller, clock=obj.clock, theme=theme_name,
                        readonly_reason=readonly_reason, offline=offline)
    if theme_name not in app.available_themes:
        if poller is not None:
            poller.close()
        names = ", ".join(sorted(app.available_themes))
        source = "--theme" if theme else f"[ui] theme in {config.path}"
        raise UserError(f"{source}: unknown theme {theme_name!r}; available: {names}")
    return app


def run_dashboard(obj: AppContext, *, offline: bool, theme: str | None) -> int:
    """Open the dashboard; returns the exit status."""
    app = build_app(obj, offline=offline, theme=theme)
    if app.poller is not None:
        # Start the parse workers while the terminal is still ours (Textual replaces
        # sys.stderr inside app.run()) and so that the first poll does not wait for them.
        app.poller.pool.warm_up()
    try:
        app.run()
    finally:
        if app.poller is not None:
            app.poller.close()
    return app.return_code or 0

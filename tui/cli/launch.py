"""Starting the dashboard from the command line.

Everything that can fail for a reason the user must fix (bad config, corrupt store, unknown
theme) fails here, as a UserError, before the terminal switches to the dashboard.

Which dashboard: the store's writer lock is free → this dashboard polls and writes (as
always); the lock is held by ``diplowatch daemon`` (its control socket answers) → a viewer:
the store is opened read-only and a :class:`feeds.service.viewer.DaemonBackend` follows the daemon's
saves live; the lock is held by anything else (another dashboard, ``poll --once``) →
read-only, following the writer's saves every few seconds. ``--viewer`` (what ``serve`` runs
per browser tab) never takes the lock: a viewer of the daemon, else a read-only review.
"""
from __future__ import annotations

import os
import select
import sys
from typing import Any, Callable

from feeds.service.control import tab_mode
from tui.cli.context import AppContext, StoreLocked, StoreUnwritable, UserError


def _readonly_reason(store: Any, backend: Any, *, viewer: bool) -> str:
    if backend is not None:
        who = f"pid {backend.pid}" if backend.pid is not None else "running"
        return (f"viewer: the diplowatch daemon ({who}) polls and saves this store; "
                "following it live")
    from storage.lock import lock_holder

    holder = lock_holder(store.path)
    if holder is None and viewer:
        return ("read-only review: no diplowatch daemon runs for this store "
                "(start `diplowatch daemon` to poll)")
    holder = holder or {}
    who = f"pid {holder['pid']}" if holder.get("pid") is not None else "another process"
    return f"read-only: diplowatch ({who}) is writing this store; no polling, no marks here"


def build_app(obj: AppContext, *, offline: bool, theme: str | None,
              parse_pool: Any = None, transport: Any = None, viewer: bool = False) -> Any:
    """The configured ``DiplowatchApp``, not yet running. ``parse_pool`` and ``transport`` are
    passed to the poller (tests share one pool; nothing else needs them). ``viewer``: never
    open the store as its writer.

    Its backend (tui.dashboard.backend) says who writes the store: this dashboard (a
    LocalBackend, with a Poller unless ``offline``), the daemon (a DaemonViewerBackend,
    following it from now on and closed with ``obj``; it reloads the store after each of the
    daemon's saves and posts ``StoreChanged`` to the app), or another process (read-only)."""
    from tui.dashboard.app import DiplowatchApp
    from tui.dashboard.backend import (Backend, DaemonViewerBackend, LocalBackend, ReadOnlyBackend,
                                       ReadOnlyTab)

    config = obj.config  # a bad config stops here, with its message
    tab = tab_mode()  # a browser tab of `serve` never writes the store, --viewer or not
    viewer = viewer or tab is not None
    # The first frame needs only the current week's newest rows, read from its file (a lean
    # open decodes no week); the app brings the recent window into memory right after it
    # (DashboardScreen._load_deferred).
    if viewer:
        store = obj.open_store(readonly=True, defer_older=True, lean=True)
    else:
        try:
            store = obj.open_store(readonly=False, defer_older=True, lean=True)
        except StoreLocked:
            store = obj.open_store(readonly=True, defer_older=True, lean=True)
        except StoreUnwritable as e:  # a read-only mount, a full disk: say so and stop
            raise UserError(f"{e} To review it, `diplowatch --viewer` opens it read-only.") from None
    daemon = None
    if store.readonly:
        from feeds.service.viewer import DaemonBackend

        daemon = DaemonBackend.connect(store)
        reason = _readonly_reason(store, daemon, viewer=viewer)
        backend: Backend = DaemonViewerBackend(store, daemon, reason) if daemon is not None \
            else ReadOnlyBackend(store, reason)
    else:
        poller = None
        if not offline:
            from feeds.poll.poller import Poller

            poller = Poller(config, store, clock=obj.clock, parse_pool=parse_pool,
                            transport=transport)
        backend = LocalBackend(store, poller)
    theme_name = theme or config.ui.theme
    if tab == "readonly":
        backend = ReadOnlyTab(backend)
    app = DiplowatchApp(config, backend, clock=obj.clock, theme=theme_name, browser_tab=tab)
    if theme_name not in app.available_themes:
        if backend.poller is not None:
            backend.poller.close()
        names = ", ".join(sorted(app.available_themes))
        source = "--theme" if theme else f"[ui] theme in {config.path}"
        raise UserError(f"{source}: unknown theme {theme_name!r}; available: {names}")
    if daemon is not None:
        _follow(app, backend)
        obj.on_close(backend.close)
    app.dashboard.preload()  # the first frame's rows, read before the terminal switches
    return app


def _follow(app: Any, backend: Any) -> None:
    """Connect the backend's thread to the app: messages only (thread-safe)."""

    def post(message: Any) -> None:
        if app.is_running:
            app.post_message(message)

    backend.follow(post)


def hung_up(stream: Any) -> Callable[[], bool] | None:
    """For a terminal on ``stream``, a check that it has hung up (``poll`` reports POLLHUP on
    it once its window or tmux pane is gone); None when ``stream`` is no terminal."""
    try:
        fd = stream.fileno()
        if not os.isatty(fd):
            return None
    except (AttributeError, OSError, ValueError):
        return None
    watch = select.poll()
    watch.register(fd, select.POLLIN)
    gone = select.POLLHUP | select.POLLERR | select.POLLNVAL

    def check() -> bool:
        return any(events & gone for _, events in watch.poll(0))

    return check


def run_dashboard(obj: AppContext, *, offline: bool, theme: str | None,
                  viewer: bool = False) -> int:
    """Open the dashboard; returns the exit status."""
    app = build_app(obj, offline=offline, theme=theme, viewer=viewer)
    poller = app.backend.poller
    if poller is not None:
        # Start the parse workers while the terminal is still ours
        # (Textual replaces sys.stderr inside app.run()) and so that the first poll does not
        # wait for them.
        poller.warm_up()
    terminal_gone = hung_up(sys.__stdin__)
    if terminal_gone is not None and app.browser_tab is None:
        app.leave_when(terminal_gone)
    try:
        app.run()
    finally:
        if poller is not None:
            poller.close()
    return app.return_code or 0

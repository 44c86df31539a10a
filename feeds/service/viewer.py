"""A viewer dashboard's link to the daemon: the seam between the App and the service.

When ``diplowatch daemon`` owns a store, a dashboard opens the store read-only and is handed a
:class:`DaemonBackend`:

- its actions (read/star, labels set by hand, poll now, enable a feed) go to the daemon over
  the control socket (blocking calls with short timeouts: call them from a worker thread);
- a thread follows the daemon's events: after each save it reloads the store (only files
  whose stat changed) and calls ``on_change`` (the App posts a message and reloads its panes);
- if the daemon goes away the viewer stays usable read-only (``on_connection(False)``), keeps
  reloading every few seconds, and reconnects when a daemon answers again
  (``on_connection(True)``, followed by a reload).

No Textual here: callbacks are plain callables invoked on the backend's thread, so they must
only post messages (``App.post_message`` and ``App.notify`` are thread-safe).
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Callable

from feeds.config.load import Config, load_config
from feeds.service.control import ControlClient, ControlError, DaemonUnavailable

log = logging.getLogger("diplowatch.viewer")

RETRY = 1.0  # seconds between attempts to reach a daemon that went away
PROBE_TIMEOUT = 1.0  # the launcher's "is a daemon answering?" question


class DaemonBackend:
    """Reads from the (read-only) ``store``; sends writes to the daemon. See the module doc."""

    def __init__(self, store: Any, client: ControlClient, *, status: dict[str, Any] | None = None,
                 retry: float = RETRY) -> None:
        self.store = store
        self.client = client
        self.daemon: dict[str, Any] = dict(status or {})  # the last status answer
        self.retry = retry
        self.connected = status is not None
        self._on_change: Callable[[], None] | None = None
        self._on_event: Callable[[dict[str, Any]], None] | None = None
        self._on_connection: Callable[[bool], None] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._subscription: Any = None
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, store: Any, *, timeout: float = PROBE_TIMEOUT) -> "DaemonBackend | None":
        """A backend if a daemon answers ``status`` for this store, else None."""
        client = ControlClient(store.path)
        try:
            status = client.status(timeout=timeout)
        except ControlError:
            return None
        return cls(store, client, status=status)

    @property
    def pid(self) -> int | None:
        pid = self.daemon.get("pid")
        return pid if isinstance(pid, int) else None

    # --- following the daemon ---------------------------------------------------------------

    def start(self, *, on_change: Callable[[], None],
              on_event: Callable[[dict[str, Any]], None] | None = None,
              on_connection: Callable[[bool], None] | None = None) -> None:
        """Start following: ``on_change()`` after the store was reloaded with new data;
        ``on_event(event)`` for every daemon event (poll-started, poll-finished, config…);
        ``on_connection(connected)`` when the daemon goes away or comes back."""
        if self._thread is not None:
            return
        self._on_change, self._on_event, self._on_connection = on_change, on_event, on_connection
        self._thread = threading.Thread(target=self._follow, name="diplowatch-viewer",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop following (the store stays open; its owner closes it)."""
        self._stop.set()
        with self._lock:
            subscription = self._subscription
        if subscription is not None:
            subscription.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                subscription = self.client.subscribe()
            except ControlError:
                self._set_connected(False)
                self._reload()  # whoever writes meanwhile (nobody, or a new writer)
                self._stop.wait(self.retry)
                continue
            with self._lock:
                if self._stop.is_set():
                    subscription.close()
                    return
                self._subscription = subscription
            self._set_connected(True)
            self._reload()  # catch up on what was saved while we were away
            try:
                for event in subscription:
                    if event.get("event") == "changed":
                        self._reload()
                    if self._on_event is not None:
                        self._call(self._on_event, event)
                    if event.get("event") == "bye":
                        break
            finally:
                with self._lock:
                    self._subscription = None
                subscription.close()
            if not self._stop.is_set():
                self._set_connected(False)
                self._reload()  # the daemon's last save

    def _set_connected(self, connected: bool) -> None:
        if connected:
            try:
                self.daemon = self.client.status()
            except ControlError:
                pass
        if connected != self.connected:
            self.connected = connected
            log.info("daemon %s", "connected" if connected else "gone: read-only until it is back")
            if self._on_connection is not None:
                self._call(self._on_connection, connected)

    def _reload(self) -> None:
        try:
            changed = self.store.reload()
        except Exception as e:  # noqa: BLE001 - a half-written store is retried next time
            log.warning("viewer: could not reload the store: %s", e)
            return
        if changed and self._on_change is not None:
            self._call(self._on_change)

    @staticmethod
    def _call(callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 - a UI callback must not end the follower
            log.exception("viewer callback failed")

    # --- actions (blocking: call from a worker thread) --------------------------------------

    def mark(self, item_ids: list[str] | tuple[str, ...], *, read: bool | None = None,
             starred: bool | None = None) -> int:
        """Mark items through the daemon; saved when this returns (the viewer sees it with
        the next reload). ControlError (DaemonUnavailable) with a message for the user."""
        return self.client.mark(item_ids, read=read, starred=starred)

    def set_labels(self, item_id: str, labels: list[str] | tuple[str, ...]
                   ) -> tuple[tuple[str, ...], str]:
        """Set an item's labels by hand through the daemon; saved when this returns: (the
        labels as stored, in the order of LABELS; when, UTC ISO). ControlError with a
        message for the user."""
        answer = self.client.set_labels(item_id, labels)
        return tuple(answer.get("labels") or ()), str(answer.get("at") or "")

    def poll_now(self, feeds: list[str] | tuple[str, ...] | None = None, *,
                 force: bool = True) -> None:
        """Ask the daemon to poll (these feeds, by key or name); progress arrives as events."""
        self.client.poll_now(feeds, force=force)

    def set_enabled(self, feed: str, enabled: bool) -> tuple[Config, bool]:
        """Enable/disable a feed in the daemon's config; returns the config as edited (for the
        viewer to show) and whether the user's config file was just created from the bundled
        one."""
        answer = self.client.set_enabled(feed, enabled)
        return load_config(Path(answer["config"])), bool(answer.get("created"))


__all__ = ["DaemonBackend", "ControlError", "DaemonUnavailable"]

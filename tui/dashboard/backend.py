"""Who owns the store, as one object: what the dashboard may do (poll, mark, edit feeds) and
how it says so.

- :class:`LocalBackend`: this dashboard is the store's writer; it polls with its Poller
  (none when started with ``--offline``: a review of the store, marks still saved).
- :class:`ReadOnlyBackend`: another process writes the store; no polling, no marks, and the
  App reloads the store every few seconds to follow the writer's saves.
- :class:`DaemonViewerBackend`: ``diplowatch daemon`` writes the store; marks, labels, "poll
  now" and feed edits are sent to it while it answers (read-only while it is away).

The blocking methods (``mark``, ``set_labels``, ``edit_feed``, ``ask_poll``, ``flush``,
``reload``) are called from thread workers only.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from storage.corrections import Correction, corrected

if TYPE_CHECKING:
    from feeds.config.load import Config
    from feeds.model import Item
    from textual.message import Message

OFFLINE_IDLE = "offline: reviewing the store, no polling"
READONLY_DEFAULT = "the store is open read-only: no polling, no marks"


class FeedEditError(Exception):
    """An edit of the feed list that did not happen, in words for the user."""


class Backend(Protocol):
    store: Any
    poller: Any  # a feeds.poll.poller.Poller, or None: no request is ever made from here
    reason: str | None  # why this dashboard cannot poll or write, in words

    @property
    def mode(self) -> str:
        """The header's mode badge: "", "offline", "read-only" or "viewer"."""

    @property
    def writable(self) -> bool:
        """The store is open for writing here (re-classification, feed state resets)."""

    @property
    def can_write(self) -> bool:
        """Marks and feed edits are possible (through the daemon for a viewer)."""

    @property
    def asks_daemon(self) -> bool:
        """Polls are asked of the daemon, which answers."""

    @property
    def follows_writer(self) -> bool:
        """The App reloads the store on a timer to see another writer's saves."""

    def startup_status(self) -> tuple[str, bool, bool]:
        """The status line while the store opens: (text, busy, problem)."""

    def idle_status(self, summary: str, next_poll: str | None) -> tuple[str, bool]:
        """The status line between polls, from the last cycle in words: (text, problem)."""

    def poll_refusal(self) -> str:
        """Why "poll now" does nothing here."""

    def mark(self, item_id: str, read: bool | None, starred: bool | None) -> bool:
        """Save a mark; True when the store must be flushed after it."""

    def mark_many(self, item_ids: list[str], read: bool | None, starred: bool | None) -> bool:
        """Save one mark on many items (mark all read, its undo); True when the store must
        be flushed after it."""

    def set_labels(self, item: "Item", labels: tuple[str, ...]) -> tuple["Item", str]:
        """Set the item's labels by hand, saved: (the item as now stored, when: UTC ISO)."""

    def edit_feed(self, config: "Config", name: str, enabled: bool) -> tuple["Config", str]:
        """Enable or disable a feed: the config as edited and what happened, in words.
        Raises FeedEditError."""

    def ask_poll(self, only: list[str] | None, force: bool) -> None:
        """Ask the daemon to poll (viewers only)."""

    def flush(self) -> None: ...

    def reload(self) -> bool:
        """Read what the writer saved; True if anything changed."""

    def follow(self, post: Callable[["Message"], None]) -> None:
        """Start following the writer, posting StoreChanged/DaemonEvent/DaemonConnection."""

    def close(self) -> None: ...


class _StoreBackend:
    """What the three have in common: the store, read locally."""

    poller: Any = None
    reason: str | None = None

    def __init__(self, store: Any) -> None:
        self.store = store

    @property
    def writable(self) -> bool:
        return False

    @property
    def asks_daemon(self) -> bool:
        return False

    @property
    def follows_writer(self) -> bool:
        return False

    def poll_refusal(self) -> str:
        return self.reason or "polling is off"

    def mark(self, item_id: str, read: bool | None, starred: bool | None) -> bool:
        if not self.store.mark(item_id, read=read, starred=starred):
            raise LookupError("the item is no longer in the store")
        return True

    def mark_many(self, item_ids: list[str], read: bool | None, starred: bool | None) -> bool:
        self.store.mark_many(item_ids, read=read, starred=starred)
        return True

    def set_labels(self, item: "Item", labels: tuple[str, ...]) -> tuple["Item", str]:
        new = self.store.set_labels(item.id, labels)
        if new is None:
            raise LookupError("the item is no longer in the store")
        self.store.flush()  # rare and deliberate: saved at once, not with the next poll
        fix = self.store.correction(item.id)
        return new, fix.at if fix is not None else ""

    def edit_feed(self, config: "Config", name: str, enabled: bool) -> tuple["Config", str]:
        from feeds.config.edit import enable_feed  # (tomlkit: not before the first frame)
        from feeds.config.load import ConfigError

        store = self.store if self.writable else None
        try:
            edit = enable_feed(config, name, enabled, store)
        except (ConfigError, KeyError, OSError) as e:
            raise FeedEditError(f"Could not edit the config: {e}") from None
        if store is not None:
            store.flush()  # a re-enabled feed's state was reset: save it
        note = f" (created your config {edit.path} from the bundled one)" if edit.created else ""
        return edit.config, f"{_verb(enabled)} {name} in {edit.path}{note}"

    def ask_poll(self, only: list[str] | None, force: bool) -> None:
        raise RuntimeError("no daemon to ask")

    def flush(self) -> None:
        self.store.flush()

    def reload(self) -> bool:
        return bool(self.store.reload())

    def follow(self, post: Callable[["Message"], None]) -> None:
        return None

    def close(self) -> None:
        return None


class LocalBackend(_StoreBackend):
    """This dashboard writes the store, and polls unless ``poller`` is None (offline)."""

    def __init__(self, store: Any, poller: Any = None) -> None:
        super().__init__(store)
        self.poller = poller
        self.reason = None if poller is not None else \
            "offline: started with --offline, polling is off"

    @property
    def mode(self) -> str:
        return "" if self.poller is not None else "offline"

    @property
    def writable(self) -> bool:
        return True

    @property
    def can_write(self) -> bool:
        return True

    def startup_status(self) -> tuple[str, bool, bool]:
        if self.poller is None:
            return OFFLINE_IDLE, False, False
        return "opening the store…", True, False

    def idle_status(self, summary: str, next_poll: str | None) -> tuple[str, bool]:
        if self.poller is None:
            return OFFLINE_IDLE, False
        parts = [summary] if summary else []
        if next_poll is not None:
            parts.append(f"next poll in {next_poll}")
        parts.append("r polls now")
        return " · ".join(parts), False


class ReadOnlyBackend(_StoreBackend):
    """Another process writes the store: review it, follow its saves."""

    def __init__(self, store: Any, reason: str | None = None) -> None:
        super().__init__(store)
        self.reason = reason or READONLY_DEFAULT

    @property
    def mode(self) -> str:
        return "read-only"

    @property
    def can_write(self) -> bool:
        return False

    @property
    def follows_writer(self) -> bool:
        return True

    def startup_status(self) -> tuple[str, bool, bool]:
        return self.reason or "", False, True

    def idle_status(self, summary: str, next_poll: str | None) -> tuple[str, bool]:
        return self.reason or "read-only", True


class DaemonViewerBackend(_StoreBackend):
    """``daemon`` (a feeds.service.viewer.DaemonBackend) writes the store and takes this
    dashboard's marks, labels, polls and feed edits while it answers."""

    def __init__(self, store: Any, daemon: Any, reason: str | None = None) -> None:
        super().__init__(store)
        self.daemon = daemon
        self.reason = reason

    @property
    def connected(self) -> bool:
        return bool(self.daemon.connected)

    @property
    def mode(self) -> str:
        return "viewer" if self.connected else "read-only"

    @property
    def can_write(self) -> bool:
        return self.connected

    @property
    def asks_daemon(self) -> bool:
        return self.connected

    def startup_status(self) -> tuple[str, bool, bool]:
        if self.connected:
            return self.reason or "viewer", False, False
        return self.reason or "", False, True

    def idle_status(self, summary: str, next_poll: str | None) -> tuple[str, bool]:
        if not self.connected:
            return self.reason or "read-only", True
        return " · ".join(filter(None, [summary, self.reason, "r asks the daemon to poll"])), False

    def mark(self, item_id: str, read: bool | None, starred: bool | None) -> bool:
        self.daemon.mark([item_id], read=read, starred=starred)
        return False  # the daemon saved it before it answered

    def mark_many(self, item_ids: list[str], read: bool | None, starred: bool | None) -> bool:
        from feeds.service.control import MAX_IDS

        # The daemon takes a bounded number of ids per request: a backlog goes in pages,
        # each saved before the next is sent.
        for start in range(0, len(item_ids), MAX_IDS):
            self.daemon.mark(item_ids[start:start + MAX_IDS], read=read, starred=starred)
        return False

    def set_labels(self, item: "Item", labels: tuple[str, ...]) -> tuple["Item", str]:
        # The daemon saved it before it answered; the item as the next reload will read it.
        fix = Correction(*self.daemon.set_labels(item.id, labels))
        return corrected(item, fix), fix.at

    def edit_feed(self, config: "Config", name: str, enabled: bool) -> tuple["Config", str]:
        try:
            edited, created = self.daemon.set_enabled(name, enabled)
        except Exception as e:  # noqa: BLE001 - ControlError in words
            raise FeedEditError(f"The daemon did not {_verb(enabled)[:-1]} {name}: {e}") from None
        note = " (created from the bundled one)" if created else ""
        return edited, f"{_verb(enabled)} {name} in {edited.path}{note}"

    def ask_poll(self, only: list[str] | None, force: bool) -> None:
        self.daemon.poll_now(only, force=force)

    def follow(self, post: Callable[["Message"], None]) -> None:
        from tui.dashboard.messages import DaemonConnection, DaemonEvent, StoreChanged

        self.daemon.start(on_change=lambda: post(StoreChanged()),
                          on_event=lambda event: post(DaemonEvent(event)),
                          on_connection=lambda connected: post(DaemonConnection(connected)))

    def close(self) -> None:
        self.daemon.close()


def daemon_config(path: str | None, current: "Config") -> tuple["Config", str]:
    """(viewers) The config the daemon says it changed: (config, "") for FeedEdited."""
    from feeds.config.load import ConfigError, load_config

    try:
        return load_config(Path(path) if path else current.path), ""
    except ConfigError as e:
        raise FeedEditError(f"The daemon's config is invalid: {e}") from None


def _verb(enabled: bool) -> str:
    return "enabled" if enabled else "disabled"


READONLY_TAB = ("read-only browser tab: no marks, labels, polls or feed changes here "
                "(the owner can start `serve --allow-writes`)")


class ReadOnlyTab:
    """A browser tab of ``serve`` without ``--allow-writes``: the store as ``inner`` shows it
    (following the daemon live), but no mark, poll or feed edit leaves this tab. The daemon
    refuses them from such a tab too; this is what the visitor sees."""

    poller: Any = None
    reason: str | None = READONLY_TAB

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.store = inner.store

    mode = property(lambda self: "read-only tab")
    writable = property(lambda self: False)
    can_write = property(lambda self: False)
    asks_daemon = property(lambda self: False)
    follows_writer = property(lambda self: self.inner.follows_writer)

    def _status(self, summary: str = "") -> str:
        # Who writes the store (the daemon, followed live, or nobody), then what this tab is.
        return " · ".join(filter(None, [summary, self.inner.reason, "read-only tab"]))

    def startup_status(self) -> tuple[str, bool, bool]:
        return self._status(), False, False

    def idle_status(self, summary: str, next_poll: str | None) -> tuple[str, bool]:
        return self._status(summary), False

    def poll_refusal(self) -> str:
        return READONLY_TAB

    def mark(self, item_id: str, read: bool | None, starred: bool | None) -> bool:
        raise PermissionError(READONLY_TAB)

    def mark_many(self, item_ids: list[str], read: bool | None, starred: bool | None) -> bool:
        raise PermissionError(READONLY_TAB)

    def set_labels(self, item: "Item", labels: tuple[str, ...]) -> tuple["Item", str]:
        raise PermissionError(READONLY_TAB)

    def edit_feed(self, config: "Config", name: str, enabled: bool) -> tuple["Config", str]:
        raise FeedEditError(f"Not changed: {READONLY_TAB}")

    def ask_poll(self, only: list[str] | None, force: bool) -> None:
        raise PermissionError(READONLY_TAB)

    def flush(self) -> None:
        return None

    def reload(self) -> bool:
        return self.inner.reload()

    def follow(self, post: Callable[["Message"], None]) -> None:
        self.inner.follow(post)

    def close(self) -> None:
        self.inner.close()

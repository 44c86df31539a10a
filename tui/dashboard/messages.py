"""The dashboard's messages: what thread workers and the daemon's follower post to the UI
(threads never touch widgets), and the intents screens post up to the App."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

from feeds.model import Item
from storage.query import Flags

if TYPE_CHECKING:
    from feeds.analysis.clusters import ClusterDirectory
    from feeds.analysis.watch import WatchHit
    from feeds.config.load import Config

# --- the panes (DashboardScreen) -----------------------------------------------------------


class PanesLoaded(Message):
    weeks = 0  # re-classified weeks saved when the query began (the screen sets it)

    def __init__(self, generation: int, results: dict[str, tuple[list[Item], bool]],
                 flags: dict[str, Flags], counts: dict[str, int], last_poll: str | None,
                 initial: bool, corrected: dict[str, str] | None = None) -> None:
        super().__init__()
        self.generation, self.results, self.flags = generation, results, flags
        self.counts, self.last_poll, self.initial = counts, last_poll, initial
        self.corrected = corrected or {}  # item id → when its labels were set by hand


class DeferredLoaded(Message):
    def __init__(self, added: int, error: str | None) -> None:
        super().__init__()
        self.added, self.error = added, error


class MoreLoaded(Message):
    weeks = 0  # as PanesLoaded.weeks

    def __init__(self, generation: int, pane: str, items: list[Item], has_more: bool,
                 flags: dict[str, Flags]) -> None:
        super().__init__()
        self.generation, self.pane, self.items = generation, pane, items
        self.has_more, self.flags = has_more, flags


class Progress(Message):
    """Long store work (re-classification, archive search) in words for the status line."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class WeekReclassified(Message):
    """One more week re-classified and saved (newest first): ``changed`` are its items whose
    classification changed, except those labelled by hand; ``seq`` counts the weeks saved
    by every run so far; ``counts`` the store's counts per label now."""

    def __init__(self, seq: int, done: int, total: int, seen: int, changed: list[Item],
                 counts: dict[str, int]) -> None:
        super().__init__()
        self.seq, self.done, self.total, self.seen = seq, done, total, seen
        self.changed, self.counts = changed, counts


class Reclassified(Message):
    def __init__(self, changed: int | None, error: str | None = None) -> None:
        super().__init__()
        self.changed, self.error = changed, error


class SparklinesLoaded(Message):
    def __init__(self, labels: dict[str, tuple[int, ...]], day: int) -> None:
        super().__init__()
        self.labels, self.day = labels, day


class BriefingSaved(Message):
    """A briefing written to ``path``, or (``text`` set) composed for a browser download."""

    def __init__(self, path: Path, stories: int, items: int, limited: bool,
                 error: str | None = None, text: str | None = None) -> None:
        super().__init__()
        self.path, self.stories, self.items = path, stories, items
        self.limited, self.error, self.text = limited, error, text


# --- polling, marks, feeds (the App) -------------------------------------------------------


class PollStarted(Message):
    def __init__(self, due: int, what: str) -> None:
        super().__init__()
        self.due, self.what = due, what


class FeedPolled(Message):
    def __init__(self, outcome: Any, counts: dict[str, int]) -> None:
        super().__init__()
        self.outcome, self.counts = outcome, counts


class PollFinished(Message):
    def __init__(self, report: Any, error: str | None, counts: dict[str, int] | None,
                 next_due: float | None) -> None:
        super().__init__()
        self.report, self.error, self.counts, self.next_due = report, error, counts, next_due


class MarkFailed(Message):
    def __init__(self, item_id: str, previous: Flags, error: str) -> None:
        super().__init__()
        self.item_id, self.previous, self.error = item_id, previous, error


class LabelsSaved(Message):
    """Labels set by hand on ``before``: ``item`` as now stored (None: refused, ``error``
    says why), corrected ``at`` (UTC ISO)."""

    def __init__(self, before: Item, item: Item | None, at: str, error: str = "") -> None:
        super().__init__()
        self.before, self.item, self.at, self.error = before, item, at, error


class FeedEdited(Message):
    def __init__(self, config: Config | None, text: str, error: bool = False) -> None:
        super().__init__()
        self.config, self.text, self.error = config, text, error


class StoreChanged(Message):
    """A read-only viewer saw the writer save: reload the panes."""


class DaemonEvent(Message):
    """(viewers) What the daemon says: a poll started or finished, the config changed."""

    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__()
        self.event = event


class DaemonConnection(Message):
    """(viewers) The daemon went away, or is back."""

    def __init__(self, connected: bool) -> None:
        super().__init__()
        self.connected = connected


# --- stories and watch (the App's shared state) ---------------------------------------------


class ClustersBuilt(Message):
    def __init__(self, directory: "ClusterDirectory") -> None:
        super().__init__()
        self.directory = directory


class VersionsLoaded(Message):
    def __init__(self, cluster: str, items: tuple[Item, ...], size: int) -> None:
        super().__init__()
        self.cluster, self.items, self.size = cluster, items, size


class WatchScanned(Message):
    def __init__(self, hits: list["WatchHit"]) -> None:
        super().__init__()
        self.hits = hits


# --- intents: screens ask the App (these bubble up from the screen that posts them) ---------


class PollRequested(Message):
    """Poll now: the due feeds, or ``only`` these, ``force`` ignoring the schedule."""

    def __init__(self, *, force: bool = False, only: list[str] | None = None,
                 what: str = "") -> None:
        super().__init__()
        self.force, self.only, self.what = force, only, what


class FeedToggled(Message):
    """Enable or disable a feed in the user's config."""

    def __init__(self, key: str, enabled: bool) -> None:
        super().__init__()
        self.key, self.enabled = key, enabled


class WatchScanRequested(Message):
    """Look for earlier matches of the watch terms in the recent window (the watch screen
    was shown)."""

"""Watch alerts: each feed's ``watch_hits`` (new items only, so an item alerts once) become a
toast each (a few per cycle, then one summary), one bell per cycle when ``[watch] bell``, and
rows of the watch screen; earlier matches are found once by scanning the recent window.

``changed`` publishes the fresh hits (or None) for the watch screen; ``headers`` (the App's
signal) is told when the count of unseen alerts drops."""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from textual.dom import DOMNode
from textual.signal import Signal

from feeds.text import safe_text
from tui.dashboard.debounce import SetTimer

if TYPE_CHECKING:
    from feeds.analysis.watch import WatchHit

WATCH_TOASTS = 3  # watch alerts toasted one by one per poll cycle; the rest in one summary
WATCH_TOAST_GAP = 0.2  # seconds between those toasts
WATCH_KEEP = 1000  # this session's watch alerts kept for the watch screen
WATCH_SCAN_MAX = 500  # earlier matches the watch screen looks for in the recent window


class Watchlist:
    def __init__(self, owner: DOMNode, headers: Signal[object], *,
                 notify: Callable[..., Any], set_timer: SetTimer, bell: Callable[[], Any],
                 feed_name: Callable[[str], str | None]) -> None:
        self.alerts: dict[str, WatchHit] = {}  # this session's, item id → hit, in arrival order
        self.earlier: dict[str, WatchHit] | None = None  # matches found by the scan
        self.scanning = False
        self.unseen = 0
        self.changed: Signal[object] = Signal(owner, "watch-changed")
        self._headers = headers
        self._notify, self._set_timer, self._bell = notify, set_timer, bell
        self._feed_name = feed_name
        self._cycle_bell = False
        self._cycle_toasts = 0
        self._cycle_more = 0

    def new_cycle(self) -> None:
        self._cycle_bell = False
        self._cycle_toasts = self._cycle_more = 0

    def alert(self, hits: list["WatchHit"], *, bell: bool) -> None:
        """New items that matched the watch terms: a toast each (a few per cycle, then a
        summary at its end), the bell once per cycle, and the watch screen's rows."""
        fresh = [h for h in hits if h.item.id not in self.alerts]
        if not fresh:
            return
        for hit in fresh:
            self.alerts[hit.item.id] = hit
            if self._cycle_toasts < WATCH_TOASTS:
                # A few frames apart: mounting a toast costs the UI a few milliseconds.
                delay = WATCH_TOAST_GAP * self._cycle_toasts
                self._cycle_toasts += 1
                self._toast(hit, delay)
            else:
                self._cycle_more += 1
        while len(self.alerts) > WATCH_KEEP:
            del self.alerts[next(iter(self.alerts))]
        # The header's counter follows with the items' insert (a header update per feed
        # would cost a cold poll a relayout per feed).
        self.unseen += len(fresh)
        if bell and not self._cycle_bell:
            self._cycle_bell = True
            self._bell()
        self.changed.publish(fresh)

    def _toast(self, hit: "WatchHit", delay: float) -> None:
        source = self._feed_name(hit.item.feed) or hit.item.source
        toast = partial(self._notify, f"{safe_text(hit.item.title, 200) or '(no title)'}\n"
                        f"{safe_text(source, 60)}",
                        title=f"◉ Watch: {safe_text(', '.join(hit.terms), 80)}",
                        severity="warning", timeout=10)
        if delay:
            self._set_timer(delay, toast)
        else:
            toast()

    def summarise_cycle(self) -> None:
        """At a cycle's end: the alerts that got no toast of their own, in one."""
        if self._cycle_more:
            n, self._cycle_more = self._cycle_more, 0
            self._notify(f"and {n} more watch alert{'s' if n != 1 else ''} (w shows them all)",
                         title="Watch", severity="warning", timeout=10)

    def hit(self, item_id: str) -> "WatchHit | None":
        return self.alerts.get(item_id) or (self.earlier or {}).get(item_id)

    def rows(self) -> list["WatchHit"]:
        """What the watch screen lists: earlier matches and this session's alerts."""
        rows = dict(self.earlier or {})
        rows.update(self.alerts)
        return list(rows.values())

    def seen(self) -> None:
        """The alerts were seen: the count leaves the headers."""
        if self.unseen:
            self.unseen = 0
            self._headers.publish(None)

    # --- earlier matches -----------------------------------------------------------------

    def begin_scan(self, settings: Any) -> bool:
        """True if the recent window should be scanned now (once; again after a reload)."""
        if not settings.terms or self.earlier is not None or self.scanning:
            return False
        self.scanning = True
        return True

    @staticmethod
    def scan(store: Any, settings: Any, stop: Callable[[], bool]) -> list["WatchHit"] | None:
        """(worker thread) Earlier matches in the recent window; None if stopped."""
        from feeds.analysis.watch import WatchMatcher

        matcher = WatchMatcher(settings)
        hits = []
        for item in store.recent():
            if stop():
                return None
            hit = matcher.match(item)
            if hit is not None:
                hits.append(hit)
                if len(hits) >= WATCH_SCAN_MAX:
                    break
        return hits

    def scanned(self, hits: list["WatchHit"]) -> None:
        self.scanning = False
        self.earlier = {h.item.id: h for h in hits}
        self.changed.publish(None)

    def scan_failed(self) -> None:
        self.scanning = False
        self.changed.publish(None)

    def forget_earlier(self) -> None:
        """The store was reloaded: scanned again when the watch screen is next shown."""
        self.earlier = None

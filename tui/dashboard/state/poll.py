"""Polling as the dashboard runs it: one cycle at a time, in a thread worker
(``aio.run(poller.poll_cycle(on_feed=…))``, a message per feed as it lands). The next cycle
is scheduled when this one ends, for when the next feed is due, so cycles never overlap.
Requests made during a cycle are queued in a ``feeds.poll.queue.PollQueue``: they merge
(forced if either is, every feed if either asks for every feed), so ``r`` then ``p`` during a
cycle still gets the full refresh.

A viewer of the daemon asks the daemon instead; a read-only or offline dashboard says why it
does not poll. No widgets here: the App hands in callbacks for its timers, toasts, status
line and the worker that runs a cycle. The header's counts and last poll live here too.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any, Callable

from feeds.config.units import format_duration
from feeds.model import Item, utc_iso
from feeds.text import safe_text
from feeds.poll import aio
from feeds.poll.queue import SCHEDULE, PollQueue, PollRequest
from feeds.poll.schedule import seconds_until_due
from tui.dashboard.backend import Backend
from tui.dashboard.debounce import SetTimer, Timer
from tui.dashboard.messages import FeedPolled, PollFinished, PollStarted
from tui.render import PANE_TITLES, PANES, panes_of

MIN_POLL_DELAY = 2.0
STATUS_EVERY = 0.25  # seconds between redraws of the poll progress
QUIET = (SCHEDULE, "startup")  # requests the user did not make: no toast about them


class PollController:
    def __init__(self, backend: Backend, config: Callable[[], Any], clock: Callable[[], float],
                 *, auto_poll: bool, start_cycle: Callable[[PollRequest], Any],
                 ask_daemon: Callable[[list[str] | None, bool], Any], set_timer: SetTimer,
                 set_status: Callable[..., None], notify: Callable[..., Any]) -> None:
        """``start_cycle(request)`` runs :meth:`run_cycle` in the "poll" worker;
        ``ask_daemon(only, force)`` calls ``backend.ask_poll`` in a worker."""
        self.backend, self._config, self._clock = backend, config, clock
        self.auto_poll = auto_poll
        self._start_cycle, self._ask_daemon = start_cycle, ask_daemon
        self._set_timer, self._set_status, self._notify = set_timer, set_status, notify
        self.queue = PollQueue()  # asked for while a cycle runs: one merged cycle follows
        self.running = False
        self.closing = False
        self.counts: dict[str, int] = {}  # items per store label, for the headers
        self.last_poll: str | None = None
        self._timer: Timer | None = None  # the next scheduled cycle
        self._next_at: float | None = None
        self._handle: tuple[asyncio.AbstractEventLoop, asyncio.Task] | None = None
        self._progress = (0, 0, 0)  # feeds done, feeds due, new items
        self._status_text = ""
        self._status_timer: Timer | None = None
        self._cycle_new: Counter[str] = Counter()
        self._cycle_last: Item | None = None
        self._last_summary = ""  # the last poll cycle in words, kept in the status line
        self._last_failed = False
        self._notify_errors_seen: set[str] = set()

    @property
    def polling(self) -> bool:
        """A poll cycle is in flight (or queued behind the one in flight)."""
        return self.running or bool(self.queue)

    def note(self, counts: dict[str, int] | None, last_poll: str | None = None) -> None:
        """The store's counts per label, and a poll time if newer than the one known."""
        if counts is not None:
            self.counts = counts
        if last_poll and (self.last_poll is None or last_poll > self.last_poll):
            self.last_poll = last_poll

    # --- requests ----------------------------------------------------------------------

    def request(self, *, force: bool = False, only: list[str] | None = None,
                what: str = "") -> None:
        """Poll now (the due feeds, or ``only`` these, ``force`` ignoring the schedule).
        A cycle already running finishes first; this one follows it."""
        if self.backend.asks_daemon and what not in QUIET:
            self._set_status("asking the daemon to poll…", busy=True)
            self._ask_daemon(only, force)
            return
        if self.backend.poller is None:
            self._notify(self.backend.poll_refusal(), severity="warning", timeout=4)
            return
        if self.running:
            self.queue.put(force, only, what)
            if what not in QUIET:
                self._notify("A poll is running; another follows when it ends.", timeout=3)
            return
        self._start(PollRequest(force, None if only is None else frozenset(only), what))

    def _start(self, request: PollRequest) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.running = True
        self._cycle_new.clear()
        self._cycle_last = None
        self._progress = (0, 0, 0)
        self._set_status("polling…", busy=True)
        self._start_cycle(request)

    def run_cycle(self, request: PollRequest, post: Callable[[Any], None]) -> None:
        """(the poll worker's thread) One cycle, posting its progress."""
        poller, store = self.backend.poller, self.backend.store
        force, only = request.force, request.only
        due, _ = poller.due_feeds(self._clock(), force=force, only=only)
        post(PollStarted(len(due), request.what))

        def on_feed(outcome: Any) -> None:
            post(FeedPolled(outcome, store.counts_by_label()))

        async def cycle() -> Any:
            task = asyncio.current_task()
            assert task is not None
            self._handle = (asyncio.get_running_loop(), task)
            if self.closing:
                task.cancel()
            try:
                return await poller.poll_cycle(force=force, only=only, on_feed=on_feed)
            finally:
                self._handle = None

        try:
            report = aio.run(cycle())
        except BaseException as e:  # noqa: BLE001 - CancelledError at exit, or a bug
            error = "cancelled" if isinstance(e, asyncio.CancelledError) else \
                f"{e.__class__.__name__}: {e}"
            post(PollFinished(None, error, None, MIN_POLL_DELAY * 30))
            return
        next_due = seconds_until_due(self._config(), store.feed_states(), self._clock())
        post(PollFinished(report, None, store.counts_by_label(), next_due))

    def cancel(self) -> None:
        """The app is closing: a cycle in its thread would hold the exit until it ends."""
        self.closing = True
        handle = self._handle
        if handle is not None:
            loop, task = handle
            loop.call_soon_threadsafe(task.cancel)

    # --- progress ------------------------------------------------------------------------

    def started(self, due: int) -> None:
        self._progress = (0, due, 0)
        if due == 0:
            self._set_status("polling: no feed is due", busy=True)
        else:
            self._set_status(f"polling {due} feed{'s' if due != 1 else ''}…", busy=True)

    def feed_polled(self, outcome: Any, counts: dict[str, int]) -> None:
        done, due, new = self._progress
        new += len(outcome.new_items)
        self._progress = (done + 1, due, new)
        self.counts = counts
        # 200 feeds landing together: the status line is redrawn a few times a second.
        self._status_text = f"polling {done + 1}/{due} feeds · {new} new"
        if self._status_timer is None:
            self._status_timer = self._set_timer(STATUS_EVERY, self._show_progress)
        for item in outcome.news:  # a new feed's backlog is stored, not announced
            for pane in panes_of(item):
                self._cycle_new[pane] += 1
            self._cycle_last = item

    def _show_progress(self) -> None:
        self._status_timer = None
        if self.running:
            self._set_status(self._status_text, busy=True)

    def ended(self, report: Any, counts: dict[str, int] | None) -> None:
        """A cycle ended (``report`` None: it failed): the counts and poll time it leaves."""
        self.running = False
        if counts is not None:
            self.counts = counts
        if report is not None:
            self.last_poll = utc_iso(report.finished or self._clock())

    def finished(self, report: Any, error: str | None, next_due: float | None) -> None:
        """The cycle's end in words (a toast, the status line); then the queued request,
        or the next scheduled cycle."""
        if report is None:
            if error != "cancelled":
                self._notify(f"The poll failed: {safe_text(error, 300)}", severity="error")
        else:
            self._announce(report)
            if report.flush_error:
                text = (f"Could not save the new items: {safe_text(report.flush_error, 300)} "
                        "(kept in memory; retried after the next poll)")
                self._notify(text, severity="error", timeout=10)
        queued = self.queue.take()
        if queued is not None:
            self._start(queued)
            return
        self._schedule_next(next_due)
        if report is not None:
            failed, n = len(report.failed), len(report.outcomes)
            self._last_summary = (f"polled {n} feed{'s' if n != 1 else ''}: "
                                  f"{len(report.new_items)} new"
                                  + (f", {failed} failing (f: feed health)" if failed else ""))
            self._last_failed = bool(failed)
        self.show_idle()

    def _announce(self, report: Any) -> None:
        """One toast per cycle: new items per label (the title itself when only one); a
        new feed's backlog is not news."""
        total = len(report.news)
        if not total:
            return
        if total == 1 and self._cycle_last is not None:
            item = self._cycle_last
            where = ", ".join(PANE_TITLES[p] for p in panes_of(item))
            self._notify(safe_text(item.title, 200) or "(no title)",
                         title=f"New in {where}", timeout=6)
            return
        parts = [f"{self._cycle_new[p]} {PANE_TITLES[p].lower()}" for p in PANES
                 if self._cycle_new[p]]
        self._notify(" · ".join(parts), title=f"{total} new items", timeout=6)

    def _schedule_next(self, next_due: float | None) -> None:
        if self.backend.poller is None or not self.auto_poll or self.closing:
            return
        interval = self._config().polling.interval
        delay = interval if next_due is None else min(max(next_due, MIN_POLL_DELAY), interval)
        self._next_at = time.monotonic() + delay
        self._timer = self._set_timer(delay, self._scheduled)

    def _scheduled(self) -> None:
        self._timer = None
        self.request(what=SCHEDULE)

    def daemon_event(self, event: dict[str, Any]) -> None:
        """(viewers) The daemon's cycles in the status line, as if they were ours."""
        kind = event.get("event")
        if kind == "poll-started":
            self._set_status(f"the daemon polls {event.get('due', 0)} feeds…", busy=True)
        elif kind == "poll-finished":
            new, failed = event.get("new", 0), event.get("failed", 0)
            self._last_summary = (f"the daemon polled {event.get('feeds', 0)} feeds: {new} new"
                                  + (f", {failed} failing (f: feed health)" if failed else ""))
            self._last_failed = bool(failed)
            self.show_idle()

    # --- the status line between cycles --------------------------------------------------

    def show_idle(self) -> None:
        next_poll = None
        if self._timer is not None and self._next_at is not None:
            next_poll = format_duration(max(self._next_at - time.monotonic(), 0))
        text, problem = self.backend.idle_status(self._last_summary, next_poll)
        self._set_status(text, problem=problem or self._last_failed)

    def check_notifier(self) -> None:
        """Failures of the watch notify command (run by the poller) as one toast."""
        notifier = getattr(self.backend.poller, "notifier", None)
        if notifier is None:
            return
        new = [e for e in list(notifier.errors) if e not in self._notify_errors_seen]
        if not new:
            return
        self._notify_errors_seen.update(new)
        more = f" (and {len(new) - 1} more; see the log)" if len(new) > 1 else ""
        self._notify(f"{safe_text(new[-1], 300)}{more}",
                     title="Watch notify command", severity="error", timeout=10)

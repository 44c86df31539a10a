"""Re-classifying the stored items after a rules change, while the panes go on showing the
stored labels.

The main screen starts a run once the recent window is on screen (and again when an edited
config brings other rules): :meth:`Reclassification.run` in the screen's "reclassify" thread
worker, which only posts messages (and lets the story directory read the window first). The
store does the weeks newest first (what the analyst sees changes first), each saved atomically before the next, and records the rules'
fingerprint only at the end: an interrupted run is done again at the next start. After each week the worker posts
WeekReclassified with that week's changed items, and :meth:`apply` moves their rows between
the panes in place (keyed by item id, within each pane's cap) while the status line counts
the weeks. Labels set by hand are never undone: the store keeps them, and their items are
left out of the messages (also those corrected while the run goes on).

A load of the panes that began before a week was saved but is answered after that week's
rows were moved shows some old labels: :meth:`stale` says so, and the screen asks again.
"""
from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, Callable, Iterable, Mapping

from textual.dom import DOMNode
from textual.worker import get_current_worker

from feeds.model import Item
from feeds.text import safe_text
from tui.dashboard.messages import FeedEdited, Reclassified, WeekReclassified
from tui.dashboard.workers import Abort
from tui.render import panes_of, store_label


STORIES_FIRST = 100  # tenths of a second the run waits for the story directory's read


class Reclassification:
    """One re-classification at a time, and what the panes have been shown of it.
    ``services``: the screen's DashboardServices."""

    def __init__(self, owner: DOMNode, services: Any) -> None:
        self._owner, self._services = owner, services
        self.started = False  # a first run was started (the recent window is shown)
        self.running = False
        self.again = False  # asked for while a run went on: checked again after it
        self.written = 0  # (the worker) weeks saved by every run so far
        self.applied = 0  # the ``seq`` of the last week whose rows the panes show
        self.weeks_applied = 0  # weeks of this run shown so far
        self.text = ""  # the progress in words while a run goes on

    def start(self) -> None:
        """Re-classify the stored items in a worker if the rules changed since they were
        classified (a run going on: checked again after it)."""
        s = self._services
        if not s.backend.writable:
            return
        self.started = True
        if self.running:
            self.again = True
            return
        self.running, self.again, self.weeks_applied = True, False, 0
        self._owner.run_worker(partial(self.run, s.store, s.config), thread=True,
                               group="reclassify", exit_on_error=False, name="re-classify")

    def config_changed(self, what: object) -> None:
        """(feeds_changed) A config edited since the start may hold other rules."""
        if self.started and isinstance(what, FeedEdited) and what.config is not None:
            self.start()

    def run(self, store: Any, config: Any) -> None:
        """(in the worker thread) Re-classify the store if its rules (or gazetteer) changed,
        posting each week as it is saved, then Reclassified; Abort once the app closes."""
        from feeds.classify.reclassify import WeekDone, reclassify_if_needed

        worker, post, poll = get_current_worker(), self._owner.post_message, self._services.poll

        def stop() -> bool:
            return poll.closing or worker.is_cancelled

        def on_week(week: WeekDone) -> None:
            hand = store.corrections()
            changed = [it for it in week.changed if it.id not in hand]
            self.written += 1
            post(WeekReclassified(self.written, week.done, week.total, week.seen, changed,
                                  store.counts_by_label()))

        def progress(done: int, total: int) -> None:
            if stop():
                raise Abort()
            if not done and total:  # the start, in the status line
                post(WeekReclassified(self.written, 0, total, 0, [], store.counts_by_label()))

        # The story directory reads the window first: a week re-classified holds the store
        # for seconds (bounded: a build that never comes does not stop the run).
        for _ in range(STORIES_FIRST):
            if stop():
                raise Abort()
            if self._services.stories.window_read.wait(0.1):
                break
        try:
            changed = reclassify_if_needed(store, config.specs, progress, on_week=on_week)
        except Abort:
            raise
        except Exception as e:  # noqa: BLE001 - the weeks not done keep their labels; say so
            post(Reclassified(None, f"{e.__class__.__name__}: {e}"))
            return
        post(Reclassified(changed))

    async def apply(self, message: WeekReclassified, panes: Iterable[Any], view: Any) -> None:
        """A week saved: its rows move to their new panes (a filter admitting them), the
        panes' totals and the headers' counts follow."""
        s = self._services
        self.applied = message.seq
        self.weeks_applied += bool(message.done)
        self.text = (f"re-classifying: week {message.done} of {message.total}, "
                     f"{message.seen:,} items") if message.done else \
            f"re-classifying: {message.total} weeks, newest first"
        homes = [(it, panes_of(it)) for it in message.changed if not s.labels.is_corrected(it.id)]
        for pane in panes:
            name = pane.pane

            def admits(item: Item, name: str = name) -> bool:
                return not view.active or view.admits(item, s.marks.flags_of(item.id), name)

            incoming, updated, leaving = pane_changes(name, pane.table.items, homes, admits)
            if incoming or updated or leaving:
                await pane.reclassified(incoming, updated, leaving)
                await asyncio.sleep(0)  # one pane per turn of the event loop: input stays live
            pane.set_total(message.counts.get(store_label(name)))
        s.poll.note(message.counts)
        s.headers_changed.publish(None)
        s.unread.recount()

    def stale(self, weeks: int) -> bool:
        """Did a load that began when ``weeks`` weeks were saved miss rows moved since?"""
        return weeks < self.applied

    def status(self, text: str, busy: bool) -> tuple[str, bool]:
        """The status line's words (the poll's, a search's…) with the run's progress."""
        if not (self.running and self.text):
            return text, busy
        return (f"{self.text} · {text}" if text else self.text), True

    def finished(self, message: Reclassified) -> bool:
        """The run ended: says how in a toast, starts the next one if asked for meanwhile.
        True if labels changed."""
        self.running, self.text = False, ""
        if message.error:
            self._owner.notify(
                f"Re-classifying the stored items for the new rules failed: "
                f"{safe_text(message.error, 300)}. The weeks not done keep their old labels.",
                title="Rules", severity="error", timeout=10, markup=False)
        elif message.changed is not None:
            self._owner.notify(f"The rules changed: re-classified {message.changed:,} stored "
                               f"items.", title="Rules", timeout=6, markup=False)
        if self.again:
            self.start()
        return bool(message.changed)


def pane_changes(pane: str, shown: Mapping[str, Item],
                 homes: Iterable[tuple[Item, tuple[str, ...]]],
                 admits: Callable[[Item], bool]) -> tuple[list[Item], list[Item], list[str]]:
    """What re-classified items, each with the panes it now belongs in, do to one pane:
    (coming in, redrawn, ids leaving). A shown item stays while it keeps the pane's label;
    one comes in if the filter admits it."""
    incoming: list[Item] = []
    updated: list[Item] = []
    leaving: list[str] = []
    for item, home in homes:
        inside = pane in home
        if item.id in shown:
            if inside:
                updated.append(item)
            else:
                leaving.append(item.id)
        elif inside and admits(item):
            incoming.append(item)
    return incoming, updated, leaving

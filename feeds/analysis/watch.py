"""Watch terms: alert on new items that match, and run the user's notify command once each.

``[watch]`` in the config::

    [watch]
    terms = ["ceasefire|cease fire|truce", "zaporizhzhia ~3 nuclear"]  # or a table:
    # [watch.terms]
    # Ceasefire = "ceasefire|cease fire|truce"
    exclude = ["truce talks collapse*"]      # optional: a match overlapping one is dropped
    bell = true                              # the dashboard and `poll --once` ring the bell
    notify_command = ["notify-send", "diplowatch"]
    notify_timeout = "10s"

Terms are patterns of the rules language (phrases, ``*``, ``|``, near ``A ~N B``), matched by
the same compiled engine as the classification rules, on the headline and the first 1,000
characters of the summary. The poller matches only items that are new to the store, so an
item alerts once, however often it is polled again.

``notify_command`` is an argument list, run without a shell, once per matching item, with
the item as JSON on its standard input (the stored item's fields, with ``feed`` its feed's
name and ``feed_url`` its URL as in every JSON output, plus ``"watch_terms"``). Feed
text never reaches its command line. Commands run on background threads, a few at a time, so
a poll never waits for them; one that fails or outlives ``notify_timeout`` is killed and
logged, never fatal. A poll cycle's hits share one time budget (``notify_budget``), at most
NOTIFY_QUEUE hits wait, and stopping diplowatch kills what still runs: a burst of hits or a
hung command can neither pile up nor hold up a shutdown.
"""
from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Iterable

import orjson

from feeds.model import LABELS, Item, Match
from feeds.classify.rules import LabelRules, Pattern, Rule, RulesSpec, parse_pattern
from feeds.redact import redact_url

if TYPE_CHECKING:  # (WatchSettings: a parse worker builds a matcher without the config)
    from feeds.classify.engine import Classifier
    from feeds.config.load import WatchSettings

log = logging.getLogger("diplowatch.watch")

_CARRIER = LABELS[0]  # the rules engine needs a label to hang the watch terms on


@dataclass(frozen=True, slots=True)
class WatchHit:
    """A new item that matched watch terms."""

    item: Item
    terms: tuple[str, ...]  # names of the terms that matched, in config order
    evidence: tuple[Match, ...] = ()  # what matched where (Match.term is the term's name)

    def to_dict(self) -> dict:
        """The JSON a notify command reads on stdin."""
        d = self.item.to_dict()
        # The names of every JSON output: the stored "source" is the feed's name, "feed" its URL.
        name, url = d.pop("source"), redact_url(d.pop("feed"))
        d = {"id": d.pop("id"), "feed": name, "feed_url": url, **d}
        d["link"] = redact_url(d["link"])
        d["watch_terms"] = list(self.terms)
        return d


class WatchMatcher:
    """Compiled watch terms. ``match(item)`` → a :class:`WatchHit` or None."""

    def __init__(self, settings: WatchSettings) -> None:
        self.settings = settings
        self.names = tuple(name for name, _ in settings.terms)
        # Each term's pattern gets its index as its source, so that two terms with the same
        # pattern under different names stay apart in the evidence.
        rules = tuple(Rule(_CARRIER, replace(parse_pattern(p, "watch.terms", near=None),
                                             source=str(i)), 1.0)
                      for i, (_, p) in enumerate(settings.terms))
        exclude = tuple(parse_pattern(p, "watch.exclude", near=None) for p in settings.exclude)
        labels = tuple(LabelRules(label, 1.0, rules if label == _CARRIER else (),
                                  exclude if label == _CARRIER else ())
                       for label in LABELS)
        self._spec = RulesSpec(1.0, 0.0, labels) if rules else None
        self._needles = _needles(rule.pattern for rule in rules)
        # Built at the first match (the engine's import and compile): a poll where no feed
        # changed matches nothing.
        self._classifier: Classifier | None = None
        self._limits = (0, 0)

    @property
    def active(self) -> bool:
        return self._spec is not None

    def match(self, item: Item) -> WatchHit | None:
        if self._spec is None:
            return None
        if self._classifier is None:
            from feeds.classify.engine import SUMMARY_LIMIT, TITLE_LIMIT, Classifier

            self._classifier = Classifier(self._spec)
            self._limits = TITLE_LIMIT, SUMMARY_LIMIT
        if not self._may_match(item.title, item.summary):
            return None
        found = self._classifier.classify(item.title, item.summary).evidence
        if not found:
            return None
        indexes = sorted({int(m.term) for m in found})
        evidence = tuple(replace(m, label="watch", term=self.names[int(m.term)]) for m in found)
        return WatchHit(item, tuple(dict.fromkeys(self.names[i] for i in indexes)), evidence)

    def hits(self, items: Iterable[Item]) -> list[WatchHit]:
        return [hit for hit in map(self.match, items) if hit is not None]

    def _may_match(self, title: str, summary: str) -> bool:
        """False when the item holds none of the needles, so that no term can match: a
        parse worker checks every item, and few match (a substring search costs ~2 µs an
        item, the engine's scan ~10 µs). Text that is not ASCII always goes to the engine,
        whose lowercasing differs from ``str.lower`` there."""
        needles = self._needles
        if needles is None:
            return True
        title_limit, summary_limit = self._limits  # what the engine reads of an item
        text = title[:title_limit] + "\n" + summary[:summary_limit]
        if not text.isascii():
            return True
        text = text.lower()
        for needle in needles:
            if needle in text:
                return True
        return False


def _needles(patterns: Iterable[Pattern]) -> tuple[str, ...] | None:
    """Strings one of which every match of these patterns contains, in lowercase ASCII
    text: per phrase, its longest word (the engine blanks no character of a word, and in
    ASCII text an apostrophe matches only itself); per near pattern, the phrases of the
    part whose shortest needle is longest (both parts must match). None when a needle is
    not ASCII."""
    needles: set[str] = set()
    for pattern in patterns:
        best: set[str] | None = None
        for part in pattern.parts:
            words = {max(phrase.words, key=len) for phrase in part}
            if best is None or min(map(len, words)) > min(map(len, best)):
                best = words
        needles |= best or {""}
    if not all(needle and needle.isascii() for needle in needles):
        return None
    # A needle that holds another is redundant; the shortest are tried first.
    kept: list[str] = []
    for needle in sorted(needles, key=lambda n: (len(n), n)):
        if not any(k in needle for k in kept):
            kept.append(needle)
    return tuple(kept)


NOTIFY_CONCURRENCY = 4  # commands running at once
NOTIFY_QUEUE = 100  # hits waiting for a command; more in a burst are counted, not queued
NOTIFY_BUDGET = 60.0  # seconds a poll cycle's notifications may take, all together
STOP_GRACE = 2.0  # seconds close(grace=...) waits before it stops what is left


class Notifier:
    """Runs ``argv`` once per submitted hit, at most ``concurrency`` at a time, the hit's
    JSON on stdin. The hits of one poll cycle (:meth:`new_cycle`) share one time budget: a
    command still running when it is spent is killed, and hits not started are skipped. At
    most ``queue_limit`` hits wait; a burst beyond is dropped. Every hit not notified is
    counted in ``dropped`` and summarised in one log line per batch. ``errors`` keeps the
    last failures (also logged); ``on_error`` is called with each, from a worker thread."""

    def __init__(self, argv: Iterable[str], timeout: float = 10.0, *,
                 on_error: Callable[[str], None] | None = None,
                 concurrency: int = NOTIFY_CONCURRENCY, queue_limit: int = NOTIFY_QUEUE,
                 budget: float = NOTIFY_BUDGET) -> None:
        self.argv = tuple(argv)
        if not self.argv:
            raise ValueError("a notify command needs at least the program to run")
        self.timeout, self.budget, self.concurrency = timeout, budget, max(1, concurrency)
        self.on_error = on_error
        self.errors: deque[str] = deque(maxlen=20)
        self.runs = 0  # commands started
        self.dropped = 0  # hits never notified (queue full, budget spent, shutting down)
        self._queue: queue.Queue[tuple[WatchHit, float] | None] = queue.Queue(max(1, queue_limit))
        self._threads: list[threading.Thread] = []
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0  # hits queued or being notified
        self._skipped = 0  # hits skipped since the last summary line (budget spent)
        self._deadline: float | None = None
        self._closed = False
        self._stopping = threading.Event()

    def new_cycle(self) -> None:
        """The hits submitted from now on share a fresh time budget."""
        self._deadline = time.monotonic() + self.budget

    def submit(self, hits: Iterable[WatchHit]) -> None:
        hits = list(hits)
        if not hits:
            return
        with self._lock:
            if self._closed:
                raise RuntimeError("the notifier is closed")
            while len(self._threads) < self.concurrency:
                thread = threading.Thread(target=self._run, name="diplowatch-notify", daemon=True)
                thread.start()
                self._threads.append(thread)
        deadline = self._deadline or time.monotonic() + self.budget
        overflow = 0
        for hit in hits:
            with self._lock:
                self._pending += 1
            try:
                self._queue.put_nowait((hit, deadline))
            except queue.Full:
                overflow += 1
                self._done()
        if overflow:
            self._drop(overflow, f"the queue of {self._queue.maxsize} is full")

    def wait(self) -> None:
        """Block until every submitted hit has been handled."""
        with self._idle:
            self._idle.wait_for(lambda: self._pending == 0)

    def close(self, timeout: float | None = None) -> None:
        """Handle what is queued (each cycle within its budget; at most ``timeout`` seconds
        when given), then stop: hits still waiting are dropped and running commands killed."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        with self._idle:
            self._idle.wait_for(lambda: self._pending == 0, timeout)
        self._stopping.set()
        left = 0
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            left += job is not None
            self._done()
        with self._lock:
            running = list(self._running)
        for proc in running:
            _signal_kill(proc)  # (its worker reaps it)
        if left:
            self._drop(left, "diplowatch is stopping")
        for _ in self._threads:
            with contextlib.suppress(queue.Full):
                self._queue.put(None, timeout=STOP_GRACE)
        for thread in self._threads:
            thread.join(STOP_GRACE)

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            hit, deadline = job
            try:
                left = deadline - time.monotonic()
                if self._stopping.is_set() or left <= 0:
                    self._skip()
                else:
                    self._notify(hit, min(self.timeout, left))
            finally:
                self._done()

    def _skip(self) -> None:
        """A hit whose cycle spent its budget; one summary line when the queue runs dry."""
        with self._lock:
            self._skipped += 1
            if not self._queue.empty():
                return
            count, self._skipped = self._skipped, 0
        self._drop(count, f"the poll cycle's notify budget of {self.budget:g} s was spent")

    def _drop(self, count: int, why: str) -> None:
        with self._lock:
            self.dropped += count
            total = self.dropped
        self._fail(f"notify command {self.argv[0]!r}: {count} watch hit(s) not notified "
                   f"({why}; {total} in all)")

    def _notify(self, hit: WatchHit, timeout: float) -> None:
        with self._lock:
            self.runs += 1
        try:
            # Its own process group: a kill reaches whatever the command started.
            proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, shell=False, close_fds=True,
                                    start_new_session=True)
        except FileNotFoundError:
            self._fail(f"notify command not found: {self.argv[0]!r}")
            return
        except OSError as e:
            self._fail(f"notify command {self.argv[0]!r} could not run: {e.strerror or e}")
            return
        with self._lock:
            self._running.add(proc)
        if self._stopping.is_set():  # close() looked at the running commands just before
            _signal_kill(proc)
        try:
            _, err = proc.communicate(orjson.dumps(hit.to_dict()), timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            cut = " (the poll cycle's notify budget)" if timeout < self.timeout else ""
            self._fail(f"notify command {self.argv[0]!r} was stopped after {timeout:g} s{cut} "
                       f"(item {hit.item.id})")
            return
        finally:
            with self._lock:
                self._running.discard(proc)
        if self._stopping.is_set() and proc.returncode and proc.returncode < 0:
            self._fail(f"notify command {self.argv[0]!r} was stopped: diplowatch is stopping "
                       f"(item {hit.item.id})")
        elif proc.returncode != 0:
            detail = err.decode("utf-8", "replace").strip().splitlines()
            self._fail(f"notify command {self.argv[0]!r} exited with status "
                       f"{proc.returncode} (item {hit.item.id})"
                       + (f": {detail[-1][:200]}" if detail else ""))

    def _fail(self, message: str) -> None:
        log.warning("%s", message)
        self.errors.append(message)
        if self.on_error is not None:
            try:
                self.on_error(message)
            except Exception:  # a broken callback must not stop the notifier
                log.exception("notify error callback failed")


def _signal_kill(proc: subprocess.Popen) -> None:
    """SIGKILL the command and its process group (whatever it started)."""
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        proc.kill()


def _kill(proc: subprocess.Popen) -> None:
    """Kill the command and its group, and reap it (from the thread that ran it)."""
    _signal_kill(proc)
    with contextlib.suppress(Exception):
        proc.communicate(timeout=STOP_GRACE)

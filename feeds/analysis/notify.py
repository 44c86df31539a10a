"""The notify command of ``[watch]``: run once per hit, a few at a time, never holding up a
poll or a shutdown (see :mod:`feeds.analysis.watch` for the settings and the JSON it reads).

Apart from the matching so that a parse worker, which matches every new item against the
terms, does not import what runs and logs commands (~1.3 MiB a worker).
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
from typing import Callable, Iterable

import orjson

from feeds.analysis.watch import WatchHit

log = logging.getLogger("diplowatch.watch")

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

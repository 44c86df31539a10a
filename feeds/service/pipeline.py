"""The daemon's parse pool: every worker kept two documents deep.

:class:`feeds.parse.pool.ParsePool` gives a worker its next document only once the daemon's
process has read the last result back, which takes that process's GIL: behind a busy event
loop (fetches, items being stored) each worker sat idle ~2 ms per document, a tenth of a
cold cycle. Here a worker's next document is already in its pipe while it parses the
current one (each worker is a *lane*: documents written in ticket order, results read back
in the same order). A document is charged only for its own parse: when a worker is stopped
(a deadline passed) or dies, the document it was parsing fails as in ParsePool and the one
queued behind it is sent again to a fresh worker.
"""
from __future__ import annotations

import os
import pickle
import select
import threading
import time
from typing import Any

from feeds.parse.document import ParsedFeed
from feeds.parse.pool import (STARTUP_GRACE, ParseJob, ParsePool, _Worker, _WorkerDied, died,
                              timed_out, unpack)
from feeds.parse.worker import _HEADER

DEPTH = 2  # documents in a worker's hands at once: the one it parses, the next one
RESENDS = 3  # times a document whose worker was stopped for another one is sent again
# Bytes asked of a worker's pipe at once: what a pipe holds (64 KiB on Linux). A larger read
# allocates (and maps, and unmaps) that much for each result, to fill a tenth of it.
READ_SIZE = 1 << 16


class _Lane:
    """One worker and the documents sent to it: ``sent`` tickets given, ``written`` of them
    in its pipe, ``done`` read back. ``turn`` (on the pool's lock) wakes only the threads
    waiting for this lane's next write or read, not every thread of the pool."""

    def __init__(self, worker: _Worker, lock: threading.RLock) -> None:
        self.worker = worker
        self.turn = threading.Condition(lock)
        self.sent = self.written = self.done = 0
        self.dead = False
        self._buffer = bytearray()

    @property
    def load(self) -> int:
        return self.sent - self.done

    def receive(self, deadline: float) -> Any:
        """The worker's next message (TimeoutError past ``deadline``, _WorkerDied at its
        end). Read from the pipe itself: a buffered reader may hold the message after the
        one it was asked for, which the pipe's readiness would no longer show."""
        buffer, fd = self._buffer, self.worker.proc.stdout.fileno()
        while True:
            if len(buffer) >= _HEADER.size:
                end = _HEADER.size + _HEADER.unpack_from(buffer)[0]
                if len(buffer) >= end:
                    with memoryview(buffer) as view, view[_HEADER.size:end] as body:
                        message = pickle.loads(body)  # (unpickled from the buffer: no copy)
                    del buffer[:end]
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
            try:
                chunk = os.read(fd, READ_SIZE)
            except OSError as e:
                raise _WorkerDied from e
            if not chunk:
                raise _WorkerDied
            buffer += chunk

    def ensure_ready(self, deadline: float) -> None:
        """The worker's "ready" (its imports done) read: TimeoutError, _WorkerDied."""
        self.worker.ensure_ready(deadline, self.receive)


class _Resend(Exception):
    """The document's worker was stopped for another document: send it again."""


class PipelinedPool(ParsePool):
    """A ParsePool (same settings, same results) whose workers never wait for the daemon."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mutex = threading.RLock()
        self._cv = threading.Condition(self._mutex)  # a lane with room, or a lane fewer
        self._lanes: list[_Lane] = []

    def _new_lane(self) -> _Lane:
        lane = _Lane(self._spawn(), self._mutex)  # (ParsePool._spawn: the worker joins ``_all``)
        self._lanes.append(lane)
        return lane

    def warm_up(self) -> None:
        with self._cv:
            while len(self._lanes) < self.workers and not self._closed:
                self._new_lane()

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._cv:  # (before the first cycle: no document is in flight)
            for lane in self._lanes:
                if lane.load == 0:
                    try:
                        lane.ensure_ready(deadline)
                    except (TimeoutError, _WorkerDied):
                        pass  # its first document finds out again

    def _parse_on_worker(self, job: ParseJob) -> ParsedFeed:
        """On the least loaded lane; sent again if its worker is stopped for another."""
        starting_failures = 0
        for _ in range(RESENDS + 2):
            lane, ticket = self._take_ticket()
            try:
                self._write(lane, ticket, job)
                return self._collect(lane, ticket)
            except _Resend:
                continue
            except _WorkerDied:  # it died while starting: a fresh one, once
                starting_failures += 1
                if starting_failures == 2:
                    break
            except BaseException:  # a bug: the documents queued behind this one must not
                self._stop(lane)  # wait for it forever
                raise
        return ParsedFeed(False, error="no parse worker could take this document")

    def _take_ticket(self) -> tuple[_Lane, int]:
        """The least loaded worker with room (started if fewer than ``workers`` live)."""
        with self._cv:
            while True:
                if self._closed:
                    raise RuntimeError("parse pool is closed")
                lane = min(self._lanes, key=lambda lane: lane.load, default=None)
                if lane is None or (lane.load and len(self._lanes) < self.workers):
                    lane = self._new_lane()
                if lane.load < DEPTH:
                    lane.sent += 1
                    return lane, lane.sent - 1
                self._cv.wait()

    def _write(self, lane: _Lane, ticket: int, job: ParseJob) -> None:
        """Into the worker's pipe in ticket order (a write blocks while the pipe is full;
        no lock is held meanwhile)."""
        with self._cv:
            while lane.written != ticket and not lane.dead:
                lane.turn.wait()
            if lane.dead:
                raise _Resend
        try:
            lane.worker.send(job)
        except (BrokenPipeError, OSError, ValueError):
            self._stop(lane)  # (whoever reads its results reports why it died)
            raise _Resend from None
        finally:
            with self._cv:
                lane.written += 1
                lane.turn.notify_all()

    def _collect(self, lane: _Lane, ticket: int) -> ParsedFeed:
        """This document's result, once the ones before it on the lane are read back."""
        with self._cv:
            while lane.done != ticket and not lane.dead:
                lane.turn.wait()
            if lane.dead:
                raise _Resend
        worker = lane.worker
        try:
            lane.ensure_ready(time.monotonic() + STARTUP_GRACE)
            packed = lane.receive(time.monotonic() + self.timeout)
        except TimeoutError:
            self._stop(lane)
            return timed_out(self.timeout)
        except _WorkerDied:
            self._stop(lane)
            if not worker.ready:
                raise
            return died()
        with self._cv:
            lane.done += 1
            lane.turn.notify_all()
            self._cv.notify()  # room on this lane: for one ticket
        return unpack(packed)

    def _stop(self, lane: _Lane) -> None:
        """Kill the lane's worker; the documents queued on it are sent again."""
        with self._cv:
            if lane.dead:
                return
            lane.dead = True
            self._lanes.remove(lane)
            lane.turn.notify_all()
            self._cv.notify_all()
        lane.worker.kill()
        with self._lock:
            self._all.discard(lane.worker)

    def release(self) -> None:
        with self._cv:
            idle = [lane for lane in self._lanes if lane.load == 0]
        for lane in idle:
            self._stop(lane)

    def close(self) -> None:
        with self._cv:
            self._closed = True
            lanes, self._lanes = self._lanes, []
            for lane in lanes:
                lane.dead = True
                lane.turn.notify_all()
            self._cv.notify_all()
        super().close()

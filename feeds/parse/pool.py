"""Parse documents in worker processes: on all cores, under a memory limit and a deadline.

feedparser costs ~15–25 ms of CPU per 50-item feed and can be driven to gigabytes by hostile
input, so it never runs in the app's own process. Each worker is a plain child process
(``python -m feeds.parse.worker``) with ``RLIMIT_AS`` set, talking over its stdin/stdout; a
parse that outlives its deadline gets only that worker killed (and replaced), and a worker
that dies (memory limit, crash) costs only the document it was parsing. Plain subprocesses
rather than ``multiprocessing``: nothing of the parent (its threads, its ``__main__``) is
forked or re-imported, which matters inside the dashboard and under test runners.

Workers start lazily, on the first document to parse (an all-304 cycle starts none), and
live as long as the pool. The classifier and the actor tagger are built once per worker from
their picklable specs, so labelling and tagging cost the app's own process nothing.
"""
from __future__ import annotations

import os
import queue
import select
import struct
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feeds.classify.builders import new_match
from feeds.model import Item, Match
from feeds.parse.document import ParsedFeed
# (What a worker runs lives in jobs, which a worker imports instead of this module.)
from feeds.parse.jobs import (_FEED_FIELDS, _ITEM_FIELDS, ParseJob, WatchTerms, build_parts,
                              pack, run_job)  # noqa: F401 - pack: re-exported
from feeds.parse.worker import read_message, write_message

if TYPE_CHECKING:  # (imported when used)
    import subprocess
    from collections.abc import Callable

MEMORY_LIMIT = 1536 * 1024 * 1024  # address space per worker
# A one-shot poll parses its first documents in its own process (a worker costs ~0.3 s to
# start and ~22 MiB): only through the expat fast path (no feedparser, whose hangs and
# memory blow-ups are what the workers isolate), and only documents this small, which expat
# reads in linear time from input already stripped of entity declarations.
INLINE_DOCUMENTS = 40
INLINE_MAX_BYTES = 1024 * 1024
STARTUP_GRACE = 15.0  # seconds a new worker may take to import and compile, on top of a job's deadline

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])

_LABELS = _ITEM_FIELDS.index("labels")
_SCORES = _ITEM_FIELDS.index("scores")
_ACTORS = _ITEM_FIELDS.index("actors")
SHARED_MAX = 20_000  # canonical values kept across documents (a daemon's cycles too)
_shared: dict[Any, Any] = {}


def _share(value: Any, key: Any = None) -> Any:
    """One object for equal values: label and actor tuples, score dicts (a few sums) and
    match weights repeat across a cycle's items, and each unpickled copy would stay in the
    store (~4 MiB a 10k-item cycle). Items never change a scores dict in place (every change
    makes a new one: Item.with_classification, the store's codec)."""
    key = value if key is None else key
    found = _shared.get(key)
    if found is None:
        if len(_shared) >= SHARED_MAX:
            _shared.clear()
        found = _shared[key] = value
    return found


_packers: dict[int, Callable[..., bytes]] = {}  # (a struct's pack: half an array's cost)


def _scores(scores: dict[str, float]) -> dict[str, float]:
    """The shared dict equal to ``scores``, bit for bit: keyed by the floats' bytes, as 0.0
    equals -0.0, which prints otherwise."""
    to_bytes = _packers.get(len(scores))
    if to_bytes is None:
        to_bytes = _packers[len(scores)] = struct.Struct(f"{len(scores)}d").pack
    return _share(scores, (*scores, to_bytes(*scores.values())))


MATCHES_MAX = 8_192  # canonical matches kept across documents
_matches: dict[tuple, Match] = {}


def _evidence(rows: tuple) -> tuple[Match, ...]:
    """Matches of these rows, each one object for equal rows (a rule's word at the start of
    a headline, a syndicated story: matches repeat across items, and each copy would stay in
    the store). Built as the classifier builds them (a frozen dataclass's own ``__init__``
    costs twice as much); a weight of zero is not shared (0.0 equals -0.0)."""
    get = _matches.get
    return tuple([get(m) or _new_match(m) for m in rows])


def _new_match(row: tuple) -> Match:
    match = new_match(row[0], row[1], sys.intern(row[2]), row[3], row[4], row[5], row[6])
    if row[6]:
        if len(_matches) >= MATCHES_MAX:
            _matches.clear()
        _matches[row] = match
    return match


def unpack(packed: tuple) -> ParsedFeed:
    """The ParsedFeed that :func:`pack` was given (equal values shared: see _share)."""
    rows, rest = packed
    items = []
    share = _share
    for values in rows:
        item = Item(*values)
        item.labels, item.actors = share(values[_LABELS]), share(values[_ACTORS])
        item.scores = _scores(values[_SCORES])
        if item.evidence:
            item.evidence = _evidence(item.evidence)
        items.append(item)
    parsed = ParsedFeed(True, items)
    for name, value in zip(_FEED_FIELDS, rest):
        setattr(parsed, name, value)
    return parsed


WORKER_NICE = 10  # a dashboard's workers yield the CPU to its input and painting


def setup_message(rules_spec: Any, memory_limit: int, actors_spec: Any = None,
                  watch_spec: Any = None, nice: int = WORKER_NICE) -> tuple:
    """A new worker's first message (see :mod:`feeds.parse.worker`)."""
    if watch_spec is not None:
        watch_spec = WatchTerms(tuple(watch_spec.terms), tuple(watch_spec.exclude))
    return rules_spec, memory_limit, actors_spec, watch_spec, nice


def _spawn() -> subprocess.Popen:
    """``python -m feeds.parse.worker`` with the package importable; stdin/stdout are its
    channel, stderr is discarded."""
    import subprocess

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-m", "feeds.parse.worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                            cwd=_PACKAGE_ROOT)


def timed_out(seconds: float) -> ParsedFeed:
    """The result of a document whose worker was stopped at its deadline."""
    return ParsedFeed(False, error=f"parsing took longer than {seconds:g} s (worker stopped)")


def died() -> ParsedFeed:
    """The result of a document whose worker died on it."""
    return ParsedFeed(False, error="the parse worker died on this document "
                                   "(memory limit or crash)")


class _WorkerDied(Exception):
    pass


class _Worker:
    def __init__(self, rules_spec: Any, memory_limit: int, actors_spec: Any = None,
                 watch_spec: Any = None, nice: int = WORKER_NICE) -> None:
        self.proc = _spawn()
        self.ready = False
        # The setup (~100 kB of rules) is more than a pipe holds: written from a thread, so
        # that starting a worker does not wait for its interpreter to start and read it.
        self._setup = threading.Thread(target=self._send, daemon=True, args=(setup_message(
            rules_spec, memory_limit, actors_spec, watch_spec, nice),))
        self._setup.start()

    def _send(self, message: tuple) -> None:
        try:
            write_message(self.proc.stdin, message)
        except (OSError, ValueError):  # it died, or was killed, first: its first job finds out
            pass

    def _read(self, deadline: float) -> Any:
        fd = self.proc.stdout.fileno()
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError
        try:
            return read_message(self.proc.stdout)
        except (EOFError, OSError) as e:
            raise _WorkerDied from e

    def ensure_ready(self, deadline: float, read: Callable[[float], Any] | None = None
                     ) -> None:
        """Wait for the worker's "ready" (its imports done): TimeoutError, _WorkerDied.
        ``read``: how the caller reads this worker's messages (default :meth:`_read`)."""
        if not self.ready:
            if (read or self._read)(deadline) != "ready":
                raise _WorkerDied
            self.ready = True

    def send(self, job: ParseJob) -> None:
        """Write ``job`` to the worker, after its setup message is whole in the pipe."""
        self._setup.join()
        write_message(self.proc.stdin, job)

    def call(self, job: ParseJob, timeout: float) -> ParsedFeed:
        """The result; TimeoutError past the deadline; _WorkerDied if the process died."""
        self.ensure_ready(time.monotonic() + STARTUP_GRACE)
        try:
            self.send(job)
        except (BrokenPipeError, OSError) as e:
            raise _WorkerDied from e
        return unpack(self._read(time.monotonic() + timeout))

    def kill(self) -> None:
        import subprocess

        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


class ParsePool:
    """``await pool.parse(job)`` → ParsedFeed, never raising for what the document holds."""

    one_shot_inline = INLINE_DOCUMENTS  # the ``inline`` a one-shot poller gives its pool

    def __init__(self, rules_spec: Any = None, *, workers: int = 0, timeout: float = 20.0,
                 memory_limit: int = MEMORY_LIMIT, actors_spec: Any = None,
                 watch_spec: Any = None, inline: int = 0, worker_nice: int = WORKER_NICE
                 ) -> None:
        self.rules_spec = rules_spec
        self.actors_spec = actors_spec
        self.watch_spec = watch_spec  # [watch]: matched in the workers (ParsedFeed.watch)
        self.workers = workers or max(1, min(os.cpu_count() or 1, 4))
        self.timeout = timeout
        self.memory_limit = memory_limit
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._started = 0
        self._closed = False
        self._all: set[_Worker] = set()
        self.inline = inline  # documents left that the calling process may parse itself
        self._inline_lock = threading.Lock()
        self._inline_parts: tuple[Any, Any, Any] | None = None
        self.worker_nice = worker_nice  # a headless poller's workers: 0, its own priority

    def _spawn(self) -> _Worker:
        worker = _Worker(self.rules_spec, self.memory_limit, self.actors_spec, self.watch_spec,
                         self.worker_nice)
        with self._lock:
            self._all.add(worker)
        return worker

    def _acquire(self) -> _Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._closed:
                raise RuntimeError("parse pool is closed")
            spawn = self._started < self.workers
            if spawn:
                self._started += 1
        if spawn:
            return self._spawn()
        while True:  # wait for a worker to come back (or for close())
            try:
                return self._idle.get(timeout=1.0)
            except queue.Empty:
                if self._closed:
                    raise RuntimeError("parse pool is closed") from None

    def _retire(self, worker: _Worker) -> None:
        """Kill a stuck or dead worker and put a fresh one in its place: a thread may be
        waiting for a worker, and the pool's size must not shrink."""
        worker.kill()
        with self._lock:
            self._all.discard(worker)
            closed = self._closed
        if not closed:
            self._idle.put(self._spawn())

    def warm_up(self) -> None:
        """Start every worker now (each takes a few hundred ms to import and build its parts)."""
        with self._lock:
            missing = self.workers - self._started
            self._started += missing
        for _ in range(missing):
            self._idle.put(self._spawn())

    def _take_idle(self) -> list[_Worker]:
        taken: list[_Worker] = []
        while True:
            try:
                taken.append(self._idle.get_nowait())
            except queue.Empty:
                return taken

    def wait_ready(self, timeout: float) -> None:
        """Block until the idle workers have finished importing (at most ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        mine = self._take_idle()  # out of the queue while read: nobody else reads their pipes
        try:
            for worker in mine:
                try:
                    worker.ensure_ready(deadline)
                except (TimeoutError, _WorkerDied):
                    pass  # its first job finds out again, and replaces it if need be
        finally:
            for worker in mine:
                self._idle.put(worker)

    def release(self) -> None:
        """Stop the idle workers now; a later parse starts new ones. A one-shot poll calls
        this once parsing is over, so that its flush does not add to their memory."""
        idle = self._take_idle()
        with self._lock:
            self._all.difference_update(idle)
            self._started -= len(idle)
        for worker in idle:
            worker.kill()

    def expect(self, documents: int) -> None:
        """Told how many documents a one-shot cycle will surely parse (its feeds never
        parsed): more than ``inline`` go to workers from the first, started now, while the
        fetches run (measured on 2 cores: sharing the GIL with the fetches and the store
        costs more than a worker's start)."""
        if documents > self.inline:
            self.inline = 0
            self.warm_up()

    def _parse_inline(self, job: ParseJob) -> ParsedFeed | None:
        """``job`` parsed in this process if it may be (see INLINE_DOCUMENTS), else None."""
        if self.inline <= 0 or len(job.body) > INLINE_MAX_BYTES:
            return None
        with self._inline_lock:  # one at a time: the GIL would serialise them anyway
            if self.inline <= 0:
                return None
            self.inline -= 1
            if self._inline_parts is None:
                self._inline_parts = build_parts(self.rules_spec, self.actors_spec,
                                                 self.watch_spec)
            try:
                return run_job(job, self._inline_parts, fast_only=True)
            except Exception:  # NeedsFeedparser, or a bug a hostile document found: a
                return None  # worker parses it, and only that worker dies if it must

    def parse_sync(self, job: ParseJob) -> ParsedFeed:
        """Blocking: run ``job`` on a worker (from any thread), or here (see ``inline``)."""
        parsed = self._parse_inline(job)
        return parsed if parsed is not None else self._parse_on_worker(job)

    def _parse_on_worker(self, job: ParseJob) -> ParsedFeed:
        for attempt in (1, 2):
            worker = self._acquire()
            try:
                result = worker.call(job, self.timeout)
            except TimeoutError:
                self._retire(worker)
                return timed_out(self.timeout)
            except _WorkerDied:
                self._retire(worker)
                if attempt == 2 or worker.ready:
                    return died()
                continue  # it died while starting: try a fresh one once
            self._idle.put(worker)
            return result
        return ParsedFeed(False, error="no parse worker could start")  # pragma: no cover

    async def parse(self, job: ParseJob) -> ParsedFeed:
        """:meth:`parse_sync` off the event loop; a document parsed inline is parsed on it
        (a few ms: on a thread it would hold the GIL against the loop's fetches, and a
        thread's start costs as much)."""
        parsed = self._parse_inline(job)
        if parsed is not None:
            return parsed
        import asyncio

        return await asyncio.to_thread(self._parse_on_worker, job)  # (not in process twice)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.kill()

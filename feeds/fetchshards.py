"""Fetch in child processes, a share of the hosts each, so HTTP costs the app's process little.

Even driven straight through its transport, httpx spends ~0.5 ms of CPU per request (the
request and response models, httpcore, h11): 200 feeds cost a core for a tenth of a second
before anything is parsed, and in the dashboard that is the UI's process. A
:class:`FetchShards` runs N fetch workers (``python -m feeds.fetchworker``), each with its own
event loop and :class:`~feeds.fetch.Fetcher` (the same deadlines, caps, redirect and address
policy), and hands each host to one worker, so keep-alive connections stay in one place.
The poller keeps the politeness limits: it asks for a fetch only once it holds the global
and per-host slots, exactly as with an in-process Fetcher.

Workers start on first use and live as long as the shards; one that dies (or stops
answering past the request's deadline) fails only its requests in flight, in words, and is
replaced on the next request. The shards work from any thread and any event loop (the
dashboard runs each cycle in ``asyncio.run`` on a worker thread): each worker's answers are
read by a thread of its own and handed to the waiting loop.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import os
import subprocess
import threading
import time
import zlib
from urllib.parse import urlsplit

from feeds import fetch as fetchmod
from feeds.config import PollingSettings
from feeds.fetch import FetchResult
from feeds.parseworker import read_message, spawn_worker, write_message

log = logging.getLogger("diplowatch.poll")
ANSWER_GRACE = 10.0  # seconds past a request's own deadline before its worker is given up on
MAX_PROCESSES = 4


def auto_processes(configured: int, *, resident: bool = True) -> int:
    """``polling.fetch_processes``: -1 (auto) → one per two cores (at most 4) for a poller
    that lives on (the daemon, the dashboard). Fetching costs a fifth of parsing per changed
    feed, and each worker holds ~24 MB: on 2 cores one fetch worker polled 200 feeds within
    7 % of two. None (fetch in the app's process) on a single core, where a second process
    only adds the hand-over, and for a one-shot ``poll --once``, whose whole run is shorter
    than starting a worker (~0.15 s of CPU)."""
    if configured >= 0:
        return configured
    cores = os.cpu_count() or 1
    return 0 if cores < 2 or not resident else min(cores // 2, MAX_PROCESSES)


class _Shard:
    def __init__(self, settings: PollingSettings, module: str) -> None:
        self.proc = spawn_worker(module)
        self.pending: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future[FetchResult]]] = {}
        self.lock = threading.Lock()
        self.alive = True
        self.ready = threading.Event()  # set once the worker has imported and said so
        write_message(self.proc.stdin, settings)
        threading.Thread(target=self._read_answers, name="fetch-shard-reader",
                         daemon=True).start()

    def send(self, job: tuple[int, str, str | None, str | None]) -> None:
        with self.lock:
            write_message(self.proc.stdin, job)

    def _read_answers(self) -> None:
        stream = self.proc.stdout
        try:
            if read_message(stream) != "ready":
                raise EOFError
            self.ready.set()
            while True:
                job_id, result = read_message(stream)
                with self.lock:
                    waiter = self.pending.pop(job_id, None)
                if waiter is not None:
                    _resolve(waiter, result)
        except (EOFError, OSError, ValueError, TypeError):
            pass
        self._fail_pending(_ShardFailed("the fetch process stopped unexpectedly")
                           if self.ready.is_set() else FetchProcessUnavailable(NOT_STARTED))

    def _fail_pending(self, reason: Exception) -> None:
        with self.lock:
            self.alive = False
            waiters, self.pending = list(self.pending.items()), {}
        for _, waiter in waiters:
            _resolve(waiter, reason)

    def kill(self) -> None:
        with self.lock:
            self.alive = False
        try:
            self.proc.stdin.close()  # end of input: the worker exits
        except OSError:
            pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        try:
            self.proc.stdout.close()
        except OSError:
            pass


def _resolve(waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[FetchResult]],
             answer: FetchResult | Exception) -> None:
    loop, fut = waiter

    def settle() -> None:
        if fut.done():
            return
        if isinstance(answer, Exception):
            fut.set_exception(answer)
        else:
            fut.set_result(answer)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:  # that loop has closed: nobody is waiting any more
        pass


class _ShardFailed(Exception):
    pass


class FetchProcessUnavailable(Exception):
    """No fetch process could take the request (none starts): fetch it elsewhere."""


NOT_STARTED = "the fetch process did not start"


class FetchShards:
    """``await shards.fetch(url, etag=…, last_modified=…)`` → FetchResult, like a Fetcher.

    Workers that keep dying before they are ready (a broken install, a sandbox refusing
    processes) make the shards ``broken`` after ``MAX_START_FAILURES``: the poller then
    fetches in its own process rather than starting a process per request."""

    worker_module = "feeds.fetchworker"
    MAX_START_FAILURES = 3

    def __init__(self, settings: PollingSettings, processes: int) -> None:
        if processes < 1:
            raise ValueError("FetchShards needs at least one process")
        self.settings = settings
        self.processes = processes
        self._shards: list[_Shard | None] = [None] * processes
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = False
        self._start_failures = 0

    @property
    def broken(self) -> bool:
        return self._start_failures >= self.MAX_START_FAILURES

    def start(self) -> None:
        """Start every worker now (each takes ~0.1 s to import httpx)."""
        for i in range(self.processes):
            self._shard(i)

    def _shard(self, index: int) -> _Shard:
        with self._lock:
            if self._closed:
                raise RuntimeError("fetch shards are closed")
            shard = self._shards[index]
            if shard is None or not shard.alive:
                if shard is not None:
                    if not shard.ready.is_set():
                        self._start_failures += 1
                        if self.broken:
                            log.warning("the fetch processes do not start; fetching in this process")
                    threading.Thread(target=shard.kill, daemon=True).start()
                if self.broken:
                    raise RuntimeError("the fetch processes do not start")
                shard = self._shards[index] = _Shard(self.settings, self.worker_module)
            return shard

    def wait_ready(self, timeout: float) -> None:
        """Block until the started workers have imported (at most ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        for shard in [s for s in self._shards if s is not None]:
            shard.ready.wait(max(0.0, deadline - time.monotonic()))

    def index_for(self, url: str) -> int:
        """Which worker fetches ``url``: by host, so a host's connections live in one place."""
        host = (urlsplit(url).hostname or "").encode("utf-8", "surrogatepass")
        return zlib.crc32(host) % self.processes

    async def fetch(self, url: str, *, etag: str | None = None,
                    last_modified: str | None = None) -> FetchResult:
        """Fetch in the worker for ``url``'s host; FetchProcessUnavailable if no worker
        could take it (its worker did not start)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[FetchResult] = loop.create_future()
        job_id = next(self._ids)
        try:
            shard = self._shard(self.index_for(url))
            with shard.lock:
                shard.pending[job_id] = (loop, fut)
            shard.send((job_id, url, etag, last_modified))
        except (OSError, RuntimeError, ValueError) as e:
            raise FetchProcessUnavailable(str(e)) from None
        try:
            return await asyncio.wait_for(fut, self.settings.timeout + ANSWER_GRACE)
        except _ShardFailed as e:
            return FetchResult(fetchmod.ERROR, url, url, error=str(e))
        except TimeoutError:
            # Its own deadline would have ended the request: the worker is stuck. Replace it.
            stuck = "the fetch process stopped answering (restarted)"
            shard._fail_pending(_ShardFailed(stuck))
            return FetchResult(fetchmod.ERROR, url, url, error=stuck)
        finally:
            with shard.lock:
                shard.pending.pop(job_id, None)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            shards, self._shards = [s for s in self._shards if s is not None], []
        for shard in shards:
            shard.kill()

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self._shards if s is not None and s.alive]


"""Parse documents in child processes: on all cores, under a memory limit and a deadline.

feedparser costs ~15–25 ms of CPU per 50-item feed and can be driven to gigabytes by hostile
input, so it never runs in the app's own process: a pool of workers (forkserver, so the
dashboard's threads are never forked) each with ``RLIMIT_AS``; a parse that outlives its
deadline gets the pool killed and rebuilt, and the innocent jobs that shared it are retried
once. The classifier is built once per worker from the (picklable) rules spec.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import threading
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from feeds.parse import ParsedFeed, parse_document

MEMORY_LIMIT = 1536 * 1024 * 1024  # address space per worker

_classifier: Any = None


def _init_worker(rules_spec: Any, memory_limit: int) -> None:
    global _classifier
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    except (ImportError, ValueError, OSError):  # pragma: no cover - non-POSIX or hard limit lower
        pass
    if rules_spec is not None:
        from feeds.classify import Classifier

        _classifier = Classifier.from_spec(rules_spec)
    import feedparser  # noqa: F401  (pay the import once per worker, not per job)


@dataclass(frozen=True, slots=True)
class ParseJob:
    body: bytes
    feed_key: str
    feed_name: str
    url: str
    content_type: str | None
    now: float
    max_items: int


def run_job(job: ParseJob) -> ParsedFeed:
    """The worker's entry point (also usable in-process)."""
    try:
        return parse_document(job.body, feed_key=job.feed_key, feed_name=job.feed_name,
                              url=job.url, content_type=job.content_type, now=job.now,
                              max_items=job.max_items, classifier=_classifier)
    except MemoryError:
        return ParsedFeed(False, error="document too large to parse (memory limit)")


class ParsePool:
    """``await pool.parse(job)`` → ParsedFeed, never raising for what the document holds."""

    def __init__(self, rules_spec: Any = None, *, workers: int = 0, timeout: float = 20.0,
                 memory_limit: int = MEMORY_LIMIT) -> None:
        self.rules_spec = rules_spec
        self.workers = workers or max(1, min(os.cpu_count() or 1, 4))
        self.timeout = timeout
        self.memory_limit = memory_limit
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._generation = 0

    def _pool(self) -> tuple[concurrent.futures.ProcessPoolExecutor, int]:
        with self._lock:
            if self._executor is None:
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(["feeds.parsepool", "feedparser"])
                self._executor = concurrent.futures.ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=ctx, initializer=_init_worker,
                    initargs=(self.rules_spec, self.memory_limit))
                self._generation += 1
            return self._executor, self._generation

    def warm_up(self) -> None:
        """Start the workers now (they take a few hundred ms to import feedparser)."""
        pool, _ = self._pool()
        for _ in range(self.workers):
            pool.submit(int)

    def _discard(self, generation: int, *, kill: bool) -> None:
        with self._lock:
            if self._executor is None or generation != self._generation:
                return
            executor, self._executor = self._executor, None
        if kill:
            for proc in list(getattr(executor, "_processes", {}).values()):
                try:
                    proc.kill()
                except (OSError, AttributeError):
                    pass
        executor.shutdown(wait=False, cancel_futures=True)

    async def parse(self, job: ParseJob) -> ParsedFeed:
        for attempt in (1, 2):
            pool, generation = self._pool()
            try:
                future = pool.submit(run_job, job)
            except (BrokenProcessPool, RuntimeError):
                self._discard(generation, kill=True)
                continue
            try:
                result = await self._wait(future)
                if result is not None:
                    return result
                self._discard(generation, kill=True)
                return ParsedFeed(False, error=f"parsing took longer than {self.timeout:g} s "
                                               "(worker stopped)")
            except BrokenProcessPool:
                # A worker died (memory limit, crash) or another job's timeout killed the pool.
                self._discard(generation, kill=True)
                if attempt == 2:
                    return ParsedFeed(False, error="the parse worker died on this document "
                                                   "(memory limit or crash)")
            except asyncio.CancelledError:
                future.cancel()
                raise
        return ParsedFeed(False, error="no parse worker available")  # pragma: no cover

    async def _wait(self, future: concurrent.futures.Future) -> ParsedFeed | None:
        """The job's result, or None when it ran longer than the timeout.

        The clock starts when a worker takes the job, not when it was queued: a long queue
        behind one big feed must not count against the feeds waiting in it.
        """
        wrapped = asyncio.wrap_future(future)
        loop = asyncio.get_running_loop()
        started: float | None = None
        while True:
            step = 0.25 if started is None else max(started + self.timeout - loop.time(), 0.0)
            done, _ = await asyncio.wait({wrapped}, timeout=step)
            if done:
                return wrapped.result()
            if started is None:
                if future.running():
                    started = loop.time()
            elif loop.time() >= started + self.timeout:
                wrapped.cancel()
                return None

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

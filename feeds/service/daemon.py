"""The headless service: one process that polls on schedule, owns the store and answers the
control socket (``diplowatch daemon``).

- Cycles never overlap: the next one starts when the earliest enabled feed is due (clamped
  to [MIN_DELAY, polling.interval]), or at once when a viewer asks (``poll``); a request
  during a cycle is queued behind it, and several queued requests merge into one.
- Every write is followed by a ``changed`` event so viewers reload within a moment: marks and
  labels set by hand are saved before they are answered, and a long cycle saves its new
  items every FLUSH_EVERY s, or less often on a store whose saves are slow (at most a tenth
  of a cycle goes into them: on a big current week each save rewrites it).
- The config is re-read between cycles when its file changed (``feeds add`` from the command
  line), and on SIGHUP; a config that no longer loads is logged and the old one kept.
- ``stop()`` (SIGTERM/SIGINT) cancels a running cycle: items it already stored are saved,
  feeds still in flight stay due and are polled by the next run.

The store is injected (the caller opened it as the writer and closes it, releasing the lock).
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable

from feeds import __version__
from feeds.config.load import Config, ConfigError
from feeds.heap import release_free_heap
from feeds.service.control import ControlError, ControlServer, Request, RequestError, control_socket_path
from feeds.poll.queue import PollQueue, PollRequest
from feeds.poll.poller import CycleReport, FeedOutcome, Poller
from feeds.poll.schedule import seconds_until_due

log = logging.getLogger("diplowatch.daemon")

MIN_DELAY = 2.0  # seconds between the end of one cycle and the start of the next
ERROR_DELAY = 60.0  # after a cycle that failed as a whole (a bug, the store refusing)
FLUSH_EVERY = 2.0  # seconds: a long cycle's new items reach the viewers in batches
SAVE_SHARE = 10  # a save during a cycle waits at least this many times the last one took
WARM_UP_WAIT = 10.0  # seconds the first cycle waits, at most, for the workers to be ready
NOTIFY_GRACE = 2.0  # seconds a stopping daemon gives pending notify commands
FULL_COLLECTION_EVERY = 600.0  # seconds between two full garbage collections (after a cycle)


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


@functools.lru_cache(maxsize=8)
def _absolute(path: Path) -> str:
    """A path as ``status`` shows it (a viewer may ask several times a second: pathlib's
    parsing was a tenth of a status request)."""
    return str(Path(path).absolute())


DETAIL_LIMIT = 200  # failures and watch hits listed in one poll-finished event


def cycle_details(report: CycleReport) -> dict[str, Any]:
    """What `poll --once` prints of a cycle the daemon ran for it: new items per label, the
    failed feeds and the watch hits (each list capped: an event is one line of JSON)."""
    return {
        "labels": report.new_by_label(), "not_due": report.not_due,
        "failures": [[o.source.name, o.status, o.error or ""] for o in report.failed][:DETAIL_LIMIT],
        "watch": [[list(hit.terms), hit.item.title, hit.item.source]
                  for hit in report.watch_hits][:DETAIL_LIMIT]}


def _release_memory(full: bool) -> None:
    """After a cycle, whose parsed items, documents and save buffers are garbage now: the
    freed heap given back (glibc keeps it otherwise), so that the daemon's size follows what
    it keeps (the store's window), not the largest cycle it ever ran (~10 MiB at 10k items).
    The collector, paused for the cycle (:func:`_pause_the_collector`), runs again.

    Only the young generations are collected unless ``full``: with the collector paused,
    everything the cycle allocated is young, and so are the few reference cycles it leaves
    (<1 ms). A full collection walks the whole store window (~20 ms at 10k items, more as
    the window grows): after every cycle, it ran before the cycle's last events reached
    the viewers. It runs every :data:`FULL_COLLECTION_EVERY` seconds instead, for what
    cycles of garbage grew old before they were dropped."""
    gc.enable()
    gc.collect(2 if full else 1)
    release_free_heap()


def _pause_the_collector() -> None:
    """At a cycle's start: no cyclic garbage collection until it ends. The cycle's
    allocations (its items, their documents) would trigger ~100 collections that find
    nothing (a 10k-item cycle leaves ~5 objects in reference cycles; the rest is freed by
    reference counting) and cost ~80 ms, more as the store grows; the collection after the
    cycle frees what cycles there are."""
    gc.disable()


class HeadlessPoller(Poller):
    """The daemon's poller. Its parse workers run at the daemon's own priority: it has no
    screen to keep responsive (viewers are processes of their own), and niced workers
    starve behind any other busy process (a cycle took several times its CPU time). They
    are kept two documents deep (:mod:`feeds.service.pipeline`)."""

    def __init__(self, config: Config, store: Any, clock: Callable[[], float]) -> None:
        from feeds.service.pipeline import PipelinedPool

        settings = config.polling
        self._pipelined = PipelinedPool(config.rules, workers=settings.parse_workers,
                                        timeout=settings.parse_timeout,
                                        actors_spec=config.actors, watch_spec=config.watch,
                                        worker_nice=0)
        super().__init__(config, store, clock=clock, parse_pool=self._pipelined)

    def close(self, notify_grace: float | None = None) -> None:
        super().close(notify_grace)
        self._pipelined.close()  # (an injected pool is its maker's to close)


class Daemon:
    """``await Daemon(config, store).run()`` until ``stop()``."""

    def __init__(self, config: Config, store: Any, *,
                 load_config: Callable[[], Config] | None = None,
                 make_poller: Callable[[Config], Poller] | None = None,
                 clock: Callable[[], float] = time.time,
                 socket_path: Path | None = None, flush_every: float = FLUSH_EVERY) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.flush_every = flush_every
        self._load_config = load_config
        self._make_poller = make_poller or (lambda cfg: HeadlessPoller(cfg, store, clock))
        self.poller: Poller | None = None
        self.socket_path = socket_path or control_socket_path(store.path)
        self.server = ControlServer(self.socket_path, self._handle,
                                    subscribed=lambda: {"generation": self.store.generation})
        self.started = time.time()
        self.cycles = 0
        self._started_cycles = 0  # serial of the last cycle started; pending requests go to the next
        self.last_cycle: dict[str, Any] | None = None
        self._config_stat = _stat(config.path)
        self._stopping = False
        self._reload_asked = False
        self._wake: asyncio.Event | None = None
        self._requests = PollQueue()  # asked for while a cycle runs: one merged cycle follows
        self._cycle_task: asyncio.Task | None = None
        self._polling = False
        self._progress = {"done": 0, "due": 0, "new": 0}  # of the running cycle
        self._next_at: float | None = None  # monotonic time of the next scheduled cycle
        self._announced = -1  # the store generation the viewers were last told about
        self._config_lock: asyncio.Lock | None = None
        self._lost: Exception | None = None  # the store no longer takes this process's writes
        self._save_took = 0.0  # seconds the last save during a cycle took
        self._collected_at = time.monotonic()  # the last full garbage collection

    # --- life cycle ------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve and poll until ``stop()``; then save, say bye and remove the socket."""
        self._wake = asyncio.Event()
        self._config_lock = asyncio.Lock()
        try:
            await self.server.start()
        except OSError as e:
            raise ControlError(f"cannot open the control socket {self.socket_path}: "
                               f"{e.strerror or e}") from None
        self.poller = self._make_poller(self.config)
        # The first cycle starts once the workers have imported: started beside it, their
        # imports (~0.5 s of CPU) would compete with its parsing on a small machine.
        await asyncio.to_thread(self.poller.warm_up, WARM_UP_WAIT)
        self._announced = self.store.generation
        log.info("daemon started: pid %d, store %s, config %s, control socket %s",
                 os.getpid(), self.store.path, self.config.path, self.socket_path)
        try:
            await self._schedule()
        finally:
            await self._shutdown()
        if self._lost is not None:
            raise self._lost  # the command exits non-zero with its message

    def stop(self) -> None:
        """(on the daemon's loop, e.g. a signal handler) Finish: cancel the cycle, save, exit."""
        if self._stopping:
            return
        self._stopping = True
        log.info("stopping%s", " (cancelling the running poll cycle)" if self._polling else "")
        if self._cycle_task is not None:
            self._cycle_task.cancel()
        if self._wake is not None:
            self._wake.set()

    def reload_config(self) -> None:
        """(on the loop; SIGHUP) Re-read the config before the next cycle."""
        self._reload_asked = True
        if self._wake is not None:
            self._wake.set()

    async def _shutdown(self) -> None:
        task = self._cycle_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        try:
            if self._lost is None:
                await asyncio.to_thread(self.store.flush)
        except Exception as e:  # noqa: BLE001 - the caller's store.close() tries once more
            log.error("could not save at shutdown: %s", e)
        self._announce()
        await self.server.close()
        if self.poller is not None:
            # However many watch hits are pending, a stop ends within seconds (the rest is
            # counted and logged as not notified).
            await asyncio.to_thread(self.poller.close, NOTIFY_GRACE)
        log.info("daemon stopped after %d poll cycles", self.cycles)

    # --- the schedule ----------------------------------------------------------------------

    def _delay(self) -> float:
        """Seconds until the next cycle should start."""
        interval = self.config.polling.interval
        if self.last_cycle is not None and (self.last_cycle.get("error")
                                            or self.last_cycle.get("flush_error")):
            return ERROR_DELAY  # (a failed save is retried then, due feeds or not)
        due = seconds_until_due(self.config, self.store.feed_states(), self.clock())
        if due is None:
            return interval
        floor = MIN_DELAY if self.cycles else 0.0
        return min(max(due, floor), interval)

    async def _schedule(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            await self._maybe_reload_config()
            if not self._requests:
                delay = self._delay()
                self._next_at = time.monotonic() + delay
                if delay > 0:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), delay)
                self._wake.clear()
                if self._stopping:
                    break
                if not self._requests and time.monotonic() < self._next_at - 0.005:
                    continue  # woken to look again (config changed, feed re-enabled)
            request = self._requests.take() or PollRequest()
            force, only, what = request.force, request.only, request.what
            self._next_at = None
            self._started_cycles += 1
            _pause_the_collector()
            self._cycle_task = asyncio.ensure_future(self._cycle(force, only, what, self._started_cycles))
            try:
                await self._cycle_task
            except asyncio.CancelledError:
                if not self._stopping:
                    raise
            finally:
                self._cycle_task = None
                full = time.monotonic() - self._collected_at >= FULL_COLLECTION_EVERY
                _release_memory(full)
                if full:
                    self._collected_at = time.monotonic()

    def _queue_poll(self, force: bool, only: frozenset[str] | None, what: str) -> None:
        self._requests.put(force, only, what)
        if self._wake is not None:
            self._wake.set()

    async def _cycle(self, force: bool, only: frozenset[str] | None, what: str, serial: int) -> None:
        assert self.poller is not None
        poller = self.poller
        started = time.perf_counter()
        self._polling = True
        self._progress = {"done": 0, "due": 0, "new": 0}

        def on_due(due: int) -> None:  # (the cycle reads the feed states once, not twice)
            self._progress["due"] = due
            self.server.publish({"event": "poll-started", "due": due, "what": what, "cycle": serial})

        saver = asyncio.ensure_future(self._save_periodically())
        report: CycleReport | None = None
        error = None
        try:
            report = await poller.poll_cycle(force=force, only=only, on_feed=self._on_feed,
                                             on_due=on_due)
        except asyncio.CancelledError:
            error = "cancelled"
            raise
        except Exception as e:  # noqa: BLE001 - logged; the daemon goes on after a pause
            error = f"{e.__class__.__name__}: {e}"
            log.exception("poll cycle failed")
        finally:
            saver.cancel()
            self._polling = False
            self.cycles += 1
            self.last_cycle = {
                "finished": time.time(), "seconds": round(time.perf_counter() - started, 3),
                "what": what, "error": error,
                "feeds": len(report.outcomes) if report else 0,
                "new": len(report.new_items) if report else 0,
                "failed": len(report.failed) if report else 0,
                "flush_error": report.flush_error if report else None}
            self._announce()
            self._check_owner()
            self.server.publish({"event": "poll-finished", "cycle": serial, **{
                k: self.last_cycle[k] for k in ("new", "failed", "feeds", "error", "flush_error")},
                **(cycle_details(report) if report is not None else {})})

    def _on_feed(self, outcome: FeedOutcome) -> None:
        self._progress["done"] += 1
        self._progress["new"] += len(outcome.new_items)
        for hit in outcome.watch_hits:
            log.info("watch: %s: %s (%s)", ", ".join(hit.terms), hit.item.title, hit.item.source)

    async def _save_periodically(self) -> None:
        while True:
            await asyncio.sleep(max(self.flush_every, SAVE_SHARE * self._save_took))
            if self.store.dirty:
                started = time.perf_counter()
                with contextlib.suppress(Exception):  # the cycle's own flush reports errors
                    await asyncio.to_thread(self.store.flush)
                self._save_took = time.perf_counter() - started
                self._announce()

    def _announce(self) -> None:
        """Tell the viewers the store was saved (once per new generation)."""
        try:
            generation = self.store.generation
        except Exception:  # noqa: BLE001 - a closed store at exit
            return
        if generation != self._announced:
            self._announced = generation
            self.server.publish({"event": "changed", "generation": generation})

    async def _save(self) -> None:
        try:
            await asyncio.to_thread(self.store.flush)
        except Exception as e:  # noqa: BLE001 - a StoreError (disk full…): the changes stay pending
            if self._check_owner():
                raise ControlError(f"not saved: {e}") from None
            raise ControlError(f"changed in memory but could not save (retried with the next "
                               f"save): {e}") from None
        finally:
            self._announce()

    def _check_owner(self) -> bool:
        """Has the store stopped taking this process's writes (its folder deleted or moved,
        see storage.lock)? Then log it in one line and stop; ``run()`` raises it."""
        lost = getattr(self.store, "lost", None)
        if lost is not None and self._lost is None:
            self._lost = lost
            log.error("%s", lost)
            self.stop()
        return lost is not None

    # --- the config ------------------------------------------------------------------------

    async def _maybe_reload_config(self) -> None:
        if self._load_config is None:
            return
        asked, self._reload_asked = self._reload_asked, False
        if not asked and _stat(self.config.path) == self._config_stat:
            return
        try:
            config = await asyncio.to_thread(self._load_config)
        except ConfigError as e:
            log.error("config not reloaded, keeping the previous one: %s", e)
            self._config_stat = _stat(self.config.path)
            return
        await self._use_config(config)
        log.info("config reloaded from %s: %d feeds", config.path, len(config.feeds))

    async def _use_config(self, config: Config) -> None:
        old = self.config
        self.config = config
        self._config_stat = _stat(config.path)
        # (fingerprints: a config read from the cache keeps its rules undecoded)
        same_specs = old.specs.fingerprints == config.specs.fingerprints
        same_matchers = old.watch == config.watch and old.clusters == config.clusters
        if self.poller is not None and same_specs and same_matchers:
            self.poller.config = config  # the feed list changed: the parse workers stay
            return
        # The classifier, actor tagger, watch matcher and clusterer are built with the poller
        # (the first three in its parse workers): a new one.
        if self.poller is not None:
            await asyncio.to_thread(self.poller.close)
        self.poller = self._make_poller(config)
        await asyncio.to_thread(self.poller.warm_up)  # spawning workers: off the loop
        if same_specs:
            return  # the stored labels stay
        from feeds.classify.reclassify import reclassify_if_needed

        changed = await asyncio.to_thread(reclassify_if_needed, self.store, config.specs)
        if changed is not None:
            log.info("rules changed: re-classified %d stored items", changed)
            self._announce()

    # --- requests from viewers -------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        next_in = None
        if self._next_at is not None:
            next_in = round(max(self._next_at - time.monotonic(), 0.0), 3)
        return {"pid": os.getpid(), "version": __version__, "store": _absolute(self.store.path),
                "config": _absolute(self.config.path), "generation": self.store.generation,
                "polling": self._polling, "queued": bool(self._requests),
                "progress": dict(self._progress) if self._polling else None,
                "next_poll_in": next_in, "cycles": self.cycles, "last_cycle": self.last_cycle,
                "viewers": self.server.subscribers, "started": self.started,
                "feeds": len(self.config.feeds)}

    async def _handle(self, request: Request) -> dict[str, Any]:
        if self._stopping and request.op != "status":
            raise ControlError("the daemon is stopping")
        if request.op == "status":
            return self.status()
        if request.op == "mark":
            return await self._mark(request)
        if request.op == "label":
            return await self._label(request)
        if request.op == "poll":
            return self._poll(request)
        if request.op == "enable":
            return await self._enable(request)
        raise RequestError(f"unknown op {request.op!r}")  # pragma: no cover - parse_request

    async def _mark(self, request: Request) -> dict[str, Any]:
        missing = self.store.missing(request.ids)
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise RequestError(f"mark: no such item in the store: {shown} (nothing marked)")
        marked = self.store.mark_many(request.ids, read=request.read, starred=request.starred)
        log.info("mark: %d item(s)%s%s", marked,
                 "" if request.read is None else (" read" if request.read else " unread"),
                 "" if request.starred is None else (" starred" if request.starred else " unstarred"))
        await self._save()
        return {"marked": marked}

    async def _label(self, request: Request) -> dict[str, Any]:
        item_id = request.ids[0]
        # (off the loop: an archived item's week is read from disk)
        if await asyncio.to_thread(self.store.set_labels, item_id, request.labels) is None:
            raise RequestError(f"label: no such item in the store: {item_id}")
        log.info("label: %s set to %s by hand", item_id, ", ".join(request.labels) or "none")
        await self._save()
        fix = self.store.correction(item_id)
        return {"labels": list(fix.labels), "at": fix.at}

    def _poll(self, request: Request) -> dict[str, Any]:
        only = None
        if request.feeds is not None:
            keys = set()
            for name in request.feeds:
                source = self.config.feed(name)
                if source is None:
                    raise RequestError(f"poll: no feed named {name!r} in {self.config.path}")
                if not source.enabled:
                    raise RequestError(f"poll: the feed {source.name!r} is disabled")
                keys.add(source.key)
            only = frozenset(keys)
        running = self._polling
        self._queue_poll(request.force, only, "viewer")
        log.info("poll requested (%s)%s", "all due" if only is None else f"{len(only)} feed(s)",
                 ", after the running cycle" if running else "")
        # Every pending request goes to the next cycle started: its serial comes back in
        # that cycle's poll-started and poll-finished events.
        return {"queued": True, "after_running": running, "cycle": self._started_cycles + 1}

    async def _enable(self, request: Request) -> dict[str, Any]:
        from feeds.config.edit import enable_feed

        assert self._config_lock is not None
        async with self._config_lock:
            source = self.config.feed(request.feed)
            if source is None:
                raise RequestError(f"enable: no feed named {request.feed!r} in {self.config.path}")
            try:
                edit = await asyncio.to_thread(enable_feed, self.config, source.name,
                                               request.enabled, self.store)
            except ConfigError as e:
                raise ControlError(f"config: {e}") from None
            except (KeyError, OSError) as e:
                raise ControlError(f"could not edit the config: {e}") from None
            config, created = edit.config, edit.created
            await self._use_config(config)
            await self._save()
        log.info("%s the feed %r in %s", "enabled" if request.enabled else "disabled",
                 source.name, config.path)
        self.server.publish({"event": "config", "path": str(config.path)})
        if request.enabled:
            self._queue_poll(False, frozenset({source.key}), "enable")  # try it at once
        return {"config": str(config.path), "created": created}

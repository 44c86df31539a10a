"""One poll cycle over the due feeds: fetch → parse (worker processes) → store, politely.

The CLI (``poll --once``), the dashboard and the daemon all call :meth:`Poller.poll_cycle`.
The items new to the store in a cycle are clustered into stories (before they are stored:
``Item.cluster``) and matched against the watch terms (``FeedOutcome.watch_hits``; the
notify command, if any, runs once per hit on a background thread).
Politeness: a global cap on requests in flight and one request per host at a time;
conditional GETs; an unchanged body is not parsed again; backoff and Retry-After are honoured
even by a forced poll. Errors stay per feed; a failed poll never deletes or hides items.
The store is injected (anything with the :class:`StoreLike` methods); so are the clock, the
HTTP transport and the address classifier.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, Protocol, TypeVar
from urllib.parse import urlsplit

from feeds.poll import schedule
from feeds.config.load import Config
from feeds.poll.dedup import carry_over_ids, link_key
from feeds.net.fetch import Fetcher, FetchOutcome, FetchResult, body_hash, read_local
from feeds.net.httpx_adapter import httpx
from feeds.model import (
    FAILING_STATUSES, OTHER_LABEL, FeedSource, FeedState, FeedStatus, Item, new_feed_state,
    is_utc_iso, parse_utc_iso, utc_iso,
)
from feeds.net.policy import AddressClassifier, host_is_internal, names_internal_address
from feeds.redact import redact_text, redact_url

if TYPE_CHECKING:  # imported when used: a poll with clustering and watching off pays nothing
    from feeds.analysis.clusters import Clusterer
    from feeds.parse.document import ParsedFeed
    from feeds.parse.pool import ParsePool
    from feeds.analysis.notify import Notifier
    from feeds.analysis.watch import WatchHit, WatchMatcher

T = TypeVar("T")
log = logging.getLogger("diplowatch.poll")

REDIRECT_CONFIRMATIONS = 3  # consistent 301/308 answers before the stored URL follows them
# A request still running after this long (a hung or dripping server) stops counting against
# the global and per-host limits: it cannot be loading the server, and it must not hold up
# the other feeds of its host for its whole deadline. It still ends at its own deadline.
SLOT_LEASE = 5.0
RETENTION_EVERY = 86400.0  # seconds between two retention passes
RETENTION_KEY = "retention_at"


async def _leased(work: Awaitable[T], slots: tuple[asyncio.Semaphore, ...], lease: float) -> T:
    """Run ``work`` holding ``slots``, giving them back when it ends or after ``lease`` s.
    (A timer, not a task per request with ``asyncio.wait``: that cost ~25 µs a feed.)"""
    held: list[asyncio.Semaphore] = []

    def give_back() -> None:
        while held:
            held.pop().release()

    try:
        for slot in slots:
            await slot.acquire()
            held.append(slot)
    except BaseException:
        give_back()
        if asyncio.iscoroutine(work):
            work.close()
        raise
    timer = asyncio.get_running_loop().call_later(lease, give_back)
    try:
        return await work
    finally:
        timer.cancel()
        give_back()


@functools.lru_cache(maxsize=8192)
def _hostname(url: str) -> str:
    return urlsplit(url).hostname or ""


@functools.lru_cache(maxsize=8192)
def _host_port(url: str) -> str:
    """The key of a URL's per-host slot: one request at a time per host and port."""
    where = urlsplit(url)
    return f"{where.hostname or ''}:{where.port}"


class StoreLike(Protocol):  # what the poller needs from storage.Store
    def known(self, item_id: str) -> bool: ...
    def recent(self, limit: int | None = None) -> list[Item]: ...
    def upsert_items(self, items: Iterable[Item], *, owned: bool = False) -> list[Item]: ...
    def feed_state(self, key: str) -> FeedState | None: ...
    def put_feed_state(self, state: FeedState) -> None: ...
    def flush(self) -> object: ...


@dataclass(slots=True)
class FeedOutcome:
    source: FeedSource
    status: FeedStatus
    new_items: list[Item] = field(default_factory=list)
    error: str | None = None
    warning: str | None = None
    http_status: int | None = None
    elapsed: float = 0.0
    state: FeedState | None = None
    watch_hits: list[WatchHit] = field(default_factory=list)  # new items matching [watch]
    # New items that are the feed's backlog (its first document, published before it was
    # added): stored, but not news, so neither watch hits nor toasts.
    backlog: frozenset[str] = frozenset()

    @property
    def failed(self) -> bool:
        return self.status in FAILING_STATUSES

    @property
    def news(self) -> list[Item]:
        """The new items that are news (``new_items`` less the backlog)."""
        return [it for it in self.new_items if it.id not in self.backlog]


@dataclass(slots=True)
class CycleReport:
    started: float
    finished: float = 0.0
    outcomes: list[FeedOutcome] = field(default_factory=list)
    not_due: int = 0
    flush_error: str | None = None
    flush_exception: Exception | None = None  # what the failed save raised

    @property
    def failed(self) -> list[FeedOutcome]:
        return [o for o in self.outcomes if o.failed]

    @property
    def new_items(self) -> list[Item]:
        return [it for o in self.outcomes for it in o.new_items]

    @property
    def news(self) -> list[Item]:
        return [it for o in self.outcomes for it in o.news]

    @property
    def watch_hits(self) -> list[WatchHit]:
        return [hit for o in self.outcomes for hit in o.watch_hits]

    def new_by_label(self) -> dict[str, int]:
        """New items per label ("other" for none), in the order labels first appear."""
        counts: dict[str, int] = {}
        for item in self.new_items:
            for label in item.labels or (OTHER_LABEL,):
                counts[label] = counts.get(label, 0) + 1
        return counts


def backlog_ids(new: list[Item], state: FeedState, now: float) -> frozenset[str]:
    """The ids of ``new`` that are the feed's backlog rather than news.

    Only the first document a feed ever yields has a backlog (``state.last_success`` is still
    unset): the items it published before the poller met it (``state.added``; a state from
    before that field: now). Subscribing to a feed must not alert on its last 60 stories.
    An item with no usable date, or dated after now, cannot show it is recent: backlog too.
    """
    if state.last_success is not None or not new:
        return frozenset()
    added = parse_utc_iso(state.added) if state.added else now
    # Stamps in utc_iso's fixed-width form are ordered as text: compared so, 10k items of a
    # first poll skip ~50 ms of parsing (a stamp that is not in that form is parsed).
    span = (state.added, utc_iso(now)) if state.added and is_utc_iso(state.added) else None

    def is_news(item: Item) -> bool:
        if item.date_missing:
            return False
        if span is not None and is_utc_iso(item.published):
            return span[0] <= item.published <= span[1]
        try:
            return added <= parse_utc_iso(item.published) <= now
        except ValueError:  # (stored by hand, or by a future version)
            return False

    return frozenset(it.id for it in new if not is_news(it))


def _stored_digests(state: FeedState) -> bytes:
    """The entry digests a feed's state keeps from its last parse (none if unreadable)."""
    try:
        return bytes.fromhex(state.digests)
    except ValueError:
        return b""


def new_parse_pool(config: Config, *, resident: bool) -> ParsePool:
    """The parse pool a poller makes for itself. A one-shot poll's parses its first (plain,
    small) documents in process (see ParsePool) and its workers run at its own priority
    (headless: no screen to yield the CPU to)."""
    from feeds.parse.pool import WORKER_NICE, ParsePool

    settings = config.polling
    return ParsePool(config.rules, workers=settings.parse_workers, timeout=settings.parse_timeout,
                     actors_spec=config.actors, watch_spec=config.watch,
                     inline=0 if resident else ParsePool.one_shot_inline,
                     worker_nice=WORKER_NICE if resident else 0)


class Poller:
    slot_lease = SLOT_LEASE

    def __init__(self, config: Config, store: StoreLike, *, clock: Callable[[], float] = time.time,
                 transport: httpx.AsyncBaseTransport | None = None,
                 is_internal: AddressClassifier = host_is_internal,
                 parse_pool: ParsePool | None = None, rng: random.Random | None = None,
                 clusterer: Clusterer | None = None, watch: WatchMatcher | None = None,
                 notifier: Notifier | None = None, resident: bool = True,
                 owns_pool: bool = False) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.transport = transport
        self.is_internal = is_internal
        self.rng = rng or random.Random()
        # ``owns_pool``: the given pool is ours to release and close, as if we had made it
        # (a one-shot poll starts its workers before its Poller exists: see the CLI's poll).
        self._own_pool = parse_pool is None or owns_pool
        self._pool = parse_pool  # ours is made at its first use (``pool``)
        # Clustering and watching are on unless the config switches them off; tests and the
        # dashboard may inject their own (a notifier with an error callback, say). A one-shot
        # poll builds its own when a first item needs them (_clusters, _watcher): where
        # nothing changed, their imports and set-up are most of the Poller's own start.
        self._lazy_clusters = clusterer is None and config.clusters.enabled and not resident
        if clusterer is None and config.clusters.enabled and resident:
            from feeds.analysis.clusters import Clusterer

            clusterer = Clusterer(config.clusters, config.actors)
        self.clusterer = clusterer
        self._clusters_built = False  # the index is rebuilt from the store on the first cycle
        self._cycle_started = 0.0
        self._lazy_watch = watch is None and bool(config.watch.terms) and not resident
        if watch is None and config.watch.terms and resident:
            from feeds.analysis.watch import WatchMatcher

            watch = WatchMatcher(config.watch)
        self.watch = watch
        self._own_notifier = notifier is None
        if (notifier is None and config.watch.notify_command
                and (watch is not None or self._lazy_watch)):
            from feeds.analysis.notify import Notifier

            notifier = Notifier(config.watch.notify_command, config.watch.notify_timeout,
                                budget=config.watch.notify_budget)
        self.notifier = notifier
        self.resident = resident  # lives on across cycles (daemon, dashboard), or one-shot
        # Hits whose items are not saved yet: notified after the cycle's save succeeds (a
        # failed save keeps them, with the items, for the next one).
        self._unsaved_hits: list[WatchHit] = []
        self._internal: dict[str, bool] = {}  # host → names an internal address (this cycle)
        # feed key → the digests of the entries of its last parsed document (ParsedFeed.digests):
        # a poller classifies and stores again only the entries that changed (FeedState.digests
        # carries them to the next process).
        self._digests: dict[str, bytes] = {}

    @property
    def pool(self) -> ParsePool:
        """The parse pool. Ours is made when first used: a one-shot poll where no feed
        changed parses nothing, and so never imports the parse stack."""
        if self._pool is None:
            self._pool = new_parse_pool(self.config, resident=self.resident)
        return self._pool

    def warm_up(self, wait: float = 0.0) -> None:
        """Start the parse workers now, so that the first cycle does not wait for their
        imports; with ``wait``, block until they are ready (at most that many seconds)."""
        self.pool.warm_up()
        if wait > 0 and hasattr(self.pool, "wait_ready"):
            self.pool.wait_ready(wait)

    def close(self, notify_grace: float | None = None) -> None:
        """Stop the parse workers (if ours); wait for pending notify commands (each cycle's
        within its budget) so that every watch hit is notified once; with ``notify_grace``
        (a daemon stopping), wait that long at most and kill what is left."""
        if self._own_pool and self._pool is not None:
            self._pool.close()
        if self._own_notifier and self.notifier is not None:
            self.notifier.close(notify_grace)

    # --- who is due ----------------------------------------------------------------------

    def blocked_until(self, state: FeedState | None, now: float) -> float | None:
        """A time before which even a forced poll must not ask (Retry-After), if any."""
        if state is not None and state.retry_after:
            until = parse_utc_iso(state.retry_after)
            if until > now:
                return until
        return None

    def due_feeds(self, now: float, *, force: bool = False,
                  only: Iterable[str] | None = None) -> tuple[list[FeedSource], int]:
        """Feeds to poll now, and how many enabled feeds are not due yet."""
        due, not_due = self._due(now, force, only)
        return [source for source, _ in due], not_due

    def _due(self, now: float, force: bool, only: Iterable[str] | None,
             ) -> tuple[list[tuple[FeedSource, FeedState | None]], int]:
        """:meth:`due_feeds`, each feed with its stored state (None: never polled)."""
        wanted = set(only) if only is not None else None
        due: list[tuple[FeedSource, FeedState | None]] = []
        not_due = 0
        for source in self.config.feeds:
            if not source.enabled:
                continue
            if wanted is not None and source.key not in wanted and source.name not in wanted:
                continue
            state = self._sane_state(self.store.feed_state(source.key), now)
            if state is not None and state.status == FeedStatus.GONE:
                continue
            if self.blocked_until(state, now) is not None:
                not_due += 1
                continue
            if force or state is None or not state.next_poll or parse_utc_iso(state.next_poll) <= now:
                due.append((source, state))
            else:
                not_due += 1
        return due, not_due

    def _sane_state(self, state: FeedState | None, now: float) -> FeedState | None:
        """The stored state with stamps from a clock that has since jumped back pulled in;
        a fixed state is stored, so that the feed's turn stops moving with the clock."""
        if state is None:
            return None
        fixed = schedule.sane_state(state, self.config.polling, now)
        if fixed is not state:
            log.warning("%s: stored times were ahead of the clock (did it jump back?): next "
                        "poll %s → %s", redact_url(state.key), state.next_poll, fixed.next_poll)
            self.store.put_feed_state(fixed)
        return fixed

    # --- the cycle -----------------------------------------------------------------------

    async def poll_cycle(self, *, force: bool = False, only: Iterable[str] | None = None,
                         on_feed: Callable[[FeedOutcome], None] | None = None,
                         flush: bool = True,
                         on_due: Callable[[int], None] | None = None) -> CycleReport:
        """Poll the due feeds (all of ``only``'s with ``force``); ``on_due`` is told how
        many before the first request, ``on_feed`` each feed's outcome as it lands."""
        report = CycleReport(started=self.clock())
        if self.notifier is not None:
            self.notifier.new_cycle()  # this cycle's hits share one notify budget
        due, report.not_due = self._due(report.started, force, only)
        if on_due is not None:
            on_due(len(due))
        self._internal = {}
        self._cycle_started = report.started
        if due and self.clusterer is not None and not self._clusters_built:
            # Once per poller: the stories of the last days, from the store's recent window;
            # a one-shot poll only if an item needs them (a lean store reads no item else).
            if self.resident:
                await asyncio.to_thread(self.clusterer.rebuild, self.store.recent(),
                                        report.started)
            else:
                self.clusterer.rebuild_when_needed(self.store.recent, report.started)
            self._clusters_built = True
        if due:
            self._expect_parses(due)
            settings = self.config.polling
            global_slots = asyncio.Semaphore(settings.concurrency)
            host_slots: dict[str, asyncio.Semaphore] = {}
            # One fetcher per cycle: polls are minutes apart, longer than any server keeps
            # an idle connection, so nothing is lost by opening fresh ones each cycle.
            async with Fetcher(settings, transport=self.transport, is_internal=self.is_internal,
                               clock=self.clock) as fetcher:

                async def one(source: FeedSource, state: FeedState | None) -> None:
                    outcome = await self._poll_feed(source, state, fetcher, global_slots, host_slots)
                    report.outcomes.append(outcome)
                    if on_feed is not None:
                        on_feed(outcome)

                await asyncio.gather(*(one(source, state) for source, state in due))
            if not self.resident and self._own_pool and self._pool is not None:
                await self._off_loop(self._pool.release)  # parsing is over: free its memory
        if flush:
            try:
                await self._off_loop(self.store.flush)
            except Exception as e:  # the store keeps the data dirty and retries next cycle
                report.flush_error, report.flush_exception = str(e), e
                log.error("could not save the poll cycle (will retry): %s", e)
            else:
                hits, self._unsaved_hits = self._unsaved_hits, []
                if hits and self.notifier is not None:
                    self.notifier.submit(hits)
            if self.config.storage.retention_days and report.flush_error is None:
                await self._off_loop(self._apply_retention, report.started)
        report.finished = self.clock()
        for o in report.failed:
            log.warning("%s: %s: %s", o.source.name, o.status, o.error)
        log.info("polled %d feeds: %d new items, %d failed, %d not due", len(report.outcomes),
                 len(report.new_items), len(report.failed), report.not_due)
        return report

    async def _off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on a thread, so that the loop stays free for what else it serves (a
        daemon's control socket); a one-shot poll's loop has nothing else to do by then, and
        runs it at once (a thread's start, and the executor's shutdown, cost more)."""
        if self.resident:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    def _expect_parses(self, due: list[tuple[FeedSource, FeedState | None]]) -> None:
        """Tell a one-shot poll's own pool how many feeds were never parsed (a parse each,
        surely); none: the pool is not even made."""
        if self.resident or not self._own_pool:
            return
        never_parsed = sum(1 for _, st in due if st is None or not st.body_hash)
        if never_parsed:
            self.pool.expect(never_parsed)

    def _apply_retention(self, now: float) -> None:
        """At most once a day: drop items older than ``retention_days`` unless starred."""
        last = float(self.store.get_meta(RETENTION_KEY) or 0.0)
        if 0.0 <= now - last < RETENTION_EVERY:  # (a stamp ahead of the clock is stale)
            return
        try:
            removed = self.store.apply_retention(self.config.storage.retention_days, now)
            self.store.set_meta(RETENTION_KEY, now)
            self.store.flush()
        except Exception as e:  # retention is housekeeping: the next cycle tries again
            log.error("retention failed (will retry): %s", e)
            return
        if removed:
            log.info("retention: removed %d items older than %d days (starred items kept)",
                     removed, self.config.storage.retention_days)

    async def _poll_feed(self, source: FeedSource, state: FeedState | None, fetcher: Fetcher,
                         global_slots: asyncio.Semaphore,
                         host_slots: dict[str, asyncio.Semaphore]) -> FeedOutcome:
        """``state``: as :meth:`_due` read it at the start of the cycle."""
        started = time.perf_counter()
        state = state or new_feed_state(source, self.clock())
        if source.is_local:
            result = await asyncio.to_thread(read_local, source.url, self.config.polling.max_body)
        else:
            host = _host_port(state.url)
            slot = host_slots.get(host)
            if slot is None:
                slot = host_slots[host] = asyncio.Semaphore(self.config.polling.per_host)
            allow = await self._allows_internal(source)
            # The host's slot first: a feed waiting for its host (the next of a run of one
            # site's feeds) must not hold one of the global slots meanwhile, idle while other
            # hosts' feeds wait for it.
            result = await _leased(fetcher.fetch(state.url, etag=state.etag,
                                                 last_modified=state.last_modified,
                                                 allow_internal=allow),
                                   (slot, global_slots), self.slot_lease)
        try:
            outcome = await self._settle(source, state, result)
        except Exception as e:  # a bug must cost one feed, not the cycle
            outcome = self._failure(source, state, FetchResult(
                FetchOutcome.ERROR, state.url, state.url,
                error=f"internal error: {e.__class__.__name__}: {e}"))
        outcome.elapsed = time.perf_counter() - started
        return outcome

    async def _allows_internal(self, source: FeedSource) -> bool:
        """May this feed reach internal addresses? Decided from the config, never from where
        the feed has (permanently) redirected to."""
        if source.allow_internal or self.config.polling.allow_internal:
            return True
        host = _hostname(source.url)
        allowed = self._internal.get(host)
        if allowed is None:
            allowed = self._internal[host] = await names_internal_address(host, self.is_internal)
        return allowed

    async def _settle(self, source: FeedSource, state: FeedState, result: FetchResult) -> FeedOutcome:
        now = self.clock()
        # What changes in the state, applied once (by _success or _failure): a replace()
        # per step cost ~10 µs each, four times a feed.
        changes: dict[str, Any] = {"last_attempt": utc_iso(now), "http_status": result.http_status}
        if result.error:  # what is stored, shown and sent on never carries URL credentials
            result.error = redact_text(result.error)
        if result.outcome == FetchOutcome.GONE:
            state = replace(state, **changes, status=FeedStatus.GONE, error=result.error,
                            next_poll=None, failures=state.failures + 1,
                            failing_since=state.failing_since or utc_iso(now))
            self.store.put_feed_state(state)
            return FeedOutcome(source, FeedStatus.GONE, error=result.error,
                               http_status=result.http_status, state=state)
        if result.outcome in (FetchOutcome.ERROR, FetchOutcome.RATE_LIMITED):
            return self._failure(source, state, result, changes)
        if result.outcome == FetchOutcome.NOT_MODIFIED:
            return self._success(source, state, result, None, FeedStatus.NOT_MODIFIED, changes)
        digest = body_hash(result.body or b"")
        if digest == state.body_hash:
            return self._success(source, state, result, None, FeedStatus.NOT_MODIFIED, changes)
        parsed = await self._parse(source, state, result, now)
        if not parsed.ok:
            result.error = parsed.error
            # The old validators stay, so the next poll fetches (and parses) the document again.
            return self._failure(source, state, result, changes)
        changes["body_hash"] = digest
        return self._success(source, state, result, parsed, FeedStatus.OK, changes)

    async def _parse(self, source: FeedSource, state: FeedState, result: FetchResult,
                     now: float) -> ParsedFeed:
        """The document, parsed by a worker. The entries unchanged since this poller's last
        parse of the feed come back by id only (``ParsedFeed.same``: not classified, not
        stored again) unless the store no longer holds them as that parse left them; then
        the document is parsed again in full."""
        from feeds.parse.pool import ParseJob

        job = ParseJob(body=result.body or b"", feed_key=source.key, feed_name=source.name,
                       url=result.final_url, content_type=result.content_type, now=now,
                       max_items=self.config.polling.max_items,
                       seen=self._digests.get(source.key) or _stored_digests(state))
        parsed = await self.pool.parse(job)
        if parsed.ok and parsed.same:
            recent, known = set(state.recent_ids), self.store.known
            if not all(i in recent and known(i) for i in parsed.same):
                parsed = await self.pool.parse(replace(job, seen=b""))
        return parsed

    def _success(self, source: FeedSource, state: FeedState, result: FetchResult,
                 parsed: ParsedFeed | None, status: FeedStatus,
                 changes: dict[str, Any]) -> FeedOutcome:
        now = self.clock()
        new: list[Item] = []
        hits: list[WatchHit] = []
        backlog: frozenset[str] = frozenset()
        if parsed is not None:
            new, hits, backlog = self._ingest(state, parsed, now, changes)
        state = replace(
            state, **changes, **self._follow_permanent_redirect(state, result),
            etag=result.etag or state.etag,
            last_modified=result.last_modified or state.last_modified,
            status=status, error=None, failures=0, failing_since=None, retry_after=None,
            last_success=utc_iso(now),
            next_poll=utc_iso(schedule.next_after_success(
                source, self.config.polling, now, self.rng,
                ttl=parsed.ttl if parsed else None, max_age=result.max_age)),
        )
        self.store.put_feed_state(state)
        if parsed is not None:  # what the next parse of this feed compares its entries with
            self._digests[source.key] = parsed.digests
        return FeedOutcome(source, status, new_items=new, http_status=result.http_status,
                           warning=parsed.warning if parsed else None, state=state,
                           watch_hits=hits, backlog=backlog)

    def _ingest(self, state: FeedState, parsed: ParsedFeed, now: float,
                changes: dict[str, Any]) -> tuple[list[Item], list[WatchHit], frozenset[str]]:
        """Store a parsed document's items: the new items, their watch hits and which of them
        are backlog; the document's ids and links go into ``changes``."""
        recent = set(state.recent_ids)
        links = dict(zip(state.recent_ids, state.recent_links))
        kept = [(i, links.get(i, "")) for i in parsed.same]
        items = carry_over_ids(parsed.items, state.recent_ids, state.recent_links,
                               {it.id for it in parsed.items if it.id in recent or self.store.known(it.id)},
                               kept)
        # An id in the last document but no longer in memory lives in an archive week:
        # it is known, not new (older partitions are never rewritten by a poll).
        fresh = [it for it in items if self.store.known(it.id) or it.id not in recent]
        clusterer = self._clusters() if fresh else self.clusterer
        if clusterer is not None:
            # Only items the store has not seen get a cluster: an update keeps its own.
            unknown = [it for it in fresh if not self.store.known(it.id)]
            clustered = {it.id: it for it in clusterer.assign(unknown, now)}
            fresh = [clustered.get(it.id, it) for it in fresh]
        new = self.store.upsert_items(fresh, owned=True)  # parsed for us alone
        if clusterer is not None:
            clusterer.add(new, now)  # later feeds of this cycle can join them
        backlog = backlog_ids(new, state, now)
        hits: list[WatchHit] = []
        if new and self._watcher() is not None:
            hits = self._watch_hits([it for it in new if it.id not in backlog], parsed)
            if hits and self.notifier is not None:
                self._unsaved_hits.extend(hits)
        changes.update(recent_ids=(*(it.id for it in items), *parsed.same),
                       recent_links=(*(link_key(it.link) for it in items), *(k for _, k in kept)),
                       last_new=len(new), digests=parsed.digests.hex())
        return new, hits, backlog

    def _clusters(self) -> Clusterer | None:
        """The clusterer; a one-shot poll's is made here, for the first item that needs it,
        its index read from the store when an item inside its horizon does."""
        if self._lazy_clusters:
            from feeds.analysis.clusters import Clusterer

            self._lazy_clusters = False
            self.clusterer = Clusterer(self.config.clusters, self.config.actors)
            self.clusterer.rebuild_when_needed(self.store.recent, self._cycle_started)
            self._clusters_built = True
        return self.clusterer

    def _watcher(self) -> WatchMatcher | None:
        """The watch matcher; a one-shot poll's is made here, for its first new item."""
        if self._lazy_watch:
            from feeds.analysis.watch import WatchMatcher

            self._lazy_watch = False
            self.watch = WatchMatcher(self.config.watch)
        return self.watch

    def _watch_hits(self, new: list[Item], parsed: ParsedFeed) -> list[WatchHit]:
        """The new items that match [watch]: as the parse worker matched them when it had
        these very terms, else matched here (an injected matcher or pool; an id carried
        over from an earlier document)."""
        assert self.watch is not None
        found = parsed.watch
        if found is None or getattr(self.pool, "watch_spec", None) != self.watch.settings:
            return self.watch.hits(new)
        from feeds.analysis.watch import WatchHit

        parsed_ids = {it.id for it in parsed.items}
        hits: list[WatchHit] = []
        for item in new:
            if item.id not in parsed_ids:
                hit = self.watch.match(item)
                if hit is not None:
                    hits.append(hit)
            elif item.id in found:
                terms, evidence = found[item.id]
                hits.append(WatchHit(item, terms, evidence))
        return hits

    def _failure(self, source: FeedSource, state: FeedState, result: FetchResult,
                 changes: dict[str, Any] | None = None) -> FeedOutcome:
        now = self.clock()
        failures = state.failures + 1
        retry_after = result.retry_after
        status = FeedStatus.RATE_LIMITED if result.outcome == FetchOutcome.RATE_LIMITED else FeedStatus.ERROR
        state = replace(
            state, **(changes or {}), status=status, error=redact_text(result.error or "unknown error"), failures=failures,
            failing_since=state.failing_since or utc_iso(now),
            retry_after=utc_iso(retry_after) if retry_after else None,
            next_poll=utc_iso(schedule.next_after_failure(
                source, self.config.polling, now, self.rng, failures, retry_after)),
        )
        self.store.put_feed_state(state)
        return FeedOutcome(source, status, error=state.error, http_status=result.http_status,
                           state=state)

    @staticmethod
    def _follow_permanent_redirect(state: FeedState, result: FetchResult) -> dict[str, Any]:
        """The state's changes for the permanent redirect this fetch met (or did not)."""
        target = result.permanent_redirect
        if not target:
            return {"redirect_target": None, "redirect_count": 0}
        count = state.redirect_count + 1 if target == state.redirect_target else 1
        if count >= REDIRECT_CONFIRMATIONS:
            # Only the stored URL changes; the config file is the user's and is never rewritten.
            return {"url": target, "redirect_target": None, "redirect_count": 0}
        return {"redirect_target": target, "redirect_count": count}

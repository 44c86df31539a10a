"""Poll cycles end to end: loopback server → fetch → parse workers → TinyDB files in tmp."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from feeds.config.load import load_config
from feeds.model import FeedSource, FeedStatus
from feeds.parse.pool import ParsePool
from feeds.poll.poller import REDIRECT_CONFIRMATIONS, Poller
from storage.query import ItemFilter
from storage.store import Store
from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.helpers import Clock, CountingPool

T0 = 1_780_000_000.0


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def setup(tmp_path: Path, write_config, feed_server: FeedServer, clock: Clock, parse_pool: ParsePool):
    """(make_poller(feeds) → Poller, store) with a store in tmp_path."""
    store = Store.open(tmp_path / "store", clock=clock)
    pollers = []

    def make(feeds: list[tuple[str, str]], **polling):
        config = load_config(write_config(
            [(n, feed_server.url(p) if p.startswith("/") and not Path(p).exists() else p) for n, p in feeds]))
        if polling:
            config = replace(config, polling=replace(config.polling, **polling))
        poller = Poller(config, store, clock=clock, parse_pool=CountingPool(parse_pool))
        pollers.append(poller)
        return poller

    yield make, store
    store.close()


def doc(*titles: str) -> bytes:
    return rss([rss_item(t, guid=f"g-{t}", link=f"http://news.example/{k}") for k, t in enumerate(titles)])


async def test_second_poll_is_conditional_and_304_refreshes_validators(setup, feed_server: FeedServer, clock: Clock) -> None:
    make, store = setup
    feed_server.route("/a.xml", Response(body=doc("Peace talks resume in Istanbul"), etag='"v1"'))
    poller = make([("A", "/a.xml")])
    r1 = await poller.poll_cycle()
    assert [o.status for o in r1.outcomes] == [FeedStatus.OK] and len(r1.new_items) == 1
    assert "if-none-match" not in feed_server.requests("/a.xml")[0].headers

    def not_modified_with_new_etag(req):
        assert req.headers.get("if-none-match") == '"v1"'
        return Response(304, headers={"ETag": '"v2"'})

    feed_server.route("/a.xml", not_modified_with_new_etag)
    r2 = await poller.poll_cycle(force=True)
    assert [o.status for o in r2.outcomes] == [FeedStatus.NOT_MODIFIED] and r2.new_items == []
    assert feed_server.requests("/a.xml")[1].headers["if-none-match"] == '"v1"'
    state = store.feed_state(feed_server.url("/a.xml"))
    assert state.etag == '"v2"'  # taken from the 304
    feed_server.route("/a.xml", Response(body=doc("x"), etag='"v3"'))
    await poller.poll_cycle(force=True)
    assert feed_server.requests("/a.xml")[2].headers["if-none-match"] == '"v2"'


async def test_unchanged_body_is_not_parsed_again(setup, feed_server: FeedServer) -> None:
    make, store = setup
    feed_server.route("/a.xml", Response(body=doc("One", "Two")))  # no validators at all
    poller = make([("A", "/a.xml")])
    await poller.poll_cycle()
    assert poller.pool.calls == 1
    r = await poller.poll_cycle(force=True)
    assert poller.pool.calls == 1
    assert r.outcomes[0].status == FeedStatus.NOT_MODIFIED


async def test_repolling_never_duplicates_and_adds_only_new_items(setup, feed_server: FeedServer, tmp_path: Path, clock: Clock) -> None:
    make, store = setup
    feed_server.route("/a.xml", Response(body=doc("One", "Two")))
    poller = make([("A", "/a.xml")])
    await poller.poll_cycle()
    feed_server.route("/a.xml", Response(body=doc("Three", "One", "Two")))
    r = await poller.poll_cycle(force=True)
    assert [i.title for i in r.new_items] == ["Three"]
    assert len(store.recent()) == 3
    store.flush()
    reopened = Store.open(tmp_path / "store2", clock=clock)  # a different store is empty
    assert reopened.recent() == []
    reopened.close()


async def test_items_survive_a_restart(tmp_path: Path, write_config, feed_server: FeedServer, clock: Clock, parse_pool) -> None:
    feed_server.route("/a.xml", Response(body=doc("One", "Two")))
    config = load_config(write_config([("A", feed_server.url("/a.xml"))]))
    with Store.open(tmp_path / "s", clock=clock) as store:
        await Poller(config, store, clock=clock, parse_pool=parse_pool).poll_cycle()
    with Store.open(tmp_path / "s", clock=clock) as store:
        assert sorted(i.title for i in store.recent()) == ["One", "Two"]
        r = await Poller(config, store, clock=clock, parse_pool=parse_pool).poll_cycle(force=True)
        assert r.new_items == [] and len(store.recent()) == 2


async def test_a_failing_feed_does_not_stop_the_others(setup, feed_server: FeedServer) -> None:
    make, store = setup
    feed_server.route("/good.xml", Response(body=doc("Good")))
    feed_server.route("/html", Response(body=b"<!doctype html><html><body>login</body></html>", content_type="text/html"))
    feed_server.route("/500", Response(500))
    poller = make([("Good", "/good.xml"), ("Html", "/html"), ("Err", "/500"), ("Dead", "http://127.0.0.1:9/x")])
    r = await poller.poll_cycle()
    by_name = {o.source.name: o for o in r.outcomes}
    assert by_name["Good"].status == FeedStatus.OK and len(by_name["Good"].new_items) == 1
    assert by_name["Html"].status == FeedStatus.ERROR and "HTML page" in by_name["Html"].error
    assert by_name["Err"].error == "HTTP 500 Internal Server Error"
    assert by_name["Dead"].error == "connection refused"
    assert len(r.failed) == 3


async def test_failed_poll_keeps_stored_items(setup, feed_server: FeedServer) -> None:
    make, store = setup
    feed_server.route("/a.xml", Response(body=doc("One", "Two")))
    poller = make([("A", "/a.xml")])
    await poller.poll_cycle()
    for bad in (Response(body=b""), Response(body=rss([])[:60]), Response(500)):
        feed_server.route("/a.xml", bad)
        r = await poller.poll_cycle(force=True)
        assert r.outcomes[0].status == FeedStatus.ERROR
        assert sorted(i.title for i in store.recent()) == ["One", "Two"]
    feed_server.route("/a.xml", Response(body=rss([])))  # a valid, empty feed deletes nothing either
    await poller.poll_cycle(force=True)
    assert len(store.recent()) == 2


async def test_seed_feed_is_classified_as_talks(setup) -> None:
    make, store = setup
    seed = Path(__file__).resolve().parents[2] / "seeds" / "seed-feed.xml"
    poller = make([("Seed", str(seed))])
    r = await poller.poll_cycle()
    (item,) = r.new_items
    assert "talks" in item.labels and item.primary == "talks"
    assert any(m.label == "talks" for m in item.evidence)


async def test_backoff_grows_and_resets_on_success(setup, feed_server: FeedServer, clock: Clock) -> None:
    make, store = setup
    feed_server.route("/a.xml", Response(500))
    poller = make([("A", "/a.xml")], jitter=0.0, interval=600.0, min_interval=60.0)
    key = feed_server.url("/a.xml")
    delays = []
    for _ in range(4):
        await poller.poll_cycle(force=True)
        state = store.feed_state(key)
        delays.append(round(_ts(state.next_poll) - clock.now))
    assert delays == [600, 1200, 2400, 4800]
    assert store.feed_state(key).failures == 4 and store.feed_state(key).failing_since
    # Not due yet: an unforced cycle does not ask.
    before = len(feed_server.requests("/a.xml"))
    await poller.poll_cycle()
    assert len(feed_server.requests("/a.xml")) == before
    feed_server.route("/a.xml", Response(body=doc("Back")))
    await poller.poll_cycle(force=True)
    state = store.feed_state(key)
    assert (state.failures, state.failing_since, state.status) == (0, None, FeedStatus.OK)
    assert round(_ts(state.next_poll) - clock.now) == 600


async def test_backoff_is_capped(setup, feed_server: FeedServer, clock: Clock) -> None:
    make, store = setup
    feed_server.route("/a.xml", Response(500))
    poller = make([("A", "/a.xml")], jitter=0.0, interval=3600.0)
    for _ in range(8):
        await poller.poll_cycle(force=True)
    assert round(_ts(store.feed_state(feed_server.url("/a.xml")).next_poll) - clock.now) == 86400


async def test_retry_after_is_respected_even_by_a_forced_poll(setup, feed_server: FeedServer, clock: Clock) -> None:
    make, store = setup
    feed_server.route("/a.xml", Response(429, headers={"Retry-After": "120"}))
    poller = make([("A", "/a.xml")])
    r = await poller.poll_cycle()
    assert r.outcomes[0].status == FeedStatus.RATE_LIMITED
    r = await poller.poll_cycle(force=True)
    assert r.outcomes == [] and r.not_due == 1
    assert len(feed_server.requests("/a.xml")) == 1
    clock.advance(121)
    feed_server.route("/a.xml", Response(body=doc("ok")))
    r = await poller.poll_cycle(force=True)
    assert r.outcomes[0].status == FeedStatus.OK


async def test_503_without_retry_after_waits_an_hour(setup, feed_server: FeedServer, clock: Clock) -> None:
    make, store = setup
    feed_server.route("/a.xml", Response(503))
    poller = make([("A", "/a.xml")])
    await poller.poll_cycle()
    clock.advance(3500)
    assert (await poller.poll_cycle(force=True)).outcomes == []
    clock.advance(200)
    assert len((await poller.poll_cycle(force=True)).outcomes) == 1


async def test_gone_stops_polling(setup, feed_server: FeedServer, clock: Clock) -> None:
    make, store = setup
    feed_server.route("/a.xml", Response(410))
    poller = make([("A", "/a.xml")])
    r = await poller.poll_cycle()
    assert r.outcomes[0].status == FeedStatus.GONE
    clock.advance(10 * 86400)
    assert (await poller.poll_cycle(force=True)).outcomes == []
    assert len(feed_server.requests("/a.xml")) == 1


async def test_permanent_redirect_updates_the_stored_url_after_consistent_answers(setup, feed_server: FeedServer) -> None:
    make, store = setup
    feed_server.route("/old.xml", Response(301, headers={"Location": "/new.xml"}))
    feed_server.route("/new.xml", Response(body=doc("Moved")))
    poller = make([("A", "/old.xml")])
    key = feed_server.url("/old.xml")
    for n in range(1, REDIRECT_CONFIRMATIONS):
        await poller.poll_cycle(force=True)
        state = store.feed_state(key)
        assert state.url == key and state.redirect_target == feed_server.url("/new.xml") and state.redirect_count == n
    await poller.poll_cycle(force=True)
    assert store.feed_state(key).url == feed_server.url("/new.xml")
    feed_server.clear()
    await poller.poll_cycle(force=True)
    assert [r.path for r in feed_server.requests()] == ["/new.xml"]  # asks the new URL directly
    assert "/old.xml" in poller.config.feeds[0].url  # the config is not rewritten


async def test_temporary_redirect_never_updates_the_url(setup, feed_server: FeedServer) -> None:
    make, store = setup
    feed_server.route("/old.xml", Response(302, headers={"Location": "/new.xml"}))
    feed_server.route("/new.xml", Response(body=doc("Moved")))
    poller = make([("A", "/old.xml")])
    for _ in range(REDIRECT_CONFIRMATIONS + 2):
        await poller.poll_cycle(force=True)
    state = store.feed_state(feed_server.url("/old.xml"))
    assert state.url == feed_server.url("/old.xml") and state.redirect_target is None


async def test_one_request_per_host_at_a_time(setup, feed_server: FeedServer) -> None:
    import threading

    make, store = setup
    active, peak, lock = [0], [0], threading.Lock()

    def slow(req):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        import time
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return Response(body=doc(req.path))

    for k in range(6):
        feed_server.route(f"/f{k}.xml", slow)
    poller = make([(f"F{k}", f"/f{k}.xml") for k in range(6)])
    r = await poller.poll_cycle()
    assert len(r.outcomes) == 6 and not r.failed
    assert peak[0] == 1


async def test_feeds_waiting_for_their_host_leave_the_global_slots_to_other_hosts(
        setup, feed_server: FeedServer) -> None:
    """Four feeds of one site, listed first, then two of another; two requests at a time,
    one per host. While the site's first request runs, the other three wait for their host,
    not in the global slots: the other host's feeds are asked meanwhile."""
    import threading

    make, store = setup
    other_asked = threading.Event()
    first_saw: list[bool] = []

    def site(req):
        if not first_saw:
            first_saw.append(other_asked.wait(3))  # (the slot lease is 5 s)
        return Response(body=doc(req.path))

    with FeedServer() as other:
        asked = []

        def other_feed(req):
            asked.append(req.path)
            if len(asked) == 2:
                other_asked.set()
            return Response(body=doc(req.path))

        for k in range(4):
            feed_server.route(f"/s{k}.xml", site)
        for k in range(2):
            other.route(f"/o{k}.xml", other_feed)
        poller = make([(f"S{k}", f"/s{k}.xml") for k in range(4)]
                      + [(f"O{k}", other.url(f"/o{k}.xml")) for k in range(2)],
                      concurrency=2, per_host=1)
        r = await poller.poll_cycle()
    assert len(r.outcomes) == 6 and not r.failed
    assert first_saw == [True]


def _ts(iso: str) -> float:
    from feeds.model import parse_utc_iso

    return parse_utc_iso(iso)


async def test_a_hung_request_stops_holding_its_host_after_the_lease(setup, feed_server: FeedServer) -> None:
    """Two feeds of one host: the first hangs; the second is asked while the first still
    hangs (its slot was given back after the lease), not after the first's deadline."""
    import threading

    make, store = setup
    second_arrived = threading.Event()

    def hang(req):
        second_arrived.wait(10)  # released only if the second request gets through
        return Response(body=doc("First") if second_arrived.is_set() else b"")

    def second(req):
        second_arrived.set()
        return Response(body=doc("Second"))

    feed_server.route("/hang.xml", hang)
    feed_server.route("/second.xml", second)
    poller = make([("Hang", "/hang.xml"), ("Second", "/second.xml")], timeout=20.0)
    poller.slot_lease = 0.3
    r = await poller.poll_cycle()
    assert {o.source.name: o.status for o in r.outcomes} == {"Hang": FeedStatus.OK, "Second": FeedStatus.OK}


async def test_retention_drops_old_unstarred_items_once_a_day(tmp_path: Path, write_config, feed_server: FeedServer,
                                                              parse_pool) -> None:
    clock = Clock(T0)
    config = load_config(write_config([("A", feed_server.url("/a.xml"))], extra="[storage]\nretention_days = 30\n"))
    assert config.storage.retention_days == 30
    with Store.open(tmp_path / "s", clock=clock) as store:
        poller = Poller(config, store, clock=clock, parse_pool=parse_pool)
        feed_server.route("/a.xml", Response(body=doc("Old one", "Old starred")))
        await poller.poll_cycle()
        starred = next(i for i in store.recent() if i.title == "Old starred")
        store.mark(starred.id, starred=True)
        clock.advance(40 * 86400)
        feed_server.route("/a.xml", Response(body=rss([rss_item("New one", guid="new", link="http://news.example/new")])))
        await poller.poll_cycle(force=True)
        assert sorted(i.title for i in store.query(ItemFilter(archive=True))) == ["New one", "Old starred"]
        assert store.get_meta("retention_at") == clock.now


def test_warm_up_can_wait_until_every_worker_is_ready(tmp_path: Path, write_config) -> None:
    """The daemon's first cycle waits for its workers' imports instead of racing them."""
    config = load_config(write_config([("A", "http://127.0.0.1:9/a.xml")]))
    config = replace(config, polling=replace(config.polling, parse_workers=2))
    with Store.open(tmp_path / "store") as store:
        poller = Poller(config, store)
        try:
            poller.warm_up(wait=30)
            workers = list(poller.pool._all)
            assert len(workers) == 2 and all(w.ready for w in workers)
        finally:
            poller.close()


@pytest.mark.parametrize("resident", [False, True], ids=["one-shot", "resident"])
async def test_a_one_shot_poll_stops_its_parse_workers_before_it_saves(
        tmp_path: Path, write_config, feed_server: FeedServer, resident: bool) -> None:
    """`poll --once` needs no parser while it writes the store: its peak memory is the
    larger of parsing and saving, not their sum. A resident poller keeps its workers."""
    feed_server.route("/a.xml", Response(body=rss([rss_item("Ceasefire talks resume", guid="a1")])))
    config = load_config(write_config([("A", feed_server.url("/a.xml"))]))
    config = replace(config, polling=replace(config.polling, parse_workers=1))
    with Store.open(tmp_path / "store") as store:
        poller = Poller(config, store, resident=resident)
        alive_at_flush: list[int] = []
        flush = store.flush
        store.flush = lambda: (alive_at_flush.append(len(poller.pool._all)), flush())[1]
        try:
            for n in range(2):  # and a second cycle starts a worker again
                feed_server.route("/a.xml", Response(body=rss([rss_item(f"Ceasefire talks, day {n}",
                                                                        guid=f"a{n}")])))
                report = await poller.poll_cycle(force=True)
                assert [o.status for o in report.outcomes] == [FeedStatus.OK] and len(report.new_items) == 1
        finally:
            poller.close()
            store.flush = flush
    assert alive_at_flush == ([1, 1] if resident else [0, 0])


class RecordingPool(CountingPool):
    """The real pool; keeps each job's ``seen`` digests and each result."""

    def __init__(self, pool: ParsePool) -> None:
        super().__init__(pool)
        self.seen: list[bytes] = []
        self.results: list = []

    async def parse(self, job):
        self.seen.append(job.seen)
        result = await super().parse(job)
        self.results.append(result)
        return result


async def test_a_resident_poller_classifies_and_stores_only_the_entries_that_changed(
        tmp_path: Path, write_config, feed_server: FeedServer, clock: Clock, parse_pool) -> None:
    def items(*pairs: tuple[str, str]) -> bytes:
        return rss([rss_item(t, guid=g, link=f"http://news.example/{g}") for g, t in pairs])

    feed_server.route("/a.xml", Response(body=items(("1", "One"), ("2", "Two"), ("3", "Three"))))
    config = load_config(write_config([("A", feed_server.url("/a.xml"))]))
    pool = RecordingPool(parse_pool)
    with Store.open(tmp_path / "s", clock=clock) as store:
        poller = Poller(config, store, clock=clock, parse_pool=pool)
        assert len((await poller.poll_cycle()).new_items) == 3
        assert pool.seen == [b""] and len(pool.results[0].digests) == 3 * 8
        ids = {i.title: i.id for i in store.recent()}
        feed_server.route("/a.xml", Response(body=items(
            ("4", "Envoys meet for ceasefire talks"), ("1", "One"), ("2", "Two, corrected"), ("3", "Three"))))
        r = await poller.poll_cycle(force=True)
        assert pool.seen[1] == pool.results[0].digests
        parsed = pool.results[1]
        assert sorted(parsed.same) == sorted([ids["One"], ids["Three"]])  # not sent back in full
        assert sorted(i.title for i in parsed.items) == ["Envoys meet for ceasefire talks", "Two, corrected"]
        assert [(i.title, i.labels) for i in r.new_items] == [("Envoys meet for ceasefire talks", ("talks",))]
        stored = {i.id: i.title for i in store.recent()}
        assert stored[ids["Two"]] == "Two, corrected" and len(stored) == 4
        state = store.feed_state(feed_server.url("/a.xml"))
        assert sorted(state.recent_ids) == sorted(stored)

        # An entry unchanged since the last parse but no longer among the feed's recent ids
        # (its state was reset by hand): the document is parsed again in full.
        store.put_feed_state(replace(state, recent_ids=(), recent_links=()))
        feed_server.route("/a.xml", Response(body=items(
            ("5", "Five"), ("1", "One"), ("2", "Two, corrected"), ("3", "Three"))))
        calls = pool.calls
        r = await poller.poll_cycle(force=True)
        assert pool.calls == calls + 2 and pool.seen[-1] == b"" and pool.results[-1].same == []
        assert [i.title for i in r.new_items] == ["Five"] and len(store.recent()) == 5


def test_a_first_polls_backlog_is_told_from_its_news_by_the_items_dates() -> None:
    """Items dated from when the feed was added up to now are news; older, later, dateless
    or unreadable dates are backlog (fixed-width stamps are compared as text, others parsed)."""
    from feeds.model import new_feed_state, parse_utc_iso
    from feeds.poll.poller import backlog_ids
    from tests.tui.helpers import make_item

    now = parse_utc_iso("2026-12-05T10:00:00Z") + 0.75
    state = replace(new_feed_state(FeedSource("Wire", "https://example.org/rss"), now),
                    added="2026-12-05T09:00:00Z")
    dated = {"old": "2026-12-05T08:59:59Z", "at-added": "2026-12-05T09:00:00Z",
             "middle": "2026-12-05T09:30:00Z", "at-now": "2026-12-05T10:00:00Z",
             "future": "2026-12-05T10:00:01Z", "other-form": "2026-12-05T09:30:00+00:00",
             "not-a-date": "yesterday"}
    items = [replace(make_item(name), published=stamp) for name, stamp in dated.items()]
    items.append(replace(make_item("dateless"), published="2026-12-05T09:30:00Z",
                         date_missing=True))
    backlog = {it.title for it in items if it.id in backlog_ids(items, state, now)}
    assert backlog == {"old", "future", "other-form", "not-a-date", "dateless"}
    assert backlog_ids(items, replace(state, last_success="2026-12-05T09:00:00Z"), now) == frozenset()

"""Clock jumps: a poll under a clock two years ahead must not park the feeds for two years
once the clock comes back, and no stamp stays in the future (injected clock, real server,
real store)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from feeds.poll.health import feed_health
from feeds.config.load import load_config
from feeds.model import FeedStatus, parse_utc_iso, utc_iso
from feeds.poll.poller import RETENTION_KEY, Poller
from feeds.poll.schedule import sane_state, seconds_until_due
from storage.store import Store
from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.helpers import Clock

T0 = 1_780_000_000.0
TWO_YEARS = 2 * 365 * 86400.0
DAY = 86400.0


@pytest.fixture
def rig(tmp_path: Path, write_config, feed_server: FeedServer, parse_pool):
    clock = Clock(T0 + TWO_YEARS)  # the clock starts two years ahead
    feed_server.route("/a.xml", Response(body=rss([rss_item("Talks resume", guid="g1")])))
    config = load_config(write_config([("A", feed_server.url("/a.xml"))]))
    config = replace(config, polling=replace(config.polling, jitter=0.0, interval=900.0))
    store = Store.open(tmp_path / "store", clock=clock)
    poller = Poller(config, store, clock=clock, parse_pool=parse_pool)
    yield clock, config, store, poller, feed_server.url("/a.xml")
    store.close()


def _stamps_not_after(state, now: float) -> None:
    for name in ("last_success", "last_attempt", "failing_since"):
        stamp = getattr(state, name)
        assert stamp is None or parse_utc_iso(stamp) <= now, (name, stamp)


async def test_a_backward_jump_never_parks_a_feed_past_max_interval(rig) -> None:
    clock, config, store, poller, key = rig
    assert (await poller.poll_cycle()).outcomes[0].status == FeedStatus.OK
    clock.now = T0  # the clock comes back
    max_interval = config.polling.max_interval
    due = seconds_until_due(config, store.feed_states(), clock.now)
    assert due is not None and due <= max_interval
    assert (await poller.poll_cycle()).outcomes == []  # not due yet, but no longer in 2 years
    state = store.feed_state(key)
    assert parse_utc_iso(state.next_poll) <= clock.now + max_interval
    _stamps_not_after(state, clock.now)
    clock.advance(max_interval + 1)  # the clamp was stored: it does not move with the clock
    report = await poller.poll_cycle()
    assert [o.status for o in report.outcomes] == [FeedStatus.NOT_MODIFIED]
    assert parse_utc_iso(store.feed_state(key).next_poll) == clock.now + 900


async def test_a_retry_after_from_a_clock_ahead_blocks_at_most_a_day(rig, feed_server) -> None:
    clock, config, store, poller, key = rig
    feed_server.route("/a.xml", Response(429, headers={"Retry-After": "3600"}))
    assert (await poller.poll_cycle()).outcomes[0].status == FeedStatus.RATE_LIMITED
    clock.now = T0
    assert (await poller.poll_cycle(force=True)).outcomes == []
    state = store.feed_state(key)
    assert parse_utc_iso(state.retry_after) <= clock.now + DAY
    _stamps_not_after(state, clock.now)
    clock.advance(DAY + 1)
    feed_server.route("/a.xml", Response(body=rss([rss_item("Talks resume", guid="g1")])))
    assert [o.status for o in (await poller.poll_cycle()).outcomes] == [FeedStatus.OK]


async def test_a_forward_jump_polls_once_and_schedules_from_the_new_now(rig) -> None:
    clock, config, store, poller, key = rig
    clock.now = T0
    await poller.poll_cycle()
    clock.now = T0 + TWO_YEARS  # forward: everything is due, once
    assert len((await poller.poll_cycle()).outcomes) == 1
    assert (await poller.poll_cycle()).outcomes == []
    state = store.feed_state(key)
    assert parse_utc_iso(state.next_poll) - clock.now <= config.polling.max_interval
    _stamps_not_after(state, clock.now)


async def test_retention_runs_again_after_its_stamp_was_set_by_a_clock_ahead(rig) -> None:
    clock, config, store, poller, key = rig
    config = replace(config, storage=replace(config.storage, retention_days=30))
    poller.config = config
    store.set_meta(RETENTION_KEY, T0 + TWO_YEARS)
    clock.now = T0
    await poller.poll_cycle()
    assert store.get_meta(RETENTION_KEY) == T0


def test_health_never_shows_a_next_poll_years_away_or_a_success_in_the_future(rig) -> None:
    clock, config, store, poller, key = rig
    source = config.feeds[0]
    ahead = T0 + TWO_YEARS
    state = replace(store.feed_state(key) or _state(source), status=FeedStatus.OK,
                    last_success=utc_iso(ahead), last_attempt=utc_iso(ahead),
                    next_poll=utc_iso(ahead + 900))
    health = feed_health(source, state, 0, T0, config.polling)
    assert parse_utc_iso(health.next_poll) <= T0 + config.polling.max_interval
    assert parse_utc_iso(health.last_success) <= T0
    assert sane_state(state, config.polling, ahead) is state  # nothing to fix at its own time


def _state(source):
    from feeds.model import new_feed_state

    return new_feed_state(source)

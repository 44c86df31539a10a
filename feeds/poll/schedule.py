"""When a feed is polled next: the one place that decides intervals, jitter and backoff.

- Success: the feed's interval (or the default), raised to the feed's ``<ttl>`` or the server's
  ``Cache-Control: max-age``/``Expires``, clamped to [min_interval, max_interval], ±jitter.
- Failure: exponential backoff from that interval (1×, 2×, 4×… per consecutive failure),
  capped at max_interval. Never dropped: a dead feed is still tried at least daily.
- 429/503: not before ``Retry-After`` (an hour without one), and not before the backoff.
- 410: no schedule at all until the user re-enables the feed.
- Clock jumps: a next poll is never more than ``max_interval`` away (a Retry-After at most a
  day), and no stamp is later than now. A state written under a clock that has since jumped
  back (a poll while the clock was two years ahead) is pulled in by :func:`sane_state`, so a
  feed is never parked for years and "last success" is never in the future.

``seconds_until_due`` tells a scheduler (the daemon's loop) when to run its next cycle.
"""
from __future__ import annotations

import random
from dataclasses import replace
from typing import Mapping

from feeds.config.load import MAX_RETRY_AFTER, Config, PollingSettings
from feeds.model import FeedSource, FeedState, FeedStatus, parse_utc_iso, utc_iso

_PAST_STAMPS = ("last_success", "last_attempt", "failing_since")


def base_interval(source: FeedSource, settings: PollingSettings, *, ttl: float | None = None,
                  max_age: float | None = None) -> float:
    interval = source.interval if source.interval is not None else settings.interval
    for hint in (ttl, max_age):
        if hint is not None and hint > interval:
            interval = hint
    return min(max(interval, settings.min_interval), settings.max_interval)


def jittered(seconds: float, settings: PollingSettings, rng: random.Random) -> float:
    return seconds * (1.0 + rng.uniform(-settings.jitter, settings.jitter))


def next_after_success(source: FeedSource, settings: PollingSettings, now: float,
                       rng: random.Random, *, ttl: float | None = None,
                       max_age: float | None = None) -> float:
    delay = jittered(base_interval(source, settings, ttl=ttl, max_age=max_age), settings, rng)
    return now + min(delay, settings.max_interval)


def backoff_delay(source: FeedSource, settings: PollingSettings, failures: int) -> float:
    """Delay after the ``failures``-th consecutive failure (1 → one interval)."""
    interval = base_interval(source, settings)
    exponent = min(max(failures - 1, 0), 30)
    return min(interval * (2 ** exponent), settings.max_interval)


def next_after_failure(source: FeedSource, settings: PollingSettings, now: float,
                       rng: random.Random, failures: int,
                       retry_after: float | None = None) -> float:
    when = now + min(jittered(backoff_delay(source, settings, failures), settings, rng),
                     settings.max_interval)
    if retry_after is not None and retry_after > when:
        when = min(retry_after, now + MAX_RETRY_AFTER)
    return when


def sane_state(state: FeedState, settings: PollingSettings, now: float) -> FeedState:
    """``state`` as seen from ``now``: stamps written under a clock that has since jumped
    back are pulled in (a next poll to at most ``max_interval`` away, a Retry-After to at
    most a day, past events to now). The same object when nothing needed fixing."""
    changes: dict[str, str] = {}
    for name in _PAST_STAMPS:
        stamp = getattr(state, name)
        if stamp and parse_utc_iso(stamp) > now:
            changes[name] = utc_iso(now)
    retry_after = parse_utc_iso(state.retry_after) if state.retry_after else None
    if retry_after is not None and retry_after > now + MAX_RETRY_AFTER:
        retry_after = now + MAX_RETRY_AFTER
        changes["retry_after"] = utc_iso(retry_after)
    if state.next_poll:
        limit = max(now + settings.max_interval, retry_after or 0.0)
        if parse_utc_iso(state.next_poll) > limit:
            changes["next_poll"] = utc_iso(limit)
    return replace(state, **changes) if changes else state


def seconds_until_due(config: Config, states: Mapping[str, FeedState], now: float) -> float | None:
    """When the next enabled feed is due (0 if one is due now); None if none will be
    (every feed disabled or gone). Retry-After pushes a feed's turn back; a turn stored
    under a clock that was ahead counts as at most ``max_interval`` away."""
    best: float | None = None
    for source in config.feeds:
        if not source.enabled:
            continue
        state = states.get(source.key)
        if state is not None and state.status == FeedStatus.GONE:
            continue  # (stored with no next poll: it must not read as "due now")
        if state is None or not state.next_poll:
            return 0.0
        state = sane_state(state, config.polling, now)
        due = parse_utc_iso(state.next_poll)
        if state.retry_after:
            due = max(due, parse_utc_iso(state.retry_after))
        best = due - now if best is None else min(best, due - now)
    return None if best is None else max(best, 0.0)

"""A feed's health in words, as the CLI and the dashboard both show it."""
from __future__ import annotations

from dataclasses import dataclass

from feeds.model import FAILING_STATUSES, FeedSource, FeedState, FeedStatus, parse_utc_iso
from feeds.config.load import PollingSettings
from feeds.config.units import format_duration
from feeds.poll.schedule import sane_state
from feeds.redact import redact_text, redact_url


@dataclass(frozen=True, slots=True)
class FeedHealth:
    name: str
    key: str
    url: str  # effective URL (differs from key after a confirmed permanent redirect)
    tags: tuple[str, ...]
    enabled: bool
    status: str  # a FeedStatus: ok, not modified, error, gone, rate limited, new, disabled
    summary: str  # the status in words: "failing since 3h: connection refused"
    error: str | None
    http_status: int | None
    last_success: str | None
    last_attempt: str | None
    failing_since: str | None
    failures: int
    next_poll: str | None
    retry_after: str | None
    items_stored: int
    redirect_pending: str | None  # a permanent redirect seen but not yet confirmed
    folder: str = ""

    @property
    def failing(self) -> bool:
        return self.status in FAILING_STATUSES

    @property
    def shown_key(self) -> str:
        """The configured URL as it may be shown (credentials redacted)."""
        return redact_url(self.key)

    def to_dict(self) -> dict:
        return ({k: getattr(self, k) for k in self.__slots__}
                | {"tags": list(self.tags), "key": self.shown_key})


def _ago(iso: str | None, now: float) -> str:
    return format_duration(now - parse_utc_iso(iso)) if iso else "?"


def _until(iso: str | None, now: float) -> str:
    return format_duration(parse_utc_iso(iso) - now) if iso else "?"


def feed_health(source: FeedSource, state: FeedState | None, items_stored: int,
                now: float, settings: PollingSettings | None = None) -> FeedHealth:
    """``settings``: the polling settings, to show a state stored under a clock that has
    since jumped back as the poller will treat it (never "next poll in 2y"). Every shown
    field is free of URL credentials; ``key`` stays the feed's identity (not for display:
    ``to_dict`` and :attr:`FeedHealth.shown_key` redact it)."""
    if state is not None and settings is not None:
        state = sane_state(state, settings, now)
    status = state.status if state else FeedStatus.NEW
    status_shown, summary = _summary(source, state, now)
    url = redact_url(state.url if state else source.url)
    if url != redact_url(source.url):
        summary += f" (moved permanently to {url})"
    return FeedHealth(
        name=source.name, key=source.key, url=url, tags=source.tags, enabled=source.enabled,
        folder=source.folder,
        status=status_shown, summary=redact_text(summary),
        error=redact_text(state.error) if state and state.error else None,
        http_status=state.http_status if state else None,
        last_success=state.last_success if state else None,
        last_attempt=state.last_attempt if state else None,
        failing_since=state.failing_since if state else None,
        failures=state.failures if state else 0,
        next_poll=(None if status == FeedStatus.GONE or not source.enabled
                   else (state.next_poll if state else None)),
        retry_after=state.retry_after if state else None,
        items_stored=items_stored,
        redirect_pending=redact_url(state.redirect_target) if state and state.redirect_target else None,
    )


def _summary(source: FeedSource, state: FeedState | None, now: float) -> tuple[str, str]:
    """The status shown, and the status in words."""
    status = state.status if state else FeedStatus.NEW
    if not source.enabled:
        return FeedStatus.DISABLED, "disabled in the config"
    if status == FeedStatus.GONE:
        return FeedStatus.GONE, "gone (HTTP 410): polling stopped; enable it to try again"
    if status == FeedStatus.RATE_LIMITED:
        return (FeedStatus.RATE_LIMITED,
                f"rate limited: backing off for {_until(state.retry_after or state.next_poll, now)}")
    if status == FeedStatus.ERROR:
        summary = f"failing since {_ago(state.failing_since, now)} ago: {state.error}"
        if state.failures > 1 and state.next_poll:
            summary += f" (backing off; next try in {_until(state.next_poll, now)})"
        return FeedStatus.ERROR, summary
    if status == FeedStatus.NOT_MODIFIED:
        return FeedStatus.NOT_MODIFIED, "ok, not modified since the last poll"
    if status == FeedStatus.OK:
        return FeedStatus.OK, "ok"
    return FeedStatus.NEW, "not polled yet"

"""Poll requests that arrive while a cycle runs: merged into the one cycle that follows.

The daemon and the dashboard both queue here, so ``r`` (refresh everything) then ``p`` (poll
what is due) during a cycle still gets the full refresh: requests merge, none replaces another.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

SCHEDULE = "schedule"  # the timer's own request: never renames a user's pending one


@dataclass(frozen=True, slots=True)
class PollRequest:
    force: bool = False  # ignore the schedule (and the validators' "not due")
    only: frozenset[str] | None = None  # feed keys; None means every due feed
    what: str = SCHEDULE  # why, in words for the status line and the log


class PollQueue:
    """At most one pending request, the union of everything asked since the last ``take``."""

    def __init__(self) -> None:
        self._pending: PollRequest | None = None

    def __bool__(self) -> bool:
        return self._pending is not None

    def put(self, force: bool = False, only: Iterable[str] | None = None,
            what: str = SCHEDULE) -> PollRequest:
        """Queue a request, merged with the pending one: forced if either is, every feed if
        either asks for every feed, else both feed sets. Returns the merged request."""
        keys = None if only is None else frozenset(only)
        old = self._pending
        if old is not None:
            force = force or old.force
            keys = None if keys is None or old.only is None else keys | old.only
            if what == SCHEDULE:
                what = old.what
        self._pending = PollRequest(force, keys, what)
        return self._pending

    def take(self) -> PollRequest | None:
        """The pending request (now no longer pending), or None."""
        request, self._pending = self._pending, None
        return request

    def clear(self) -> None:
        self._pending = None

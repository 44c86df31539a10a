"""feeds.poll.queue.PollQueue: requests made during a cycle merge into the one that follows."""
from __future__ import annotations

from feeds.poll.queue import SCHEDULE, PollQueue, PollRequest


def test_an_empty_queue_is_false_and_takes_none() -> None:
    queue = PollQueue()
    assert not queue and queue.take() is None


def test_take_returns_the_request_and_empties_the_queue() -> None:
    queue = PollQueue()
    queue.put(True, ["a"], "viewer")
    assert queue
    assert queue.take() == PollRequest(True, frozenset({"a"}), "viewer")
    assert not queue and queue.take() is None


def test_forced_if_either_request_is_forced() -> None:
    for first, second in ((True, False), (False, True), (True, True)):
        queue = PollQueue()
        queue.put(force=first, what="r")
        queue.put(force=second, what="p")
        assert queue.take().force is True
    queue = PollQueue()
    queue.put(force=False, what="p")
    queue.put(force=False, what="p")
    assert queue.take().force is False


def test_every_feed_if_either_request_asks_for_every_feed() -> None:
    queue = PollQueue()
    queue.put(only=None, what="refresh")
    queue.put(only=["a"], what="feed a")
    assert queue.take().only is None
    queue.put(only=["a"], what="feed a")
    queue.put(only=None, what="refresh")
    assert queue.take().only is None


def test_feed_sets_are_united() -> None:
    queue = PollQueue()
    queue.put(only=["a", "b"], what="x")
    merged = queue.put(only=iter(["b", "c"]), what="y")
    assert merged.only == frozenset({"a", "b", "c"})
    assert queue.take() == merged


def test_a_schedule_request_does_not_rename_a_users_pending_one() -> None:
    queue = PollQueue()
    queue.put(only=["a"], what="enable")
    queue.put()  # the timer's own request: what=SCHEDULE
    request = queue.take()
    assert request.what == "enable" and request.only is None  # still merged: every due feed
    queue.put(what="viewer")
    assert queue.put(what="refresh").what == "refresh"  # a user's request names the cycle
    queue.take()
    assert queue.put().what == SCHEDULE  # alone, the schedule keeps its own name


def test_clear_drops_the_pending_request() -> None:
    queue = PollQueue()
    queue.put(True, None, "refresh")
    queue.clear()
    assert not queue and queue.take() is None
    assert queue.put().force is False  # nothing of the cleared request is merged in

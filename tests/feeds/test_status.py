"""FeedStatus and FetchOutcome: enums whose members are their old strings, so stored feed
states, JSON output and printed lines are unchanged."""
from __future__ import annotations

import json

import orjson

from feeds.model import FAILING_STATUSES, FeedState, FeedStatus
from feeds.net.fetch import FetchOutcome


def test_the_values_are_the_stored_and_printed_strings() -> None:
    assert {s.name: s.value for s in FeedStatus} == {
        "NEW": "new", "OK": "ok", "NOT_MODIFIED": "not modified", "ERROR": "error", "GONE": "gone",
        "RATE_LIMITED": "rate limited", "DISABLED": "disabled"}
    assert {o.name: o.value for o in FetchOutcome} == {
        "OK": "ok", "NOT_MODIFIED": "not_modified", "ERROR": "error", "GONE": "gone",
        "RATE_LIMITED": "rate_limited"}
    assert set(FAILING_STATUSES) == {FeedStatus.ERROR, FeedStatus.GONE, FeedStatus.RATE_LIMITED}


def test_a_status_is_written_and_printed_as_its_string() -> None:
    state = FeedState("k", "k", status=FeedStatus.NOT_MODIFIED)
    assert orjson.loads(orjson.dumps(state.to_dict()))["status"] == "not modified"
    assert json.dumps([FeedStatus.RATE_LIMITED]) == '["rate limited"]'
    assert f"{FeedStatus.NOT_MODIFIED:<13}|{FeedStatus.OK}" == "not modified |ok"


def test_a_stored_plain_string_still_compares_equal() -> None:
    state = FeedState.from_dict({"key": "k", "url": "k", "status": "gone"})
    assert state.status == FeedStatus.GONE and state.status in FAILING_STATUSES
    assert {FeedStatus.GONE: 1}["gone"] == 1 and {"gone": 1}[FeedStatus.GONE] == 1

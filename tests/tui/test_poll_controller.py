"""Polling as the dashboard runs it (tui/dashboard/state/poll.py): one cycle at a time, the
requests made meanwhile merged into the one that follows (never replaced), a viewer asking
the daemon, an offline dashboard saying why it does not poll."""
from __future__ import annotations

from typing import Any

from feeds.poll.queue import PollRequest
from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.tui.helpers import settle
from tui.dashboard.backend import DaemonViewerBackend, LocalBackend
from tui.dashboard.state.poll import PollController


class Timer:
    def __init__(self, delay: float, callback: Any) -> None:
        self.delay, self.callback, self.stopped = delay, callback, False

    def stop(self) -> None:
        self.stopped = True


class Harness:
    """A PollController with every callback recorded."""

    def __init__(self, backend: Any) -> None:
        self.cycles: list[PollRequest] = []
        self.asked: list[tuple[list[str] | None, bool]] = []
        self.toasts: list[str] = []
        self.status: list[str] = []
        self.timers: list[Timer] = []
        self.poll = PollController(
            backend, lambda: None, lambda: 0.0, auto_poll=False,
            start_cycle=self.cycles.append,
            ask_daemon=lambda only, force: self.asked.append((only, force)),
            set_timer=self._timer, set_status=lambda text, **_: self.status.append(text),
            notify=lambda text, **_: self.toasts.append(text))

    def _timer(self, delay: float, callback: Any) -> Timer:
        self.timers.append(Timer(delay, callback))
        return self.timers[-1]

    def end_cycle(self) -> None:
        """The running cycle ends (as PollFinished would say, with nothing polled)."""
        self.poll.ended(None, None)
        self.poll.finished(None, "cancelled", None)


def writer() -> Harness:
    return Harness(LocalBackend(store=None, poller=object()))


def test_refresh_then_poll_one_during_a_cycle_keeps_the_full_refresh() -> None:
    h = writer()
    h.poll.request(what="startup")
    assert h.cycles == [PollRequest(False, None, "startup")] and h.poll.running
    h.poll.request(force=True, what="refresh")  # r: every feed, now
    h.poll.request(force=True, only=["https://a.example/feed"], what="Alpha")  # p: one feed
    assert len(h.cycles) == 1  # queued behind the running cycle, never overlapping
    assert h.toasts == ["A poll is running; another follows when it ends."] * 2
    h.end_cycle()
    queued = h.cycles[-1]
    assert len(h.cycles) == 2 and queued.force and queued.only is None  # not only Alpha
    h.end_cycle()
    assert len(h.cycles) == 2 and not h.poll.polling  # one merged cycle, then idle


def test_feeds_asked_for_during_a_cycle_add_up() -> None:
    h = writer()
    h.poll.request(what="startup")
    h.poll.request(force=True, only=["a"], what="A")
    h.poll.request(only=["b"], what="B")
    assert h.poll.polling
    h.end_cycle()
    assert h.cycles[-1] == PollRequest(True, frozenset({"a", "b"}), "B")


def test_the_schedule_does_not_rename_a_users_request() -> None:
    h = writer()
    h.poll.request(what="startup")
    h.poll.request(force=True, only=["a"], what="Alpha")
    h.poll.request(what="schedule")
    assert h.toasts == ["A poll is running; another follows when it ends."]  # not for the timer
    h.end_cycle()
    assert h.cycles[-1].what == "Alpha" and h.cycles[-1].force


def test_offline_refuses_and_a_viewer_asks_the_daemon() -> None:
    offline = Harness(LocalBackend(store=None))
    offline.poll.request(force=True, what="refresh")
    assert offline.cycles == [] and offline.toasts == [
        "offline: started with --offline, polling is off"]

    class Daemon:
        connected = True

    viewer = Harness(DaemonViewerBackend(store=None, daemon=Daemon(), reason="viewer: yes"))
    viewer.poll.request(force=True, only=["a"], what="refresh")
    assert viewer.cycles == [] and viewer.asked == [(["a"], True)]
    assert viewer.status == ["asking the daemon to poll…"]
    Daemon.connected = False  # the daemon went away: read-only, and says why
    viewer.poll.request(force=True, what="refresh")
    assert viewer.asked == [(["a"], True)] and viewer.toasts == ["viewer: yes"]


async def test_refresh_then_p_on_feed_health_during_a_poll_polls_every_feed_again(
        make_app, feed_server: FeedServer) -> None:
    slow = 2.0  # each response: the first cycle runs while the keys are pressed
    feed_server.route("/a.xml", Response(body=rss([rss_item("Peace talks resume", guid="1")]),
                                         delay=slow))
    feed_server.route("/b.xml", Response(body=rss([rss_item("Sanctions imposed", guid="2")]),
                                         delay=slow))
    app = make_app([("Alpha", "/a.xml"), ("Beta", "/b.xml")])
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause(0.1)
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("r", "p")  # every feed again, then Alpha: merged, not replaced
        await pilot.pause()
        assert app.poll.running and app.poll.queue  # both wait for the running cycle
        await settle(pilot)
        assert len(feed_server.requests("/a.xml")) == 2
        assert len(feed_server.requests("/b.xml")) == 2  # Beta too: the refresh was kept

"""The feed health screen: statuses and errors in words; enable, disable, poll one now."""
from __future__ import annotations

from feeds.config.load import load_config
from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.tui.helpers import screen_text, settle
from tui.dashboard.screens.feeds import FeedHealthScreen
from tui.dashboard.widgets.feed_table import FeedHealthTable


async def test_failing_feeds_are_listed_with_their_error(make_app, feed_server: FeedServer) -> None:
    feed_server.route("/ok.xml", Response(body=rss([rss_item("Peace talks resume", guid="1")])))
    feed_server.route("/broken.xml", Response(500, b"<html>oops</html>", content_type="text/html"))
    feed_server.route("/gone.xml", Response(410, b"gone", content_type="text/plain"))
    app = make_app([("Good wire", "/ok.xml"), ("Broken wire", "/broken.xml"),
                    ("Old wire", "/gone.xml"), ("Nobody home", "http://127.0.0.1:9/feed.xml")],
                   auto_poll=True)
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FeedHealthScreen)
        table = app.screen.query_one(FeedHealthTable)
        status = {h.name: h.status for h in table.health.values()}
        assert status == {"Good wire": "ok", "Broken wire": "error", "Old wire": "gone",
                          "Nobody home": "error"}
        text = screen_text(app)
        assert "2 failing" in text or "3 failing" in text
        assert "failing since" in text and "500" in text
        # the selected feed in full, error included
        await pilot.press("j")
        await pilot.pause()
        detail = screen_text(app)
        assert "last error" in detail and "500" in detail
        await pilot.press("escape")
        assert app.screen is app.dashboard


async def test_disable_enable_and_poll_one_feed(make_app, feed_server: FeedServer, tmp_path) -> None:
    feed_server.route("/a.xml", Response(body=rss([rss_item("Peace talks resume", guid="1")])))
    feed_server.route("/b.xml", Response(body=rss([rss_item("Sanctions imposed", guid="2")])))
    app = make_app([("Alpha", "/a.xml"), ("Beta", "/b.xml")])
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("p")  # poll Alpha only, now
        await settle(pilot)
        assert len(feed_server.requests("/a.xml")) == 1 and feed_server.requests("/b.xml") == []
        await pilot.press("j", "d")  # disable Beta
        await settle(pilot)
        config = load_config(app.config.path)
        assert not config.feed("Beta").enabled and config.feed("Alpha").enabled
        assert not app.config.feed("Beta").enabled
        table = app.screen.query_one(FeedHealthTable)
        assert table.selected.status == "disabled"
        await pilot.press("r")  # a poll now skips the disabled feed
        await settle(pilot)
        assert feed_server.requests("/b.xml") == []
        await pilot.press("e")
        await settle(pilot)
        assert load_config(app.config.path).feed("Beta").enabled
        await pilot.press("r")
        await settle(pilot)
        assert len(feed_server.requests("/b.xml")) == 1

"""Live polling in the dashboard: feeds served by the loopback server, a real poller in the
poll worker, items landing in their panes."""
from __future__ import annotations

from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.tui.helpers import rows, screen_text, settle

TALK = ("Russia and Ukraine hold peace talks in Istanbul",
        "Delegations met for a new round of negotiations.")
SANCTION = ("EU imposes new sanctions on Russian banks", "The asset freeze covers five lenders.")
STATEMENT = ("Foreign ministry condemns the strike",
             "The ministry said in a statement that the attack was unacceptable.")
BOTH = ("Ceasefire talks stall as US imposes sanctions on negotiators",
        "Mediators said negotiations would resume; the new sanctions target envoys.")
NEITHER = ("Floods displace thousands in the north", "Rivers burst their banks.")


def feed(*entries: tuple[str, str], prefix: str = "a") -> bytes:
    return rss([rss_item(t, guid=f"{prefix}-{i}", link=f"https://news.example/{prefix}/{i}",
                         summary=s, pub=f"Tue, 05 Apr 2022 0{i}:25:00 GMT")
                for i, (t, s) in enumerate(entries)])


async def test_items_land_in_their_panes_after_a_poll(make_app, feed_server: FeedServer) -> None:
    feed_server.route("/a.xml", Response(body=feed(TALK, SANCTION, BOTH)))
    feed_server.route("/b.xml", Response(body=feed(STATEMENT, NEITHER, prefix="b")))
    app = make_app([("Wire A", "/a.xml"), ("Wire B", "/b.xml")], auto_poll=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert len(feed_server.requests()) == 2
        assert set(rows(app, "talks")) == {TALK[0], BOTH[0]}
        assert set(rows(app, "sanctions")) == {SANCTION[0], BOTH[0]}  # in each of its panes
        assert rows(app, "statements") == [STATEMENT[0]]
        assert rows(app, "other") == [NEITHER[0]]
        # newest first
        assert rows(app, "talks") == [BOTH[0], TALK[0]]
        text = screen_text(app)
        assert "talks 2" in text and "sanctions 2" in text and "statements 1" in text
        assert "polled 2 feeds: 5 new" in text


async def test_second_poll_adds_only_new_items_and_keeps_the_selection(
        make_app, feed_server: FeedServer) -> None:
    first = (TALK, ("Envoys meet to discuss a draft treaty", "Talks continue in Geneva."))
    feed_server.route("/a.xml", Response(body=feed(*first)))
    app = make_app([("Wire A", "/a.xml")])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        table = app.dashboard.pane("talks").table
        assert rows(app, "talks") == [first[1][0], TALK[0]]
        await pilot.press("j")  # select the second (older) row
        selected = table.selected_id
        assert table.items[selected].title == TALK[0]

        newer = ("Mediators broker a ceasefire in Doha", "Negotiations ended overnight.")
        doc = rss([rss_item(newer[0], guid="a-new", summary=newer[1], link="https://news.example/n",
                            pub="Tue, 05 Apr 2022 09:25:00 GMT")]
                  + [rss_item(t, guid=f"a-{i}", link=f"https://news.example/a/{i}", summary=s,
                              pub=f"Tue, 05 Apr 2022 0{i}:25:00 GMT") for i, (t, s) in enumerate(first)])
        feed_server.route("/a.xml", Response(body=doc))
        await pilot.press("r")
        await settle(pilot)
        assert rows(app, "talks") == [newer[0], first[1][0], TALK[0]]  # one new row, on top
        assert table.selected_id == selected  # the cursor stayed on its item
        assert table.cursor_row == 2
        assert app.dashboard.detail.item.id == selected
        assert "1 new" in screen_text(app)


async def test_unreachable_feed_keeps_the_app_usable(make_app, feed_server: FeedServer) -> None:
    feed_server.route("/a.xml", Response(body=feed(TALK)))
    app = make_app([("Wire A", "/a.xml"), ("Dead", "http://127.0.0.1:9/never.xml")],
                   auto_poll=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert rows(app, "talks") == [TALK[0]]
        assert "1 failing" in screen_text(app)
        await pilot.press("j", "k", "tab")
        assert app.dashboard.active == "sanctions"


async def test_refresh_during_a_poll_queues_one_more(make_app, feed_server: FeedServer) -> None:
    feed_server.route("/slow.xml", Response(body=feed(TALK), delay=0.5))
    app = make_app([("Slow", "/slow.xml")])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause(0.1)
        assert app.poll.polling
        await pilot.press("r")  # queued, never overlapping
        await settle(pilot)
        assert len(feed_server.requests("/slow.xml")) == 2
        assert rows(app, "talks") == [TALK[0]]

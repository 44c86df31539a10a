"""Unread counts (pane titles, headers, feed health), clearing a backlog (A, ctrl+a, U, feed
health's A), n / N to the next unread item, and j / k through a pane on the item screen."""
from __future__ import annotations

from tests.tui.helpers import T0, make_item, record_toasts, rows, screen_text, settle
from tui.dashboard.screens.feeds import FeedHealthScreen
from tui.dashboard.screens.item import ItemScreen
from tui.dashboard.widgets.header import DashboardHeader

DAY = 86400
TALKS = [make_item(f"Envoys hold round {n} of peace talks", "Negotiations continue.",
                   published=T0 - n * 3600, guid=f"t{n}") for n in range(1, 4)]
SANCTIONS = [make_item(f"EU imposes sanctions package {n}", "Asset freeze.",
                       published=T0 - n * 3600 - 60, guid=f"s{n}") for n in range(1, 3)]
OLD_TALK = make_item("Envoys held peace talks long ago", "Negotiations.",
                     published=T0 - 90 * DAY, guid="old")  # archived: in the total only


def title(app, pane: str) -> str:
    return str(app.dashboard.pane(pane)._title())


def header(app) -> str:
    return str(app.dashboard.query_one(DashboardHeader).query_one("#header-left").render())


async def test_unread_counts_follow_marks_and_a_pane_is_cleared_and_restored(make_app) -> None:
    app = make_app(items=[*TALKS, *SANCTIONS, OLD_TALK], offline=True)
    toasts = record_toasts(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Talks  3/4" in title(app, "talks")  # the archived talk is stored, not counted
        assert "Sanctions  2/2" in title(app, "sanctions")
        assert "talks 3/4" in header(app) and "sanctions 2/2" in header(app)
        await pilot.press("m")  # the first talk read
        await settle(pilot)
        assert "Talks  2/4" in title(app, "talks") and "talks 2/4" in header(app)
        await pilot.press("A")  # the rest of the pane
        await settle(pilot)
        assert "Talks  0/4" in title(app, "talks")
        assert "Sanctions  2/2" in title(app, "sanctions")  # another pane: untouched
        # the recent window's talks, and the archived one the pane shows (topped up)
        assert all(app.store.flags(t.id).read for t in [*TALKS, OLD_TALK])
        assert ("Mark all read", "Marked 3 items read in Talks. U: undo") in toasts
        await pilot.press("U")  # only what A marked is unread again
        await settle(pilot)
        assert "Talks  2/4" in title(app, "talks")
        assert app.store.flags(TALKS[0].id).read
        assert not any(app.store.flags(t.id).read for t in [*TALKS[1:], OLD_TALK])


async def test_ctrl_a_marks_every_pane_under_the_filter(make_app) -> None:
    app = make_app(items=[*TALKS, *SANCTIONS], offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"package", "enter")  # only the sanctions match
        await settle(pilot)
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert all(app.store.flags(s.id).read for s in SANCTIONS)
        assert not any(app.store.flags(t.id).read for t in TALKS)
        await pilot.press("escape")
        await settle(pilot)
        assert "talks 3/3" in header(app) and "sanctions 0/2" in header(app)


async def test_n_and_shift_n_jump_to_unread_items_across_panes(make_app) -> None:
    app = make_app(items=[*TALKS, *SANCTIONS], offline=True)
    toasts = record_toasts(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.store.mark_many([TALKS[1].id, TALKS[2].id, SANCTIONS[0].id], read=True)
        app.dashboard.reload_panes()
        await settle(pilot)
        await pilot.press("n")  # past the read talks, on into the next pane
        assert (app.dashboard.active, app.dashboard.selected_item) == ("sanctions", SANCTIONS[1])
        await pilot.press("n")  # round again: the first talk
        assert (app.dashboard.active, app.dashboard.selected_item) == ("talks", TALKS[0])
        await pilot.press("N")  # backwards: the last unread row of the panes before
        assert (app.dashboard.active, app.dashboard.selected_item) == ("sanctions", SANCTIONS[1])
        app.store.mark_many([TALKS[0].id, SANCTIONS[1].id], read=True)
        app.dashboard.reload_panes()
        await settle(pilot)
        await pilot.press("n")
        assert toasts[-1] == ("", "No unread item shown.")


async def test_n_on_the_only_unread_item_says_there_is_no_other(make_app) -> None:
    app = make_app(items=TALKS[:1], offline=True)
    toasts = record_toasts(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.dashboard.selected_item == TALKS[0]
        await pilot.press("n")
        assert toasts[-1] == ("", "No other unread item shown.")


async def test_the_item_screen_steps_through_its_pane(make_app) -> None:
    app = make_app(items=TALKS, offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ItemScreen) and screen.item == TALKS[0]
        await pilot.press("j")
        await settle(pilot)
        assert screen.item == TALKS[1] and app.store.flags(TALKS[1].id).read  # as enter
        await pilot.press("n", "n")  # the last one, then nothing further
        await settle(pilot)
        assert screen.item == TALKS[2]
        await pilot.press("k")
        await settle(pilot)
        assert screen.item == TALKS[1]
        assert TALKS[1].title in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.dashboard.selected_item == TALKS[1]  # the pane's cursor followed
        assert rows(app, "talks") == [t.title for t in TALKS]


async def test_feed_health_shows_unread_and_marks_a_feed_read(make_app) -> None:
    other = make_item("Mediators in Doha host talks", "Negotiations.",
                      feed="http://127.0.0.1:9/b.xml", published=T0 - 7200, guid="b1")
    app = make_app([("Wire", "/a.xml")], items=[*TALKS, other], offline=True,
                   extra='[[feeds]]\nname = "Gulf wire"\nurl = "http://127.0.0.1:9/b.xml"\n')
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FeedHealthScreen)
        table = app.screen.query_one("#feed-table")
        key = "http://127.0.0.1:9/b.xml"
        assert str(table.get_cell(key, "unread")) == "1"
        table.move_cursor(row=table.get_row_index(key))
        await pilot.press("A")
        await settle(pilot)
        assert app.store.flags(other.id).read
        assert not any(app.store.flags(t.id).read for t in TALKS)
        assert str(table.get_cell(key, "unread")) == "0"


async def test_a_read_only_tab_refuses_to_mark_all(make_app) -> None:
    app = make_app(items=TALKS, offline=True, browser_tab="readonly")
    toasts = record_toasts(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert not any(app.store.flags(t.id).read for t in TALKS)
        assert any(text.startswith("Cannot mark items") for _, text in toasts)

"""Reviewing the store: filters that reach the archive, load more, unread and starred views,
keys, the command palette, help and the mouse."""
from __future__ import annotations

import pytest

from feeds.analysis.clusters import cluster_of
from tests.tui.helpers import T0, make_item, rows, run_command, screen_text, settle
from tui.dashboard.screens.feeds import FeedHealthScreen
from tui.dashboard.screens.help import HelpScreen
from tui.dashboard.screens.item import ItemScreen

DAY = 86400
TALKS = [make_item(f"Round {n} of peace talks opens in Geneva" if n % 3 == 0 else
                   f"Round {n} of peace talks opens in Vienna", "Negotiations continue.",
                   published=T0 - n * 5 * DAY - 3600, guid=f"t{n}",
                   link=f"https://news.example/t{n}") for n in range(12)]
# n = 0..2 are in the recent window (14 days); the others live in archive weeks on disk.
OLD_SANCTION = make_item("Japan freezes assets of shipping firms", "New sanctions on Tuesday.",
                         published=T0 - 90 * DAY, guid="s-old")
OTHER_FEED = make_item("Mediators in Doha host talks", "Negotiations.", feed="http://127.0.0.1:9/b.xml",
                       source="Gulf wire", published=T0 - 7200, guid="b1")


RECENT_SANCTIONS = [make_item(f"EU imposes sanctions package {n}", "Asset freeze.",
                              published=T0 - n * 3600, guid=f"s{n}") for n in range(1, 4)]


async def test_filter_searches_the_whole_store(make_app) -> None:
    app = make_app(items=[*TALKS, *RECENT_SANCTIONS, OLD_SANCTION, OTHER_FEED], offline=True,
                   page_size=3)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # a page of recent items: the old one is on disk only, in an archive week
        assert rows(app, "sanctions") == [s.title for s in RECENT_SANCTIONS]
        await pilot.press("slash")
        await pilot.press(*"freezes")
        await pilot.press("enter")
        await settle(pilot)
        assert rows(app, "sanctions") == [OLD_SANCTION.title]
        assert rows(app, "talks") == []
        assert "“freezes”" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert rows(app, "sanctions") == [s.title for s in RECENT_SANCTIONS]
        await pilot.press("slash", *"geneva", "enter")
        await settle(pilot)
        geneva = [t.title for t in TALKS if "Geneva" in t.title]
        assert rows(app, "talks") == geneva[:3]  # a page of matches, newest first
        await pilot.press("L")
        await settle(pilot)
        assert rows(app, "talks") == geneva


async def test_load_more_pages_older_items_in(make_app) -> None:
    app = make_app(items=TALKS, offline=True, page_size=5)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert rows(app, "talks") == [t.title for t in TALKS[:5]]
        await pilot.press("G")  # the last row: the next page comes in
        await settle(pilot)
        assert rows(app, "talks") == [t.title for t in TALKS[:10]]
        await pilot.press("L")
        await settle(pilot)
        assert rows(app, "talks") == [t.title for t in TALKS]
        assert not app.dashboard.pane("talks").has_more


async def test_scope_unread_and_starred_views(make_app) -> None:
    app = make_app(items=[*TALKS[:3], OTHER_FEED], offline=True,
                   extra='[[feeds]]\nname = "Gulf wire"\nurl = "http://127.0.0.1:9/b.xml"\n'
                         'tags = ["gulf"]\n')
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        everything = [TALKS[0].title, OTHER_FEED.title, TALKS[1].title, TALKS[2].title]
        assert rows(app, "talks") == everything
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("down", "enter")  # the first tag: gulf
        await settle(pilot)
        assert rows(app, "talks") == [OTHER_FEED.title]
        assert "tag gulf" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert rows(app, "talks") == everything
        assert app.dashboard.selected_item.id == OTHER_FEED.id  # the cursor kept its item
        await pilot.press("g", "m")  # read the newest
        await pilot.press("j", "s")  # star the next
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert rows(app, "talks") == everything[1:]
        await pilot.press("u", "S")
        await settle(pilot)
        assert rows(app, "talks") == [OTHER_FEED.title]
        await pilot.press("escape")
        await settle(pilot)
        assert rows(app, "talks") == everything


async def test_keys_move_between_panes_and_screens(make_app) -> None:
    sanction = make_item("EU imposes sanctions on banks", "Asset freeze.", published=T0 - 100)
    app = make_app(items=[*TALKS[:3], sanction], offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.dashboard.pane("talks").table
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("down")
        assert table.cursor_row == 2
        await pilot.press("tab")
        assert app.dashboard.active == "sanctions" and app.focused.id == "table-sanctions"
        assert app.dashboard.detail.item.id == sanction.id
        await pilot.press("shift+tab", "shift+tab")
        assert app.dashboard.active == "other"
        await pilot.press("1")
        assert app.dashboard.active == "talks" and table.cursor_row == 2
        await pilot.press("enter")
        assert isinstance(app.screen, ItemScreen)
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "f")
        await settle(pilot)
        assert isinstance(app.screen, FeedHealthScreen)
        await pilot.press("escape", "q")
        await pilot.pause()
    assert app.return_code == 0


async def test_command_palette_lists_the_app_actions(make_app) -> None:
    app = make_app(items=TALKS[:2], offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await run_command(pilot, "feed health")
        assert isinstance(app.screen, FeedHealthScreen)
        await pilot.press("escape")
        await run_command(pilot, "unread only")
        assert app.dashboard.view_filter.unread_only
        titles = [c.title for c in app.get_system_commands(app.dashboard)]
        for wanted in ("Refresh: poll now", "Feed health", "Filter by words", "Open link",
                       "Mark read / unread", "Star / unstar", "Load more", "Theme", "Quit"):
            assert wanted in titles


async def test_mouse_selects_and_opens(make_app) -> None:
    app = make_app(items=TALKS[:3], offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.dashboard.pane("talks").table
        await pilot.click(table, offset=(10, 2))
        await pilot.pause()
        assert table.cursor_row == 2 and app.dashboard.detail.item.id == TALKS[2].id
        await pilot.click(table, offset=(10, 2))
        await pilot.pause()
        assert isinstance(app.screen, ItemScreen) and app.screen.item.id == TALKS[2].id
        await pilot.press("escape")
        await pilot.click("#pane-other .pane-title")
        assert app.dashboard.active == "other"


async def test_the_rest_of_the_recent_window_follows_the_first_paint(make_app) -> None:
    """The dashboard opens the store with only the current week in memory (first paint at a
    million items); the older days of the window are loaded right after, and the panes,
    stories and header counts include them."""
    this_week = make_item("Envoys open ceasefire talks in Geneva", "Negotiations.",
                          published=T0 - 3600, guid="w0")
    last_week = make_item("Mediators host peace talks in Doha", "Negotiations.",
                          published=T0 - 6 * DAY, guid="w1")  # Friday of the previous week
    app = make_app(items=[this_week, last_week], offline=True)
    assert app.store.deferred
    assert [i.id for i in app.store.recent()] == [this_week.id]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not app.store.deferred
        assert rows(app, "talks") == [this_week.title, last_week.title]
        stories = app.stories.directory
        assert stories is not None and stories.size(cluster_of(last_week)) == 1


async def test_the_first_frame_is_read_from_the_current_weeks_file(make_app, monkeypatch) -> None:
    """The first frame shows each pane's newest rows of the current week, read from its file
    (the store was opened lean: no week in memory), a few per pane; once the recent window
    is in memory, the panes hold a page each and the unread counts follow."""
    from threading import Event

    from tui.dashboard.screens import pane_queries

    monkeypatch.setattr(pane_queries, "FIRST_FRAME_ROWS", 2)
    talks = [make_item(f"Round {n} of peace talks opens in Geneva", "Negotiations.",
                       published=T0 - 3600 * (n + 1), guid=f"f{n}") for n in range(4)]
    app = make_app(items=talks, offline=True)
    window_in, load = Event(), app.store.load_deferred
    monkeypatch.setattr(app.store, "load_deferred", lambda: (window_in.wait(10), load())[1])
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(500):
            if app.dashboard.loaded:
                break
            await pilot.pause(0.01)
        assert rows(app, "talks") == [t.title for t in talks[:2]]
        assert app.store.first_pages([]) == [] and not app.unread.known  # still lean
        window_in.set()
        await settle(pilot)
        assert rows(app, "talks") == [t.title for t in talks]
        assert app.store.first_pages([]) is None and app.unread.label("talks") == 4


async def test_rows_read_before_the_app_runs_are_in_its_first_frame(make_app, monkeypatch) -> None:
    """As the command line starts it (preload): the first frame already shows the panes'
    rows, as many as the terminal has lines, and no start-up worker reads them again; the
    recent window's answer follows."""
    from tui.dashboard.screens.dashboard import DashboardScreen

    talks = [make_item(f"Round {n} of peace talks opens in Geneva", "Negotiations.",
                       published=T0 - 60 * (n + 1), guid=f"p{n}") for n in range(30)]
    app = make_app(items=talks, offline=True)
    app.dashboard.preload()
    monkeypatch.setattr(DashboardScreen, "_startup", lambda self: pytest.fail("read twice"))
    first: dict[str, object] = {}

    def ready() -> None:  # the first frame has been drawn
        first["loaded"] = app.dashboard.loaded
        first["rows"] = rows(app, "talks")
        first["text"] = screen_text(app)

    monkeypatch.setattr(type(app), "on_ready", lambda self: ready(), raising=False)
    async with app.run_test(size=(120, 20)) as pilot:
        await settle(pilot)
        assert first["loaded"] and first["rows"] == [t.title for t in talks[:20]]
        assert talks[0].title in first["text"]
        assert rows(app, "talks") == [t.title for t in talks]  # then the recent window


async def test_a_first_frame_that_could_not_be_read_is_read_by_the_start_up_worker(
        make_app, monkeypatch) -> None:
    """A store that fails the read before the app runs is read again by the start-up
    worker, which shows its rows (or says why it cannot, on screen)."""
    from tui.dashboard.screens import pane_queries, startup

    talks = [make_item(f"Round {n} of peace talks opens in Geneva", "Negotiations.",
                       published=T0 - 60 * (n + 1), guid=f"w{n}") for n in range(3)]
    app = make_app(items=talks, offline=True)
    real = pane_queries.query_panes
    calls: list[bool] = []

    def failing_once(*args, **kwargs):
        calls.append(True)
        if len(calls) == 1:
            raise OSError("the disk went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(startup.pane_queries, "query_panes", failing_once)
    app.dashboard.preload()
    assert calls and app.dashboard._first_frame is None
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert rows(app, "talks") == [t.title for t in talks] and len(calls) >= 2


def test_admitted_is_admits_for_a_batch() -> None:
    """Live inserts filter a poll's items per pane in one call: the same answer, item by item."""
    from storage.query import NO_FLAGS
    from tui.dashboard.widgets.filter_bar import ViewFilter

    items = [*TALKS, *RECENT_SANCTIONS, OLD_SANCTION, OTHER_FEED]
    for view in (ViewFilter(), ViewFilter(text="geneva"), ViewFilter(text="sanctions"),
                 ViewFilter(feeds=frozenset({OTHER_FEED.feed})), ViewFilter(actor="EU")):
        for pane in ("talks", "sanctions", "statements", "other"):
            assert view.admitted(items, pane) == [i for i in items if view.admits(i, NO_FLAGS, pane)]
    assert ViewFilter(text="geneva").admitted(items, "talks")  # not vacuous


async def test_scope_picker_lists_folders_filters_as_you_type_and_moves_with_j_k(make_app) -> None:
    from tui.dashboard.screens.scope import ScopeList, ScopeScreen

    europe = make_item("Envoys meet in Brussels", "Talks.", feed="http://127.0.0.1:9/eu.xml",
                       source="EU wire", published=T0 - 3000, guid="e1")
    gulf = make_item("Mediators in Doha host talks", "Negotiations.", feed="http://127.0.0.1:9/b.xml",
                     source="Gulf wire", published=T0 - 7200, guid="b1")
    feeds = ('[[feeds]]\nname = "EU wire"\nurl = "http://127.0.0.1:9/eu.xml"\n'
             'folder = "World/Europe"\n'
             '[[feeds]]\nname = "Gulf wire"\nurl = "http://127.0.0.1:9/b.xml"\n'
             'folder = "World/[bold]Gulf"\n')
    app = make_app(items=[TALKS[0], europe, gulf], offline=True, extra=feeds)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ScopeScreen)
        text = screen_text(app)
        assert "World/[bold]Gulf" in text  # a folder name is never markup
        assert "World/Europe  1 feed · 1 item" in text
        assert "World  2 feeds · 2 items" in text
        olist = screen.query_one(ScopeList)
        await pilot.press("j", "j")
        assert olist.highlighted == 2
        await pilot.press("k")
        assert olist.highlighted == 1
        await pilot.press(*"europe")  # typing filters the list (j/k would now type)
        await pilot.pause()
        shown = [screen.choices[int(olist.get_option_at_index(i).id)].name
                 for i in range(olist.option_count)]
        assert shown == ["folder World/Europe"]
        await pilot.press("enter")
        await settle(pilot)
        assert rows(app, "talks") == ["Envoys meet in Brussels"]
        assert "folder World/Europe" in screen_text(app)
        await pilot.press("t")
        await pilot.pause()
        await pilot.press(*"world", "down", "enter")  # "folder World", then its first sub-folder
        await settle(pilot)
        assert app.dashboard.view_filter.scope_name == "folder World/[bold]Gulf"
        assert rows(app, "talks") == ["Mediators in Doha host talks"]

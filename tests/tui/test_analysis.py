"""The analyst's dashboard: watch alerts, story clusters, the actor filter, trends
and saving the view as a briefing. Feeds on the loopback server, the store in tmp_path, the
clock frozen at T0."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from textual.widgets import DataTable, Input, RadioButton, Sparkline

from tests.feedserver import FeedServer, Response, rfc822, rss, rss_item
from feeds.model import parse_utc_iso
from tests.tui.helpers import T0, make_item, record_toasts, rows, run_command, screen_text, settle
from tui.dashboard.screens.briefing import BriefingScreen
from tui.dashboard.screens.help import HelpScreen, help_content
from tui.dashboard.screens.trends import TrendRow, TrendsScreen
from tui.dashboard.screens.watch import WatchScreen, WatchTable

HOUR = 3600
DAY = 86400




# --- watch -------------------------------------------------------------------------------------

# Appends one line per run: the JSON the command read on stdin.
RECORDER = ("import sys; data = sys.stdin.buffer.read().decode(); "
            "open(sys.argv[1], 'a', encoding='utf-8').write(data.replace('\\n', ' ') + '\\n')")
TERM = "[b]Truce[/b] [@click=app.quit]watch[/]"  # a term name is config text: shown literally


async def test_a_watch_hit_toasts_rings_and_lists_once_across_two_polls(
        make_app, feed_server: FeedServer, tmp_path: Path) -> None:
    log = tmp_path / "notified.jsonl"
    hit_title = "Ceasefire agreed in Gaza as talks go on"
    calm = rss_item("Markets rally on trade news", guid="2", pub=rfc822(T0 - 2 * HOUR))
    feed_server.route("/a.xml", Response(body=rss([calm])))
    argv = json.dumps([sys.executable, "-c", RECORDER, str(log)])
    app = make_app([("Wire A", "/a.xml")], extra=(
        f'[watch]\nbell = true\nnotify_command = {argv}\n'
        f'[watch.terms]\n{json.dumps(TERM)} = "ceasefire|truce"\n'))
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # headless apps ring nothing: count the calls
    toasts = record_toasts(app)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("r")  # the feed's first document: its backlog
        await settle(pilot)
        feed_server.route("/a.xml", Response(body=rss([
            rss_item(hit_title, guid="1", link="https://news.example/1", pub=rfc822(T0 - HOUR)),
            calm])))
        for _ in range(2):  # the second poll sees the same item again: no second alert
            await pilot.press("r")
            await settle(pilot)
            app.backend.poller.notifier.wait()
        watch_toasts = [(t, m) for t, m in toasts if t.startswith("◉ Watch")]
        assert watch_toasts == [(f"◉ Watch: {TERM}", f"{hit_title}\nWire A")]
        assert bells == [1]
        assert [h.item.title for h in app.watchlist.alerts.values()] == [hit_title]
        assert len(log.read_text().splitlines()) == 1  # the notify command ran once
        notified = json.loads(log.read_text())
        assert notified["title"] == hit_title and notified["watch_terms"] == [TERM]
        text = screen_text(app)
        assert "◉ watch 1" in text  # the header: one alert not seen yet
        assert f"Watch: {TERM}" in text  # the toast, its title literally

        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, WatchScreen) and app.is_running
        table = app.screen.query_one(WatchTable)
        assert [h.item.title for h in table.hits.values()] == [hit_title]
        assert table.get_cell_at((0, 0)).plain == "◉ "  # an alert of this session
        text = screen_text(app)
        assert hit_title in text and "[b]Truce[/b]" in text
        assert app.watchlist.unseen == 0
        await pilot.press("enter")  # the item, with the term it matched
        await settle(pilot)
        assert "◉ watch" in screen_text(app) and "[b]Truce[/b] [@click=app.quit]watch[/]" in \
            screen_text(app)
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert app.dashboard.header.watch == 0 and "◉ watch 1" not in screen_text(app)  # seen
    assert app.return_code in (None, 0)


# --- story clusters ----------------------------------------------------------------------------

TALKS = ("Russia and Ukraine hold first direct peace talks in Istanbul since 2022",
         "Russian, Ukrainian delegations meet in Istanbul for first direct talks in three years",
         "Istanbul hosts first direct Russia-Ukraine peace talks since 2022")
KURSK = "Russia says it has retaken Kursk region from Ukrainian forces"
POWS = ("Russia and Ukraine exchange 390 prisoners of war",
        "Ukraine, Russia swap 390 prisoners each in largest exchange of the war")
# The same story in three wordings, and other stories sharing its words.
STORY_FEEDS = {
    "/a.xml": [(TALKS[0], 1), (POWS[0], 5)],
    "/b.xml": [(TALKS[1], 2), (KURSK, 3)],
    "/c.xml": [(TALKS[2], 4), (POWS[1], 6)],
}


def serve_stories(feed_server: FeedServer) -> list[tuple[str, str]]:
    for path, stories in STORY_FEEDS.items():
        feed_server.route(path, Response(body=rss([
            rss_item(title, guid=f"{path}-{k}", link=f"https://news.example{path[:2]}/{k}",
                     pub=rfc822(T0 - hours * HOUR)) for k, (title, hours) in enumerate(stories)])))
    return [(f"Wire {path[1].upper()}", path) for path in STORY_FEEDS]


def all_rows(app) -> list[str]:
    return [title for pane in ("talks", "sanctions", "statements", "other")
            for title in rows(app, pane)]


async def test_story_view_shows_one_row_per_story_with_its_sources(
        make_app, feed_server: FeedServer) -> None:
    app = make_app(serve_stories(feed_server), auto_poll=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert rows(app, "talks")[:3] == list(TALKS)  # one row per item
        await pilot.press("c")
        await settle(pilot)
        talks = app.dashboard.pane("talks").table
        assert talks.grouped
        shown = all_rows(app)
        # The three versions of the story: one row (its newest), "3 sources".
        assert [t for t in shown if t in TALKS] == [TALKS[0]]
        assert talks.get_cell(talks.selected_id, "title").plain.startswith("3▸ ")
        # Different stories sharing its words (Russia, Ukraine) stay rows of their own.
        assert KURSK in shown
        kursk_pane = next(p for p in app.dashboard.panes() if KURSK in rows(app, p.pane))
        kursk_id = next(i for i, it in kursk_pane.table.items.items() if it.title == KURSK)
        assert not kursk_pane.table.get_cell(kursk_id, "title").plain[0].isdigit()
        # The prisoner exchange: two feeds, one story (its versions may carry other labels).
        assert sum(t in POWS for t in shown) >= 1
        assert "stories" in screen_text(app)

        # The detail lists every source's version: feed, time, title.
        detail = app.dashboard.detail
        assert [v.title for _, v in detail.view.versions] == list(TALKS)
        text = screen_text(app)
        assert "3 sources, 3 versions" in text
        for name in ("Wire A", "Wire B", "Wire C"):
            assert name in text
        await pilot.press("enter")
        await settle(pilot)
        text = " ".join(screen_text(app).split())
        for title in TALKS:
            assert title in text
        assert "https://news.example/b/0" in text and "https://news.example/c/0" in text
        await pilot.press("escape", "c")
        await settle(pilot)
        assert not talks.grouped and rows(app, "talks")[:3] == list(TALKS)


async def test_a_new_version_moves_its_story_to_the_top(make_app, feed_server: FeedServer) -> None:
    first = {"/a.xml": [(TALKS[0], 5)], "/b.xml": [(KURSK, 3)], "/c.xml": []}
    for path, stories in first.items():
        feed_server.route(path, Response(body=rss([rss_item(t, guid=f"{path}-{k}",
                                                            pub=rfc822(T0 - h * HOUR))
                                                   for k, (t, h) in enumerate(stories)])))
    app = make_app([(f"Wire {p[1].upper()}", p) for p in first], auto_poll=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        before = all_rows(app)
        assert TALKS[0] in before and KURSK in before
        feed_server.route("/c.xml", Response(body=rss([rss_item(TALKS[2], guid="c-0",
                                                                pub=rfc822(T0 - HOUR))])))
        await pilot.press("r")
        await settle(pilot)
        talks = app.dashboard.pane("talks").table
        assert rows(app, "talks")[0] == TALKS[2]  # the story's newest version, on top
        assert TALKS[0] not in all_rows(app)  # one row for the story
        assert talks.get_cell(talks.selected_id, "title").plain.startswith("2▸ ")
        assert len(talks.items) == len(rows(app, "talks")) + 1  # paging counts items


# --- actors ------------------------------------------------------------------------------------

RUSSIA = make_item("Kremlin says talks with Kyiv must wait", "Moscow rejected the proposal.",
                   published=T0 - 600, guid="ru")
EU = make_item("EU imposes new sanctions on banks", "The asset freeze covers five lenders.",
               published=T0 - 1200, guid="eu")
QATAR = make_item("Qatar hosts peace talks", "Negotiations in Doha.", published=T0 - 1800, guid="qa")


async def test_actor_filter_narrows_the_panes_and_takes_aliases(make_app) -> None:
    assert "Russia" in RUSSIA.actors and "Russia" not in EU.actors + QATAR.actors
    app = make_app(items=[RUSSIA, EU, QATAR], offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert rows(app, "talks") == [RUSSIA.title, QATAR.title]
        assert "actors  Russia · Ukraine" in screen_text(app)  # the detail names them
        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"kremlin", "enter")  # an alias of Russia
        await settle(pilot)
        assert app.dashboard.view_filter.actor == "Russia"
        assert rows(app, "talks") == [RUSSIA.title]
        assert rows(app, "sanctions") == []
        assert "actor Russia" in screen_text(app)
        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"qat", "enter")  # the first actor listed for what was typed
        await settle(pilot)
        assert app.dashboard.view_filter.actor == "Qatar" and rows(app, "talks") == [QATAR.title]
        await pilot.press("escape")
        await settle(pilot)
        assert app.dashboard.view_filter.actor is None and rows(app, "talks") == [RUSSIA.title, QATAR.title]


# --- trends ------------------------------------------------------------------------------------

def _day_items() -> list:
    plan = [  # (days before T0, title)
        (0, "Envoys hold peace talks in Geneva"), (0, "Mediators hold talks in Doha"),
        (0, "EU imposes sanctions on Russian banks"), (2, "Delegations resume negotiations"),
        (5, "US imposes sanctions on shipping firms"), (5, "Japan freezes assets of oligarchs"),
        (9, "Ministry condemns the attack in a statement"), (20, "The ministry said in a statement"),
    ]
    return [make_item(title, published=T0 - d * DAY - 60 * i, guid=f"d{i}")
            for i, (d, title) in enumerate(plan)]


async def test_trends_screen_counts_the_stored_items(make_app) -> None:
    items = _day_items()
    app = make_app(items=items, offline=True)

    def expected(label: str, days: int) -> list[int]:
        """Items per UTC day, oldest first, counted by hand from the items stored."""
        counts = [0] * days
        for it in items:
            age = int(T0 // DAY) - int(parse_utc_iso(it.published) // DAY)
            if age < days and (label in it.labels or (label == "none" and not it.labels)):
                counts[days - 1 - age] += 1
        return counts

    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # The panes' sparklines: items per day, two weeks.
        assert app.dashboard.pane("talks").query_one(Sparkline).data == expected("talks", 14)
        assert app.dashboard.pane("sanctions").query_one(Sparkline).data == expected("sanctions", 14)
        await pilot.press("T")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TrendsScreen) and screen.days == 14
        for days in (14, 30):
            label_rows = list(screen.query("#trend-labels TrendRow").results(TrendRow))
            assert [row.query_one(Sparkline).data for row in label_rows] == [
                expected(k, days) for k in ("talks", "sanctions", "statements", "none")]
            table = screen.query_one("#trend-days", DataTable)
            assert table.row_count == days
            today = [c.plain.strip() for c in table.get_row_at(0)]
            assert today[1:] == [str(expected(k, days)[-1]) if expected(k, days)[-1] else "·"
                                 for k in ("talks", "sanctions", "statements", "none")]
            text = screen_text(app)
            totals = {k: sum(expected(k, days)) for k in ("talks", "sanctions", "statements")}
            for name, key in (("Talks", "talks"), ("Sanctions", "sanctions"),
                              ("Statements", "statements")):
                line = next(ln for ln in text.splitlines() if ln.strip().startswith(name + " "))
                assert line.split()[1] == str(totals[key])
            assert f"last {days} days" in text
            await pilot.press("d")
            await settle(pilot)
        assert screen.days == 14
        assert "Russia" in screen_text(app)  # top actors


# --- briefing ----------------------------------------------------------------------------------

HOSTILE = "**Bold** <script>alert(1)</script> [@click=app.quit]peace talks[/] & [x](javascript:y)"


async def test_save_view_as_briefing_writes_the_filtered_items_escaped(make_app, tmp_path) -> None:
    hostile = make_item(HOSTILE, "Negotiations <b>resume</b>.", published=T0 - 600, guid="h",
                        link="https://news.example/h")
    others = [make_item(f"Envoys hold talks in Geneva, round {n}", "Negotiations.",
                        published=T0 - 3600 * (n + 1), guid=f"g{n}") for n in range(3)]
    unrelated = make_item("EU imposes sanctions on banks", "Asset freeze.", published=T0 - 900,
                          guid="eu")
    app = make_app(items=[hostile, *others, unrelated], offline=True, page_size=1)
    toasts = record_toasts(app)
    path = tmp_path / "out" / "brief.md"
    path.parent.mkdir()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"talks", "enter")  # the view: items with "talks"
        await settle(pilot)
        assert len(rows(app, "talks")) < 1 + len(others)  # pages of one row: not all shown

        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, BriefingScreen)
        field = app.screen.query_one("#brief-path", Input)
        assert field.value.startswith("~/diplowatch-briefing-2026-05-28") and field.value.endswith(".md")
        field.value = str(path)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is app.dashboard and app.is_running
        md = path.read_text(encoding="utf-8")
        assert "\\*\\*Bold\\*\\*" in md and "\\<script\\>" in md
        assert "\\[@click=app.quit\\]peace talks\\[/\\]" in md
        assert "<script>" not in md and "](javascript" not in md
        for item in others:
            assert item.title in md
        assert "EU imposes sanctions" not in md  # not in the view
        assert "The dashboard's view: “talks”" in md
        assert any(t == "Briefing saved" and str(path) in m for t, m in toasts)

        # HTML, and a file that exists is replaced only when confirmed.
        await pilot.press("b")
        await pilot.pause()
        modal = app.screen
        modal.query_one("#brief-path", Input).value = str(path)
        await pilot.click(modal.query(RadioButton).last())
        await pilot.pause()
        html_path = path.with_suffix(".html")
        assert modal.query_one("#brief-path", Input).value == str(html_path)
        html_path.write_text("old", encoding="utf-8")
        await pilot.click("#brief-save")
        await settle(pilot)
        assert app.screen is modal and "exists" in screen_text(app)
        assert html_path.read_text(encoding="utf-8") == "old"
        await pilot.click("#brief-save")  # now "Replace": confirmed
        await settle(pilot)
        assert app.screen is app.dashboard
        page = html_path.read_text(encoding="utf-8")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
        assert "[@click=app.quit]peace talks[/]" in page  # inert in HTML, shown as written
        assert app.is_running and app.return_code is None


async def test_command_palette_has_the_analysis_actions(make_app) -> None:
    app = make_app(items=[RUSSIA], offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.dashboard)]
        for wanted in ("Trends", "Watch alerts", "Filter by actor", "Save view as briefing",
                       "Stories: one row per story / per item"):
            assert wanted in titles
        await run_command(pilot, "trends")
        assert isinstance(app.screen, TrendsScreen)
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = help_content().plain
        for key_help in ("one row per story", "trends:", "watch:", "briefing", "alias"):
            assert key_help in text


async def test_a_new_feeds_backlog_is_shown_but_not_toasted(
        make_app, feed_server: FeedServer, clock) -> None:
    feed_server.route("/a.xml", Response(body=rss([
        rss_item("Ceasefire agreed in Gaza", guid="1", pub=rfc822(T0 - HOUR)),
        rss_item("Markets rally on trade news", guid="2", pub=rfc822(T0 - 2 * HOUR))])))
    app = make_app([("Wire A", "/a.xml")], extra='[watch]\nterms = ["ceasefire"]\n')
    toasts = record_toasts(app)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert "Ceasefire agreed in Gaza" in screen_text(app)  # stored and shown
        assert toasts == [] and app.watchlist.alerts == {}
        clock.advance(HOUR)
        feed_server.route("/a.xml", Response(body=rss([
            rss_item("Ceasefire holds in Gaza", guid="3", pub=rfc822(T0 + HOUR / 2)),
            rss_item("Ceasefire agreed in Gaza", guid="1", pub=rfc822(T0 - HOUR))])))
        await pilot.press("r")
        await settle(pilot)
        titles = [t for t, _ in toasts]
        assert "◉ Watch: ceasefire" in titles and any(t.startswith("New in") for t in titles)
        assert [h.item.title for h in app.watchlist.alerts.values()] == ["Ceasefire holds in Gaza"]

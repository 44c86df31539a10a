"""`v`: the items whose labels the rules are least sure of, nearest a threshold first; `l` there
sets an item's labels by hand and the row stays, marked. Real store in tmp_path, the App
driven by Pilot."""
from __future__ import annotations

from feeds.classify.doubt import doubt, label_thresholds
from tests.helpers import bundled_config
from tests.tui.helpers import T0, make_item, record_toasts, run_command, screen_text, settle
from tui.dashboard.screens.item import ItemScreen
from tui.dashboard.screens.labels import LabelsScreen
from tui.dashboard.screens.review import ReviewScreen, ReviewTable

THRESHOLDS = label_thresholds(bundled_config().rules)
ITEMS = [
    make_item("Envoys hold peace talks in Geneva", "Negotiations resume on Monday.",
              published=T0 - 600, guid="talks"),
    make_item("EU imposes sanctions on Russian banks and freezes assets",
              "The package adds an export ban and an asset freeze.", published=T0 - 700,
              guid="sanctions"),
    make_item("Kremlin condemns new sanctions, Peskov says Moscow will respond",
              "The foreign ministry said the measures were illegal.", published=T0 - 800,
              guid="statement"),
    make_item("Central bank holds rates steady", "Markets were calm.", published=T0 - 900,
              guid="nothing"),  # no rule fires
    make_item("Foreign ministers meet in Cairo for talks", "A call for calm.",
              published=T0 - 1000, guid="settled"),
]
BY_GUID = {it.guid: it for it in ITEMS}


def listed(app) -> list[str]:
    return [item.guid for _, item in app.screen.query_one(ReviewTable).items.values()]


async def test_v_lists_the_least_sure_first_and_l_sets_them(make_app) -> None:
    distance = {it.guid: doubt(it.scores, THRESHOLDS) for it in ITEMS}
    assert distance["nothing"] is None  # the rules saw nothing in it
    app = make_app(items=ITEMS, offline=True)
    assert app.store.set_labels(BY_GUID["settled"].id, ["talks"]) is not None
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        got = listed(app)
        # every item a rule fired on and the desk has not settled, nearest a threshold first
        assert got == sorted(["talks", "sanctions", "statement"], key=lambda g: distance[g].distance)
        first = distance[got[0]]
        text = screen_text(app)
        assert f"{first.label} {first.score:g}/{first.threshold:g}" in text
        assert "3 of 3" in text  # of the items a rule fired on, not yet set by hand

        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, LabelsScreen)
        await pilot.press("3", "enter")  # toggle statements
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert listed(app) == got  # the row stays where it was
        item = app.store.get(BY_GUID[got[0]].id)
        assert app.store.correction(item.id) is not None
        assert ("statements" in item.labels) != ("statements" in BY_GUID[got[0]].labels)
        text = screen_text(app)
        assert "✎ 1 set here" in text and "✎ " + f"{first.label} " in text

        await pilot.press("2")  # only the doubts about sanctions
        await settle(pilot)
        assert listed(app) == sorted([g for g in ("sanctions", "statement") if g != got[0]],
                                     key=lambda g: abs(BY_GUID[g].scores["sanctions"] - 1))
        assert "doubts about sanctions" in screen_text(app)
        await pilot.press("2")  # again: every label
        await settle(pilot)
        assert listed(app) == got[1:]
        await pilot.press("R")  # ranked again: what was set by hand drops out
        await settle(pilot)
        assert listed(app) == got[1:] and "✎ 1 set here" in screen_text(app)

        await pilot.press("escape")
        await run_command(pilot, "review labels")
        assert isinstance(app.screen, ReviewScreen)
        await settle(pilot)
        assert listed(app) == got[1:]  # once set by hand, no longer to review

        # enter opens the selected item; its next / previous walk the review list
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ItemScreen) and app.screen.item.guid == got[1]
        await pilot.press("j")
        await settle(pilot)
        assert app.screen.item.guid == got[2]


async def test_feed_text_is_shown_as_text(make_app) -> None:
    hostile = make_item("[bold]Envoys[/bold] hold [@click=app.quit]talks[/] \x1b[31m in Geneva",
                        "Negotiations [link=https://evil.example]resume[/link].", published=T0 - 60)
    app = make_app(items=[hostile], offline=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert listed(app) == [hostile.guid]
        text = screen_text(app)
        assert "[bold]Envoys[/bold] hold [@click=app.quit]talks[/]" in text
        assert "\x1b" not in text
        await pilot.click("#review-table")  # a click on the row: no action runs from it
        await settle(pilot)
        assert app.is_running


async def test_a_ranking_that_fails_says_so(make_app) -> None:
    app = make_app(items=ITEMS[:2], offline=True)
    toasts = record_toasts(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        real = app.store.recent

        def broken(*args, **kwargs):
            raise OSError("disk gone")
        app.store.recent = broken
        await pilot.press("v")
        await settle(pilot)
        assert "could not rank the items" in screen_text(app)
        assert any("disk gone" in m for _, m in toasts), toasts
        app.store.recent = real
        await pilot.press("R")  # tries again
        await settle(pilot)
        assert sorted(listed(app)) == sorted(it.guid for it in ITEMS[:2])


async def test_an_empty_store_says_there_is_nothing_to_review(make_app) -> None:
    app = make_app(items=[BY_GUID["nothing"]], offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert "nothing to review" in screen_text(app)
        await pilot.press("l")  # no row: a toast, no dialog
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)

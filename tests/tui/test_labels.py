"""`l`: labels set by hand. The item moves to its panes, shows ✎ where its labels show, the
correction is on disk, survives a reopen and a re-classification, and a dashboard that
cannot write refuses it. Real store in tmp_path, the App driven by Pilot."""
from __future__ import annotations

from pathlib import Path

from textual.widgets import Checkbox

from feeds.classify.reclassify import FINGERPRINT_KEY
from storage.store import Store
from tests.tui.helpers import T0, make_item, record_toasts, rows, run_command, screen_text, settle
from tui.dashboard.app import DiplowatchApp
from tui.dashboard.backend import LocalBackend, ReadOnlyBackend
from tui.dashboard.screens.item import ItemScreen
from tui.dashboard.screens.labels import LabelsScreen

TALKS = make_item("Envoys hold peace talks in Geneva", "Negotiations resume.",
                  published=T0 - 600, guid="t1")
OTHER = make_item("Central bank holds rates steady", "Markets were calm.",
                  published=T0 - 1200, guid="o1")



def ticked(app) -> dict[str, bool]:
    return {box.id.removeprefix("label-"): box.value for box in app.screen.query(Checkbox)}


async def test_l_moves_the_item_and_the_rules_never_undo_it(make_app, tmp_path: Path,
                                                             clock) -> None:
    assert TALKS.labels == ("talks",) and OTHER.labels == ()
    app = make_app(items=[TALKS, OTHER], offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert rows(app, "talks") == [TALKS.title]
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, LabelsScreen)
        assert ticked(app) == {"talks": True, "sanctions": False, "statements": False}
        await pilot.press("1", "2", "enter")  # not talks: sanctions
        await settle(pilot)
        assert rows(app, "talks") == [] and rows(app, "sanctions") == [TALKS.title]
        assert app.poll.counts["talks"] == 0 and app.poll.counts["sanctions"] == 1
        app.dashboard.action_show_pane("sanctions")
        await settle(pilot)
        text = screen_text(app)
        assert "✎ Envoys hold peace talks" in text and "✎ corrected" in text

        # escape leaves an item as it is
        app.dashboard.action_show_pane("other")
        await pilot.press("l", "2", "escape")
        await settle(pilot)
        assert rows(app, "other") == [OTHER.title] and app.store.correction(OTHER.id) is None
    app.store.close()

    on_disk = Store.open(tmp_path / "store", readonly=True)
    assert on_disk.get(TALKS.id).labels == ("sanctions",)
    assert on_disk.correction(TALKS.id).labels == ("sanctions",)
    on_disk.close()

    # The rules changed since: the dashboard re-classifies every item at start, but not
    # the one set by hand.
    with Store.open(tmp_path / "store", clock=clock) as writer:
        writer.set_meta(FINGERPRINT_KEY, "rules of yesterday")
    store = Store.open(tmp_path / "store", clock=clock, defer_older=True)
    again = DiplowatchApp(app.config, LocalBackend(store), clock=clock, auto_poll=False)
    toasts = record_toasts(again)
    try:
        async with again.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert any("re-classified" in m for _, m in toasts), toasts
            assert rows(again, "sanctions") == [TALKS.title] and rows(again, "talks") == []
            assert again.labels.is_corrected(TALKS.id)
    finally:
        store.close()


async def test_l_on_the_item_screen_and_from_the_palette(make_app) -> None:
    app = make_app(items=[TALKS], offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ItemScreen)
        await pilot.press("l", "3", "enter")  # talks and statements
        await settle(pilot)
        assert isinstance(app.screen, ItemScreen)
        assert app.screen.item.labels == ("talks", "statements")
        assert "✎ corrected" in screen_text(app)
        await run_command(pilot, "set labels by hand")
        assert isinstance(app.screen, LabelsScreen)
        assert ticked(app) == {"talks": True, "sanctions": False, "statements": True}
        await pilot.press("1", "3", "enter")  # none ticked: other
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert rows(app, "other") == [TALKS.title] and rows(app, "statements") == []
    assert app.store.get(TALKS.id).labels == ()
    assert app.store.correction(TALKS.id).labels == ()


async def test_a_read_only_dashboard_refuses(tmp_path: Path, make_app, clock) -> None:
    tab = make_app(items=[TALKS], browser_tab="readonly")
    toasts = record_toasts(tab)
    async with tab.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert not isinstance(tab.screen, LabelsScreen)
    assert any("read-only browser tab" in m for _, m in toasts), toasts
    assert tab.store.correction(TALKS.id) is None
    tab.store.close()

    store = Store.open(tmp_path / "store", readonly=True, clock=clock)
    app = DiplowatchApp(tab.config, ReadOnlyBackend(store), clock=clock, auto_poll=False)
    try:
        async with app.run_test(size=(120, 36), notifications=True) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("l")
            await settle(pilot)
            assert isinstance(app.screen, ItemScreen)
            assert "Cannot set labels" in screen_text(app)
        assert store.get(TALKS.id).labels == ("talks",)
    finally:
        store.close()


async def test_the_box_shows_a_hostile_title_literally(make_app) -> None:
    hostile = make_item("[@click=app.quit]Peace talks[/] in [b]Doha[/b]", "Negotiations.",
                        published=T0 - 60, guid="h1")
    app = make_app(items=[hostile], offline=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, LabelsScreen)
        assert "[@click=app.quit]Peace talks[/] in [b]Doha[/b]" in screen_text(app)
        await pilot.click("#labels-title")
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running and app.store.correction(hostile.id) is None

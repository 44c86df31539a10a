"""The dashboard in a browser tab of `serve`: a read-only tab shows the store but no mark,
poll or feed edit leaves it; any tab delivers a briefing to the browser instead of writing a
file on the server. Real store in tmp_path, the App driven by Pilot."""
from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from tests.tui.helpers import T0, make_item, record_toasts, screen_text, settle
from tui.dashboard.messages import FeedToggled
from tui.dashboard.screens.briefing import BriefingScreen, download_name

TALKS = make_item("Envoys hold peace talks in Geneva", "Negotiations resume.",
                  published=T0 - 600, guid="t1")



async def test_a_read_only_tab_marks_polls_and_edits_nothing(make_app, tmp_path: Path) -> None:
    app = make_app([("wire", "/feed.xml")], items=[TALKS], browser_tab="readonly")
    toasts = record_toasts(app)
    config_before = app.config.path.read_text(encoding="utf-8")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert "READ-ONLY TAB" in screen_text(app)
        await pilot.press("m", "s")  # mark read, star
        await settle(pilot)
        await pilot.press("r")  # poll now
        await settle(pilot)
        app.post_message(FeedToggled(app.config.feeds[0].key, False))
        await settle(pilot)
        assert not app.poll.polling
    assert sum("read-only browser tab" in m for _, m in toasts) >= 4, toasts
    assert app.backend.store.get(TALKS.id) is not None
    flags = app.backend.store.flags(TALKS.id)
    assert not flags.read and not flags.starred
    assert app.config.path.read_text(encoding="utf-8") == config_before


@pytest.mark.parametrize("tab", ["readonly", "writable"])
async def test_a_tab_downloads_the_briefing_and_writes_no_file(make_app, tmp_path: Path,
                                                              monkeypatch, tab: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    app = make_app(items=[TALKS], offline=True, browser_tab=tab)
    delivered: list[tuple[str, dict]] = []
    app.deliver_text = lambda f, **kw: delivered.append((f.read(), kw))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, BriefingScreen)
        field = app.screen.query_one("#brief-path", Input)
        assert field.value == "diplowatch-briefing-2026-05-28.md"
        field.value = "../../etc/passwd"  # a name only: the browser decides where it goes
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is app.dashboard
    [(text, options)] = delivered
    assert "Envoys hold peace talks in Geneva" in text
    assert options == {"save_filename": "passwd.md", "open_method": "download",
                       "mime_type": "text/markdown"}
    assert list(home.iterdir()) == []


def test_download_names_keep_no_folder() -> None:
    assert download_name("~/x/brief.html", "md") == "brief.html"
    assert download_name("  ", "html") == "diplowatch-briefing.html"
    assert download_name("..", "md") == "diplowatch-briefing.md"
    assert download_name("C:\\Users\\a\\b", "md") == "b.md"

"""Items with no label have one name on the dashboard, as on the command line: "other"
(the pane, its chip in the detail, its trends row). Store in tmp_path, clock frozen at T0."""
from __future__ import annotations

from tests.tui.helpers import T0, make_item, screen_text, settle
from tui.dashboard.screens.trends import TrendRow, TrendsScreen

FOOTBALL = make_item("Football: Spain beat Italy in a friendly", published=T0 - 600, guid="f")
TALKS = make_item("Envoys hold peace talks in Geneva", published=T0 - 900, guid="t")


async def test_the_pane_the_detail_and_the_trends_row_say_other(make_app) -> None:
    assert FOOTBALL.labels == ()  # the bundled rules find no label in it
    app = make_app(items=[FOOTBALL, TALKS], offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")  # the Other pane
        await settle(pilot)
        assert app.dashboard.detail.item.id == FOOTBALL.id
        text = screen_text(app)
        assert "● Other  1/1" in text  # the pane's title
        # The detail (right of the panes' edge ▏): the title, then the item's chips.
        detail = [ln.split("▏", 1)[1].strip() for ln in text.splitlines() if "▏" in ln]
        assert detail[0] == FOOTBALL.title and "other" in detail[1:6]
        assert "unlabelled" not in text and " none " not in text

        await pilot.press("T")
        await settle(pilot)
        assert isinstance(app.screen, TrendsScreen)
        [row] = app.screen.query("#trend-labels TrendRow.-other").results(TrendRow)
        words = str(row.query_one(".trend-words").render()).split()
        assert words[:2] == ["Other", "1"]
        assert "unlabelled" not in screen_text(app)

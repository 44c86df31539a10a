"""What a new user reads at 80×24: every screen's footer whole, the help's wrapped lines under
their text, the actor picker's aliases, the watch screen's title line cut with "…"."""
from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tests.tui.helpers import make_item, screen_text, settle
from tests.tui.test_snapshots import scene  # noqa: F401  (the fixture: the snapshot scene)
from tui.dashboard.screens.feeds import FeedHealthScreen
from tui.dashboard.screens.help import HelpScreen
from tui.dashboard.screens.item import ItemScreen


def footer_keys(app) -> list[str]:
    """The keys the footer shows, asserting that the whole footer fits the screen's width
    (none cut, none scrolled out, none under the palette's key)."""
    footer = app.screen.query_one(Footer)
    assert footer.virtual_size.width <= footer.size.width, footer.virtual_size
    shown = [k for k in footer.query(FooterKey) if k.action != "app.command_palette"]
    palette = [k for k in footer.query(FooterKey) if k.action == "app.command_palette"]
    right = palette[0].region.x if palette else footer.size.width
    for key in shown:
        assert key.region.right <= right, (key.key, key.region)
    return [k.key for k in shown]


async def test_every_footer_is_whole_at_80_columns_and_names_the_essentials(scene) -> None:
    app = scene()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys = footer_keys(app)
        for essential in ("q", "question_mark", "slash", "r", "o", "m", "l", "f"):
            assert essential in keys
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ItemScreen)
        keys = footer_keys(app)
        assert {"escape", "o", "m", "l", "j", "q", "question_mark"} <= set(keys)
        await pilot.press("f")  # out of the item screen's footer, and still the App's key
        await settle(pilot)
        assert isinstance(app.screen, FeedHealthScreen)
        assert {"escape", "p", "e", "d", "r", "q"} <= set(footer_keys(app))
        for key, screen_id in (("w", "watch-screen"), ("T", "trends-screen")):
            await pilot.press("escape", key)  # out of the main footer, still keys
            await settle(pilot)
            assert app.screen.id == screen_id and "escape" in footer_keys(app)


async def test_help_lines_that_wrap_keep_under_their_text(scene) -> None:
    app = scene()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        lines = screen_text(app).splitlines()
        row = next(i for i, ln in enumerate(lines) if "the item on its own screen" in ln)
        column = lines[row].index("the item on its own screen")
        assert lines[row].index("enter") < column
        below = lines[row + 1]
        # "(n p): next / previous item" wrapped onto the next line, starting under "the item"
        assert "previous item" in below
        assert len(below) - len(below[column:].lstrip()) == column, (lines[row], below)
        assert not below[:column].strip("│ ")


async def test_the_actor_picker_shows_whole_aliases(scene) -> None:
    app = scene()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        text = screen_text(app)
        eu = next(ln for ln in text.splitlines() if "European Union  EU" in ln)
        option = eu[eu.index("European Union"):].split("▎")[0].rstrip()  # inside the list's border
        assert option.endswith("…") and "European Parliament" not in text  # one line, cut
        assert "enter picks" in text  # the hint stays in the box
        await pilot.press(*"brussels")
        await pilot.pause()
        text = screen_text(app)
        # the highlighted actor's aliases in full, wrapped under the list
        assert "European Union:" in text and "European Parliament" in text
        assert "Council of the EU" in text
        await pilot.press("x", "x")  # nothing matches: no actor's aliases are left shown
        await pilot.pause()
        text = screen_text(app)
        assert "No actor has that name" in text and "European Parliament" not in text


async def test_the_watch_title_line_is_cut_with_an_ellipsis(make_app) -> None:
    terms = {f"Term{i}": f"word{i}" for i in range(12)} | {"Ceasefire": "ceasefire"}
    extra = "[watch.terms]\n" + "".join(f'{k} = "{v}"\n' for k, v in terms.items())
    app = make_app(items=[make_item("Ceasefire agreed after long talks in Doha")],
                   offline=True, extra=extra)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        title = next(ln for ln in screen_text(app).splitlines() if ln.startswith(" Watch  terms"))
        assert title.rstrip().endswith("…") and len(title.rstrip()) == 80
        assert "Ceasefire agreed" in screen_text(app)

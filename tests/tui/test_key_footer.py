"""The footer is composed again only when the keys it shows change: focus moving between
widgets posts a bindings update each time, and rebuilding ~20 keys each time cost the
dashboard's start-up three rebuilds before its first paint."""
from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Button

from tui.dashboard.widgets.key_footer import KeyFooter


class FooterApp(App[None]):
    BINDINGS = [Binding("r", "refresh_view", "Refresh"), Binding("s", "save", "Save")]

    def __init__(self) -> None:
        super().__init__()
        self.can_save = True
        self.composed = 0

    def compose(self) -> ComposeResult:
        yield Button("one", id="one")
        yield Button("two", id="two")
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return (True if self.can_save else None) if action == "save" else True  # None: disabled

    def action_refresh_view(self) -> None:
        pass

    def action_save(self) -> None:
        pass


def shown(app: FooterApp) -> list[tuple[str, bool]]:
    from textual.widgets._footer import FooterKey

    return [(key.key, not key.has_class("-disabled")) for key in app.query(FooterKey)]


async def test_focus_moves_do_not_rebuild_the_footer_and_a_change_does() -> None:
    app = FooterApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        footer = app.query_one(KeyFooter)
        keys = list(footer.children)
        assert [k for k, _ in shown(app)] == ["r", "s", "ctrl+p"]
        for _ in range(3):  # focus moves: the same keys, the same widgets
            await pilot.press("tab")
            await pilot.pause()
        assert app.focused is not None and list(footer.children) == keys
        app.can_save = False  # a key's state changes: composed again, and shown as it is now
        app.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert list(footer.children) != keys and shown(app)[:2] == [("r", True), ("s", False)]

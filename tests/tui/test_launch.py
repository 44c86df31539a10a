"""Starting the dashboard: offline, a locked store, a bad config, themes, the bundled config."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.config.load import bundled_config_path
from feeds.classify.reclassify import FINGERPRINT_KEY
from storage.store import Store
from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.tui.helpers import T0, make_item, rows, screen_text, settle
from tui.cli.main import cli
from tui.cli.context import AppContext, UserError
from tui.cli.launch import build_app, hung_up
from tui.dashboard import hangup

TALK = make_item("Russia and Ukraine hold peace talks in Istanbul", "Negotiations resumed.",
                 published=T0 - 600)


def stored(path: Path, *items) -> Path:
    with Store.open(path) as store:
        store.upsert_items(items)
    return path


async def test_offline_never_makes_a_request(tmp_path, write_config, feed_server: FeedServer) -> None:
    feed_server.route("/a.xml", Response(body=rss([rss_item("Peace talks", guid="1")])))
    config = write_config([("A", feed_server.url("/a.xml"))])
    obj = AppContext(config_path=str(config), db_path=str(stored(tmp_path / "db", TALK)))
    app = build_app(obj, offline=True, theme=None)
    try:
        assert app.backend.poller is None and app.backend.mode == "offline"
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await settle(pilot)
            assert rows(app, "talks") == [TALK.title]
            assert "OFFLINE" in screen_text(app)
            await pilot.press("r")
            await pilot.press("f")
            await settle(pilot)
            await pilot.press("p")
            await settle(pilot)
            assert "offline: started with --offline" in screen_text(app)
        assert feed_server.requests() == []
    finally:
        obj.close()


async def test_a_locked_store_opens_read_only(tmp_path, write_config, feed_server) -> None:
    feed_server.route("/a.xml", Response(body=rss([rss_item("Peace talks", guid="1")])))
    config = write_config([("A", feed_server.url("/a.xml"))])
    db = stored(tmp_path / "db", TALK)
    writer = Store.open(db)  # another diplowatch, polling this store
    obj = AppContext(config_path=str(config), db_path=str(db))
    try:
        app = build_app(obj, offline=False, theme=None)
        assert app.backend.poller is None and app.store.readonly
        assert app.backend.mode == "read-only" and not app.backend.can_write
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await settle(pilot)
            text = screen_text(app)
            assert "READ-ONLY" in text and "is writing this store" in text
            await pilot.press("m")  # refused, with the reason
            await settle(pilot)
            assert "Cannot mark items" in screen_text(app)
            assert not writer.flags(TALK.id).read
            # the writer saves a new item; the viewer picks it up
            newer = make_item("Envoys hold talks in Doha", "Negotiations.", published=T0 - 60)
            writer.upsert_items([newer])
            writer.flush()
            app.reload_store()
            await settle(pilot)
            assert rows(app, "talks") == [newer.title, TALK.title]
        assert feed_server.requests() == []
    finally:
        obj.close()
        writer.close()


def test_a_bad_config_exits_2_before_the_screen_changes(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[polling]\ninterval = 'soon'\n")
    result = CliRunner().invoke(cli, ["--config", str(bad), "--db", str(tmp_path / "db")])
    assert result.exit_code == 2
    assert "config:" in result.output and "polling.interval" in result.output


def test_a_corrupt_store_exits_2(tmp_path, write_config) -> None:
    db = stored(tmp_path / "db", TALK)
    (db / "state.json").write_text("{not json")
    result = CliRunner().invoke(cli, ["--config", str(write_config([])), "--db", str(db)])
    assert result.exit_code == 2 and "store:" in result.output


def test_theme_from_the_flag_and_unknown_themes(tmp_path, write_config) -> None:
    obj = AppContext(config_path=str(write_config([])), db_path=str(tmp_path / "db"))
    try:
        app = build_app(obj, offline=True, theme="nord")
        assert app._theme_name == "nord"
        with pytest.raises(UserError, match="unknown theme 'no-such-theme'"):
            build_app(obj, offline=True, theme="no-such-theme")
    finally:
        obj.close()


async def test_theme_switch_recolours_the_panes(make_app) -> None:
    app = make_app(items=[TALK], offline=True, theme="nord")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.theme == "nord"
        app.theme = "textual-light"
        await pilot.pause()
        assert rows(app, "talks") == [TALK.title]


async def test_bundled_config_without_network_shows_the_seed_in_talks(
        tmp_path, write_config, warm_pool) -> None:
    """The README's first run, with the internet feeds replaced by unresolvable hosts."""
    seed = bundled_config_path().parent / "seeds" / "seed-feed.xml"
    config = write_config([("Seed", str(seed)), ("UN News", "https://news.un.invalid/rss.xml"),
                           ("TASS", "https://tass.invalid/rss/v2.xml")])
    obj = AppContext(config_path=str(config), db_path=str(tmp_path / "db"))
    app = build_app(obj, offline=False, theme=None, parse_pool=warm_pool)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert rows(app, "talks") == [
                "Russia, Ukraine continue efforts to ease tensions, defend interests"]
            assert "2 failing" in screen_text(app)
            await pilot.press("f")
            await settle(pilot)
            text = screen_text(app)
            assert "error" in text and "UN News" in text
            await pilot.press("escape", "j", "k")  # still usable
            assert app.screen is app.dashboard
    finally:
        app.backend.poller.close()
        obj.close()


async def test_rules_change_reclassifies_on_startup(make_app) -> None:
    from dataclasses import replace

    unlabelled = replace(TALK, labels=(), primary=None, scores={}, evidence=())
    app = make_app(items=[unlabelled], offline=True)
    app.store.set_meta(FINGERPRINT_KEY, "stale")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert rows(app, "talks") == [TALK.title] and rows(app, "other") == []
        assert "re-classified 1 stored items" in screen_text(app)


async def test_the_theme_chosen_in_the_palette_is_kept_for_the_next_start(
        tmp_path, write_config) -> None:
    config = write_config(extra="# my own settings\n[ui]\ntheme = \"textual-dark\"  # dark\n")
    obj = AppContext(config_path=str(config), db_path=str(stored(tmp_path / "db", TALK)))
    try:
        app = build_app(obj, offline=True, theme=None)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await settle(pilot)
            assert config.read_text().count("textual-dark") == 1  # the start theme: not written
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"theme")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause(0.3)
            await pilot.press(*"nord")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await settle(pilot)
            assert app.theme == "nord"
        text = config.read_text()
        assert 'theme = "nord"' in text and "# my own settings" in text  # comments kept
    finally:
        obj.close()
    again = AppContext(config_path=str(config), db_path=str(tmp_path / "db"))
    try:
        app = build_app(again, offline=True, theme=None)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert app.theme == "nord"  # the next start uses it
    finally:
        again.close()


async def test_a_theme_change_copies_the_bundled_config_first(tmp_path) -> None:
    from feeds.config.load import load_config, user_config_path

    obj = AppContext(config_path=str(bundled_config_path()), db_path=str(stored(tmp_path / "db", TALK)))
    try:
        app = build_app(obj, offline=True, theme=None)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await settle(pilot)
            app.theme = "gruvbox"  # what the palette's theme picker does
            await settle(pilot)
        user = user_config_path()
        assert user.is_file() and load_config(user).ui.theme == "gruvbox"
        assert bundled_config_path().read_text() != user.read_text()  # the bundled file untouched
        assert "gruvbox" not in bundled_config_path().read_text()
    finally:
        obj.close()


def test_hung_up_sees_a_terminal_close() -> None:
    master, slave = os.openpty()
    with open(slave, "rb", buffering=0) as stream:
        check = hung_up(stream)
        assert check is not None and not check()
        os.close(master)  # the window closed, the tmux pane killed
        assert check()


def test_hung_up_is_none_for_what_is_no_terminal(tmp_path) -> None:
    assert hung_up(io.StringIO()) is None
    with open(tmp_path / "out", "w") as stream:
        assert hung_up(stream) is None


async def test_the_dashboard_saves_and_exits_when_its_terminal_hangs_up(
        tmp_path, write_config, monkeypatch) -> None:
    monkeypatch.setattr(hangup, "HANGUP_CHECK", 0.05)
    db = stored(tmp_path / "db", TALK)
    obj = AppContext(config_path=str(write_config([])), db_path=str(db))
    gone: list[bool] = []
    try:
        app = build_app(obj, offline=True, theme=None)
        app.leave_when(lambda: bool(gone))
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("m")  # marked read: the flush is still pending
            await pilot.pause(0.2)
            assert app.is_running  # a terminal that is there keeps the dashboard
            gone.append(True)
            for _ in range(40):
                await pilot.pause(0.05)
                if not app.is_running:
                    break
        assert app.return_code == hangup.HANGUP_STATUS
    finally:
        obj.close()
    with Store.open(db, readonly=True) as store:
        assert store.flags(TALK.id).read

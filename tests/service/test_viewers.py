"""A daemon and two dashboards on one store: both follow the daemon live, a mark sent by one
shows in the other, the daemon is the only writer, and the dashboards outlive it."""
from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from storage.lock import lock_holder
from tests.service.conftest import SEED_TITLE, Wire
from tests.tui.helpers import rows, screen_text, settle
from tui.cli.context import AppContext
from tui.cli.launch import build_app
from tui.dashboard.messages import FeedToggled

DOHA = "Envoys hold peace talks in Doha"
GENEVA = "Mediators resume ceasefire negotiations in Geneva"


async def until_shown(pilots, check, what: str, rounds: int = 400) -> None:
    """Let both apps run until ``check()`` holds (bounded; not a speed assertion)."""
    for _ in range(rounds):
        for pilot in pilots:
            await pilot.pause(0.02)
        if check():
            return
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.asynccontextmanager
async def two_viewers(config: Path, store: Path):
    """Two viewer dashboards of the running daemon, started and settled: (one, two, pilots)."""
    contexts = [AppContext(config_path=str(config), db_path=str(store)) for _ in range(2)]
    try:
        one, two = [build_app(obj, offline=False, theme=None) for obj in contexts]
        async with one.run_test(size=(120, 40), notifications=True) as p1, \
                two.run_test(size=(120, 40), notifications=True) as p2:
            await settle(p1)
            await settle(p2)
            yield one, two, (p1, p2)
    finally:
        for obj in contexts:
            obj.close()


async def test_a_daemon_and_two_viewer_dashboards(start_daemon, service_config: Path,
                                                  tmp_path: Path, wire: Wire) -> None:
    store = tmp_path / "store"
    daemon = start_daemon()
    daemon.wait_cycles(1)
    contexts = [AppContext(config_path=str(service_config), db_path=str(store)) for _ in range(2)]
    try:
        apps = [build_app(obj, offline=False, theme=None) for obj in contexts]
        for app in apps:  # viewers: nothing of theirs can write
            assert app.backend.mode == "viewer" and app.backend.daemon.pid == daemon.pid
            assert app.store.readonly and app.backend.poller is None
        one, two = apps
        async with one.run_test(size=(120, 40), notifications=True) as p1, \
                two.run_test(size=(120, 40), notifications=True) as p2:
            pilots = (p1, p2)
            await settle(p1)
            await settle(p2)
            assert rows(one, "talks") == rows(two, "talks") == [SEED_TITLE]
            assert "following it live" in screen_text(one)

            # New items appear in both viewers (the poll asked for from one of them).
            wire.add(DOHA)
            await asyncio.to_thread(one.backend.daemon.poll_now, ["Wire"])
            await until_shown(pilots, lambda: DOHA in rows(one, "talks") and DOHA in rows(two, "talks"),
                              "the new item in both dashboards")

            # A read mark made in one reaches the other.
            seed = next(i for i in one.store.recent() if i.title == SEED_TITLE)
            assert not two.marks.flags_of(seed.id).read
            assert await asyncio.to_thread(one.backend.daemon.mark, [seed.id], read=True) == 1
            await until_shown(pilots, lambda: two.marks.flags_of(seed.id).read and one.marks.flags_of(seed.id).read,
                              "the mark in both dashboards")
            assert lock_holder(store)["pid"] == daemon.pid  # only the daemon wrote

            # The daemon dies: both stay usable, read-only, and say so.
            daemon.stop(signal.SIGKILL)
            await until_shown(pilots, lambda: all(not a.backend.daemon.connected for a in apps),
                              "the viewers to notice")
            await settle(p1)
            assert "daemon stopped" in screen_text(one) and "daemon stopped" in screen_text(two)
            await p2.press("j", "k")
            await settle(p2)
            assert rows(two, "talks") == [DOHA, SEED_TITLE]

            # Restarted, it resumes: the viewers reconnect and follow it again.
            restarted = start_daemon()
            await until_shown(pilots, lambda: all(a.backend.daemon.connected for a in apps),
                              "the viewers to reconnect")
            assert one.backend.daemon.pid == two.backend.daemon.pid == restarted.pid
            wire.add(GENEVA)
            await asyncio.to_thread(two.backend.daemon.poll_now, ["Wire"])
            await until_shown(pilots, lambda: GENEVA in rows(one, "talks") and GENEVA in rows(two, "talks"),
                              "the restarted daemon's item in both dashboards")
            assert two.marks.flags_of(seed.id).read  # the mark survived the kill
            assert restarted.stop() == 0
    finally:
        for obj in contexts:
            obj.close()


async def test_a_viewers_keys_act_through_the_daemon(start_daemon, service_config: Path,
                                                     tmp_path: Path, wire: Wire) -> None:
    """m in one viewer marks the item for the other; m again unmarks it there too; r in the
    other asks the daemon to poll; disabling a feed from a viewer edits the daemon's config."""
    store = tmp_path / "store"
    daemon = start_daemon()
    daemon.wait_cycles(1)
    async with two_viewers(service_config, store) as (one, two, pilots):
        apps, (p1, p2) = (one, two), pilots
        assert all(a.backend.mode == "viewer" and a.backend.can_write for a in apps)
        assert "VIEWER" in screen_text(one)
        seed = next(i for i in one.store.recent() if i.title == SEED_TITLE)
        assert one.dashboard.pane("talks").table.selected_id == seed.id

        await p1.press("m")  # read, through the daemon
        await until_shown(pilots, lambda: two.marks.flags_of(seed.id).read, "the mark in the other viewer")
        await p1.press("m")  # unread again: the other viewer must drop its flag
        await until_shown(pilots, lambda: not two.marks.flags_of(seed.id).read, "the unmark in the other viewer")
        await p1.press("s")
        await until_shown(pilots, lambda: two.marks.flags_of(seed.id).starred, "the star in the other viewer")

        wire.add(DOHA)
        await p2.press("r")  # the daemon polls, both viewers show the new item
        await until_shown(pilots, lambda: DOHA in rows(one, "talks") and DOHA in rows(two, "talks"),
                          "the item polled at the viewer's request")

        wire_key = next(f.key for f in one.config.feeds if f.name == "Wire")
        one.post_message(FeedToggled(wire_key, False))
        await until_shown(pilots, lambda: "enabled = false" in service_config.read_text(),
                          "the daemon editing its config")
        assert lock_holder(store)["pid"] == daemon.pid  # the viewers never took the lock
        assert daemon.stop() == 0


async def test_labels_set_in_one_viewer_show_in_the_other(start_daemon, service_config: Path,
                                                          tmp_path: Path) -> None:
    """l in one viewer goes through the daemon: both viewers move the item to its new pane
    and mark it ✎; the daemon stays the only writer."""
    store = tmp_path / "store"
    daemon = start_daemon()
    daemon.wait_cycles(1)
    async with two_viewers(service_config, store) as (one, two, pilots):
        apps, p1 = (one, two), pilots[0]
        assert all(rows(a, "talks") == [SEED_TITLE] for a in apps)
        seed = one.dashboard.pane("talks").table.selected_item
        await p1.press("l", "1", "3", "enter")  # statements, not talks
        await until_shown(pilots, lambda: all(rows(a, "statements") == [SEED_TITLE]
                                              and rows(a, "talks") == [] for a in apps),
                          "the item in the statements pane of both viewers")
        await until_shown(pilots, lambda: two.labels.is_corrected(seed.id), "the ✎ mark")
        assert lock_holder(store)["pid"] == daemon.pid
        assert daemon.stop() == 0


async def test_a_viewer_marks_a_pane_read_through_the_daemon(start_daemon, service_config: Path,
                                                             tmp_path: Path) -> None:
    """A in a viewer: the daemon marks the pane's items (mark_many), and the viewer's unread
    count follows once it has reloaded what the daemon saved."""
    store = tmp_path / "store"
    daemon = start_daemon()
    daemon.wait_cycles(1)
    obj = AppContext(config_path=str(service_config), db_path=str(store))
    try:
        app = build_app(obj, offline=False, theme=None)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await settle(pilot)
            assert app.backend.mode == "viewer"
            assert app.unread.label("talks") == 1  # the seed article
            await pilot.press("A")
            await until_shown([pilot], lambda: app.unread.label("talks") == 0,
                              "the viewer's unread count after the daemon's save")
            seed = next(i for i in app.store.recent() if i.title == SEED_TITLE)
            assert app.store.flags(seed.id).read and app.marks.flags_of(seed.id).read
            assert lock_holder(store)["pid"] == daemon.pid  # the viewer never wrote
            assert daemon.stop() == 0
    finally:
        obj.close()

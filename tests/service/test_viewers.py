"""A daemon and two dashboards on one store: both follow the daemon live, a mark sent by one
shows in the other, the daemon is the only writer, and the dashboards outlive it."""
from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from storage.lock import lock_holder
from tests.service.conftest import SEED_TITLE, Wire
from tests.tui.helpers import rows, screen_text, settle
from tui.context import AppContext
from tui.launch import build_app

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


async def test_a_daemon_and_two_viewer_dashboards(start_daemon, service_config: Path,
                                                  tmp_path: Path, wire: Wire) -> None:
    store = tmp_path / "store"
    daemon = start_daemon()
    daemon.wait_cycles(1)
    contexts = [AppContext(config_path=str(service_config), db_path=str(store)) for _ in range(2)]
    try:
        apps = [build_app(obj, offline=False, theme=None) for obj in contexts]
        for app in apps:  # viewers: nothing of theirs can write
            assert app.backend is not None and app.backend.pid == daemon.pid
            assert app.store.readonly and app.poller is None
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
            await asyncio.to_thread(one.backend.poll_now, ["Wire"])
            await until_shown(pilots, lambda: DOHA in rows(one, "talks") and DOHA in rows(two, "talks"),
                              "the new item in both dashboards")

            # A read mark made in one reaches the other.
            seed = next(i for i in one.store.recent() if i.title == SEED_TITLE)
            assert not two.flags_of(seed.id).read
            assert await asyncio.to_thread(one.backend.mark, [seed.id], read=True) == 1
            await until_shown(pilots, lambda: two.flags_of(seed.id).read and one.flags_of(seed.id).read,
                              "the mark in both dashboards")
            assert lock_holder(store)["pid"] == daemon.pid  # only the daemon wrote

            # The daemon dies: both stay usable, read-only, and say so.
            daemon.stop(signal.SIGKILL)
            await until_shown(pilots, lambda: all(not a.backend.connected for a in apps),
                              "the viewers to notice")
            await settle(p1)
            assert "daemon stopped" in screen_text(one) and "daemon stopped" in screen_text(two)
            await p2.press("j", "k")
            await settle(p2)
            assert rows(two, "talks") == [DOHA, SEED_TITLE]

            # Restarted, it resumes: the viewers reconnect and follow it again.
            restarted = start_daemon()
            await until_shown(pilots, lambda: all(a.backend.connected for a in apps),
                              "the viewers to reconnect")
            assert one.backend.pid == two.backend.pid == restarted.pid
            wire.add(GENEVA)
            await asyncio.to_thread(two.backend.poll_now, ["Wire"])
            await until_shown(pilots, lambda: GENEVA in rows(one, "talks") and GENEVA in rows(two, "talks"),
                              "the restarted daemon's item in both dashboards")
            assert two.flags_of(seed.id).read  # the mark survived the kill
            assert restarted.stop() == 0
    finally:
        for obj in contexts:
            obj.close()

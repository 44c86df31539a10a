"""Browser tabs of ``diplowatch serve``: how many run, what bounds each process, and what the
daemon lets a tab do (read-only by default, one poll per 30 s, never the owner's last slots)."""
from __future__ import annotations

import asyncio
import json
import time
import re
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from feeds.service import control
from feeds.service.control import ControlClient, ControlError, control_socket_path
from tests.service.conftest import REPO, ServeProcess, until

ANY_ID = "0123456789abcdef"


async def _open_tab(session: aiohttp.ClientSession, served: ServeProcess) -> aiohttp.ClientWebSocketResponse:
    return await session.ws_connect(served.base + "/ws?width=80&height=24", origin=served.origin,
                                    headers={"Cookie": served.cookie})


async def test_tabs_past_the_cap_are_refused_with_a_reason(start_serve) -> None:
    served = start_serve("--max-tabs", "2")
    async with aiohttp.ClientSession() as session:
        first, second = await _open_tab(session, served), await _open_tab(session, served)
        until(lambda: len(served.tabs()) == 2, what="two tab processes")
        third = await _open_tab(session, served)
        closed = await third.receive(timeout=10)
        assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 1013  # try again later
        assert "all 2 browser tabs this server allows are open" in closed.extra
        async with session.get(served.base + "/", headers={"Cookie": served.cookie}) as page:
            assert page.status == 503 and "close one and reload" in await page.text()
        assert len(served.tabs()) == 2  # the refused tab started no process
        await first.close()

        async def reopened() -> aiohttp.ClientWebSocketResponse | None:
            ws = await _open_tab(session, served)
            try:
                message = await ws.receive(timeout=1)
            except TimeoutError:
                return ws  # still open: it got the freed place
            if message.type == aiohttp.WSMsgType.BINARY:
                return ws
            return None

        deadline = time.monotonic() + 30  # the place frees once the first tab's process exits
        while (again := await reopened()) is None:
            assert time.monotonic() < deadline, "no place freed after a tab closed"
            await asyncio.sleep(0.2)
        await again.close()
        await second.close()


def _process(pid: int) -> tuple[str, str, list[bytes]]:
    limits = next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines()
                  if line.startswith("Max address space"))
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return limits, cmdline, environ


@pytest.mark.parametrize("writes", [False, True])
async def test_a_tab_runs_bounded_in_memory_and_marked_as_a_tab(start_serve, writes: bool) -> None:
    served = start_serve("--tab-memory", "700", *(["--allow-writes"] if writes else []))
    async with aiohttp.ClientSession() as session:
        ws = await _open_tab(session, served)
        pid = until(served.tabs, what="the tab's process")[0]  # type: ignore[index]
        limits, cmdline, environ = until(lambda: _viewer(pid), what="the tab's own command")
        assert limits.split()[3:5] == [str(700 * 2**20)] * 2  # soft and hard
        assert "tui.cli.main" in cmdline
        assert f"DIPLOWATCH_TAB={'writable' if writes else 'readonly'}".encode() in environ
        await ws.close()


def _viewer(pid: int) -> tuple[str, str, list[bytes]] | None:
    found = _process(pid)
    # Once the wrapper exec'd the dashboard (before that: the shell, the wrapper, or for a
    # moment during exec an empty command line).
    cmdline = found[1].rstrip()
    return found if cmdline.endswith("--viewer") and "tab_limits" not in cmdline else None


def test_the_tab_wrapper_caps_the_address_space() -> None:
    wrapper = [sys.executable, "-m", "tui.cli.tab_limits", "--memory-mb", "300", "--tab"]
    probe = ("import os, resource; print(resource.getrlimit(resource.RLIMIT_AS)[0] >> 20, "
             "resource.getrlimit(resource.RLIMIT_CORE)[0], os.environ['DIPLOWATCH_TAB'])")
    out = subprocess.run([*wrapper, "writable", "--", sys.executable, "-c", probe], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["300", "0", "writable"], out.stderr
    hog = subprocess.run([*wrapper, "readonly", "--", sys.executable, "-c",
                          "bytearray(400 * 2**20)"], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert hog.returncode != 0 and "MemoryError" in hog.stderr


# --- the daemon's side ---------------------------------------------------------------------

def test_a_read_only_tab_may_only_read(start_daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    daemon = start_daemon()
    monkeypatch.setenv(control.TAB_ENV, "readonly")
    tab = ControlClient(daemon.store)
    for ask in (lambda: tab.mark([ANY_ID], read=True), lambda: tab.poll_now(),
                lambda: tab.set_enabled("Wire", False)):
        with pytest.raises(ControlError, match="read-only browser tab: .* --allow-writes"):
            ask()
    assert tab.status()["pid"] == daemon.pid
    subscription = tab.subscribe()
    subscription.close()
    monkeypatch.setenv(control.TAB_ENV, "something else")  # an unknown mode reads as read-only
    with pytest.raises(ControlError, match="read-only browser tab"):
        ControlClient(daemon.store).poll_now()
    monkeypatch.delenv(control.TAB_ENV)
    with pytest.raises(ControlError, match="no such item"):  # the owner's CLI: checked, allowed
        ControlClient(daemon.store).mark([ANY_ID], read=True)


def test_polls_from_tabs_are_rate_limited(start_daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    daemon = start_daemon()
    monkeypatch.setenv(control.TAB_ENV, "writable")
    assert ControlClient(daemon.store).poll_now()["queued"]
    for _ in range(3):  # a new connection, as every tab request is, changes nothing
        with pytest.raises(ControlError) as refused:
            ControlClient(daemon.store).poll_now(force=False)
        wait = re.fullmatch(r"rate-limited, try in (\d+) s \(browser tabs may ask for one poll "
                            r"every 30 s\)", str(refused.value))
        assert wait is not None and 1 <= int(wait.group(1)) <= 30, refused.value
    monkeypatch.delenv(control.TAB_ENV)
    assert ControlClient(daemon.store).poll_now()["queued"]  # the owner is not limited


def _subscribe_as_tab(path: Path) -> tuple[socket.socket, dict]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(path))
    sock.sendall(b'{"op": "subscribe", "tab": "readonly"}\n')
    answer = b""
    while not answer.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return sock, json.loads(answer)


def test_tabs_never_take_the_local_command_lines_slots(start_daemon) -> None:
    daemon = start_daemon()
    path = control_socket_path(daemon.store)
    held: list[socket.socket] = []
    try:
        refused = []
        for _ in range(control.MAX_CLIENTS + 6):  # more tabs than the daemon has connections
            sock, answer = _subscribe_as_tab(path)
            if answer.get("ok"):
                held.append(sock)
            else:
                refused.append(answer["error"])
                sock.close()
        assert len(held) == control.MAX_CLIENTS - control.LOCAL_SLOTS
        assert refused and all("too many browser tabs" in e for e in refused)
        owner = ControlClient(daemon.store)
        assert owner.status()["viewers"] == len(held)  # the owner is still answered
        subscription = owner.subscribe()
        subscription.close()
    finally:
        for sock in held:
            sock.close()
    until(lambda: ControlClient(daemon.store).status()["viewers"] == 0, what="the tabs to leave")
    sock, answer = _subscribe_as_tab(path)  # their places are free again
    sock.close()
    assert answer["ok"]


# --- the dashboard's side ------------------------------------------------------------------

def test_a_tab_dashboard_is_a_viewer_told_it_is_a_tab(tmp_path: Path, write_config,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import tui.dashboard.app
    from tui.cli.context import AppContext
    from tui.cli.launch import build_app

    class TabApp:
        available_themes = {"textual-dark"}

        def __init__(self, config, backend, *, clock, theme, browser_tab=None) -> None:
            self.backend, self.theme, self.browser_tab = backend, theme, browser_tab
            self.dashboard = SimpleNamespace(preload=lambda: None)

    monkeypatch.setattr(tui.dashboard.app, "DiplowatchApp", TabApp)
    config = str(write_config([]))
    monkeypatch.setenv(control.TAB_ENV, "readonly")
    obj = AppContext(config_path=config, db_path=str(tmp_path / "db"))
    app = build_app(obj, offline=False, theme="textual-dark")  # no --viewer: still one
    assert app.browser_tab == "readonly" and app.backend.store.readonly
    obj.close()
    monkeypatch.setenv(control.TAB_ENV, "writable")
    obj = AppContext(config_path=config, db_path=str(tmp_path / "db"))
    assert build_app(obj, offline=False, theme="textual-dark").browser_tab == "writable"
    obj.close()
    monkeypatch.delenv(control.TAB_ENV)
    obj = AppContext(config_path=config, db_path=str(tmp_path / "db"))
    assert build_app(obj, offline=True, theme="textual-dark").browser_tab is None
    obj.close()

"""``diplowatch serve``: the listen address, the command each tab runs, and the dashboard in a
real headless Chromium (Debian's), loaded from a server on loopback."""
from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.service.conftest import REPO, SEED_TITLE, until
from tui.cli.main import cli
from tui.cli.service import is_loopback

CHROMIUM = Path(os.environ.get("DIPLOWATCH_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "test-artifacts"
# textual-serve (pinned) creates its xterm.js Terminal inside a closure; the test's copy of
# the page script also hands it to the test, which then reads the screen from its buffer.
TERMINAL_HOOK = "this.terminal.open(e),"


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("::", False), ("192.168.1.5", False),
    ("desk.example.org", False)])
def test_which_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_warns_off_loopback_and_runs_tabs_as_viewers(tmp_path: Path, service_config: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from textual_serve.server import Server

    served: list[Server] = []
    monkeypatch.setattr(Server, "serve", lambda self, debug=False: served.append(self))
    store = tmp_path / "store"
    r = CliRunner().invoke(cli, ["--config", str(service_config), "--db", str(store),
                                 "serve", "--host", "0.0.0.0", "--port", str(_free_port())])
    assert r.exit_code == 0, r.output
    assert "warning: serving on 0.0.0.0" in r.output and "no login" in r.output
    assert "no diplowatch daemon is running" in r.output and "read-only" in r.output
    command = shlex.split(served[0].command)
    assert command[:3] == [sys.executable, "-m", "tui.cli.main"] and command[-1] == "--viewer"
    assert command[command.index("--config") + 1] == str(service_config)
    assert command[command.index("--db") + 1] == str(store)
    assert not store.exists()  # serve itself never opens the store

    served.clear()
    r = CliRunner().invoke(cli, ["--config", str(service_config), "--db", str(store), "serve",
                                 "--port", str(_free_port())])
    assert r.exit_code == 0 and "warning" not in r.output and served[0].host == "127.0.0.1"


def test_serve_on_a_busy_port_exits_2(tmp_path: Path, service_config: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = CliRunner().invoke(cli, ["--config", str(service_config), "--db", str(tmp_path / "s"),
                                     "serve", "--port", str(port)])
    assert r.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in r.output
    assert "Traceback" not in r.output


def _browser_prerequisites() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium; "
                    ".ci/run installs it where apt is available)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright (the test extra) is not installed")


SCREEN_JS = """() => {
  const t = window.__diplowatchTerminal;
  if (!t) return null;
  const b = t.buffer.active, out = [];
  for (let i = 0; i < b.length; i++) { const l = b.getLine(i); out.push(l ? l.translateToString(true) : ""); }
  return out.join("\\n");
}"""


def test_the_dashboard_in_a_browser(start_daemon, service_config: Path, tmp_path: Path) -> None:
    _browser_prerequisites()
    from playwright.sync_api import sync_playwright

    daemon = start_daemon()
    daemon.wait_cycles(1)
    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    with open(tmp_path / "serve.log", "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "tui.cli.main", "--config", str(service_config), "--db",
             str(tmp_path / "store"), "serve", "--port", str(port)],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        until(lambda: _answers(origin) or server.poll() is not None, what="serve to listen")
        assert server.poll() is None, (tmp_path / "serve.log").read_text()
        patched: list[bool] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(
                str(tmp_path / "chromium"),  # a fresh profile
                executable_path=str(CHROMIUM), headless=True,
                viewport={"width": 1280, "height": 800},
                args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update",
                      "--disable-sync"])
            try:
                page = browser.new_page()

                def route(r) -> None:
                    url = r.request.url
                    if not url.startswith(origin):
                        r.abort()  # the page names a web font: nothing leaves this machine
                    elif url.endswith("/static/js/textual.js"):
                        response = r.fetch()
                        body = response.text()
                        patched.append(TERMINAL_HOOK in body)
                        r.fulfill(response=response, body=body.replace(
                            TERMINAL_HOOK, TERMINAL_HOOK + "window.__diplowatchTerminal=this.terminal,", 1))
                    else:
                        r.continue_()

                page.route("**/*", route)
                page.goto(origin + "/", wait_until="load")
                assert patched == [True], "textual-serve's page script changed: update TERMINAL_HOOK"
                screen = until(lambda: _screen_with(page, SEED_TITLE[:40]), timeout=60,
                               what="the seed item in the browser")
                lines = screen.splitlines()
                talks = next(i for i, ln in enumerate(lines) if "Talks" in ln)
                sanctions = next(i for i, ln in enumerate(lines) if "Sanctions" in ln)
                assert any(SEED_TITLE[:40] in ln.split("▏")[0] for ln in lines[talks + 1:sanctions])
                assert f"viewer: the diplowatch daemon (pid {daemon.pid})" in screen
                ARTIFACTS.mkdir(exist_ok=True)
                shot = ARTIFACTS / "serve-dashboard.png"
                page.screenshot(path=str(shot))
            finally:
                browser.close()
        png = shot.read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
        # The tab's dashboard ends with its page and leaves the daemon.
        until(lambda: daemon.status()["viewers"] == 0, what="the tab's viewer to leave")
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            server.kill()
            server.wait(10)


def _answers(origin: str) -> bool:
    try:
        with urllib.request.urlopen(origin + "/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _screen_with(page, text: str) -> str | None:
    screen = page.evaluate(SCREEN_JS)
    if screen and text in screen and "viewer:" in screen:
        return screen
    time.sleep(0.1)
    return None


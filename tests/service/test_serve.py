"""``diplowatch serve``: the listen address, the command each tab runs, and the dashboard in a
real headless Chromium (Debian's), loaded from a server on loopback."""
from __future__ import annotations

import os
import shlex
import socket
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.service.conftest import REPO, SEED_TITLE, free_port, until
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


def test_serve_warns_off_loopback_and_runs_tabs_as_bounded_viewers(
        tmp_path: Path, service_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.cli.serve_guard import GuardedServer

    served: list[GuardedServer] = []
    monkeypatch.setattr(GuardedServer, "serve", lambda self, debug=False: served.append(self))
    store = tmp_path / "store"
    port = free_port()
    r = CliRunner().invoke(cli, ["--config", str(service_config), "--db", str(store),
                                 "serve", "--host", "0.0.0.0", "--port", str(port),
                                 "--public-url", f"http://desk.example:{port}"])
    assert r.exit_code == 0, r.output
    assert "warning: serving on 0.0.0.0" in r.output and "token" in r.output
    assert "no diplowatch daemon is running" in r.output and "read-only" in r.output
    assert served[0].gate.url.startswith(f"http://desk.example:{port}/?token=")
    assert served[0].command.startswith("exec ")  # the shell textual-serve uses leaves no trace
    command = shlex.split(served[0].command)[1:]
    limits = command[:command.index("--") + 1]
    assert limits == [sys.executable, "-m", "tui.cli.tab_limits", "--memory-mb", "1024", "--tab",
                      "readonly", "--"]
    command = command[len(limits):]
    assert command[:3] == [sys.executable, "-m", "tui.cli.main"] and command[-1] == "--viewer"
    assert command[command.index("--config") + 1] == str(service_config)
    assert command[command.index("--db") + 1] == str(store)
    assert not store.exists()  # serve itself never opens the store

    served.clear()
    r = CliRunner().invoke(cli, ["--config", str(service_config), "--db", str(store), "serve",
                                 "--port", str(free_port()), "--allow-writes", "--max-tabs", "3",
                                 "--tab-memory", "512"])
    assert r.exit_code == 0 and "warning" not in r.output and served[0].host == "127.0.0.1"
    assert "--memory-mb 512 --tab writable --" in served[0].command
    assert served[0].gate.max_tabs == 3


def test_serve_on_every_interface_needs_the_url_browsers_use(tmp_path: Path, service_config: Path,
                                                             no_serving: None) -> None:
    for host in ("0.0.0.0", "::", "[::]"):
        r = CliRunner().invoke(cli, ["--config", str(service_config), "--db", str(tmp_path / "s"),
                                     "serve", "--host", host, "--port", str(free_port())])
        assert r.exit_code == 2 and "--public-url" in r.output and "Traceback" not in r.output


def test_serve_on_a_busy_port_exits_2(tmp_path: Path, service_config: Path,
                                      no_serving: None) -> None:
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


def test_the_dashboard_in_a_browser(start_daemon, start_serve) -> None:
    """The printed URL opens the dashboard (its token becomes a cookie the page cannot read);
    a page of another origin on the same machine cannot open a tab in the same browser."""
    _browser_prerequisites()
    from playwright.sync_api import sync_playwright

    daemon = start_daemon()
    daemon.wait_cycles(1)
    served = start_serve()
    origin = served.origin
    patched: list[bool] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(served.store.parent / "chromium"),  # a fresh profile
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
            page.goto(served.url, wait_until="load")
            assert page.url == origin + "/"  # the token left the address bar and the history
            assert page.evaluate("document.cookie") == ""  # HttpOnly
            assert patched == [True], "textual-serve's page script changed: update TERMINAL_HOOK"
            screen = until(lambda: _screen_with(page, SEED_TITLE[:40]), timeout=60,
                           what="the seed item in the browser")
            lines = screen.splitlines()
            talks = next(i for i, ln in enumerate(lines) if "Talks" in ln)
            sanctions = next(i for i, ln in enumerate(lines) if "Sanctions" in ln)
            assert any(SEED_TITLE[:40] in ln.split("▏")[0] for ln in lines[talks + 1:sanctions]), screen
            assert f"viewer: the diplowatch daemon (pid {daemon.pid})" in screen
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "serve-dashboard.png"
            page.screenshot(path=str(shot))
            assert _tab_from_another_page(browser, served) == "closed 1006"
            assert len(served.tabs()) == 1  # the foreign page's attempt spawned nothing
        finally:
            browser.close()
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    # The tab's dashboard ends with its page and leaves the daemon.
    until(lambda: daemon.status()["viewers"] == 0, what="the tab's viewer to leave")


OPEN_WS_JS = """(url) => new Promise(done => {
  const ws = new WebSocket(url);
  ws.onopen = () => { done("open"); ws.close(); };
  ws.onclose = e => done("closed " + e.code);
})"""


def _tab_from_another_page(browser, served) -> str:
    """What a page on another port of this machine gets when it opens the dashboard's
    websocket: the same site, so the browser sends the cookie; only the Origin differs."""
    other = f"http://127.0.0.1:{served.port + 1}"
    page = browser.new_page()
    page.route("**/*", lambda r: r.fulfill(body="<html><body>elsewhere</body></html>",
                                           content_type="text/html")
               if r.request.url.startswith(other) else r.abort())
    page.goto(other + "/", wait_until="load")
    return page.evaluate(OPEN_WS_JS, f"ws://127.0.0.1:{served.port}/ws?width=80&height=24")


def _screen_with(page, text: str) -> str | None:
    screen = page.evaluate(SCREEN_JS)
    if screen and text in screen and "viewer:" in screen:
        return screen
    time.sleep(0.1)
    return None


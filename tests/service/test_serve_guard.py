"""``diplowatch serve``'s gate, against the real server on loopback: the token (query, then a
cookie), the served Host and Origin, and no tab process for a request that is refused."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from tests.service.conftest import ServeProcess, free_port, until
from tui.cli.main import cli


async def _get(url: str, **headers: str) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers=headers, allow_redirects=False) as response:
            await response.read()
            return response


async def _tab(served: ServeProcess, *, origin: str | None = None, cookie: str | None = None,
               host: str | None = None, query: str = "?width=80&height=24") -> int:
    """Open a tab's websocket; its handshake status (101 when it opened; closed again)."""
    headers = {"Cookie": served.cookie if cookie is None else cookie}
    if host is not None:
        headers["Host"] = host
    async with aiohttp.ClientSession() as session:
        try:
            ws = await session.ws_connect(served.base + "/ws" + query, headers=headers,
                                          origin=served.origin if origin is None else origin)
        except aiohttp.WSServerHandshakeError as e:
            return e.status
        await ws.close()
        return 101


async def test_every_request_without_the_token_is_403(start_serve) -> None:
    served = start_serve()
    wrong = served.token[:-1] + ("A" if served.token[-1] != "A" else "B")
    for path in ("/", "/static/js/textual.js", "/static/", "/download/x", "/nowhere", "/ws"):
        assert (await _get(served.base + path)).status == 403, path
        assert (await _get(f"{served.base}{path}?token={wrong}")).status == 403, path
        bad_cookie = f"diplowatch-token-{served.port}={wrong}"
        assert (await _get(served.base + path, Cookie=bad_cookie)).status == 403, path
    response = await _get(served.base + "/?token=")
    assert response.status == 403
    assert "open the URL `diplowatch serve` printed" in (await _text(served.base + "/"))
    # The token works as a cookie on every path; the token printed is a fresh 32-byte one.
    assert (await _get(served.base + "/static/js/textual.js", Cookie=served.cookie)).status == 200
    assert served.tabs() == []
    # The token is 32 random bytes, printed once and logged nowhere (the refusals are logged).
    assert len(served.token) >= 43 and served.token not in served.output().replace(served.url, "")
    logs = [p for p in Path(os.environ["HOME"]).rglob("*.log*") if p.is_file()]
    assert logs and all(served.token not in p.read_text(errors="replace") for p in logs)
    assert any("serve: 403 for GET /download/x" in p.read_text(errors="replace") for p in logs)


async def _text(url: str) -> str:
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return await response.text()


async def test_the_token_moves_to_a_path_scoped_strict_httponly_cookie(start_serve) -> None:
    served = start_serve()
    response = await _get(served.url + "&fontsize=20")
    assert response.status == 303 and response.headers["Location"] == "/?fontsize=20"
    cookie = response.cookies[f"diplowatch-token-{served.port}"]
    assert cookie.value == served.token and cookie["httponly"] is True
    assert cookie["samesite"] == "Strict" and cookie["path"] == "/"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = await _get(served.base + "/?fontsize=20", Cookie=served.cookie)
    assert page.status == 200 and page.headers["X-Frame-Options"] == "DENY"


async def test_behind_a_reverse_proxy_the_cookie_follows_the_public_url(start_serve) -> None:
    served = start_serve("--public-url", "https://dash.example/dw/")
    assert served.url.startswith("https://dash.example/dw/?token=")
    direct = f"http://127.0.0.1:{served.port}"  # where the proxy forwards to
    response = await _get(f"{direct}/?token={served.token}", Host="dash.example")
    assert response.status == 303 and response.headers["Location"] == "/dw/"
    cookie = response.cookies[f"diplowatch-token-{served.port}"]
    assert cookie["path"] == "/dw/" and cookie["secure"] is True
    async with aiohttp.ClientSession() as session:
        async with session.get(direct + "/", headers={"Host": "dash.example",
                                                      "Cookie": served.cookie}) as page:
            assert page.status == 200
            assert 'data-session-websocket-url="wss://dash.example/dw/ws"' in await page.text()
        ws = await session.ws_connect(direct + "/ws?width=80&height=24", origin="https://dash.example",
                                      headers={"Host": "dash.example", "Cookie": served.cookie})
        await ws.close()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:  # not the public scheme
            await session.ws_connect(direct + "/ws", origin="http://dash.example",
                                     headers={"Host": "dash.example", "Cookie": served.cookie})
        assert refused.value.status == 403


async def test_the_websocket_needs_the_cookie_the_served_origin_and_host(start_serve) -> None:
    served = start_serve()
    port = served.port
    refused = {
        "no cookie": await _tab(served, cookie=""),
        "token in the query only": await _tab(served, cookie="",
                                              query=f"?width=80&height=24&token={served.token}"),
        "a foreign page": await _tab(served, origin="https://evil.example"),
        "another port": await _tab(served, origin=f"http://127.0.0.1:{port + 1}"),
        "a null origin": await _tab(served, origin="null"),
        "no origin": await _tab(served, origin=""),
        "a rebound name": await _tab(served, host=f"evil.example:{port}",
                                     origin=f"http://evil.example:{port}"),
        "localhost, not as served": await _tab(served, host=f"localhost:{port}",
                                               origin=f"http://localhost:{port}"),
    }
    assert refused == {case: 403 for case in refused}
    assert served.tabs() == []  # refused before any process was spawned
    assert (await _get(served.base + "/", Host=f"evil.example:{port}",
                       Cookie=served.cookie)).status == 403
    # The same request as served opens a tab: a process runs it.
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(served.base + "/ws?width=80&height=24", origin=served.origin,
                                      headers={"Cookie": served.cookie})
        until(served.tabs, what="the tab's process")
        await ws.close()


async def test_a_raw_upgrade_from_another_origin_is_refused(start_serve) -> None:
    served = start_serve()
    request = (f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               f"Sec-WebSocket-Version: 13\r\nOrigin: http://attacker.example\r\n"
               f"Cookie: {served.cookie}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(request.encode())
        status = sock.recv(200).split(b"\r\n", 1)[0]
    assert status == b"HTTP/1.1 403 Forbidden" and served.tabs() == []


async def test_ipv6_literals_are_bracketed_in_the_urls(start_serve) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        free_port("::1")
    except OSError:
        pytest.skip("::1 is not configured")
    served = start_serve(host="::1")
    assert served.url.startswith(f"http://[::1]:{served.port}/?token=")
    page = await _text_with_cookie(served)
    assert f'data-session-websocket-url="ws://[::1]:{served.port}/ws"' in page
    assert await _tab(served) == 101


async def _text_with_cookie(served: ServeProcess) -> str:
    async with aiohttp.ClientSession() as session:
        async with session.get(served.base + "/", headers={"Cookie": served.cookie}) as response:
            assert response.status == 200
            return await response.text()


def _this_machines_address() -> str | None:
    """A non-loopback address of this machine (the interface a neighbour reaches), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


async def test_off_loopback_every_request_still_needs_the_token(start_serve) -> None:
    address = _this_machines_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    served = start_serve(host=address)
    assert "warning: serving on" in served.output() and "token" in served.output()
    assert (await _get(served.base + "/")).status == 403
    assert (await _get(served.base + "/", Cookie=served.cookie)).status == 200
    runner = CliRunner()
    help_text = runner.invoke(cli, ["serve", "--help"]).output
    assert "--token-file" in help_text and "no-token" not in help_text


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text("Sx1_my-own.token~0123456789abcdef\n")
    path.chmod(0o600)
    return path


async def test_a_token_file_of_the_users_with_mode_0600_is_the_token(start_serve,
                                                                     token_file: Path) -> None:
    served = start_serve("--token-file", str(token_file))
    assert served.token == "Sx1_my-own.token~0123456789abcdef"
    assert (await _get(served.base + "/", Cookie=served.cookie)).status == 200


@pytest.mark.parametrize("case", ["group-readable", "world-readable", "someone else's",
                                  "missing", "a directory", "too short"])
def test_a_token_file_that_is_not_private_is_refused(case: str, token_file: Path, tmp_path: Path,
                                                      service_config: Path,
                                                      no_serving: None) -> None:
    if case == "group-readable":
        token_file.chmod(0o640)
    elif case == "world-readable":
        token_file.chmod(0o604)
    elif case == "someone else's":
        if os.getuid() != 0:
            pytest.skip("only root can give a file away")
        os.chown(token_file, 65534, 65534)
    elif case == "missing":
        token_file.unlink()
    elif case == "a directory":
        token_file.unlink()
        token_file.mkdir()
    elif case == "too short":
        token_file.write_text("short\n")
    r = CliRunner().invoke(cli, ["--config", str(service_config), "--db", str(tmp_path / "store"),
                                 "serve", "--port", str(free_port()), "--token-file",
                                 str(token_file)])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.startswith("diplowatch: serve: --token-file")]
    assert len(lines) == 1 and "Traceback" not in r.output
    if case.endswith("readable"):
        assert "chmod 600" in lines[0]


# A second unix user on the same machine (nobody, uid 65534): what it gets from the port and
# from the owner's files. Prints one line per probe.
OTHER_USER_PROBE = """
import sys, urllib.request, urllib.error
base, token_file = sys.argv[1:3]
try:
    urllib.request.urlopen(base + "/", timeout=10)
    print("page: 200")
except urllib.error.HTTPError as e:
    print(f"page: {e.code}")
try:
    open(token_file, "rb").read(1)
    print("token file: read")
except PermissionError:
    print("token file: refused")
"""


async def test_another_local_user_gets_403_and_cannot_read_the_token(start_serve, token_file: Path
                                                                     ) -> None:
    import shutil
    import subprocess

    if os.getuid() != 0:
        pytest.skip("a second user needs root to switch to it")
    # (this venv's interpreter may sit in root's home, which the other user cannot enter)
    python = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3", shutil.which("python3"))
                   if p and os.access(p, os.X_OK)), None)
    if python is None:
        pytest.skip("no system python3 for the other user")
    served = start_serve("--token-file", str(token_file))
    assert (await _get(served.base + "/", Cookie=served.cookie)).status == 200  # the owner
    probe = subprocess.run(
        [python, "-c", OTHER_USER_PROBE, served.base, str(token_file)],
        user=65534, group=65534, extra_groups=[], capture_output=True, text=True, timeout=60,
        cwd="/")
    assert probe.stdout.splitlines() == ["page: 403", "token file: refused"], \
        probe.stdout + probe.stderr
    assert served.tabs() == []
    assert token_file.stat().st_mode & 0o777 == 0o600  # serve refuses any other mode

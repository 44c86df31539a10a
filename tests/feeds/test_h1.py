"""feeds.net.h1: the llhttp transport against a scripted server on 127.0.0.1.

Each test's server answers each connection with the exact bytes a test gives it, so the
odd corners of HTTP/1.1 that real feed servers produce (bare LF, 1xx, bodies that end at
close, idle connections closed under us, endless headers) are on a real socket.
"""
from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Awaitable, Callable

import pytest

from feeds.config.load import PollingSettings
from feeds.net.fetch import Fetcher, FetchOutcome, PerHostTransport
from feeds.net.h1 import MAX_HEAD, H1Transport
from feeds.net.httpx_adapter import httpx

SETTINGS = PollingSettings(timeout=5.0, connect_timeout=2.0)
Script = Callable[["ScriptedServer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class ScriptedServer:
    """Answers each connection with ``script(server, reader, writer)``; records requests."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> "ScriptedServer":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    @property
    def port(self) -> int:
        return self.server.sockets[0].getsockname()[1]

    def url(self, path: str = "/feed") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        return head

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.script(self, reader, writer)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def answer(*responses: bytes, keep_open: bool = False) -> Script:
    """Per request on a connection, the next response; then close (or stay idle)."""
    async def script(srv: ScriptedServer, reader, writer) -> None:
        for raw in responses:
            await srv.request(reader)
            writer.write(raw)
            await writer.drain()
        if keep_open:
            await reader.read()  # until the client hangs up
    return script


async def fetch(url: str, **kw: str) -> object:
    async with Fetcher(SETTINGS) as f:
        return await f.fetch(url, **kw)


async def test_bare_lf_line_ends_are_read_as_h11_read_them() -> None:
    async with ScriptedServer(answer(b"HTTP/1.1 200 OK\nContent-Length: 5\nETag: \"v1\"\n\nhello")) as srv:
        r = await fetch(srv.url())
    assert (r.outcome, r.body, r.etag) == (FetchOutcome.OK, b"hello", '"v1"')


async def test_an_informational_answer_before_the_real_one_is_skipped() -> None:
    async def script(srv: ScriptedServer, reader, writer) -> None:
        await srv.request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\nX-Early: 1\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)  # the real answer in a later packet
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nETag: e\r\n\r\nabc")
        await writer.drain()

    async with ScriptedServer(script) as srv:
        transport = H1Transport("http", "127.0.0.1", srv.port)
        response = await transport.handle_async_request(httpx.Request("GET", srv.url()))
        assert response.status_code == 200 and "x-early" not in response.headers
        assert b"".join([chunk async for chunk in response.aiter_raw()]) == b"abc"
        await response.aclose()
        await transport.aclose()


async def test_a_body_without_length_ends_when_the_server_closes() -> None:
    async with ScriptedServer(answer(b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n<rss>" + b"x" * 100_000)) as srv:
        async with Fetcher(SETTINGS) as f:
            r = await f.fetch(srv.url())
            assert (r.outcome, len(r.body)) == (FetchOutcome.OK, 100_005)
            r = await f.fetch(srv.url())  # not reused: the first connection has ended
            assert r.outcome == FetchOutcome.OK
        assert srv.connections == 2


async def test_a_body_cut_short_is_an_error_in_words() -> None:
    async with ScriptedServer(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")) as srv:
        r = await fetch(srv.url())
    assert r.outcome == FetchOutcome.ERROR and r.error == "the server closed the connection before the whole body arrived"


async def test_a_chunked_body_is_joined() -> None:
    async with ScriptedServer(answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")) as srv:
        r = await fetch(srv.url())
    assert (r.outcome, r.body) == (FetchOutcome.OK, b"abcdefg")


async def test_a_kept_alive_connection_is_reused_for_the_next_request() -> None:
    ok = b"HTTP/1.1 304 Not Modified\r\nETag: e\r\n\r\n"
    async with ScriptedServer(answer(ok, ok, ok, keep_open=True)) as srv:
        async with Fetcher(SETTINGS) as f:
            for _ in range(3):
                assert (await f.fetch(srv.url(), etag="e")).outcome == FetchOutcome.NOT_MODIFIED
        assert srv.connections == 1 and len(srv.requests) == 3


async def test_connection_close_is_not_reused() -> None:
    close = b"HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n"
    async with ScriptedServer(answer(close, keep_open=True)) as srv:
        async with Fetcher(SETTINGS) as f:
            for _ in range(2):
                assert (await f.fetch(srv.url())).outcome == FetchOutcome.NOT_MODIFIED
        assert srv.connections == 2


async def test_an_idle_connection_closed_by_the_server_is_retried_on_a_new_one() -> None:
    """The server answers once per connection, then closes it after the client's next request
    arrives (the race a long-running poller meets when a server drops idle connections)."""
    async def script(srv: ScriptedServer, reader, writer) -> None:
        await srv.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await reader.read(1)  # the next request's first byte: hang up without answering

    srv = ScriptedServer(script)
    async with srv:
        async with Fetcher(SETTINGS) as f:
            assert (await f.fetch(srv.url())).outcome == FetchOutcome.OK
            r = await f.fetch(srv.url())
        assert (r.outcome, r.body) == (FetchOutcome.OK, b"ok")
        assert srv.connections == 2


async def test_a_server_that_hangs_up_without_answering_on_a_new_connection_is_an_error() -> None:
    async def script(srv: ScriptedServer, reader, writer) -> None:
        await srv.request(reader)

    srv = ScriptedServer(script)
    async with srv:
        r = await fetch(srv.url())
    assert r.outcome == FetchOutcome.ERROR and "without sending a response" in r.error
    assert srv.connections == 1  # a new connection is never retried


async def test_endless_headers_are_cut_at_the_cap() -> None:
    async def script(srv: ScriptedServer, reader, writer) -> None:
        await srv.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for i in range(100_000):  # 2.6 MB of headers if nobody stopped it
            writer.write(b"X-Pad-%06d: %s\r\n" % (i, b"y" * 10))
            if i % 1000 == 0:
                await writer.drain()

    srv = ScriptedServer(script)
    async with srv:
        r = await fetch(srv.url())
    assert r.outcome == FetchOutcome.ERROR and f"headers larger than {MAX_HEAD // 1024} KiB" in r.error, r.error


async def test_garbage_instead_of_http_is_an_invalid_response() -> None:
    async with ScriptedServer(answer(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")) as srv:
        r = await fetch(srv.url())
    assert r.outcome == FetchOutcome.ERROR and r.error.startswith("the server sent an invalid HTTP response")


async def test_a_stored_validator_with_a_line_break_is_never_sent() -> None:
    """An ETag comes from the server; one carrying CR/LF would split our request."""
    async with ScriptedServer(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) as srv:
        r = await fetch(srv.url(), etag='"x"\r\nX-Injected: 1')
        await asyncio.sleep(0.05)
    assert r.outcome == FetchOutcome.ERROR and "line break" in r.error
    assert srv.requests == []


async def test_a_stalled_body_is_a_read_timeout() -> None:
    async def script(srv: ScriptedServer, reader, writer) -> None:
        await srv.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()
        await asyncio.sleep(5)

    srv = ScriptedServer(script)
    async with srv:
        transport = H1Transport("http", "127.0.0.1", srv.port)
        request = httpx.Request("GET", srv.url(), extensions={"timeout": {"read": 0.2}})
        response = await transport.handle_async_request(request)
        with pytest.raises(httpx.ReadTimeout):
            async for _ in response.aiter_raw():
                pass
        await response.aclose()
        await transport.aclose()


async def test_only_a_get_without_body_is_sent() -> None:
    transport = H1Transport("http", "127.0.0.1", 9)
    with pytest.raises(httpx.UnsupportedProtocol):
        await transport.handle_async_request(httpx.Request("POST", "http://127.0.0.1:9/", content=b"x"))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed: no test certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


async def test_https_with_a_trusted_certificate(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)

    async def handle(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n<rss/>")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        trusted = ssl.create_default_context(cafile=str(cert))
        async with Fetcher(SETTINGS, transport=PerHostTransport(ssl_context=trusted)) as f:
            r = await f.fetch(f"https://127.0.0.1:{port}/feed")
        assert (r.outcome, r.body) == (FetchOutcome.OK, b"<rss/>")
        r = await fetch(f"https://127.0.0.1:{port}/feed")  # the default trust store: refused
        assert r.outcome == FetchOutcome.ERROR and "TLS certificate not trusted" in r.error, r.error
    finally:
        server.close()


async def test_a_request_cancelled_while_waiting_for_the_answer_closes_its_connection() -> None:
    """The fetcher's total deadline cancels a request mid-wait: the connection must not be
    kept (it would carry the late answer into the next request) nor leak."""
    async def script(srv: ScriptedServer, reader, writer) -> None:
        await srv.request(reader)
        await reader.read()  # never answers; returns when the client hangs up
        srv.hung_up = True

    srv = ScriptedServer(script)
    srv.hung_up = False
    async with srv:
        transport = H1Transport("http", "127.0.0.1", srv.port)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await transport.handle_async_request(httpx.Request("GET", srv.url()))
        for _ in range(100):
            if srv.hung_up:
                break
            await asyncio.sleep(0.01)
        assert srv.hung_up and transport._idle == []
        await transport.aclose()


@pytest.mark.skipif(not hasattr(__import__("socket"), "TCP_QUICKACK"), reason="Linux only")
async def test_a_reused_connection_asks_for_the_answer_to_be_acknowledged_at_once() -> None:
    """On a kept-alive connection the kernel delays ACKs (the socket is in "ping-pong"
    mode), and a server that sends its headers and body apart then waits for that ACK:
    ~40 ms a request. After each request is written, the socket is switched back to
    acknowledging at once (what the kernel reports as TCP_QUICKACK = 1)."""
    import socket

    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    async with ScriptedServer(answer(ok, ok, keep_open=True)) as srv:
        transport = PerHostTransport()
        async with Fetcher(SETTINGS, transport=transport) as f:
            assert (await f.fetch(srv.url())).outcome == FetchOutcome.OK
            (pool,) = transport._pools.values()
            (conn,) = pool._idle
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)  # delayed ACKs
            assert conn.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK) == 0
            assert (await f.fetch(srv.url())).outcome == FetchOutcome.OK
            assert pool._idle == [conn]  # the same connection, reused
            assert conn.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK) == 1
        assert srv.connections == 1

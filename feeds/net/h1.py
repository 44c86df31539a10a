"""HTTP/1.1 to one origin, parsed by llhttp (through httptools), as an httpx transport.

A 304 poll is a few hundred bytes each way, so a poller's CPU goes into the HTTP machinery,
not the network: through httpcore, h11's pure-Python state machine and httpcore's
connection layers were 60 % of a request's CPU. Here the response is parsed in C by llhttp,
Node.js's HTTP parser, as it arrives on an asyncio protocol, and the request is one join.

Only what a feed fetch needs: ``GET`` without a body, keep-alive with a short expiry, TLS,
bodies by ``Content-Length``, chunked or until close, response headers capped at 64 KiB.
The caller (:class:`feeds.net.fetch.Fetcher`) keeps the policy: the total deadline, body caps,
decoding, redirects. Its address policy comes as a request extension (:data:`PEER_CHECK`): the
resolved addresses it refuses are never connected to, and the address a connection actually
reached (the socket's peer) is checked before every request sent on it, new or reused.
Faults come out as httpx's own exceptions, chained to the OS error, so
:func:`feeds.net.fetch.describe_http_error` names them; httpx itself is imported only then, or
for a request that comes as an ``httpx.Request`` (the fetcher's own path never builds one).
A kept-alive connection that the server closed while it sat idle is retried once on a new
one, as browsers and urllib3 retry an idempotent request.
"""
from __future__ import annotations

import asyncio
import functools
import select
import socket
import ssl
import time
from typing import Any, AsyncIterator, Callable, Self, TypeVar

import httptools

from feeds.net.httpx_adapter import httpx
from feeds.net.policy import AddressRefused, PeerCheck

KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection is kept; servers close theirs at 5–60 s
MAX_IDLE = 2  # idle connections kept per origin (the poller sends one or two at a time)
MAX_HEAD = 64 * 1024  # status line and headers; h11's own limit is 16 KiB
_PAUSE_ABOVE = 256 * 1024  # body bytes buffered before the socket stops being read
_FORBIDDEN_IN_HEADERS = (b"\r", b"\n", b"\0")
# Linux's "acknowledge at once" switch (absent elsewhere; None then). See _Connection.sent.
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
# Request extension: a feeds.net.policy.PeerCheck, async (address) -> None, raising
# AddressRefused for an address the request must not reach.
PEER_CHECK = "diplowatch.peer_check"
R = TypeVar("R")


class _StaleConnection(Exception):
    """A reused connection ended before any byte of the response: safe to retry a GET."""


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection; llhttp parses each response as its bytes arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser: httptools.HttpResponseParser | None = None  # set while a response is read
        self.received = 0  # bytes of the current response so far
        self._new_response()
        self.eof = False
        self.error: BaseException | None = None
        self.unsolicited = False  # bytes arrived while no request was waiting
        self.used = False
        self.idle_since = 0.0
        self.peer = ""  # the IP address the socket is connected to
        self.sock: Any = None  # the transport's socket, for its options
        self._waiter: asyncio.Future | None = None
        self._paused = False

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]).split("%")[0] if peer else ""
        self.sock = transport.get_extra_info("socket")

    def sent(self) -> None:
        """A request was just written: have the response's first segment acknowledged at once.
        On a kept-alive connection the kernel delays its ACKs (up to 40 ms on Linux), hoping
        to carry them on our next request; a server that writes its headers and its body in
        two sends (Python's http.server, many app servers) holds the body back until that ACK
        (Nagle's algorithm). Every request after a connection's first took 44 ms against
        0.4 ms on a local server: a poll of one site's 200 feeds, 8.8 s instead of 0.3 s."""
        if _QUICKACK is not None and self.sock is not None:
            try:
                self.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            except (OSError, ValueError, AttributeError):  # not TCP, or closed meanwhile
                pass

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None or self.error is not None:
            self.unsolicited = True
            return
        self.received += len(data)
        try:
            parser.feed_data(data)
        except httptools.HttpParserError as e:
            self.error = httpx.RemoteProtocolError(f"invalid HTTP response: {e}")
        if not self.headers_done and self.received > MAX_HEAD and self.error is None:
            self.error = httpx.RemoteProtocolError(
                f"response headers larger than {MAX_HEAD // 1024} KiB")
        if self.buffered > _PAUSE_ABOVE and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        if exc is not None and self.error is None:
            self.error = exc
        self._wake()

    # -- llhttp callbacks ----------------------------------------------------------------

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        low = name.lower()
        if low == b"content-length" or (low == b"transfer-encoding" and b"chunked" in value.lower()):
            self.length_known = True

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()  # type: ignore[union-attr]
        self.informational = 100 <= status < 200 and status != 101
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)
        self.buffered += len(body)

    def on_message_complete(self) -> None:
        if self.informational:  # a 1xx before the real answer: forget it, read on
            self._new_response()
            return
        self.keep_alive = self.parser.should_keep_alive()  # type: ignore[union-attr]  # reset after this
        self.done = True

    # -- used by the transport -------------------------------------------------------------

    def _new_response(self) -> None:
        """Forget the last response's head and body (a new request, or after a 1xx)."""
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_done = self.informational = self.done = self.keep_alive = False
        self.length_known = False  # Content-Length or chunked; otherwise the body ends at close
        self.body: list[bytes] = []
        self.buffered = 0

    def start(self) -> None:
        """Ready for the next response: a fresh parser."""
        self.parser = httptools.HttpResponseParser(self)
        # As tolerant as h11 was: bare LF line ends and odd bytes in header values. The
        # "dangerous" part is request smuggling through a proxy; a feed reader proxies nothing.
        self.parser.set_dangerous_leniencies(lenient_headers=True, lenient_optional_cr_before_lf=True)
        self.received = 0
        self._new_response()

    def take_body(self) -> list[bytes]:
        chunks, self.body, self.buffered = self.body, [], 0
        if self._paused and self.transport is not None and not self.eof:
            self._paused = False
            self.transport.resume_reading()
        return chunks

    async def wait(self, timeout: float | None, request: httpx.Request | None) -> None:
        """Until more bytes, the end of the connection or an error (then raised)."""
        if self.error is None and not self.eof:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await self._waiter
            except TimeoutError as e:
                self.close()
                raise httpx.ReadTimeout("the server stopped sending", request=request) from e
            finally:
                self._waiter = None
        error = self.error
        if error is not None:
            self.close()
            if isinstance(error, httpx.RemoteProtocolError):
                error.request = request
                raise error
            raise httpx.ReadError(str(error) or error.__class__.__name__, request=request) from error

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def reusable(self, now: float) -> bool:
        """Idle not too long, and the server has neither closed it nor sent anything since."""
        if self.eof or self.unsolicited or self.error is not None or self.transport is None \
                or self.transport.is_closing() or now - self.idle_since > KEEPALIVE_EXPIRY:
            return False
        sock = self.transport.get_extra_info("socket")
        if sock is None or sock.fileno() == -1:
            return False
        return not select.select([sock], [], [], 0)[0]  # (select: poll() is not on Windows)

    def close(self) -> None:
        self.parser = None
        if self.transport is not None:
            self.transport.close()


class AsyncTransport:
    """What httpx.AsyncBaseTransport gives a transport (``async with``, ``aclose``), without
    importing httpx: our transports are driven by the Fetcher, or by httpx through its
    duck-typed transport interface."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        pass


class _Body:
    """The response body as it arrives; gives the connection back when read to the end."""

    def __init__(self, origin: "H1Transport", conn: _Connection, read_timeout: float | None,
                 request: httpx.Request | None) -> None:
        self._origin, self._conn = origin, conn
        self._timeout, self._request = read_timeout, request
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self._conn
        while True:
            if conn.body:
                for chunk in conn.take_body():
                    yield chunk
            if conn.done:
                return
            if conn.eof and conn.error is None:
                if conn.length_known:
                    raise httpx.RemoteProtocolError(
                        "peer closed connection without sending complete message body (incomplete)",
                        request=self._request)
                conn.done = True  # no length given: the body ends when the server closes
                conn.close()
                continue
            await conn.wait(self._timeout, self._request)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        conn = self._conn
        if conn.done and conn.keep_alive and not conn.eof and conn.parser is not None:
            conn.parser = None
            self._origin._release(conn)
        else:
            conn.close()


@functools.cache
def _httpx_body() -> type[_Body]:
    """:class:`_Body` as an httpx.AsyncByteStream, for an ``httpx.Response`` (which checks)."""
    return type("_HttpxBody", (_Body, httpx.AsyncByteStream), {})


class H1Transport(AsyncTransport):
    """One origin (scheme, host, port): up to :data:`MAX_IDLE` kept-alive connections.

    Concurrency is the poller's business (global and per-host slots), so there is no
    connection limit and no queue: a request that finds no idle connection opens one.
    """

    def __init__(self, scheme: str, host: str, port: int | None, *,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"refused a non-http(s) address ({scheme}:)")
        self._host = host
        self._port = port or (443 if scheme == "https" else 80)
        self._ssl = (ssl_context or ssl.create_default_context()) if scheme == "https" else None
        self._idle: list[_Connection] = []
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET" or request.headers.get("content-length", "0") != "0":
            raise httpx.UnsupportedProtocol("this transport sends only GET without a body")
        timeouts = request.extensions.get("timeout", {})
        read_timeout = timeouts.get("read")

        def response(conn: _Connection) -> httpx.Response:
            return httpx.Response(
                conn.parser.get_status_code(), headers=conn.headers,  # type: ignore[union-attr]
                stream=_httpx_body()(self, conn, read_timeout, request),
                extensions={"http_version": b"HTTP/1.1", "reason_phrase": conn.reason},
                request=request)

        return await self._send(_request_head(request), timeouts,
                                request.extensions.get(PEER_CHECK), request, response)

    async def send(self, head: bytes, timeouts: dict, check: PeerCheck | None) -> "H1Response":
        """The fast path of :class:`feeds.net.fetch.Fetcher`: ``head`` is the request line and
        headers, already checked (see :func:`checked_header`); no httpx.Request nor
        httpx.Response is built."""
        read_timeout = timeouts.get("read")

        def response(conn: _Connection) -> H1Response:
            return H1Response(conn.parser.get_status_code(), conn.reason,  # type: ignore[union-attr]
                              conn.headers, _Body(self, conn, read_timeout, None))

        return await self._send(head, timeouts, check, None, response)

    async def _send(self, head: bytes, timeouts: dict, check: PeerCheck | None,
                    request: httpx.Request | None, response: Callable[[_Connection], R]) -> R:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if conn.reusable(now):
                await _checked(conn, check)  # another feed's policy may have opened it
                try:
                    return await self._exchange(conn, head, request, timeouts, response)
                except _StaleConnection:
                    pass  # closed by the server while idle: try the next, or a new one
            else:
                conn.close()
        conn = await _checked(await self._connect(request, timeouts.get("connect"), check), check)
        return await self._exchange(conn, head, request, timeouts, response)  # (never stale: not reused)

    async def _connect(self, request: httpx.Request | None, timeout: float | None,
                       check: PeerCheck | None) -> _Connection:
        try:
            async with asyncio.timeout(timeout):
                if check is None:
                    return await self._open(self._host)
                return await self._open_checked(check)
        except TimeoutError as e:
            raise httpx.ConnectTimeout("no connection within the connect timeout", request=request) from e
        except (OSError, ssl.SSLError) as e:
            raise httpx.ConnectError(str(e) or e.__class__.__name__, request=request) from e

    async def _open(self, address: str) -> _Connection:
        _, conn = await asyncio.get_running_loop().create_connection(
            _Connection, address, self._port, ssl=self._ssl,
            server_hostname=self._host if self._ssl else None)
        return conn

    async def _open_checked(self, check: PeerCheck) -> _Connection:
        """Resolve the host once and connect only to addresses ``check`` lets through: the
        address checked is the address connected to (a second lookup could rebind)."""
        infos = await asyncio.get_running_loop().getaddrinfo(
            self._host, self._port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        refused: AddressRefused | None = None
        failed: OSError | None = None
        for address in addresses:
            try:
                await check(address.split("%")[0])
            except AddressRefused as e:  # skip this address, keep the reason
                refused = refused or e
                continue
            try:
                return await self._open(address)
            except OSError as e:  # (ssl.SSLError is an OSError: a TLS failure is final)
                if isinstance(e, ssl.SSLError):
                    raise
                failed = e
        if failed is not None:
            raise failed
        assert refused is not None  # getaddrinfo returns at least one address or raises
        raise refused

    async def _exchange(self, conn: _Connection, head: bytes, request: httpx.Request | None,
                        timeouts: dict, response: Callable[[_Connection], R]) -> R:
        try:
            await self._read_head(conn, head, request, timeouts.get("read"))
            if conn.parser.should_upgrade() or conn.parser.get_status_code() == 101:  # type: ignore[union-attr]
                raise httpx.RemoteProtocolError("the server switched protocols", request=request)
            return response(conn)
        except BaseException:  # an error, or the caller's deadline cancelling us: no reuse
            conn.close()
            raise

    async def _read_head(self, conn: _Connection, head: bytes, request: httpx.Request | None,
                         read_timeout: float | None) -> None:
        reused, conn.used = conn.used, True
        conn.start()
        conn.transport.write(head)  # type: ignore[union-attr]  # a few hundred bytes: no drain
        conn.sent()
        while not conn.headers_done:
            if conn.eof and conn.error is None:
                if reused and not conn.received:
                    raise _StaleConnection()
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.",
                                                request=request)
            try:
                await conn.wait(read_timeout, request)
            except httpx.ReadError as e:
                if reused and not conn.received:
                    raise _StaleConnection() from e
                raise

    def _release(self, conn: _Connection) -> None:
        if self._closed or len(self._idle) >= MAX_IDLE:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.append(conn)

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


async def _checked(conn: _Connection, check: PeerCheck | None) -> _Connection:
    """``conn`` if its peer passes ``check``; else it is closed and the refusal raised."""
    if check is not None:
        try:
            await check(conn.peer)
        except BaseException:
            conn.close()
            raise
    return conn


def checked_header(name: bytes, value: bytes) -> bytes:
    """``name: value`` and its line end; a header carrying CR, LF or NUL is refused, never
    sent (a stored ETag comes from the server, and could otherwise split the request)."""
    if any(c in name or c in value for c in _FORBIDDEN_IN_HEADERS):
        raise httpx.LocalProtocolError(f"refused to send a header with a line break "
                                       f"({name.decode('latin-1')})")
    return name + b": " + value + b"\r\n"


def _request_head(request: httpx.Request) -> bytes:
    """The request line and headers (each through :func:`checked_header`)."""
    parts = [request.method.encode(), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    try:
        parts += (checked_header(name, value) for name, value in request.headers.raw)
    except httpx.LocalProtocolError as e:
        e.request = request
        raise
    parts.append(b"\r\n")
    return b"".join(parts)


def _text(value: bytes) -> str:
    """A header value as httpx decodes one: ASCII, else UTF-8, else Latin-1."""
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("latin-1")


class ResponseHeaders:
    """The response headers as the Fetcher asks for them: ``get(name)``, any case; repeated
    headers joined with ", " (as httpx.Headers.get)."""

    __slots__ = ("_raw", "_map")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw, self._map = raw, None

    def get(self, name: str, default: str | None = None) -> str | None:
        found = self._map
        if found is None:
            found = self._map = {}
            for key, value in self._raw:
                low = key.lower().decode("latin-1")
                text = _text(value)
                found[low] = f"{found[low]}, {text}" if low in found else text
        return found.get(name.lower(), default)


class H1Response:
    """A response of :meth:`H1Transport.send`: what the Fetcher reads of an httpx.Response."""

    __slots__ = ("status_code", "reason_phrase", "headers", "_body")

    def __init__(self, status: int, reason: bytes, headers: list[tuple[bytes, bytes]],
                 body: _Body) -> None:
        self.status_code = status
        self.reason_phrase = reason.decode("ascii", errors="ignore")  # as httpx
        self.headers = ResponseHeaders(headers)
        self._body = body

    async def aiter_raw(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body as it arrives (undecoded); at most ``_PAUSE_ABOVE`` bytes or so at a time."""
        async for chunk in self._body:
            yield chunk

    async def aclose(self) -> None:
        await self._body.aclose()

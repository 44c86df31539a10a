"""Fetch one feed document politely and safely; never raise for a network or server fault.

One :class:`Fetcher` drives one httpx transport. A fetch:
- sends the stored validators (``If-None-Match`` / ``If-Modified-Since``);
- follows at most ``max_redirects`` redirects by hand, checking every hop: http(s) only;
- never connects to an internal address (loopback, private, link-local, special-purpose)
  unless the feed allows it (:mod:`feeds.net.policy`): the address checked is the one the
  socket connected to, on every hop, so DNS rebinding and adopted redirects are covered;
- streams the raw body and decodes gzip/deflate itself with a cap on the *decoded* size
  (httpx would inflate a whole network chunk, a gzip bomb, before any cap could look at it);
- runs under one total deadline (httpx only has per-phase timeouts: a body dripping a byte at
  a time would never end).
The outcome, good or bad, is a :class:`FetchResult` with the error in words.
"""
from __future__ import annotations

import asyncio
import base64
import errno
import functools
import hashlib
import os
import socket
import ssl
import time
import zlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from feeds import __version__
from feeds.config.load import MAX_RETRY_AFTER, PollingSettings
from feeds.net.policy import (
    AddressClassifier, AddressRefused, PeerCheck, host_is_internal, is_local_name,
    names_internal_address, parse_ip, peer_check,
)
from feeds.net.h1 import PEER_CHECK, AsyncTransport, H1Response, H1Transport, checked_header
from feeds.net.httpx_adapter import CHECKED_VERSION, httpx
from feeds.net.target import request_target
from feeds.config.units import format_duration


class FetchOutcome(StrEnum):
    """How one fetch ended (the poller turns it into a feeds.model.FeedStatus)."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"
    GONE = "gone"
    RATE_LIMITED = "rate_limited"


DEFAULT_RETRY_AFTER = 3600.0  # 429/503 without Retry-After: wait at least an hour
_CHUNK = 64 * 1024


def default_user_agent() -> str:
    # The pinned httpx (the installed one: tests/feeds/test_library_adapters.py), named
    # without importing it.
    return f"diplowatch/{__version__} (conflict-diplomacy news monitor; python-httpx/{CHECKED_VERSION})"


@dataclass(slots=True)
class FetchResult:
    outcome: FetchOutcome
    url: str  # the URL asked for
    final_url: str  # after redirects
    http_status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    retry_after: float | None = None  # epoch seconds before which no request may be sent
    max_age: float | None = None  # seconds the server says the document stays fresh
    permanent_redirect: str | None = None  # where 301/308 hops from `url` lead, if any
    error: str | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome in (FetchOutcome.OK, FetchOutcome.NOT_MODIFIED)


class FetchFailed(Exception):
    """Internal: a fetch that ends in an error described in words."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PerHostTransport(AsyncTransport):
    """One small connection pool per origin: :class:`feeds.net.h1.H1Transport` (llhttp).

    Concurrency is the poller's business (global and per-host slots), so a pool only ever
    holds its host's connection or two and never queues a request behind a connection held
    by a hung server.

    The environment's proxies (``http_proxy``, ``https_proxy``, ``all_proxy``, ``no_proxy``)
    are honoured, as ``httpx.AsyncClient`` would: a proxied host gets httpx's own proxy
    transport.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl = ssl_context  # None: httpx's default trust, loaded at the first https host
        self._pools: dict[tuple[bytes, bytes, int | None], AsyncTransport | httpx.AsyncBaseTransport] = {}
        self._proxies = _environment_proxies()

    def proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy a request to ``url`` goes through, if any (never for loopback: a proxy
        would reach its own)."""
        proxy = self._proxies.get(url.scheme) or self._proxies.get("all")
        if not proxy or url.host in ("localhost", "::1") or url.host.startswith("127."):
            return None
        import urllib.request  # (only with proxies set: ~6 ms of a start otherwise)

        if urllib.request.proxy_bypass_environment(url.host, self._proxies):
            return None
        return proxy

    def _new_pool(self, key: tuple[bytes, bytes, int | None],
                  url: str | httpx.URL) -> AsyncTransport | httpx.AsyncBaseTransport:
        scheme, host, port = key[0].decode("ascii"), key[1].decode("ascii"), key[2]
        proxy = self.proxy_for(httpx.URL(url)) if self._proxies else None
        tls = (self._ssl or _ssl_context()) if scheme == "https" or proxy else None
        if proxy is not None:
            return httpx.AsyncHTTPTransport(proxy=proxy, verify=tls)
        return H1Transport(scheme, host, port, ssl_context=tls)

    def pool(self, key: tuple[bytes, bytes, int | None],
             url: str | httpx.URL) -> AsyncTransport | httpx.AsyncBaseTransport:
        """The pool of an origin ``key`` (scheme, host, port as httpx.URL spells them), made
        at its first request (``url``)."""
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._new_pool(key, url)
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        pool = self.pool((url.raw_scheme, url.raw_host, url.port), url)
        check: PeerCheck | None = request.extensions.get(PEER_CHECK)
        if check is not None and not isinstance(pool, H1Transport):
            await _check_proxied(url.host, check)
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()


async def _check_proxied(host: str, check: PeerCheck) -> None:
    """Through a proxy the socket's peer is the proxy, so the target is judged by what its
    name resolves to here. A name that does not resolve here is the proxy's to resolve (a
    network that only reaches out through a proxy often has no public DNS)."""
    if parse_ip(host) is not None or is_local_name(host):
        await check(host)
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return
    for address in dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos):
        await check(address)


def _environment_proxies() -> dict[str, str]:
    """``urllib.request.getproxies_environment()``, importing urllib.request (~6 ms) only
    when some ``*_proxy`` variable is set: without one it finds nothing."""
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return {}
    import urllib.request

    return urllib.request.getproxies_environment()


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default context, built as ``httpx.create_ssl_context(trust_env=True)`` builds
    it (0.28; tests/feeds/test_target.py compares them) without importing httpx: the
    $SSL_CERT_FILE or $SSL_CERT_DIR trust, else certifi's bundle. Built once per process
    and only when an https host is first met: loading the CA bundle costs 40–70 ms."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def body_hash(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


class Fetcher:
    """One HTTP transport for a poll cycle.

    Requests go straight to the transport, not through ``httpx.AsyncClient``: the client's
    layers (cookie jar, auth and redirect machinery, URL and header merging) cost ~0.5 ms of
    CPU per request, as much as the HTTP exchange itself, and a feed poller needs none of
    them: redirects are followed here, by hand, and a feed fetch carries no cookies. On our
    own llhttp pools not even ``httpx.Request``/``httpx.Response`` are built
    (:meth:`H1Transport.send`): the request is a few cached byte strings joined, the
    response a status and raw headers; another transport (injected, or a proxy's) gets an
    ``httpx.Request``.

    ``transport`` is injectable (an ``httpx.AsyncBaseTransport``) and so is ``is_internal``,
    the address classifier of the connect-time address policy.
    """

    def __init__(self, settings: PollingSettings, *, transport: httpx.AsyncBaseTransport | None = None,
                 is_internal: AddressClassifier = host_is_internal,
                 clock=time.time) -> None:
        self.settings = settings
        self._is_internal = is_internal
        self._clock = clock
        self._timeout = {"connect": settings.connect_timeout, "read": settings.timeout,
                         "write": settings.timeout, "pool": settings.timeout}
        self._transport = transport or PerHostTransport()
        self._headers = {
            "User-Agent": settings.user_agent or default_user_agent(),
            "Accept": "application/rss+xml, application/atom+xml, application/rdf+xml, "
                      "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
            "Accept-Encoding": "gzip, deflate"}
        # The same headers as the fast path sends them (a user agent from the config that
        # carries a line break fails each fetch, as a header httpx would refuse).
        self._fixed: bytes | Exception
        try:
            self._fixed = b"".join(checked_header(k.encode("ascii"), v.encode("utf-8"))
                                   for k, v in self._headers.items())
        except httpx.LocalProtocolError as e:
            self._fixed = e

    async def __aenter__(self) -> "Fetcher":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def _get(self, url: str, headers: dict[str, str], validators: bytes,
                   check: PeerCheck | None, hop: int) -> httpx.Response | H1Response:
        """Send the GET; the caller closes the response."""
        try:
            transport = self._transport
            if isinstance(transport, PerHostTransport):
                target = request_target(url)
                pool = transport.pool(target.key, url)
                if isinstance(pool, H1Transport):  # the fast path: no httpx.Request
                    if isinstance(self._fixed, Exception):
                        raise self._fixed
                    return await pool.send(b"".join((target.line, self._fixed, target.auth,
                                                     validators, b"\r\n")), self._timeout, check)
            return await transport.handle_async_request(self._request(url, headers, check))
        except AddressRefused as e:
            what = "a redirect to" if hop else "to connect to"
            raise FetchFailed(f"refused {what} an internal address ({e.address}, {e.reason}): "
                              "set allow_internal = true on the feed to allow it") from None

    def _request(self, url: str, headers: dict[str, str], check: PeerCheck | None) -> httpx.Request:
        """The request for a transport other than our own pools (injected, or a proxy's)."""
        extensions: dict = {"timeout": self._timeout}
        if check is not None:
            extensions[PEER_CHECK] = check
        request = httpx.Request("GET", url, headers={**self._headers, **headers},
                                extensions=extensions)
        if request.url.userinfo:
            # Credentials in the feed URL: HTTP Basic, for this URL's own host only (a redirect
            # elsewhere carries none unless its Location names them).
            pair = f"{request.url.username}:{request.url.password}".encode("utf-8")
            request.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return request

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                    allow_internal: bool | None = None) -> FetchResult:
        """GET ``url`` (an http(s) URL) under the total deadline. ``allow_internal``: may it
        reach internal addresses? None: only if ``url`` names one itself (127.0.0.1,
        localhost); the poller decides from the configured URL, not a redirected one."""
        started = time.perf_counter()
        result = FetchResult(FetchOutcome.ERROR, url, url)
        try:
            async with asyncio.timeout(self.settings.timeout):
                if allow_internal is None:
                    allow_internal = await names_internal_address(urlsplit(url).hostname or "",
                                                                  self._is_internal)
                check = None if allow_internal else peer_check(self._is_internal)
                await self._fetch(url, etag, last_modified, result, check)
        except TimeoutError:
            result.outcome = FetchOutcome.ERROR
            result.body = None
            result.error = (f"took longer than {format_duration(self.settings.timeout)} "
                            "(total deadline for the request and its body)")
        except FetchFailed as e:
            result.outcome, result.error, result.body = FetchOutcome.ERROR, str(e), None
            result.http_status = e.status or result.http_status
        except httpx.HTTPError as e:
            result.outcome, result.error, result.body = FetchOutcome.ERROR, describe_http_error(e), None
        except (httpx.InvalidURL, ValueError) as e:  # a Location no URL parser accepts
            result.outcome, result.body = FetchOutcome.ERROR, None
            result.error = f"the server sent an invalid address ({e})"
        except (OSError, ssl.SSLError) as e:  # pragma: no cover - httpx wraps these; belt and braces
            result.outcome, result.error, result.body = FetchOutcome.ERROR, describe_os_error(e), None
        result.elapsed = time.perf_counter() - started
        return result

    async def _fetch(self, url: str, etag: str | None, last_modified: str | None,
                     result: FetchResult, check: PeerCheck | None) -> None:
        headers = {}
        validators = b""
        if etag:
            headers["If-None-Match"] = etag
            validators = checked_header(b"If-None-Match", etag.encode("utf-8"))
        if last_modified:
            headers["If-Modified-Since"] = last_modified
            validators += checked_header(b"If-Modified-Since", last_modified.encode("utf-8"))
        permanent: str | None = None
        permanent_chain = True
        current = url
        for hop in range(self.settings.max_redirects + 1):
            _check_scheme(current, first=hop == 0)
            resp = await self._get(current, headers, validators, check, hop)
            try:
                result.final_url = current
                result.http_status = resp.status_code
                if resp.status_code in (301, 302, 303, 307, 308):
                    location = resp.headers.get("location", "").strip()
                    if not location:
                        raise FetchFailed(f"HTTP {resp.status_code} redirect without a Location header",
                                          resp.status_code)
                    nxt = urljoin(current, location)
                    if resp.status_code in (301, 308) and permanent_chain:
                        permanent = nxt
                    else:
                        permanent_chain = False
                    current = nxt
                    continue
                result.permanent_redirect = permanent
                self._read_headers(resp, result)
                status = resp.status_code
                if status == 304:
                    result.outcome = FetchOutcome.NOT_MODIFIED
                    return
                if status == 200:
                    result.body = await read_capped(resp, self.settings.max_body)
                    result.outcome = FetchOutcome.OK
                    return
                if status == 410:
                    result.outcome = FetchOutcome.GONE
                    result.error = "HTTP 410 Gone: the publisher removed this feed"
                    return
                if status in (429, 503):
                    wait = parse_retry_after(resp.headers.get("retry-after"), self._clock())
                    result.outcome = FetchOutcome.RATE_LIMITED
                    result.retry_after = self._clock() + wait
                    phrase = "Too Many Requests" if status == 429 else "Service Unavailable"
                    result.error = f"HTTP {status} {phrase}: asked to wait {format_duration(wait)}"
                    return
                raise FetchFailed(f"HTTP {status} {resp.reason_phrase or ''}".strip(), status)
            finally:
                await resp.aclose()
        raise FetchFailed(f"too many redirects (more than {self.settings.max_redirects})")

    def _read_headers(self, resp: httpx.Response | H1Response, result: FetchResult) -> None:
        h = resp.headers
        result.content_type = h.get("content-type")
        result.etag = h.get("etag")
        result.last_modified = h.get("last-modified")
        result.max_age = parse_max_age(h.get("cache-control"), h.get("expires"), h.get("date"))


@functools.lru_cache(maxsize=8192)
def _scheme(url: str) -> str:
    return urlsplit(url).scheme.lower()


def _check_scheme(url: str, *, first: bool) -> None:
    scheme = _scheme(url)
    if scheme not in ("http", "https"):
        what = "a redirect to" if not first else "the URL"
        raise FetchFailed(f"refused {what} a non-http(s) address ({scheme or 'no scheme'}:)")


async def read_capped(resp: httpx.Response | H1Response, cap: int) -> bytes:
    """Read the raw stream, decoding at most one gzip/deflate layer, and stop at ``cap`` bytes."""
    encodings = [e.strip().lower() for e in resp.headers.get("content-encoding", "").split(",")
                 if e.strip() and e.strip().lower() != "identity"]
    if len(encodings) > 1:
        raise FetchFailed(f"refused stacked content encodings ({', '.join(encodings)})")
    encoding = encodings[0] if encodings else None
    if encoding not in (None, "gzip", "x-gzip", "deflate"):
        raise FetchFailed(f"refused an unsupported content encoding ({encoding})")
    decoder = _Decoder(encoding, cap)
    raw = 0
    async for chunk in resp.aiter_raw(_CHUNK):
        raw += len(chunk)
        if raw > cap:
            raise FetchFailed(f"body larger than {_mib(cap)} (cut while downloading)")
        decoder.feed(chunk)
    return decoder.finish()


def _mib(n: int) -> str:
    return f"{n / 1048576:g} MiB" if n >= 1048576 else f"{n / 1024:g} KiB"


class _Decoder:
    """Bounded inflate: never produces more than ``cap`` bytes, whatever the ratio.

    Until the first decoded byte, the raw bytes are kept: a body labelled ``deflate`` may be
    raw deflate (no zlib header), and one labelled compressed may not be compressed at all;
    both are tolerated the way browsers and feedparser tolerate them.
    """

    def __init__(self, encoding: str | None, cap: int) -> None:
        self.cap, self.parts, self.size = cap, [], 0
        self.encoding = encoding
        self.pending: bytearray | None = bytearray()  # raw bytes seen before any output
        self.tried_raw_deflate = False
        self.obj = self._new_obj()

    def _new_obj(self):
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.encoding == "deflate":
            return zlib.decompressobj(-zlib.MAX_WBITS if self.tried_raw_deflate else zlib.MAX_WBITS)
        return None

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.size > self.cap:
            raise FetchFailed(f"body larger than {_mib(self.cap)} once decompressed "
                              "(cut while decoding)")
        self.parts.append(data)
        self.pending = None

    def feed(self, chunk: bytes) -> None:
        if self.obj is None:
            self._emit(chunk)
            return
        if self.pending is not None:
            self.pending += chunk
        try:
            self._inflate(chunk)
        except zlib.error:
            self._fallback()

    def _inflate(self, chunk: bytes) -> None:
        self._emit(self.obj.decompress(chunk, self.cap - self.size + 1))
        while self.obj.unconsumed_tail:
            data = self.obj.decompress(self.obj.unconsumed_tail, self.cap - self.size + 1)
            if not data:
                break
            self._emit(data)

    def _fallback(self) -> None:
        if self.pending is None:  # output already produced: the stream itself is broken
            raise FetchFailed(f"the {self.encoding}-compressed body is corrupt") from None
        raw = bytes(self.pending)
        if self.encoding == "deflate" and not self.tried_raw_deflate:
            self.tried_raw_deflate = True
            self.obj = self._new_obj()
            try:
                self._inflate(raw)
                return
            except zlib.error:
                pass
        self.obj = None  # labelled compressed, but is not: take the bytes as they are
        self._emit(raw)

    def finish(self) -> bytes:
        if self.obj is not None:
            try:
                self._emit(self.obj.flush())
            except zlib.error:
                raise FetchFailed(f"the {self.encoding}-compressed body is corrupt") from None
            if self.encoding in ("gzip", "x-gzip") and not self.obj.eof:
                if self.pending is not None:  # nothing decoded at all: not really gzip
                    self.obj = None
                    self._emit(bytes(self.pending))
                else:
                    raise FetchFailed(f"the {self.encoding}-compressed body ends early (truncated)")
        return b"".join(self.parts)


def parse_retry_after(value: str | None, now: float) -> float:
    """Seconds to wait: ``Retry-After`` in seconds or as an HTTP date; an hour when absent."""
    wait = DEFAULT_RETRY_AFTER
    if value:
        value = value.strip()
        if value.isdigit():
            wait = float(value)
        else:
            from email.utils import parsedate_to_datetime  # (~3 ms: only for a date)

            try:
                dt = parsedate_to_datetime(value)
                wait = dt.timestamp() - now
            except (TypeError, ValueError, IndexError, OverflowError):
                wait = DEFAULT_RETRY_AFTER
    return min(max(wait, 0.0), MAX_RETRY_AFTER)


def parse_max_age(cache_control: str | None, expires: str | None, date: str | None) -> float | None:
    if cache_control:
        for part in cache_control.split(","):
            name, _, val = part.strip().partition("=")
            if name.lower() == "max-age" and val.strip().strip('"').isdigit():
                return float(val.strip().strip('"'))
    if expires:
        from email.utils import parsedate_to_datetime  # (~3 ms: only with Expires)

        try:
            exp = parsedate_to_datetime(expires).timestamp()
            ref = parsedate_to_datetime(date).timestamp() if date else time.time()
            return max(exp - ref, 0.0)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return None


def read_local(path: str, cap: int) -> FetchResult:
    """A feed that is a local file named in the config (blocking: call it off the event loop)."""
    result = FetchResult(FetchOutcome.ERROR, path, path)
    try:
        with open(Path(path), "rb") as fh:
            body = fh.read(cap + 1)
    except FileNotFoundError:
        result.error = "local file not found"
        return result
    except IsADirectoryError:
        result.error = "is a directory, not a feed file"
        return result
    except OSError as e:
        result.error = describe_os_error(e)
        return result
    if len(body) > cap:
        result.error = f"file larger than {_mib(cap)}"
        return result
    result.outcome, result.body = FetchOutcome.OK, body
    return result


def describe_os_error(e: BaseException) -> str:
    if isinstance(e, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({e.verify_message or e.reason})"
    if isinstance(e, ssl.SSLError):
        return f"TLS failure ({e.reason or e})"
    if isinstance(e, socket.gaierror):
        return f"cannot resolve the host name (DNS: {(e.strerror or str(e)).lower()})"
    if isinstance(e, OSError):
        if e.errno == errno.ECONNREFUSED:
            return "connection refused"
        if e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable"
        if e.errno == errno.ENOSPC:
            return "disk full"
        if e.errno in (errno.EACCES, errno.EPERM):
            return "permission denied"
        if e.strerror:
            return e.strerror.lower()
    return str(e) or e.__class__.__name__


def describe_http_error(e: httpx.HTTPError) -> str:
    """httpx exceptions → what happened, in words a user can act on."""
    cause: BaseException | None = e
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return describe_os_error(cause)
        if isinstance(cause, OSError) and cause.errno is not None:
            return describe_os_error(cause)
        cause = cause.__cause__ or cause.__context__
    text = str(e)
    low = text.lower()
    if isinstance(e, httpx.ConnectTimeout):
        return "no connection within the connect timeout"
    if isinstance(e, httpx.ReadTimeout):
        return "the server stopped sending (read timeout)"
    if isinstance(e, httpx.TimeoutException):
        return "timed out"
    if isinstance(e, httpx.ConnectError):
        if "name or service not known" in low or "nodename nor servname" in low \
                or "temporary failure in name resolution" in low or "no address associated" in low:
            return "cannot resolve the host name (DNS)"
        if "connection refused" in low:
            return "connection refused"
        if "certificate" in low or "ssl" in low or "tls" in low:
            return f"TLS failure ({text})"
        return f"cannot connect ({text or 'no detail'})"
    if isinstance(e, httpx.RemoteProtocolError):
        if "incomplete" in low or "without sending complete" in low or "peer closed" in low:
            return "the server closed the connection before the whole body arrived"
        return f"the server sent an invalid HTTP response ({text})"
    if isinstance(e, httpx.ReadError):
        return "the connection broke while reading"
    if isinstance(e, httpx.UnsupportedProtocol):
        return "refused a non-http(s) address"
    if isinstance(e, httpx.InvalidURL):
        return f"invalid URL ({text})"
    return f"{e.__class__.__name__}: {text}" if text else e.__class__.__name__

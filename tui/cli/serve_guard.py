"""The gate in front of textual-serve (``diplowatch serve``): a token, the served address, a
cap on tabs.

textual-serve (pinned) is an aiohttp app that runs the tab's command for every websocket that
connects, for anyone. :class:`GuardedServer` adds one middleware, :class:`Gate`, which answers
before any of textual-serve's handlers:

- every request needs the token: ``?token=…`` (the printed URL) or the cookie it becomes. The
  first visit with ``?token=`` gets the cookie (HttpOnly, SameSite=Strict, scoped to the path)
  and a redirect to the same URL without it, so the token leaves the address bar, the history
  and any Referer. Otherwise 403; tokens are compared in constant time;
- the Host header must name the served address (or ``--public-url``'s): a DNS-rebound name
  is refused;
- the websocket (the only request that starts a process) also needs the cookie, never the
  query, and an Origin that is the served one: another web page the user visits cannot open
  a tab, even with the user's browser;
- at most ``max_tabs`` tabs run at once: the page answers 503 when all are in use, a websocket
  past the cap is closed with a reason before any process starts.

No access log: the first request's URL holds the token.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
import os
import re
import secrets
import signal
import stat
import sys
from pathlib import Path
from typing import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

from aiohttp import WSCloseCode, web
from textual_serve.server import Server

from tui.cli.context import UserError

log = logging.getLogger("diplowatch.serve")

TOKEN_PARAM = "token"
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9._~-]{16,256}")  # fits a URL and a cookie as it is
DEFAULT_PORTS = {"http": 80, "https": 443}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# --- the token ----------------------------------------------------------------------------

def new_token() -> str:
    return secrets.token_urlsafe(32)


def read_token_file(path: Path) -> str:
    """The token in ``path``: a regular file of this user's that no one else may read."""
    where = f"--token-file {path}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise UserError(f"serve: {where}: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)  # of the file opened: no swap between the check and the read
        if not stat.S_ISREG(st.st_mode):
            raise UserError(f"serve: {where}: not a regular file")
        if st.st_uid != os.getuid():
            raise UserError(f"serve: {where}: owned by uid {st.st_uid}, not by you: refusing it")
        if st.st_mode & 0o077:
            raise UserError(f"serve: {where}: mode {stat.S_IMODE(st.st_mode):04o} lets others "
                            "read it: chmod 600 it first")
        data = os.read(fd, 4096)
    finally:
        os.close(fd)
    try:
        token = data.decode("ascii").strip()
    except UnicodeDecodeError:
        token = ""
    if not TOKEN_SHAPE.fullmatch(token):
        raise UserError(f"serve: {where}: the token must be 16 to 256 characters of A-Z a-z 0-9 "
                        "and . _ ~ - (e.g. python -c 'import secrets; "
                        "print(secrets.token_urlsafe(32))')")
    return token


# --- addresses ----------------------------------------------------------------------------

def url_host(host: str) -> str:
    """A host as it appears in a URL: IPv6 literals in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def base_url(host: str, port: int) -> str:
    return f"http://{url_host(host)}:{port}"


def _origin(url: str | None) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin or base URL; None if it is not one."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or port is None \
            or parts.username is not None or parts.password is not None:
        return None
    return parts.scheme, parts.hostname, port


def _authority(host_header: str | None) -> tuple[str, int | None] | None:
    """(host, port or None) of a Host header; None if it is not one."""
    if not host_header:
        return None
    try:
        parts = urlsplit("//" + host_header)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.path or parts.query or parts.fragment or "@" in host_header:
        return None
    return parts.hostname, port


def check_public_url(url: str) -> str:
    """``--public-url`` without a trailing slash, or UserError."""
    if _origin(url) is None or urlsplit(url).query or urlsplit(url).fragment:
        raise UserError(f"serve: --public-url {url!r}: give http(s)://HOST[:PORT][/PATH]")
    return url.rstrip("/")


# --- the gate -----------------------------------------------------------------------------

class Gate:
    """The middleware (see the module doc). ``served``: the listen address; ``public_url``:
    the base URL browsers use (the served one unless ``--public-url``)."""

    def __init__(self, token: str, *, served: tuple[str, int], public_url: str,
                 max_tabs: int) -> None:
        self.token = token.encode("ascii")
        self.max_tabs = max_tabs
        self.tabs = 0  # websockets (tab processes) running now
        self.public_url = public_url.rstrip("/")
        origins = {_origin(base_url(*served)), _origin(self.public_url)}
        self.origins = {o for o in origins if o is not None}
        self.hosts = {(host, port) for _scheme, host, port in self.origins}
        self.hosts |= {(host, None) for scheme, host, port in self.origins
                       if DEFAULT_PORTS[scheme] == port}
        public = urlsplit(self.public_url)
        self.prefix = public.path.rstrip("/")  # a reverse proxy's path, else ""
        self.secure = public.scheme == "https"
        self.cookie = f"diplowatch-token-{served[1]}"  # cookies ignore ports: one per server

    @property
    def url(self) -> str:
        """The URL to open (it holds the token)."""
        return f"{self.public_url}/?{TOKEN_PARAM}={self.token.decode()}"

    def _valid(self, given: str | None) -> bool:
        if not given:
            return False
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.token)

    def refusal(self, request: web.Request) -> str | None:
        """Why this request is refused (403), or None."""
        if _authority(request.headers.get("Host")) not in self.hosts:
            return "this server does not answer to that Host name"
        websocket = request.match_info.route.name == "websocket"
        if websocket:
            if not self._valid(request.cookies.get(self.cookie)):
                return "a tab needs the token cookie: open the URL `diplowatch serve` printed"
            if _origin(request.headers.get("Origin")) not in self.origins:
                return "a tab opens only from this server's own page (Origin)"
            return None
        query = request.query.get(TOKEN_PARAM)
        given = query if query is not None else request.cookies.get(self.cookie)
        if not self._valid(given):
            return "this dashboard needs its token: open the URL `diplowatch serve` printed"
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        reason = self.refusal(request)
        if reason is not None:
            log.warning("serve: 403 for %s %s from %s: %s", request.method, request.path,
                        request.remote, reason)
            return _page(403, reason)
        route = request.match_info.route.name
        if TOKEN_PARAM in request.query and route != "websocket":
            return self._to_cookie(request)
        if route == "websocket":
            return await self._tab(request, handler)
        if route == "index" and self.tabs >= self.max_tabs:
            return _page(503, self._full())
        return await handler(request)

    def _to_cookie(self, request: web.Request) -> web.Response:
        """The token moves from the URL to a cookie: redirect to the URL without it."""
        rest = [(k, v) for k, v in request.query.items() if k != TOKEN_PARAM]
        location = self.prefix + request.rel_url.raw_path + (f"?{urlencode(rest)}" if rest else "")
        response = web.Response(status=303, headers={"Location": location,
                                                     "Cache-Control": "no-store"})
        response.set_cookie(self.cookie, self.token.decode(), path=self.prefix + "/",
                            httponly=True, samesite="Strict", secure=self.secure)
        return response

    def _full(self) -> str:
        return (f"all {self.max_tabs} browser tabs this server allows are open "
                "(serve --max-tabs): close one and reload")

    async def _tab(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.tabs >= self.max_tabs:
            log.warning("serve: refused a tab from %s: %d tabs open", request.remote, self.tabs)
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=self._full().encode())
            return ws
        self.tabs += 1  # no await since the check: no other tab can slip in between
        try:
            return await handler(request)
        finally:
            self.tabs -= 1


def _page(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=f"diplowatch: {text}\n")


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    # Nothing may frame the dashboard, and its pages leak no URL to the sites they name.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")


# --- the server ---------------------------------------------------------------------------

class GuardedServer(Server):
    """textual-serve's Server behind a :class:`Gate`; prints the token URL once it listens."""

    def __init__(self, command: str, *, host: str, port: int, gate: Gate,
                 title: str = "diplowatch") -> None:
        super().__init__(command, host=host, port=port, title=title, public_url=gate.public_url)
        self.gate = gate

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.gate.middleware)
        app.on_response_prepare.append(_security_headers)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Quiet: the URL is printed once the socket listens."""

    def _listening(self, *_: object) -> None:
        sys.stdout.write(f"diplowatch: serving on {self.gate.public_url}; open {self.gate.url}\n")
        sys.stdout.flush()

    def serve(self, debug: bool = False) -> None:
        """textual-serve's own ``serve``, without the access log (the first URL holds the
        token) and printing the URL only once the socket listens."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_exit)
        web.run_app(self._make_app(), host=self.host, port=self.port, handle_signals=False,
                    loop=loop, access_log=None, print=self._listening)

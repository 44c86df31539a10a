"""A real HTTP server on 127.0.0.1 for tests: routes return canned responses, every request
is recorded (path and headers), and a route can be slow, drip, or be changed between polls.

Used instead of mocking httpx: the fetcher talks to a real socket.
"""
from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator
from xml.sax.saxutils import escape


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None  # answer 304 when If-None-Match equals it
    last_modified: str | None = None  # answer 304 when If-Modified-Since equals it
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between body bytes (slowloris)
    gzip: bool = False  # gzip the body (Content-Encoding: gzip)
    raw_encoding: str | None = None  # send body as is with this Content-Encoding
    content_length: int | None = None  # lie about the length
    chunks: Callable[[], Iterator[bytes]] | None = None  # chunked body from a generator


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    host: str
    client_port: int = 0  # the client's side of the connection: same port, same connection


Route = Response | Callable[[Request], Response]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        req = Request(self.path, {k.lower(): v for k, v in self.headers.items()},
                      self.server.server_address[0], self.client_address[1])
        with self.server.lock:
            self.server.requests.append(req)
            route = self.server.routes.get(self.path.split("?")[0])
        if route is None:
            resp = Response(404, b"not found", content_type="text/plain")
        else:
            resp = route(req) if callable(route) else route
        self._send(req, resp)

    def _send(self, req: Request, resp: Response) -> None:
        if resp.delay:
            time.sleep(resp.delay)
        not_modified = (
            (resp.etag is not None and req.headers.get("if-none-match") == resp.etag)
            or (resp.last_modified is not None and "if-none-match" not in req.headers
                and req.headers.get("if-modified-since") == resp.last_modified))
        status, body = (304, b"") if not_modified and resp.status == 200 else (resp.status, resp.body)
        headers = dict(resp.headers)
        if resp.etag:
            headers["ETag"] = resp.etag
        if resp.last_modified:
            headers["Last-Modified"] = resp.last_modified
        if resp.gzip and body:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        if resp.raw_encoding:
            headers["Content-Encoding"] = resp.raw_encoding
        if resp.chunks is not None:
            self._send_chunked(resp)
            return
        try:
            self.send_response(status)
            self.send_header("Content-Type", resp.content_type)
            length = resp.content_length if resp.content_length is not None else len(body)
            self.send_header("Content-Length", str(length))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            if resp.drip:
                for i in range(len(body)):
                    if self.server.stopping.is_set():
                        return
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(resp.drip)
            else:
                self.wfile.write(body)
            if resp.content_length is not None and resp.content_length != len(body):
                self.close_connection = True
        except OSError:
            pass


    def _send_chunked(self, resp: Response) -> None:
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Transfer-Encoding", "chunked")
            for k, v in resp.headers.items():
                self.send_header(k, v)
            self.end_headers()
            for chunk in resp.chunks():
                if self.server.stopping.is_set():
                    return
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), _Handler)
        self.lock = threading.Lock()
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.stopping = threading.Event()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up (deadline tests, TLS probes) are expected here


class FeedServer:
    """``with FeedServer() as srv: srv.route("/a.xml", Response(body=...)); srv.url("/a.xml")``"""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._server = _Server(host)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> "FeedServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def host(self) -> str:
        return self._server.server_address[0]

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def route(self, path: str, response: Route) -> None:
        with self._server.lock:
            self._server.routes[path] = response

    def requests(self, path: str | None = None) -> list[Request]:
        with self._server.lock:
            return [r for r in self._server.requests if path is None or r.path == path]

    def clear(self) -> None:
        with self._server.lock:
            self._server.requests.clear()


# --- documents -------------------------------------------------------------------------

def rfc822(ts: float) -> str:
    """Epoch seconds as an RSS pubDate (RFC 822, GMT)."""
    return format_datetime(datetime.fromtimestamp(ts, timezone.utc), usegmt=True)


def rss_item(title: str, *, guid: str | None = None, link: str | None = None,
             summary: str = "", pub: str | None = "Tue, 05 Apr 2022 06:25:00 GMT",
             raw_title: bool = False) -> str:
    parts = [f"<title>{title if raw_title else escape(title)}</title>"]
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{escape(guid)}</guid>')
    if link is not None:
        parts.append(f"<link>{escape(link)}</link>")
    if summary:
        parts.append(f"<description>{escape(summary)}</description>")
    if pub is not None:
        parts.append(f"<pubDate>{pub}</pubDate>")
    return "<item>" + "".join(parts) + "</item>"


def rss(items: list[str], title: str = "Test feed", extra: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example.invalid/</link>"
        f"<description>test</description>{extra}{''.join(items)}</channel></rss>"
    ).encode()

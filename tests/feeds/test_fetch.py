"""The fetcher against a real loopback server: validators, caps, redirects, statuses, deadlines."""
from __future__ import annotations

import gzip
import socket
import time
import zlib
from dataclasses import replace

import pytest

from feeds.config.load import PollingSettings
from feeds.net.fetch import Fetcher, FetchOutcome, default_user_agent, parse_retry_after
from tests.feedserver import FeedServer, Response, rss, rss_item

SETTINGS = PollingSettings(timeout=5.0, connect_timeout=2.0, max_body=256 * 1024, max_redirects=5)
DOC = rss([rss_item("Peace talks resume", guid="g1")])


async def fetch(url: str, settings: PollingSettings = SETTINGS, **kw):
    async with Fetcher(settings, **kw) as f:
        return await f.fetch(url)


async def test_ok_sends_user_agent_and_returns_body(feed_server: FeedServer) -> None:
    feed_server.route("/a.xml", Response(body=DOC, etag='"v1"', last_modified="Tue, 05 Apr 2022 06:25:00 GMT"))
    r = await fetch(feed_server.url("/a.xml"))
    assert (r.outcome, r.http_status, r.body) == (FetchOutcome.OK, 200, DOC)
    assert r.etag == '"v1"' and r.last_modified == "Tue, 05 Apr 2022 06:25:00 GMT"
    (req,) = feed_server.requests("/a.xml")
    assert req.headers["user-agent"] == default_user_agent()
    assert req.headers["user-agent"].startswith("diplowatch/")
    assert "if-none-match" not in req.headers


async def test_validators_sent_verbatim_and_304(feed_server: FeedServer) -> None:
    feed_server.route("/a.xml", Response(body=DOC, etag='W/"v1"', last_modified="Tue, 05 Apr 2022 06:25:00 GMT"))
    async with Fetcher(SETTINGS) as f:
        r = await f.fetch(feed_server.url("/a.xml"), etag='W/"v1"', last_modified="Tue, 05 Apr 2022 06:25:00 GMT")
    assert (r.outcome, r.http_status, r.body) == (FetchOutcome.NOT_MODIFIED, 304, None)
    assert r.etag == 'W/"v1"'  # fresh validators are taken from the 304 too
    (req,) = feed_server.requests("/a.xml")
    assert req.headers["if-none-match"] == 'W/"v1"'
    assert req.headers["if-modified-since"] == "Tue, 05 Apr 2022 06:25:00 GMT"


async def test_gzip_is_decoded(feed_server: FeedServer) -> None:
    feed_server.route("/gz", Response(body=DOC, gzip=True))
    r = await fetch(feed_server.url("/gz"))
    assert r.outcome == FetchOutcome.OK and r.body == DOC
    assert "gzip" in feed_server.requests("/gz")[0].headers["accept-encoding"]


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
async def test_deflate_with_and_without_header(feed_server: FeedServer, wbits: int) -> None:
    c = zlib.compressobj(6, zlib.DEFLATED, wbits)
    feed_server.route("/d", Response(body=c.compress(DOC) + c.flush(), raw_encoding="deflate"))
    r = await fetch(feed_server.url("/d"))
    assert r.outcome == FetchOutcome.OK and r.body == DOC


async def test_body_labelled_gzip_but_plain_is_taken_as_is(feed_server: FeedServer) -> None:
    feed_server.route("/p", Response(body=DOC, raw_encoding="gzip"))
    r = await fetch(feed_server.url("/p"))
    assert r.outcome == FetchOutcome.OK and r.body == DOC


async def test_truncated_gzip_is_an_error(feed_server: FeedServer) -> None:
    data = gzip.compress(DOC * 50)
    feed_server.route("/t", Response(body=data[: len(data) // 2], raw_encoding="gzip"))
    r = await fetch(feed_server.url("/t"))
    assert r.outcome == FetchOutcome.ERROR and "truncated" in r.error


async def test_decoded_size_cap_stops_a_gzip_bomb(feed_server: FeedServer) -> None:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = comp.compress(b"<rss>" + b" " * (64 << 20)) + comp.flush()  # 64 MiB of spaces, ~64 KiB
    feed_server.route("/bomb", Response(body=bomb, raw_encoding="gzip"))
    r = await fetch(feed_server.url("/bomb"))
    assert r.outcome == FetchOutcome.ERROR and r.body is None
    assert "larger than 256 KiB once decompressed" in r.error


async def test_raw_size_cap(feed_server: FeedServer) -> None:
    feed_server.route("/big", Response(body=b"x" * (SETTINGS.max_body + 10)))
    r = await fetch(feed_server.url("/big"))
    assert r.outcome == FetchOutcome.ERROR and "larger than 256 KiB" in r.error


@pytest.mark.parametrize("encoding,words", [("gzip, gzip", "stacked"), ("br", "unsupported"),
                                            ("compress", "unsupported")])
async def test_refused_encodings(feed_server: FeedServer, encoding: str, words: str) -> None:
    feed_server.route("/e", Response(body=gzip.compress(gzip.compress(DOC)), raw_encoding=encoding))
    r = await fetch(feed_server.url("/e"))
    assert r.outcome == FetchOutcome.ERROR and words in r.error


async def test_redirect_loop_ends_with_an_error(feed_server: FeedServer) -> None:
    feed_server.route("/loop", Response(302, headers={"Location": "/loop"}))
    r = await fetch(feed_server.url("/loop"))
    assert r.outcome == FetchOutcome.ERROR and "too many redirects (more than 5)" in r.error
    assert len(feed_server.requests("/loop")) == 6


async def test_redirect_chain_within_limit_and_relative_location(feed_server: FeedServer) -> None:
    for i in range(5):
        feed_server.route(f"/r{i}", Response(307, headers={"Location": f"r{i + 1}"}))
    feed_server.route("/r5", Response(body=DOC))
    r = await fetch(feed_server.url("/r0"))
    assert r.outcome == FetchOutcome.OK and r.final_url == feed_server.url("/r5")
    assert r.permanent_redirect is None  # temporary hops never move a feed


async def test_permanent_redirect_is_reported_up_to_the_first_temporary_hop(feed_server: FeedServer) -> None:
    feed_server.route("/old", Response(301, headers={"Location": "/new"}))
    feed_server.route("/new", Response(308, headers={"Location": "/newer"}))
    feed_server.route("/newer", Response(302, headers={"Location": "/tmp"}))
    feed_server.route("/tmp", Response(body=DOC))
    r = await fetch(feed_server.url("/old"))
    assert r.outcome == FetchOutcome.OK and r.permanent_redirect == feed_server.url("/newer")


async def test_redirect_without_location(feed_server: FeedServer) -> None:
    feed_server.route("/x", Response(302))
    r = await fetch(feed_server.url("/x"))
    assert r.outcome == FetchOutcome.ERROR and "without a Location header" in r.error


@pytest.mark.parametrize("target,words", [
    ("file:///etc/passwd", "refused a redirect to a non-http(s) address"),
    ("ftp://127.0.0.1/feed", "refused a redirect to a non-http(s) address"),
    ("javascript:alert(1)", "refused a redirect to a non-http(s) address"),
    ("http://[::1/feed", "invalid address"),  # urljoin itself refuses it
    ("http://bad\x7f.example/", "invalid address"),  # httpx refuses it
])
async def test_redirect_to_another_scheme_is_refused(feed_server: FeedServer, target: str, words: str) -> None:
    feed_server.route("/x", Response(301, headers={"Location": target}))
    r = await fetch(feed_server.url("/x"))
    assert r.outcome == FetchOutcome.ERROR and words in r.error
    assert len(feed_server.requests()) == 1


async def test_redirect_from_public_to_internal_is_refused() -> None:
    """127.0.0.1 plays a public host and 127.0.0.2 an internal one (injected classifier)."""
    with FeedServer("127.0.0.1") as public, FeedServer("127.0.0.2") as internal:
        internal.route("/secret", Response(body=DOC))
        public.route("/feed", Response(302, headers={"Location": internal.url("/secret")}))

        async def is_internal(host: str) -> bool:
            return host == "127.0.0.2"

        r = await fetch(public.url("/feed"), is_internal=is_internal)
        assert r.outcome == FetchOutcome.ERROR and "refused a redirect to an internal address (127.0.0.2" in r.error
        assert internal.requests() == []
        # A feed the user configured on an internal address may redirect within it.
        internal.route("/a", Response(302, headers={"Location": "/secret"}))
        r = await fetch(internal.url("/a"), is_internal=is_internal)
        assert r.outcome == FetchOutcome.OK


async def test_gone(feed_server: FeedServer) -> None:
    feed_server.route("/g", Response(410, body=b"gone", content_type="text/plain"))
    r = await fetch(feed_server.url("/g"))
    assert r.outcome == FetchOutcome.GONE and "410" in r.error


@pytest.mark.parametrize("status", [429, 503])
async def test_rate_limited_with_retry_after_seconds(feed_server: FeedServer, status: int) -> None:
    feed_server.route("/rl", Response(status, headers={"Retry-After": "120"}, body=b"slow down"))
    now = time.time()
    r = await fetch(feed_server.url("/rl"), clock=lambda: now)
    assert r.outcome == FetchOutcome.RATE_LIMITED and r.retry_after == pytest.approx(now + 120)


def test_retry_after_parsing() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("Tue, 14 Nov 2023 22:23:20 GMT", now) == pytest.approx(600)
    assert parse_retry_after(None, now) == 3600  # at least an hour without one
    assert parse_retry_after("soon", now) == 3600
    assert parse_retry_after("99999999", now) == 86400  # a hostile value is capped


async def test_http_errors_are_described(feed_server: FeedServer) -> None:
    feed_server.route("/e", Response(500, body=b"<html>oops</html>", content_type="text/html"))
    r = await fetch(feed_server.url("/e"))
    assert r.outcome == FetchOutcome.ERROR and r.error == "HTTP 500 Internal Server Error" and r.http_status == 500


async def test_dripping_body_hits_the_total_deadline(feed_server: FeedServer) -> None:
    feed_server.route("/drip", Response(body=DOC, drip=0.2))
    settings = replace(SETTINGS, timeout=1.0)
    started = time.monotonic()
    r = await fetch(feed_server.url("/drip"), settings)
    assert r.outcome == FetchOutcome.ERROR and "total deadline" in r.error
    assert time.monotonic() - started < 3.0  # 1 s deadline, not the ~60 s the drip would take


async def test_connection_refused() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    r = await fetch(f"http://127.0.0.1:{port}/feed")
    assert r.outcome == FetchOutcome.ERROR and r.error == "connection refused"


async def test_unresolvable_host() -> None:
    r = await fetch("http://no-such-host.invalid/feed")
    assert r.outcome == FetchOutcome.ERROR
    assert "cannot resolve the host name" in r.error


async def test_content_length_longer_than_body(feed_server: FeedServer) -> None:
    feed_server.route("/short", Response(body=DOC, content_length=len(DOC) + 500))
    r = await fetch(feed_server.url("/short"))
    assert r.outcome == FetchOutcome.ERROR and r.body is None
    assert "before the whole body arrived" in r.error


async def test_tls_failure() -> None:
    """An https URL to a plain-HTTP loopback server: the TLS handshake fails."""
    with FeedServer() as srv:
        srv.route("/a", Response(body=DOC))
        r = await fetch(f"https://127.0.0.1:{srv.port}/a")
    assert r.outcome == FetchOutcome.ERROR and ("TLS" in r.error or "SSL" in r.error.upper()), r.error

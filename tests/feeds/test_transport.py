"""feeds.net.fetch.PerHostTransport: one llhttp pool per origin, environment proxies, real sockets."""
from __future__ import annotations

import pytest

from feeds.config.load import PollingSettings
from feeds.net.fetch import Fetcher, FetchOutcome, PerHostTransport
from feeds.net.h1 import H1Transport
from feeds.net.httpx_adapter import httpx
from tests.feedserver import FeedServer, Response, rss, rss_item

SETTINGS = PollingSettings(timeout=5.0, connect_timeout=2.0)


def doc(n: int) -> bytes:
    return rss([rss_item(f"Ceasefire talks, round {n}", guid=f"g{n}", link=f"http://news.example/{n}")])


async def test_transport_keeps_one_llhttp_connection_per_host_alive(feed_server: FeedServer) -> None:
    feed_server.route("/a.xml", Response(body=doc(6)))
    async with Fetcher(SETTINGS, transport=PerHostTransport()) as f:
        for _ in range(3):
            assert (await f.fetch(feed_server.url("/a.xml"))).outcome == FetchOutcome.OK
        (pool,) = f._transport._pools.values()
        assert isinstance(pool, H1Transport) and len(pool._idle) == 1
    assert len({q.client_port for q in feed_server.requests()}) == 1  # one connection, reused


async def test_environment_proxies_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    """http_proxy / no_proxy as httpx.AsyncClient reads them; loopback never proxied."""
    with FeedServer("127.0.0.1") as proxy:
        # A proxy gets the absolute URL as the request target; the test server answers any
        # path it was given a route for.
        proxy.route("http://feeds.example/a.xml", Response(body=doc(7)))
        monkeypatch.setenv("http_proxy", proxy.url("").rstrip("/"))
        monkeypatch.setenv("no_proxy", "skipped.example")
        transport = PerHostTransport()
        assert transport.proxy_for(httpx.URL("http://feeds.example/a.xml")) == proxy.url("").rstrip("/")
        assert transport.proxy_for(httpx.URL("http://skipped.example/a.xml")) is None
        assert transport.proxy_for(httpx.URL("http://127.0.0.1:8080/a.xml")) is None
        assert transport.proxy_for(httpx.URL("https://feeds.example/a.xml")) is None  # no https_proxy
        async with Fetcher(SETTINGS, transport=transport) as f:
            r = await f.fetch("http://feeds.example/a.xml")
        assert (r.outcome, r.body) == (FetchOutcome.OK, doc(7))
        assert [q.path for q in proxy.requests()] == ["http://feeds.example/a.xml"]

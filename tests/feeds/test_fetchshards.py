"""Fetching in child processes (feeds.fetchshards): same results as in-process, real sockets."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from feeds.config import ConfigError, PollingSettings, load_config
from feeds.fetch import ERROR, NOT_MODIFIED, OK, Fetcher, PerHostTransport
from feeds.fetchshards import FetchShards, auto_processes
from feeds.model import STATUS_NOT_MODIFIED, STATUS_OK
from feeds.netstream import AsyncioBackend
from feeds.parsepool import ParsePool
from feeds.poller import Poller
from storage.store import Store
from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.helpers import Clock

SETTINGS = PollingSettings(timeout=5.0, connect_timeout=2.0)


def doc(n: int) -> bytes:
    return rss([rss_item(f"Ceasefire talks, round {n}", guid=f"g{n}", link=f"http://news.example/{n}")])


@pytest.fixture
def shards():
    s = FetchShards(SETTINGS, 2)
    yield s
    s.close()


async def test_shards_fetch_like_the_in_process_fetcher(shards: FetchShards, feed_server: FeedServer) -> None:
    feed_server.route("/a.xml", Response(body=doc(1), etag='"v1"', gzip=True))
    url = feed_server.url("/a.xml")
    async with Fetcher(SETTINGS) as local:
        here = await local.fetch(url)
    there = await shards.fetch(url)
    assert (there.outcome, there.http_status, there.body, there.etag) == (OK, 200, doc(1), '"v1"')
    assert (here.outcome, here.body, here.etag, here.content_type) == \
        (there.outcome, there.body, there.etag, there.content_type)
    again = await shards.fetch(url, etag='"v1"')
    assert again.outcome == NOT_MODIFIED
    assert feed_server.requests("/a.xml")[-1].headers["if-none-match"] == '"v1"'
    assert len(shards.pids()) == 1  # one host: one worker started, on first use


async def test_a_host_always_goes_to_the_same_worker(shards: FetchShards) -> None:
    a = shards.index_for("http://one.example/a.xml")
    assert all(shards.index_for(f"http://one.example/{k}.xml") == a for k in range(20))
    assert {shards.index_for(f"http://h{k}.example/") for k in range(40)} == {0, 1}


async def test_a_dead_worker_fails_its_requests_in_words_and_is_replaced(
        shards: FetchShards, feed_server: FeedServer) -> None:
    feed_server.route("/slow", Response(body=doc(2), delay=2.0))
    feed_server.route("/fast", Response(body=doc(3)))
    pending = asyncio.ensure_future(shards.fetch(feed_server.url("/slow")))
    for _ in range(200):  # until the request has reached the server
        if feed_server.requests("/slow"):
            break
        await asyncio.sleep(0.01)
    (pid,) = shards.pids()
    os.kill(pid, signal.SIGKILL)
    r = await asyncio.wait_for(pending, 5)
    assert r.outcome == ERROR and "fetch process stopped unexpectedly" in r.error
    r = await shards.fetch(feed_server.url("/fast"))  # a fresh worker takes over
    assert r.outcome == OK and r.body == doc(3)
    assert shards.pids() and shards.pids() != [pid]


async def test_shards_serve_any_event_loop(shards: FetchShards, feed_server: FeedServer) -> None:
    """The dashboard runs each cycle in asyncio.run on a worker thread: a new loop each time."""
    feed_server.route("/a.xml", Response(body=doc(4)))

    def cycle() -> str:
        return asyncio.run(shards.fetch(feed_server.url("/a.xml"))).outcome

    assert [await asyncio.to_thread(cycle) for _ in range(3)] == [OK, OK, OK]


async def test_poll_cycle_through_fetch_processes(tmp_path: Path, write_config,
                                                  parse_pool: ParsePool) -> None:
    """Three hosts over two workers (127.0.0.4 hashes to the second)."""
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(FeedServer(f"127.0.0.{h}")) for h in (1, 2, 4)]
        feeds = []
        for h, server in enumerate(servers):
            for k in range(2):
                server.route(f"/f{k}.xml", Response(body=doc(10 * h + k), etag=f'"e{h}{k}"'))
                feeds.append((f"F{h}{k}", server.url(f"/f{k}.xml")))
        config = load_config(write_config(feeds))
        config = replace(config, polling=replace(config.polling, fetch_processes=2))
        clock = Clock(1_780_000_000.0)
        store = stack.enter_context(Store.open(tmp_path / "store", clock=clock))
        poller = Poller(config, store, clock=clock, parse_pool=parse_pool)
        poller.shard_min_feeds = 1
        try:
            first = await poller.poll_cycle()
            assert {poller._shards.index_for(url) for _, url in feeds} == {0, 1}
            assert len(poller._shards.pids()) == 2
            assert sorted(o.status for o in first.outcomes) == [STATUS_OK] * 6
            assert len(first.new_items) == 6
            second = await poller.poll_cycle(force=True)
            assert [o.status for o in second.outcomes] == [STATUS_NOT_MODIFIED] * 6
            for h, server in enumerate(servers):
                for k in range(2):
                    assert server.requests(f"/f{k}.xml")[-1].headers.get("if-none-match") == f'"e{h}{k}"'
        finally:
            poller.close()
        assert not poller._shards.pids()  # closed with the poller


async def test_an_injected_transport_keeps_fetching_in_process(tmp_path: Path, write_config,
                                                               feed_server: FeedServer,
                                                               parse_pool: ParsePool) -> None:
    feed_server.route("/a.xml", Response(body=doc(5)))
    config = load_config(write_config([("A", feed_server.url("/a.xml"))]))
    config = replace(config, polling=replace(config.polling, fetch_processes=2))
    with Store.open(tmp_path / "store") as store:
        poller = Poller(config, store, parse_pool=parse_pool, transport=PerHostTransport())
        poller.shard_min_feeds = 1
        try:
            report = await poller.poll_cycle()
        finally:
            poller.close()
    assert report.outcomes[0].status == STATUS_OK and poller._shards is None


def test_auto_processes() -> None:
    assert auto_processes(0) == 0 and auto_processes(3) == 3
    cores = os.cpu_count() or 1
    assert auto_processes(-1) == (0 if cores < 2 else min(cores // 2, 4))
    assert auto_processes(-1, resident=False) == 0 and auto_processes(2, resident=False) == 2


@pytest.mark.parametrize("value,ok", [('"auto"', -1), ("0", 0), ("2", 2), ("17", None), ('"two"', None),
                                      ("true", None)])
def test_fetch_processes_setting(write_config, value: str, ok: int | None) -> None:
    path = write_config(polling=f"fetch_processes = {value}")
    if ok is None:
        with pytest.raises(ConfigError, match="fetch_processes"):
            load_config(path)
    else:
        assert load_config(path).polling.fetch_processes == ok


async def test_transport_pools_use_the_asyncio_backend(feed_server: FeedServer) -> None:
    """PerHostTransport swaps httpx's pool backend through a private attribute: pinned here."""
    feed_server.route("/a.xml", Response(body=doc(6)))
    async with Fetcher(SETTINGS, transport=PerHostTransport()) as f:
        assert (await f.fetch(feed_server.url("/a.xml"))).outcome == OK
        (pool,) = f._transport._pools.values()
        assert isinstance(pool._pool._network_backend, AsyncioBackend)
        (conn,) = pool._pool.connections  # kept alive, through our backend
        assert conn.is_idle()
    assert httpx.__version__ == "0.28.1"


async def test_connection_refused_is_named(unused_tcp_port: int) -> None:
    async with Fetcher(SETTINGS) as f:
        r = await f.fetch(f"http://127.0.0.1:{unused_tcp_port}/feed")
    assert r.outcome == ERROR and r.error == "connection refused"


def test_warm_up_can_wait_until_every_worker_is_ready(tmp_path: Path, write_config) -> None:
    """The daemon's first cycle waits for its workers' imports instead of racing them."""
    config = load_config(write_config([("A", "http://127.0.0.1:9/a.xml")]))
    config = replace(config, polling=replace(config.polling, fetch_processes=2, parse_workers=2))
    with Store.open(tmp_path / "store") as store:
        poller = Poller(config, store)
        try:
            poller.warm_up(wait=30)
            assert len(poller._shards.pids()) == 2
            assert all(s.ready.is_set() for s in poller._shards._shards)
            workers = list(poller.pool._all)
            assert len(workers) == 2 and all(w.ready for w in workers)
        finally:
            poller.close()


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
        assert (r.outcome, r.body) == (OK, doc(7))
        assert [q.path for q in proxy.requests()] == ["http://feeds.example/a.xml"]


async def test_fetch_processes_that_do_not_start_leave_the_cycle_in_process(
        tmp_path: Path, write_config, feed_server: FeedServer, parse_pool: ParsePool,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A broken install (the worker module will not run): every feed is still fetched, by
    the poller's own process, and it stops trying to start workers."""
    monkeypatch.setattr(FetchShards, "worker_module", "feeds.no_such_worker")
    # (the CLI tests leave the app's logger unpropagated: caplog listens at the root)
    monkeypatch.setattr(logging.getLogger("diplowatch"), "propagate", True)
    for k in range(4):
        feed_server.route(f"/f{k}.xml", Response(body=doc(20 + k)))
    config = load_config(write_config([(f"F{k}", feed_server.url(f"/f{k}.xml")) for k in range(4)]))
    config = replace(config, polling=replace(config.polling, fetch_processes=1))
    with Store.open(tmp_path / "store") as store:
        poller = Poller(config, store, parse_pool=parse_pool)
        poller.shard_min_feeds = 1
        try:
            first = await poller.poll_cycle()
            assert sorted(o.status for o in first.outcomes) == [STATUS_OK] * 4
            second = await poller.poll_cycle(force=True)
            assert [o.status for o in second.outcomes] == [STATUS_NOT_MODIFIED] * 4  # unchanged body
            assert poller._shards.broken and poller._fetch_processes() is None
            assert "fetch processes do not start" in caplog.text
        finally:
            poller.close()

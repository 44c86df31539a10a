"""The address policy: every IANA special-purpose range is internal, and the check runs on the
address a connection actually reached, on every hop of every poll (real servers on 127.0.0.x,
real sockets; `localhost` is the name that resolves to loopback)."""
from __future__ import annotations

import ipaddress
from dataclasses import replace
from pathlib import Path

import pytest

from feeds.config.load import ConfigError, PollingSettings, load_config
from feeds.model import FeedStatus
from feeds.net.fetch import Fetcher, FetchOutcome, PerHostTransport
from feeds.net.policy import host_is_internal, internal_reason, is_internal_ip
from feeds.poll.poller import REDIRECT_CONFIRMATIONS, Poller
from storage.store import Store
from tests.feedserver import FeedServer, Response, rss, rss_item

SETTINGS = PollingSettings(timeout=5.0, connect_timeout=2.0, max_redirects=5)
DOC = rss([rss_item("Peace talks resume", guid="g1")])

INTERNAL = [
    "0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.255.0.9",
    "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.0.0.1", "192.0.0.8", "192.0.0.170",
    "192.0.2.1", "192.31.196.1", "192.52.193.1", "192.88.99.1", "192.168.1.1", "192.175.48.1",
    "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250",
    "240.0.0.1", "255.255.255.255",
    "::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1", "64:ff9b:1:7f00:1::",
    "2002:7f00:1::", "2002:a00:1::1", "2002:c0a8:101::", "2002:a9fe:a9fe::1",
    "100::1", "100:0:0:1::1", "2001::1", "2001:2::1", "2001:db8::1", "2001:20::1",
    "2620:4f:8000::1", "3fff::1", "5f00::1", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1",
    "feff::1", "ff02::1",
]
PUBLIC = [
    "1.1.1.1", "8.8.8.8", "93.184.216.34", "100.63.255.255", "100.128.0.0", "192.0.1.1",
    "198.20.0.1", "2606:4700::1111", "2a00:1450::1", "::ffff:8.8.8.8", "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize("address", INTERNAL)
def test_special_purpose_addresses_are_internal(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert is_internal_ip(ip), address
    assert internal_reason(ip)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_not(address: str) -> None:
    assert not is_internal_ip(ipaddress.ip_address(address)), internal_reason(ipaddress.ip_address(address))


async def _names_look_public(host: str) -> bool:
    """A resolver that says every *name* is public, as a check made before the connection
    (or a rebinding DNS answer) would: only the address connected to can be trusted."""
    try:
        return is_internal_ip(ipaddress.ip_address(host))
    except ValueError:
        return False


async def _fetch(url: str, **kw) -> object:
    allow = kw.pop("allow_internal", None)
    async with Fetcher(SETTINGS, **kw) as f:
        return await f.fetch(url, allow_internal=allow)


async def test_a_name_resolving_to_loopback_is_refused_at_connect_time(feed_server: FeedServer) -> None:
    feed_server.route("/feed", Response(body=DOC))
    url = f"http://localhost:{feed_server.port}/feed"
    r = await _fetch(url, allow_internal=False, is_internal=_names_look_public)
    assert r.outcome == FetchOutcome.ERROR
    assert "refused to connect to an internal address" in r.error and "loopback" in r.error
    assert feed_server.requests() == []
    # The same fetch when the feed allows internal addresses.
    r = await _fetch(url, allow_internal=True, is_internal=_names_look_public)
    assert r.outcome == FetchOutcome.OK


async def test_a_redirect_to_a_name_resolving_to_loopback_is_refused() -> None:
    """127.0.0.2 plays a public host; its redirect names `localhost`, which a check of the
    name calls public and which connects to loopback (127.0.0.1)."""
    with FeedServer("127.0.0.2") as public, FeedServer("127.0.0.1") as target:
        target.route("/secret", Response(body=DOC))
        public.route("/feed", Response(302, headers={
            "Location": f"http://localhost:{target.port}/secret"}))

        async def classifier(host: str) -> bool:
            return host != "127.0.0.2" and await _names_look_public(host)

        r = await _fetch(public.url("/feed"), is_internal=classifier)
        assert r.outcome == FetchOutcome.ERROR and "refused a redirect to an internal address" in r.error
        assert "127.0.0.1, loopback" in r.error
        assert target.requests() == []


async def test_a_reused_connection_is_checked_for_each_feed(feed_server: FeedServer) -> None:
    """A kept-alive connection opened for a feed that may reach loopback is not reused by
    one that may not."""
    feed_server.route("/feed", Response(body=DOC))
    async with Fetcher(SETTINGS, transport=PerHostTransport()) as f:
        assert (await f.fetch(feed_server.url("/feed"), allow_internal=True)).outcome == FetchOutcome.OK
        r = await f.fetch(feed_server.url("/feed"), allow_internal=False)
    assert r.outcome == FetchOutcome.ERROR and "internal address (127.0.0.1" in r.error
    assert len(feed_server.requests()) == 1


async def test_a_proxied_request_to_an_internal_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with FeedServer("127.0.0.1") as proxy:
        proxy.route("http://10.1.2.3/a.xml", Response(body=DOC))
        monkeypatch.setenv("http_proxy", proxy.url("").rstrip("/"))
        r = await _fetch("http://10.1.2.3/a.xml", allow_internal=False, transport=PerHostTransport())
        assert r.outcome == FetchOutcome.ERROR and "10.1.2.3, private" in r.error
        assert proxy.requests() == []


def _poller(tmp_path: Path, write_config, url: str, classifier, parse_pool, extra: str = "",
            feed_extra: str = "") -> tuple[Poller, Store]:
    path = write_config(extra=extra)
    path.write_text(path.read_text() + f'\n[[feeds]]\nname = "A"\nurl = "{url}"\n{feed_extra}\n')
    config = load_config(path)
    config = replace(config, polling=replace(config.polling, jitter=0.0))
    store = Store.open(tmp_path / "store")
    return Poller(config, store, is_internal=classifier, parse_pool=parse_pool), store


async def test_an_adopted_permanent_redirect_is_checked_on_every_poll(tmp_path: Path, write_config,
                                                                      parse_pool) -> None:
    """The feed moves (301) from 127.0.0.1 to 127.0.0.2, both public at first; once the new
    URL is adopted, its host turns internal (DNS rebinding): the next poll is refused."""
    internal: set[str] = set()

    async def classifier(host: str) -> bool:
        return host in internal or host == "localhost"

    with FeedServer("127.0.0.1") as old, FeedServer("127.0.0.2") as new:
        new.route("/feed", Response(body=DOC))
        old.route("/feed", Response(301, headers={"Location": new.url("/feed")}))
        poller, store = _poller(tmp_path, write_config, old.url("/feed"), classifier, parse_pool)
        with store:
            for _ in range(REDIRECT_CONFIRMATIONS):
                assert not (await poller.poll_cycle(force=True)).failed
            assert store.feed_state(old.url("/feed")).url == new.url("/feed")
            served = len(new.requests())
            internal.add("127.0.0.2")
            report = await poller.poll_cycle(force=True)
            assert report.outcomes[0].status == FeedStatus.ERROR
            assert "internal address (127.0.0.2" in report.outcomes[0].error
            assert len(new.requests()) == served


@pytest.mark.parametrize("extra,feed_extra", [("", "allow_internal = true"),
                                              ("allow_internal = true", "")],
                         ids=["feed", "polling"])
async def test_allow_internal_in_the_config_lets_a_name_reach_loopback(
        tmp_path: Path, write_config, feed_server: FeedServer, parse_pool, extra: str,
        feed_extra: str) -> None:
    feed_server.route("/feed", Response(body=DOC))
    url = f"http://localhost:{feed_server.port}/feed"
    polling = 'min_interval = "1s"\nparse_workers = 1\n' + extra
    path = write_config(polling=polling)
    path.write_text(path.read_text() + f'\n[[feeds]]\nname = "A"\nurl = "{url}"\n{feed_extra}\n')
    config = load_config(path)
    with Store.open(tmp_path / "store") as store:
        poller = Poller(config, store, is_internal=_names_look_public, parse_pool=parse_pool)
        report = await poller.poll_cycle()
        assert report.outcomes[0].status == FeedStatus.OK, report.outcomes[0].error


async def test_without_allow_internal_the_name_is_refused(tmp_path: Path, write_config,
                                                          feed_server: FeedServer, parse_pool) -> None:
    feed_server.route("/feed", Response(body=DOC))
    poller, store = _poller(tmp_path, write_config, f"http://localhost:{feed_server.port}/feed",
                            _names_look_public, parse_pool)
    with store:
        report = await poller.poll_cycle()
    assert report.outcomes[0].status == FeedStatus.ERROR and "loopback" in report.outcomes[0].error
    assert feed_server.requests() == []


async def test_a_feed_configured_on_a_loopback_address_still_polls(tmp_path: Path, write_config,
                                                                   feed_server: FeedServer, parse_pool) -> None:
    """How local feeds are allowed, unchanged: the configured URL names the address itself."""
    feed_server.route("/feed", Response(body=DOC))
    for url in (feed_server.url("/feed"), f"http://localhost:{feed_server.port}/feed"):
        poller, store = _poller(tmp_path, write_config, url, host_is_internal, parse_pool)
        with store:
            report = await poller.poll_cycle(force=True)
        assert report.outcomes[0].status == FeedStatus.OK, (url, report.outcomes[0].error)


def test_allow_internal_must_be_a_boolean(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[feeds]]\nname = "A"\nurl = "http://nas.lan/rss"\nallow_internal = "yes"\n')
    with pytest.raises(ConfigError, match=r"feeds\[0\]\.allow_internal: expected true or false"):
        load_config(path)
    path.write_text('[[feeds]]\nname = "A"\nurl = "http://nas.lan/rss"\nallow_internal = true\n')
    assert load_config(path).feeds[0].allow_internal

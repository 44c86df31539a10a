"""Hostile and broken feeds through the real pipeline (reliability.md §7 checklist).

Each test names the checklist item(s) it covers. The feeds are served by the loopback server;
parsing runs in the real worker processes; the store writes real files in tmp_path.
"""
from __future__ import annotations

import builtins
import json
import socket
import subprocess
import sys
import textwrap
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from feeds.config.load import PollingSettings, load_config
from feeds.net.fetch import Fetcher
from feeds.model import FeedStatus
from feeds.parse.pool import ParseJob, ParsePool, run_job
from feeds.poll.poller import Poller
from feeds.text import strip_controls
from storage.store import Store
from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.helpers import Clock

REPO = Path(__file__).resolve().parents[2]
T0 = 1_780_000_000.0


@pytest.fixture
def pipeline(tmp_path: Path, write_config, feed_server: FeedServer, parse_pool: ParsePool):
    """poll({name: path or URL}, on_feed=…, **polling) → (report, store): one forced cycle."""
    store = Store.open(tmp_path / "store", clock=Clock(T0))
    clock = Clock(T0)

    async def poll(feeds: dict[str, str], on_feed=None, **polling):
        urls = [(n, p if p.startswith("http") else feed_server.url(p)) for n, p in feeds.items()]
        config = load_config(write_config(urls))
        if polling:
            config = replace(config, polling=replace(config.polling, **polling))
        poller = Poller(config, store, clock=clock, parse_pool=parse_pool)
        return await poller.poll_cycle(force=True, on_feed=on_feed), store

    yield poll
    store.close()


def _job(body: bytes) -> ParseJob:
    return ParseJob(body=body, feed_key="k", feed_name="n", url="http://127.0.0.1/feed",
                    content_type=None, now=T0, max_items=1000)


# 2 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [b"/etc/hostname", b"/dev/zero", b"/dev/stdin", b"file:///etc/passwd"])
def test_body_that_is_a_local_path_is_data_never_opened(body: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    real_open = builtins.open

    def spy(file, *a, **kw):
        opened.append(str(file))
        return real_open(file, *a, **kw)

    monkeypatch.setattr(builtins, "open", spy)
    result = run_job(_job(body))
    assert not result.ok and "not a feed" in result.error
    assert not any(str(body.decode()) in o for o in opened)


# 7, 10 -----------------------------------------------------------------------------------
_RSS_PROBE = textwrap.dedent("""
    import asyncio, json, resource, sys
    from feeds.config.load import PollingSettings
    from feeds.net.fetch import Fetcher
    async def main():
        async with Fetcher(PollingSettings(timeout=30, max_body=5 * 1024 * 1024)) as f:
            r = await f.fetch(sys.argv[1])
        print(json.dumps({"outcome": r.outcome, "error": r.error,
                          "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    asyncio.run(main())
""")


def _fetch_in_child(url: str) -> dict:
    """Fetch in a fresh process so its peak RSS belongs to this one fetch."""
    out = subprocess.run([sys.executable, "-c", _RSS_PROBE, url], capture_output=True, text=True,
                         cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _baseline_rss() -> int:
    return _fetch_in_child("http://127.0.0.1:9/none")["maxrss_kb"]


def test_gzip_bomb_1mib_to_1gib_is_cut_at_the_cap_with_bounded_memory(feed_server: FeedServer) -> None:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * (1 << 20)
    bomb = comp.compress(b"<rss><channel><title>") + b"".join(comp.compress(chunk) for _ in range(1024)) + comp.flush()
    assert len(bomb) < 1.5 * (1 << 20)
    feed_server.route("/bomb", Response(body=bomb, raw_encoding="gzip"))
    base = _baseline_rss()
    r = _fetch_in_child(feed_server.url("/bomb"))
    assert r["outcome"] == "error" and "larger than 5 MiB once decompressed" in r["error"]
    assert r["maxrss_kb"] - base < 2 * 5 * 1024 + 4096  # < 2× the cap (+4 MiB slack)


def test_endless_chunked_body_is_cut_at_the_raw_cap(feed_server: FeedServer) -> None:
    def endless():
        while True:
            yield b"<item>" + b"x" * 65536 + b"</item>"

    feed_server.route("/endless", Response(chunks=endless))
    base = _baseline_rss()
    r = _fetch_in_child(feed_server.url("/endless"))
    assert r["outcome"] == "error" and "larger than 5 MiB" in r["error"]
    assert r["maxrss_kb"] - base < 2 * 5 * 1024 + 4096


def test_64mib_body_is_cut(feed_server: FeedServer) -> None:
    feed_server.route("/huge", Response(body=b"<rss>" + b"x" * (64 << 20)))
    r = _fetch_in_child(feed_server.url("/huge"))
    assert r["outcome"] == "error" and "larger than 5 MiB" in r["error"]


# 9 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,encoding", [
    ("gzip.gz", "gzip"), ("gzip-not-compressed.gz", "gzip"), ("gzip-struct-error.gz", "gzip"),
    ("deflate.z", "deflate"), ("deflate-no-headers.z", "deflate"), ("deflate-not-compressed.z", "deflate"),
])
async def test_corpus_compression_files(shared_dir: Path, feed_server: FeedServer, name: str, encoding: str) -> None:
    body = (shared_dir / "corpus" / "feedparser" / "compression" / name).read_bytes()
    feed_server.route("/c", Response(body=body, raw_encoding=encoding))
    async with Fetcher(PollingSettings(timeout=5)) as f:
        r = await f.fetch(feed_server.url("/c"))
    if r.ok:
        result = run_job(_job(r.body))
        assert result.ok or result.error  # a feed, or an error in words; never an exception
    else:
        assert "corrupt" in r.error or "truncated" in r.error


# 11 --------------------------------------------------------------------------------------
async def test_hung_and_dripping_servers_do_not_hold_up_other_feeds(pipeline, feed_server: FeedServer) -> None:
    """A server that accepts and never answers, and one that drips: the good feeds finish
    first; the bad ones end at the total deadline with an error in words."""
    silent = socket.socket()
    silent.bind(("127.0.0.2", 0))
    silent.listen(8)  # connections complete in the kernel backlog, but nobody ever answers
    order: list[str] = []
    try:
        with FeedServer("127.0.0.3") as drip:
            drip.route("/d.xml", Response(body=rss([rss_item("x", guid="x")]), drip=0.3))
            feeds = {f"Good {k}": f"/ok{k}.xml" for k in range(4)}
            for k in range(4):
                feed_server.route(f"/ok{k}.xml", Response(body=rss([rss_item(f"Good {k}", guid=f"g{k}")])))
            feeds["Silent"] = f"http://127.0.0.2:{silent.getsockname()[1]}/feed"
            feeds["Drip"] = drip.url("/d.xml")
            report, _ = await pipeline(feeds, on_feed=lambda o: order.append(o.source.name),
                                       timeout=1.5, connect_timeout=1.0)
    finally:
        silent.close()
    by = {o.source.name: o for o in report.outcomes}
    assert all(by[f"Good {k}"].status == FeedStatus.OK for k in range(4))
    assert by["Silent"].status == FeedStatus.ERROR and "deadline" in by["Silent"].error
    assert by["Drip"].status == FeedStatus.ERROR and "deadline" in by["Drip"].error
    assert set(order[:4]) == {f"Good {k}" for k in range(4)}  # the good ones were not held up


# 16, 17, 18 ------------------------------------------------------------------------------
def test_billion_laughs_is_not_expanded() -> None:
    ents = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{k} "{("&lol%d;" % (k - 1)) * 10}">' for k in range(1, 10))
    body = (f'<?xml version="1.0"?><!DOCTYPE rss [{ents}]><rss version="2.0"><channel><title>&lol9;</title>'
            '<item><title>Talks &lol9; resume</title><guid>a</guid></item></channel></rss>').encode()
    result = run_job(_job(body))
    assert result.ok and result.items[0].title == "Talks resume"


_BLOWUP_PROBE = textwrap.dedent("""
    import json, resource, sys
    from feeds.parse.pool import ParseJob, run_job
    body = open(sys.argv[1], "rb").read()
    r = run_job(ParseJob(body, "k", "n", "http://127.0.0.1/", None, 0.0, 1000))
    print(json.dumps({"ok": r.ok, "error": r.error, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
""")


def test_quadratic_blowup_is_refused_with_little_memory(tmp_path: Path) -> None:
    body = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "' + "x" * 1_000_000 + '">]>'
            '<rss version="2.0"><channel><title>t</title><item><title>' + "&big;" * 2000
            + "</title><guid>a</guid></item></channel></rss>").encode()
    path = tmp_path / "blowup.xml"
    path.write_bytes(body)
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    runs = [json.loads(subprocess.run([sys.executable, "-c", _BLOWUP_PROBE, str(p)], capture_output=True,
                                      text=True, cwd=REPO, timeout=120).stdout) for p in (empty, path)]
    base, blowup = runs
    assert not blowup["ok"] and "XML bomb" in blowup["error"]
    assert blowup["maxrss_kb"] - base["maxrss_kb"] < 100 * 1024


def test_external_entities_and_dtds_read_no_file_and_make_no_request(feed_server: FeedServer,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    evil = feed_server.url("/evil.dtd")
    feed_server.route("/evil.dtd", Response(body=b'<!ENTITY leak "LEAKED">', content_type="application/xml-dtd"))
    opened: list[str] = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda f, *a, **k: (opened.append(str(f)), real_open(f, *a, **k))[1])
    docs = [
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        f'<!DOCTYPE rss SYSTEM "{evil}">',
        f'<!DOCTYPE rss [<!ENTITY % remote SYSTEM "{evil}"> %remote;]>',
        f'<!DOCTYPE rss [<!ENTITY ext PUBLIC "-//x//EN" "{evil}">]>',
    ]
    for doctype in docs:
        body = (f'<?xml version="1.0"?>{doctype}<rss version="2.0"><channel><title>t</title>'
                '<item><title>A &xxe; &ext; &leak; B</title><guid>a</guid></item></channel></rss>').encode()
        result = run_job(_job(body))
        titles = " ".join(i.title for i in result.items)
        assert "root:" not in titles and "LEAKED" not in titles
    assert feed_server.requests() == []
    assert not any("passwd" in o or "evil" in o for o in opened)


def test_corpus_doctype_entity_file_is_safe(shared_dir: Path, feed_server: FeedServer) -> None:
    body = (shared_dir / "corpus/feedparser/wellformed/rss/entity_in_doctype.xml").read_bytes()
    result = run_job(_job(body))
    assert result.ok
    assert feed_server.requests() == []


# 20 --------------------------------------------------------------------------------------
async def test_huge_documents_are_capped(pipeline, feed_server: FeedServer) -> None:
    many = rss([rss_item(f"Item {k}", guid=f"g{k}") for k in range(3000)])
    long = rss([rss_item("Talks " * 40_000, guid="long", summary="sanctions " * 200_000)])
    feed_server.route("/many.xml", Response(body=many))
    feed_server.route("/long.xml", Response(body=long))
    report, store = await pipeline({"Many": "/many.xml", "Long": "/long.xml"}, max_items=500)
    by = {o.source.name: o for o in report.outcomes}
    assert by["Many"].status == FeedStatus.OK and len(by["Many"].new_items) == 500
    (item,) = by["Long"].new_items
    assert len(item.title) <= 500 and len(item.summary) <= 2000


# 21, 22 ---------------------------------------------------------------------------------
MARKUP_TITLES = [
    "[bold red]Sanctions[/] [link=https://evil.example]click[/link]",
    "[@click=app.quit]Talks resume[/]",
    "[@click=app.screenshot('x.svg','/tmp')]x[/]",
    "[/]", "[/bold]", "[link=javascript:alert(1)]x[/link]", "[type=x, v={'a[0]'}]",
    "Statement \x1b[31mred\x1b[0m \x07\x00 end", "\u202eRTL override statement",
    "OSC 8 \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ and OSC 52 \x1b]52;c;ZXZpbA==\x07", "C1 \x9b2J",
]


async def test_markup_and_escapes_are_stored_as_plain_control_free_text(pipeline, feed_server: FeedServer) -> None:
    from xml.sax.saxutils import escape

    items = []
    for k, title in enumerate(MARKUP_TITLES):
        # Controls travel as character references, as hostile feeds send them.
        xml_title = "".join(f"&#{ord(ch)};" if ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F else ch
                            for ch in escape(title))
        items.append(rss_item(xml_title, guid=f"m{k}", link="javascript:alert(1)", raw_title=True))
    feed_server.route("/markup.xml", Response(body=rss(items)))
    report, store = await pipeline({"Markup": "/markup.xml"})
    stored = store.recent()
    assert len(stored) == len(MARKUP_TITLES)
    for item in stored:
        assert strip_controls(item.title) == item.title and strip_controls(item.summary) == item.summary
        assert "\x1b" not in item.title and "\x9b" not in item.title and "\u202e" not in item.title
        assert item.link == ""
    titles = {i.title for i in stored}
    assert "[@click=app.quit]Talks resume[/]" in titles and "[/]" in titles


# 25, 26 ---------------------------------------------------------------------------------
async def test_guid_changing_every_poll_does_not_duplicate(pipeline, feed_server: FeedServer) -> None:
    for n in range(3):
        feed_server.route("/churn.xml", Response(body=rss([
            rss_item("Story A", guid=f"a-{n}", link="http://x.example/a"),
            rss_item("Story B", guid=f"b-{n}", link="http://x.example/b")])))
        report, store = await pipeline({"Churn": "/churn.xml"})
    assert sorted(i.title for i in store.recent()) == ["Story A", "Story B"]


async def test_dedup_rules_give_stable_counts(pipeline, feed_server: FeedServer) -> None:
    doc = rss([rss_item("No guid", link="http://x.example/1"),
               rss_item("Neither", pub="Tue, 05 Apr 2022 06:25:00 GMT"),
               *[rss_item(f"Dup {k}", guid="urn:same") for k in range(3)]])
    feed_server.route("/a.xml", Response(body=doc))
    feed_server.route("/b.xml", Response(body=doc))  # the same guids in another feed
    for _ in range(3):
        report, store = await pipeline({"A": "/a.xml", "B": "/b.xml"})
    assert len(store.recent()) == 10
    assert len({i.id for i in store.recent()}) == 10


# 27 -------------------------------------------------------------------------------------
async def test_non_ascii_round_trips_through_the_store(pipeline, feed_server: FeedServer, tmp_path: Path) -> None:
    titles = ["Переговоры в Стамбуле", "和平谈判", "محادثات السلام", "Négociations — “quotes” €", "emoji 🕊️"]
    feed_server.route("/u.xml", Response(body=rss([rss_item(t, guid=f"u{k}") for k, t in enumerate(titles)])))
    report, store = await pipeline({"U": "/u.xml"})
    store.flush()
    with Store.open(tmp_path / "store", readonly=True, clock=Clock(T0)) as again:
        assert sorted(i.title for i in again.recent()) == sorted(titles)


# 32, 35 ---------------------------------------------------------------------------------
async def test_many_feeds_finishing_together_one_write(pipeline, feed_server: FeedServer) -> None:
    feeds = {}
    for k in range(8):
        feed_server.route(f"/f{k}.xml", Response(body=rss([rss_item(f"F{k} {j}", guid=f"{k}-{j}") for j in range(20)])))
        feeds[f"F{k}"] = f"/f{k}.xml"
    report, store = await pipeline(feeds, per_host=8)
    assert len(store.recent()) == 160 and len({i.id for i in store.recent()}) == 160
    assert not store.dirty  # the cycle ended with its one flush
    before = store.generation
    await pipeline(feeds, per_host=8)
    assert store.generation == before + 1  # one write per cycle, not per feed


# 33 --------------------------------------------------------------------------------------
async def test_disk_full_during_the_cycle_write_is_reported_and_retried(pipeline, feed_server: FeedServer,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    feed_server.route("/a.xml", Response(body=rss([rss_item("Kept", guid="k")])))
    real_write = os.write

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    report, store = await pipeline({"A": "/a.xml"})
    assert report.flush_error and "disk full" in report.flush_error.lower()
    assert store.dirty and [i.title for i in store.recent()] == ["Kept"]
    monkeypatch.setattr(os, "write", real_write)
    report, store = await pipeline({"A": "/a.xml"})
    assert report.flush_error is None and not store.dirty


async def test_a_stuck_parse_does_not_starve_the_jobs_waiting_for_its_worker() -> None:
    """One worker, two jobs: the first is killed at its deadline; the second, queued behind
    it, still gets a (fresh) worker and its result."""
    import asyncio

    from feeds.config.load import bundled_config_path

    pool = ParsePool(load_config(bundled_config_path()).rules, workers=1, timeout=3.0)
    try:
        # RSS 0.91 goes to feedparser, which needs far more than 3 s for 60,000 items.
        many = rss([rss_item(f"Item {k} " + "word " * 40, guid=f"g{k}") for k in range(60_000)]
                   ).replace(b'version="2.0"', b'version="0.91"')
        good = rss([rss_item("Peace talks resume", guid="ok")])
        stuck, fine = await asyncio.gather(pool.parse(_job(many)), pool.parse(_job(good)))
        assert not stuck.ok and "longer than 3 s" in stuck.error
        assert fine.ok and [i.title for i in fine.items] == ["Peace talks resume"]
    finally:
        pool.close()

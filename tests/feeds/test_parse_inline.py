"""A one-shot poll parses its first plain, small documents in its own process; feedparser
(whose hangs and memory blow-ups the workers isolate) still runs only in a worker."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from feeds.config.load import load_config
from feeds.model import FeedStatus
from feeds.parse import jobs as jobsmod
from feeds.parse import pool as poolmod
from feeds.parse.pool import ParseJob, ParsePool
from feeds.poll.poller import Poller
from storage.store import Store
from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.helpers import bundled_config

PLAIN = rss([rss_item("Ceasefire talks resume in Doha", guid="a1", link="http://news.example/a1"),
             rss_item("New sanctions on oil exports", guid="a2", link="http://news.example/a2")])
# RSS 1.0 (RDF): a format the expat fast path leaves to feedparser.
RDF = (b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
       b'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="http://news.example/">'
       b"<title>T</title><link>http://news.example/</link><description>d</description></channel>"
       b'<item rdf:about="http://news.example/r1"><title>Ceasefire talks resume</title>'
       b"<link>http://news.example/r1</link></item></rdf:RDF>")


def job(body: bytes, key: str = "http://news.example/feed.xml") -> ParseJob:
    return ParseJob(body=body, feed_key=key, feed_name="Feed", url=key, content_type=None,
                    now=1.7e9, max_items=1000)


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the worker processes started."""
    started: list[int] = []
    spawn = poolmod._spawn

    def counting():
        proc = spawn()
        started.append(proc.pid)
        return proc

    monkeypatch.setattr(poolmod, "_spawn", counting)
    yield started


def test_plain_documents_are_parsed_in_process_as_a_worker_would(spawned: list[int],
                                                                   parse_pool: ParsePool) -> None:
    pool = ParsePool(bundled_config().rules, workers=1, inline=2)
    try:
        mine = pool.parse_sync(job(PLAIN))
        assert spawned == [] and pool.inline == 1
    finally:
        pool.close()
    theirs = parse_pool.parse_sync(job(PLAIN))
    assert mine.ok and len(mine.items) == 2
    assert [(i.id, i.title, i.labels, i.scores) for i in mine.items] == \
           [(i.id, i.title, i.labels, i.scores) for i in theirs.items]
    assert mine.digests == theirs.digests


def test_what_needs_feedparser_goes_to_a_worker(spawned: list[int]) -> None:
    pool = ParsePool(bundled_config().rules, workers=1, inline=5)
    try:
        parsed = pool.parse_sync(job(RDF))
        assert parsed.ok and [i.title for i in parsed.items] == ["Ceasefire talks resume"]
        assert len(spawned) == 1
    finally:
        pool.close()


def test_large_documents_and_those_past_the_budget_go_to_a_worker(
        spawned: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    pool = ParsePool(bundled_config().rules, workers=1, inline=1)
    try:
        monkeypatch.setattr(poolmod, "INLINE_MAX_BYTES", len(PLAIN) - 1)
        assert pool.parse_sync(job(PLAIN)).ok and len(spawned) == 1 and pool.inline == 1
        monkeypatch.setattr(poolmod, "INLINE_MAX_BYTES", len(PLAIN))
        assert pool.parse_sync(job(PLAIN)).ok and pool.inline == 0
        assert pool.parse_sync(job(PLAIN)).ok and len(spawned) == 1  # the worker again
    finally:
        pool.close()


def test_expecting_more_documents_than_the_budget_starts_the_workers_at_once(
        spawned: list[int]) -> None:
    pool = ParsePool(bundled_config().rules, workers=2, inline=3)
    try:
        pool.expect(3)
        assert pool.inline == 3 and spawned == []
        pool.expect(4)
        assert pool.inline == 0 and len(spawned) == 2
    finally:
        pool.close()


@pytest.mark.parametrize("budget, workers", [(2, 0), (1, 1)])
async def test_a_one_shot_poll_starts_workers_only_for_more_new_feeds_than_its_budget(
        tmp_path: Path, write_config, feed_server: FeedServer, spawned: list[int],
        monkeypatch: pytest.MonkeyPatch, budget: int, workers: int) -> None:
    monkeypatch.setattr(ParsePool, "one_shot_inline", budget)
    for name in ("a", "b"):
        feed_server.route(f"/{name}.xml", Response(body=rss([rss_item(f"Talks {name}", guid=name)])))
    config = load_config(write_config([("A", feed_server.url("/a.xml")),
                                       ("B", feed_server.url("/b.xml"))]))
    with Store.open(tmp_path / "store") as store:
        poller = Poller(config, store, resident=False)
        try:
            report = await poller.poll_cycle()
        finally:
            poller.close()
    assert [o.status for o in report.outcomes] == [FeedStatus.OK] * 2
    assert sorted(i.title for i in report.new_items) == ["Talks a", "Talks b"]
    assert len(spawned) == workers


class Recording:
    """The real pool; keeps each job's ``seen`` digests and each result."""

    def __init__(self, pool: ParsePool) -> None:
        self.pool, self.seen, self.results = pool, [], []

    async def parse(self, job: ParseJob):
        self.seen.append(job.seen)
        self.results.append(await self.pool.parse(job))
        return self.results[-1]

    def close(self) -> None:
        pass


async def test_the_next_one_shot_poll_compares_entries_with_the_stored_digests(
        tmp_path: Path, write_config, feed_server: FeedServer, parse_pool: ParsePool) -> None:
    """Each `poll --once` is a new process: the digests of a feed's last parse live in its
    stored state, so a changed feed's unchanged entries are neither classified nor stored."""
    def items(*pairs: tuple[str, str]) -> bytes:
        return rss([rss_item(t, guid=g, link=f"http://news.example/{g}") for g, t in pairs])

    feed_server.route("/a.xml", Response(body=items(("1", "Talks one"), ("2", "Talks two"))))
    config = load_config(write_config([("A", feed_server.url("/a.xml"))]))
    pool = Recording(parse_pool)
    for doc in (None, items(("1", "Talks one"), ("2", "Talks two, updated"), ("3", "Talks three"))):
        if doc is not None:
            feed_server.route("/a.xml", Response(body=doc))
        with Store.open(tmp_path / "store") as store:
            poller = Poller(config, store, parse_pool=pool, resident=False)
            report = await poller.poll_cycle(force=True)
            assert report.outcomes[0].status == FeedStatus.OK
            state = store.feed_state(config.feeds[0].key)
            assert state is not None and state.digests == pool.results[-1].digests.hex()
    first, second = pool.results
    assert pool.seen == [b"", first.digests]
    assert [i.title for i in second.items] == ["Talks two, updated", "Talks three"]
    assert len(second.same) == 1 and second.same[0] == first.items[0].id
    with Store.open(tmp_path / "store") as store:
        assert sorted(i.title for i in store.recent()) == ["Talks one", "Talks three",
                                                           "Talks two, updated"]


def test_an_in_process_parse_that_raises_is_left_to_a_worker(
        spawned: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise ValueError("a bug a hostile document found")

    monkeypatch.setattr(jobsmod, "parse_document", broken)  # in this process only
    pool = ParsePool(bundled_config().rules, workers=1, inline=2)
    try:
        parsed = pool.parse_sync(job(PLAIN))
        assert parsed.ok and len(parsed.items) == 2 and len(spawned) == 1
    finally:
        pool.close()

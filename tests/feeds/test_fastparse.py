"""The fast path (expat directly) must give exactly what the feedparser path gives."""
from __future__ import annotations

from pathlib import Path

import pytest

import feeds.parse.fast as fastparse
from feeds.parse.document import parse_document
from feeds.parse.xmlprep import prepare
from tests.feedserver import rss, rss_item

NOW = 1_780_000_000.0


def _both(body: bytes, monkeypatch: pytest.MonkeyPatch):
    def run():
        return parse_document(body, feed_key="k", feed_name="n", url="http://example.com/dir/feed.xml",
                              content_type=None, now=NOW)

    fast = run()
    with monkeypatch.context() as m:
        m.setattr(fastparse, "parse_simple", lambda data: None)
        slow = run()
    return fast, slow


def _fields(result):
    return (result.ok, result.error, result.title,
            [(i.id, i.title, i.summary, i.link, i.guid, i.published, i.date_missing) for i in result.items])


def test_fast_path_equals_feedparser_on_the_corpus(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    accepted = 0
    for path in sorted((shared_dir / "corpus").rglob("*")):
        if not path.is_file() or path.name in ("LICENSE", "README.md"):
            continue
        body = path.read_bytes()
        try:
            data = prepare(body, None)[0]
        except ValueError:
            continue
        if fastparse.parse_simple(data) is None:
            continue
        accepted += 1
        fast, slow = _both(body, monkeypatch)
        assert _fields(fast) == _fields(slow), path
    assert accepted > 150  # the common formats do take the fast path


@pytest.mark.parametrize("doc", [
    rss([rss_item("Talks &amp; more <b>x</b>", guid="a", link="/rel", summary="<p>Envoys met</p>"),
         rss_item("No link", guid="http://permalink.example/1"),
         rss_item("Tom &amp;amp; Jerry", guid="c", pub="2022-04-05T06:25:00+03:00")]),
    b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
    b'<entry><title type="html">A &lt;b&gt;bold&lt;/b&gt; move</title><id>tag:x,1</id>'
    b'<link rel="self" href="http://x.example/self"/><link href="http://x.example/a"/>'
    b'<updated>2022-04-05T06:25:00Z</updated><summary>plain &lt;not a tag&gt;</summary></entry>'
    b'<entry><title>t2</title><id>http://x.example/2</id><content type="html">&lt;p&gt;c&lt;/p&gt;</content></entry></feed>',
], ids=["rss", "atom"])
def test_fast_path_equals_feedparser_on_common_shapes(doc: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    assert fastparse.parse_simple(prepare(doc, None)[0]) is not None
    fast, slow = _both(doc, monkeypatch)
    assert _fields(fast) == _fields(slow)


@pytest.mark.parametrize("doc", [
    rss([rss_item("x", guid="a")]).replace(b"<item>", b'<item><media:description xmlns:media="http://search.yahoo.com/mrss/">d</media:description>', 1),
    rss([rss_item("x", guid="a")]).replace(b'<rss version="2.0">', b'<rss version="0.91">'),
    rss([rss_item("x", guid="a", summary="a")]).replace(b"<description>a</description>", b"<description><p>inline</p></description>"),
    rss([rss_item("x", guid="a")]).replace(b"<channel>", b'<channel xml:base="http://b.example/">'),
    rss([rss_item("caf\u00e9 \x92", guid="a")]),
    b"<rss version='2.0'><channel><item><title>&nbsp;undefined entity</title></item></channel></rss>",
], ids=["unknown-element", "rss091", "inline-html", "xml-base", "c1", "not-well-formed"])
def test_unusual_documents_go_to_feedparser(doc: bytes) -> None:
    assert fastparse.parse_simple(prepare(doc, None)[0]) is None


def test_common_utc_dates_are_read_as_feedparser_reads_them() -> None:
    """date_tuple reads W3C and RFC 822 UTC dates itself: the same tuples as feedparser's
    parser, over a century and a half either side, with and without (or with a wrong) day
    name, and for the out-of-range values it hands back to feedparser."""
    import email.utils
    import random
    import time

    from feeds.parse.feedparser_adapter import parse_date

    rng = random.Random(7)
    dates = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59+00:00", "Mon, 01 Jan 1900 00:00:00 GMT",
             "2024-02-30T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:60Z",
             "Fri, 30 Feb 2024 00:00:00 GMT", "Mon, 01 Jan 2024 23:59:60 UT", "Mon, 00 Jan 2024 00:00:00 GMT"]
    for _ in range(3000):
        ts = rng.uniform(-2.5e9, 4.2e9)
        dates.append(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + rng.choice(["Z", "+00:00"]))
        rfc = email.utils.formatdate(ts, usegmt=True)
        rfc = rng.choice([rfc, rfc[5:], "Wed" + rfc[3:]])
        dates.append(rfc.replace("GMT", rng.choice(["GMT", "UT", "UTC", "+0000"])))
    assert [fastparse.date_tuple(d) for d in dates] == [parse_date(d) for d in dates]


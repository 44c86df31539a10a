"""A parse worker imports what parsing needs and no more: not the config module, not asyncio,
not hashlib (OpenSSL), and feedparser only once a document needs it (each costs every worker
megabytes)."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from feeds.parse.pool import ParseJob, ParsePool, setup_message
from tests.feeds.test_parse_inline import PLAIN, RDF
from tests.helpers import bundled_config

ROOT = Path(__file__).resolve().parents[2]

# What feeds.parse.worker does with its first message and its jobs, reporting its modules.
WORKER = """
import pickle, sys
setup, jobs = pickle.loads(sys.stdin.buffer.read())
rules, _limit, actors, watch, _nice = setup
from feeds.parse import jobs as parsing
parsing.init_worker(rules, actors, watch)
for job in jobs:
    parsed = parsing.run_job(job)
    print(parsed.ok, len(parsed.items), len(parsed.watch or {}),
          *(m in sys.modules for m in ("feedparser", "asyncio", "feeds.config.load", "hashlib",
                                       "logging", "orjson", "subprocess", "threading", "queue",
                                       "calendar")))
"""


def _job(body: bytes) -> ParseJob:
    return ParseJob(body=body, feed_key="http://news.example/feed.xml", feed_name="Feed",
                    url="http://news.example/feed.xml", content_type=None, now=1.7e9,
                    max_items=1000)


def test_a_worker_loads_feedparser_only_for_a_document_that_needs_it() -> None:
    config = bundled_config()
    watch = replace(config.watch, terms=(("gulf", "Doha"),), notify_command=())
    setup = setup_message(config.rules, 1 << 30, config.actors, watch)
    stdin = pickle.dumps((setup, [_job(PLAIN), _job(RDF)]))
    out = subprocess.run([sys.executable, "-c", WORKER], input=stdin, capture_output=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    plain, rdf = out.stdout.decode().splitlines()
    # The watch terms still match in the worker (item "Ceasefire talks resume in Doha").
    # Nor what the notify command needs: logging, orjson, subprocess (~1.3 MiB a worker), nor
    # what the pool needs: threading, queue; nor calendar (and locale: ~0.25 MiB).
    assert plain == "True 2 1 False False False False False False False False False False"
    assert rdf.startswith("True 1 0 True False False")  # (feedparser may bring hashlib in)


def test_the_pool_still_matches_watch_terms_in_its_workers() -> None:
    config = bundled_config()
    watch = replace(config.watch, terms=(("gulf", "Doha"),), notify_command=())
    pool = ParsePool(config.rules, workers=1, actors_spec=config.actors, watch_spec=watch)
    try:
        parsed = pool.parse_sync(_job(PLAIN))
    finally:
        pool.close()
    assert parsed.ok and list((parsed.watch or {}).values())[0][0] == ("gulf",)


def test_the_fast_paths_html_rule_is_still_feedparsers() -> None:
    from feeds.parse import fast
    from feeds.parse.feedparser_adapter import looks_like_html

    for text in ("plain words", "Tom &amp; Jerry", "a < b and c > d", "Talks <b>resume</b>",
                 "<script>alert(1)</script>", "it&#8217;s", "&bogus; entity", "tail</p>",
                 "<p>open only", ""):
        assert fast.looks_like_html(text) is looks_like_html(text), text

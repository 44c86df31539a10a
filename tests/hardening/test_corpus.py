"""Every document of ../shared/corpus through parse → classify → store → render, no exception.

The corpus holds real feed documents from feedparser's, Miniflux's, newsboat's and the reader
library's test suites (their licences differ, so they stay in ../shared and are read from
there; the test skips cleanly when the folder is absent).
"""
from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from rich.text import Text

from feeds.classify.engine import Classifier
from feeds.config.load import bundled_config_path, load_config
from feeds.parse.pool import ParseJob
from feeds.parse.document import parse_document
from feeds.text import strip_controls
from storage.store import Store
from tests.helpers import Clock

T0 = 1_780_000_000.0


def corpus_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name not in ("LICENSE", "README.md"))


def test_every_corpus_document_passes_through_the_pipeline(shared_dir: Path, tmp_path: Path) -> None:
    files = corpus_files(shared_dir / "corpus")
    assert len(files) > 600
    classifier = Classifier.from_spec(load_config(bundled_config_path()).rules)
    outcomes = {"ok": 0, "error": 0}
    console = Console(file=io.StringIO(), width=100, color_system="truecolor", force_terminal=True)
    with Store.open(tmp_path / "store", clock=Clock(T0)) as store:
        for path in files:
            key = "corpus:" + str(path.relative_to(shared_dir))
            result = parse_document(path.read_bytes(), feed_key=key, feed_name=path.name,
                                    url="http://example.com/feed.xml", content_type=None, now=T0,
                                    max_items=1000, classifier=classifier)
            outcomes["ok" if result.ok else "error"] += 1
            if not result.ok:
                assert result.error and not result.items, path
                continue
            for item in result.items:
                assert strip_controls(item.title) == item.title, path
                assert item.link == "" or item.link.lower().startswith(("http://", "https://")), path
                console.print(Text(item.title), Text(item.summary))
            store.upsert_items(result.items)
        store.flush()
        stored = len(store.recent())
    rendered = console.file.getvalue()
    # Rich's own styling codes are ESC[…m; no other escape sequence may come from the data.
    import re
    assert not re.search(r"\x1b(?!\[[0-9;]*m)", rendered)
    assert outcomes["ok"] > 550 and stored > 500
    with Store.open(tmp_path / "store", readonly=True, clock=Clock(T0)) as again:
        assert len(again.recent()) == stored


def test_parse_job_is_picklable_for_the_worker_processes() -> None:
    import pickle

    job = ParseJob(b"<rss/>", "k", "n", "http://x/", None, T0, 10)
    assert pickle.loads(pickle.dumps(job)) == job

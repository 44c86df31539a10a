"""A one-shot poll where no feed changed starts without what only a change needs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.feedserver import FeedServer, Response, rss, rss_item

REPO = Path(__file__).resolve().parents[2]

# diplowatch as a process of its own, naming on stderr, as it exits, which of these it imported:
# the rules engine (for classifying and watching new items) and the daemon's control protocol.
PROBE = """
import atexit, sys
LAZY = ("feeds.classify.engine", "feeds.service.control")
atexit.register(lambda: print("imported:", *[m for m in LAZY if m in sys.modules], file=sys.stderr))
from tui.cli.main import main
main()
"""


def test_a_poll_where_nothing_changed_needs_neither_the_engine_nor_the_control_protocol(
        tmp_path: Path, write_config, feed_server: FeedServer) -> None:
    feed_server.route("/rss", Response(body=rss([rss_item("Talks resume in Geneva")]), etag='"v1"'))
    config = write_config([("Wire", feed_server.url("/rss"))], extra='[watch]\nterms = ["talks"]\n')
    argv = [sys.executable, "-c", PROBE, "--config", str(config), "--db", str(tmp_path / "store"),
            "poll", "--once", "--all"]

    first = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and "1 new" in first.stdout, first.stdout + first.stderr
    second = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)

    assert second.returncode == 0 and "0 new" in second.stdout, second.stdout + second.stderr
    assert feed_server.requests("/rss")[-1].headers.get("if-none-match") == '"v1"'  # a 304
    assert second.stderr.strip().splitlines()[-1] == "imported:", second.stderr

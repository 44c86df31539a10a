"""A one-shot poll where no feed changed starts without what only a change needs; one that
a running daemon serves, without what only polling itself needs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.service.conftest import DaemonProcess

REPO = Path(__file__).resolve().parents[2]

# diplowatch as a process of its own, naming on stderr, as it exits, which of these it imported:
# the rules engine (for classifying and watching new items), the daemon's control protocol,
# and httpx (the fetcher's own HTTP/1.1 path builds no httpx object for a plain URL).
PROBE = """
import atexit, sys
LAZY = {lazy!r}
atexit.register(lambda: print("imported:", *[m for m in LAZY if m in sys.modules], file=sys.stderr))
from tui.cli.main import main
main()
"""


def probe(*lazy: str) -> str:
    return PROBE.format(lazy=lazy)


def test_a_poll_where_nothing_changed_needs_neither_the_engine_the_control_protocol_nor_httpx(
        tmp_path: Path, write_config, feed_server: FeedServer) -> None:
    feed_server.route("/rss", Response(body=rss([rss_item("Talks resume in Geneva")]), etag='"v1"'))
    config = write_config([("Wire", feed_server.url("/rss"))], extra='[watch]\nterms = ["talks"]\n')
    lazy = probe("feeds.classify.engine", "feeds.service.control", "httpx")
    argv = [sys.executable, "-c", lazy, "--config", str(config), "--db", str(tmp_path / "store"),
            "poll", "--once", "--all"]

    first = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and "1 new" in first.stdout, first.stdout + first.stderr
    second = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)

    assert second.returncode == 0 and "0 new" in second.stdout, second.stdout + second.stderr
    assert feed_server.requests("/rss")[-1].headers.get("if-none-match") == '"v1"'  # a 304
    assert second.stderr.strip().splitlines()[-1] == "imported:", second.stderr


def test_a_poll_the_daemon_runs_needs_neither_the_event_loop_the_store_nor_the_config_loader(
        tmp_path: Path, write_config, feed_server: FeedServer) -> None:
    feed_server.route("/rss", Response(body=rss([rss_item("Talks resume in Geneva")]), etag='"v1"'))
    config = write_config([("Wire", feed_server.url("/rss"))])
    store = tmp_path / "store"
    daemon = DaemonProcess(config, store, tmp_path / "daemon.log").start()
    try:
        daemon.wait_cycles(1)
        lazy = probe("asyncio", "storage", "feeds.config.load", "httpx", "feeds.classify.engine")
        r = subprocess.run([sys.executable, "-c", lazy, "--config", str(config), "--db", str(store),
                            "poll", "--once", "--all"], cwd=REPO, capture_output=True, text=True,
                           timeout=120)
    finally:
        daemon.kill()
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("polled 1 feed through the running daemon: 0 new items"), r.stdout
    assert r.stderr.strip().splitlines()[-1] == "imported:", r.stderr

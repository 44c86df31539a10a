"""A daemon with hundreds of watch hits pending stops within 10 s on SIGTERM, and the notify
commands it started are killed (a real daemon process, real commands)."""
from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.hardening.test_notify_bounds import _events, _recorder
from tests.service.conftest import SERVICE_POLLING, until
from tui.cli.main import cli


def test_sigterm_stops_the_daemon_within_10s_with_hits_pending(
        tmp_path: Path, write_config, feed_server: FeedServer, start_daemon) -> None:
    log = tmp_path / "runs.log"
    items = [rss_item(f"Ceasefire talks, round {n}", guid=f"g{n}") for n in range(300)]
    feed_server.route("/burst.xml", Response(body=rss([])))  # its first document: no backlog
    config = write_config([("Burst", feed_server.url("/burst.xml"))], polling=SERVICE_POLLING,
                          extra=f"""
        [watch]
        notify_timeout = "10m"
        notify_budget = "10m"
        notify_command = {json.dumps(_recorder(log, 120))}
        [watch.terms]
        Ceasefire = "ceasefire"
        """)
    daemon = start_daemon(config=config)
    daemon.wait_cycles(1)
    feed_server.route("/burst.xml", Response(body=rss(items)))
    r = CliRunner().invoke(cli, ["--config", str(config), "--db", str(daemon.store), "poll",
                                 "--once", "--all"])
    assert r.exit_code == 0, r.output
    until(lambda: len(_events(log)) >= 4, what="the notify commands to start")
    started = time.monotonic()
    assert daemon.stop(timeout=10) == 0
    assert time.monotonic() - started < 10
    assert "not notified" in daemon.stderr()
    pids = {pid for kind, pid, _ in _events(log) if kind == "start"}
    until(lambda: not any(_alive(pid) for pid in pids), timeout=5, what="the commands to be killed")


def _alive(pid: int) -> bool:
    """Running (a killed command whose parent is gone may linger as a zombie: not alive)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")

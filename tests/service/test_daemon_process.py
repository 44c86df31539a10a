"""``diplowatch daemon`` as the user runs it: a subprocess polling the loopback server, stopped
by SIGTERM, killed by SIGKILL, restarted; viewers and CLI commands talking to it."""
from __future__ import annotations

import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

from click.testing import CliRunner

from feeds.service.control import ControlClient, DaemonUnavailable
from storage.lock import lock_holder
from storage.store import Store
from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.service.conftest import REPO, SEED_TITLE, SERVICE_POLLING, Wire, until
from tui.cli.main import cli
from feeds.service.viewer import DaemonBackend


def run_cli(config: Path, store: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), "--db", str(store), *args])


def run_daemon_command(config: Path, store: Path) -> subprocess.CompletedProcess:
    """``diplowatch daemon`` expected to refuse at once (its logging goes to stderr)."""
    return subprocess.run([sys.executable, "-m", "tui.cli.main", "--config", str(config), "--db",
                           str(store), "daemon"], cwd=REPO, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def test_lifecycle_one_writer_and_a_clean_stop(start_daemon, service_config: Path, tmp_path: Path,
                                               wire: Wire, feed_server: FeedServer) -> None:
    store = tmp_path / "store"
    wire.add("Envoys hold peace talks in Doha")
    daemon = start_daemon()
    daemon.wait_cycles(1)
    assert lock_holder(store)["pid"] == daemon.pid
    assert stat.S_IMODE((store / "control.sock").stat().st_mode) == 0o600
    with Store.open(store, readonly=True) as view:
        titles = sorted(i.title for i in view.recent())
    assert titles == ["Envoys hold peace talks in Doha", SEED_TITLE]

    # Only the daemon writes: `poll --once` asks it for a cycle; a second daemon is refused.
    wire.add("Envoys agree on a prisoner exchange")
    r = run_cli(service_config, store, "poll", "--once", "--all")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("polled 2 feeds through the running daemon: 1 new item (1 ")
    assert daemon.status()["cycles"] == 2
    r = run_daemon_command(service_config, store)
    assert r.returncode == 2 and f"daemon (pid {daemon.pid}) is already running" in r.stderr
    assert "Traceback" not in r.stderr

    # CLI actions go through it.
    with Store.open(store, readonly=True) as view:
        seed = next(i for i in view.recent() if i.title == SEED_TITLE)
    r = run_cli(service_config, store, "mark", seed.id, "--star")
    assert r.exit_code == 0 and "marked 1 item through the daemon" in r.output
    r = run_cli(service_config, store, "mark", "0123456789abcdef", "--read")
    assert r.exit_code == 2 and "no item with id" in r.output and "nothing marked" in r.output
    r = run_cli(service_config, store, "labels", "set", seed.id[:8], "sanctions")
    assert r.exit_code == 0 and f"{seed.id}: sanctions (through the daemon)" in r.output
    with Store.open(store, readonly=True) as view:
        assert view.get(seed.id).labels == ("sanctions",) and view.correction(seed.id)
    r = run_cli(service_config, store, "feeds", "disable", "Wire")
    assert r.exit_code == 0 and "through the running daemon" in r.output
    assert "enabled = false" in service_config.read_text()
    assert not daemon.status()["last_cycle"]["error"]

    # SIGTERM during a cycle: the feed that landed is saved, the hung one is cancelled.
    slow, gate = "/slow.xml", threading.Event()

    def held(request) -> Response:  # answers when the test ends (or the fetch deadline)
        gate.wait(30)
        return Response(body=rss([rss_item("Slow news", guid="s")]))

    feed_server.route(slow, held)
    wire.add("Mediators report progress in ceasefire negotiations")
    service_config.write_text(service_config.read_text().replace("enabled = false\n", "")
                              + f'\n[[feeds]]\nname = "Slow"\nurl = "{feed_server.url(slow)}"\n')
    daemon.proc.send_signal(signal.SIGHUP)  # re-read the config: Wire back, Slow added
    until(lambda: daemon.status()["feeds"] == 3, what="the config reload")
    daemon.client.poll_now(["Wire", "Slow"])
    until(lambda: (daemon.status().get("progress") or {}).get("done") == 1,
          what="Wire to land while Slow hangs")
    try:
        assert daemon.stop(signal.SIGTERM) == 0  # without waiting for Slow
    finally:
        gate.set()
    log = daemon.stderr()
    assert "config reloaded" in log and "cancelling the running poll cycle" in log
    assert "daemon stopped" in log and "Traceback" not in log
    assert not (store / "control.sock").exists()
    assert lock_holder(store) is None
    with Store.open(store) as after:  # the lock is free, the store is whole
        assert after.flags(seed.id).starred
        titles = {i.title for i in after.recent()}
    assert "Mediators report progress in ceasefire negotiations" in titles
    assert "Slow news" not in titles


def test_poll_once_through_the_daemon_reports_failures_and_watch_hits(
        start_daemon, write_config, tmp_path: Path, wire: Wire, feed_server: FeedServer) -> None:
    feed_server.route("/broken.xml", Response(500, b"oops", content_type="text/plain"))
    config = write_config([("Wire", wire.url), ("Broken [red]feed[/red]", feed_server.url("/broken.xml"))],
                          polling=SERVICE_POLLING,
                          extra='[watch]\nterms = ["prisoner exchange"]\n')
    store = tmp_path / "store"
    daemon = start_daemon(config=config)
    daemon.wait_cycles(1)
    wire.add("Envoys agree on a prisoner exchange \x1b[31m[@click=app.quit]now")
    r = run_cli(config, store, "poll", "--once", "--all")
    assert r.exit_code == 1, r.output  # a feed failed, as without a daemon
    lines = r.output.splitlines()
    assert lines[0].split() == ["error", "Broken", "[red]feed[/red]", "HTTP", "500", "Internal",
                                "Server", "Error"]
    assert lines[1] == "polled 2 feeds through the running daemon: 1 new item (1 talks), 1 failed"
    assert lines[2] == "watch         prisoner exchange: Envoys agree on a prisoner exchange [31m[@click=app.quit]now (Wire)"
    assert "\x1b" not in r.output


def test_poll_once_during_a_running_cycle_waits_for_the_next_one(
        start_daemon, write_config, tmp_path: Path, wire: Wire, feed_server: FeedServer) -> None:
    """The running cycle fetched the wire before the new story: `poll --once` must report
    the cycle that serves its own request, not the one that happened to be running."""
    slow_body = rss([rss_item("Slow news", guid="s")])
    feed_server.route("/slow.xml", Response(body=slow_body))
    config = write_config([("Wire", wire.url), ("Slow", feed_server.url("/slow.xml"))],
                          polling=SERVICE_POLLING)
    store = tmp_path / "store"
    daemon = start_daemon(config=config)
    daemon.wait_cycles(1)
    gate = threading.Event()

    def held(request) -> Response:
        gate.wait(30)
        return Response(body=slow_body)

    feed_server.route("/slow.xml", held)
    daemon.client.poll_now(None)
    until(lambda: (daemon.status().get("progress") or {}).get("done") == 1,
          what="the wire to be fetched while Slow hangs")
    wire.add("Envoys agree on a prisoner exchange")
    result: list = []
    cli_thread = threading.Thread(target=lambda: result.append(run_cli(config, store, "poll", "--once",
                                                                       "--all")))
    cli_thread.start()
    until(lambda: daemon.status().get("queued"), what="the CLI's request to be queued")
    gate.set()
    cli_thread.join(30)
    (r,) = result
    assert r.exit_code == 0, r.output
    assert r.output.startswith("polled 2 feeds through the running daemon: 1 new item"), r.output
    assert daemon.status()["cycles"] == 3
    r = run_cli(config, store, "poll", "--once")  # nothing is due for an hour
    assert r.output == "polled 0 feeds through the running daemon: 0 new items; 2 not due (--all polls them)\n"


def test_poll_once_with_a_writer_that_is_not_a_daemon_is_refused(
        service_config: Path, tmp_path: Path) -> None:
    with Store.open(tmp_path / "store"):
        r = run_cli(service_config, tmp_path / "store", "poll", "--once", "--all")
    assert r.exit_code == 2 and "only one process may write it" in r.output


def test_sigkill_leaves_viewers_read_only_and_a_restart_resumes(start_daemon, tmp_path: Path,
                                                                wire: Wire) -> None:
    store = tmp_path / "store"
    daemon = start_daemon()
    daemon.wait_cycles(1)
    viewer = Store.open(store, readonly=True)
    backend = DaemonBackend.connect(viewer)
    assert backend is not None and backend.pid == daemon.pid
    states: list[bool] = []
    changed = threading.Event()
    backend.start(on_change=changed.set, on_connection=states.append)
    try:
        until(lambda: daemon.status()["viewers"] == 1, what="the viewer to subscribe")
        daemon.stop(signal.SIGKILL)
        until(lambda: states == [False], what="the viewer to notice")
        assert lock_holder(store) is None  # the kernel released the lock
        try:
            ControlClient(store).status()
            raise AssertionError("a killed daemon answered")
        except DaemonUnavailable as e:
            assert "no diplowatch daemon is running" in str(e)
        assert [i.title for i in viewer.recent()] == [SEED_TITLE]  # still usable, read-only
        with Store.open(store, readonly=True) as fresh:  # and the store loads whole
            assert [i.title for i in fresh.recent()] == [SEED_TITLE]

        wire.add("Envoys hold peace talks in Doha")
        restarted = start_daemon()  # replaces the stale socket, resumes the schedule
        until(lambda: states == [False, True], what="the viewer to reconnect")
        assert backend.pid == restarted.pid
        changed.clear()
        backend.poll_now(["Wire"])
        until(lambda: "Envoys hold peace talks in Doha" in {i.title for i in viewer.recent()},
              what="the new item in the viewer")
        assert changed.is_set()
        assert restarted.stop(signal.SIGINT) == 0
    finally:
        backend.close()
        viewer.close()


def test_daemon_with_a_bad_config_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[polling]\ninterval = 'soon'\n")
    r = run_daemon_command(bad, tmp_path / "db")
    assert r.returncode == 2 and "polling.interval" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "db").exists()

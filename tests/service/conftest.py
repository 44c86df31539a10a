"""Service fixtures: a feed on the loopback server whose items the test adds, a config that
polls it, and ``diplowatch daemon`` started as a real subprocess on a store in tmp_path."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from feeds.service.control import ControlClient, ControlError
from tests.feedserver import FeedServer, Response, rfc822, rss, rss_item

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "seed-feed.xml"
SEED_TITLE = "Russia, Ukraine continue efforts to ease tensions, defend interests"
WIRE_T0 = 1_649_203_200  # 2022-04-06T00:00Z, the day after the seed item
# An hour between scheduled polls and no jitter, so every cycle after the first is one the
# test asks for.
SERVICE_POLLING = ('interval = "1h"\nmin_interval = "1s"\nparse_workers = 1\n'
                   'timeout = "30s"\nconnect_timeout = "5s"\njitter = 0.0')


class Wire:
    """A loopback feed the test grows: ``add(title)`` puts a new item at its top."""

    def __init__(self, server: FeedServer, path: str = "/wire.xml") -> None:
        self.server, self.path = server, path
        self.items: list[str] = []
        self._serve()

    def _serve(self) -> None:
        # Dated after the seed item and one minute apart: the panes' order is fixed.
        body = rss([rss_item(t, guid=f"g{i}", link=f"https://news.example/{i}",
                             summary="Delegations met for negotiations on a ceasefire.",
                             pub=rfc822(WIRE_T0 + 60 * i))
                    for i, t in reversed(list(enumerate(self.items)))])
        self.server.route(self.path, Response(body=body))

    def add(self, title: str) -> None:
        self.items.append(title)
        self._serve()

    @property
    def url(self) -> str:
        return self.server.url(self.path)


@pytest.fixture
def wire(feed_server: FeedServer) -> Wire:
    return Wire(feed_server)


@pytest.fixture
def service_config(write_config, wire: Wire) -> Path:
    """Seed (a local file) and Wire (loopback); an hour between scheduled polls, so every
    cycle after the first is one the test asks for."""
    return write_config([("Seed", str(SEED)), ("Wire", wire.url)], polling=SERVICE_POLLING)


def until(check: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    """Wait for ``check()`` to be truthy (a bound, not a speed assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class DaemonProcess:
    """``diplowatch daemon`` in a subprocess; stderr goes to a file (the log lines)."""

    def __init__(self, config: Path, store: Path, log: Path) -> None:
        self.config, self.store, self.log = config, store, log
        self.proc: subprocess.Popen | None = None
        self.client = ControlClient(store)

    def start(self) -> "DaemonProcess":
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tui.cli.main", "--config", str(self.config), "--db",
                 str(self.store), "daemon"], cwd=REPO, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err)
        until(self._ready, what=f"the daemon to answer (log: {self.log})")
        return self

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the daemon exited {self.proc.returncode}:\n{self.stderr()}")
        try:
            return self.client.status().get("pid") == self.proc.pid
        except ControlError:
            return False

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def status(self) -> dict:
        return self.client.status()

    def wait_cycles(self, n: int) -> dict:
        """Wait until ``n`` cycles have finished and none is running or queued."""
        def done() -> dict | None:
            s = self.status()
            return s if s["cycles"] >= n and not s["polling"] and not s["queued"] else None
        return until(done, what=f"{n} poll cycles")  # type: ignore[return-value]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def stderr(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def start_daemon(tmp_path: Path, service_config: Path) -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(store: Path | None = None, config: Path | None = None) -> DaemonProcess:
        d = DaemonProcess(config or service_config, store or tmp_path / "store",
                          tmp_path / f"daemon-{len(started)}.log")
        started.append(d)
        return d.start()

    yield start
    for d in started:
        d.kill()

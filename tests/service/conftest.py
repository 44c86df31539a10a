"""Service fixtures: a feed on the loopback server whose items the test adds, a config that
polls it, and ``diplowatch daemon`` started as a real subprocess on a store in tmp_path."""
from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
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


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ServeProcess:
    """``diplowatch serve`` in a subprocess; ``url`` is the URL it printed (with its token)."""

    def __init__(self, config: Path, store: Path, log: Path, args: list[str], host: str) -> None:
        self.config, self.store, self.log, self.args = config, store, log, args
        self.host = host
        self.port = free_port(host)
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, env: dict[str, str] | None = None) -> "ServeProcess":
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tui.cli.main", "--config", str(self.config), "--db",
                 str(self.store), "serve", "--host", self.host, "--port", str(self.port),
                 *self.args], cwd=REPO, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=env)
        self.url = until(self._printed_url, timeout=30, what=f"serve's URL (log: {self.log})")
        return self

    def _printed_url(self) -> str | None:
        assert self.proc is not None
        found = re.search(r"; open (\S+)", self.output())
        if found is None and self.proc.poll() is not None:
            raise AssertionError(f"serve exited {self.proc.returncode}:\n{self.output()}")
        return found.group(1) if found else None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def base(self) -> str:
        """The URL without its query: the page's address once the token became a cookie."""
        return self.url.split("?", 1)[0].rstrip("/")

    @property
    def origin(self) -> str:
        return self.base

    @property
    def token(self) -> str:
        return self.url.split("token=", 1)[1]

    @property
    def cookie(self) -> str:
        return f"diplowatch-token-{self.port}={self.token}"

    def tabs(self) -> list[int]:
        """Pids of serve's children: the tab processes running now."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:
                pids.append(int(stat.parent.name))
        return pids

    def stop(self) -> None:
        if self.proc is None:
            return
        tabs = self.tabs()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self.proc.kill()
                self.proc.wait(10)
        for pid in tabs:  # tabs it started and did not wait for
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def start_serve(tmp_path: Path, service_config: Path) -> Iterator[Callable[..., ServeProcess]]:
    """``start_serve(*args, host=...)``: serve the store of tmp_path (that of ``start_daemon``)."""
    started: list[ServeProcess] = []

    def start(*args: str, host: str = "127.0.0.1", env: dict[str, str] | None = None) -> ServeProcess:
        s = ServeProcess(service_config, tmp_path / "store", tmp_path / f"serve-{len(started)}.log",
                         list(args), host)
        started.append(s)
        return s.start(env)

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def no_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """For CliRunner tests of a `serve` that must refuse: serving would never return."""
    from textual_serve.server import Server

    from tui.cli.serve_guard import GuardedServer

    def served(self, debug: bool = False) -> None:
        raise AssertionError("serve started serving instead of refusing")

    monkeypatch.setattr(Server, "serve", served)
    monkeypatch.setattr(GuardedServer, "serve", served)

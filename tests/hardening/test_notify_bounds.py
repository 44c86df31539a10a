"""notify_command under load: bounded concurrency, one time budget per poll cycle, a bounded
queue whose overflow is counted and summarised in one line, and a daemon that stops within
10 s on SIGTERM however many hits are pending (tests/service/test_daemon_notify.py)."""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import pytest

from feeds.analysis.notify import Notifier
from feeds.analysis.watch import WatchHit
from tests.features.conftest import make_item


def _hit(n: int = 0) -> WatchHit:
    return WatchHit(make_item(f"Ceasefire {n}"), ("ceasefire",))


def _recorder(log: Path, sleep: float) -> list[str]:
    """A command that logs its start and end (with its pid) around a sleep."""
    code = (f"import os, sys, time; sys.stdin.read(); f = open({str(log)!r}, 'a'); "
            f"f.write(f'start {{os.getpid()}} {{time.monotonic()}}\\n'); f.flush(); "
            f"time.sleep({sleep}); f.write(f'end {{os.getpid()}} {{time.monotonic()}}\\n'); f.close()")
    return [sys.executable, "-c", code]


def _events(log: Path) -> list[tuple[str, int, float]]:
    if not log.exists():
        return []
    return [(kind, int(pid), float(t)) for kind, pid, t in
            (line.split() for line in log.read_text().splitlines() if line.strip())]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def warnings():
    handler = _Lines()
    logger = logging.getLogger("diplowatch.watch")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_commands_run_with_bounded_concurrency(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    notifier = Notifier(_recorder(log, 0.4), timeout=10, concurrency=2)
    notifier.submit([_hit(n) for n in range(6)])
    notifier.close()
    events = sorted(_events(log), key=lambda e: (e[2], e[0] == "start"))
    running, most = 0, 0
    for kind, _pid, _t in events:
        running += 1 if kind == "start" else -1
        most = max(most, running)
    assert notifier.runs == 6 and len(events) == 12
    assert most == 2  # in parallel, never more than two


def test_a_burst_beyond_the_queue_is_counted_and_summarised_in_one_line(
        tmp_path: Path, warnings: list[str]) -> None:
    notifier = Notifier(_recorder(tmp_path / "runs.log", 5), timeout=10, concurrency=1,
                        queue_limit=3)
    notifier.submit([_hit(n) for n in range(50)])
    overflow = [line for line in warnings if "not notified" in line]
    assert len(overflow) == 1 and "queue of 3 is full" in overflow[0]
    assert notifier.dropped >= 50 - 3 - 1
    started = time.monotonic()
    notifier.close(timeout=0.2)  # the rest is dropped, the running command killed
    assert time.monotonic() - started < 5
    assert notifier.dropped + notifier.runs == 50


def test_a_cycle_shares_one_time_budget(tmp_path: Path, warnings: list[str]) -> None:
    log = tmp_path / "runs.log"
    notifier = Notifier(_recorder(log, 30), timeout=600, concurrency=1, budget=1.0)
    notifier.new_cycle()
    started = time.monotonic()
    notifier.submit([_hit(n) for n in range(5)])
    notifier.wait()
    assert time.monotonic() - started < 5  # not 5 × 30 s, not 5 × the 10 min timeout
    assert notifier.runs == 1 and notifier.dropped == 4
    assert any("notify budget" in e and "stopped after" in e for e in notifier.errors)
    assert len([line for line in warnings if "notify budget of 1 s was spent" in line]) == 1
    notifier.new_cycle()  # the next cycle gets a budget of its own
    notifier.submit([_hit(9)])
    notifier.close(timeout=0.5)
    assert notifier.runs == 2

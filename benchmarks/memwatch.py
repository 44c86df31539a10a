"""Peak resident memory of a process and all its descendants, sampled from /proc."""
from __future__ import annotations

import os
import threading
import time


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def tree_rss_mib(pid: int) -> float:
    """Current RSS of ``pid`` plus every descendant, in MiB."""
    total, stack = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * page
        except OSError:
            continue
        stack.extend(_children(p))
    return total / 1048576


class PeakTreeRSS:
    """``with PeakTreeRSS(pid) as peak: …; peak.mib`` — samples every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval, self.mib = pid, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.mib = max(self.mib, tree_rss_mib(self.pid))
            time.sleep(self.interval)

    def __enter__(self) -> "PeakTreeRSS":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

"""Peak memory of a process and all its descendants, sampled from /proc.

Two figures: the sum of the processes' RSS (counts the interpreter's shared pages once per
process, so it overstates a tree of Python processes) and the sum of their PSS (each shared
page split between the processes that map it: what the tree really costs the machine).
"""
from __future__ import annotations

import os
import threading
import time


def _children(pid: int) -> list[int]:
    """Children of every thread of ``pid``: a child started from a worker thread is listed
    under that thread's task only."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out.extend(int(x) for x in fh.read().split())
        except OSError:
            continue
    return out


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> bytes | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return None


def tree_memory_mib(pid: int) -> tuple[float, float]:
    """(sum of RSS, sum of PSS) of ``pid`` and every descendant, in MiB.

    A child that still runs its parent's command line is a fork (Python's subprocess uses
    vfork) that has not reached exec yet: for those microseconds it maps its parent's
    memory, and counting it would count the parent twice. It is left out."""
    rss = pss = 0
    stack = [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                rss += int(fh.read().split()[1]) * page
        except OSError:
            continue
        pss += _pss_kib(p) * 1024
        own = _cmdline(p)
        stack.extend(c for c in _children(p) if _cmdline(c) != own)
    return rss / 1048576, pss / 1048576


class PeakTreeRSS:
    """``with PeakTreeRSS(pid) as peak: …; peak.mib, peak.pss_mib`` — samples every
    ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval, self.mib, self.pss_mib = pid, interval, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss = tree_memory_mib(self.pid)
            self.mib, self.pss_mib = max(self.mib, rss), max(self.pss_mib, pss)
            time.sleep(self.interval)

    def __enter__(self) -> "PeakTreeRSS":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

"""diplowatch vs newsboat on one loopback feed farm, side by side, in the same run.

Serves ../shared/bench/feedfarm.py (200 feeds × 50 items over 50 loopback hosts by default)
and times, alternating which goes first each round:
  - diplowatch's headless poll: `diplowatch poll --once --all` (a whole process: start-up,
    fetch, parse in worker processes, classify, store, flush);
  - `newsboat -x reload` (reload-threads 8, its own cache file),
over the same URLs: cold (empty store/cache), all-304 (nothing changed), and after
`/_tick?churn=0.1` (about 10 % of the feeds gained items). newsboat's second reload is
unconditional (a known newsboat bug), so its all-304 time is its third reload, as measured
in the issue; the second is run and shown but not compared. The farm is left to finish its
start-up work (it builds a 1 GiB gzip bomb, ~2 s of CPU) and renders its documents before
each phase, so neither poller pays for the farm's own work. Memory is the peak over the
process and every descendant (parse workers), as the sum of their RSS (which
counts the interpreter's shared pages once per process) and of their PSS (shared pages
split: what the tree costs the machine). Each run's wall time and the
peak resident memory of its whole process tree are printed, with the ratio
diplowatch / newsboat. Skips newsboat cleanly when it is not installed.

Several farm sizes in one run (``--feeds 200,2000 --hosts 50,200``) end with each poller's
cost per feed at every size, so that its growth with the number of feeds shows (flat is
linear). ``--no-oneshot`` times only the resident daemon (and newsboat).

    python benchmarks/compare_newsboat.py [--rounds 3] [--feeds 200] [--items 50] [--hosts 50]
                                          [--no-oneshot] [--no-resident]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_service import bytecode_cache, wait  # noqa: E402
from benchmarks.farm import REPO, Farm, farm_available  # noqa: E402
from benchmarks.memwatch import PeakTreeRSS  # noqa: E402

PHASES = ("cold", "all-304", "churn 10%")
COMMAND = "poll --once → daemon"  # the whole command, with the daemon running
CYCLE_TIMEOUT = 600  # s, as long as a poller's own run may take (``timed``)


def timed(cmd: list[str], **kw) -> tuple[float, tuple[float, float], int, str]:
    """(wall s, (peak tree RSS MiB, peak tree PSS MiB), exit status, output)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    with PeakTreeRSS(proc.pid, interval=0.02) as peak:
        out, _ = proc.communicate(timeout=600)
    return time.perf_counter() - started, (peak.mib, peak.pss_mib), proc.returncode, out.strip()


class Diplowatch:
    name = "diplowatch"

    def __init__(self, farm: Farm, tmp: Path) -> None:
        self.cmd = [sys.executable, "-m", "tui.cli.main", "--config", str(farm.config_path),
                    "--db", str(tmp / "store"), "poll", "--once", "--all", "--quiet"]

    def reload(self) -> tuple[float, float, int, str]:
        return timed(self.cmd, cwd=REPO)


class Resident:
    """The monitor as it runs for months: `diplowatch daemon` already running (its process
    started, its store open, its parse workers warm); a cycle is asked for over its control
    socket and timed from the request to its `poll-finished` event."""

    name = "daemon"

    def __init__(self, farm: Farm, tmp: Path) -> None:
        self.farm, self.store = farm, tmp / "store"
        self.proc: subprocess.Popen | None = None
        self.first = True

    def _start(self) -> None:
        """Started only when its turn comes: its first cycle must not run beside another."""
        from feeds.service.control import ControlClient, ControlError

        self.log = self.store.parent / "daemon.log"
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tui.cli.main", "--config", str(self.farm.config_path), "--db",
                 str(self.store), "daemon"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=err)
        self.client = ControlClient(self.store)

        def answers() -> bool:
            self._check_alive()
            try:
                self.client.status()
                return True
            except ControlError:
                return False

        wait(answers, 60, "the daemon to answer")

    def _check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise SystemExit(f"the daemon exited {self.proc.returncode}:\n"
                             f"{self.log.read_text(errors='replace')[-3000:]}")

    def reload(self) -> tuple[float, tuple[float, float], int, str]:
        """The cycle's own duration, as the daemon measured it (poll-started → saved). After
        the first (the daemon's own, at its start), the cycle is asked for the way a user
        would: `diplowatch poll --once --all` with the daemon running, whose whole wall time
        (interpreter start, imports, request, the cycle, the report) is ``self.command``."""
        if self.proc is None:
            self._start()
        self.command = None
        with PeakTreeRSS(self.proc.pid, interval=0.02) as peak:
            if self.first:  # the daemon's own first cycle (cold) starts when it does
                self.first = False
                self._wait_cycles(1)
            else:
                before = self.client.status().get("cycles", 0)
                self.command, _, code, out = timed(
                    [sys.executable, "-m", "tui.cli.main", "--config", str(self.farm.config_path),
                     "--db", str(self.store), "poll", "--once", "--all", "--quiet"], cwd=REPO)
                if code not in (0, 1) or "through the running daemon" not in out:
                    raise SystemExit(f"poll --once through the daemon failed (exit {code}): {out[-300:]}")
                self._wait_cycles(before + 1)
        last = self.client.status()["last_cycle"]
        return float(last["seconds"]), (peak.mib, peak.pss_mib), 0, f"{last.get('new')} new"

    def _wait_cycles(self, n: int) -> None:
        def done() -> bool:
            self._check_alive()
            return self.client.status().get("cycles", 0) >= n

        wait(done, CYCLE_TIMEOUT, f"the daemon's poll cycle {n}")

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


class Newsboat:
    name = "newsboat"

    def __init__(self, farm: Farm, tmp: Path) -> None:
        conf = tmp / "newsboat.conf"
        conf.write_text("reload-threads 8\nsuppress-first-reload yes\n")
        self.cmd = ["newsboat", "-x", "reload", "-u", str(farm.urls_file), "-c", str(tmp / "cache.db"),
                    "-C", str(conf)]
        self.env = dict(os.environ, HOME=str(tmp), XDG_CONFIG_HOME=str(tmp), XDG_DATA_HOME=str(tmp))

    def reload(self) -> tuple[float, float, int, str]:
        return timed(self.cmd, env=self.env, cwd=self.env["HOME"])


def one_round(args: argparse.Namespace, feeds: int, hosts: int, newsboat_first: bool,
              with_newsboat: bool) -> dict:
    results: dict[tuple[str, str], tuple[float, float]] = {}
    with Farm(feeds, args.items, hosts) as farm, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "dw").mkdir()
        (tmp / "nb").mkdir()
        pollers: list = [Diplowatch(farm, tmp / "dw")] if args.oneshot else []
        (tmp / "daemon").mkdir()
        if args.resident:
            pollers.append(Resident(farm, tmp / "daemon"))
        if with_newsboat:
            nb = Newsboat(farm, tmp / "nb")
            pollers = [nb] + pollers if newsboat_first else pollers + [nb]
        try:  # a failed phase must not leave the daemon running
            for phase in PHASES:
                if phase == "churn 10%":
                    farm.tick(0.1)
                if phase != "all-304":
                    farm.warm()  # the farm renders its documents now, not on the first poller's time
                for p in pollers:
                    if phase == "all-304" and p.name == "newsboat":
                        wall, rss, code, _ = p.reload()  # its unconditional second reload
                        results[("newsboat 2nd (unconditional)", phase)] = (wall, rss)
                    farm.reset_stats()
                    wall, rss, code, tail = p.reload()
                    if code not in (0, 1):  # 1: a feed failed, still a full cycle
                        raise SystemExit(f"{p.name} {phase} failed (exit {code}): {tail[-300:]}")
                    stats = farm.stats()
                    results[(p.name, phase)] = (wall, rss)
                    if getattr(p, "command", None) is not None:
                        results[(COMMAND, phase)] = (p.command, rss)
                    print(f"    {p.name:<10} {phase:<10} {wall:6.2f} s  RSS {rss[0]:4.0f} / PSS {rss[1]:4.0f} MiB  exit {code}  "
                          f"served {stats.get('ok', 0)}×200 {stats.get('not_modified', 0)}×304")
        finally:
            for p in pollers:
                if hasattr(p, "close"):
                    p.close()
    return results


def mem(runs: list[tuple[float, tuple[float, float]]]) -> str:
    """Peak memory over the runs of a poller: sum of RSS; sum of PSS (shared pages split)."""
    return f"{max(r[0] for _, r in runs):4.0f}; {max(r[1] for _, r in runs):4.0f}"


def _sizes(args: argparse.Namespace) -> list[tuple[int, int]]:
    """(feeds, hosts) of each farm size asked for."""
    feeds = [int(n) for n in str(args.feeds).split(",")]
    hosts = [int(n) for n in str(args.hosts).split(",")]
    if len(hosts) == 1:
        hosts *= len(feeds)
    if len(hosts) != len(feeds):
        raise SystemExit("--hosts: one number, or one per --feeds size")
    return list(zip(feeds, hosts))


def _median(runs: dict, key: tuple[str, str]) -> float | None:
    return statistics.median(w for w, _ in runs[key]) if key in runs else None


def summary(args: argparse.Namespace, runs: dict, with_newsboat: bool) -> None:
    """The medians of one farm size, each poller against newsboat."""
    print(f"\nmedian over {args.rounds} rounds (min–max); load average after: {os.getloadavg()[0]:.2f}")
    print(f"  {'phase':<10} {'diplowatch':>23} {'newsboat':>23} {'ratio':>8}   peak MiB dw/nb (RSS; PSS)")
    rows = [("diplowatch", None, PHASES)] if args.oneshot else []
    if args.resident:
        rows += [("daemon", "the resident monitor (`diplowatch daemon` already running; "
                            "request → cycle saved):", PHASES),
                 (COMMAND, "`diplowatch poll --once --all` with that daemon running (the whole "
                           "command: start-up, request, the cycle, the report):", PHASES[1:])]
    for name, title, phases in rows:
        if title:
            print(f"  {title}")
        for phase in phases:
            walls = [w for w, _ in runs[(name, phase)]]
            # (three decimals: the resident all-304 cycle is ~0.1 s against a line of 0.12×)
            line = f"  {phase:<10} {statistics.median(walls):7.3f} s ({min(walls):.3f}–{max(walls):.3f})"
            if with_newsboat:
                nb = runs[("newsboat", phase)]
                nb_w = [w for w, _ in nb]
                line += (f" {statistics.median(nb_w):7.3f} s ({min(nb_w):.3f}–{max(nb_w):.3f})  "
                         f"{statistics.median(walls) / statistics.median(nb_w):6.3f}×")
                if name != COMMAND:
                    line += f"  {mem(runs[(name, phase)])} / {mem(nb)}"
            print(line)
    if with_newsboat:
        second = [w for w, _ in runs[("newsboat 2nd (unconditional)", "all-304")]]
        print(f"  (newsboat's unconditional 2nd reload: median {statistics.median(second):.2f} s; not compared)")


def per_feed(by_size: dict[tuple[int, int], dict]) -> None:
    """Each poller's median cycle per feed at every size, and its ratio to newsboat's."""
    sizes = list(by_size)
    print("\ncost per feed (median wall / feeds, ms; ratio to newsboat at the same size):")
    print(f"  {'poller':<22} {'phase':<10}" + "".join(f" {f'{f} feeds/{h} hosts':>24}" for f, h in sizes)
          + ("   last/first" if len(sizes) > 1 else ""))
    for name in ("daemon", "diplowatch", "newsboat"):
        for phase in PHASES:
            costs = [_median(by_size[size], (name, phase)) for size in sizes]
            if None in costs:
                continue
            cells = []
            for (feeds, _), runs, cost in zip(sizes, by_size.values(), costs):
                nb = _median(runs, ("newsboat", phase))
                ratio = f" ({cost / nb:4.2f}×)" if nb and name != "newsboat" else ""
                cells.append(f"{cost / feeds * 1000:8.2f} ms{ratio:>9}")
            growth = ""
            if len(sizes) > 1:
                growth = f"   {(costs[-1] / sizes[-1][0]) / (costs[0] / sizes[0][0]):5.2f}"
            print(f"  {name:<22} {phase:<10}" + "".join(f" {c:>24}" for c in cells) + growth)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--feeds", default="200", help="feeds in the farm; several sizes: 200,2000")
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--hosts", default="50", help="loopback hosts; one per size: 50,200")
    ap.add_argument("--no-resident", dest="resident", action="store_false",
                    help="skip timing a cycle of an already running `diplowatch daemon`")
    ap.add_argument("--no-oneshot", dest="oneshot", action="store_false",
                    help="skip timing `diplowatch poll --once` in a process of its own")
    ap.add_argument("--compile-each-run", dest="bytecode", action="store_false",
                    help="honour PYTHONDONTWRITEBYTECODE: every diplowatch process compiles its "
                         "modules from source (an installed copy has its bytecode)")
    args = ap.parse_args()
    if not farm_available():
        print("compare_newsboat: ../shared/bench/feedfarm.py not present; skipped")
        return 0
    with tempfile.TemporaryDirectory(prefix="dw-pycache-") as cache:
        if args.bytecode:
            bytecode_cache([REPO], Path(cache))
            print(f"bytecode: compiled once into {cache} (--compile-each-run: from source every run)")
        return _compare(args)


def _compare(args: argparse.Namespace) -> int:
    with_newsboat = shutil.which("newsboat") is not None
    if not with_newsboat:
        print("compare_newsboat: newsboat is not installed (Debian: apt-get install newsboat); "
              "timing diplowatch alone")
    by_size: dict[tuple[int, int], dict] = {}
    for feeds, hosts in _sizes(args):
        print(f"farm: {feeds} feeds × {args.items} items over {hosts} loopback hosts; "
              f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.2f}")
        runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for r in range(args.rounds):
            first = "newsboat" if r % 2 else "diplowatch"
            print(f"  round {r + 1} ({first} first):")
            for key, value in one_round(args, feeds, hosts, r % 2 == 1, with_newsboat).items():
                runs.setdefault(key, []).append(value)
        summary(args, runs, with_newsboat)
        by_size[(feeds, hosts)] = runs
    per_feed(by_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())

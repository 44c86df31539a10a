"""Headless poll cycles over a loopback farm (200 feeds × 50 items over 50 hosts):
cold, all-304, and after 10 % of the feeds changed. Each cycle is the real command
(`diplowatch poll --once --all`) in its own process: wall time and peak RSS are printed.

    python benchmarks/bench_poll.py [--feeds 200] [--items 50] [--hosts 50] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.farm import REPO, Farm, add_farm_args, farm_available  # noqa: E402


def run_poll(config: Path, db: Path, extra_env: dict | None = None) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS MiB, exit status, last line) of one `poll --once --all`."""
    env = dict(os.environ, **(extra_env or {}))
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli.main", "--config", str(config), "--db", str(db),
                             "poll", "--once", "--all", "--quiet"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    # ru_maxrss of the waited child covers the poll process; parse workers are its children
    # and are reported separately by the poll itself when DIPLOWATCH_BENCH is set.
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), out.strip().splitlines()[-1] if out.strip() else ""


def in_process_cycles(args: argparse.Namespace) -> dict[str, float]:
    """The same three cycles inside one process (as the dashboard and the daemon run them:
    interpreter started, store open, parse workers warm): Poller.poll_cycle alone."""
    from feeds.poll import aio
    from feeds.config.load import load_config
    from feeds.poll.poller import Poller
    from storage.store import Store

    out: dict[str, float] = {}
    with Farm(args.feeds, args.items, args.hosts) as farm, tempfile.TemporaryDirectory() as tmp:
        config = load_config(farm.config_path)
        store = Store.open(Path(tmp) / "store")
        poller = Poller(config, store)
        poller.warm_up(wait=30)  # parse workers started and imported, as the daemon's
        try:
            for phase in ("cold", "all-304", "churn 10%"):
                if phase == "churn 10%":
                    farm.tick(0.1)
                started = time.perf_counter()
                aio.run(poller.poll_cycle(force=True))
                out[phase] = time.perf_counter() - started
        finally:
            poller.close()
            store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    add_farm_args(ap)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not farm_available():
        print("bench_poll: ../shared/bench/feedfarm.py not present; skipped")
        return
    results: dict[str, list[tuple[float, float]]] = {"cold": [], "all-304": [], "churn 10%": []}
    for _ in range(args.rounds):
        with Farm(args.feeds, args.items, args.hosts) as farm, tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "store"
            for phase in ("cold", "all-304", "churn 10%"):
                if phase == "churn 10%":
                    farm.tick(0.1)
                farm.reset_stats()
                wall, rss, code, last = run_poll(farm.config_path, db)
                stats = farm.stats()
                results[phase].append((wall, rss))
                print(f"  {phase:<10} {wall:6.2f} s  peak RSS {rss:6.1f} MiB  exit {code}  "
                      f"server: {stats.get('ok', 0)}×200 {stats.get('not_modified', 0)}×304  | {last}")
    print(f"\nheadless poll, {args.feeds} feeds × {args.items} items over {args.hosts} loopback hosts, "
          f"{args.rounds} rounds (median, min–max):")
    for phase, runs in results.items():
        walls = [w for w, _ in runs]
        print(f"  {phase:<10} {statistics.median(walls):6.2f} s  ({min(walls):.2f}–{max(walls):.2f})  "
              f"peak RSS {max(r for _, r in runs):6.1f} MiB")
    cycles = [in_process_cycles(args) for _ in range(args.rounds)]
    print("\nthe poll cycle alone, in a running process (median, min–max):")
    for phase in results:
        walls = [c[phase] for c in cycles]
        print(f"  {phase:<10} {statistics.median(walls):6.2f} s  ({min(walls):.2f}–{max(walls):.2f})")


if __name__ == "__main__":
    main()

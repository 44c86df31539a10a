"""Service benchmarks: how fast viewers follow the daemon, and what a viewer costs.
Prints numbers, asserts nothing.

    python benchmarks/bench_service.py                 # empty store, 20 rounds, 3 viewers
    python benchmarks/bench_service.py --items 50000   # a generated 50k-item store (52 weeks)

A real ``diplowatch daemon`` (subprocess) polls a loopback feed and owns the store.

1. Store level: a viewer's ``DaemonBackend`` on a read-only store. Each round another
   client marks an item (read ↔ unread) through the daemon; measured: the mark's round trip
   (answered after the save), and the daemon's save (state.json's mtime) → the viewer's
   store reloaded (``on_change``).
2. Dashboard level: a headless viewer dashboard (``build_app`` + ``run_test``). Each round
   the feed gets a new item and another client asks the daemon to poll; measured: the
   daemon's save → the row in the Talks pane, and the poll request → the row.
3. Memory: resident size of N viewer dashboards (``diplowatch`` in tmux panes, 120x40,
   after the first paint), and of the daemon (alone, and with its parse worker).

``--cold N`` instead: N cold cycles of a fresh daemon on the 200-feed farm (Linux /proc):
the cycle as the daemon timed it, and its CPU while it ran: the daemon's process (its
event loop's thread, the others), its parse workers, and the daemon's peak RSS.
``--before DIR`` alternates with the tree in DIR (A/B; medians of each).

Target: viewer refresh <= 1 s after the daemon's write (median and max).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.memwatch import tree_memory_mib  # noqa: E402
from feeds.service.control import ControlClient, ControlError  # noqa: E402
from tests.feedserver import FeedServer, Response, rss, rss_item  # noqa: E402

TARGET = 1.0
TALK = "Envoys hold peace talks in round {n} of the negotiations"


class Wire:
    """A loopback feed; each new item is dated now, so it tops the Talks pane."""

    def __init__(self, server: FeedServer) -> None:
        self.server, self.titles, self.dates = server, [], []
        self.add(TALK.format(n=0))

    def add(self, title: str) -> None:
        self.titles.append(title)
        self.dates.append(formatdate(time.time(), usegmt=True))
        body = rss([rss_item(t, guid=f"g{i}", summary="Delegations met for negotiations.",
                             pub=self.dates[i])
                    for i, t in reversed(list(enumerate(self.titles)))])
        self.server.route("/wire.xml", Response(body=body))


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)


def start_daemon(config: Path, store: Path, env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as err:
        proc = subprocess.Popen([sys.executable, "-m", "tui.cli.main", "--config", str(config),
                                 "--db", str(store), "daemon"], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    client = ControlClient(store)

    def ready() -> bool:
        if proc.poll() is not None:
            raise SystemExit(f"the daemon exited: {log.read_text()}")
        try:
            s = client.status()
        except ControlError:
            return False
        return s["cycles"] >= 1 and not s["polling"]

    wait(ready, 120, "the daemon's first cycle")
    return proc


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"median {statistics.median(ms):7.1f} ms   max {max(ms):7.1f} ms   "
            f"(n={len(ms)})")


# --- 1. store level ---------------------------------------------------------------------------

def bench_store_level(store: Path, rounds: int) -> dict:
    from storage.store import Store
    from feeds.service.viewer import DaemonBackend

    viewer = Store.open(store, readonly=True)
    backend = DaemonBackend.connect(viewer)
    assert backend is not None, "no daemon"
    seen = threading.Event()
    stamp: dict[str, float] = {}

    def changed() -> None:
        stamp["seen"] = time.time()
        seen.set()

    backend.start(on_change=changed)
    wait(lambda: ControlClient(store).status()["viewers"] >= 1, 10, "the subscription")
    item = viewer.recent(1)[0]
    client = ControlClient(store)
    trips, follow = [], []
    for n in range(rounds):
        seen.clear()
        t0 = time.time()
        client.mark([item.id], read=n % 2 == 0)
        trips.append(time.time() - t0)
        if not seen.wait(10):
            raise SystemExit("the viewer never saw the mark")
        saved = os.stat(store / "state.json").st_mtime_ns / 1e9
        follow.append(stamp["seen"] - saved)
        time.sleep(0.05)
    backend.close()
    viewer.close()
    return {"mark_round_trip": trips, "save_to_viewer_reload": follow}


# --- 2. dashboard level -----------------------------------------------------------------------

def bench_dashboard(config: Path, store: Path, wire: Wire, rounds: int) -> dict:
    from tui.cli.context import AppContext
    from tui.cli.launch import build_app

    obj = AppContext(config_path=str(config), db_path=str(store))
    app = build_app(obj, offline=False, theme=None)
    assert app.backend.mode == "viewer", "the dashboard did not find the daemon"
    client = ControlClient(store)
    result: dict[str, list[float]] = {"save_to_row": [], "poll_request_to_row": []}

    def titles() -> list[str]:
        table = app.dashboard.pane("talks").table
        return [item.title for item in table.items.values()]

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(500):
                await pilot.pause(0.01)
                if app.dashboard.loaded and wire.titles[-1] in titles():
                    break
            for n in range(1, rounds + 1):
                title = TALK.format(n=len(wire.titles))
                wire.add(title)
                t0 = time.time()
                await asyncio.to_thread(client.poll_now, ["Wire"])
                for _ in range(5000):
                    await pilot.pause(0.002)
                    if title in titles():
                        break
                else:
                    raise SystemExit(f"round {n}: the row never appeared")
                shown = time.time()
                saved = os.stat(store / "state.json").st_mtime_ns / 1e9
                result["save_to_row"].append(shown - saved)
                result["poll_request_to_row"].append(shown - t0)

    asyncio.run(run())
    obj.close()
    return result


# --- 3. memory --------------------------------------------------------------------------------

def bench_memory(config: Path, store: Path, env: dict, viewers: int, tmp: Path) -> dict:
    if shutil.which("tmux") is None:
        return {"skipped": "tmux is not installed"}
    sock = str(tmp / "tmux.sock")
    tmux = ["tmux", "-S", sock]
    command = (f"exec {sys.executable} -m tui.cli.main --config {config} --db {store}")
    pids = []
    try:
        for i in range(viewers):
            subprocess.run([*tmux, "-f", "/dev/null", "new-session", "-d", "-s", f"v{i}",
                            "-x", "120", "-y", "40", command], check=True, env=env, cwd=ROOT)
            pid = int(subprocess.run([*tmux, "display-message", "-p", "-t", f"v{i}",
                                      "#{pane_pid}"], check=True, capture_output=True,
                                     text=True).stdout.strip())
            pids.append(pid)
        for i in range(viewers):
            wait(lambda i=i: "following it live" in subprocess.run(
                [*tmux, "capture-pane", "-p", "-t", f"v{i}"], capture_output=True,
                text=True).stdout, 60, f"viewer {i} to paint")
        time.sleep(1.0)  # settled after the first paint
        return {"viewer_rss_mib": [rss_mib(p) for p in pids]}
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


# --- cold cycles (--cold) ---------------------------------------------------------------------

def _cpu(path: str) -> float:
    """CPU seconds of /proc/<path>/stat (a process or one of its threads); 0 once gone."""
    try:
        with open(f"/proc/{path}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """Children of any of the process's threads (the workers start from a thread)."""
    kids = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as fh:
            kids += [int(k) for k in fh.read().split()]
    return kids


def _cold_cycle(tree: Path, config: Path, work: Path) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    home = work / "home"
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_DATA_HOME": str(home / ".local/share"), "XDG_STATE_HOME": str(home / ".local/state")}
    home.mkdir(parents=True)
    with open(work / "daemon.log", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "tui.cli.main", "--config", str(config),
                                 "--db", str(work / "store"), "daemon"], cwd=tree, env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    client, start = ControlClient(work / "store"), None
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the daemon exited: {(work / 'daemon.log').read_text()[-2000:]}")
            try:
                status = client.status()
            except ControlError:
                status = {}
            if status.get("polling") and start is None:  # (the workers are up by then)
                workers = _children(proc.pid)
                start = (_cpu(str(proc.pid)), _cpu(f"{proc.pid}/task/{proc.pid}"),
                         sum(_cpu(str(k)) for k in workers))
            if status.get("cycles", 0) >= 1 and start is not None:
                end = (_cpu(str(proc.pid)), _cpu(f"{proc.pid}/task/{proc.pid}"),
                       sum(_cpu(str(k)) for k in workers))
                break
            time.sleep(0.02)
        with open(f"/proc/{proc.pid}/status") as fh:
            peak = next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmHWM"))
    finally:
        proc.terminate()
        proc.wait(60)
    process, loop, workers_cpu = (b - a for a, b in zip(start, end))
    return {"cycle": status["last_cycle"]["seconds"], "process": process, "loop": loop,
            "threads": process - loop, "workers": workers_cpu, "peak_rss": peak}


# What diplowatch's processes import (the one-shot poll, the daemon, their parse workers),
# compiled before anything is timed.
_MODULES = ("tui.cli.main, tui.cli.logs, tui.cli.service, feeds.service.control, "
            "feeds.service.daemon, feeds.service.pipeline, feeds.poll.poller, feeds.parse.worker, "
            "feeds.parse.pool, feeds.parse.document, feeds.parse.fast, feeds.classify.engine, "
            "feeds.classify.actors, feeds.analysis.watch, feeds.analysis.clusters, "
            "feeds.analysis.notify, storage.store")


def bytecode_cache(trees: list[Path], cache: Path) -> None:
    """Every Python process of the run reads its compiled modules from ``cache``, filled now
    for each tree: as an installed diplowatch does (pip compiles at install), while a checkout
    run with PYTHONDONTWRITEBYTECODE=1 compiles ~100 modules from source in every process
    (~0.3 s each, measured), counted in whatever is timed."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(cache)
    for tree in trees:
        subprocess.run([sys.executable, "-c", "import " + _MODULES], cwd=tree, check=True)


def bench_cold(runs: int, before: Path | None) -> None:
    from benchmarks.farm import Farm

    trees = [ROOT] + ([before] if before else [])
    got: dict[Path, list[dict]] = {t: [] for t in trees}
    with Farm(200, 50, 50) as farm, tempfile.TemporaryDirectory(prefix="dw-cold-") as tmp:
        bytecode_cache(trees, Path(tmp) / "pycache")
        for n in range(runs):
            for tree in trees if n % 2 == 0 else trees[::-1]:
                farm.warm()
                row = _cold_cycle(tree, farm.config_path, Path(tmp) / "run")
                got[tree].append(row)
                print(f"  {tree}: " + "  ".join(f"{k} {v:.2f}" for k, v in row.items()), flush=True)
    print("cold cycle, 200 feeds x 50 items (seconds; CPU while it ran; load "
          f"{os.getloadavg()[0]:.1f} after)")
    for tree, rows in got.items():
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        print(f"  {tree}: cycle {med['cycle']:.3f}  daemon CPU {med['process']:.2f} "
              f"(loop {med['loop']:.2f}, other threads {med['threads']:.2f})  workers "
              f"{med['workers']:.2f}  peak RSS {med['peak_rss']:.0f} MiB  (medians of {len(rows)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=0, help="pre-fill the store (gen_store)")
    parser.add_argument("--weeks", type=int, default=52,
                        help="weeks the generated items span (2: all in the recent window)")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--viewers", type=int, default=3)
    parser.add_argument("--cold", type=int, default=0, metavar="N",
                        help="only time N cold cycles of a fresh daemon on the farm")
    parser.add_argument("--before", type=Path, help="with --cold: alternate with this tree")
    args = parser.parse_args()
    if args.cold:
        bench_cold(args.cold, args.before)
        return
    tmp = Path(tempfile.mkdtemp(prefix="dw-service-"))
    env = {**os.environ, "XDG_STATE_HOME": str(tmp / "state"), "XDG_CONFIG_HOME": str(tmp / "cfg"),
           "TERM": "xterm-256color"}
    env.pop("DIPLOWATCH_CONFIG", None)
    env.pop("DIPLOWATCH_DB", None)
    os.environ.update(XDG_STATE_HOME=env["XDG_STATE_HOME"], XDG_CONFIG_HOME=env["XDG_CONFIG_HOME"])
    store = tmp / "store"
    if args.items:
        from benchmarks.gen_store import generate_store

        t = time.time()
        generate_store(store, args.items, weeks=args.weeks)
        print(f"generated {args.items:,} items in {time.time() - t:.1f} s")
    with FeedServer() as server:
        wire = Wire(server)
        config = tmp / "config.toml"
        config.write_text('[polling]\ninterval = "1h"\nmin_interval = "1s"\nparse_workers = 1\n'
                          f'jitter = 0.0\n\n[[feeds]]\nname = "Wire"\nurl = "{server.url("/wire.xml")}"\n')
        daemon = start_daemon(config, store, env, tmp / "daemon.log")
        try:
            results: dict = {"items": args.items, "rounds": args.rounds}
            results["store"] = bench_store_level(store, args.rounds)
            results["dashboard"] = bench_dashboard(config, store, wire, args.rounds)
            results["memory"] = bench_memory(config, store, env, args.viewers, tmp)
            results["memory"]["daemon_rss_mib"] = rss_mib(daemon.pid)
            results["memory"]["daemon_tree_rss_mib"] = tree_memory_mib(daemon.pid)[0]
        finally:
            daemon.terminate()
            daemon.wait(30)
    print(f"\nviewer refresh after a daemon write (store of {args.items:,} items over "
          f"{args.weeks} weeks; target <= "
          f"{TARGET * 1000:.0f} ms)")
    print(f"  mark round trip (saved)        {summary(results['store']['mark_round_trip'])}")
    print(f"  save → viewer store reloaded   {summary(results['store']['save_to_viewer_reload'])}")
    print(f"  save → row in viewer's pane    {summary(results['dashboard']['save_to_row'])}")
    print(f"  poll request → row in pane     {summary(results['dashboard']['poll_request_to_row'])}")
    mem = results["memory"]
    if "viewer_rss_mib" in mem:
        print(f"memory: viewer dashboards {', '.join(f'{m:.0f}' for m in mem['viewer_rss_mib'])} MiB "
              f"(mean {statistics.mean(mem['viewer_rss_mib']):.0f} MiB)")
    print(f"memory: daemon {mem['daemon_rss_mib']:.0f} MiB, with its parse worker "
          f"{mem['daemon_tree_rss_mib']:.0f} MiB")
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "service.json").write_text(json.dumps(results, indent=1))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

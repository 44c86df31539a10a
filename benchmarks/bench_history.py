"""A year of history: does the dashboard still open fast, and do writes stay flat?

Generates two stores with benchmarks/gen_store.py — 10,000 and 1,000,000 items across
100 feeds, spread over the last 52 weeks — and measures on each, every figure in its own
process:
  - launch to the first painted dashboard (headless, offline; benchmarks/bench_tui.py's
    child) and its resident memory;
  - the write after a poll cycle: 100 new items upserted, then the flush (files written);
  - a search over the whole history (`diplowatch list --search … --archive`), the command a
    user runs, with its progress indicator.

    python benchmarks/bench_history.py [--dir DIR --keep] [--sizes 10000,1000000]

Targets: with 1,000,000 items, first paint ≤ 1.0 s, resident ≤ 300 MB, the write
after a poll ≤ 0.3 s and the same as with 10,000 items (± noise), a full-history search
≤ 10 s with a progress indicator.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child_write(db: str) -> dict:
    """The write after a poll: 100 new items, then the flush (median of 5)."""
    from benchmarks.gen_store import make_items
    from storage.store import Store

    store = Store.open(db)
    flushes, files = [], 0
    for k in range(5):
        store.upsert_items(make_items(100, time.time(), seed=5000 + k, n_feeds=100,
                                      start_index=(10**11) + k * 1000 + int(time.time())))
        t0 = time.perf_counter()
        report = store.flush()
        flushes.append(time.perf_counter() - t0)
        files = report.files
    store.close()
    return {"flush_s": statistics.median(flushes), "flush_max_s": max(flushes), "files": files}


def run(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=ROOT, **kw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--child", nargs=2)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child_write(a.child[1])))
        return
    from benchmarks.bench_tui import measure_paint
    from benchmarks.gen_store import generate_store
    from feeds.config.load import bundled_config_path

    base = Path(a.dir) if a.dir else Path(tempfile.mkdtemp(prefix="diplowatch-history-"))
    base.mkdir(parents=True, exist_ok=True)
    home = base / "home"
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local" / "share"), PYTHONPATH=str(ROOT))
    os.environ.update(env)
    config = bundled_config_path()
    print(f"bench_history: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, dir {base}")
    for n in [int(x) for x in a.sizes.split(",")]:
        db = base / f"store-{n}"
        if not (a.keep and db.is_dir()):
            shutil.rmtree(db, ignore_errors=True)
            t0 = time.perf_counter()
            generate_store(db, n, n_feeds=100, weeks=52, seed=0)
            print(f"\n{n:,} items over 52 weeks × 100 feeds (generated in {time.perf_counter() - t0:.0f} s, "
                  f"{sum(f.stat().st_size for f in db.glob('items-*.json')) / 1e6:.0f} MB of week files)")
        else:
            print(f"\n{n:,} items over 52 weeks × 100 feeds (reused)")
        r = measure_paint(db, config)
        settled = "timed out" if r["extras"] is None else f"in at {r['extras']:.2f} s"
        print(f"  dashboard: first frame {r['first_frame']:.2f} s, panes painted {r['painted']:.2f} s "
              f"(median {r['painted_median']:.2f} s, {r['rows']} rows), RSS {r['rss_mb']:.0f} MB; "
              f"whole recent window, stories and sparklines {settled}, "
              f"RSS then {r['rss_extras_mb']:.0f} MB (peak {r['hwm_mb']:.0f} MB)")
        w = json.loads(run(sys.executable, __file__, "--child", "write", str(db), env=env).stdout)
        print(f"  write after a poll (100 new items): flush {w['flush_s'] * 1000:.0f} ms median, "
              f"{w['flush_max_s'] * 1000:.0f} ms max, {w['files']} files")
        # The same current week without the year behind it: a write costs what the current
        # week holds (it is rewritten whole), whatever the history.
        alone = base / f"store-{n}-current-week-only"
        shutil.rmtree(alone, ignore_errors=True)
        alone.mkdir()
        from storage.partition import partition_name, week_key_at

        current = partition_name(week_key_at(time.time()))
        for name in ("state.json", current):
            if (db / name).exists():
                shutil.copy2(db / name, alone / name)
        in_week = len(json.loads((alone / current).read_bytes() or b"{}").get("items", {})) \
            if (alone / current).exists() else 0
        w2 = json.loads(run(sys.executable, __file__, "--child", "write", str(alone), env=env).stdout)
        print(f"  the same current week ({in_week:,} items) without the history: flush "
              f"{w2['flush_s'] * 1000:.0f} ms median, {w2['flush_max_s'] * 1000:.0f} ms max")
        shutil.rmtree(alone, ignore_errors=True)
        t0 = time.perf_counter()
        out = run(sys.executable, "-m", "tui.cli.main", "--config", str(config), "--db", str(db), "list",
                  "--search", "ceasefire", "--archive", "--format", "json", "--limit", "100000", env=env)
        took = time.perf_counter() - t0
        hits = len(json.loads(out.stdout)) if out.returncode == 0 else f"failed: {out.stderr[-300:]}"
        print(f"  search of the whole history for 'ceasefire': {took:.1f} s, {hits} items")
    if not a.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The fault drill: one headless poll over the feed farm with every hostile feed included.

Serves ../shared/bench/feedfarm.py --with-faults (200 good feeds over 50 loopback hosts plus
25 hostile or broken ones under /fault/), runs `diplowatch poll --once --all` on it, and
prints the wall time, the peak resident memory of the whole process tree (the poll and its
parse workers), how many good items were kept, and each fault feed's outcome in one line.

    python benchmarks/drill.py [--feeds 200] [--hosts 50]

Targets: ≤ 30 s wall, ≤ 300 MB peak, 0 crashes, every good feed's items kept.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.farm import REPO, Farm, add_farm_args, farm_available  # noqa: E402
from benchmarks.memwatch import PeakTreeRSS  # noqa: E402


def cli(config: Path, db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli.main", "--config", str(config), "--db", str(db), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    add_farm_args(ap)
    args = ap.parse_args()
    if not farm_available():
        print("drill: ../shared/bench/feedfarm.py not present; skipped")
        return 0
    with Farm(args.feeds, args.items, args.hosts, faults=True) as farm, tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "store"
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "tui.cli.main", "--config", str(farm.config_path), "--db",
                                 str(db), "poll", "--once", "--all"],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with PeakTreeRSS(proc.pid) as peak:
            out, err = proc.communicate(timeout=300)
        wall = time.perf_counter() - started
        crashed = "Traceback" in out + err or proc.returncode not in (0, 1)
        health = json.loads(cli(farm.config_path, db, "feeds", "list", "--format", "json").stdout)
        items = json.loads(cli(farm.config_path, db, "list", "--format", "json", "--limit", "100000").stdout)
        good = [h for h in health if not h["feed"].startswith("Fault ")]
        faults = [h for h in health if h["feed"].startswith("Fault ")]
        good_ok = sum(h["status"] == "ok" for h in good)
        good_items = sum(h["items_stored"] for h in good)
        print(f"fault drill: {len(good)} good feeds × {args.items} items over {args.hosts} hosts + "
              f"{len(faults)} fault feeds")
        print(f"  wall {wall:.1f} s · peak memory (poll + parse workers) RSS {peak.mib:.0f} MiB, PSS {peak.pss_mib:.0f} MiB · exit {proc.returncode}"
              f" · crashes {int(crashed)}")
        print(f"  good feeds ok: {good_ok}/{len(good)} · good items stored: {good_items} "
              f"(expected {len(good) * args.items}) · items in the store: {len(items)}")
        for h in faults:
            detail = h["error"] or (f"{h['items_stored']} items stored" if h["status"] in ("ok", "not modified") else "")
            print(f"  {h['feed'][6:]:<15} {h['status']:<13} {detail}")
        if crashed:
            print(err[-3000:])
        return 1 if crashed or good_ok < len(good) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Store benchmarks: the numbers behind the storage design. Prints, asserts nothing.

    python benchmarks/bench_store.py                 # 10k, 100k (one partition), 1M (52 weeks)
    python benchmarks/bench_store.py --dir /tmp/dwb --keep   # reuse generated stores
    python benchmarks/bench_store.py --no-million    # quick run

Every measurement runs in a fresh process so RSS figures are the store's own.
Targets (team): flush after a poll at 100k <= 1 s; with 1M stored <= 0.3 s and the same as
with 10k; query(limit=50) at 100k <= 1 s; open at 1M (recent window) <= 1.5 s and
RSS <= 300 MB; full-history text search over 1M <= 10 s.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss() -> dict[str, float]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS", "VmHWM")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out


def measure(kind: str, path: str) -> dict:
    """Runs in the child process."""
    from benchmarks.gen_store import make_items

    from storage import ItemFilter, Store  # noqa: E402

    res: dict = {}
    if kind == "open":
        rss0 = _rss()["VmRSS"]
        t0 = time.perf_counter()
        store = Store.open(path)
        res["open_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        first = store.recent(50)
        counts = store.counts_by_label()
        store.daily_counts(30)
        res["first_paint_queries_ms"] = (time.perf_counter() - t1) * 1000
        res["in_memory"] = len(store.recent())
        res["stored"] = sum(counts.values())  # generated items carry at most one label
        res["rss_mb"] = _rss()["VmRSS"]
        res["peak_rss_mb"] = _rss()["VmHWM"]
        res["python_and_imports_mb"] = rss0
        assert len(first) == 50
        store.close()
    elif kind == "flush":
        store = Store.open(path)
        upserts, flushes, reports = [], [], []
        base = random.SystemRandom().randrange(10**12)  # fresh ids even on a reused store
        for k in range(7):
            items = make_items(100, time.time(), seed=1000 + k, start_index=base + k * 1000)
            t0 = time.perf_counter()
            new = store.upsert_items(items)
            t1 = time.perf_counter()
            rep = store.flush()
            t2 = time.perf_counter()
            assert len(new) == 100
            upserts.append(t1 - t0)
            flushes.append(t2 - t1)
            reports.append(rep)
        res["upsert_100_s"] = statistics.median(upserts)
        res["flush_s"] = statistics.median(flushes)
        res["flush_max_s"] = max(flushes)
        res["files_written"] = reports[-1].files
        res["bytes_written_mb"] = reports[-1].bytes / 2**20
        store.close()
    elif kind == "query":
        store = Store.open(path, readonly=True)
        for name, f in [("query_limit50_s", ItemFilter(limit=50)),
                        ("query_text_limit50_s", ItemFilter(text="geneva talks", limit=50)),
                        ("query_label_unread_limit50_s",
                         ItemFilter(label="sanctions", unread=True, limit=50)),
                        ("query_text_all_in_memory_s", ItemFilter(text="geneva", archive=False))]:
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                got = store.query(f)
                times.append(time.perf_counter() - t0)
            res[name] = statistics.median(times)
            res[name.replace("_s", "_hits")] = len(got)
        store.close()
    elif kind == "search":
        store = Store.open(path, readonly=True)
        rss_open = _rss()["VmRSS"]
        ticks: list[tuple[int, int]] = []
        t0 = time.perf_counter()
        got = store.query(ItemFilter(text="ceasefire geneva", archive=True),
                          progress=lambda d, t: ticks.append((d, t)))
        res["full_search_s"] = time.perf_counter() - t0
        res["full_search_hits"] = len(got)
        res["partitions_scanned"] = ticks[-1][1] if ticks else 0
        res["progress_calls"] = len(ticks)
        res["peak_rss_mb"] = _rss()["VmHWM"]
        res["rss_after_open_mb"] = rss_open
        del got
        t0 = time.perf_counter()
        got = store.query(ItemFilter(text="ceasefire geneva", archive=True, limit=50),
                          progress=lambda d, t: ticks.append((d, t)))
        res["archive_search_limit50_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        n = sum(store.items_per_feed().values())
        res["items_per_feed_total"] = n
        res["manifest_counts_s"] = time.perf_counter() - t0
        store.close()
    return res


def child(kind: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", kind, str(path)],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{kind} on {path} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure(path: Path, n: int, weeks: int) -> float | None:
    from benchmarks.gen_store import generate_store
    if (path / "state.json").exists():
        return None
    t0 = time.perf_counter()
    generate_store(path, n, n_feeds=40, weeks=weeks, seed=n % 97)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path)
    ap.add_argument("--keep", action="store_true", help="keep generated stores")
    ap.add_argument("--no-million", action="store_true")
    ap.add_argument("--measure", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.measure:
        print(json.dumps(measure(*a.measure)))
        return
    base = a.dir or Path(tempfile.mkdtemp(prefix="diplowatch-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    plan = [("10k, 1 partition", base / "s10k", 10_000, 1),
            # the size of the 1M store's current week: same write cost means history is free
            ("19k, 1 partition", base / "s19k", 19_231, 1),
            ("100k, 1 partition", base / "s100k", 100_000, 1)]
    if not a.no_million:
        plan.append(("1M, 52 weekly partitions", base / "s1m", 1_000_000, 52))
    results = {}
    try:
        for label, path, n, weeks in plan:
            gen = ensure(path, n, weeks)
            r = {"generate_s": gen}
            r.update({f"open.{k}": v for k, v in child("open", path).items()})
            r.update({f"query.{k}": v for k, v in child("query", path).items()})
            r.update({f"flush.{k}": v for k, v in child("flush", path).items()})
            if n >= 1_000_000:
                r.update({f"search.{k}": v for k, v in child("search", path).items()})
            results[label] = r
            print(f"\n== {label}  ({path})")
            for k, v in r.items():
                if v is None:
                    continue
                print(f"  {k:45s} {v:10.3f}" if isinstance(v, float) else f"  {k:45s} {v:>10}")
    finally:
        if not a.keep and a.dir is None:
            shutil.rmtree(base, ignore_errors=True)
    print("\nsummary — targets: poll write at 100k <= 1 s; at 1M <= 0.3 s and equal to a store "
          "holding only the current week; query(limit=50) <= 1 s; open at 1M <= 1.5 s, "
          "RSS <= 300 MB; full search over 1M <= 10 s")
    for label, r in results.items():
        print(f"  {label}: write after a poll {r['flush.upsert_100_s'] + r['flush.flush_s']:.3f}s "
              f"(upsert {r['flush.upsert_100_s']:.3f} + flush {r['flush.flush_s']:.3f}; "
              f"{r['flush.files_written']} files, {r['flush.bytes_written_mb']:.1f} MB) | "
              f"open {r['open.open_s']:.2f}s, RSS {r['open.rss_mb']:.0f} MB "
              f"(peak {r['open.peak_rss_mb']:.0f}) | query(limit=50) "
              f"{r['query.query_limit50_s'] * 1000:.2f} ms"
              + (f" | full search {r['search.full_search_s']:.2f}s over "
                 f"{r['search.partitions_scanned']} partitions" if "search.full_search_s" in r
                 else ""))


if __name__ == "__main__":
    main()

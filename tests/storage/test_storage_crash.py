"""Crash drills: a writer dying at any moment leaves a store that loads, holding the old or
the new state of each file, never a mix, never empty (reliability checklist 28, 29)."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage import ItemFilter, Store
from storage.atomic import TMP_SUFFIX

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

PRELUDE = """
import os, sys, time
from feeds.model import Item, utc_iso
from storage import Store

def batch(b, n, title=None):
    now = utc_iso(time.time())
    return [Item(id=f"{(b << 16) | i:016x}", feed=f"https://f{i % 7}.example/rss",
                 source="Source", guid=f"g{b}-{i}",
                 title=title or f"Batch {b} item {i} ceasefire talks resume",
                 summary="Delegations met for a third round of talks. " * 4, link="",
                 published=now, first_seen=now, labels=("talks",), primary="talks",
                 scores={"talks": 1.0}) for i in range(n)]
"""

POLL_LOOP = PRELUDE + """
path, b, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
store = Store.open(path)
print("ready", flush=True)
while True:
    store.upsert_items(batch(b, size))
    print(f"flushing {b}", flush=True)
    store.flush()
    print(f"flushed {b}", flush=True)
    b += 1
"""

CANARY_LOOP = PRELUDE + """
path, g, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
store = Store.open(path)
print("ready", flush=True)
while True:
    # same-length values: an in-place writer would leave valid JSON with a mix of generations
    store.upsert_items(batch(0, size, title=f"generation {g:08d}"))
    print(f"flushing {g}", flush=True)
    store.flush()
    print(f"flushed {g}", flush=True)
    g += 1
"""

INJECT = PRELUDE + """
import storage.atomic as atomic
path, mode = sys.argv[1], sys.argv[2]
store = Store.open(path)
store.upsert_items(batch(2, 100))
real_replace = os.replace
def replace(src, dst):
    if str(dst).endswith(".json"):
        os._exit(3)  # power lost with the new data only in the temp file
    real_replace(src, dst)
def fsync_dir(d):
    os._exit(3)  # power lost right after the rename
if mode == "before":
    atomic.os.replace = replace
else:
    atomic.fsync_dir = fsync_dir
store.flush()
"""


def _run(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)],
                            stdout=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)


def _preload(path: Path, n: int, title: str = "") -> None:
    subprocess.run(
        [sys.executable, "-c", PRELUDE + "s = Store.open(sys.argv[1]); "
         "s.upsert_items(batch(0, int(sys.argv[2]), sys.argv[3] or None)); s.close()",
         str(path), str(n), title], env=ENV, cwd=ROOT, check=True)


def _kill_at_random(proc: subprocess.Popen, rnd: random.Random, max_delay: float,
                    aim_at_flush: bool = False) -> list[str]:
    """SIGKILL the child at a random moment, or (aim_at_flush) a few ms after it announced
    a flush, to land inside the write. Returns everything it printed."""
    def next_line() -> str:
        raw = proc.stdout.readline()
        if not raw:  # the child died on its own: fail instead of waiting forever
            proc.kill()
            pytest.fail(f"writer exited early with {proc.wait()}")
        return raw.strip()

    lines = [next_line()]
    assert lines[0] == "ready"
    if aim_at_flush:
        for _ in range(rnd.randint(1, 3)):
            while not (line := next_line()).startswith("flushing"):
                lines.append(line)
            lines.append(line)
        time.sleep(rnd.uniform(0.0, max_delay))
    else:
        time.sleep(rnd.uniform(0.0, max_delay))
    proc.send_signal(signal.SIGKILL)
    out = proc.stdout.read()
    proc.wait()
    return lines + out.split("\n")


def _has_temp(db: Path) -> bool:
    """A temp file left behind means the kill landed between mkstemp and os.replace."""
    return any(p.name.endswith(TMP_SUFFIX) for p in db.iterdir())


def _batches(store: Store) -> dict[int, int]:
    counts: dict[int, int] = {}
    for item in store.query(ItemFilter(archive=True)):
        b = int(item.id, 16) >> 16
        counts[b] = counts.get(b, 0) + 1
    return counts


@pytest.mark.parametrize("mode", ["before", "after"])
def test_power_loss_around_the_rename(tmp_path, mode):
    db = tmp_path / "db"
    _preload(db, 50)
    proc = _run(INJECT, db, mode)
    proc.wait()
    assert proc.returncode == 3
    if mode == "before":
        assert any(p.name.endswith(TMP_SUFFIX) for p in db.iterdir())  # the killed write
    with Store.open(db) as store:
        counts = _batches(store)
        # The 100 new items went to the week's append log (fsynced) before state.json,
        # whose rename is the one killed: they are there, and the counts recomputed.
        assert counts == {0: 50, 2: 100}
        assert store.counts_by_label()["talks"] == sum(counts.values())
    assert not any(p.name.endswith(TMP_SUFFIX) for p in db.iterdir())


@pytest.mark.slow
def test_sigkill_during_poll_and_flush_loop(tmp_path, capsys):
    """>= 50 SIGKILLs at random moments: the store always loads and holds every batch whose
    flush was reported, and no batch partially."""
    db = tmp_path / "db"
    size, preload = 50, 3000
    _preload(db, preload)
    rnd = random.Random(20240510)
    confirmed: set[int] = set()
    kills = mid_flush = mid_write = 0
    next_b, t0 = 1, time.monotonic()
    while kills < 50 or (kills < 200 and time.monotonic() - t0 < 20):
        aim = kills % 2 == 1
        lines = _kill_at_random(_run(POLL_LOOP, db, next_b, size), rnd, 0.01 if aim else 0.12,
                                aim_at_flush=aim)
        mid_write += _has_temp(db)
        confirmed |= {int(x.split()[1]) for x in lines if x.startswith("flushed ")}
        last = [x for x in lines if x][-1:] or ["ready"]
        mid_flush += last[0].startswith("flushing ")
        kills += 1
        with Store.open(db) as store:  # must load, and the killed writer's lock is free
            counts = _batches(store)
        assert counts.pop(0) == preload
        assert all(n == size for n in counts.values()), "a batch was half-written"
        assert confirmed <= counts.keys(), "a reported flush was lost"
        next_b = max(counts, default=0) + 1
    elapsed = time.monotonic() - t0
    with capsys.disabled():
        print(f"\n[kill drill] {kills} SIGKILLs in {elapsed:.1f}s, {mid_flush} inside flush() "
              f"({mid_write} mid-write: temp file left), {len(confirmed)} flushes confirmed, "
              f"{next_b - 1} batches stored, 0 unreadable stores, 0 lost or partial batches")


@pytest.mark.slow
def test_same_length_update_canary(tmp_path, capsys):
    """Every item rewritten to a same-length value per generation, killed during the loop:
    the file always holds exactly one generation, at least the last confirmed one."""
    db = tmp_path / "db"
    size = 2000
    _preload(db, size, title=f"generation {0:08d}")
    rnd = random.Random(7)
    last_confirmed, g = -1, 1
    kills = mid_flush = mid_write = 0
    t0 = time.monotonic()
    while kills < 30:
        aim = kills % 4 != 0
        lines = _kill_at_random(_run(CANARY_LOOP, db, g, size), rnd, 0.006 if aim else 0.25,
                                aim_at_flush=aim)
        mid_write += _has_temp(db)
        done = [int(x.split()[1]) for x in lines if x.startswith("flushed ")]
        last_confirmed = max([last_confirmed, *done])
        mid_flush += ([x for x in lines if x][-1:] or ["ready"])[0].startswith("flushing ")
        kills += 1
        with Store.open(db) as store:
            titles = {i.title for i in store.recent()}
            assert len(store.recent()) == size
        assert len(titles) == 1, f"mixed generations on disk: {sorted(titles)[:3]}…"
        (title,) = titles
        on_disk = int(title.split()[1])
        assert on_disk >= last_confirmed
        g = on_disk + 1
    with capsys.disabled():
        print(f"\n[canary] {kills} SIGKILLs in {time.monotonic() - t0:.1f}s, {mid_flush} inside "
              f"flush() ({mid_write} mid-write: temp file left), {g - 1} generations written, "
              f"never a mix")

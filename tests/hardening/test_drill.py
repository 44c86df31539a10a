"""The fault drill as a test: the shared feed farm with its 25 hostile feeds, one headless
poll (the real command, in its own process), short deadlines. benchmarks/drill.py runs the
full-size version and prints time and memory."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.farm import Farm, farm_available

REPO = Path(__file__).resolve().parents[2]

EXPECTED = {  # fault → (status, words in the error)
    "http-500": ("error", "HTTP 500"), "http-404": ("error", "HTTP 404"),
    "http-410": ("gone", "410 Gone"), "http-429": ("rate limited", "429"),
    "slow": ("error", "deadline"), "drip": ("error", "deadline"),
    "huge": ("error", "larger than"), "gzip-bomb": ("error", "once decompressed"),
    "redirect-loop": ("error", "too many redirects"), "not-xml": ("error", "HTML page"),
    "empty": ("error", "empty document"), "truncated": ("error", "truncated"),
    "many-items": ("error", "larger than"),
}
STORED = {"moved", "malformed", "markup", "billion-laughs", "xxe", "latin1", "mislabelled",
          "no-dates", "bad-dates", "no-guids", "dup-guids", "long-fields"}


@pytest.mark.slow
@pytest.mark.skipif(not farm_available(), reason="../shared/bench/feedfarm.py is not present")
def test_fault_farm_poll(tmp_path: Path) -> None:
    with Farm(feeds=20, items=10, hosts=4, faults=True, workdir=tmp_path,
              polling='timeout = "6s"\nconnect_timeout = "3s"\nparse_workers = 2') as farm:
        def run(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "tui.cli.main", "--config", str(farm.config_path),
                                   "--db", str(tmp_path / "store"), *args],
                                  cwd=REPO, capture_output=True, text=True, timeout=120)

        poll = run("poll", "--once", "--all")
        assert poll.returncode == 1, poll.stderr  # some feeds failed: exit 1, not a crash
        assert "Traceback" not in poll.stdout + poll.stderr
        health = {h["feed"]: h for h in json.loads(run("feeds", "list", "--format", "json").stdout)}
    good = [h for n, h in health.items() if not n.startswith("Fault ")]
    assert len(good) == 20 and all(h["status"] == "ok" and h["items_stored"] == 10 for h in good)
    for fault, (status, words) in EXPECTED.items():
        h = health[f"Fault {fault}"]
        assert h["status"] == status and words in h["error"], (fault, h)
    for fault in STORED:
        h = health[f"Fault {fault}"]
        assert h["status"] == "ok" and h["items_stored"] >= 1, (fault, h)
    assert set(EXPECTED) | STORED == {n[6:] for n in health if n.startswith("Fault ")}

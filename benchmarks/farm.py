"""Start ../shared/bench/feedfarm.py as a subprocess for a benchmark or a drill.

    with Farm(feeds=200, items=50, hosts=50) as farm:
        farm.config_path  # a config.toml listing the farm's feeds (plus polling settings)
        farm.tick(0.1); farm.stats()
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FEEDFARM = REPO.parent / "shared" / "bench" / "feedfarm.py"


def farm_available() -> bool:
    return FEEDFARM.is_file()


def add_farm_args(ap) -> None:
    """The farm's size options every farm benchmark takes: --feeds, --items, --hosts."""
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--hosts", type=int, default=50)


def isolated_base(directory: str | None, prefix: str) -> Path:
    """The benchmark's working folder (made if need be), with HOME and the XDG folders inside it
    so the user's config and data stay out of the run."""
    base = Path(directory) if directory else Path(tempfile.mkdtemp(prefix=prefix))
    base.mkdir(parents=True, exist_ok=True)
    home = base / "home"
    os.environ.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                      XDG_DATA_HOME=str(home / ".local" / "share"))
    return base


class Farm:
    def __init__(self, feeds: int = 200, items: int = 50, hosts: int = 50, *, faults: bool = False,
                 polling: str = "", workdir: Path | None = None) -> None:
        self.args = ["--feeds", str(feeds), "--items", str(items), "--hosts", str(hosts), "--port", "0"]
        if faults:
            self.args.append("--with-faults")
        self.polling = polling
        self._tmp = tempfile.TemporaryDirectory(prefix="diplowatch-farm-") if workdir is None else None
        self.dir = Path(self._tmp.name) if self._tmp else workdir
        self.proc: subprocess.Popen | None = None
        self.base = ""

    def __enter__(self) -> "Farm":
        if not farm_available():
            raise FileNotFoundError(f"{FEEDFARM} is not present")
        toml = self.dir / "farm-feeds.toml"
        self.urls_file = self.dir / "urls"
        self.proc = subprocess.Popen(
            [sys.executable, str(FEEDFARM), *self.args, "--toml-file", str(toml),
             "--urls-file", str(self.urls_file)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"feedfarm did not start: {line!r}")
        self.base = m.group(1)
        self.config_path = self.dir / "config.toml"
        self.config_path.write_text(f"[polling]\n{self.polling}\n\n" + toml.read_text(), encoding="utf-8")
        self.wait_idle()
        return self

    def cpu_seconds(self) -> float:
        """CPU time the farm process has used so far (Linux /proc; 0 elsewhere)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_idle(self, quiet: float = 0.3, limit: float = 30.0) -> None:
        """Wait until the farm stops using CPU. Without --with-faults it builds its 1 GiB gzip
        bomb in a thread after announcing itself (~2 s of CPU): a poll timed in that window
        measures the bomb, and on 2 cores it would be whichever poller happened to go first."""
        deadline = time.monotonic() + limit
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.cpu_seconds()
            if now - last < quiet * 0.05:
                return
            last = now

    def warm(self) -> None:
        """Fetch every farm feed once (no validators): the farm renders a document on its
        first request after a start or a tick and caches it, so without this the first
        poller of a phase also pays the farm's rendering (~0.17 s of its CPU for 200 feeds)."""
        urls = [u for u in self.urls_file.read_text().split() if "/feed/" in u]

        def get(url: str) -> None:
            with urllib.request.urlopen(url, timeout=30) as resp:
                resp.read()

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(get, urls))

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        if self._tmp is not None:
            self._tmp.cleanup()

    def _get(self, path: str) -> dict:
        with urllib.request.urlopen(self.base + path, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")

    def tick(self, churn: float = 0.1) -> dict:
        return self._get(f"/_tick?churn={churn}")

    def stats(self) -> dict:
        return self._get("/_stats")

    def reset_stats(self) -> None:
        self._get("/_reset_stats")

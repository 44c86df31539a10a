"""Start ../shared/bench/feedfarm.py as a subprocess for a benchmark or a drill.

    with Farm(feeds=200, items=50, hosts=50) as farm:
        farm.config_path  # a config.toml listing the farm's feeds (plus polling settings)
        farm.tick(0.1); farm.stats()
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FEEDFARM = REPO.parent / "shared" / "bench" / "feedfarm.py"


def farm_available() -> bool:
    return FEEDFARM.is_file()


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
        return self

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

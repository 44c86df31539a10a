"""How often the items `diplowatch labels review` puts first are wrong. Prints numbers, asserts
nothing.

    python benchmarks/bench_review.py                         # dev, gate and desk5
    python benchmarks/bench_review.py tests/data/probes/desk4.tsv --top 0.05,0.1

Each labelled file is served as RSS on loopback (headline as title, lede as description, at
most 200 items a feed), polled by `diplowatch poll --once` into a new store with the bundled
rules, and `labels review --limit N --format json` is run for the top 5 %, 10 % and 20 % of
its items. Printed: how many of those have a label set the file disagrees with, against the
share over all stored items (each item is matched to its row by its link).
"""
from __future__ import annotations

import argparse
import email.utils
import json
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT = ["tests/data/wires/dev.tsv", "tests/data/wires/gate.tsv", "tests/data/probes/desk5.tsv"]
PER_FEED = 200


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _feeds(rows: list, www: Path) -> list[str]:
    now = time.time()
    names = []
    for start in range(0, len(rows), PER_FEED):
        items = "".join(
            f"<item><title>{escape(r.title)}</title><description>{escape(r.text)}</description>"
            f"<guid>r{i}</guid><link>https://row.example/{i}</link>"
            f"<pubDate>{email.utils.formatdate(now - i * 60, usegmt=True)}</pubDate></item>"
            for i, r in enumerate(rows[start:start + PER_FEED], start))
        name = f"f{start}.xml"
        (www / name).write_text("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'>"
                                f"<channel><title>{name}</title>{items}</channel></rss>",
                                encoding="utf-8")
        names.append(name)
    return names


def measure(path: Path, tops: list[float]) -> None:
    from feeds.classify.evaluate import read_tsv

    rows = read_tsv(path)
    with tempfile.TemporaryDirectory() as tmp:
        www = Path(tmp, "www")
        www.mkdir()
        names = _feeds(rows, www)
        server = HTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(www)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            config = Path(tmp, "config.toml")
            # Feeds only: a config without [classify] and [rules] has the bundled rules.
            config.write_text("".join(
                f'[[feeds]]\nname = "{n}"\nurl = "http://127.0.0.1:{server.server_port}/{n}"\n'
                for n in names), encoding="utf-8")
            dw = [sys.executable, "-m", "tui.cli.main", "--config", str(config),
                  "--db", str(Path(tmp, "store"))]

            def run(*args: str) -> str:
                return subprocess.run([*dw, *args], capture_output=True, text=True, cwd=ROOT,
                                      check=True).stdout

            subprocess.run([*dw, "poll", "--once"], capture_output=True, cwd=ROOT)
            stored = json.loads(run("list", "--format", "json", "--limit", str(len(rows) + 1)))
            gold = {f"https://row.example/{i}": set(r.labels) for i, r in enumerate(rows)}
            wrong = sum(set(s["labels"]) != gold[s["link"]] for s in stored)
            print(f"{path.name}: {len(stored)} items stored, {wrong} with a wrong label set "
                  f"({wrong / max(len(stored), 1):.1%})")
            for top in tops:
                n = max(1, round(len(stored) * top))
                began = time.perf_counter()
                shown = json.loads(run("labels", "review", "--limit", str(n), "--format", "json"))
                took = time.perf_counter() - began
                bad = sum(set(s["labels"]) != gold[s["link"]] for s in shown)
                print(f"  first {top:.0%} ({len(shown)} items): {bad} wrong "
                      f"({bad / max(len(shown), 1):.1%}; {bad / max(wrong, 1):.1%} of the wrong ones); "
                      f"labels review took {took:.2f} s")
        finally:
            server.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", default=DEFAULT, help="labelled TSV files")
    ap.add_argument("--top", default="0.05,0.1,0.2", help="shares of the items to review")
    args = ap.parse_args()
    tops = [float(t) for t in args.top.split(",")]
    for name in args.files:
        measure(ROOT / name if not Path(name).is_absolute() else Path(name), tops)


if __name__ == "__main__":
    main()

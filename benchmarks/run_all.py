"""Every benchmark, one after the other (`make bench`). Each prints its own numbers; this
only runs them in order, with the machine's load before each (the figures are noisy)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ("classifier throughput", ["bench_classify.py"]),
    ("headless poll cycles", ["bench_poll.py", "--rounds", "2"]),
    ("side by side with newsboat", ["compare_newsboat.py", "--rounds", "3"]),
    ("fault drill", ["drill.py"]),
    ("store at 10k / 100k / 1M items", ["bench_store.py"]),
    ("a year of history", ["bench_history.py"]),
    ("dashboard", ["bench_tui.py"]),
    ("story clustering", ["bench_clusters.py"]),
    ("which labels to review first", ["bench_review.py"]),
    ("daemon and viewers", ["bench_service.py"]),
]


def main() -> int:
    failed = 0
    for title, (script, *args) in SCRIPTS:
        print(f"\n=== {title} ({script}); load average {os.getloadavg()[0]:.2f} ===", flush=True)
        code = subprocess.call([sys.executable, str(HERE / script), *args], cwd=HERE.parent)
        failed += code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

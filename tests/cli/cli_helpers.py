"""Helpers for the command-line tests that run diplowatch as a real process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.service.conftest import DaemonProcess, until

REPO = Path(__file__).resolve().parents[2]

# diplowatch, with every store file write failing with $DW_FAULT while $DW_FAULT_FLAG exists.
FAULTY = """
import errno, os, sys
import storage.atomic as atomic
flag, code = os.environ.get("DW_FAULT_FLAG", ""), getattr(errno, os.environ.get("DW_FAULT", "ENOSPC"))
real = atomic._write_all
def _write_all(fd, data):
    if flag and os.path.exists(flag):
        raise OSError(code, os.strerror(code))
    return real(fd, data)
atomic._write_all = _write_all
from tui.cli.main import main
main()
"""

# The notify command: one line per hit it was run for, "<item id> saved" if the item was in
# the store on disk when it ran ("NOT SAVED" otherwise).
RECORD = ("import json, sys; sys.path.insert(0, sys.argv[3]); from storage.store import Store; "
          "item = json.loads(sys.stdin.read()); s = Store.open(sys.argv[2], readonly=True); "
          "saved = s.get(item['id']) is not None; s.close(); open(sys.argv[1], 'a').write("
          "item['id'] + (' saved' if saved else ' NOT SAVED') + chr(10))")


def notify_config(record: Path, store: Path) -> str:
    """A [watch] section: one term, and RECORD as the notify command."""
    argv = json.dumps([sys.executable, "-c", RECORD, str(record), str(store), str(REPO)])
    return f'[watch]\nterms = ["prisoner exchange"]\nnotify_command = {argv}\n'


def one_line(err: str, progress: str = "re-classifying: ") -> str:
    """stderr is exactly one `diplowatch: …` line (no traceback, no log noise), besides
    progress lines."""
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(progress)]
    assert len(lines) == 1 and lines[0].startswith("diplowatch: "), err
    return lines[0]


class FaultyDaemon(DaemonProcess):
    """``diplowatch daemon`` in a subprocess whose store writes fail while ``flag`` exists."""

    def __init__(self, config: Path, store: Path, log: Path, flag: Path, fault: str = "ENOSPC") -> None:
        super().__init__(config, store, log)
        self.flag, self.fault = flag, fault

    def start(self) -> "FaultyDaemon":
        env = {**os.environ, "DW_FAULT_FLAG": str(self.flag), "DW_FAULT": self.fault}
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", FAULTY, "--config", str(self.config), "--db", str(self.store),
                 "daemon"], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err)
        until(self._ready, what=f"the daemon to answer (log: {self.log})")
        return self


def one_error_line(log: str, words: str) -> str:
    """The daemon logged ``words`` in exactly one ERROR line, and no traceback."""
    lines = [ln for ln in log.splitlines() if " ERROR " in ln and words in ln]
    assert len(lines) == 1 and "Traceback" not in log, log
    return lines[0]


def eval_tsv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A labelled TSV (`id`, `text`, `labels`) of (id, text, labels) rows, as `rules eval`,
    `rules suggest` and `rules audit` read."""
    path.write_text("id\ttext\tlabels\n" + "".join(f"{i}\t{t}\t{lb}\n" for i, t, lb in rows),
                    encoding="utf-8")
    return path

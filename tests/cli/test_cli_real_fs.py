"""A really full and a really read-only filesystem under the store (root ignores chmod, so
these are mounts): every command says so in one line and exits 2; the store stays intact.

The mounts live in a private mount namespace (``unshare -m``) that only the commands run
through it see; it vanishes with its holder process, so no mount is ever left behind.
Skipped where mount namespaces are not allowed.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from tests.cli.cli_helpers import one_line
from tests.feedserver import FeedServer
from tests.service.conftest import REPO, SEED, Wire
from tui.cli.main import cli


class MountNamespace:
    """``setup`` (shell) run in a new private mount namespace kept alive by a sleeping
    shell; ``run(argv)`` runs a command inside it."""

    def __init__(self, setup: str) -> None:
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             f"{setup} && echo ready && exec sleep 3600"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            err = self.proc.stderr.read() if self.proc.wait(10) is not None else ""
            pytest.skip(f"no private mounts here: {err.strip()}")

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        # (--wd: nsenter would start in / and import another checkout's diplowatch)
        return subprocess.run(["nsenter", "-t", str(self.proc.pid), "-m", f"--wd={REPO}", "--",
                               *argv], cwd=REPO, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def namespace() -> Iterator:
    if not (shutil.which("unshare") and shutil.which("nsenter")):
        pytest.skip("unshare/nsenter not installed")
    spaces: list[MountNamespace] = []

    def make(setup: str) -> MountNamespace:
        spaces.append(MountNamespace(setup))
        return spaces[-1]

    yield make
    for ns in spaces:
        ns.close()


@pytest.fixture
def wire(feed_server: FeedServer) -> Wire:
    wire = Wire(feed_server)
    wire.add("Envoys hold peace talks in Doha")
    return wire


# Prints {file name: sha256} of the store's files (run inside the namespace).
DIGESTS = ("import hashlib, json, os, sys; d = sys.argv[1]; print(json.dumps({n: hashlib.sha256("
           "open(os.path.join(d, n), 'rb').read()).hexdigest() for n in sorted(os.listdir(d)) "
           "if not n.endswith('.sock')}))")
# Prints the mode and reason of a viewer dashboard built for the store (run in the namespace).
VIEWER_MODE = ("import sys; from tui.cli.context import AppContext; "
               "from tui.cli.launch import build_app; "
               "obj = AppContext(config_path=sys.argv[1], db_path=sys.argv[2]); "
               "b = build_app(obj, offline=False, theme=None, viewer=True).backend; "
               "print(f'{b.mode}|{b.reason}'); obj.close()")
FILL = ("import sys\nwith open(sys.argv[1], 'wb') as f:\n    try:\n        while True:\n"
        "            f.write(bytes(65536)); f.flush()\n    except OSError:\n        pass\n")


def test_poll_once_on_a_full_tmpfs(namespace, write_config, wire: Wire, tmp_path: Path) -> None:
    fs = tmp_path / "fs"
    fs.mkdir()
    ns = namespace(f"mount -t tmpfs -o size=4m tmpfs {fs}")
    config = write_config([("Seed", str(SEED)), ("Wire", wire.url)])
    store = fs / "store"

    def dw(*args: str) -> subprocess.CompletedProcess:
        return ns.run(sys.executable, "-m", "tui.cli.main", "--config", str(config), "--db",
                      str(store), *args)

    assert dw("poll", "--once").returncode == 0
    assert ns.run(sys.executable, "-c", FILL, str(fs / "filler")).returncode == 0
    before = ns.run(sys.executable, "-c", DIGESTS, str(store)).stdout
    wire.add("Mediators report progress in ceasefire negotiations")
    r = dw("poll", "--once", "--all")
    assert r.returncode == 2, r.stderr
    line = one_line(r.stderr)
    assert line.startswith(f"diplowatch: store {store}: could not save this poll: disk full")
    assert ns.run(sys.executable, "-c", DIGESTS, str(store)).stdout == before  # no temp left either
    assert ns.run("rm", str(fs / "filler")).returncode == 0
    r = dw("poll", "--once", "--all")
    assert r.returncode == 0 and "1 new item" in r.stdout, r.stdout + r.stderr
    titles = {row["title"] for row in json.loads(dw("list", "--format", "json").stdout)}
    assert "Mediators report progress in ceasefire negotiations" in titles and len(titles) == 3


def test_every_writer_on_a_read_only_store(namespace, write_config, wire: Wire,
                                           tmp_path: Path) -> None:
    config = write_config([("Seed", str(SEED)), ("Wire", wire.url)])
    store = tmp_path / "store"
    assert CliRunner().invoke(cli, ["--config", str(config), "--db", str(store), "poll",
                                    "--once"]).exit_code == 0
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in store.iterdir()}
    ns = namespace(f"mount --bind {store} {store} && mount -o remount,bind,ro {store}")

    def dw(*args: str) -> subprocess.CompletedProcess:
        return ns.run(sys.executable, "-m", "tui.cli.main", "--config", str(config), "--db",
                      str(store), *args)

    rows = json.loads(dw("list", "--format", "json").stdout)  # reading still works
    assert len(rows) == 2
    expected = f"cannot write to the store {store}: read-only file system"
    for args in (("poll", "--once", "--all"), ("mark", rows[0]["id"], "--star"),
                 ("rules", "apply"), ("recover",)):
        r = dw(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert expected in one_line(r.stderr), args
    r = dw("export", "-o", str(store / "items.json"))
    assert r.returncode == 2
    assert one_line(r.stderr) == (f"diplowatch: could not write the export to {store}/items.json: "
                                  f"Read-only file system")
    r = dw("daemon")  # logs to stderr too (a warning or two), then its one line
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert expected in r.stderr.strip().splitlines()[-1]
    # The dashboard says so in one line and exits 2; as a viewer it opens the store to review.
    r = dw()
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert expected in one_line(r.stderr) and "diplowatch --viewer" in one_line(r.stderr)
    r = ns.run(sys.executable, "-c", VIEWER_MODE, str(config), str(store))
    assert r.returncode == 0 and r.stdout.startswith("read-only|"), r.stdout + r.stderr
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in store.iterdir()} == digests

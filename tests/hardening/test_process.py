"""Store and process faults as the user meets them through the command line
(reliability.md §7 items 30, 31, 36; the storage tests cover the mechanisms)."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.parse.safety import expat_warning
from tui.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "seed-feed.xml"


@pytest.fixture
def seeded(tmp_path: Path, write_config) -> tuple[Path, Path]:
    config = write_config([("Seed", str(SEED))])
    store = tmp_path / "store"
    r = CliRunner().invoke(cli, ["--config", str(config), "--db", str(store), "poll", "--once"])
    assert r.exit_code == 0, r.output
    return config, store


@pytest.mark.parametrize("content", [b"", b'{"items": {"1": {"id": ', b'{"_default": {}}garbage',
                                     b"\x00" * 64, b"[]", b"null"],
                         ids=["empty", "truncated", "extra-data", "nul", "list", "null"])
def test_corrupt_store_file_gets_a_clear_message_and_is_left_alone(seeded, content: bytes) -> None:
    config, store = seeded
    state = store / "state.json"
    state.write_bytes(content)
    r = CliRunner().invoke(cli, ["--config", str(config), "--db", str(store), "list"])
    assert r.exit_code == 2
    assert str(state) in r.output and "Traceback" not in r.output
    assert "recover" in r.output  # the way forward
    assert state.read_bytes() == content  # untouched


def test_recover_salvages_and_the_store_opens_again(seeded) -> None:
    config, store = seeded
    week = next(store.glob("items-*.json"))
    good = week.read_bytes()
    week.write_bytes(good[: len(good) // 2])
    args = ["--config", str(config), "--db", str(store)]
    assert CliRunner().invoke(cli, [*args, "list"]).exit_code == 2
    r = CliRunner().invoke(cli, [*args, "recover"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, [*args, "list", "--format", "json"])
    assert r.exit_code == 0
    assert list(store.glob("items-*.json.corrupt-*"))  # the bad file was moved aside, not deleted


def test_second_writer_is_refused_and_a_reader_still_works(seeded) -> None:
    config, store = seeded
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys,time; from storage.store import Store; "
         "s = Store.open(sys.argv[1]); print('held', flush=True); time.sleep(60)", str(store)],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        args = ["--config", str(config), "--db", str(store)]
        r = CliRunner().invoke(cli, [*args, "poll", "--once", "--all"])
        assert r.exit_code == 2 and "already running" in r.output and str(holder.pid) in r.output
        r = CliRunner().invoke(cli, [*args, "list", "--format", "json"])
        assert r.exit_code == 0 and '"Russia, Ukraine continue' in r.output
    finally:
        holder.kill()
        holder.wait()
    # The killed holder's lock is recovered: the next writer gets it.
    r = CliRunner().invoke(cli, ["--config", str(config), "--db", str(store), "poll", "--once", "--all"])
    assert r.exit_code == 0, r.output


def test_old_expat_is_warned_about() -> None:
    assert expat_warning((2, 5, 0)) and "2.5.0" in expat_warning((2, 5, 0))
    assert expat_warning((2, 6, 0)) is None and expat_warning((2, 7, 3)) is None


def test_startup_logs_the_expat_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyexpat

    from tui.cli.logs import setup_logging

    monkeypatch.setattr(pyexpat, "version_info", (2, 5, 0))
    logger = logging.getLogger("diplowatch")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "_diplowatch_configured", False, raising=False)
    path = setup_logging(path=tmp_path / "d.log")
    for h in logger.handlers:
        h.flush()
    assert "expat 2.5.0" in path.read_text()
    for h in logger.handlers:
        h.close()

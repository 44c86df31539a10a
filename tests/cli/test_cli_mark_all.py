"""`mark --all` with the filters of `list` (and --dry-run), the Unread column of `feeds list`,
and `mark --all` through a running daemon."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from storage.store import Store
from tests.service.conftest import Wire, service_config, start_daemon, wire  # noqa: F401 - fixtures
from tests.tui.helpers import FEED, make_item
from tui.cli.main import cli


@pytest.fixture
def run(tmp_path: Path, write_config):
    config = write_config([("Wire", FEED)])
    store = tmp_path / "db"

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--config", str(config), "--db", str(store), *args])

    invoke.store = store
    return invoke


def _seed(store_dir: Path) -> tuple[list[str], list[str]]:
    """Two talks and three sanctions items an hour old (the recent window): their ids."""
    now = time.time()
    talks = [make_item(f"Envoys hold round {n} of peace talks", "Negotiations.", guid=f"t{n}",
                       published=now - 3600 - n) for n in range(2)]
    sanctions = [make_item(f"EU imposes sanctions package {n}", "Asset freeze.", guid=f"s{n}",
                           published=now - 7200 - n) for n in range(3)]
    with Store.open(store_dir) as store:
        store.upsert_items([*talks, *sanctions])
        store.flush()
    return [t.id for t in talks], [s.id for s in sanctions]


def _flags(store_dir: Path, ids: list[str]) -> list[bool]:
    with Store.open(store_dir, readonly=True) as store:
        return [store.flags(i).read for i in ids]


def test_mark_all_takes_the_list_filters_and_dry_run_marks_nothing(run) -> None:
    talks, sanctions = _seed(run.store)
    r = run("mark", "--all", "--label", "sanctions", "--read", "--dry-run")
    assert r.exit_code == 0, r.output
    assert "would mark 3 items read (3 matches; nothing marked)" in r.output
    assert _flags(run.store, sanctions) == [False] * 3
    r = run("mark", "--all", "--label", "sanctions", "--read")
    assert r.exit_code == 0 and "marked 3 items" in r.output, r.output
    assert _flags(run.store, sanctions) == [True] * 3 and _flags(run.store, talks) == [False] * 2
    r = run("mark", "--all", "--read", "--dry-run")  # the read ones would not change
    assert "would mark 2 items read (5 matches; nothing marked)" in r.output
    r = run("mark", "--all", "--search", "package", "--starred", "--unread")  # none starred
    assert r.exit_code == 0 and "marked 0 items" in r.output


def test_mark_refuses_mixed_or_missing_targets(run) -> None:
    talks, _ = _seed(run.store)
    r = run("mark", talks[0], "--all", "--read")
    assert r.exit_code == 2 and "item IDs or --all, not both" in r.output
    r = run("mark", "--read")
    assert r.exit_code == 2 and "needs item IDs, or --all" in r.output
    r = run("mark", talks[0], "--label", "talks", "--read")  # a filter without --all
    assert r.exit_code == 2 and "only with --all" in r.output
    assert _flags(run.store, talks) == [False, False]
    r = run("mark", talks[0][:6], "0123456789abcdef", "--read", "--dry-run")  # all or nothing
    assert r.exit_code == 2 and "no item with id" in r.output


def test_feeds_list_counts_unread(run) -> None:
    talks, sanctions = _seed(run.store)
    assert run("mark", *talks, "--read").exit_code == 0
    rows = json.loads(run("feeds", "list", "--format", "json").output)
    assert [(f["feed"], f["items_stored"], f["unread"]) for f in rows] == [("Wire", 5, 3)]
    table = run("feeds", "list").output
    assert "UNREAD" in table.splitlines()[0]


def test_mark_all_goes_through_a_running_daemon(start_daemon, service_config: Path,
                                                tmp_path: Path, wire: Wire) -> None:
    wire.add("Envoys hold peace talks in Doha")
    daemon = start_daemon()
    daemon.wait_cycles(1)
    store = tmp_path / "store"
    args = ["--config", str(service_config), "--db", str(store)]
    r = CliRunner().invoke(cli, [*args, "mark", "--all", "--label", "talks", "--read"])
    assert r.exit_code == 0 and "items through the daemon" in r.output, r.output
    with Store.open(store, readonly=True) as view:
        talks = [i for i in view.recent() if "talks" in i.labels]
        assert talks and all(view.flags(i.id).read for i in talks)

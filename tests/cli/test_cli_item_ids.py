"""Item ids on the command line: any unique prefix of 4+ characters, as git takes them;
marks are all or nothing; the seed item's id does not depend on where the checkout lives."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.parse.document import item_id
from storage.store import Store
from tests.tui.helpers import make_item
from tui.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "seed-feed.xml"
SEED_ID = "8994a33361fc2034"  # the README's example


@pytest.fixture
def run(tmp_path: Path, write_config):
    config = write_config([])
    store = tmp_path / "db"

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--config", str(config), "--db", str(store), *args])

    invoke.store = store
    return invoke


def _seed(store_dir: Path, guids: list[str]) -> list[str]:
    """Items seen an hour ago (in the recent window of the CLI's real clock); their ids."""
    now = time.time()
    items = [make_item(f"Talks round {n}", guid=g, published=now - 3600, first_seen=now - 60)
             for n, g in enumerate(guids)]
    with Store.open(store_dir) as store:
        store.upsert_items(items)
        store.flush()
    return [it.id for it in items]


def test_show_and_mark_take_a_unique_prefix(run) -> None:
    ids = _seed(run.store, ["a", "b", "c"])
    target = ids[0]
    prefix = next(target[:n] for n in range(4, 17)
                  if sum(i.startswith(target[:n]) for i in ids) == 1)
    r = run("show", prefix, "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["id"] == target
    assert run("show", prefix.upper()).exit_code == 0  # hex is case-insensitive
    r = run("mark", prefix, "--read")
    assert r.exit_code == 0 and "marked 1 item" in r.output
    with Store.open(run.store, readonly=True) as store:
        assert store.flags(target).read
    r = run("show", target[:3])
    assert r.exit_code == 2 and "too short" in r.output


def test_an_ambiguous_prefix_names_the_candidates(run) -> None:
    # Guids chosen so that two ids share their first 4 hex digits.
    seen: dict[str, str] = {}
    guids: list[str] = []
    n = 0
    while len(guids) < 2:
        iid = item_id("http://127.0.0.1:9/feed.xml", f"g{n}")
        if iid[:4] in seen:
            guids = [seen[iid[:4]], f"g{n}"]
        seen.setdefault(iid[:4], f"g{n}")
        n += 1
    shared = _seed(run.store, guids)[0][:4]
    r = run("show", shared)
    assert r.exit_code == 2 and "is ambiguous" in r.output


def test_a_mark_with_one_unknown_id_marks_nothing(run) -> None:
    good = _seed(run.store, ["a", "b"])[0]
    r = run("mark", good, "ffffffffffffffff", "--read")
    assert r.exit_code == 2 and "no item with id 'ffffffffffffffff'" in r.output
    assert "nothing marked" in r.output
    with Store.open(run.store, readonly=True) as store:
        assert not store.flags(good).read


def test_a_prefix_finds_items_in_archived_weeks(run) -> None:
    _seed(run.store, ["recent"])
    then = time.time() - 90 * 86400
    old_item = make_item("Old talks", guid="old", published=then, first_seen=then)
    with Store.open(run.store, clock=lambda: then) as store:  # saved in its own week
        store.upsert_items([old_item])
        store.flush()
    old = old_item.id
    r = run("show", old[:6], "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["title"] == "Old talks"


def test_the_seed_items_id_is_the_same_in_any_checkout(tmp_path: Path, write_config) -> None:
    elsewhere = tmp_path / "another" / "checkout" / "seeds"
    elsewhere.mkdir(parents=True)
    shutil.copy(SEED, elsewhere / SEED.name)
    for feed in (SEED, elsewhere / SEED.name):
        config = write_config([("Seed", str(feed))])
        store = tmp_path / f"db-{len(str(feed))}"
        runner = CliRunner()
        assert runner.invoke(cli, ["--config", str(config), "--db", str(store), "poll",
                                   "--once"]).exit_code == 0
        r = runner.invoke(cli, ["--config", str(config), "--db", str(store), "show", SEED_ID[:8],
                                "--format", "json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["id"] == SEED_ID


def test_list_as_a_table_says_how_many_it_left_out(run) -> None:
    _seed(run.store, [f"g{n}" for n in range(73)])
    r = run("list")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[-1] == "50 of 73 (use --limit)"
    assert len([ln for ln in lines if "Talks round" in ln]) == 50
    r = run("list", "--limit", "80")
    assert "(use --limit)" not in r.output and r.output.count("Talks round") == 73
    assert run("list", "--format", "json").output.count('"id"') == 73

"""`diplowatch labels list|export`: the labels set by hand, as a list and as an eval TSV that
`diplowatch rules eval` reads back. Real store in tmp_path, items from the loopback feed."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from storage.store import Store
from tests.cli.test_cli import env  # noqa: F401 - the fixture
from tui.cli.labels import EVAL_HEADER, tsv_cell


def _by_title(env) -> dict[str, dict]:  # noqa: F811
    return {r["title"]: r for r in json.loads(env("list", "--format", "json").output)}


def _correct(store_dir: Path, fixes: dict[str, list[str]]) -> None:
    with Store.open(store_dir) as store:
        for item_id, labels in fixes.items():
            assert store.set_labels(item_id, labels) is not None


def test_export_round_trips_through_rules_eval(env, tmp_path: Path) -> None:  # noqa: F811
    env("poll", "--once")
    items = _by_title(env)
    sanctions = items["EU imposes new sanctions on Russian banks"]
    football = items["Football: Spain beat Italy in a friendly"]
    # The desk disagrees with the rules on one item (the sanctions story is also a
    # statement) and confirms the other has no label.
    _correct(tmp_path / "store", {sanctions["id"]: ["statements", "sanctions"],
                                  football["id"]: []})

    out = tmp_path / "desk.tsv"
    r = env("labels", "export", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "wrote 2 labelled items" in r.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == list(EVAL_HEADER)
    rows = {cells[0]: cells for cells in (ln.split("\t") for ln in lines[1:])}
    assert rows[sanctions["id"]][1:4] == [sanctions["title"], sanctions["summary"],
                                          "sanctions,statements"]
    assert rows[sanctions["id"]][4:] == ["Wire", "https://news.example/s1"]
    assert rows[football["id"]][3] == ""

    report = json.loads(env("rules", "eval", str(out), "--json").output)
    assert report["labels"]["sanctions"]["support"] == 1
    assert report["labels"]["statements"]["support"] == 1
    missed = [e for e in report["errors"] if e["id"] == sanctions["id"]]
    assert len(missed) == 1  # the rules did not see a statement in it
    assert env("labels", "export").output == out.read_text(encoding="utf-8")  # stdout too


def test_labels_list_shows_what_the_rules_say(env, tmp_path: Path) -> None:  # noqa: F811
    env("poll", "--once")
    assert "no labels were set by hand" in env("labels", "list").output
    seed = next(r for r in _by_title(env).values() if r["feed"] == "Seed")
    _correct(tmp_path / "store", {seed["id"]: ["talks", "statements"]})
    [row] = json.loads(env("labels", "list", "--format", "json").output)
    assert row["id"] == seed["id"] and row["labels"] == ["talks", "statements"]
    assert row["rules"] == ["talks"] and row["at"]
    table = env("labels", "list").output
    assert "talks,statements" in table and "≠" in table and seed["id"] in table
    # the correction also shows where items are listed, and `rules apply` keeps it
    assert env("rules", "apply").exit_code == 0
    listed = json.loads(env("list", "--label", "statements", "--format", "json").output)
    assert [r["id"] for r in listed] == [seed["id"]]


def test_labels_set_by_prefix_and_refusals(env) -> None:  # noqa: F811
    env("poll", "--once")
    seed = next(r for r in _by_title(env).values() if r["feed"] == "Seed")
    r = env("labels", "set", seed["id"][:6], "statements")
    assert r.exit_code == 0 and r.output.strip() == f"{seed['id']}: statements"
    assert env("labels", "set", seed["id"], "--none").output.strip() == f"{seed['id']}: other"
    assert json.loads(env("labels", "list", "--format", "json").output)[0]["labels"] == []
    assert env("labels", "set", seed["id"], "talks").exit_code == 0
    assert env("labels", "set", seed["id"], "--other").output.strip() == f"{seed['id']}: other"
    assert json.loads(env("labels", "list", "--format", "json").output)[0]["labels"] == []
    assert env("labels", "set", seed["id"]).exit_code == 2  # neither labels nor --none
    assert env("labels", "set", seed["id"], "talks", "--none").exit_code == 2
    assert env("labels", "set", seed["id"], "sport").exit_code == 2
    r = env("labels", "set", "ffffffff", "talks")
    assert r.exit_code == 2 and "nothing changed" in r.output


def test_tsv_cells_hold_no_tab_or_line_break() -> None:
    assert tsv_cell("a\tb\r\nc\u2028d  e ") == "a b c d  e"

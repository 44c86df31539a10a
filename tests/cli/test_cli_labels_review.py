"""`diplowatch labels review`: the stored items whose labels the rules are least sure of (a
score nearest its threshold, either side), to set by hand first. Real store in tmp_path, items
polled from a loopback feed, small rules of our own so that the scores are known."""
from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.classify.doubt import doubt, least_sure
from storage.store import Store
from tests.feedserver import FeedServer, Response, rss, rss_item
from tests.tui.helpers import make_item
from tui.cli.labels import EVAL_HEADER
from tui.cli.main import cli

# "replace": only these rules; no title bonus, so a cue weighs the same in headline and lede.
RULES = """
[classify]
mode = "replace"
title_bonus = 0

[rules.talks.terms]
"talks" = 1
"envoy*" = 0.9

[rules.sanctions.terms]
"sanction*" = 2

[rules.statements]
threshold = 2

[rules.statements.terms]
"condemn*" = 1.7
"""

# headline, lede, guid; the score each gets from RULES and how near its threshold it is
ITEMS = [
    ("Delegations hold talks in Istanbul", "The first round.", "at"),        # talks 1/1: 0
    ("Envoys arrive in Geneva", "No meeting is planned yet.", "below"),       # talks 0.9/1: 0.1
    ("Minister condemns the strike", "A hospital was hit.", "stmt"),          # statements 1.7/2: 0.15
    ("EU sanctions Russian banks", "A new package.", "far"),                  # sanctions 2/1: 1.0
    ("Spain beat Italy in a friendly", "Football.", "none"),                  # no rule fired
    ("Envoy visits Cairo", "A courtesy call.", "fixed"),                      # talks 0.9/1, set by hand
    ("\x1b[31mEnvoy\x1b[0m [bold]lands[/bold] in Doha", "An envoy.", "hostile"),  # talks 0.9/1
]


@pytest.fixture
def run(tmp_path: Path, feed_server: FeedServer, write_config):
    """``run(*args, rules=RULES)``: diplowatch on a store polled once with RULES."""
    feed_server.route("/wire.xml", Response(body=rss([
        rss_item(title, guid=guid, link=f"https://news.example/{guid}", summary=lede,
                 pub=f"Mon, 04 Apr 2022 {10 + i:02d}:00:00 GMT")
        for i, (title, lede, guid) in enumerate(ITEMS)])))
    feeds = [("Wire", feed_server.url("/wire.xml"))]

    def invoke(*args: str, rules: str = RULES):
        config = write_config(feeds, extra=rules)
        return CliRunner(env={"COLUMNS": "200"}).invoke(
            cli, ["--config", str(config), "--db", str(tmp_path / "store"), *args])

    assert invoke("poll", "--once").exit_code == 0
    return invoke


def _ids(run) -> dict[str, str]:
    rows = json.loads(run("list", "--format", "json").output)
    return {r["link"].rsplit("/", 1)[1]: r["id"] for r in rows}


def _review(run, *args: str, **kw: str) -> list[dict]:
    r = run("labels", "review", "--format", "json", *args, **kw)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_nearest_a_threshold_first_either_side(run, tmp_path: Path) -> None:
    ids = _ids(run)
    with Store.open(tmp_path / "store") as store:
        assert store.set_labels(ids["fixed"], ["talks"]) is not None
    rows = _review(run)
    got = [r["link"].rsplit("/", 1)[1] for r in rows]
    # at the threshold first; then 0.1 below it (the newer of the two first); then 0.15 below;
    # the far one last. Nothing no rule fired on, nothing the desk already set.
    assert got == ["at", "hostile", "below", "stmt", "far"]
    first = rows[0]
    assert first["labels"] == ["talks"]
    assert first["doubt"] == {"label": "talks", "score": 1.0, "threshold": 1.0}
    assert rows[3]["labels"] == [] and rows[3]["doubt"]["label"] == "statements"
    assert [r["link"].rsplit("/", 1)[1] for r in _review(run, "--limit", "2")] == ["at", "hostile"]
    # only the doubts about one label: the others' scores are not weighed
    assert [r["link"].rsplit("/", 1)[1] for r in _review(run, "--about", "statements")] == ["stmt"]
    assert [r["link"].rsplit("/", 1)[1] for r in _review(run, "--about", "sanctions")] == ["far"]
    # the list filters narrow what is reviewed
    assert [r["link"].rsplit("/", 1)[1] for r in _review(run, "--label", "other")] == [
        "hostile", "below", "stmt"]


def test_the_table_is_plain_text(run) -> None:
    r = run("labels", "review")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split() == ["ID", "RULES", "NEAREST", "FEED", "TITLE"]
    assert "talks 1/1" in lines[1] and "statements 1.7/2" in r.output
    assert "\x1b" not in r.output and "[bold]lands[/bold]" in r.output  # escapes gone, text kept


def test_tsv_is_an_eval_set_with_the_rules_labels(run, tmp_path: Path) -> None:
    out = tmp_path / "review.tsv"
    r = run("labels", "review", "--format", "tsv", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "wrote 6 items" in r.output and "rules eval" in r.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == list(EVAL_HEADER) and len(lines) == 7
    # Unchanged, the file agrees with the rules; the desk corrects its labels column.
    report = json.loads(run("rules", "eval", str(out), "--json").output)
    assert report["errors"] == []
    rows = [ln.split("\t") for ln in lines]
    [condemns] = [c for c in rows if c[1] == "Minister condemns the strike"]
    assert condemns[3] == ""  # the rules gave it no label; the desk says it is a statement
    condemns[3] = "statements"
    out.write_text("\n".join("\t".join(c) for c in rows) + "\n", encoding="utf-8")
    report = json.loads(run("rules", "eval", str(out), "--json").output)
    assert [e["title"] for e in report["errors"]] == ["Minister condemns the strike"]


def test_the_rules_as_they_are_now_decide(run) -> None:
    # "envoy*" weighs more since the poll: the envoys' items are now talks, well above.
    rows = _review(run, rules=RULES.replace('"envoy*" = 0.9', '"envoy*" = 1.8'))
    got = {r["link"].rsplit("/", 1)[1]: r for r in rows}
    assert got["below"]["labels"] == ["talks"]
    assert got["below"]["doubt"] == {"label": "talks", "score": 1.8, "threshold": 1.0}
    assert [r["link"].rsplit("/", 1)[1] for r in rows][:2] == ["at", "stmt"]


def test_text_from_the_store_reaches_the_terminal_and_the_tsv_plain(run, tmp_path: Path) -> None:
    now = time.time()
    hostile = make_item("Envoy\x1b]8;;https://evil.example\x07 talks\x1b[2J\tnow\nhere",
                        "A lede\twith\r\na break [@click=app.quit]", guid="raw",
                        published=now - 60, link="https://news.example/raw")
    with Store.open(tmp_path / "store") as store:  # as written, not as ingestion cleans it
        store.upsert_items([hostile])
        store.flush()
    table = run("labels", "review").output
    assert "\x1b" not in table and "\x07" not in table and "\t" not in table
    [line] = [ln for ln in table.splitlines() if hostile.id in ln]
    assert "talks" in line
    tsv = run("labels", "review", "--format", "tsv").output.splitlines()
    [row] = [ln.split("\t") for ln in tsv if ln.startswith(hostile.id)]
    assert len(row) == len(EVAL_HEADER)  # no tab or line break inside a cell
    assert row[2] == "A lede with a break [@click=app.quit]"


def test_refusals(run) -> None:
    r = run("labels", "review", "-o", "x.tsv")
    assert r.exit_code == 2 and "--format tsv" in r.output
    assert run("labels", "review", "--limit", "0").exit_code == 2


def test_doubt_is_relative_to_each_threshold() -> None:
    thresholds = {"talks": 1.0, "sanctions": 1.0, "statements": 2.0}
    near = doubt({"talks": 0.7, "sanctions": 0.0, "statements": 1.8}, thresholds)
    assert near is not None and near.label == "statements" and near.distance == pytest.approx(0.1)
    assert doubt({"talks": 1.5, "statements": 1.0}, thresholds).label == "talks"  # 0.5 each: the earlier
    assert doubt({"talks": 0.0}, thresholds) is None  # no rule fired: nothing to doubt
    # only penalties: nothing pulls the item towards a label
    assert doubt({"talks": -0.5, "statements": -1.0}, thresholds) is None
    # sums of the same weights are equally near, so that the order given breaks the tie
    assert doubt({"talks": 0.6 + 0.3}, thresholds).distance == doubt({"talks": 0.9}, thresholds).distance
    assert [x for _, x in least_sure([("old", {"talks": 0.9}), ("new", {"talks": 0.6 + 0.3})],
                                     thresholds, 5)] == ["old", "new"]

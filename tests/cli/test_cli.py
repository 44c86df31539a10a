"""The command line: headless poll, offline review, feed management, rules tools."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.feedserver import FeedServer, Response, rss, rss_item
from storage.store import Store
from tui.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "seed-feed.xml"


@pytest.fixture
def env(tmp_path: Path, feed_server: FeedServer, write_config):
    """A config with the seed feed and two loopback feeds; a store in tmp_path; run(args)."""
    feed_server.route("/talks.xml", Response(body=rss([
        rss_item("EU imposes new sanctions on Russian banks", guid="s1", link="https://news.example/s1",
                 summary="The European Union adopted a package of sanctions.", pub="Mon, 04 Apr 2022 10:00:00 GMT"),
        rss_item("Football: Spain beat Italy in a friendly", guid="o1", pub="Sun, 03 Apr 2022 10:00:00 GMT"),
    ]), etag='"1"'))
    config = write_config([("Seed", str(SEED)), ("Wire", feed_server.url("/talks.xml"))],
                          extra='[[feeds]]\nname = "Broken"\nurl = "%s"\ntags = ["flaky"]\n' % feed_server.url("/500"))
    feed_server.route("/500", Response(500))
    store = tmp_path / "store"

    def run(*args: str, input: str | None = None):
        return CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--config", str(config), "--db", str(store), *args], input=input)

    return run


def test_poll_once_prints_a_line_per_feed_and_exits_1_on_failure(env) -> None:
    r = env("poll", "--once")
    assert r.exit_code == 1, r.output
    lines = r.output.splitlines()
    assert any(ln.startswith("ok") and "Seed" in ln and "1 new" in ln for ln in lines)
    assert any(ln.startswith("ok") and "Wire" in ln and "2 new" in ln for ln in lines)
    assert any(ln.startswith("error") and "Broken" in ln and "HTTP 500" in ln for ln in lines)
    assert lines[-1].startswith("polled 3 feeds: 3 new items") and "1 failed" in lines[-1]
    # Second run: nothing is due (schedules), and --all re-polls conditionally without duplicates.
    r = env("poll", "--once")
    assert "3 not due" in r.output and r.exit_code == 0
    r = env("poll", "--once", "--all", "--feed", "Wire")
    assert "not modified" in r.output and r.exit_code == 0


def test_a_poll_that_brings_nothing_new_writes_no_week_file(env, tmp_path: Path) -> None:
    store = tmp_path / "store"
    env("poll", "--once")
    env("poll", "--once", "--all")  # (the week's id index written once, with the save)

    def week_files() -> dict[str, tuple[int, int]]:
        return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in store.iterdir()
                if p.name.startswith("items-")}
    before = week_files()
    assert any(n.endswith(".json") for n in before)
    r = env("poll", "--once", "--all")
    assert "polled 3 feeds: 0 new items" in r.output
    assert week_files() == before  # only state.json (the feed states) was saved


def test_poll_exit_0_when_all_succeed(env) -> None:
    r = env("poll", "--once", "--feed", "Seed")
    assert r.exit_code == 0 and "1 new item (1 talks)" in r.output


def test_poll_needs_once(env) -> None:
    r = env("poll")
    assert r.exit_code == 2 and "--once" in r.output


def test_list_filters_and_formats(env) -> None:
    env("poll", "--once")
    rows = json.loads(env("list", "--format", "json").output)
    assert len(rows) == 3
    required = {"id", "title", "summary", "link", "feed", "published", "labels", "primary", "scores", "evidence"}
    assert required <= set(rows[0])
    assert [r["published"] for r in rows] == sorted((r["published"] for r in rows), reverse=True)
    seed = next(r for r in rows if r["feed"] == "Seed")
    assert "talks" in seed["labels"] and seed["primary"] == "talks"
    assert any(e["label"] == "talks" for e in seed["evidence"])
    sanc = json.loads(env("list", "--label", "sanctions", "--format", "json").output)
    assert [r["title"] for r in sanc] == ["EU imposes new sanctions on Russian banks"]
    none = json.loads(env("list", "--label", "none", "--format", "json").output)
    assert [r["title"] for r in none] == ["Football: Spain beat Italy in a friendly"]
    by_feed = json.loads(env("list", "--feed", "Seed", "--format", "json").output)
    assert [r["feed"] for r in by_feed] == ["Seed"]
    found = json.loads(env("list", "--search", "russian BANKS", "--format", "json").output)
    assert len(found) == 1
    assert json.loads(env("list", "--since", "2022-04-04", "--format", "json").output)[-1]["published"] >= "2022-04-04"
    assert len(json.loads(env("list", "--limit", "1", "--format", "json").output)) == 1
    table = env("list").output
    assert "ID" in table.splitlines()[0] and "Russia, Ukraine continue" in table
    reader = list(csv.DictReader(io.StringIO(env("list", "--format", "csv").output)))
    assert len(reader) == 3 and {"id", "title", "labels"} <= set(reader[0])
    assert env("list", "--feed", "Nope").exit_code == 2
    assert env("list", "--since", "yesterday-ish").exit_code == 2


def test_show_mark_unread_starred(env) -> None:
    env("poll", "--once")
    rows = json.loads(env("list", "--format", "json").output)
    seed = next(r for r in rows if r["feed"] == "Seed")
    shown = env("show", seed["id"]).output
    assert "evidence:" in shown and "talks" in shown and "2022" in shown
    assert env("show", "0000000000000000").exit_code == 2
    assert len(json.loads(env("list", "--unread", "--format", "json").output)) == 3
    assert env("mark", seed["id"], "--read", "--star").exit_code == 0
    assert len(json.loads(env("list", "--unread", "--format", "json").output)) == 2
    starred = json.loads(env("list", "--starred", "--format", "json").output)
    assert [r["id"] for r in starred] == [seed["id"]] and starred[0]["read"] is True
    assert env("mark", seed["id"]).exit_code == 2


def test_export_formats_escape_feed_text(env, feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.route("/talks.xml", Response(body=rss([
        rss_item("=HYPERLINK(\"http://evil\") *talks* [x](javascript:1) <b>", guid="e1",
                 link="https://news.example/a(b)")])))
    env("poll", "--once", "--feed", "Wire")
    md = env("export", "--format", "md", "--feed", "Wire").output
    assert "\\*talks\\*" in md and "\\[x\\]\\(javascript:1\\)" in md and "\\<b\\>" in md
    assert "(https://news.example/a%28b%29)" in md
    out = tmp_path / "x.csv"
    assert env("export", "--format", "csv", "--feed", "Wire", "-o", str(out)).exit_code == 0
    row = next(csv.DictReader(out.open()))
    assert row["title"].startswith("'=HYPERLINK")  # no formula in a spreadsheet
    data = json.loads(env("export", "--feed", "Wire").output)
    assert data[0]["title"].startswith("=HYPERLINK")


def test_feeds_list_json_health(env) -> None:
    env("poll", "--once")
    feeds = {f["feed"]: f for f in json.loads(env("feeds", "list", "--format", "json").output)}
    assert feeds["Seed"]["status"] == "ok" and feeds["Seed"]["items_stored"] == 1
    assert feeds["Broken"]["status"] == "error" and feeds["Broken"]["error"] == "HTTP 500 Internal Server Error"
    assert feeds["Broken"]["failing_since"] and feeds["Broken"]["next_poll"]
    assert "failing since" in env("feeds", "list").output


def test_feeds_add_remove_enable_disable(env, tmp_path: Path) -> None:
    r = env("feeds", "add", "https://example.org/rss.xml", "--name", "Example", "--tag", "x")
    assert r.exit_code == 0, r.output
    text = (tmp_path / "config.toml").read_text()
    assert 'name = "Example"' in text and "https://example.org/rss.xml" in text
    assert env("feeds", "add", "https://example.org/rss.xml").exit_code == 2  # duplicate
    assert env("feeds", "add", "file:///etc/passwd").exit_code == 2
    assert env("feeds", "add", "javascript:alert(1)").exit_code == 2
    assert env("feeds", "disable", "Example").exit_code == 0
    assert "enabled = false" in (tmp_path / "config.toml").read_text()
    assert env("poll", "--once", "--feed", "Seed").exit_code == 0  # creates the store
    feeds = {f["feed"]: f for f in json.loads(env("feeds", "list", "--format", "json").output)}
    assert feeds["Example"]["status"] == "disabled"
    assert env("feeds", "enable", "Example").exit_code == 0
    assert "enabled = false" not in (tmp_path / "config.toml").read_text()
    assert env("feeds", "remove", "Example").exit_code == 0
    assert "Example" not in (tmp_path / "config.toml").read_text()
    assert env("feeds", "remove", "Example").exit_code == 2


def test_feeds_add_to_bundled_config_copies_it_to_the_user_config(tmp_path: Path) -> None:
    store = tmp_path / "store"
    r = CliRunner().invoke(cli, ["--db", str(store), "feeds", "add", "https://example.org/a.xml",
                                    "--no-fetch"])
    assert r.exit_code == 0, r.output
    user = Path.home() / ".config" / "diplowatch" / "config.toml"
    assert user.is_file() and "https://example.org/a.xml" in user.read_text()
    assert str(SEED) in user.read_text()  # the relative seed path was made absolute
    assert "example.org/a.xml" not in (REPO / "config.toml").read_text()  # bundled file untouched
    Store.open(store).close()  # `feeds list` reads a store, it does not create one
    r = CliRunner().invoke(cli, ["--db", str(store), "feeds", "list", "--format", "json"])
    names = [f["feed"] for f in json.loads(r.output)]
    assert "example.org/a.xml" in names and any(n.startswith("Seed") for n in names)


def test_opml_import_export(env, tmp_path: Path) -> None:
    opml = tmp_path / "subs.opml"
    opml.write_text("""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
      <outline text="Diplomacy"><outline text="A" xmlUrl="https://a.example/rss"/>
        <outline text="Local" xmlUrl="file:///etc/passwd"/></outline>
      <outline text="B" title="B feed" xmlUrl="https://b.example/atom" category="press"/>
      <outline text="dup" xmlUrl="https://a.example/rss"/></body></opml>""")
    r = env("feeds", "import", str(opml))
    assert r.exit_code == 0 and "imported 2 feeds" in r.output
    assert "file:///etc/passwd" in r.output and "already subscribed" in r.output
    out = env("feeds", "export").output
    assert 'xmlUrl="https://a.example/rss"' in out and 'category="press"' in out
    assert str(SEED) not in out  # local files are not exported
    bad = tmp_path / "bad.opml"
    bad.write_text("<opml><head/></opml>")
    r = env("feeds", "import", str(bad))
    assert r.exit_code == 2 and "no <body>" in r.output


def test_rules_explain_and_eval(env, tmp_path: Path) -> None:
    r = env("rules", "explain", "Russia and Ukraine resumed peace talks in Istanbul", "--json")
    data = json.loads(r.output)
    assert "talks" in data["labels"] and data["evidence"]
    for m in data["evidence"]:
        assert data["summary"][m["start"]:m["end"]] == m["text"]
    assert "talks" in env("rules", "explain", "Peace talks resume").output
    # --format like the other commands; --json stays as its alias.
    as_format = env("rules", "explain", "Russia and Ukraine resumed peace talks in Istanbul",
                    "--format", "json")
    assert as_format.exit_code == 0 and json.loads(as_format.output) == data
    text = env("rules", "explain", "Peace talks resume", "--format", "text")
    assert text.exit_code == 0 and text.output == env("rules", "explain", "Peace talks resume").output
    assert env("rules", "explain", "x", "--format", "xml").exit_code == 2
    both = env("rules", "explain", "x", "--json", "--format", "text")
    assert both.exit_code == 2 and "--json and --format text" in both.output
    tsv = tmp_path / "tiny.tsv"
    tsv.write_text("id\ttext\tlabels\n"
                   "1\tRussia and Ukraine held peace talks in Istanbul.\ttalks\n"
                   "2\tThe EU imposed sanctions on Russian banks.\tsanctions\n"
                   "3\tFloods displaced thousands.\t\n"
                   "4\tThe minister condemned the strike.\tstatements\n")
    data = json.loads(env("rules", "eval", str(tsv), "--json").output)
    assert set(data) >= {"labels", "macro_f1", "errors"}
    assert set(data["labels"]) == {"talks", "sanctions", "statements"}
    assert data["labels"]["talks"]["support"] == 1
    assert {"precision", "recall", "f1", "support"} <= set(data["labels"]["sanctions"])
    assert env("rules", "eval", str(tmp_path / "missing.tsv")).exit_code == 2


def test_dashboard_entry_point_is_installed() -> None:
    """The console script exists and answers --version without a terminal."""
    r = subprocess.run([sys.executable, "-m", "tui.cli.main", "--version"], capture_output=True, text=True,
                       cwd=REPO, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("diplowatch, version ")

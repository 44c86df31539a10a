"""What a new user meets at the command line: tables aligned by what a terminal shows (CJK
names take two cells a character), feed tables appended to the config after one blank line,
and the bundled config's copy saying its local paths are now absolute."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from rich.cells import cell_len

from storage.store import Store
from tests.feedserver import FeedServer, Response, rss, rss_item
from tui.cli.main import cli
from tui.cli.output import table

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "seed-feed.xml"


def test_feeds_list_aligns_cjk_names_by_their_width_on_screen(tmp_path: Path, write_config) -> None:
    config = write_config([("新华社 国际新闻", "https://a.example/rss"),
                           ("UN News", "https://b.example/rss"),
                           ("Ре́йтер", "https://c.example/rss")])  # a combining accent: no cell
    Store.open(tmp_path / "store").close()
    r = CliRunner(env={"COLUMNS": "120"}).invoke(
        cli, ["--config", str(config), "--db", str(tmp_path / "store"), "feeds", "list"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    rows = [ln for ln in lines[:4] if ln.split()[0] in ("FEED", "新华社", "UN", "Ре́йтер")]
    assert len(rows) == 4, r.output
    # STATUS (a new feed's "new") starts in the same terminal column on every row
    columns = {cell_len(ln[:ln.index(word)]) for ln, word in zip(rows, ("STATUS", *["new "] * 3))}
    assert len(columns) == 1, rows


def test_a_cut_cjk_cell_keeps_the_table_to_the_width() -> None:
    rows = [["联合国新闻联合国新闻联合国新闻联合国新闻联合国新闻", "ok", "2h ago"],
            ["UN News", "error", "now"]]
    out = table(rows, ["FEED", "STATUS", "LAST"], flex=0, width=30).splitlines()
    assert out[1].split("  ")[0].endswith("…")
    assert all(cell_len(ln) <= 30 for ln in out), out
    status = {cell_len(ln[:ln.index(word)]) for ln, word in zip(out, ("STATUS", "ok", "error"))}
    assert len(status) == 1, out


def test_feeds_add_appends_each_table_after_exactly_one_blank_line(tmp_path: Path) -> None:
    store = tmp_path / "store"
    for ending in ("", "\n", "\n\n"):  # no newline at the end, a newline, a blank line
        config = tmp_path / "config.toml"
        config.write_text(f'[[feeds]]\nname = "Seed"\nurl = "{SEED}"{ending}', encoding="utf-8")
        for url in ("https://a.example/rss", "https://b.example/rss"):
            r = CliRunner().invoke(cli, ["--config", str(config), "--db", str(store), "feeds",
                                         "add", url, "--no-fetch"])
            assert r.exit_code == 0, r.output
        text = config.read_text(encoding="utf-8")
        assert text.count("[[feeds]]") == 3 and "\n\n\n" not in text, repr(text)
        assert text.count("\n\n[[feeds]]") == 2, repr(text)


def test_feeds_add_keeps_the_blank_line_before_a_table_after_the_feeds(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[[feeds]]\nname = "Seed"\nurl = "{SEED}"\n\n[ui]\ntheme = "nord"\n',
                      encoding="utf-8")
    r = CliRunner().invoke(cli, ["--config", str(config), "--db", str(tmp_path / "store"),
                                 "feeds", "add", "https://a.example/rss", "--no-fetch"])
    assert r.exit_code == 0, r.output
    text = config.read_text(encoding="utf-8")
    assert '"\n\n[[feeds]]\nname = "a.example/rss"' in text, repr(text)
    assert 'url = "https://a.example/rss"\n\n[ui]' in text, repr(text)


def test_the_copied_config_no_longer_calls_its_absolute_seed_path_relative(tmp_path: Path) -> None:
    bundled = (REPO / "config.toml").read_text(encoding="utf-8")
    assert "relative to this file's folder" in bundled  # what the bundled config says
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "store"), "feeds", "add",
                                 "https://example.org/a.xml", "--no-fetch"])
    assert r.exit_code == 0, r.output
    user = (Path.home() / ".config" / "diplowatch" / "config.toml").read_text(encoding="utf-8")
    seed_line = next(ln for ln in user.splitlines() if ln.startswith("url = ") and "seed" in ln)
    assert f'"{SEED}"' in seed_line
    assert "relative" not in seed_line and "absolute" in seed_line, seed_line
    assert "relative to this file" not in user


def test_poll_lines_align_cjk_names(tmp_path: Path, write_config, feed_server: FeedServer) -> None:
    feed_server.route("/un.xml", Response(body=rss([rss_item("Talks resume", guid="u1")])))
    config = write_config([("新华社 国际", str(SEED)), ("UN News", feed_server.url("/un.xml"))])
    r = CliRunner().invoke(cli, ["--config", str(config), "--db", str(tmp_path / "store"),
                                 "poll", "--once"])
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.output.splitlines() if ln.startswith("ok")]
    assert len(lines) == 2 and len({cell_len(ln[:ln.index("1 new")]) for ln in lines}) == 1, lines

"""Feed locations from the command line, the config and OPML: hosts are host names or IP
literals, schemes and hosts are case-insensitive (and so are duplicates), `feeds add` takes a
local feed file too, and the default name keeps the port."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.config.load import ConfigError, load_config, normalise_feed_url
from tui.cli.main import cli

SEED = Path(__file__).resolve().parents[2] / "seeds" / "seed-feed.xml"


@pytest.fixture
def run(tmp_path: Path, write_config):
    config = write_config([("Seed", str(SEED))])

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--config", str(config), "--db", str(tmp_path / "db"),
                                        *args])

    invoke.config = config
    return invoke


@pytest.mark.parametrize("url", ["https://exa mple.com/x", "https://exa%20mple.com/x",
                                 "https://-bad.example/rss", "http://a..b/rss",
                                 "https://" + "x" * 64 + ".example/rss"])
def test_a_host_that_is_not_a_host_name_is_refused(run, url: str) -> None:
    before = run.config.read_text()
    r = run("feeds", "add", url)
    assert r.exit_code == 2 and "is not a host name or an IP address" in r.output, r.output
    assert run.config.read_text() == before


def test_host_names_and_ip_literals_are_accepted() -> None:
    for url in ("https://news.example/rss", "http://127.0.0.1:8080/x", "http://[::1]/x",
                "https://bücher.example/feed", "https://my_blog.example/rss"):
        assert normalise_feed_url(url, Path(".")) == url


def test_a_config_with_a_bad_host_names_the_key(write_config) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write_config([("Bad", "https://exa mple.com/x")]))
    assert "feeds[0].url" in str(e.value) and "not a host name" in str(e.value)


def test_schemes_and_hosts_are_case_insensitive_also_in_opml(run, tmp_path: Path) -> None:
    assert normalise_feed_url("HTTPS://News.Example/Path?Q=1", Path(".")) == \
        "https://news.example/Path?Q=1"
    assert run("feeds", "add", "https://news.example/rss", "--no-fetch").exit_code == 0
    opml = tmp_path / "subs.opml"
    opml.write_text('<opml version="2.0"><body>'
                    '<outline text="Upper" xmlUrl="HTTPS://NEWS.EXAMPLE/rss"/>'
                    '<outline text="Other" xmlUrl="HTTP://Other.Example/feed"/>'
                    '</body></opml>')
    r = run("feeds", "import", str(opml))
    assert r.exit_code == 0, r.output
    assert "imported 1 feed" in r.output and "already subscribed" in r.output
    assert "not an http(s) URL" not in r.output
    assert 'url = "http://other.example/feed"' in run.config.read_text()


def test_feeds_add_takes_a_local_feed_file(run, tmp_path: Path) -> None:
    feed = tmp_path / "wire-copy.xml"
    feed.write_bytes(SEED.read_bytes())
    r = run("feeds", "add", str(feed))
    assert r.exit_code == 0, r.output
    assert "added 'wire-copy'" in r.output and str(feed) in run.config.read_text()
    r = run("feeds", "add", str(tmp_path / "missing.xml"))
    assert r.exit_code == 2 and "no file at" in r.output


def test_the_default_name_keeps_the_port(run) -> None:
    assert run("feeds", "add", "http://127.0.0.1:8001/rss", "--no-fetch").exit_code == 0
    r = run("feeds", "add", "http://127.0.0.1:8002/rss", "--no-fetch")
    assert r.exit_code == 0, r.output
    text = run.config.read_text()
    assert 'name = "127.0.0.1:8001/rss"' in text and 'name = "127.0.0.1:8002/rss"' in text


def test_rules_apply_progress_into_a_file_is_one_line_per_week(run, tmp_path: Path) -> None:
    import subprocess
    import sys

    assert run("poll", "--once").exit_code == 0
    err = tmp_path / "progress.txt"
    with err.open("w") as f:
        r = subprocess.run([sys.executable, "-m", "tui.cli.main", "--config", str(run.config),
                            "--db", str(tmp_path / "db"), "rules", "apply"], stderr=f,
                           stdout=subprocess.PIPE, text=True, timeout=120,
                           cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0, err.read_text()
    text = err.read_text()
    assert "\r" not in text
    lines = [ln for ln in text.splitlines() if ln]
    assert lines and all(ln.startswith("re-classifying: ") and ln.endswith(" weeks")
                         for ln in lines), text


def test_remove_enable_disable_match_names_in_any_case(run) -> None:
    assert run("feeds", "add", "https://news.example/rss", "--name", "Reuters World").exit_code == 0
    r = run("feeds", "disable", "reuters world")
    assert r.exit_code == 0, r.output
    assert "enabled = false" in run.config.read_text()
    assert run("feeds", "enable", "REUTERS WORLD").exit_code == 0
    assert "enabled = false" not in run.config.read_text()
    assert run("feeds", "remove", "reuters WORLD").exit_code == 0
    assert "Reuters World" not in run.config.read_text()


def test_feeds_add_names_a_feed_after_its_title(run, feed_server) -> None:
    from tests.feedserver import Response, rss, rss_item

    feed_server.route("/wire.xml", Response(body=rss([rss_item("Talks resume", guid="a")],
                                                     title="Desk Wire [b]World[/b]")))
    r = run("feeds", "add", feed_server.url("/wire.xml"))
    assert r.exit_code == 0, r.output
    assert "named it after the feed's title" in r.output
    assert 'name = "Desk Wire [b]World[/b]"' in run.config.read_text()
    feed_server.route("/gone.xml", Response(404))
    r = run("feeds", "add", feed_server.url("/gone.xml"))
    assert r.exit_code == 0 and "could not name it after the feed's title" in r.output
    assert f'name = "127.0.0.1:{feed_server.port}/gone.xml"' in run.config.read_text()

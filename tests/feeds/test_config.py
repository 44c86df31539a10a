"""Config loading: defaults from the bundled file, precedence, and every error's message."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.config.load import ConfigError, bundled_config_path, load_config, resolve_config_path
from feeds.config.paths import resolve_db_path
from tui.cli.main import cli

BUNDLED_SOURCES = {
    "https://news.un.org/feed/subscribe/en/news/all/rss.xml",
    "https://news.un.org/feed/subscribe/en/news/topic/peace-and-security/feed/rss.xml",
    "http://en.kremlin.ru/events/president/news/feed",
    "https://www.president.gov.ua/en/rss",
    "https://tass.com/rss/v2.xml",
    "https://www.ukrinform.net/rss/block-lastnews",
    "https://kyivindependent.com/news-archive/rss/",
    "https://meduza.io/rss/en/all",
    "https://www.theguardian.com/world/ukraine/rss",
    "https://feeds.bbci.co.uk/news/world/europe/rss.xml",
    "https://www.consilium.europa.eu/en/rss/pressreleases.ashx",
    "https://www.nato.int/cps/rss/en/natohq/rssFeed.xsl/rssFeed.xml",
    "https://www.state.gov/rss-feed/press-releases/feed/",
    "http://www.xinhuanet.com/english/rss/worldrss.xml",
    "https://www.globalsecurity.org/globalsecurity-org.xml",
    "https://www.aljazeera.com/xml/rss/all.xml",
    "https://rss.dw.com/xml/rss-en-world",
}


def test_bundled_config_lists_the_seed_and_every_real_source() -> None:
    config = load_config(bundled_config_path())
    assert config.is_bundled
    urls = {f.url for f in config.feeds}
    assert BUNDLED_SOURCES <= urls
    seed = [f for f in config.feeds if f.is_local]
    assert len(seed) == 1 and Path(seed[0].url).is_file()
    assert Path(seed[0].url) == (bundled_config_path().parent / "seeds" / "seed-feed.xml").resolve()
    assert all(f.enabled for f in config.feeds)
    assert config.rules is not None


def test_feeds_only_config_gets_bundled_settings_and_rules(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[feeds]]\nname = "A"\nurl = "https://a.example/rss"\ntags = ["x"]\ninterval = "30m"\n')
    config = load_config(path)
    bundled = load_config(bundled_config_path())
    assert config.polling == bundled.polling
    assert config.rules.fingerprint == bundled.rules.fingerprint
    (feed,) = config.feeds
    assert (feed.name, feed.tags, feed.interval, feed.enabled) == ("A", ("x",), 1800.0, True)


def test_relative_local_path_resolves_against_the_config_folder(tmp_path: Path) -> None:
    sub = tmp_path / "conf"
    sub.mkdir()
    path = sub / "c.toml"
    path.write_text('[[feeds]]\nname = "Local"\nurl = "data/feed.xml"\n[storage]\npath = "store"\n')
    config = load_config(path)
    assert config.feeds[0].url == str(sub / "data" / "feed.xml")
    assert config.storage.path == sub / "store"


def test_user_settings_override_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[polling]\ntimeout = "7s"\nmax_body = "1MiB"\nconcurrency = 3\n')
    config = load_config(path)
    assert (config.polling.timeout, config.polling.max_body, config.polling.concurrency) == (7.0, 1048576, 3)
    assert config.polling.interval == 900.0  # from the bundled file


def test_a_key_this_version_no_longer_reads_still_loads(tmp_path: Path) -> None:
    """`fetch_processes` (fetch worker processes, removed): a config written for it loads."""
    path = tmp_path / "c.toml"
    path.write_text('[polling]\nfetch_processes = "auto"\nconcurrency = 3\n')
    assert load_config(path).polling.concurrency == 3
    path.write_text('[polling]\nfetch_procesess = 2\n')  # a misspelt key is still an error
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(path)


def test_config_and_db_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"DIPLOWATCH_CONFIG": str(tmp_path / "env.toml"), "DIPLOWATCH_DB": str(tmp_path / "envdb")}
    assert resolve_config_path("cli.toml", env) == Path("cli.toml")
    assert resolve_config_path(None, env) == tmp_path / "env.toml"
    assert resolve_config_path(None, {}) == bundled_config_path()  # no user config in the test HOME
    user = Path(tmp_path / "home-config")
    monkeypatch.setattr("feeds.config.load.user_config_path", lambda: user)
    user.write_text("")
    assert resolve_config_path(None, {}) == user
    config = load_config(bundled_config_path())
    assert resolve_db_path("x", config, env) == Path("x")
    assert resolve_db_path(None, config, env) == tmp_path / "envdb"
    assert resolve_db_path(None, config, {}).name == "store"


BAD_CONFIGS = [
    # (text, what the message must contain)
    ('[polling\ninterval = "15m"\n', ["line 1", "TOML syntax error"]),
    ('[polling]\nintervall = "15m"\n', ["line 2", "polling.intervall", "unknown key", "expected one of"]),
    ('[pollng]\n', ["pollng", "unknown section"]),
    ('[polling]\nconcurrency = "eight"\n', ["line 2", "polling.concurrency", "expected an integer", "'eight'"]),
    ('[polling]\ninterval = "soon"\n', ["polling.interval", "expected a duration"]),
    ('[polling]\nmax_body = "huge"\n', ["polling.max_body", "expected a size"]),
    ('[[feeds]]\nname = "A"\nurl = "https://a.example/x"\n[[feeds]]\nname = "a"\nurl = "https://b.example/x"\n',
     ["line 5", "feeds[1].name", "duplicate feed", "feeds[0]"]),
    ('[[feeds]]\nname = "A"\nurl = "https://a.example/x"\n[[feeds]]\nname = "B"\nurl = "https://a.example/x"\n',
     ["line 6", "feeds[1].url", "duplicate feed"]),
    ('[[feeds]]\nname = "A"\nurl = "ftp://a.example/x"\n', ["line 3", "feeds[0].url", "'ftp' is not allowed"]),
    ('[[feeds]]\nname = "A"\nurl = "file:///etc/passwd"\n', ["feeds[0].url", "'file' is not allowed"]),
    ('[[feeds]]\nname = "A"\nurl = "https:///nohost"\n', ["feeds[0].url", "no host"]),
    ('[[feeds]]\nurl = "https://a.example/x"\n', ["feeds[0].name", "non-empty string"]),
    ('[[feeds]]\nname = "A"\nurl = "https://a.example/x"\ncolour = "red"\n', ["line 4", "feeds[0].colour", "unknown key"]),
    ('[[feeds]]\nname = "A"\nurl = "https://a.example/x"\nenabled = "yes"\n', ["feeds[0].enabled", "true or false"]),
    ('[[feeds]]\nname = "A"\nurl = "https://a.example/x"\ntags = "war"\n', ["feeds[0].tags", "array"]),
    ('[rules.talks]\nterms = { "negotiat*" = "heavy" }\n', ["rules.talks"]),
    ('[rules.gossip]\nterms = ["x"]\n', ["gossip"]),
]


@pytest.mark.parametrize("text,expected", BAD_CONFIGS, ids=[e[1][-1] for e in BAD_CONFIGS])
def test_bad_config_gives_one_clear_message_and_exit_2(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(str(path))
    for part in expected:
        assert part in message, (part, message)
    result = CliRunner().invoke(cli, ["--config", str(path), "feeds", "list"])
    assert result.exit_code == 2
    assert str(path) in result.output and "Traceback" not in result.output
    assert result.output.count("\n") == 1  # one message


def test_missing_config_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.toml"), "list"])
    assert result.exit_code == 2
    assert "nope.toml: file not found" in result.output


def test_feed_scheme_shortcut_becomes_https(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[feeds]]\nname = "A"\nurl = "feed://a.example/rss"\n')
    assert load_config(path).feeds[0].url == "https://a.example/rss"

"""Files the app writes (log, briefings, exports, a config copy) are 0600, in 0700 folders
when the app makes them, whatever the umask; an existing file keeps the mode its user gave it;
a symlinked config is edited where it points and stays a link."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.feedserver import FeedServer, Response, rss, rss_item
from tui.cli.main import cli

REPO = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)  # the usual default: new files 0644, folders 0755
    yield
    os.umask(old)


def test_the_log_is_0600_in_0700_folders_also_after_a_rollover(tmp_path: Path) -> None:
    log = tmp_path / "state" / "diplowatch" / "log" / "diplowatch.log"
    code = textwrap.dedent(f"""
        import logging, os
        from pathlib import Path
        os.umask(0o022)
        from tui.cli.logs import setup_logging
        setup_logging(path=Path({str(log)!r}))
        logger = logging.getLogger("diplowatch.test")
        for n in range(3000):  # past the 2 MiB rollover
            logger.info("%d %s", n, "x" * 1000)
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    rolled = log.with_name(log.name + ".1")
    assert rolled.exists()
    assert _mode(log) == 0o600 and _mode(rolled) == 0o600
    for folder in (log.parent, log.parent.parent, log.parent.parent.parent):
        assert _mode(folder) == 0o700, folder


@pytest.fixture
def env(tmp_path: Path, feed_server: FeedServer, write_config):
    feed_server.route("/a.xml", Response(body=rss([rss_item("Peace talks resume", guid="g1")])))
    config = write_config([("Wire", feed_server.url("/a.xml"))])
    store = tmp_path / "store"

    def run(*args: str, config_path: Path = config):
        return CliRunner().invoke(cli, ["--config", str(config_path), "--db", str(store), *args])

    assert run("poll", "--once").exit_code == 0
    return run


@pytest.mark.parametrize("args", [("export", "--format", "json"), ("export", "--format", "csv"),
                                  ("feeds", "export"), ("brief", "--since", "100000d")],
                         ids=["export-json", "export-csv", "opml", "brief"])
def test_exports_and_briefings_are_0600(env, tmp_path: Path, loose_umask, args) -> None:
    out = tmp_path / "out" / "file"
    out.parent.mkdir()
    r = env(*args, "-o", str(out))
    assert r.exit_code == 0, r.output
    assert _mode(out) == 0o600


def test_an_existing_file_keeps_the_mode_its_user_gave_it(env, tmp_path: Path, loose_umask) -> None:
    out = tmp_path / "shared.json"
    out.write_text("old")
    out.chmod(0o644)  # the user wants it readable
    assert env("export", "-o", str(out)).exit_code == 0
    assert _mode(out) == 0o644 and out.read_text() != "old"


def test_the_config_copy_is_0600_in_a_0700_folder(loose_umask) -> None:
    home = Path(os.environ["XDG_CONFIG_HOME"])
    r = CliRunner().invoke(cli, ["feeds", "add", "https://example.org/a.xml", "--name", "A"])
    assert r.exit_code == 0, r.output
    config = home / "diplowatch" / "config.toml"
    assert _mode(config) == 0o600
    assert _mode(config.parent) == 0o700


def test_a_symlinked_config_is_edited_where_it_points(tmp_path: Path, write_config,
                                                     loose_umask) -> None:
    real = write_config([("A", "https://a.example/rss")], name="real.toml")
    real.chmod(0o640)
    links = tmp_path / "dotfiles"
    links.mkdir()
    link = links / "config.toml"
    link.symlink_to(real)
    r = CliRunner().invoke(cli, ["--config", str(link), "feeds", "add", "https://b.example/rss",
                                 "--name", "B"])
    assert r.exit_code == 0, r.output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert "https://b.example/rss" in real.read_text()
    assert _mode(real) == 0o640  # the target keeps its mode
    assert sorted(p.name for p in links.iterdir()) == ["config.toml"]  # no stray files
    r = CliRunner().invoke(cli, ["--config", str(link), "feeds", "disable", "A"])
    assert r.exit_code == 0, r.output
    assert link.is_symlink() and "enabled = false" in real.read_text()

"""Shared fixtures: a real loopback HTTP server, config files and stores in temp dirs.

No test touches the internet: every URL is on 127.0.0.1, or a name that cannot resolve
(``.invalid``), and HOME/XDG dirs point into the temp dir so nothing leaks into the user's.
"""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.feedserver import FeedServer

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))  # (compiled regexes)
    monkeypatch.delenv("DIPLOWATCH_CONFIG", raising=False)
    monkeypatch.delenv("DIPLOWATCH_DB", raising=False)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """``write_config(feeds=[(name, url)], extra="...")`` → path of a config.toml in tmp_path."""

    def write(feeds: list[tuple[str, str]] | None = None, extra: str = "", name: str = "config.toml",
              polling: str = 'min_interval = "1s"\nparse_workers = 1\ntimeout = "5s"\nconnect_timeout = "2s"') -> Path:
        parts = [f"[polling]\n{polling}\n", textwrap.dedent(extra)]
        for feed_name, url in feeds or []:
            parts.append(f'[[feeds]]\nname = "{feed_name}"\nurl = "{url}"\n')
        path = tmp_path / name
        path.write_text("\n".join(parts), encoding="utf-8")
        return path

    return write


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not present (evaluation data and corpus live outside the repo)")
    return SHARED


@pytest.fixture(scope="session")
def parse_pool():
    """One real pool of parse workers (child processes) for the whole session."""
    from feeds.parse.pool import ParsePool
    from tests.helpers import bundled_config

    pool = ParsePool(bundled_config().rules, workers=1, timeout=20)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def tagging_pool():
    """Parse workers that classify with the bundled rules and tag the bundled actors (as
    the app's poller would), for end-to-end polls; one for the whole session."""
    from feeds.parse.pool import ParsePool
    from tests.helpers import bundled_config

    bundled = bundled_config()
    pool = ParsePool(bundled.rules, workers=1, timeout=20, actors_spec=bundled.actors)
    yield pool
    pool.close()

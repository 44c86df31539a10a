"""Fixtures for the analyst features (actors, clusters, trends, watch, briefing)."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from feeds.model import Item, utc_iso
from tests.helpers import Clock, bundled_config

HERE = Path(__file__).resolve().parent
# Thursday 2026-05-14 12:00 UTC.
T0 = 1_778_760_000.0
HOUR = 3600.0
DAY = 86400.0


@pytest.fixture(scope="session")
def bundled():
    return bundled_config()


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


_ids = itertools.count(1)


def make_item(title: str = "Envoys meet in Geneva", *, feed: str = "https://a.example/rss",
              published: float = T0, labels: tuple[str, ...] = ("talks",),
              actors: tuple[str, ...] = (), cluster: str | None = None, summary: str = "",
              link: str | None = None, source: str | None = None, item_id: str | None = None,
              first_seen: float | None = None) -> Item:
    n = next(_ids)
    return Item(
        id=item_id or f"{n:016x}", feed=feed, source=source or feed.split("/")[2], guid=f"g{n}",
        title=title, summary=summary,
        link=f"https://news.example/{n}" if link is None else link,
        published=utc_iso(published), first_seen=utc_iso(first_seen or published),
        labels=labels, primary=labels[0] if labels else None,
        scores={lbl: 1.0 for lbl in labels}, actors=actors, cluster=cluster)


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, clock: Clock, tmp_path: Path):
    """``run_cli(config_path, *args)`` → click Result, with the commands on the test clock
    and the store in ``tmp_path / "store"``."""
    from click.testing import CliRunner

    import tui.cli.main
    from tui.cli.context import AppContext

    class FrozenContext(AppContext):
        def __init__(self, **kw) -> None:
            super().__init__(clock=clock, **kw)

    monkeypatch.setattr(tui.cli.main, "AppContext", FrozenContext)

    def run(config: Path, *args: str):
        return CliRunner(env={"COLUMNS": "160"}).invoke(
            tui.cli.main.cli, ["--config", str(config), "--db", str(tmp_path / "store"), *args])

    return run

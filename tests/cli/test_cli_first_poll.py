"""A first `poll --once` into a new store starts its parse workers before it opens the store,
and stores what a poll whose workers start at the cycle stores."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.parse import pool as poolmod
from feeds.parse.pool import ParsePool
from storage.store import Store
from tests.feedserver import FeedServer, Response, rss, rss_item
from tui.cli.main import cli

FEEDS = 3


@pytest.fixture
def config(feed_server: FeedServer, write_config) -> Path:
    for n in range(FEEDS):
        feed_server.route(f"/f{n}.xml", Response(body=rss([
            rss_item(f"Ceasefire talks resume, round {n}", guid=f"t{n}",
                     link=f"https://news.example/t{n}", pub="Mon, 04 Apr 2022 10:00:00 GMT"),
            rss_item(f"New sanctions on oil exports, part {n}", guid=f"s{n}",
                     link=f"https://news.example/s{n}", pub="Mon, 04 Apr 2022 11:00:00 GMT"),
        ])))
    return write_config([(f"Feed {n}", feed_server.url(f"/f{n}.xml")) for n in range(FEEDS)])


@pytest.fixture
def spawns(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Per worker started: whether the store's folder existed yet (False: before the open)."""
    seen: list[bool] = []
    spawn = poolmod._spawn

    def recording():
        seen.append(_store_dir[0].exists())
        return spawn()

    monkeypatch.setattr(poolmod, "_spawn", recording)
    monkeypatch.setattr(ParsePool, "one_shot_inline", 1)  # 3 new feeds: more than in process
    return seen


_store_dir: list[Path] = []


def _stored(store: Path) -> list[tuple]:
    with Store.open(store, readonly=True) as s:
        return sorted((i.id, i.title, i.labels, i.scores, i.actors) for i in s.recent())


def test_a_first_poll_starts_its_workers_before_it_opens_the_store(
        config: Path, tmp_path: Path, spawns: list[bool]) -> None:
    first, again = tmp_path / "first", tmp_path / "again"
    _store_dir[:] = [first]
    out = CliRunner().invoke(cli, ["--config", str(config), "--db", str(first), "poll", "--once"])
    assert out.exit_code == 0, out.output
    assert spawns and not any(spawns), "the workers started before the store was opened"
    assert f"polled {FEEDS} feeds: {2 * FEEDS} new items" in out.output

    # A store that exists (here: an empty one) starts them at the cycle, as before.
    again.mkdir()
    (again / "unrelated").write_text("")
    _store_dir[:] = [again]
    spawns.clear()
    out = CliRunner().invoke(cli, ["--config", str(config), "--db", str(again), "poll", "--once"])
    assert out.exit_code == 0, out.output
    assert spawns and all(spawns)
    assert _stored(first) == _stored(again) and len(_stored(first)) == 2 * FEEDS


def test_a_first_poll_that_cannot_open_its_store_stops_its_workers(
        config: Path, tmp_path: Path, spawns: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[int] = []
    close = ParsePool.close

    def recording_close(self: ParsePool) -> None:
        closed.append(len(self._all))
        close(self)

    monkeypatch.setattr(ParsePool, "close", recording_close)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    store = blocked / "store"  # cannot be created
    _store_dir[:] = [store]
    out = CliRunner().invoke(cli, ["--config", str(config), "--db", str(store), "poll", "--once"])
    assert out.exit_code == 2, out.output
    assert spawns and closed and closed[0] == len(spawns)

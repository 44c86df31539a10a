"""feeds.config.edit.enable_feed: the one way the CLI, the dashboard and the daemon enable or
disable a feed — a real config file edited, a real store's feed state reset on enable."""
from __future__ import annotations

from pathlib import Path

import pytest

from feeds.config.edit import enable_feed
from feeds.config.load import bundled_config_path, load_config, user_config_path
from feeds.model import FeedState, FeedStatus
from storage.store import Store

WIRE = "https://wire.example/rss"
OTHER = "https://other.example/rss"


def _gone(key: str) -> FeedState:
    return FeedState(key=key, url=key, etag='"v7"', last_modified="Mon, 04 Apr 2022 10:00:00 GMT",
                     body_hash="abc", status=FeedStatus.GONE, http_status=410, error="HTTP 410 Gone",
                     failing_since="2026-05-01T00:00:00Z", failures=4, next_poll=None,
                     retry_after="2026-05-02T00:00:00Z", recent_ids=("i1",), recent_links=("l1",))


@pytest.fixture
def config_path(write_config) -> Path:
    path = write_config([("Other", OTHER)])
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f'\n[[feeds]]\nname = "Wire"\nurl = "{WIRE}"\nenabled = false  # paused by hand\n')
    return path


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "store") as s:
        s.put_feed_state(_gone(WIRE))
        s.put_feed_state(_gone(OTHER))
        yield s


def test_enabling_edits_the_file_and_resets_the_feeds_state(config_path: Path, store: Store) -> None:
    edit = enable_feed(load_config(config_path), "Wire", True, store)
    assert (edit.path, edit.created) == (config_path, False)
    assert edit.config.feed("Wire").enabled and load_config(config_path).feed("Wire").enabled
    assert "enabled = false" not in config_path.read_text(encoding="utf-8")
    state = store.feed_state(WIRE)
    assert (state.status, state.error, state.failures, state.failing_since, state.next_poll,
            state.retry_after, state.http_status) == (FeedStatus.NEW, None, 0, None, None, None, None)
    # What the last document held and its validators stay: the retry is a conditional GET.
    assert (state.etag, state.last_modified, state.body_hash, state.recent_ids) == (
        '"v7"', "Mon, 04 Apr 2022 10:00:00 GMT", "abc", ("i1",))
    assert store.feed_state(OTHER) == _gone(OTHER)  # only the feed enabled


def test_disabling_edits_the_file_and_leaves_the_state(config_path: Path, store: Store) -> None:
    edit = enable_feed(load_config(config_path), "Other", False, store)
    assert not edit.config.feed("Other").enabled and not load_config(config_path).feed("Other").enabled
    assert store.feed_state(OTHER) == _gone(OTHER)
    assert store.feed_state(WIRE) == _gone(WIRE)


def test_without_a_store_the_states_are_left_alone(config_path: Path, store: Store) -> None:
    edit = enable_feed(load_config(config_path), WIRE, True, None)  # by URL, read-only caller
    assert edit.config.feed("Wire").enabled
    assert store.feed_state(WIRE) == _gone(WIRE)


def test_an_unknown_feed_is_a_key_error_and_changes_nothing(config_path: Path, store: Store) -> None:
    before = config_path.read_bytes()
    with pytest.raises(KeyError):
        enable_feed(load_config(config_path), "Nope", True, store)
    assert config_path.read_bytes() == before and store.feed_state(WIRE) == _gone(WIRE)


def test_the_bundled_config_is_copied_to_the_users_first(store: Store) -> None:
    bundled = load_config(bundled_config_path())
    assert bundled.is_bundled
    seed = next(f for f in bundled.feeds if f.is_local)
    bundled_bytes = bundled_config_path().read_bytes()
    edit = enable_feed(bundled, seed.name, False, store)
    assert (edit.path, edit.created) == (user_config_path(), True)
    assert bundled_config_path().read_bytes() == bundled_bytes  # never edited
    user = load_config(edit.path)
    assert not user.is_bundled and not user.feed(seed.name).enabled
    assert Path(user.feed(seed.name).url).is_absolute() and Path(user.feed(seed.name).url).is_file()
    # From then on the copy is the config in use: edited again, not copied again.
    again = enable_feed(bundled, seed.name, True, store)
    assert (again.path, again.created) == (user_config_path(), False)
    assert load_config(again.path).feed(seed.name).enabled

"""How the dashboard looks: fixed sizes, a frozen clock, UTC, a fixed store.

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and review the SVGs under ``tests/tui/__snapshots__``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from storage.store import Store
from tests.helpers import Clock, bundled_config
from tests.tui.helpers import T0, seed_store, settle
from tests.tui.scene import mark_scene, scene_items, scene_states
from tui.dashboard.app import DiplowatchApp
from tui.dashboard.backend import LocalBackend


def scene_config():
    """The bundled config (its feeds, rules, actors) with the seed feed's local path, which
    depends on where the repository is checked out, replaced by a fixed one."""
    config = bundled_config()
    feeds = tuple(dataclasses.replace(f, url="/srv/diplowatch/seeds/seed-feed.xml") if f.is_local else f
                  for f in config.feeds)
    return dataclasses.replace(config, feeds=feeds)


def scene_app(directory: Path) -> DiplowatchApp:
    """An offline app over the scene store, on the bundled config (its feeds and rules)."""
    config = scene_config()
    clock = Clock(T0)
    store = Store.open(directory / "scene", clock=clock)
    items = scene_items(config)
    seed_store(store, config, items, scene_states(config))
    mark_scene(store, items)
    return DiplowatchApp(config, LocalBackend(store), clock=clock)


@pytest.fixture
def scene(tmp_path):
    apps: list[DiplowatchApp] = []

    def make() -> DiplowatchApp:
        apps.append(scene_app(tmp_path))
        return apps[-1]

    yield make
    for app in apps:
        app.store.close()


def test_main_screen_100x30(snap_compare, scene) -> None:
    assert snap_compare(scene(), terminal_size=(100, 30), run_before=settle)


def test_main_screen_80x24(snap_compare, scene) -> None:
    assert snap_compare(scene(), terminal_size=(80, 24), run_before=settle)


def test_main_screen_wide_200x50(snap_compare, scene) -> None:
    assert snap_compare(scene(), terminal_size=(200, 50), run_before=settle)


def after_keys(*steps: str | tuple[str, ...]):
    """A ``run_before`` that settles, then presses each step's key (or keys, given as a
    tuple) and settles after each step."""
    async def run_before(pilot) -> None:
        await settle(pilot)
        for step in steps:
            await pilot.press(*((step,) if isinstance(step, str) else step))
            await settle(pilot)

    return run_before


def test_item_detail(snap_compare, scene) -> None:
    assert snap_compare(scene(), terminal_size=(100, 30), run_before=after_keys("enter"))


def test_feed_health(snap_compare, scene) -> None:
    assert snap_compare(scene(), terminal_size=(120, 34), run_before=after_keys("f", ("j", "j")))


def test_story_view_100x30(snap_compare, scene) -> None:
    """c: one row per story; "3▸" a story three feeds carry; the detail lists its versions."""
    assert snap_compare(scene(), terminal_size=(100, 30), run_before=after_keys("c"))


def test_trends_screen_100x30(snap_compare, scene) -> None:
    assert snap_compare(scene(), terminal_size=(100, 30), run_before=after_keys("T"))


def test_watch_screen_100x30(snap_compare, scene) -> None:
    assert snap_compare(scene(), terminal_size=(100, 30), run_before=after_keys("w"))

"""How the dashboard looks: fixed sizes, a frozen clock, UTC, a fixed store.

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and review the SVGs under ``tests/tui/__snapshots__``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from feeds.reclassify import ACTORS_FINGERPRINT_KEY, FINGERPRINT_KEY
from storage.store import Store
from tests.helpers import Clock
from tests.tui.helpers import T0, bundled, settle
from tests.tui.scene import mark_scene, scene_items, scene_states
from tui.app import DiplowatchApp


def scene_config():
    """The bundled config (its feeds, rules, actors) with the seed feed's local path, which
    depends on where the repository is checked out, replaced by a fixed one."""
    config = bundled()
    feeds = tuple(dataclasses.replace(f, url="/srv/diplowatch/seeds/seed-feed.xml") if f.is_local else f
                  for f in config.feeds)
    return dataclasses.replace(config, feeds=feeds)


def scene_app(directory: Path) -> DiplowatchApp:
    """An offline app over the scene store, on the bundled config (its feeds and rules)."""
    config = scene_config()
    clock = Clock(T0)
    store = Store.open(directory / "scene", clock=clock)
    store.set_meta(FINGERPRINT_KEY, config.rules.fingerprint)
    store.set_meta(ACTORS_FINGERPRINT_KEY, config.actors.fingerprint)
    items = scene_items(config)
    store.upsert_items(items)
    for state in scene_states(config):
        store.put_feed_state(state)
    mark_scene(store, items)
    return DiplowatchApp(config, store, clock=clock, offline=True)


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


def test_item_detail(snap_compare, scene) -> None:
    async def open_first(pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(scene(), terminal_size=(100, 30), run_before=open_first)


def test_feed_health(snap_compare, scene) -> None:
    async def open_feeds(pilot) -> None:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("j", "j")
        await settle(pilot)

    assert snap_compare(scene(), terminal_size=(120, 34), run_before=open_feeds)


def test_story_view_100x30(snap_compare, scene) -> None:
    """c: one row per story; "3▸" a story three feeds carry; the detail lists its versions."""
    async def group(pilot) -> None:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)

    assert snap_compare(scene(), terminal_size=(100, 30), run_before=group)


def test_trends_screen_100x30(snap_compare, scene) -> None:
    async def open_trends(pilot) -> None:
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)

    assert snap_compare(scene(), terminal_size=(100, 30), run_before=open_trends)


def test_watch_screen_100x30(snap_compare, scene) -> None:
    async def open_watch(pilot) -> None:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)

    assert snap_compare(scene(), terminal_size=(100, 30), run_before=open_watch)

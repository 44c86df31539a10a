"""Story clusters: merge decisions on a labelled fixture, end to end over loopback feeds,
incrementally and across restarts, and the read side (members, "N sources", CLI)."""
from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import pytest

from feeds.analysis.clusters import (ClusterDirectory, Clusterer, Normaliser, cluster_members, cluster_of,
                            group_by_cluster, similar)
from feeds.config.load import ClusterSettings, load_config
from feeds.model import Item, utc_iso
from feeds.poll.poller import Poller
from storage.store import Store
from tests.feedserver import FeedServer, Response, rfc822, rss, rss_item
from tests.features.conftest import DAY, HERE, HOUR, T0, make_item

FIXTURE = HERE / "cluster_headlines.tsv"


def fixture_items() -> list[tuple[str, Item]]:
    """(story, item) per row of the labelled fixture, published as its hours say."""
    out = []
    for n, line in enumerate(FIXTURE.read_text(encoding="utf-8").splitlines()):
        if not line or line.startswith("#"):
            continue
        story, feed, hours, title = line.split("\t")
        out.append((story, make_item(title, feed=f"https://{feed.lower()}.example/rss",
                                     published=T0 + float(hours) * HOUR, item_id=f"{n:016x}")))
    return out


def precision_recall(pairs: list[tuple[bool, bool]]) -> tuple[float, float]:
    """(predicted same story, really same story) per pair → precision, recall."""
    tp = sum(p and s for p, s in pairs)
    fp = sum(p and not s for p, s in pairs)
    fn = sum(s and not p for p, s in pairs)
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def test_merge_decisions_on_the_labelled_fixture(bundled) -> None:
    """Every pair of headlines from different feeds, judged on its own."""
    norm = Normaliser(bundled.actors)
    rows = fixture_items()
    assert len({s for s, _ in rows}) >= 30 and len(rows) >= 70
    pairs = [(similar(norm.signature(a.title), norm.signature(b.title), bundled.clusters)[0], sa == sb)
             for (sa, a), (sb, b) in itertools.combinations(rows, 2) if a.feed != b.feed]
    precision, recall = precision_recall(pairs)
    assert precision >= 0.9 and recall >= 0.8, (precision, recall)


def test_incremental_clustering_of_the_fixture(bundled) -> None:
    """The items arriving one by one, each joining a cluster or starting one."""
    clusterer = Clusterer(bundled.clusters, bundled.actors)
    rows = sorted(fixture_items(), key=lambda r: r[1].published)
    now = T0 + 50 * HOUR
    story_of, cluster = {}, {}
    for story, item in rows:
        [item] = clusterer.assign([item], now)
        clusterer.add([item], now)
        story_of[item.id], cluster[item.id] = story, item.cluster
    pairs = [(cluster[a] == cluster[b], story_of[a] == story_of[b])
             for a, b in itertools.combinations(cluster, 2)]
    precision, recall = precision_recall(pairs)
    assert precision >= 0.9 and recall >= 0.8, (precision, recall)


@pytest.mark.parametrize("a, b", [
    ("Russia and Ukraine hold talks in Istanbul", "Russia and Ukraine exchange prisoners"),
    ("Russia and Ukraine hold talks in Istanbul", "Russia and Ukraine hold talks in Riyadh"),
    ("UN warns of famine in Gaza as aid deliveries stall", "UN warns of famine in Sudan as aid deliveries stall"),
    ("EU adopts 17th package of sanctions against Russia", "EU adopts 16th package of sanctions against Russia"),
    ("Ukraine and Russia swap 390 prisoners", "Ukraine and Russia swap 300 prisoners"),
    ("Kremlin says Putin and Trump spoke by phone for two hours", "Putin-Trump summit set for Alaska, Kremlin confirms"),
])
def test_no_false_merge_of_different_stories_sharing_words(bundled, a: str, b: str) -> None:
    norm = Normaliser(bundled.actors)
    assert similar(norm.signature(a), norm.signature(b), bundled.clusters)[0] is False


@pytest.mark.parametrize("a, b", [
    ("Kremlin: Putin, Trump discuss Ukraine in phone call", "Putin and Trump discuss Ukraine in a phone call"),
    ("Türkiye offers to host Russia-Ukraine talks in Istanbul", "Turkey offers to host Ukraine, Russia talks in Istanbul"),
    ("EU agrees 17th sanctions package on Russia's shadow fleet", "Brussels adopts 17th package of Russia sanctions targeting shadow fleet"),
])
def test_same_story_different_wording_merges(bundled, a: str, b: str) -> None:
    norm = Normaliser(bundled.actors)
    assert similar(norm.signature(a), norm.signature(b), bundled.clusters)[0] is True


def test_actor_aliases_compare_as_actors(bundled) -> None:
    norm = Normaliser(bundled.actors)
    sig = norm.signature("Kremlin and Kyiv swap prisoners")
    assert "@russia" in sig.text and "@ukraine" in sig.text
    assert "kremlin" not in sig.distinctive and "prisoner" in sig.distinctive


# --- the clusterer's rules -------------------------------------------------------------------

SETTINGS = ClusterSettings()
STORY = ("Russia and Ukraine hold first direct peace talks in Istanbul since 2022",
         "Russian, Ukrainian delegations meet in Istanbul for first direct talks since 2022")


def test_same_feed_never_merges() -> None:
    c = Clusterer(SETTINGS)
    a = make_item(STORY[0], feed="https://a.example/rss")
    c.add(c.assign([a], T0), T0)
    [b] = c.assign([make_item(STORY[1], feed="https://a.example/rss")], T0)
    assert b.cluster == b.id
    [b] = c.assign([make_item(STORY[1], feed="https://b.example/rss")], T0)
    assert b.cluster == a.id


def test_window_and_horizon() -> None:
    c = Clusterer(SETTINGS)
    a = make_item(STORY[0], published=T0 - 3 * DAY)
    c.add(c.assign([a], T0), T0)
    [far] = c.assign([make_item(STORY[1], feed="https://b.example/rss")], T0)
    assert far.cluster == far.id  # three days apart: more than the 48 h window
    [old] = c.assign([make_item(STORY[1], published=T0 - 30 * DAY)], T0)
    assert old.cluster is None  # before the horizon: not clustered, the store keeps its value


def test_index_evicts_items_past_the_horizon() -> None:
    c = Clusterer(SETTINGS)
    c.add([make_item(STORY[0], published=T0)], T0)
    assert len(c) == 1
    c.add([], T0 + 8 * DAY)
    assert len(c) == 0 and not c._postings


def test_item_stored_without_a_cluster_reads_as_its_own() -> None:
    legacy = make_item(STORY[0])
    assert legacy.cluster is None and cluster_of(legacy) == legacy.id
    c = Clusterer(SETTINGS)
    c.rebuild([legacy], T0)
    [b] = c.assign([make_item(STORY[1], feed="https://b.example/rss")], T0)
    assert b.cluster == legacy.id


# --- end to end over three loopback feeds ------------------------------------------------------

# The same story in three wordings, plus in each feed another story sharing its words.
FEEDS = {
    "/a.xml": [("Russia and Ukraine hold first direct peace talks in Istanbul since 2022", 0),
               ("Russia and Ukraine exchange 390 prisoners of war", 1)],
    "/b.xml": [("Russian, Ukrainian delegations meet in Istanbul for first direct talks in three years", 2),
               ("Russia says it has retaken Kursk region from Ukrainian forces", 3)],
    "/c.xml": [("Istanbul hosts first direct Russia-Ukraine peace talks since 2022", 4),
               ("Ukraine, Russia swap 390 prisoners each in largest exchange of the war", 5)],
}


def _doc(path: str, stories: list[tuple[str, int]]) -> bytes:
    return rss([rss_item(title, guid=f"{path}-{k}", link=f"https://news.example{path}/{k}",
                         pub=rfc822(T0 - hours * HOUR)) for k, (title, hours) in enumerate(stories)])


@pytest.fixture
def three_feeds(feed_server: FeedServer, write_config, tmp_path: Path):
    for path, stories in FEEDS.items():
        feed_server.route(path, Response(body=_doc(path, stories)))
    return load_config(write_config([(p[1].upper(), feed_server.url(p)) for p in FEEDS]))


def _titles(items: list[Item]) -> dict[str, str | None]:
    return {it.title: it.cluster for it in items}


async def test_three_feeds_carrying_one_story_form_one_cluster(three_feeds, tmp_path: Path,
                                                               tagging_pool, clock) -> None:
    with Store.open(tmp_path / "s", clock=clock) as store:
        poller = Poller(three_feeds, store, clock=clock, parse_pool=tagging_pool)
        report = await poller.poll_cycle()
        clusters = _titles(report.new_items)
        talks = {clusters[t] for t, _ in (FEEDS["/a.xml"][0], FEEDS["/b.xml"][0], FEEDS["/c.xml"][0])}
        assert len(talks) == 1
        [talks_id] = talks
        pows = {clusters[FEEDS["/a.xml"][1][0]], clusters[FEEDS["/c.xml"][1][0]]}
        assert len(pows) == 1 and talks_id not in pows  # a story of its own, two sources
        kursk = clusters[FEEDS["/b.xml"][1][0]]
        assert kursk not in talks | pows
        # The cluster id is the id of its first item, and the store has it.
        assert store.get(talks_id) is not None
        members = cluster_members(store, talks_id)
        assert len(members) == 3 and [m.published for m in members] == sorted(
            (m.published for m in members), reverse=True)
        views = {v.id: v for v in group_by_cluster(store.recent())}
        assert views[talks_id].sources == 3 and views[next(iter(pows))].sources == 2
        directory = ClusterDirectory.from_items(store.recent())
        assert directory.sources(talks_id) == 3 and directory.size(kursk) == 1
        poller.close()


async def test_new_items_join_stored_clusters_after_a_restart(feed_server: FeedServer, write_config,
                                                              tmp_path: Path, tagging_pool, clock) -> None:
    (t_a, h_a), (t_b, h_b) = FEEDS["/a.xml"][0], FEEDS["/b.xml"][0]
    feed_server.route("/a.xml", Response(body=_doc("/a.xml", [(t_a, h_a)])))
    feed_server.route("/b.xml", Response(body=_doc("/b.xml", [(t_b, h_b)])))
    feed_server.route("/c.xml", Response(body=_doc("/c.xml", [])))
    config = load_config(write_config([(p[1].upper(), feed_server.url(p)) for p in FEEDS]))
    with Store.open(tmp_path / "s", clock=clock) as store:
        first = await Poller(config, store, clock=clock, parse_pool=tagging_pool).poll_cycle()
        [cid] = {it.cluster for it in first.new_items}
    clock.advance(HOUR)
    (t_c, h_c) = FEEDS["/c.xml"][0]
    feed_server.route("/c.xml", Response(body=_doc("/c.xml", [(t_c, h_c)])))
    with Store.open(tmp_path / "s", clock=clock) as store:  # a new process: the index is rebuilt
        poller = Poller(config, store, clock=clock, parse_pool=tagging_pool)
        second = await poller.poll_cycle(force=True)
        assert [(it.title, it.cluster) for it in second.new_items] == [(t_c, cid)]
        assert len(poller.clusterer) == 3
        # Polling again changes nothing: known items keep their cluster.
        feed_server.route("/a.xml", Response(body=_doc("/a.xml", [(t_a + " (updated)", h_a)])))
        await poller.poll_cycle(force=True)
        assert {it.cluster for it in store.recent()} == {cid}


async def test_clustering_can_be_switched_off(three_feeds, tmp_path: Path, tagging_pool, clock) -> None:
    config = replace(three_feeds, clusters=replace(three_feeds.clusters, enabled=False))
    with Store.open(tmp_path / "s", clock=clock) as store:
        poller = Poller(config, store, clock=clock, parse_pool=tagging_pool)
        assert poller.clusterer is None
        report = await poller.poll_cycle()
        assert {it.cluster for it in report.new_items} == {None}


# --- CLI ---------------------------------------------------------------------------------------

def _store_story(path: Path, clock) -> str:
    items = [make_item(t, feed=f"https://{f}.example/rss", published=T0 - h * HOUR, source=f.upper())
             for (t, h), f in zip((FEEDS["/a.xml"][0], FEEDS["/b.xml"][0], FEEDS["/c.xml"][0]), "abc")]
    items.append(make_item("Zelensky meets Trump at the White House", feed="https://a.example/rss"))
    with Store.open(path, clock=clock) as store:
        store.upsert_items(items)  # stored without clusters (as before clustering existed)
    return items[0].id


def test_clusters_rebuild_list_and_show(tmp_path: Path, write_config, run_cli, clock) -> None:
    config = write_config()
    _store_story(tmp_path / "store", clock)
    r = run_cli(config, "clusters", "list")
    assert r.exit_code == 0 and "no story carried by 2 or more feeds" in r.output
    r = run_cli(config, "clusters", "rebuild")
    assert r.exit_code == 0, r.output
    assert "clustered 4 items" in r.output and "2 stories, 1 carried by several feeds" in r.output
    rows = json.loads(run_cli(config, "clusters", "list", "--format", "json").output)
    assert len(rows) == 1 and rows[0]["sources"] == 3 and len(rows[0]["items"]) == 3
    table = run_cli(config, "clusters", "list").output
    assert "SOURCES" in table and rows[0]["cluster"] in table
    shown = run_cli(config, "clusters", "show", rows[0]["items"][-1])  # by any member's id
    assert shown.exit_code == 0 and "3 sources, 3 items" in shown.output
    assert run_cli(config, "clusters", "show", "nope").exit_code == 2


def test_rebuild_refuses_when_switched_off(tmp_path: Path, write_config, run_cli) -> None:
    config = write_config(extra="[clusters]\nenabled = false\n")
    r = run_cli(config, "clusters", "rebuild")
    assert r.exit_code == 2 and "switched off" in r.output


@pytest.mark.parametrize("extra, key, problem", [
    ("[clusters]\nthreshold = 120\n", "clusters.threshold", "between 0 and 100"),
    ("[clusters]\nwindow = \"3d\"\nhorizon = \"1d\"\n", "clusters.horizon", "at least clusters.window"),
    ("[clusters]\nmin_shared = 0\n", "clusters.min_shared", "between 1 and 10"),
    ("[clusters]\nenabled = \"yes\"\n", "clusters.enabled", "true or false"),
    ("[clusters]\nfuzz = 1\n", "clusters.fuzz", "unknown key"),
])
def test_cluster_settings_are_validated(write_config, extra: str, key: str, problem: str) -> None:
    from feeds.config.load import ConfigError

    path = write_config(extra=extra)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert key in str(err.value) and problem in str(err.value) and err.value.line


def test_published_times_are_parsed_like_the_model() -> None:
    from feeds.analysis.clusters import _epoch
    from feeds.model import parse_utc_iso

    for ts in (0.0, T0, T0 + 12345):
        assert _epoch(utc_iso(ts)) == parse_utc_iso(utc_iso(ts))

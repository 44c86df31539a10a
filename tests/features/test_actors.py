"""Actors: the gazetteer's matching rules, config merging and errors, tagging in the parse
worker, re-tagging stored items, and ``list --actor``."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from feeds.classify.actors import ActorError, ActorTagger, load_actors
from feeds.config.load import ConfigError, load_config
from feeds.config.specs import Specs
from feeds.poll.poller import Poller
from feeds.classify.reclassify import ACTORS_FINGERPRINT_KEY, reclassify_if_needed
from storage.store import Store
from tests.feedserver import FeedServer, Response, rfc822, rss, rss_item
from tests.features.conftest import T0, make_item


@pytest.fixture(scope="module")
def tagger(bundled) -> ActorTagger:
    return ActorTagger(bundled.actors)


@pytest.mark.parametrize("title, expected", [
    ("Kremlin says talks with Kyiv are possible", ("Russia", "Ukraine")),
    ("Russia's envoy meets Ukraine's negotiators", ("Russia", "Ukraine")),
    ("Russia\u2019s envoy in Kiev", ("Russia", "Ukraine")),  # curly possessive, old spelling
    ("Türkiye offers to host talks", ("Turkey",)),
    ("Turkiye offers to host talks", ("Turkey",)),  # without the diaeresis
    ("TÜRKIYE AND THE EU AGREE", ("Turkey", "European Union")),  # all-caps headline
    ("Élysée and Elysee Palace", ("France",)),
    ("White House and White-House", ("United States",)),
    ("U.S. and US officials; the U.N. and UN", ("United States", "United Nations")),
    ("Nato and NATO summit", ("NATO",)),
    ("Moscow-Kyiv prisoner swap", ("Russia", "Ukraine")),
    ("(Brussels) EU-China summit", ("European Union", "China")),
])
def test_aliases_possessives_case_and_diacritics(tagger: ActorTagger, title, expected) -> None:
    assert tagger.tag(title) == expected


@pytest.mark.parametrize("text", [
    "Tell us what you think",  # "US" is an acronym: capitals only
    "un peu de tout",  # French "un" is not the UN
    "polish the shoes before the ceremony",  # a capitalised alias needs a capital
    "Prussia and Moscovite history; Ukrainianness",  # whole words only
    "the eu-ropean way",  # lowercase "eu" is not the EU
])
def test_no_false_tags(tagger: ActorTagger, text: str) -> None:
    assert tagger.tag(text) == ()


def test_order_of_first_mention_title_first(tagger: ActorTagger) -> None:
    assert tagger.tag("China and Russia meet", "Beijing said the EU and Moscow ...") == (
        "China", "Russia", "European Union")
    assert tagger.tag("", "Ankara said Washington must act") == ("Turkey", "United States")


def test_title_and_summary_never_join_into_one_alias(tagger: ActorTagger) -> None:
    # One scan reads both fields: an alias must not run from the title into the summary,
    # and the summary's first word starts a word.
    assert tagger.tag("Talks at the White", "House said on Monday") == ()
    assert tagger.tag("Talks at the White", "Kremlin said") == ("Russia",)
    assert tagger.tag("Talks in Kyiv", "Türkiye hosts; Kyiv agrees") == ("Ukraine", "Turkey")


def test_a_spelling_seen_before_tags_the_same(tagger: ActorTagger) -> None:
    fresh = ActorTagger(tagger.spec)
    for _ in range(2):  # the second pass reads each spelling from the tagger's memory
        assert fresh.tag("US and Us; Nato, NATO and nato") == ("United States", "NATO")
        assert fresh.tag("MoscowKremlin", "Kremlin") == ("Russia",)


def test_summary_is_read_up_to_its_lede(tagger: ActorTagger) -> None:
    summary = "x " * 600 + "Kremlin"  # past the first 1,000 characters
    assert tagger.tag("A headline", summary) == ()


def test_longest_alias_wins_and_multiword_aliases(tagger: ActorTagger) -> None:
    assert tagger.tag("Council of the EU extends measures") == ("European Union",)
    assert tagger.tag("UN Security Council meets") == ("United Nations",)


def test_tagger_pickles_as_its_spec(tagger: ActorTagger) -> None:
    clone = pickle.loads(pickle.dumps(tagger))
    assert clone.tag("Kremlin and Kyiv") == ("Russia", "Ukraine")


# --- config: merging, errors, fingerprint ------------------------------------------------

DEFAULTS = {"Russia": ["Moscow", "Kremlin"], "Ukraine": ["Kyiv"], "Turkey": ["Ankara"]}


def test_extend_adds_aliases_and_actors_and_empty_list_removes() -> None:
    spec = load_actors(DEFAULTS, {"russia": ["Putin"], "Qatar": ["Doha"], "Turkey": []})
    tagger = ActorTagger(spec)
    assert spec.names == ("Russia", "Ukraine", "Qatar")
    assert tagger.tag("Putin and Kremlin in Doha; Ankara") == ("Russia", "Qatar")


def test_replace_mode_uses_only_the_users_actors() -> None:
    spec = load_actors(DEFAULTS, {"mode": "replace", "Qatar": ["Doha"]})
    assert spec.names == ("Qatar",)


def test_resolve_alias_to_actor(bundled) -> None:
    assert bundled.actors.resolve("kremlin") == "Russia"
    assert bundled.actors.resolve("TURKIYE") == "Turkey"
    assert bundled.actors.resolve("Atlantis") is None


@pytest.mark.parametrize("table, where, problem", [
    ({"Russia": "Moscow"}, "actors.Russia", "expected an array of aliases"),
    ({"Russia": ["Moscow", 3]}, "actors.Russia", "expected an array of aliases"),
    ({"Russia": ["Mos*cow"]}, "actors.Russia", "alias 'Mos*cow'"),
    ({"Russia": ["Moscow"], "Muscovy": ["moscow"]}, "actors.Muscovy", "already an alias of 'Russia'"),
    ({"mode": "merge"}, "actors.mode", 'expected "extend" or "replace"'),
])
def test_gazetteer_errors_name_the_key(table, where, problem) -> None:
    with pytest.raises(ActorError) as err:
        load_actors(table)
    assert err.value.key == where and problem in err.value.problem


def test_config_error_names_file_key_and_line(write_config) -> None:
    path = write_config(extra='[actors]\nRussia = ["Moscow"]\nUkraine = "Kyiv"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert str(path) in msg and "actors.Ukraine" in msg and f"line {err.value.line}" in msg
    assert path.read_text().splitlines()[err.value.line - 1].startswith("Ukraine")


def test_fingerprint_ignores_order_and_spacing_not_meaning() -> None:
    a = load_actors({"Russia": ["Moscow", "Kremlin"], "Ukraine": ["Kyiv"]})
    b = load_actors({"Ukraine": ["Kyiv"], "Russia": ["Kremlin", " Moscow "]})
    c = load_actors({"Russia": ["Moscow"], "Ukraine": ["Kyiv"]})
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_user_config_merges_into_the_bundled_gazetteer(write_config) -> None:
    config = load_config(write_config(extra='[actors]\nRussia = ["Putin"]\n"Sudan" = ["Khartoum"]\n'))
    tagger = ActorTagger(config.actors)
    assert tagger.tag("Putin and Khartoum; Kyiv") == ("Russia", "Sudan", "Ukraine")


# --- in the pipeline -----------------------------------------------------------------------

async def test_parse_worker_tags_actors(tmp_path: Path, write_config, feed_server: FeedServer,
                                        tagging_pool, clock) -> None:
    feed_server.route("/a.xml", Response(body=rss([
        rss_item("Kremlin rejects Kyiv's proposal", guid="1", pub=rfc822(T0),
                 summary="Ankara offered to mediate."),
        rss_item("Football results", guid="2", pub=rfc822(T0)),
    ])))
    config = load_config(write_config([("A", feed_server.url("/a.xml"))]))
    with Store.open(tmp_path / "s", clock=clock) as store:
        report = await Poller(config, store, clock=clock, parse_pool=tagging_pool).poll_cycle()
        by_title = {it.title: it.actors for it in report.new_items}
        assert by_title == {"Kremlin rejects Kyiv's proposal": ("Russia", "Ukraine", "Turkey"),
                            "Football results": ()}


def test_reclassify_retags_when_the_gazetteer_changes(tmp_path: Path, clock, bundled) -> None:
    config = bundled
    with Store.open(tmp_path / "s", clock=clock) as store:
        store.upsert_items([make_item("Khartoum and Moscow talk", actors=("Russia",))])
        assert reclassify_if_needed(store, config.specs) is not None
        assert store.recent()[0].actors == ("Russia",)  # Khartoum is not in the bundled list
        assert store.get_meta(ACTORS_FINGERPRINT_KEY) == config.actors.fingerprint
        assert reclassify_if_needed(store, config.specs) is None
        extended = load_actors({"Russia": ["Moscow"], "Sudan": ["Khartoum"]})
        assert reclassify_if_needed(store, Specs(config.rules, extended)) == 1
        assert store.recent()[0].actors == ("Sudan", "Russia")


def test_list_actor_filter_accepts_aliases(tmp_path: Path, write_config, clock, run_cli) -> None:
    config = write_config()
    with Store.open(tmp_path / "store", clock=clock) as store:
        store.upsert_items([make_item("Kremlin speaks", actors=("Russia",)),
                            make_item("Ankara speaks", actors=("Turkey",))])
    for name in ("Russia", "russia", "Kremlin"):
        r = run_cli(config, "list", "--actor", name, "--format", "json")
        assert r.exit_code == 0, r.output
        assert [row["title"] for row in json.loads(r.output)] == ["Kremlin speaks"]
    item_id = json.loads(run_cli(config, "list", "--actor", "Turkey", "--format", "json").output)[0]["id"]
    assert "actors:    Turkey" in run_cli(config, "show", item_id).output

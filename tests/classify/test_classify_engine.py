"""The engine as the rest of the app uses it: pickling, purity, the default config."""
from __future__ import annotations

import pickle
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

from feeds.classify.engine import Classifier
from feeds.model import LABELS
from feeds.classify.rules import load_rules

from .conftest import ROOT


def test_pickles_as_its_spec(default_classifier):
    title, summary = "EU adopts 19th sanctions package", "Ministers condemned the attack."
    clone = pickle.loads(pickle.dumps(default_classifier))
    assert clone.spec == default_classifier.spec
    assert clone.classify(title, summary) == default_classifier.classify(title, summary)
    # Sent once to each parse worker: a budget against a spec that grows by accident (the
    # bundled rules pickle to ~266-272 kB, depending on how many phrase objects are shared and
    # on whether the spec's memo holds its fingerprint yet; the office-holders by name, @leader
    # and @aide, cost ~30 kB of it, the rules written on batches 6-9 of the wires ~25 kB, the
    # kinds of the desk probes and the tariffs of 2024-25 ~13 kB, the official idioms of the
    # gov_* and wire_* probes ~10 kB).
    assert len(pickle.dumps(default_classifier)) < 284_000


def _classify_in_worker(args):
    classifier, title = args
    return classifier.classify(title, "")


def test_runs_in_a_worker_process(default_classifier):
    with ProcessPoolExecutor(max_workers=1) as pool:
        result = pool.submit(_classify_in_worker, (default_classifier,
                                                   "Kremlin says no date set for talks")).result()
    assert result.labels == ("talks", "statements")


def test_feeds_never_imports_textual_or_rich():
    code = ("import sys, feeds.classify.rules, feeds.classify.engine, feeds.classify.evaluate; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_default_config_defines_every_label(default_table):
    spec = load_rules(default_table)
    assert [lr.label for lr in spec.labels] == list(LABELS)
    assert all(lr.rules and lr.exclude for lr in spec.labels)
    assert spec.threshold == 1.0 and spec.title_bonus == 0.5


def test_same_results_as_a_fresh_classifier(default_classifier):
    # The phrase cache must not change answers.
    fresh = Classifier.from_spec(default_classifier.spec)
    text = "Talks on sanctions: the Kremlin’s envoy warned of a cease-fire collapse."
    assert fresh.classify(text, text) == default_classifier.classify(text, text)
    assert fresh.classify(text, text) == fresh.classify(text, text)


def test_each_result_owns_its_scores(build):
    # Items with the same sums share one cached scoring; a caller editing one item's scores
    # (a label set by hand) must not change the next item's.
    c = build("""
        [rules.talks]
        terms = { "talks" = 1 }
        """)
    first = c.classify("Talks resume", "")
    first.scores["talks"] = 0.0
    second = c.classify("Talks stall", "")
    assert second.scores["talks"] == 1.5 and second.labels == ("talks",)


def test_short_gaps_count_words_wherever_they_occur(build):
    # Word counts of the text between near parts are remembered by the gap's text: the same
    # gap gives the same count in a headline and in a summary, after other items.
    c = build("""
        [rules.talks]
        near = { "resum* ~1 talks" = 1 }
        """)
    assert c.classify("", "resumed the talks").labels == ("talks",)
    assert c.classify("", "resumed the peace talks").labels == ()
    assert c.classify("Resumed the talks", "").labels == ("talks",)
    assert c.classify("Resumed the peace talks", "").scores["talks"] == 0.0


def test_rules_compile_on_first_use_not_when_built(build):
    # A poll that finds nothing new builds a classifier and classifies nothing: it must not
    # pay for the trie and its regex. The first item (here through explain) compiles them.
    from feeds.classify import engine

    before = engine._compile.cache_info().misses
    c = build("""
        [rules.talks]
        terms = { "a phrase only this test uses" = 1 }
        """)
    clone = pickle.loads(pickle.dumps(c))
    assert engine._compile.cache_info().misses == before
    explained = clone.explain("A phrase only this test uses", "")
    assert explained.classification.labels == ("talks",) and explained.thresholds["talks"] == 1.0
    assert engine._compile.cache_info().misses == before + 1
    assert c.classify("A phrase only this test uses", "") == explained.classification
    assert engine._compile.cache_info().misses == before + 1  # same spec: compiled once


def test_long_gaps_count_whole_words(build):
    # A gap over 40 characters is counted by a regex that stops after distance + 1 words:
    # a long word is one word, "Kremlin’s" is one word, and punctuation is no word.
    c = build("""
        [rules.talks]
        near = { "resum* ~3 talks" = 1 }
        """)
    three = "resumed internationally, Kremlin’s ... extraordinarily talks"
    four = "resumed internationally-mediated, Kremlin’s extraordinarily talks"
    assert c.classify("", three).labels == ("talks",)
    assert c.classify("", four).labels == ()
    assert c.classify("", "talks -- ... -- -- ... -- ... -- ... ,,, resumed").labels == ("talks",)


def test_a_parse_worker_compiles_its_rules_when_it_starts(build):
    # A daemon starts its parse workers ahead of the cycle: their start, not the cycle's
    # first item, must pay for the compile.
    from feeds.classify import engine
    from feeds.parse import jobs

    c = build("""
        [rules.talks]
        terms = { "a phrase only the worker test uses" = 1 }
        """)
    before = engine._compile.cache_info().misses
    jobs.init_worker(c.spec)
    try:
        assert engine._compile.cache_info().misses == before + 1
        assert jobs._classifier.classify("A phrase only the worker test uses", "").labels == ("talks",)
        assert engine._compile.cache_info().misses == before + 1
    finally:
        jobs._classifier = jobs._tagger = jobs._watcher = None


def test_phrases_after_either_quote_mark_are_found_in_one_text(build):
    # One regex scans after both quote marks (run once per mark when a text holds both).
    c = build("""
        [rules.talks]
        terms = { "talks" = 1 }
        exclude = ["talks in oman"]
        """)
    for title in ("'talks resume", "’talks resume", "'talks and ’talks", "’talks, 'talks"):
        assert [m.text for m in c.classify(title, "").evidence] == ["talks"] * title.count("talks")
    explained = c.explain("'talks in Doha and ’talks in Oman, 'talks in Oman", "")
    assert [m.start for m in explained.classification.evidence] == [1]
    assert [(v.match.start, v.text) for v in explained.vetoed] == [(20, "talks in Oman"),
                                                                    (36, "talks in Oman")]

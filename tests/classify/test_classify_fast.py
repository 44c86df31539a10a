"""The C scan gives the same classifications as the engine's pure-Python path: on every
real item the tests hold, on random text built from their words and hostile characters, for
rules with every feature; and the engine falls back to Python where the C module is absent."""
from __future__ import annotations

import pickle
import random
from pathlib import Path

import pytest

from feeds.classify import fast
from feeds.classify.engine import SUMMARY_LIMIT, TITLE_LIMIT, Classifier
from feeds.classify.evaluate import read_tsv
from feeds.classify.rules import load_rules
from tests.classify.conftest import spec_from

WIRES = Path(__file__).resolve().parents[1] / "data" / "wires"

pytestmark = pytest.mark.skipif(not fast.available(), reason="the C scan was not built here")

# Every feature of the rules language: phrases, wildcards, apostrophes, case-sensitive words,
# classes, near patterns (ordered, in one sentence), field-restricted rules, penalties,
# exclusions plain and near.
FEATURES = """
    [classify]
    title_bonus = 0.5
    [classes]
    official = ["minister*", "spokes*", "=US envoy", "kremlin's"]
    [rules.talks]
    threshold = 1.0
    terms = ["talks", "negotiat*", "peace talks|peace process", "title: summit*",
             "summary: round of talks", "o'neill", "=EU =Council", "u.s.", "at&t"]
    exclude = ["talks ~3 show", "chat talks"]
    [rules.talks.near]
    "@official ~5 meet*" = 1
    "talk* ~4> collapse*" = -1.0
    [rules.sanctions]
    terms = ["sanction*", "asset freeze", "blacklist*"]
    near = ["=US ~6 sanction*"]
    exclude = ["sanction* ~2. relief", "court"]
    [rules.statements]
    terms = ["condemn*"]
    near = ["@official ~5. said|says|told", "warn* ~3 @official", "summary: @official ~2 said"]
"""

HOSTILE = list(".,;:!?'\u2019\u2018\u02bc\"\u201c\u201d()-\u2014/ \t\n\x00\u00e9\u00df\u0130"
               "\U0001f600\u2028\u00a0") + ["U.S.", "Mr.", "it's", "US", "Us", "EU", "[b]", "\x1b[31m"]


def rows() -> list[tuple[str, str]]:
    return [(row.title, row.text) for name in ("dev.tsv", "gate.tsv", "holdout.tsv")
            for row in read_tsv(WIRES / name)]


def random_items(words: list[str], n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        tokens = [rng.choice(words) if rng.random() < 0.8 else rng.choice(HOSTILE)
                  for _ in range(rng.randint(0, 50))]
        text = (" " if rng.random() < 0.7 else "").join(tokens)
        if rng.random() < 0.3:
            text = text.upper() if rng.random() < 0.5 else text.title()
        cut = rng.randint(0, len(text))
        out.append((text[:cut], text[cut:]))
    return out


def assert_same(classifier: Classifier, items: list[tuple[str, str]]) -> None:
    pure = Classifier(classifier.spec, fast=False)
    differ = [(t, s) for t, s in items if classifier.classify(t, s) != pure.classify(t, s)]
    assert not differ, f"{len(differ)} of {len(items)} items differ, e.g. {differ[:3]}"


def test_the_default_rules_use_the_c_scan(default_classifier) -> None:
    default_classifier.prepare()
    assert default_classifier._fast is not None


def test_same_on_every_real_item(default_table) -> None:
    items = rows()
    assert len(items) > 5000
    assert_same(Classifier(load_rules(default_table)), items)


def test_same_on_random_text_with_the_default_rules(default_table) -> None:
    words = [w for t, s in rows()[:1500] for w in (t + " " + s).split()]
    assert_same(Classifier(load_rules(default_table)), random_items(words, 6000, 11))


def test_same_for_every_feature_of_the_rules() -> None:
    classifier = Classifier(spec_from(FEATURES))
    words = ("talks negotiations peace process minister ministers spokesman US us EU eu "
             "Council council envoy Kremlin's kremlin’s O'Neill o’neill summit summits round "
             "of sanctions sanctioned asset freeze blacklisted court relief chat show collapse "
             "collapsed said says told condemned warns warned the a and in on").split()
    items = random_items(words, 8000, 12)
    assert sum(bool(classifier.classify(t, s).evidence) for t, s in items) > 4000
    assert_same(classifier, items)


def test_long_and_hostile_fields() -> None:
    classifier = Classifier(spec_from(FEATURES))
    items = [("talks " * 400, "minister said talks. " * 300),
             ("\x00" * 50 + "sanctions", "\u02bc" * 10 + "US sanctions" + "\U0001f600" * 9),
             ("", ""), ("", "talks"), ("talks", ""), (" ", " "),
             ("Minister\u2028said talks", "US\u00a0envoy meets minister"),
             ("T" * (TITLE_LIMIT + 50) + " talks", "s " * SUMMARY_LIMIT + "sanctions")]
    assert_same(classifier, items)
    assert classifier.classify("talks " * 400, "").labels == ("talks",)


def test_a_pickled_classifier_uses_the_c_scan_again() -> None:
    classifier = pickle.loads(pickle.dumps(Classifier(spec_from(FEATURES))))
    classifier.prepare()
    assert classifier._fast is not None
    assert classifier.classify("Peace talks resume", "").labels == ("talks",)


def test_without_the_c_module_the_python_path_runs(monkeypatch) -> None:
    with_c = Classifier(spec_from(FEATURES)).classify("US envoy meets minister", "talks")
    monkeypatch.setattr(fast, "_scan", None)
    classifier = Classifier(spec_from(FEATURES))
    classifier.prepare()
    assert classifier._fast is None
    assert classifier.classify("US envoy meets minister", "talks") == with_c


def test_a_written_form_that_lowercases_two_ways(build) -> None:
    # "AΣ" lowercases to "aς" at a word's end and to "aσ" before ".B": a classifier that
    # saw one must not answer the other from its cache (both paths, one classifier).
    classifier = build('[rules.talks]\nterms = ["=AΣ", "=Aσ"]')
    for title in ("AΣ.B", "AΣ", "AΣ.B", "Aσ", "AΣ"):
        classifier.classify(title, "")
    assert classifier.classify("AΣ.B", "").evidence == ()


def test_the_c_engine_is_initialised_once_and_bounds_its_input() -> None:
    classifier = Classifier(spec_from(FEATURES))
    classifier.prepare()
    engine = classifier._fast
    with pytest.raises(TypeError, match="once"):
        engine.__init__([], (), (), (), {}, 3, print, object, ((), ()), bytes(128), print)
    assert classifier.classify("Peace talks resume", "").labels == ("talks",)
    with pytest.raises(TypeError):
        engine.run(b"talks", "")

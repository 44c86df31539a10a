"""How patterns match: phrases, wildcards, separators, near patterns, exclusions, evidence."""
from __future__ import annotations

import pytest

from feeds.classify.engine import SUMMARY_LIMIT, Classifier


def matched(classifier: Classifier, title: str, summary: str = "") -> list[str]:
    return [m.text for m in classifier.classify(title, summary).evidence]


def check_offsets(result, title: str, summary: str) -> None:
    for m in result.evidence:
        assert (title if m.field == "title" else summary)[m.start:m.end] == m.text


@pytest.fixture
def talks(build):
    return build("""
        [rules.talks]
        terms = ["talks", "negotiat*", "cease fire", "kremlin's", "embargo|embargoes"]
    """)


@pytest.mark.parametrize("text, expected", [
    ("PEACE TALKS resume", ["TALKS"]),
    ("talks, then more talks.", ["talks", "talks"]),
    ("a talkshow and walkie-talkies", []),  # whole words only
    ("renegotiate", []),  # a wildcard only extends the end of a word
    ("Negotiations with the negotiator", ["Negotiations", "negotiator"]),
    ("they negotiat", ["negotiat"]),  # the wildcard may match nothing
    ("a cease-fire, a cease  fire, a cease\u2011fire", ["cease-fire", "cease  fire",
                                                      "cease\u2011fire"]),
    ("a ceasefire", []),
    ("no cease. Fire", []),  # never across sentence punctuation
    ("the Kremlin’s line and the Kremlin's", ["Kremlin’s", "Kremlin's"]),
    ("an embargo or embargoes", ["embargo", "embargoes"]),
    ('"talks" (talks) ‘talks’ \'talks\' [talks] talks/talks', ["talks"] * 7),
])
def test_phrases(talks, text, expected):
    assert matched(talks, "", text) == expected


def test_near_both_orders_and_range(build):
    c = build("""
        [rules.sanctions]
        near = { "impos* ~2 sanction*" = 1 }
    """)
    assert matched(c, "", "EU imposed sanctions") == ["imposed sanctions"]
    assert matched(c, "", "sanctions were imposed") == ["sanctions were imposed"]
    assert matched(c, "", "imposed tough new sanctions") == ["imposed tough new sanctions"]
    assert matched(c, "", "imposed a raft of sanctions") == []  # 3 words between, ~2
    assert matched(c, "", "sanctions, it was said, were imposed") == []
    assert matched(c, "Sanctions", "imposed") == []  # the parts must share a field
    assert c.classify("", "imposed a raft of sanctions").labels == ()


def test_near_zero_distance_and_multiword_parts(build):
    c = build("""
        [rules.talks]
        near = { "halt*|broke off ~0 peace talks|dialogue" = 1 }
    """)
    assert matched(c, "", "Kyiv broke off peace talks") == ["broke off peace talks"]
    assert matched(c, "", "peace talks halted") == ["peace talks halted"]
    assert matched(c, "", "halted the dialogue") == []


def test_near_keeps_tightest_pairing(build):
    c = build("""
        [rules.talks]
        near = { "resum* ~3 talks" = 1 }
    """)
    text = "talks failed; resumed talks"
    assert matched(c, "", text) == ["resumed talks"]


def test_exclusion_vetoes_overlapping_matches_only(build):
    c = build("""
        [rules.talks]
        terms = ["talk*"]
        exclude = ["talk show"]
    """)
    assert c.classify("", "a talk show host").labels == ()
    result = c.explain("", "talks on a talk show")
    assert [m.text for m in result.classification.evidence] == ["talks"]
    assert [(v.match.text, v.exclusion, v.text) for v in result.vetoed] == [
        ("talk", "talk show", "talk show")]


def test_near_exclusion_covers_the_words_between(build):
    c = build("""
        [rules.sanctions]
        terms = ["sanction*", "fine*"]
        exclude = ["fifa|uefa|olympic* ~6 club"]
    """)
    # "sanctions" is between the two parts: the exclusion's span covers it.
    assert c.classify("UEFA hands sanctions to club", "").labels == ()
    assert c.classify("EU sanctions on Russia", "").labels == ("sanctions",)
    # An exclusion far away vetoes nothing.
    text = "EU sanctions on Russia. Separately, UEFA fined a club"
    assert matched(c, "", text) == ["sanctions"]


def test_exclusions_act_on_their_own_label_only(build):
    c = build("""
        [rules.talks]
        terms = ["talks"]
        [rules.statements]
        terms = ["talks"]
        exclude = ["talks"]
    """)
    assert c.classify("talks", "").labels == ("talks",)


def test_title_bonus_and_counting_once(build):
    c = build("""
        [classify]
        title_bonus = 0.5
        [rules.talks]
        terms = { "negotiat*" = 0.6 }
    """)
    assert c.classify("", "negotiations").labels == ()
    assert c.classify("", "negotiations").scores["talks"] == 0.6
    both = c.classify("Negotiations", "negotiators met; negotiations go on")
    assert both.labels == ("talks",)
    assert both.scores["talks"] == 1.1  # once, with the bonus, not 0.6 * 3
    assert [(m.field, m.weight) for m in both.evidence] == [
        ("title", 1.1), ("summary", 0.6), ("summary", 0.6)]


def test_thresholds_global_and_per_label(build):
    c = build("""
        [classify]
        threshold = 2
        [rules.talks]
        threshold = 0.5
        terms = { "talks" = 0.6 }
        [rules.sanctions]
        terms = { "sanctions" = 1.5 }
    """)
    result = c.classify("", "talks on sanctions")
    assert result.scores == {"talks": 0.6, "sanctions": 1.5, "statements": 0.0}
    assert result.labels == ("talks",)


def test_threshold_is_inclusive_despite_float_sums(build):
    c = build("""
        [rules.talks]
        terms = { "summit" = 0.7, "talks" = 0.2, "envoy" = 0.1 }
    """)
    assert c.classify("", "envoy at summit talks").labels == ("talks",)


def test_weights_sum_over_distinct_rules(build):
    c = build("""
        [rules.talks]
        terms = { "peace talks" = 1, "talks" = 0.6, "envoy" = 0 }
    """)
    result = c.classify("", "peace talks with an envoy")
    assert result.scores["talks"] == 1.6
    assert [m.term for m in result.evidence] == ["peace talks", "talks"]  # weight 0 is off


def test_alternatives_of_one_rule_count_once(build):
    c = build("""
        [rules.talks]
        terms = { "peace|peace talks" = 1, "talk*|talks" = 0.5 }
    """)
    result = c.classify("", "peace talks")
    assert [(m.term, m.text) for m in result.evidence] == [
        ("peace|peace talks", "peace talks"), ("talk*|talks", "talks")]
    assert result.scores["talks"] == 1.5


def test_multi_label_and_primary(build):
    c = build("""
        [rules.talks]
        terms = { "talks" = 1 }
        [rules.sanctions]
        terms = { "sanctions" = 1 }
        [rules.statements]
        terms = { "condemns" = 1, "urges" = 1 }
    """)
    tie = c.classify("", "minister condemns talks")
    assert tie.labels == ("talks", "statements") and tie.primary == "talks"
    tie = c.classify("", "minister condemns sanctions")
    assert tie.primary == "sanctions"
    higher = c.classify("", "minister condemns talks and urges calm")
    assert higher.labels == ("talks", "statements") and higher.primary == "statements"
    all_three = c.classify("talks", "sanctions, condemns")
    assert all_three.labels == ("talks", "sanctions", "statements")
    assert all_three.primary == "talks"  # 1.5 in the title beats 1.0


def test_nothing_fires(build):
    c = build("""
        [rules.talks]
        terms = ["talks"]
    """)
    result = c.classify("Earthquake kills 800", "Rescuers dig through rubble.")
    assert (result.labels, result.primary, result.evidence) == ((), None, ())
    assert result.scores == {"talks": 0.0, "sanctions": 0.0, "statements": 0.0}
    empty = build("").classify("talks", "talks")
    assert empty.labels == () and empty.scores["talks"] == 0.0


def test_evidence_positions_index_the_given_strings(build):
    c = build("""
        [rules.talks]
        terms = ["talks", "peace talks", "İstanbul"]
        near = { "resum* ~3 talks" = 1 }
        [rules.statements]
        terms = ["kremlin's", "says"]
    """)
    title = "İİ Kremlin’s envoy says talks in İstanbul to resume"
    summary = "“Peace talks” — which Kremlin's team wants — resumed\u00a0after talks ended."
    result = c.classify(title, summary)
    assert len(result.evidence) >= 9
    check_offsets(result, title, summary)
    assert [m.field for m in result.evidence] == sorted(
        (m.field for m in result.evidence), key=("title", "summary").index)


def test_summary_is_capped(build):
    c = build("""
        [rules.sanctions]
        terms = ["sanctions"]
    """)
    pad = "x " * ((SUMMARY_LIMIT - 10) // 2)
    assert c.classify("", pad + "sanctions").labels == ("sanctions",)
    assert c.classify("", pad + "x " * 20 + "sanctions").labels == ()
    assert c.explain("", pad + "x " * 20).summary_chars == SUMMARY_LIMIT


def test_phrases_ending_inside_a_longer_match(build):
    c = build("""
        [rules.statements]
        terms = ["kremlin", "kremlin's", "kreml*", "kremlin's envoy", "u.s", "u.s. envoy"]
    """)
    result = c.classify("", "The Kremlin’s envoy met the U.S. envoy")
    assert sorted((m.term, m.text) for m in result.evidence) == [
        ("kreml*", "Kremlin"), ("kremlin", "Kremlin"), ("kremlin's", "Kremlin’s"),
        ("kremlin's envoy", "Kremlin’s envoy"), ("u.s", "U.S"), ("u.s. envoy", "U.S. envoy")]


def test_a_penalty_counts_against_its_label_from_either_field(build):
    c = build("""
        [classify]
        title_bonus = 0.5
        [rules.talks]
        terms = { "call with" = 1, "congratulat*" = -1 }
        near = { "talks ~2 resume*" = 1 }
    """)
    headline = "Readout of the President's call with the Prime Minister"
    assert c.classify(headline, "They discussed the war.").labels == ("talks",)
    courtesy = c.classify(headline, "The President called to congratulate him on his win.")
    # 1 + the title bonus, then -1 from the lede (an exclusion acts only in its own field).
    assert courtesy.labels == () and courtesy.scores["talks"] == 0.5
    assert [(m.term, m.field, m.weight) for m in courtesy.evidence] == [
        ("call with", "title", 1.5), ("congratulat*", "summary", -1.0)]
    # The title bonus never raises a penalty: in the headline it still weighs -1.
    assert c.classify("Congratulations as talks resume", "").scores["talks"] == 0.5
    # Nothing but a penalty: a negative score, no label.
    assert c.classify("", "congratulations").scores["talks"] == -1.0


def test_a_penalty_changes_the_fingerprint_and_zero_does_not(build):
    base = '[rules.talks]\nterms = { "talks" = 1'
    plain = build(base + " }\n").spec.fingerprint
    assert build(base + ', "congratulat*" = -1 }\n').spec.fingerprint != plain
    assert build(base + ', "congratulat*" = 0 }\n').spec.fingerprint == plain

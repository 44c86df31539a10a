"""Rules-language features that separate statements: near patterns kept inside one sentence
(``~N.``), case-sensitive words (``=US``) and rules for one field (``title:``/``summary:``)."""
from __future__ import annotations

import pytest

from feeds.classify.evaluate import format_explanation
from feeds.classify.near import sentence_stops
from feeds.classify.rules import RuleError, merge_rules

from .conftest import spec_from

SENTENCE = """
[classes]
state = "russia|u.s.|iran"
[rules.statements.near]
"@state ~4.> warn*|denies|reaffirm*" = 1
"""


# --- near patterns inside one sentence ---------------------------------------------------

@pytest.mark.parametrize("summary", [
    "Talks were held in Russia. The leaders reaffirmed their ties.",
    "She travelled to the U.S. He denies any role.",
    "Sanctions on Iran! They warned again.",
    'Envoys met in Russia." They warned of delays.',
])
def test_sentence_near_does_not_cross_a_full_stop(build, summary):
    assert build(SENTENCE).classify("", summary).labels == ()
    # The same rule without the '.' pairs across the sentence end.
    plain = build(SENTENCE.replace("~4.>", "~4>"))
    assert plain.classify("", summary).labels == ("statements",)


@pytest.mark.parametrize("summary", [
    "Russia warned the West",
    "The U.S. Army warned of delays",  # an abbreviation, then a name: one sentence
    "Russia, through Mr. Lavrov, warned them",
    "The U.S. on Monday warned Iran",
])
def test_sentence_near_matches_within_a_sentence(build, summary):
    assert build(SENTENCE).classify("", summary).labels == ("statements",)


def test_sentence_stops_skip_abbreviations_and_initials():
    text = "Mr. Smith met U.S. Army chiefs and J. Doe. The U.N. He said so"
    assert [text[i - 3:i + 1] for i in sentence_stops(text)] == ["Doe.", "U.N."]


def test_sentence_near_exclusion_stays_in_its_sentence(build):
    c = build('[rules.talks]\nterms = { "talks" = 1 }\nexclude = ["coach ~6. talks"]\n')
    assert c.classify("", "The coach left. Peace talks resumed").labels == ("talks",)
    assert c.classify("", "The coach joined talks").labels == ()


def test_sentence_near_fingerprint_and_canonical():
    a = spec_from('[rules.talks.near]\n"a ~3.> b" = 1\n')
    b = spec_from('[rules.talks.near]\n"a ~3> b" = 1\n')
    assert a.fingerprint != b.fingerprint
    assert a.label("talks").rules[0].pattern.canonical == "a ~3.> b"


# --- case-sensitive words -----------------------------------------------------------------

def test_case_sensitive_word_matches_only_as_written(build):
    c = build('[rules.statements.terms]\n"=US urges|=US warns" = 1\n')
    assert c.classify("US urges calm", "").labels == ("statements",)
    assert c.classify("US Urges Calm", "").labels == ("statements",)  # only US is =
    assert c.classify("Let us urges", "").labels == ()
    assert c.classify("", "Tell us warns").labels == ()


def test_case_sensitive_class_member_and_explain(build):
    c = build('[classes]\nofficial = "=PM|minister"\n'
              '[rules.statements.near]\n"@official ~3> warn*" = 1\n')
    assert c.classify("", "The PM warned of cuts").labels == ("statements",)
    assert c.classify("", "At 5 pm warnings sounded").labels == ()
    assert c.classify("", "The minister warned").labels == ("statements",)
    explanation = c.explain("", "The PM warned of cuts")
    assert explanation.members[0] == (("official", "=PM", "PM"),)
    assert "@official = '=PM' on 'PM'" in format_explanation("", "The PM warned", c.explain(
        "", "The PM warned"))


def test_case_sensitive_and_plain_word_are_different_rules(build):
    c = build('[rules.statements.terms]\n"=UN" = 0.6\n"un" = 0.5\n')
    assert c.classify("", "UN").scores["statements"] == pytest.approx(1.1)
    assert c.classify("", "un").scores["statements"] == pytest.approx(0.5)
    assert (spec_from('[rules.talks.terms]\n"=UN" = 1\n').fingerprint
            != spec_from('[rules.talks.terms]\n"un" = 1\n').fingerprint)


def test_case_sensitive_wildcard_and_cache_by_written_form(build):
    c = build('[rules.sanctions.terms]\n"=NATO*" = 1\n')
    # The same lowercase text, differently written, one after the other: the scan's cache
    # must not hand the first answer to the second.
    assert c.classify("", "NATOs").labels == ("sanctions",)
    assert c.classify("", "natos").labels == ()
    assert c.classify("", "NATO's").labels == ("sanctions",)


# --- rules for one field ------------------------------------------------------------------

def test_title_and_summary_rules_fire_only_in_their_field(build):
    c = build('[rules.statements.terms]\n"title: says" = 1\n"summary: urged" = 1\n')
    assert c.classify("Iran says", "").labels == ("statements",)
    assert c.classify("", "Iran says").labels == ()
    assert c.classify("", "Iran urged").labels == ("statements",)
    assert c.classify("Iran urged", "").labels == ()


def test_title_near_rule(build):
    c = build('[rules.statements.near]\n"title: iran ~2.> says" = 1\n')
    assert c.classify("Iran says no", "").labels == ("statements",)
    assert c.classify("", "Iran says no").labels == ()
    evidence = c.classify("Iran says no", "").evidence
    assert evidence[0].term == "title: iran ~2.> says" and evidence[0].field == "title"


def test_field_rule_merges_beside_the_plain_rule():
    merged = merge_rules({"rules": {"statements": {"terms": {"says": 0.5}}}},
                         {"rules": {"statements": {"terms": {"title: says": 0.2}}}})
    assert merged["rules"]["statements"]["terms"] == {"says": 0.5, "title: says": 0.2}


@pytest.mark.parametrize("rules, problem", [
    ('exclude = ["title: talks"]', "not exclusions"),
    ('terms = { "title:" = 1 }', "empty pattern after 'title:'"),
    ('terms = { "= US" = 1 }', "'=' must be followed by a word"),
    ('near = { "a ~.3 b" = 1 }', "malformed near pattern"),
    ('near = { "a ~3>. b" = 1 }', "malformed near pattern"),
    ('terms = { "head: talks" = 1 }', "unsupported character"),
])
def test_feature_errors_name_the_rule(rules, problem):
    with pytest.raises(RuleError, match=problem) as info:
        spec_from(f"[rules.talks]\n{rules}\n")
    assert info.value.where.startswith("rules.talks.")


# --- the bundled rules use them -----------------------------------------------------------

@pytest.mark.parametrize("title, summary, statement", [
    # A speaker in one sentence, its verb in the next: no statement.
    ("", "The convoy crossed into Russia. He denies any role in the attack.", False),
    ("", "Russia denies any role in the attack.", True),
    # "says" in the lede is attribution of a fact; in a headline it is the news.
    ("", "Exports rose 5% in May, the trade ministry says.", False),
    ("Trade ministry says exports rose", "", True),
    # PM in capitals is an official.
    ("", "The PM warned Russia of deep cuts.", True),
])
def test_bundled_rules_use_the_features(default_classifier, title, summary, statement):
    labels = default_classifier.classify(title, summary).labels
    assert ("statements" in labels) is statement

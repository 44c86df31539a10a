"""Kinds settled by who speaks and who is met: offices, bodies and firms (the gazetteer classes).

Invented headlines, one per kind (none is taken from an eval file): a bare foreign minister at
home, firms and community leaders as speakers, fighting despite talks, a leader's agenda and the
people he meets at home; aides, regional bodies, long formal titles and "US" as a counterpart,
a deal broken, a statement document on a home topic. Each row was labelled otherwise by the
rules before its kind was written down; the guard rows keep the neighbouring use of the words.
"""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("title, summary", [
    # A foreign minister named without a state may be the host's own (@peer has no bare
    # "foreign minister"); a foreign one is named with the state (the guard below).
    ("Meeting with Foreign Minister Ivan Petrov",
     "The President had a working meeting with Foreign Minister Ivan Petrov."),
    # Fighting despite talks: the talks are background.
    ("Shelling goes on in Khartoum despite ceasefire talks", ""),
    ("Clashes intensify in the north despite talks", ""),
    # A leader's agenda at home, and the people he meets there.
    ("Meeting with Head of Dagestan Sergei Melikov",
     "The President had a working meeting with Head of the Republic of Dagestan Sergei Melikov to"
     " discuss the socio-economic situation in the republic."),
    ("Readout of the Vice President's Meeting with Faith Leaders", ""),
    ("Readout of the Vice President's Meeting with Tribal Leaders", ""),
])
def test_not_talks_gazetteer_kinds(default_classifier, title, summary):
    assert "talks" not in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    # A counterpart up to eight words away (formal titles) and "US" in capitals as one.
    ("Meeting with Ivan Petrov",
     "The President met with the First President of the Republic of Kazakhstan Ivan Petrov."),
    ("Deputy Minister met with the US Under Secretary of State", ""),
    # A deal broken or walked away from.
    ("Tehran threatens to quit the nuclear deal", ""),
    ("Moscow accused of undermining the grain agreement", ""),
])
def test_talks_gazetteer_kinds(default_classifier, title, summary):
    assert "talks" in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    ("Meeting with Foreign Minister of Egypt Ahmed Hassan", ""),
    ("Ceasefire talks resume in Jeddah", ""),
])
def test_talks_gazetteer_guards(default_classifier, title, summary):
    assert "talks" in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    # A firm by name (@company) and community or church leaders speak for no state.
    ("Google warns Brussels over new AI rules", ""),
    ("Church leaders urge Israel to protect Christians in Gaza", ""),
    ("Community leaders urge Israel to halt strikes on Gaza", ""),
    # A request as a noun, the occasion of an act.
    ("", "Russian troops left Kazakhstan, sent at the request of its leaders, in a week, the"
         " ministry of Kazakhstan said."),
    # A statement document on a home topic @home names stays none.
    ("Statement by President Joe Biden on the Mass Shooting in Denver",
     "Jill and I are praying for the families."),
])
def test_not_statements_gazetteer_kinds(default_classifier, title, summary):
    assert "statements" not in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    # An aide is an official.
    ("", "Any new sanctions will be answered in kind, a presidential aide warned on Tuesday."),
    # Regional and specialised international bodies speak.
    ("", "The Organisation of Islamic Cooperation urged members to cut ties with Israel over the"
         " war."),
    ("", "The WHO urged Israel to allow fuel into Gaza."),
    # A statement document is the utterance whatever its topic, with one more cue.
    ("Statement by President Joe Biden on the 30th Anniversary of the Violence Against Women Act",
     "Thirty years ago, I wrote that law. We must protect survivors."),
    # The guard of the firms: a state says the same.
    ("Germany warns Brussels over new AI rules", ""),
])
def test_statements_gazetteer_kinds(default_classifier, title, summary):
    assert "statements" in default_classifier.classify(title, summary).labels

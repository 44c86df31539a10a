"""Kinds settled by office-holders named without their office (@leader, @aide).

Invented headlines (none is taken from an eval file): a name met, hosted, received or named
beside another name is a counterpart; a name with a strong reaction verb is a speaker. Each of
those rows was labelled otherwise by the rules before the classes were written. The guards keep
what a word list of names must not do: a host who is himself a name, a leader's own minister, a
name as a modifier ("Putin critic"), names that are words or belong to others ("trump card", a
football coach, a tennis player), and people by name who hold no office.
"""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("title, summary", [
    ("Putin meets Erdogan in Sochi", ""),
    ("Erdogan hosts Zelensky in Istanbul", ""),
    ("Xi receives Lula in Beijing", ""),
    ("Witkoff meets Putin in St Petersburg", ""),
    # Two office-holders named together.
    ("Trump, Putin hold phone call", ""),
    ("", "Zelenskyy met Erdogan and Guterres in Lviv on Thursday to discuss the grain corridor."),
])
def test_talks_with_a_named_counterpart(default_classifier, title, summary):
    assert "talks" in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    ("Zakharova slams Kallas", ""),
    ("Lavrov rejects Rubio's remarks", ""),
    ("Araghchi condemns Grossi over inspectors report", ""),
    ("Peskov denounces 'hysteria' in European capitals", ""),
])
def test_statements_by_a_named_speaker(default_classifier, title, summary):
    assert "statements" in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    # A leader's family, former presidents and activists speak for no state.
    ("Hunter Biden slams Israel over Gaza", ""),
    ("Bill Clinton urges Serbia and Kosovo to talk", ""),
    ("Greta Thunberg accuses Sweden over Gaza arms", ""),
])
def test_named_private_speakers(default_classifier, title, summary):
    assert "statements" not in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    # The host is a name too: a counterpart comes after the verb.
    ("Meeting with Constitutional Court Chairman Ivan Petrov",
     "Vladimir Putin had a meeting with Chairman of the Constitutional Court Ivan Petrov."),
    ("", "Vladimir Putin met with Defence Minister Andrei Belousov to discuss the front."),
    # The leader's own foreign minister, named with a bare title.
    ("Meeting with Foreign Minister Sergei Lavrov",
     "The President had a working meeting with Foreign Minister Sergei Lavrov."),
    # A name as a modifier, a firm that bears a name.
    ("", "The presenter talks to longtime Putin critic Ivan Petrov about his jailed friend."),
    ("Trump lawyers to meet special counsel", ""),
    ("Trump Organization signs deal in Oman", ""),
    # A word, not the name (=Trump is case-sensitive).
    ("Meeting ends with a trump card for farmers", ""),
])
def test_not_talks_with_names(default_classifier, title, summary):
    assert "talks" not in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title", [
    # Namesakes: a football coach (only "celso amorim" is listed), a tennis player (only
    # "dmitry medvedev").
    "Amorim slams referee after United defeat",
    "Medvedev slams umpire after Wimbledon defeat",
])
def test_namesakes_stay_unlabelled(default_classifier, title):
    assert default_classifier.classify(title, "").labels == ()

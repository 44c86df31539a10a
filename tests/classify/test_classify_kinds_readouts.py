"""Kinds of item fresh wires showed sharing the words of talks and statements.

Invented sentences, one per kind (none is taken from an eval file): a visit alone in a headline,
a release naming its host with his own state, a past visit as background; a host's words on the
visit itself, a passive in the perfect, guests welcomed to the White House under long titles, a
readout's affirmed commitment, an opposition leader as the speaker. The guard rows keep the
diplomatic use of the same words.
"""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("title, summary", [
    # A visit alone in a headline is no more talks than a meeting alone.
    ("Prime minister visits flood-hit farms in the north", ""),
    # A release names its host with his own state before the verb: not a counterpart abroad.
    ("", "President of Ukraine Volodymyr Zelenskyy visited the training ground of a tank brigade"
         " near Lviv."),
    # A feature's or a show's title, where no one meets.
    ("Meet the French volunteers cooking for Ukraine's refugees", ""),
    ("Meet the Russian dissidents who fled to Georgia", ""),
    # A readout of a meeting with groups at home.
    ("Readout of White House Meeting with Vaccine Manufacturers",
     "Senior officials met with manufacturers of vaccines from France and Germany to discuss"
     " supply."),
    # A past visit recalled as background.
    ("", "The envoy, who resigned in March, said during his last visit to Cairo that the plan was"
         " dead."),
])
def test_not_talks_kinds(default_classifier, title, summary):
    assert "talks" not in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    ("Foreign minister visits Beijing", ""),
    ("Turkish minister visits Baghdad for talks", ""),
])
def test_talks_guards(default_classifier, title, summary):
    assert "talks" in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    # A host's words on the visit itself are the readout of a meeting.
    ("", "President Erdogan met with President of Azerbaijan Ilham Aliyev. The Head of State"
         " stressed the importance of this visit for the region."),
    # A passive in the perfect: no speaker utters anything.
    ("", "The government of Chile has been accused by a rights group of abuses at the border."),
    ("", "The agreement with Japan has been hailed as a turning point by the minister."),
    # Guests welcomed to the White House under long titles: a meeting announced.
    ("", "On Friday, President Biden will welcome President Lula of Brazil and Prime Minister"
         " Albanese of Australia to the White House."),
    # A readout's affirmed commitment, a dotted U.K. counting as two words.
    ("", "The President reaffirmed the enduring U.K. commitment to NATO during the summit."),
    # A statement document on a home topic: a court case, pensions, a crash at home.
    ("Statement from President Joe Biden on Smith v. Jones",
     "No one should fear an abuser with a gun. Today's ruling must stand, and I urge Congress"
     " to act."),
    # An opinion headline argues; a body "called upon" utters nothing.
    ("Why Europe should welcome Ukraine's refugees", ""),
    ("Gulf states called upon to lead", "Leaders of the Gulf Cooperation Council have been called"
     " upon to take the lead on financing Africa's climate action."),
    # An opposition leader speaks for no government.
    ("Georgia is sliding towards Moscow, opposition leader warns", ""),
])
def test_not_statements_kinds(default_classifier, title, summary):
    assert "statements" not in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    ("Venezuela's foreign minister warns Guyana over disputed region", ""),
])
def test_statements_guards(default_classifier, title, summary):
    assert "statements" in default_classifier.classify(title, summary).labels

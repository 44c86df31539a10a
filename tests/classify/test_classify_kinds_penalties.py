"""Kinds of item that share the words of talks or statements but are none (or one label
less), found on fresh wires drawn like a feed's traffic; most are penalties, evidence against a
label from either field. Invented sentences, one per kind (none is taken from an eval file);
the guard rows keep the diplomatic use of the same words."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("title, summary", [
    # A call that only congratulates is a courtesy (the lede outweighs the readout headline).
    ("Readout of the President's Call with Prime Minister Kovač of Croatia",
     "The President spoke today with Prime Minister Ivan Kovač of Croatia to congratulate him"
     " on his party's victory in the parliamentary elections."),
    # Sport, labour, party politics at home, business and markets.
    ("Marlins ink ace to $90M deal", "The left-handed pitcher was the top free agent of the"
     " offseason."),
    ("Mayor hails progress in talks at city depots",
     "Bus drivers who have been on strike since May will hear the new offer on Friday."),
    ("Governor steps in at the studios",
     "The governor offered to help negotiate an end to the long strikes at the studios."),
    ("Senators near deal on border package",
     "Republicans and Democrats said negotiations on the package could conclude this week."),
    ("Saudi fund, Kia sign deal for $300m assembly plant",
     "The joint venture with the South Korean automaker will build 50,000 cars a year."),
    # An accord recalled as history; a consular visit.
    ("In Derry, the murals still divide",
     "The walls still stand 25 years after the peace deal that ended the violence."),
    ("Diplomats allowed to visit detained Canadian",
     "Canadian embassy officials were allowed to visit a citizen detained on espionage charges."),
])
def test_not_talks(default_classifier, title, summary):
    assert "talks" not in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    ("Readout of the President's Call with President Ruto of Kenya",
     "The President spoke with President William Ruto of Kenya about the crisis in Sudan and"
     " efforts toward a ceasefire."),
    ("Ukraine peace talks resume in Istanbul", "Delegations met on Monday."),
])
def test_talks_guards(default_classifier, title, summary):
    assert "talks" in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    # An official on home affairs: immigration, sport.
    ("Dutch minister vows faster deportations",
     "The migration minister vowed on Monday to speed up deportations of rejected asylum"
     " seekers."),
    # A document calling for something is no speaker; a firm's statement speaks for the firm.
    ("Arab Americans protest over Gaza veto", "Residents in Dearborn describe anger after the"
     " US vetoed a UN resolution calling for a ceasefire in Gaza."),
    ("Google ends free photo storage in India",
     "Google will stop offering unlimited free photo storage to new users in India. In a"
     " statement to The Verge, a Google spokesperson confirmed that existing users are not"
     " affected."),
    # A call readout is talks only.
    ("Readout of President Biden's Call with Prime Minister Trudeau of Canada",
     "President Biden spoke with Prime Minister Justin Trudeau of Canada and expressed his deep"
     " condolences for the victims of the train derailment in Quebec."),
    # Criticism as a noun; an agency's statement as a fact's source.
    ("Belarusian poet jailed over anti-war leaflets", "Poet Ales Kazlou was convicted of"
     " extremism after handing out leaflets with Ukraine war criticism in Minsk."),
    ("Apollo astronaut dies at 91", "WASHINGTON: Apollo 9 astronaut Russell Schweickart has"
     " died at 91. “Today we remember a pioneer,” the US space agency said in a statement."),
])
def test_not_statements(default_classifier, title, summary):
    assert "statements" not in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    # A disaster abroad: an appeal is a statement.
    ("UN chief urges aid for Libya flood victims", "Secretary-General António Guterres urged"
     " donors to help thousands displaced by floods in eastern Libya."),
])
def test_statements_guards(default_classifier, title, summary):
    assert "statements" in default_classifier.classify(title, summary).labels

"""Kinds of phrasing the bundled rules tell apart, one invented item per kind.

The rows are written for these tests, not taken from an eval file: each stands for a kind of
item (a speaker on a home topic, a ceremonial message at home, a company's deal), so a rule
change is judged by the kind, not by a wire someone has read.
"""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("title, summary", [
    # A speaker and a verb on a home topic: no nation, actor or arena anywhere.
    ("Schools reopen next week",
     "The education minister urged parents to register their children online."),
    ("Senator calls on regulators to probe airline fares",
     "Senator Jane Roe called on the transport department to investigate ticket prices."),
    # A body that speaks at home is a speaker, not a topic abroad.
    ("", "Authorities warned of delays on the new ring road."),
    # A ceremonial message on a domestic observance.
    ("Presidential Message on National Apprenticeship Week", ""),
])
def test_home_topics_are_not_statements(default_classifier, title, summary):
    assert "statements" not in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    # The same shapes about something abroad or a conflict.
    ("", "The education minister urged Serbia to reopen its schools to refugees."),
    ("", "Authorities warned Serbia of delays at the border."),
    ("", "The interior minister warned that insurgents would be crushed."),
    ("Greetings to the President of Kenya on Independence Day", ""),
    # Headline only: a cue next to a nation still counts without a lede.
    ("Foreign minister of Chile said the position of Peru was unacceptable", ""),
    ("Joint statement on the maritime pact", ""),
])
def test_topics_abroad_are_statements(default_classifier, title, summary):
    assert "statements" in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    # A trade middleman, not a go-between of a dispute.
    ("", "Smugglers moved drone parts to Iran through intermediary firms in Armenia."),
    # Hosting an event: a trade fair, an expo, the games.
    ("Egypt hosts regional defence expo in Cairo", ""),
    # A truce as the background of fighting.
    ("Shelling kills five in Donetsk since the truce took hold", ""),
    # A company's deal.
    ("Airline signs deal for 40 jets with Brazil's Embraer", ""),
    # A leader meeting his own officials.
    ("Belarus leader meets his army commanders in Minsk", ""),
    # An award presented.
    ("French president hosts award ceremony for Resistance veterans", ""),
    # Labour bargaining.
    ("Port operators and dockers reach labour deal", ""),
    # Crowds denouncing a summit.
    ("Thousands of protesters denounce NATO summit in Vilnius", ""),
    # Greetings to a gathering.
    ("Greetings to participants of the Eurasian Economic Union summit", ""),
    # Bargaining on home affairs.
    ("Senate leaders resume talks on tax cuts", ""),
    # A leader's visit to a place at home.
    ("Nigerian president visits orphanage in Kano", ""),
    # A leader meeting people at home.
    ("Kenyan president meets journalists in Nairobi", ""),
    # A body at home is no counterpart.
    ("Prime minister meets parliament speaker", ""),
    # A resolution for a truce: a call for one.
    ("Assembly adopts resolution for Sudan truce", ""),
])
def test_not_talks_kinds(default_classifier, title, summary):
    assert "talks" not in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    # The same words where states talk.
    ("Qatar acts as intermediary between Israel and Hamas", ""),
    ("Egypt hosts talks between Sudan's warring parties", ""),
    ("Ceasefire talks resume in Doha", ""),
    ("Belarus leader meets Chinese foreign minister in Minsk", ""),
    ("Senate leaders meet Japanese prime minister in Washington", ""),
    ("Mediators host truce talks as fighting continues", ""),
])
def test_talks_kinds(default_classifier, title, summary):
    assert "talks" in default_classifier.classify(title, summary).labels

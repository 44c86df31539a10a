"""Kinds settled by what the speaker's words are: attribution, effort, trade, a claim in a headline.

Invented items, one per kind (none is taken from an eval file): a former official named in the
headline's tail, something that endangers rather than a speaker who threatens, what was agreed
rather than said, trades as speakers, trade figures and customs duties, pushing for peace, a
statement as the source of a fact, a count or an appointment reported through "said"; and, the
other way, a deictic attribution ("said this") of the headline's claim, a prescriptive headline,
the rest of the UN's member states as speakers, and a call that needs a counterpart abroad. Each
row was labelled otherwise by the rules before its kind was written down; the guard row keeps the
neighbouring use of the words.
"""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("title, summary", [
    # The headline's tail names a former official: he speaks for no one.
    ("What does Chinese diplomacy have in common with an old legend? Many virtues, says ex-envoy"
     " Li Wei",
     "The world should be vigilant about false narratives on China that lead to misunderstandings,"
     " he warns."),
    # Endangering, whoever or whatever does it.
    ("Budget row threatens to overshadow Nato summit in Vilnius", ""),
    ("How e-scooters threaten to undo Britain's war on traffic deaths", ""),
    # What two sides agreed, not what one said.
    ("", "The presidents of Guyana and Venezuela agreed not to threaten each other and to meet"
         " again in Brazil."),
    # A trade speaks for itself, as firms do.
    ("", "Australian mining industry sources said Japanese steel importers are demanding lower"
         " iron ore prices in talks in Tokyo."),
    # Trade figures and customs duties are the economy, as banks and rates are.
    ("Taiwan says it will offer more tariff cuts to narrow trade surplus", ""),
    ("", "The European Union said on Wednesday it will impose a duty of 200 euros per tonne of"
         " imported sugar from 2026."),
    # Pushing for peace is a diplomatic effort: talks news.
    ("Russia's top diplomat travels to Brazil, as Lula pushes for peace", ""),
    # A statement as the source of a fact, and a count or an appointment reported through "said".
    ("", "Authorities in Peru are investigating a baseball player over an alleged assault,"
         " according to a statement Monday from the office of the attorney general."),
    ("", "Colombia's President Gustavo Petro said on Wednesday that he had replaced the peace"
         " commissioner."),
])
def test_not_statements_speaker_kinds(default_classifier, title, summary):
    assert "statements" not in default_classifier.classify(title, summary).labels


@pytest.mark.parametrize("title, summary", [
    # "said this" attributes the headline's claim, as "This was stated by" does.
    ("Ukraine will build a state with strong defence like Israel's",
     "After the war Ukraine will build a European state with a powerful defence system. The"
     " President of Ukraine said this during a meeting with Israeli students."),
    # A prescriptive headline with its topic abroad is the claim itself.
    ("Sanctions against Russia must be tough enough to end this war - Andriy Yermak",
     "The head of the President's Office held an online meeting of the international group of"
     " experts on sanctions against Russia."),
    # Member states that were missing from @nation speak like the others.
    ("", "The UAE condemned the attack on the embassy in Khartoum."),
    ("", "South Africa urged both sides to return to the negotiating table."),
])
def test_statements_speaker_kinds(default_classifier, title, summary):
    assert "statements" in default_classifier.classify(title, summary).labels


def test_a_call_needs_a_counterpart_abroad(default_classifier):
    at_home = default_classifier.classify(
        "Telephone conversation with Ivan Petrov",
        "Vladimir Putin had a telephone conversation with 12-year-old Ivan Petrov from the Tula"
        " Region, a participant in a charity campaign.")
    assert "talks" not in at_home.labels
    # The guard: a call with a head of state abroad (a member state added to @nation) still is.
    abroad = default_classifier.classify(
        "Telephone conversation with President of the United Arab Emirates Mohammed bin Zayed", "")
    assert "talks" in abroad.labels

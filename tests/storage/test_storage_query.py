"""Fast paths must agree with the plain ones: item decoding and the raw text prefilter."""
from __future__ import annotations

import json
import random
from dataclasses import replace

import orjson
import pytest

from feeds.model import Item
from storage import Flags, ItemFilter, Store
from storage.codec import item_from_doc
from storage.query import Matcher
from storage.rawdocs import docs_containing, prefilter_terms
from tests.storage.storage_helpers import make_item, tricky_items


def test_fast_item_decoding_equals_from_dict():
    from dataclasses import fields

    for item in tricky_items() + [make_item(labels=())]:
        # to_dict is spelled out by hand: every field, in field order
        assert list(item.to_dict()) == [f.name for f in fields(Item)]
        doc = orjson.loads(orjson.dumps(item.to_dict()))
        assert item_from_doc(dict(doc)) == Item.from_dict(doc) == item
    # any other document shape goes through from_dict itself
    legacy = {"id": "00000000000000aa", "feed": "f", "published": "2024-01-01T00:00:00Z",
              "first_seen": "2024-01-01T00:00:00Z", "title": "old"}
    assert item_from_doc(legacy) == Item.from_dict(legacy)
    odd = make_item().to_dict()
    odd["evidence"] = [{"label": "talks", "term": "t", "text": "t", "field": "title",
                        "start": "1", "end": 2, "weight": 1}]
    assert item_from_doc(dict(odd)) == Item.from_dict(odd)


@pytest.mark.parametrize("text", ["stop", '"stop"', "c:\\data", '},"12":{', "strasse",
                                  "straße köln", "istanbul", "i̇stanbul", "k sign",
                                  "🕊",
                                  "finance", "σίσυφος", "ς", "in", "zürich", "agence", "ärzte",
                                  "12 inside", "newline"])
def test_raw_prefilter_never_misses_a_match(text):
    items = tricky_items()
    docs = {str(int(i.id, 16)): i.to_dict() for i in items}
    raw = orjson.dumps({"items": docs})
    m = Matcher(ItemFilter(text=text))
    expected = [d for d in docs.values() if m.doc(d, Flags())]
    terms = prefilter_terms(m.terms)
    got = docs_containing(raw, terms, len(docs)) if terms else None
    if got is None:
        assert not terms or '"' in text or "\\" in text
        return
    assert [d for d in got if m.doc(d, Flags())] == expected
    assert all(d in docs.values() for d in got)


def test_raw_prefilter_declines_unknown_layouts():
    docs = {str(int(i.id, 16)): i.to_dict() for i in tricky_items(10)}
    terms = ("talks",)
    assert docs_containing(orjson.dumps({"items": docs}), terms, 9) is None  # count mismatch
    ascii_escaped = json.dumps({"items": docs}).encode()  # \\u escapes, spaces
    assert docs_containing(ascii_escaped, terms, 10) is None
    two_tables = orjson.dumps({"items": docs, "other": {"1": {"x": "talks"}}})
    got = docs_containing(two_tables, terms, 10)
    assert got is None or all("id" in d for d in got)
    assert docs_containing(orjson.dumps({"items": {}}), terms, 0) is None


def test_archive_text_search_equals_brute_force(tmp_path, clock):
    items = []
    for w, day in enumerate(["2024-01-0%dT10:00:00Z" % d for d in range(1, 8)] +
                            ["2024-02-1%dT10:00:00Z" % d for d in range(0, 8)]):
        items += [replace(i, id=f"{w:04x}{int(i.id, 16):012x}", first_seen=day, published=day)
                  for i in tricky_items(20, seed=w)]
    with Store.open(tmp_path / "db", clock=clock) as s:
        s.upsert_items(items)
    with Store.open(tmp_path / "db", clock=clock, readonly=True) as s:
        for text in ["talks", "straße", "ISTANBUL 3", "finance", '"stop"', "köln 1", "🕊"]:
            f = ItemFilter(text=text, archive=True)
            m = Matcher(f)
            brute = sorted((i for i in items if m.item(i, Flags())),
                           key=lambda i: (i.published, i.first_seen, i.id), reverse=True)
            assert s.query(f) == brute, text
            assert s.query(replace(f, limit=7, offset=3)) == brute[3:10], text


PLAIN = ["Peace talks resume in Zürich", "Sanctions on “shadow fleet” tankers", "EU adopts package",
         "Ceasefire holds", "talks, talks and more talks", "Kremlin says no date set", "café diplomacy",
         "items", "id 12 inside", "Geneva"]


@pytest.mark.parametrize("text", ["talks", "TALKS resume", "zürich", "ceasefire", "package eu", "items",
                                  "12", "id", "café", "shadow fleet", "nothing-like-this", "geneva"])
def test_raw_prefilter_ascii_fast_path_never_misses_a_match(text):
    """Words in ASCII over a file with no character that folds to ASCII: the bytes path."""
    from storage import rawdocs

    rnd = random.Random(7)
    items = [make_item(0x2000 + i, title=f"{rnd.choice(PLAIN)} {i}", summary=rnd.choice(PLAIN))
             for i in range(80)]
    docs = {str(int(i.id, 16)): i.to_dict() for i in items}
    raw = orjson.dumps({"items": docs})
    m = Matcher(ItemFilter(text=text))
    terms = prefilter_terms(m.terms)
    assert rawdocs._no_char_folds_to_ascii(raw)  # the fast path is the one tested here
    expected = [d for d in docs.values() if m.doc(d, Flags())]
    got = docs_containing(raw, terms, len(docs))
    assert got is not None
    assert sorted(d["id"] for d in got if m.doc(d, Flags())) == sorted(d["id"] for d in expected)
    assert all(d in docs.values() for d in got)


def test_a_character_folding_to_ascii_sends_the_file_to_the_careful_path():
    from storage import rawdocs

    assert rawdocs._no_char_folds_to_ascii(orjson.dumps({"items": {"1": {"id": "x", "t": "Zürich café"}}}))
    for ch in "\u00df\u0130\ufb01\u212a":
        assert not rawdocs._no_char_folds_to_ascii(orjson.dumps({"t": f"a{ch}b"}))


def test_raw_prefilter_reads_only_the_searched_fields():
    """A word only in the link or the evidence makes no candidate (a full-history search
    parsed three times the documents it needed); a document whose keys are in another
    order is read whole, so it is never missed."""
    from feeds.model import Match

    hit = make_item(0x3001, title="Ceasefire talks resume", summary="Envoys met.")
    in_link = replace(make_item(0x3002, title="Envoys met", summary="No date."),
                      link="https://news.example/ceasefire-talks",
                      evidence=(Match("talks", "ceasefire", "Envoys", "title", 0, 6, 1.0),))
    shuffled = make_item(0x3003, title="Ceasefire holds", summary="Quiet night.").to_dict()
    shuffled = {k: shuffled[k] for k in ("id", "link", "feed", "guid", "published", "title",
                                         "summary", "source")} | shuffled
    docs = {"1": hit.to_dict(), "2": in_link.to_dict(), "3": shuffled}
    got = docs_containing(orjson.dumps({"items": docs}), ("ceasefire",), 3)
    assert sorted(d["id"] for d in got) == sorted([hit.id, shuffled["id"]])

"""Scoring rules against a labelled TSV, and the plain-text reports."""
from __future__ import annotations

import json
import re

import pytest

from feeds.classify.evaluate import (EvalFileError, LabelStats, evaluate, format_explanation,
                            format_report, read_tsv)

TSV = (
    "id\ttext\tlabels\tsource\n"
    "r1\ttalks resume\ttalks\tx\n"
    "r2\ttalks and sanctions\ttalks\tx\n"
    "r3\tweather report\ttalks\tx\n"
    "r4\tnew sanctions\tsanctions\tx\n"
    "r5\tminister condemns talks\tstatements\tx\n"
    "\n"
    "r6\tnothing here\t\tx\n"
)


@pytest.fixture
def tiny(build):
    return build("""
        [rules.talks]
        terms = ["talks"]
        [rules.sanctions]
        terms = ["sanctions"]
        [rules.statements]
        terms = ["condemns"]
    """)


@pytest.fixture
def rows(tmp_path):
    path = tmp_path / "tiny.tsv"
    path.write_text(TSV, encoding="utf-8")
    return read_tsv(path)


def test_read_tsv(rows):
    assert [r.id for r in rows] == ["r1", "r2", "r3", "r4", "r5", "r6"]
    assert rows[1].text == "talks and sanctions" and rows[1].labels == ("talks",)
    assert rows[5].labels == ()


def test_read_tsv_without_id_uses_line_numbers(tmp_path):
    path = tmp_path / "noid.tsv"
    path.write_text("labels\ttext\nstatements,talks\tKyiv urges talks\n\t\"quoted\" text\n",
                    encoding="utf-8")
    rows = read_tsv(path)
    assert [(r.id, r.labels) for r in rows] == [("line 2", ("talks", "statements")),
                                                ("line 3", ())]
    assert rows[1].text == '"quoted" text'


@pytest.mark.parametrize("content, message", [
    ("id\ttext\nx\ttalks\n", "header lacks column(s) labels"),
    ("id\tlabels\nx\ttalks\n", "header lacks column(s) text"),
    ("", "empty file"),
    ("text\tlabels\ntalks resume\ttalk\n", ":2: unknown label(s) talk"),
])
def test_read_tsv_errors(tmp_path, content, message):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalFileError, match=re.escape(message)) as err:
        read_tsv(path)
    assert str(path) in str(err.value)


def test_read_tsv_unreadable(tmp_path):
    with pytest.raises(EvalFileError, match="cannot read"):
        read_tsv(tmp_path / "missing.tsv")
    (tmp_path / "latin1.tsv").write_bytes("text\tlabels\ncaf\xe9\t\n".encode("latin-1"))
    with pytest.raises(EvalFileError, match="cannot read"):
        read_tsv(tmp_path / "latin1.tsv")


def test_evaluate_arithmetic(tiny, rows):
    report = evaluate(tiny, rows)
    talks, sanctions, statements = (report.stats[k] for k in ("talks", "sanctions",
                                                              "statements"))
    # talks: r1, r2 right; r5 predicted wrongly; r3 missed.
    assert (talks.tp, talks.fp, talks.fn, talks.support) == (2, 1, 1, 3)
    assert talks.precision == pytest.approx(2 / 3)
    assert talks.recall == pytest.approx(2 / 3)
    assert talks.f1 == pytest.approx(2 / 3)
    # sanctions: r4 right, r2 predicted wrongly.
    assert (sanctions.tp, sanctions.fp, sanctions.fn) == (1, 1, 0)
    assert (sanctions.precision, sanctions.recall) == (0.5, 1.0)
    assert sanctions.f1 == pytest.approx(2 / 3)
    assert (statements.precision, statements.recall, statements.f1) == (1.0, 1.0, 1.0)
    assert report.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert report.rows == 6
    errors = {e.row.id: e for e in report.errors}
    assert sorted(errors) == ["r2", "r3", "r5"]
    assert errors["r2"].false_positives == ("sanctions",) and errors["r2"].false_negatives == ()
    assert errors["r3"].false_negatives == ("talks",) and errors["r3"].evidence == ()
    assert errors["r5"].predicted == ("talks", "statements")
    assert report.predicted_sets["talks"] == {"talks": 1, "talks+sanctions": 1, "other": 1}
    assert report.predicted_sets["other"] == {"other": 1}


@pytest.mark.parametrize("tp, fp, fn, precision, recall, f1", [
    (0, 0, 3, 0.0, 0.0, 0.0),  # nothing predicted, something to find
    (0, 2, 0, 0.0, 0.0, 0.0),  # predictions, nothing to find
    (0, 0, 0, 1.0, 1.0, 1.0),  # nothing to find, nothing predicted
    (3, 1, 0, 0.75, 1.0, 6 / 7),
])
def test_edge_case_figures(tp, fp, fn, precision, recall, f1):
    stats = LabelStats("talks", tp, fp, fn)
    assert (stats.precision, stats.recall) == (precision, recall)
    assert stats.f1 == pytest.approx(f1)


def test_to_json_shape(tiny, rows):
    data = evaluate(tiny, rows).to_json()
    assert set(data) == {"labels", "macro_f1", "errors"}
    assert list(data["labels"]) == ["talks", "sanctions", "statements"]
    for figures in data["labels"].values():
        assert {"precision", "recall", "f1", "support"} <= set(figures)
    assert data["labels"]["sanctions"]["precision"] == 0.5
    assert data["labels"]["talks"]["support"] == 3
    assert data["macro_f1"] == pytest.approx(0.7778, abs=1e-4)
    by_id = {e["id"]: e for e in data["errors"]}
    assert by_id["r3"]["fired"] == [] and by_id["r3"]["gold"] == ["talks"]
    assert by_id["r2"]["fired"][1]["term"] == "sanctions"
    assert by_id["r2"]["text"] == "talks and sanctions"
    json.dumps(data)  # plain JSON types only


def test_format_report(tiny, rows):
    text = format_report(evaluate(tiny, rows))
    lines = text.splitlines()
    assert lines[0].split() == ["label", "precision", "recall", "F1", "support", "tp", "fp",
                                "fn"]
    assert lines[1].split() == ["talks", "0.667", "0.667", "0.667", "3", "2", "1", "1"]
    assert "macro-F1 0.778 over 6 rows" in text
    assert "talks: false negatives (1)" in text and "no term fired" in text
    assert "sanctions: false positives (1)" in text and "'sanctions' on 'sanctions'" in text
    assert text.index("Predicted label sets") < text.index("talks: false positives")


def test_format_explanation(build):
    c = build("""
        [rules.talks]
        threshold = 1.5
        terms = { "talk*" = 1 }
        exclude = ["talk show"]
        [rules.statements]
        terms = { "says" = 0.6 }
    """)
    title, summary = "Kremlin says talks off", "A talk show host asked about talks."
    text = format_explanation(title, summary, c.explain(title, summary))
    assert "labels:  talks, statements  (primary: talks)" in text
    assert "talks         1.5 / threshold 1.5  applies" in text  # one rule, counted once
    assert "statements    1.1 / threshold 1  applies" in text
    assert "'talk*' → 'talks' in title [13:18]  weight 1.5" in text
    assert "'talk*' → 'talk' in summary [2:6]" in text and "dropped by 'talk show'" in text
    bare = format_explanation(title, summary, c.classify(title, summary))
    assert "labels:  talks, statements" in bare and "threshold" not in bare
    nothing = format_explanation("Quake", "", c.classify("Quake", ""))
    assert "labels:  other" in nothing and "no term fired" in nothing

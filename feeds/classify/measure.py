"""A labelled file classified with the rules as they are, and what a change to the rules does
on it: the measure that ``rules suggest`` (a rule added) and ``rules audit`` (a rule taken
away) share. A change is measured on the rows it may reach, then again the plain way, every
row through :func:`~feeds.classify.evaluate.evaluate` (:func:`plain_effect`).
"""
from __future__ import annotations

import dataclasses
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from feeds.classify.engine import Classifier
from feeds.classify.evaluate import EvalReport, LabelStats, Row, evaluate
from feeds.classify.rules import _APOS, Pattern, Rule, RulesSpec, lower_keep_length
from feeds.model import Classification, Match
from feeds.text import safe_text

MAX_IDS = 8  # row ids listed per rule in the text outputs


def row_text(row: Row) -> str:
    """Every text field of the row (``text``, or headline and lede), never across fields (the
    " . " keeps a phrase from running from one into the next), lowercased as the rules and the
    engine do, so that a pattern's words are substrings of it."""
    parts = [getattr(row, f.name) for f in dataclasses.fields(row) if f.name != "id"]
    joined = " . ".join(p for p in parts if isinstance(p, str) and p)
    return _APOS.sub("'", lower_keep_length(joined))


def may_match(text: str, pattern: Pattern) -> bool:
    """False only when the pattern cannot match the row of ``text`` (its :func:`row_text`):
    some part has no alternative whose words all occur in it."""
    return all(any(all(w.rstrip("*") in text for w in phrase.words) for phrase in part)
               for part in pattern.parts)


class _Recorder:
    """Passes calls to a classifier and keeps what it was given and returned, to learn which
    title and summary ``evaluate`` makes of each row (a text, or a headline and lede)."""

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier
        self.calls: list[tuple[tuple[str, str], Classification]] = []

    def classify(self, title: str, summary: str) -> Classification:
        result = self.classifier.classify(title, summary)
        self.calls.append(((title, summary), result))
        return result


@dataclass(slots=True)
class Baseline:
    """A file classified with the rules as they are: what a change to them is measured
    against."""

    spec: RulesSpec
    rows: list[Row]
    report: EvalReport
    inputs: list[tuple[str, str]]  # (title, summary) of each row, as evaluate classifies it
    results: list[Classification]  # of each row, with the rules as they are
    texts: list[str]  # each row's row_text
    reach: dict[Pattern, frozenset[int]] = field(default_factory=dict)

    def rows_reached(self, pattern: Pattern) -> frozenset[int]:
        """Indices of the rows the pattern may match; every other row keeps its labels."""
        found = self.reach.get(pattern)
        if found is None:
            found = self.reach[pattern] = frozenset(
                i for i, t in enumerate(self.texts) if may_match(t, pattern))
        return found


def baseline(spec: RulesSpec, rows: Sequence[Row]) -> Baseline:
    """Classify ``rows`` under ``spec`` as ``evaluate`` does, keeping each row's input and
    result."""
    recorder = _Recorder(Classifier.from_spec(spec))
    report = evaluate(recorder, rows)
    if len(recorder.calls) != len(rows):  # evaluate classifies each row once, in order
        raise RuntimeError("evaluate() did not classify each row once")
    return Baseline(spec, list(rows), report, [args for args, _ in recorder.calls],
                    [res for _, res in recorder.calls], [row_text(r) for r in rows])


def swap_label(spec: RulesSpec, new: Any) -> tuple:
    """The labels of ``spec`` with ``new`` (a ``LabelRules``) in place of its label's."""
    return tuple(new if lr.label == new.label else lr for lr in spec.labels)


def label_classifier(base: Baseline, label: str, rules: Iterable[Rule],
                     exclude: Iterable[Pattern]) -> Classifier:
    """A classifier of ``label`` alone, with only ``rules`` and ``exclude``, to score the
    rows a change can reach: the full rules compile in ~0.1 s, this in a few ms."""
    labels = tuple(dataclasses.replace(x, rules=tuple(rules), exclude=tuple(exclude))
                   if x.label == label else dataclasses.replace(x, rules=(), exclude=())
                   for x in base.spec.labels)
    return Classifier.from_spec(dataclasses.replace(base.spec, labels=labels))


def rule_shares(evidence: Iterable[Match], label: str) -> dict[str, float]:
    """Each rule's share of ``label``'s score, from the matches of its evidence: as the engine
    scores, a rule counts once, at its best match (the weight, plus the title bonus for a
    match in the headline)."""
    best: dict[str, float] = {}
    for m in evidence:
        if m.label == label:
            best[m.term] = max(best.get(m.term, m.weight), m.weight)
    return best


def _cell(gold: bool, predicted: bool) -> str:
    return ("tp" if predicted else "fn") if gold else ("fp" if predicted else "tn")


def effect(base: Baseline, label: str, changed: Iterable[tuple[int, bool]],
           ) -> tuple[list[str], list[str], float]:
    """Rows fixed, rows broken and the label's F1 after, from (row index, predicted now)."""
    fixed, introduced = [], []
    delta: Counter = Counter()
    for i, now in changed:
        row = base.rows[i]
        gold, was = label in row.labels, label in base.results[i].labels
        if was == now:
            continue
        (fixed if now == gold else introduced).append(row.id)
        delta[_cell(gold, now)] += 1
        delta[_cell(gold, was)] -= 1
    s = base.report.stats[label]
    after = LabelStats(label, s.tp + delta["tp"], s.fp + delta["fp"], s.fn + delta["fn"])
    return fixed, introduced, after.f1


def plain_effect(base: Baseline, spec: RulesSpec, label: str, what: str
                 ) -> tuple[list[str], list[str], float]:
    """Rows fixed and broken on ``label``, and its F1, when ``spec`` replaces the rules of
    ``base``: every row of its file through ``evaluate``, the plain way. ``what`` names the
    change in the error raised if the two counts disagree."""
    report = evaluate(Classifier.from_spec(spec), base.rows)
    now = {id(e.row): e.predicted for e in report.errors}  # other rows: their gold labels
    changed = [(i, label in now.get(id(r), r.labels)) for i, r in enumerate(base.rows)]
    fixed, broken, f1 = effect(base, label, changed)
    if abs(f1 - report.stats[label].f1) > 1e-9:  # both count the same rows
        raise RuntimeError(f"F1 with the change of {what!r} does not add up")
    return fixed, broken, f1


def split_rows(rows: Sequence[Row], fraction: float) -> tuple[list[Row], list[Row]]:
    """(rows to work on, rows held out): about ``fraction`` of the rows held out, chosen by a
    hash of each row's headline and text, so that a file splits the same way on every run, a
    row keeps its side when others are added or its labels corrected, and copies of one item
    fall on one side."""
    cut = round(fraction * 10_000)
    held = [zlib.crc32(f"{r.title}\t{r.text}".encode()) % 10_000 < cut for r in rows]
    return ([r for r, h in zip(rows, held) if not h], [r for r, h in zip(rows, held) if h])


def ids_text(ids: list[str]) -> str:
    """Row ids for a terminal: made safe, the first few, then how many in all."""
    shown = ", ".join(safe_text(i, 40) for i in ids[:MAX_IDS])
    return (shown + f", … ({len(ids)} in all)" if len(ids) > MAX_IDS else shown) or "-"

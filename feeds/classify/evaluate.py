"""Scoring the rules against a labelled TSV (``rules eval``) and explaining one text
(``rules explain``). Plain text and JSON only; nothing here prints.

Conventions for the figures, per label (tp/fp/fn counted over rows):

- precision = tp / (tp + fp); with no prediction of the label it is 0.0, or 1.0 when the
  label also has no gold rows (nothing to find, nothing wrongly found).
- recall = tp / support; with support 0 it is 1.0 when nothing was predicted, else 0.0.
- F1 = 2PR / (P + R), 0.0 when P + R = 0. macro-F1 is the plain mean over the three labels.

Two TSV shapes are read. A ``text`` column holds news leads (the CAMEO and PLOVER sentences):
each row's text is classified as the summary with an empty title (no title bonus). A
``headline`` and a ``lede`` column hold real feed items: headline = title, lede = summary,
exactly as a polled item is classified.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Protocol

from feeds.model import LABELS, OTHER_LABEL, Classification, Match

if TYPE_CHECKING:
    from feeds.classify.engine import Explanation


class EvalFileError(ValueError):
    """The TSV cannot be read or lacks a needed column; the message names the file."""


class _Classifies(Protocol):
    def classify(self, title: str, summary: str) -> Classification: ...


@dataclass(frozen=True, slots=True)
class Row:
    id: str  # the `id` column when present, else "line N"
    text: str  # the summary: the `text` or the `lede` column
    labels: tuple[str, ...]  # gold labels, in LABELS order
    title: str = ""  # the `headline` column; empty for `text` files


@dataclass(frozen=True, slots=True)
class LabelStats:
    label: str
    tp: int
    fp: int
    fn: int

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        predicted = self.tp + self.fp
        if predicted == 0:
            return 1.0 if self.support == 0 else 0.0
        return self.tp / predicted

    @property
    def recall(self) -> float:
        if self.support == 0:
            return 1.0 if self.fp == 0 else 0.0
        return self.tp / self.support

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


@dataclass(frozen=True, slots=True)
class RowError:
    """A row with at least one false positive or false negative."""

    row: Row
    predicted: tuple[str, ...]
    false_positives: tuple[str, ...]
    false_negatives: tuple[str, ...]
    scores: dict[str, float]
    evidence: tuple[Match, ...]


@dataclass(slots=True)
class EvalReport:
    stats: dict[str, LabelStats]
    rows: int
    # gold label → Counter of predicted label sets ("talks+statements", "other") on its rows
    predicted_sets: dict[str, Counter]
    errors: list[RowError] = field(default_factory=list)

    @property
    def macro_f1(self) -> float:
        return sum(self.stats[label].f1 for label in LABELS) / len(LABELS)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types; top-level keys are exactly labels, macro_f1 and errors."""
        return {
            "labels": {
                label: {
                    "precision": round(s.precision, 4), "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4), "support": s.support,
                    "tp": s.tp, "fp": s.fp, "fn": s.fn, "rows": self.rows,
                    "predicted_sets": dict(self.predicted_sets[label].most_common()),
                }
                for label, s in self.stats.items()
            },
            "macro_f1": round(self.macro_f1, 4),
            "errors": [
                {
                    "id": e.row.id, "title": e.row.title, "text": e.row.text,
                    "gold": list(e.row.labels),
                    "predicted": list(e.predicted),
                    "false_positives": list(e.false_positives),
                    "false_negatives": list(e.false_negatives),
                    "scores": e.scores,
                    "fired": [m.to_dict() for m in e.evidence],
                }
                for e in self.errors
            ],
        }


def _label_set(labels: Iterable[str]) -> str:
    return "+".join(labels) or OTHER_LABEL


def _columns(path: Path, header: list[str]) -> tuple[int | None, int, int]:
    """(headline, summary, labels) column indexes: ``headline`` + ``lede`` when both are
    there (a feed item), else ``text`` (a lead sentence, no headline)."""
    if "labels" in header and "headline" in header and "lede" in header:
        return header.index("headline"), header.index("lede"), header.index("labels")
    missing = [col for col in ("text", "labels") if col not in header]
    if missing:
        raise EvalFileError(f"{path}: header lacks column(s) {', '.join(missing)} "
                            f"(expected text and labels, or headline, lede and labels; "
                            f"found: {', '.join(header) or 'nothing'})")
    return None, header.index("text"), header.index("labels")


def read_tsv(path: str | Path) -> list[Row]:
    """Rows of a UTF-8 TSV whose header has ``labels`` and either ``text`` or ``headline``
    and ``lede`` (``id`` optional, other columns ignored). ``labels`` is comma-separated,
    empty for none."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"{path}: cannot read: {exc}") from exc
    # No quoting: eval text holds literal quotes, and a TSV cell never spans lines here.
    reader = csv.reader(io.StringIO(raw), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None:
        raise EvalFileError(f"{path}: empty file (expected a header row with text and labels)")
    header = [h.strip() for h in header]
    i_title, i_text, i_labels = _columns(path, header)
    i_id = header.index("id") if "id" in header else None
    width = max(i for i in (i_title, i_text, i_labels) if i is not None) + 1
    rows = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        labels = {lb.strip() for lb in cells[i_labels].split(",") if lb.strip()}
        unknown = sorted(labels - set(LABELS))
        if unknown:
            raise EvalFileError(f"{path}:{line}: unknown label(s) {', '.join(unknown)} "
                                f"(expected {', '.join(LABELS)})")
        row_id = cells[i_id].strip() if i_id is not None and i_id < len(cells) else ""
        rows.append(Row(row_id or f"line {line}", cells[i_text],
                        tuple(lb for lb in LABELS if lb in labels),
                        cells[i_title] if i_title is not None else ""))
    return rows


def evaluate(classifier: _Classifies, rows: Iterable[Row]) -> EvalReport:
    """Classify each row (its headline as the title, its text as the summary) and count per
    label."""
    counts = {label: [0, 0, 0] for label in LABELS}  # tp, fp, fn
    predicted_sets: dict[str, Counter] = {label: Counter() for label in (*LABELS, OTHER_LABEL)}
    errors: list[RowError] = []
    n = 0
    for row in rows:
        n += 1
        result = classifier.classify(row.title, row.text)
        gold, predicted = set(row.labels), set(result.labels)
        for label in LABELS:
            c = counts[label]
            if label in gold and label in predicted:
                c[0] += 1
            elif label in predicted:
                c[1] += 1
            elif label in gold:
                c[2] += 1
        shown = _label_set(lb for lb in LABELS if lb in predicted)
        for label in row.labels or (OTHER_LABEL,):
            predicted_sets[label][shown] += 1
        if gold != predicted:
            errors.append(RowError(
                row, tuple(lb for lb in LABELS if lb in predicted),
                tuple(lb for lb in LABELS if lb in predicted - gold),
                tuple(lb for lb in LABELS if lb in gold - predicted),
                dict(result.scores), result.evidence))
    stats = {label: LabelStats(label, *counts[label]) for label in LABELS}
    return EvalReport(stats, n, predicted_sets, errors)


# --- plain text ----------------------------------------------------------------------------

def _fired(evidence: tuple[Match, ...], label: str | None = None) -> str:
    shown = [m for m in evidence if label is None or m.label == label]
    if not shown:
        return "no term fired"
    return "; ".join(f"{m.label}: {m.term!r} on {m.text!r}{' (against)' * m.against}"
                     for m in shown)


def format_report(report: EvalReport) -> str:
    """The figures, the predicted label sets per gold label, then every error by label."""
    lines = [f"{'label':<11}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}"
             f"{'tp':>5}{'fp':>5}{'fn':>5}"]
    for label, s in report.stats.items():
        lines.append(f"{label:<11}{s.precision:>10.3f}{s.recall:>8.3f}{s.f1:>7.3f}"
                     f"{s.support:>9}{s.tp:>5}{s.fp:>5}{s.fn:>5}")
    lines.append(f"macro-F1 {report.macro_f1:.3f} over {report.rows} rows")
    lines += ["", "Predicted label sets, by gold label (a row with two gold labels counts "
              "under both)"]
    for label, counter in report.predicted_sets.items():
        total = sum(counter.values())
        parts = ", ".join(f"{k} {v}" for k, v in counter.most_common())
        lines.append(f"  {label:<11}{total:>4} rows → {parts or '-'}")
    for label in LABELS:
        for kind, attr in (("false positives", "false_positives"),
                           ("false negatives", "false_negatives")):
            errs = [e for e in report.errors if label in getattr(e, attr)]
            if not errs:
                continue
            lines += ["", f"{label}: {kind} ({len(errs)})"]
            for e in errs:
                lines.append(f"  {e.row.id}  gold: {_label_set(e.row.labels)}  predicted: "
                             f"{_label_set(e.predicted)}  score {e.scores.get(label, 0):g}")
                if e.row.title:
                    lines.append(f"    headline: {e.row.title}")
                lines.append(f"    {e.row.text}")
                lines.append(f"    fired: {_fired(e.evidence, label)}")
    if not report.errors:
        lines += ["", "No errors."]
    return "\n".join(lines)


def format_explanation(title: str, summary: str,
                       classification: Classification | Explanation) -> str:
    """What ``rules explain`` prints: labels, scores, every match with field and offsets.

    Pass the :class:`~feeds.classify.engine.Explanation` from ``Classifier.explain`` to also show
    the thresholds, the summary cap and the matches that exclusions vetoed; a plain
    :class:`Classification` has none of those."""
    explanation = None if isinstance(classification, Classification) else classification
    c = explanation.classification if explanation is not None else classification
    lines = [f"title:   {title!r}", f"summary: {summary!r}"]
    if explanation and explanation.summary_total > explanation.summary_chars:
        lines.append(f"  (only the first {explanation.summary_chars} of "
                     f"{explanation.summary_total} summary characters are classified)")
    lines.append(f"labels:  {', '.join(c.labels) or OTHER_LABEL}"
                 + (f"  (primary: {c.primary})" if c.primary else ""))
    lines.append("scores:")
    for label in LABELS:
        score = c.scores.get(label, 0.0)
        if explanation:
            threshold = explanation.thresholds[label]
            verdict = "applies" if label in c.labels else "below threshold"
            lines.append(f"  {label:<11}{score:>6g} / threshold {threshold:g}  {verdict}")
        else:
            lines.append(f"  {label:<11}{score:>6g}  {'applies' if label in c.labels else ''}")
    lines.append("matched:" if c.evidence else "matched: no term fired")
    members = explanation.members if explanation else ()
    for i, m in enumerate(c.evidence):
        lines.append(f"  {m.label:<11}{m.term!r} → {m.text!r} in {m.field} "
                     f"[{m.start}:{m.end}]  weight {m.weight:g}")
        for name, member, text in members[i] if i < len(members) else ():
            lines.append(f"  {'':<11}  @{name} = {member!r} on {text!r}")
    if explanation and explanation.vetoed:
        lines.append("vetoed by exclusions:")
        for v in explanation.vetoed:
            m = v.match
            lines.append(f"  {m.label:<11}{m.term!r} → {m.text!r} in {m.field} "
                         f"[{m.start}:{m.end}]  dropped by {v.exclusion!r} on {v.text!r} "
                         f"[{v.start}:{v.end}]")
    if explanation:
        lines.append(f"(a rule counts once: its weight, plus the title bonus "
                     f"{explanation.title_bonus:g} when it matched in the title, unless it "
                     "is a penalty)")
    return "\n".join(lines)

"""What each rule earns on a labelled TSV (``rules audit``): the rows it decides right and the
rows it decides wrong, so that a desk can find the rules that cost more than they earn.

``rules suggest`` adds rules; over months of pasting, some older rule may come to cost more
than it earns on what the desk reads. Per rule, per label:

1. The file is classified with the current rules, as ``rules eval`` does.
2. A term or near rule adds its best match to its label's score on each row where it fired
   (the evidence), so the score without it is the score less that match; the label's
   decision there is taken again at the threshold. Only rows where it fired can change.
3. An exclusion vetoes matches; the label's rules are scored again without it on the rows it
   may match (a small classifier of that label, compiled once per exclusion).
4. earned = rows whose label is right with the rule and wrong without it; costs = the
   reverse; net = earned - costs. The rules shown are measured once more the plain way: the
   full rules without the rule, every row through ``evaluate`` (:func:`verify`).

Nothing is learned and nothing is written: a person reads the rows and decides.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from feeds.classify.evaluate import Row
from feeds.classify.measure import (Baseline, baseline, effect, ids_text, label_classifier,
                                    plain_effect, rule_shares, swap_label)
from feeds.classify.rules import Pattern, RulesSpec
from feeds.classify.suggest import Candidate, toml_line
from feeds.model import LABELS


@dataclass(slots=True)
class RuleAudit:
    """One rule of the config, measured on the file."""

    label: str
    kind: str  # "terms", "near" or "exclude"
    pattern: str  # as written in the config
    weight: float | None  # None for exclusions
    fired: int  # rows where it matched (an exclusion: rows where it vetoed a match)
    earned: list[str]  # row ids this label gets right because of the rule
    costs: list[str]  # row ids this label gets wrong because of the rule
    f1: float  # the label's F1 with the rules as they are
    f1_without: float

    @property
    def net(self) -> int:
        return len(self.earned) - len(self.costs)

    def rank_key(self) -> tuple:
        return (self.net, -len(self.costs), self.label, self.kind, self.pattern)

    @property
    def section(self) -> str:
        return toml_line(Candidate(self.label, self.kind, self.pattern), self.weight)[0]

    @property
    def silence(self) -> str | None:
        """The TOML line that silences a term or near rule in a user's config (a user entry
        with the same pattern replaces the bundled one); None for an exclusion, which is
        removed from its array instead."""
        if self.kind == "exclude":
            return None
        return toml_line(Candidate(self.label, self.kind, self.pattern), 0)[1]

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "kind": self.kind, "pattern": self.pattern,
                "weight": self.weight, "fired": self.fired, "net": self.net,
                "earned": len(self.earned), "costs": len(self.costs),
                "f1": round(self.f1, 4), "f1_without": round(self.f1_without, 4),
                "section": self.section, "silence": self.silence,
                "earned_ids": self.earned, "cost_ids": self.costs}


@dataclass(slots=True)
class AuditReport:
    rows: int
    macro_f1: float
    rules: int  # rules and exclusions of the labels audited
    silent: int  # of those, how many never fired on the file
    costly: int  # of those that fired, how many cost more than they earn
    shown: list[RuleAudit]  # ranked, the costliest first

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "macro_f1": round(self.macro_f1, 4), "rules": self.rules,
                "silent": self.silent, "costly": self.costly,
                "shown": [a.to_json() for a in self.shown]}


def _without(spec: RulesSpec, label: str, kind: str, pattern: Pattern) -> RulesSpec:
    """``spec`` without one rule (``kind`` "terms" or "near") or one exclusion of ``label``:
    a label may hold the same words as a rule (a penalty) and as an exclusion."""
    lr = spec.label(label)
    if kind == "exclude":
        new = dataclasses.replace(lr, exclude=tuple(p for p in lr.exclude if p != pattern))
    else:
        new = dataclasses.replace(lr, rules=tuple(r for r in lr.rules if r.pattern != pattern))
    return dataclasses.replace(spec, labels=swap_label(spec, new))


def _rule_changes(base: Baseline, label: str) -> dict[str, list[tuple[int, bool]]]:
    """Per term or near rule of ``label`` (by source): (row, predicted without the rule) on
    each row where it fired. A rule counts once per row, at its best match, so its share of
    the score there is that match's weight."""
    threshold = base.spec.label(label).threshold - 1e-9  # the engine's float tolerance
    out: dict[str, list[tuple[int, bool]]] = {}
    for i, result in enumerate(base.results):
        score = result.scores.get(label, 0.0)
        for term, share in rule_shares(result.evidence, label).items():
            out.setdefault(term, []).append((i, round(score - share, 6) >= threshold))
    return out


def _exclusion_changes(base: Baseline, label: str, pattern: Pattern
                       ) -> list[tuple[int, bool]]:
    """(row, predicted without the exclusion) on each row where it vetoes a match: the rows
    it may match are scored by the label's rules and its other exclusions that may match
    them, in one small classifier (the label's rules that cannot match a row add nothing to
    it anyway), and a row whose score that changes is one where it vetoed something."""
    reached = base.rows_reached(pattern)
    if not reached:
        return []
    lr = base.spec.label(label)
    rules = tuple(r for r in lr.rules if base.rows_reached(r.pattern) & reached)
    excl = tuple(p for p in lr.exclude if p != pattern and base.rows_reached(p) & reached)
    tiny = label_classifier(base, label, rules, excl)
    out = []
    for i in sorted(reached):
        without = tiny.classify(*base.inputs[i])
        if abs(without.scores.get(label, 0.0) - base.results[i].scores.get(label, 0.0)) > 1e-9:
            out.append((i, label in without.labels))
    return out


def _audit(base: Baseline, label: str, kind: str, pattern: Pattern, weight: float | None,
           changed: list[tuple[int, bool]]) -> RuleAudit:
    # Removing the rule fixes the rows it costs and breaks the rows it earns.
    costs, earned, f1_without = effect(base, label, changed)
    return RuleAudit(label, kind, pattern.source, weight, len(changed), earned, costs,
                     base.report.stats[label].f1, f1_without)


def verify(base: Baseline, a: RuleAudit) -> RuleAudit:
    """The rule measured again the plain way, in place: the full rules without it, every row
    of the file through ``evaluate``. These are the figures shown."""
    lr = base.spec.label(a.label)
    found = lr.exclude if a.kind == "exclude" else (r.pattern for r in lr.rules)
    pattern = next(p for p in found if p.source == a.pattern)
    # Without the rule, the rows it costs are fixed and the rows it earns are broken.
    a.costs, a.earned, a.f1_without = plain_effect(
        base, _without(base.spec, a.label, a.kind, pattern), a.label, a.pattern)
    return a


def measure_all(base: Baseline, labels: Iterable[str] = LABELS
                ) -> tuple[int, list[RuleAudit]]:
    """How many rules and exclusions ``labels`` have, and each one that fired, measured on
    the rows it can change (steps 2 and 3), ranked: the costliest first."""
    audited: list[RuleAudit] = []
    total = 0
    for label in labels:
        lr = base.spec.label(label)
        fired = _rule_changes(base, label)
        for rule in lr.rules:
            changed = fired.get(rule.pattern.source)
            if changed:
                kind = "near" if rule.pattern.distance is not None else "terms"
                audited.append(_audit(base, label, kind, rule.pattern, rule.weight, changed))
        for pattern in lr.exclude:
            changed = _exclusion_changes(base, label, pattern)
            if changed:
                audited.append(_audit(base, label, "exclude", pattern, None, changed))
        total += len(lr.rules) + len(lr.exclude)
    return total, sorted(audited, key=RuleAudit.rank_key)


def audit(spec: RulesSpec, rows: Sequence[Row], labels: Iterable[str] = LABELS,
          top: int = 10, everything: bool = False) -> AuditReport:
    """Every rule and exclusion of ``labels`` measured on ``rows`` under ``spec``. Shown: the
    ``top`` costliest of those that cost more than they earn (net < 0), or with
    ``everything`` the ``top`` first of all that fired; rules that never fired are counted.
    The ranking and the count of costly rules come from the fast measure; each rule shown is
    measured again the plain way, and one that no longer costs is not shown as costly."""
    base = baseline(spec, rows)
    total, audited = measure_all(base, labels)
    costly = [a for a in audited if a.net < 0]
    pool = audited if everything else costly
    shown = sorted((a for a in (verify(base, a) for a in pool[:top])
                    if everything or a.net < 0), key=RuleAudit.rank_key)
    return AuditReport(len(rows), base.report.macro_f1, total, total - len(audited),
                       len(costly), shown)


# --- plain text ----------------------------------------------------------------------------

def format_audit(report: AuditReport) -> str:
    """What ``rules audit`` prints: a summary, then per rule shown what it earns and costs."""
    lines = [f"{report.rows} rows, macro-F1 {report.macro_f1:.3f}; {report.rules} rules and "
             f"exclusions, {report.rules - report.silent} fired on this file (an exclusion: "
             "vetoed a match), "
             f"{report.costly} cost more than they earn (net = rows a rule gets "
             "right - rows it gets wrong, on this file)"]
    if not report.shown:
        lines.append("No rule costs more than it earns on this file.")
    for n, a in enumerate(report.shown, 1):
        rows = f"{a.fired} row{'s' if a.fired != 1 else ''}"
        if a.weight is not None:
            what, where = f"weight {a.weight:g}", f"fired on {rows}"
            line = toml_line(Candidate(a.label, a.kind, a.pattern), a.weight)[1]
            how = ("    to silence it, set its weight to 0 (in the config, or in a user config "
                   "that extends the bundled one)")
        else:
            what, where = "exclusion", f"vetoed a match on {rows}"
            line = json.dumps(a.pattern, ensure_ascii=False)
            how = ("    to drop it, take it out of the exclude array of the config that holds "
                   "it (a user config that extends the bundled one adds exclusions, it cannot "
                   "drop one)")
        lines += ["", f"{n:>2}. {a.label} {a.kind} ({what}): net {a.net:+d} (earns "
                  f"{len(a.earned)}, costs {len(a.costs)}; {where})  "
                  f"F1 {a.f1:.3f} → {a.f1_without:.3f} without it",
                  f"    {a.section}", f"    {line}", how]
        lines.append(f"    costs: {ids_text(a.costs)}")
        if a.earned:
            lines.append(f"    earns: {ids_text(a.earned)}")
    return "\n".join(lines)

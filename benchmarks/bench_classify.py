"""Classifier throughput: items (headline + summary) per second on one core.

Run from the repo root: ``python benchmarks/bench_classify.py [--items N] [--stages]``.
``--stages`` also prints, for the dev wire items, the microseconds per item of each step
of the engine's pure-Python path (it reaches into the engine's private steps, so it follows
their names).

The engine classifies with its C scan where that module was built at install
(``feeds/classify/_scan.c``); the dev wire items are also timed on the pure-Python path,
which machines without a C compiler run.

Items are built from the CAMEO eval sentences when ../shared/eval is present, else from a
small built-in set: a headline cut from one sentence (at most 80 characters) and a summary
of one sentence (a typical RSS description), of two, or of twelve (longer than the 1,000
characters the classifier looks at). Rules: the bundled defaults, and the defaults with ten
times as many terms (extra words and two-word phrases taken from the same sentences, so they
match often: a pessimistic case). A pure-Python reference loop is timed too, to compare
machines.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeds.classify import fast  # noqa: E402
from feeds.classify.engine import Classifier  # noqa: E402
from feeds.classify.rules import load_rules  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval" / "cameo-manual-examples.tsv"
WIRES = ROOT / "tests" / "data" / "wires" / "dev.tsv"  # real headline + lede items

BUILT_IN = [
    "EU foreign ministers agreed on Monday to extend economic sanctions against Russia for "
    "another six months, diplomats said.",
    "Ukrainian and Russian negotiators met in Istanbul for a second round of direct talks, "
    "the first since the spring.",
    "The Kremlin said on Tuesday no date had been set for a meeting between the two "
    "presidents.",
    "Russian drones struck energy facilities in the Odesa region overnight, regional "
    "authorities said.",
    "The UN Secretary-General condemned the strike and urged all parties to exercise "
    "restraint.",
    "Qatari and Egyptian mediators presented a revised proposal for a ceasefire in Gaza.",
    "Washington imposed visa bans on officials it accused of undermining democracy.",
    "Oil prices rose on Wednesday as traders weighed the risk of supply disruptions.",
    "Polls opened on Sunday in a parliamentary election seen as a test for the government.",
    "The foreign minister warned that any attack on shipping would meet a firm response.",
]


def sentences() -> list[str]:
    if EVAL.is_file():
        lines = EVAL.read_text(encoding="utf-8").splitlines()[1:]
        return [line.split("\t")[1] for line in lines if line.count("\t") >= 2]
    return BUILT_IN


def wire_items(n: int) -> list[tuple[str, str]]:
    """Real feed items (headline, lede) from the dev wires, repeated up to ``n``."""
    if not WIRES.is_file():
        return []
    lines = WIRES.read_text(encoding="utf-8").splitlines()[1:]
    pairs = [(c[1], c[2]) for c in (line.split("\t") for line in lines) if len(c) > 2]
    return (pairs * (n // len(pairs) + 1))[:n]


def headline(sentence: str, limit: int = 80) -> str:
    if len(sentence) <= limit:
        return sentence.rstrip(".")
    return sentence[:limit].rsplit(" ", 1)[0]


def make_items(n: int, summary_sentences: int, rng: random.Random) -> list[tuple[str, str]]:
    pool = sentences()
    return [(headline(rng.choice(pool)), " ".join(rng.choices(pool, k=summary_sentences)))
            for _ in range(n)]


def ten_times_terms(table: dict, rng: random.Random) -> dict:
    """The default rules plus nine extra terms per existing term rule."""
    words = sorted({w.strip(".,;:()“”\"'").lower() for s in sentences() for w in s.split()})
    words = [w for w in words if len(w) > 3 and w.isalpha()]
    rules = {label: dict(body) for label, body in table["rules"].items()}
    n_terms = sum(len(b.get("terms", {})) + len(b.get("near", {})) for b in rules.values())
    extra = n_terms * 9
    for i, label in enumerate(rules):
        terms = dict(rules[label]["terms"])
        for j in range(extra // len(rules)):
            a, b = rng.choice(words), rng.choice(words)
            key = f"{a} {b}" if j % 2 else (f"{a}*" if j % 3 == 0 else a)
            terms.setdefault(key, 0.1)
        rules[label]["terms"] = terms
    return {"classify": table["classify"], "rules": rules, "classes": table.get("classes", {}),
            "actors": table.get("actors", {})}


def count_terms(table: dict) -> int:
    return sum(len(b.get("terms", {})) + len(b.get("near", {})) + len(b.get("exclude", []))
               for b in table["rules"].values())


def throughput(classifier: Classifier, items: list[tuple[str, str]], repeats: int = 3) -> float:
    classify = classifier.classify
    for title, summary in items[:2000]:  # warm the phrase cache, as a long-running poller is
        classify(title, summary)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for title, summary in items:
            classify(title, summary)
        best = min(best, time.perf_counter() - start)
    return len(items) / best


def stages(classifier: Classifier, items: list[tuple[str, str]], rounds: int = 5
           ) -> dict[str, float]:
    """Microseconds per item of each step of ``Classifier._run`` (median of ``rounds``):
    the scan copy, the regex scan alone, the Python per match, near pairing, exclusions,
    and dropping repeats and vetoes plus scoring and evidence."""
    from feeds.classify import engine
    from feeds.classify.scancopy import scan_text

    classifier = Classifier(classifier.spec, fast=False)
    classifier.prepare()
    for title, summary in items:
        classifier.classify(title, summary)
    c = classifier._c
    items = [(t[:engine.TITLE_LIMIT], s[:engine.SUMMARY_LIMIT]) for t, s in items]
    clock = time.perf_counter_ns
    names = ("scan copy", "regex scan", "per match", "near", "exclusions", "scoring")
    runs: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        spent = dict.fromkeys(names, 0)
        for title, summary in items:
            t0 = clock()
            copy = scan_text(title, summary)
            bound = len(title) + 2
            written = " " + title + "\x00 " + summary if c.cased else None
            t1 = clock()
            for quotes, regex in c.scanners:
                if not quotes or any(q in copy for q in quotes):
                    list(regex.finditer(copy, 0, bound))
                    list(regex.finditer(copy, bound))
            t2 = clock()
            hits: list = []
            near: list = []
            excl: list = []
            masks = [0, 0]
            for quotes, regex in c.scanners:
                if not quotes or any(q in copy for q in quotes):
                    classifier._scan(regex, copy, bound, hits, near, excl, masks, written)
            t3 = clock()
            texts = (title, summary)
            both = tuple(m & m >> c.shift & allowed for m, allowed in zip(masks, c.field_mask))
            if near and (both[0] or both[1]):
                classifier._near(texts, near, hits, both)
            t4 = clock()
            spans = classifier._exclusions(texts, excl, both) if excl and hits else None
            t5 = clock()
            if hits:
                classifier._result(hits, spans, None, texts)
            t6 = clock()
            for name, a, b in zip(names, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6)):
                spent[name] += b - a
        spent["per match"] -= spent["regex scan"]  # _scan runs the regex too
        for name in names:
            runs[name].append(spent[name] / len(items) / 1000)
    return {name: statistics.median(v) for name, v in runs.items()}


def reference_loop() -> float:
    """Seconds for a 10-million-step pure-Python loop: how fast this machine runs Python."""
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--stages", action="store_true",
                        help="also print the microseconds per item of each engine step")
    args = parser.parse_args()
    rng = random.Random(7)
    table = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    default = Classifier.from_spec(load_rules(table))
    big_table = ten_times_terms(table, rng)
    t0 = time.perf_counter()
    big = Classifier.from_spec(load_rules(big_table))
    big_compile = time.perf_counter() - t0

    source = "CAMEO eval sentences" if EVAL.is_file() else "built-in sentences"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"items from {source}; reference loop: {reference_loop():.2f} s; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs; C scan "
          + ("built" if fast.available() else "NOT built: every figure is the Python path"))
    runs = [
        ("default rules", default, count_terms(table), 1, args.items),
        ("default rules", default, count_terms(table), 2, args.items),
        ("default rules", default, count_terms(table), 12, args.items // 4),
        (f"10x terms (compiled in {big_compile:.2f} s)", big, count_terms(big_table), 1,
         args.items),
        ("10x terms", big, count_terms(big_table), 2, args.items),
    ]
    wires = wire_items(args.items)
    if wires:
        chars = sum(len(t) + min(len(s), 1000) for t, s in wires) / len(wires)
        paths = [("default rules, dev wire items", default)]
        if fast.available():
            paths.append(("  the same, pure-Python path", Classifier(default.spec, fast=False)))
        for name, classifier in paths:
            print(f"{name:<34} {count_terms(table):>5} rules+exclusions, headline + lede, "
                  f"{chars:>4.0f} chars classified: {throughput(classifier, wires):>8,.0f} items/s")
        if args.stages:
            steps = stages(default, wires[:2000])
            print("  per item, by step: " + ", ".join(f"{name} {us:.1f} µs"
                                                    for name, us in steps.items())
                  + f" (sum {sum(steps.values()):.1f} µs)")
    for name, classifier, n_rules, sentences, n in runs:
        items = make_items(n, sentences, rng)
        chars = sum(len(t) + min(len(s), 1000) for t, s in items) / len(items)
        print(f"{name:<34} {n_rules:>5} rules+exclusions, {sentences:>2}-sentence summaries, "
              f"{chars:>4.0f} chars classified: {throughput(classifier, items):>8,.0f} items/s")


if __name__ == "__main__":
    main()

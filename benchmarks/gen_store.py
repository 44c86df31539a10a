"""Generate a realistic diplowatch store quickly, for benchmarks.

``generate_store(path, n_items, n_feeds, weeks, seed)`` writes the weekly partition files
directly (orjson, one write per week), then opens the store once so it builds its manifest
and id indexes the way it would after an upgrade or a restore, then the ended weeks' word
indexes. Items look like the real thing: ~300 characters of title + summary, labels, scores
and evidence spans.

    python benchmarks/gen_store.py /tmp/store-1m 1000000 --weeks 52
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feeds.model import Item  # noqa: E402
from storage import Store  # noqa: E402

ACTORS = ["Russia", "Ukraine", "the United States", "China", "the European Union", "Iran",
          "Israel", "Qatar", "Egypt", "Turkey", "India", "Pakistan", "Sudan", "Ethiopia",
          "Armenia", "Azerbaijan", "Serbia", "Kosovo", "North Korea", "South Korea", "the UN",
          "NATO", "the African Union", "Venezuela", "Colombia", "Saudi Arabia", "Yemen"]
PLACES = ["Geneva", "Doha", "Istanbul", "Cairo", "Vienna", "Oslo", "Riyadh", "Brussels",
          "New York", "Addis Ababa", "Beijing", "Jeddah", "Minsk", "Muscat", "Baku"]
TOPICS = {
    "talks": (["resume ceasefire talks", "open negotiations", "hold peace talks",
               "agree to mediation", "meet for a new round of talks", "sign a framework accord"],
              ["negotiat*", "talks", "mediat*", "ceasefire", "peace accord"]),
    "sanctions": (["impose new sanctions on", "extend an arms embargo against",
                   "freeze assets of", "lift export controls on", "blacklist banks in"],
                  ["sanction*", "embargo", "asset freeze", "export control*", "blacklist*"]),
    "statements": (["condemn the strikes by", "issue a joint statement on", "warn",
                    "call for restraint from", "summon the ambassador of"],
                   ["condemn*", "statement", "warn*", "call* for", "summon*"]),
    None: (["report flooding near", "hold elections after", "open a trade fair with",
            "announce a budget with", "host a football friendly with"], []),
}
LABEL_WEIGHTS = [("talks", 30), ("sanctions", 20), ("statements", 30), (None, 20)]
SENTENCES = [
    "Officials said the delegations would meet again next week after what one envoy called "
    "a constructive first session.",
    "The foreign ministry did not comment on the reports, which were first carried by state "
    "media late on Tuesday.",
    "Diplomats cautioned that a lasting agreement remained distant and that key issues, "
    "including borders and prisoners, were unresolved.",
    "Analysts said the move was aimed at increasing pressure before the summit while keeping "
    "channels open.",
    "A spokesperson described the measures as targeted and reversible if commitments are "
    "honoured in full.",
    "Humanitarian agencies urged all sides to allow aid convoys through the corridor.",
]
MULT = 0x9E3779B97F4A7C15  # odd: i -> i * MULT mod 2**64 is a bijection, so ids never collide


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _week_start(ts: float) -> float:
    d = datetime.fromtimestamp(ts, timezone.utc)
    monday = (d - timedelta(days=d.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday.timestamp()


def make_docs(rnd: random.Random, start_index: int, n: int, lo: float, hi: float,
              feeds: list[tuple[str, str]], seed: int) -> Iterator[dict[str, Any]]:
    """``n`` item documents (``Item.to_dict`` shape) first seen in [lo, hi)."""
    labels_pop = [lbl for lbl, _ in LABEL_WEIGHTS]
    weights = [w for _, w in LABEL_WEIGHTS]
    for i in range(start_index, start_index + n):
        label = rnd.choices(labels_pop, weights)[0]
        verbs, terms = TOPICS[label]
        a, b = rnd.sample(ACTORS, 2)
        place = rnd.choice(PLACES)
        verb = rnd.choice(verbs)
        title = f"{a} and {b} {verb} {rnd.choice(ACTORS)} in {place}"[:120]
        summary = " ".join(rnd.sample(SENTENCES, 2))[:250]
        feed_url, feed_name = feeds[i % len(feeds)]
        first = rnd.uniform(lo, hi)
        published = first - rnd.random() * 172800.0
        evidence = []
        scores = {"talks": 0.0, "sanctions": 0.0, "statements": 0.0}
        if label is not None:
            for term in rnd.sample(terms, 2):
                word = term.rstrip("*").split()[0]
                pos = title.lower().find(word.lower())
                field, text = ("title", title) if pos >= 0 else ("summary", summary)
                pos = max(pos, 0)
                evidence.append({"label": label, "term": term, "text": text[pos:pos + len(word)],
                                 "field": field, "start": pos, "end": pos + len(word),
                                 "weight": 1.0})
            scores[label] = 2.0
        item_id = f"{((i + 1 + seed * 1_000_003) * MULT) & 0xFFFFFFFFFFFFFFFF:016x}"
        yield {"id": item_id, "feed": feed_url, "source": feed_name,
               "guid": f"{feed_url}#{i}", "title": title, "summary": summary,
               "link": f"https://news.example.org/{i}", "published": _iso(published),
               "first_seen": _iso(first), "date_missing": False,
               "labels": [label] if label else [], "primary": label, "scores": scores,
               "evidence": evidence, "actors": [a, b] if rnd.random() < 0.3 else [],
               "cluster": None}


def feeds_for(n_feeds: int) -> list[tuple[str, str]]:
    return [(f"https://feeds.example.org/{i}/rss.xml", f"Example Wire {i}") for i in range(n_feeds)]


def make_items(n: int, now: float, *, seed: int = 1, n_feeds: int = 40,
               start_index: int = 10**9) -> list[Item]:
    """Fresh items as a poll would bring them (first seen now)."""
    rnd = random.Random(seed)
    return [Item.from_dict(d) for d in make_docs(rnd, start_index, n, now - 1, now,
                                                 feeds_for(n_feeds), seed)]


def generate_store(path: Path | str, n_items: int, n_feeds: int = 40, weeks: int = 52,
                   seed: int = 0, *, now: float | None = None, verbose: bool = False) -> Path:
    """Write a store of ``n_items`` spread evenly over the last ``weeks`` ISO weeks (the
    current week included, so its partition holds n_items/weeks whatever the weekday)."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if any(path.iterdir()):
        raise SystemExit(f"{path} is not empty")
    now = time.time() if now is None else now
    rnd = random.Random(seed)
    feeds = feeds_for(n_feeds)
    this_week = _week_start(now)
    t0 = time.perf_counter()
    done = 0
    for w in range(weeks):
        start = this_week - (weeks - 1 - w) * 7 * 86400.0
        end = min(start + 7 * 86400.0, now)
        n = n_items // weeks + (1 if w < n_items % weeks else 0)
        docs = {str(int(d["id"], 16)): d
                for d in make_docs(rnd, done, n, start, end, feeds, seed)}
        key = time.strftime("%G-W%V", time.gmtime(start + 3600))
        (path / f"items-{key}.json").write_bytes(orjson.dumps({"items": docs}))
        done += n
        if verbose:
            print(f"  wrote items-{key}.json ({n} items)", file=sys.stderr)
    written = time.perf_counter() - t0
    # One open as writer builds the manifest and id indexes; close saves them.
    t1 = time.perf_counter()
    Store.open(path, clock=lambda: now).close()
    # The word indexes the writer builds as each week ends (storage.wordindex).
    from storage.partition import week_key_at
    from storage.wordindex import build_missing, ended_partitions

    build_missing(ended_partitions(path, week_key_at(now)))
    if verbose:
        print(f"generated {n_items} items in {written:.1f}s, indexed in "
              f"{time.perf_counter() - t1:.1f}s", file=sys.stderr)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path")
    ap.add_argument("n_items", type=int)
    ap.add_argument("--feeds", type=int, default=40)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    generate_store(a.path, a.n_items, a.feeds, a.weeks, a.seed, verbose=True)


if __name__ == "__main__":
    main()

"""Story clustering: cost per new item with 10k and 100k items in the index, index rebuild
time and memory, and the merge precision/recall on the labelled fixture. Prints, asserts
nothing.

    python benchmarks/bench_clusters.py                  # 10k and 100k
    python benchmarks/bench_clusters.py --sizes 10000 --new 500

Target: <= 1 ms per new item at 100k stored items. The index is the worst case
for a given store size: *every* stored item published inside the clustering horizon (a
store of 100k items usually holds far fewer in its last 7 days), so that no item is skipped
by age. Headlines are synthetic but shaped like wire headlines: actors and gazetteer
aliases, Zipf-distributed places, people and topics (a few very common, a long tail),
and stories told in up to four wordings by different feeds, as the poller sees them.
Each new item is timed through what the poller runs per item: ``assign`` (normalise,
candidates, scoring) then ``add`` (index it). "max" includes the first full garbage
collection after the rebuild (paid once, by whichever code runs then).

Columns: rebuild = index built from the stored items (what a poller does at start-up);
memory = the index (tracemalloc); joined = new items that joined a cluster; join P/R =
of those, the share joining their own story, and the share of new items whose story was
already indexed that found it. The synthetic stream is adversarial on purpose (templated
headlines; a few venues, people and topics recur all week), so join P/R measure how far
"same venue, same topic, within 48 h" gets merged, not the quality on real headlines: the
labelled fixture of real-looking headlines (tests/features/cluster_headlines.tsv) does that.
"""
from __future__ import annotations

import argparse
import gc
import itertools
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeds.analysis.clusters import Clusterer, Normaliser, similar  # noqa: E402
from feeds.config.load import bundled_config_path, load_config  # noqa: E402
from feeds.model import Item, utc_iso  # noqa: E402

FIXTURE = ROOT / "tests" / "features" / "cluster_headlines.tsv"
NOW = 1_778_760_000.0
HORIZON = 7 * 86400.0

ACTORS = ["Russia", "Ukraine", "Moscow", "Kyiv", "Kremlin", "EU", "Brussels", "US", "Washington",
          "White House", "UN", "NATO", "China", "Beijing", "Turkey", "Ankara", "Iran", "Israel",
          "Qatar", "Egypt", "India", "Britain", "France", "Germany", "Poland", "Hungary", "Belarus",
          "Hamas", "Saudi Arabia", "Tehran"]
TOPICS = ["grain exports", "energy security", "prisoner exchange", "nuclear plant", "gas transit",
          "frozen assets", "air defence", "arms deliveries", "humanitarian corridor", "oil price cap",
          "shadow fleet", "peace plan", "security guarantees", "border crossing", "drone strikes",
          "cyber attacks", "refugee returns", "reconstruction fund", "troop withdrawal",
          "ceasefire monitoring", "election observers", "visa regime", "trade deal", "debt relief",
          "water rights", "port access", "missile tests", "naval drills", "aid convoys",
          "power grid", "hostage release", "embassy staff", "export controls", "tariff truce"]
VERBS = {
    "talks": ["{A} and {B} hold talks in {P} on {T}", "{A}, {B} negotiators meet in {P} to discuss {T}",
              "{P} hosts {A}-{B} talks on {T}", "{A} and {B} open {P} round on {T}"],
    "sanctions": ["{A} imposes sanctions on {B} over {T}, targets {Q}",
                  "{A} targets {Q} with new sanctions over {B} {T}",
                  "New {A} sanctions hit {Q} over {B} {T}", "{A} blacklists {Q} over {T} links to {B}"],
    "visit": ["{Q} visits {P} for talks on {T}", "{Q} arrives in {P} to discuss {T}",
              "{Q} in {P}: {T} on the agenda", "{Q} travels to {P} amid {T} dispute"],
    "strike": ["{N} killed in {A} strike on {P}", "{A} strike on {P} kills {N}",
               "{P} hit by {A} strike, {N} dead", "{N} dead after {A} attack on {P}"],
    "warning": ["{Q} warns {B} over {T} near {P}", "{A}'s {Q} says {B} must stop {T} in {P}",
                "{Q} issues warning to {B} on {T} in {P}", "{B} told by {Q} to halt {T} near {P}"],
    "deal": ["{A} and {B} sign {T} deal in {P}", "{A}, {B} agree on {T} in {P}",
             "{P} deal on {T} signed by {A} and {B}", "{A} and {B} seal {T} agreement in {P}"],
}


def _pseudo_words(rng: random.Random, n: int, capital: bool) -> list[str]:
    syl = ["ka", "lo", "mir", "sta", "vo", "dan", "ri", "gor", "el", "tu", "za", "pol", "ni",
           "ber", "sha", "ko", "lev", "an", "ta", "do", "rus", "vin", "ha", "mo", "sk", "ov",
           "bu", "che", "fi", "jo", "qu", "we", "xi", "ye", "pe", "li", "gra", "tro", "hel"]
    out: set[str] = set()
    while len(out) < n:
        w = "".join(rng.choice(syl) for _ in range(rng.randint(2, 4)))
        out.add(w.capitalize() if capital else w)
    words = sorted(out)
    rng.shuffle(words)  # the Zipf rank must not follow the alphabet
    return words


def zipf(rng: random.Random, items: list[str], s: float = 1.1):
    weights = [1 / (k + 1) ** s for k in range(len(items))]
    cum = list(itertools.accumulate(weights))

    def pick() -> str:
        return rng.choices(items, cum_weights=cum, k=1)[0]
    return pick


def make_items(n: int, rng: random.Random, start: float, end: float) -> list[Item]:
    """``n`` items published between ``start`` and ``end``, oldest first: stories (1-4
    versions from different feeds, published within a few hours) one after another."""
    places = zipf(rng, _pseudo_words(rng, 3000, True))
    people = zipf(rng, _pseudo_words(rng, 2000, True))
    actors = zipf(rng, ACTORS, 0.8)
    topics = zipf(rng, TOPICS, 0.7)
    feeds = [f"https://feed{k}.example/rss" for k in range(200)]
    out: list[Item] = []
    story = 0
    step = (end - start) / n
    while len(out) < n:
        kind = rng.choice(list(VERBS))
        a, b = rng.sample(ACTORS, 2) if rng.random() < 0.3 else (actors(), actors())
        if a == b:
            continue
        slots = {"A": a, "B": b, "P": places(), "T": topics(), "Q": people(),
                 "N": str(rng.randint(2, 60))}
        told = rng.sample(VERBS[kind], rng.choices([1, 2, 3, 4], [50, 25, 15, 10])[0])
        story += 1
        base = start + len(out) * step
        for feed, wording in zip(rng.sample(feeds, len(told)), told):
            ts = min(end, base + rng.uniform(0, 6 * 3600))
            out.append(Item(id=f"{rng.getrandbits(64):016x}", feed=feed, source="bench",
                            guid=f"story-{story}", title=wording.format(**slots), summary="", link="",
                            published=utc_iso(ts), first_seen=utc_iso(ts)))
    out = out[:n]
    out.sort(key=lambda it: it.published)
    return out


def bench(size: int, n_new: int, config, seed: int = 7) -> dict:
    """Index ``size`` items, then time ``n_new`` more arriving, the newest of one stream (so
    some are other feeds' versions of stories already indexed)."""
    rng = random.Random(seed)
    span = HORIZON - 2 * 3600
    everything = make_items(size + n_new, rng, NOW - span, NOW)
    stored, new = everything[:size], everything[size:]
    clusterer = Clusterer(config.clusters, config.actors)
    gc.collect()
    t0 = time.perf_counter()
    clusterer.rebuild(stored, NOW)
    rebuild = time.perf_counter() - t0
    times = []
    story_of = {it.id: it.guid for it in everything}  # the generator's truth
    joined = right = could = 0
    for item in new:
        t = time.perf_counter()
        [item] = clusterer.assign([item], NOW)
        clusterer.add([item], NOW)
        times.append(time.perf_counter() - t)
        if item.cluster != item.id:
            joined += 1
            right += story_of.get(item.cluster) == item.guid
    seen: set[str] = {it.guid for it in stored}
    for item in new:  # new items whose story was already told: they should join
        could += item.guid in seen
        seen.add(item.guid)
    norm = Normaliser(config.actors)
    t = time.perf_counter()
    for item in new:
        norm.signature(item.title)
    sig_cost = (time.perf_counter() - t) / len(new)
    times.sort()
    longest = max(len(p) for p in clusterer._postings.values())
    words = len(clusterer._postings)
    del clusterer
    gc.collect()
    tracemalloc.start()  # a second build, traced: tracing slows it down several times
    traced = Clusterer(config.clusters, config.actors)
    traced.rebuild(stored, NOW)
    memory = tracemalloc.get_traced_memory()[0] / 2**20
    del traced
    tracemalloc.stop()
    return {"size": size, "rebuild_s": rebuild, "index_mb": memory,
            "mean_ms": statistics.fmean(times) * 1e3, "p50_ms": times[len(times) // 2] * 1e3,
            "p95_ms": times[int(len(times) * 0.95)] * 1e3, "p99_ms": times[int(len(times) * 0.99)] * 1e3,
            "max_ms": times[-1] * 1e3, "normalise_ms": sig_cost * 1e3, "joined": joined / len(new),
            "join_precision": right / max(1, joined), "join_recall": right / max(1, could),
            "words": words, "longest_posting": longest}


def fixture_scores(config) -> tuple[tuple[float, float, int, int], tuple[float, float]]:
    rows = []
    for n, line in enumerate(FIXTURE.read_text(encoding="utf-8").splitlines()):
        if line and not line.startswith("#"):
            story, feed, hours, title = line.split("\t")
            ts = NOW + float(hours) * 3600
            rows.append((story, Item(f"{n:016x}", feed, feed, "", title, "", "", utc_iso(ts), utc_iso(ts))))
    norm = Normaliser(config.actors)

    def pr(pairs):
        tp = sum(p and s for p, s in pairs)
        fp = sum(p and not s for p, s in pairs)
        fn = sum(s and not p for p, s in pairs)
        return tp / max(1, tp + fp), tp / max(1, tp + fn)

    pairs = [(similar(norm.signature(a.title), norm.signature(b.title), config.clusters)[0], sa == sb)
             for (sa, a), (sb, b) in itertools.combinations(rows, 2) if a.feed != b.feed]
    clusterer = Clusterer(config.clusters, config.actors)
    got = {}
    for story, item in sorted(rows, key=lambda r: r[1].published):
        [item] = clusterer.assign([item], NOW + 2 * 86400)
        clusterer.add([item], NOW + 2 * 86400)
        got[item.id] = (story, item.cluster)
    inc = pr([(a[1] == b[1], a[0] == b[0]) for a, b in itertools.combinations(got.values(), 2)])
    stories = len({s for s, _ in rows})
    return (*pr(pairs), len(rows), stories), inc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--new", type=int, default=2000, help="new items timed per size")
    args = parser.parse_args()
    config = load_config(bundled_config_path())
    s = config.clusters
    print(f"settings: window {s.window / 3600:g} h, horizon {s.horizon / 86400:g} d, "
          f"threshold {s.threshold:g}, min_shared {s.min_shared}; {len(config.actors.actors)} actors")
    (p, r, n, stories), (ip, ir) = fixture_scores(config)
    print(f"fixture ({n} headlines, {stories} stories): pairwise merge decisions "
          f"precision {p:.3f} recall {r:.3f}; incremental clusters precision {ip:.3f} recall {ir:.3f}")
    print(f"{'index':>8} {'rebuild':>8} {'memory':>8} {'mean':>8} {'p50':>8} {'p95':>8} {'p99':>8} "
          f"{'max':>8} {'normalise':>9} {'joined':>7} {'join P':>7} {'join R':>7} {'words':>7} "
          f"{'longest':>7}")
    for size in (int(x) for x in args.sizes.split(",")):
        b = bench(size, args.new, config)
        print(f"{b['size']:>8,} {b['rebuild_s']:>7.2f}s {b['index_mb']:>6.0f}MB {b['mean_ms']:>6.3f}ms "
              f"{b['p50_ms']:>6.3f}ms {b['p95_ms']:>6.3f}ms {b['p99_ms']:>6.3f}ms {b['max_ms']:>6.2f}ms "
              f"{b['normalise_ms']:>7.3f}ms {b['joined']:>6.0%} {b['join_precision']:>7.2f} "
              f"{b['join_recall']:>7.2f} {b['words']:>7,} {b['longest_posting']:>7,}")


if __name__ == "__main__":
    main()

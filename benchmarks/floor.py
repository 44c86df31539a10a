"""The floor: what the bare minimum of a poll costs on the same farm, so that every other
figure (bench_poll, compare_newsboat) reads as a distance to the limit.

On ../shared/bench/feedfarm.py (200 feeds x 50 items over 50 loopback hosts by default):
  - an interpreter that imports nothing, and one that imports what `poll --once` needs;
  - 200 conditional GETs (all answered 304) with the transport alone (feeds.net's
    llhttp pools: each request's bytes joined by hand, 8 at a time, one per host),
    then the same through the Fetcher (redirects, caps, address policy, deadlines);
  - after `/_tick?churn=0.1`: fetching the changed feeds' bodies, then parsing and
    classifying them alone, in this process (no workers, no store).
Wall time and this process's CPU time, medians over --rounds.

    python benchmarks/floor.py [--rounds 5] [--feeds 200] [--items 50] [--hosts 50]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.farm import Farm, add_farm_args, farm_available  # noqa: E402

CONCURRENCY = 8  # as [polling] concurrency


def timed(fn) -> tuple[float, float, object]:
    """(wall s, CPU s of this process, result)"""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def interpreter_floor(rounds: int) -> dict[str, list[float]]:
    cases = {"python -c pass": "pass",
             "python -c 'import the one-shot poll path'":
                 "import tui.cli.main, feeds.poll.poller, storage.store, feeds.net.fetch"}
    out: dict[str, list[float]] = {}
    for name, code in cases.items():
        runs = []
        for _ in range(rounds):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True,
                           cwd=Path(__file__).resolve().parent.parent)
            runs.append(time.perf_counter() - t)
        out[name] = runs
    return out


async def _gather(urls: list[str], one) -> list:
    slots = asyncio.Semaphore(CONCURRENCY)

    async def guarded(url: str):
        async with slots:
            return await one(url)

    return await asyncio.gather(*(guarded(u) for u in urls))


def validators(urls: list[str]) -> dict[str, dict[str, str]]:
    """Each feed's ETag / Last-Modified, from one unconditional fetch."""
    from feeds.config.load import PollingSettings
    from feeds.net.fetch import Fetcher

    async def main() -> dict[str, dict[str, str]]:
        async with Fetcher(PollingSettings()) as f:
            results = await _gather(urls, lambda u: f.fetch(u, allow_internal=True))
        return {r.url: {k: v for k, v in (("If-None-Match", r.etag),
                                          ("If-Modified-Since", r.last_modified)) if v}
                for r in results}

    return asyncio.run(main())


def transport_alone(urls: list[str], heads: dict[str, dict[str, str]]) -> list[int]:
    """Each request's bytes joined by hand, sent on the origin's llhttp pool
    (H1Transport.send, the Fetcher's own path): no redirects, caps, policy nor deadline."""
    from urllib.parse import urlsplit

    from feeds.net.fetch import PerHostTransport

    async def main() -> list[int]:
        transport = PerHostTransport()

        async def one(url: str) -> int:
            u = urlsplit(url)
            head = (f"GET {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\nAccept-Encoding: gzip\r\n"
                    + "".join(f"{k}: {v}\r\n" for k, v in heads[url].items()) + "\r\n").encode()
            pool = transport.pool((u.scheme.encode(), u.hostname.encode(), u.port), url)
            response = await pool.send(head, {}, None)
            async for _ in response.aiter_raw():
                pass
            await response.aclose()
            return response.status_code

        try:
            return await _gather(urls, one)
        finally:
            await transport.aclose()

    return asyncio.run(main())


def through_fetcher(urls: list[str], heads: dict[str, dict[str, str]]) -> list:
    from feeds.config.load import PollingSettings
    from feeds.net.fetch import Fetcher

    async def main() -> list:
        async with Fetcher(PollingSettings()) as f:
            return await _gather(urls, lambda u: f.fetch(
                u, etag=heads[u].get("If-None-Match"),
                last_modified=heads[u].get("If-Modified-Since"), allow_internal=True))

    return asyncio.run(main())


def parse(bodies: list[tuple[str, bytes, str | None]], rules=None) -> int:
    """Items parsed (and classified, given ``rules``) from ``bodies``, in this process."""
    from feeds.classify.engine import Classifier
    from feeds.parse.document import parse_document

    classifier = Classifier.from_spec(rules) if rules is not None else None
    now = time.time()
    return sum(len(parse_document(body, feed_key=url, feed_name="farm", url=url,
                                  content_type=ctype, now=now, classifier=classifier).items)
               for url, body, ctype in bodies)


def _line(name: str, walls: list[float], cpus: list[float] | None = None, extra: str = "") -> None:
    cpu = f"   CPU {statistics.median(cpus) * 1000:7.1f} ms" if cpus else ""
    print(f"  {name:<52} {statistics.median(walls) * 1000:8.1f} ms wall{cpu}"
          f"  ({min(walls) * 1000:.0f}-{max(walls) * 1000:.0f}){extra}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    add_farm_args(ap)
    args = ap.parse_args()
    if not farm_available():
        print("floor: ../shared/bench/feedfarm.py is not here; nothing to measure")
        return
    from feeds.config.load import load_config

    print(f"floor: {args.feeds} feeds x {args.items} items over {args.hosts} hosts, "
          f"medians of {args.rounds}")
    print("interpreter start-up (a process, as `poll --once` is)")
    for name, runs in interpreter_floor(args.rounds).items():
        _line(name, runs)
    with Farm(args.feeds, args.items, args.hosts) as farm:
        farm.warm()
        urls = [u for u in farm.urls_file.read_text().split() if "/feed/" in u]
        heads = validators(urls)
        print(f"{len(urls)} conditional GETs, all 304 (the all-304 poll's network part)")
        for name, fn in (("transport alone (hand-built requests)", transport_alone),
                         ("through the Fetcher", through_fetcher)):
            walls, cpus = [], []
            for _ in range(args.rounds):
                wall, cpu, out = timed(lambda: fn(urls, heads))
                walls.append(wall)
                cpus.append(cpu)
            codes = [getattr(r, "http_status", r) for r in out]
            _line(name, walls, cpus, f"  {codes.count(304)}x304")
            print(f"  {'':<52} {statistics.median(cpus) / len(urls) * 1e6:8.0f} µs CPU per request")
        farm.tick(0.1)
        farm.warm()
        changed = through_fetcher(urls, heads)
        bodies = [(r.url, r.body, r.content_type) for r in changed if r.http_status == 200]
        size = sum(len(b) for _, b, _ in bodies)
        print(f"after a 10 % churn: {len(bodies)} feeds changed ({size / 1024:.0f} KiB)")
        rules = load_config(farm.config_path).rules
        for name, fn in (("parse alone (this process, no workers)", parse),
                         ("parse + classify", lambda b: parse(b, rules))):
            walls, cpus = [], []
            for _ in range(args.rounds):
                wall, cpu, items = timed(lambda: fn(bodies))
                walls.append(wall)
                cpus.append(cpu)
            _line(name, walls, cpus, f"  {items} items")


if __name__ == "__main__":
    main()

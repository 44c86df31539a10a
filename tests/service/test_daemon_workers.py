"""The daemon's parse workers: at the daemon's own priority (a dashboard's stay niced), each
kept two documents deep, a document charged only for its own parse."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from feeds.config.load import load_config
from feeds.parse.pool import ParsePool
from feeds.poll.poller import Poller
from feeds.service.daemon import HeadlessPoller
from feeds.service.pipeline import PipelinedPool
from storage.store import Store
from tests.feeds.test_parse_inline import job as _job
from tests.feedserver import rss, rss_item
from tests.helpers import bundled_config

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _children() -> set[int]:
    """This process's child processes (started from any of its threads)."""
    pids: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as fh:
            pids.update(int(p) for p in fh.read().split())
    return pids


def _worker_niceness(poller: Poller) -> list[int]:
    before = _children()
    poller.warm_up(wait=30)
    try:
        return [os.getpriority(os.PRIO_PROCESS, pid) for pid in _children() - before]
    finally:
        poller.close()


def test_the_daemon_workers_are_not_niced_and_a_dashboards_are(tmp_path: Path,
                                                               service_config: Path) -> None:
    own = os.getpriority(os.PRIO_PROCESS, 0)
    config = load_config(service_config)  # (parse_workers = 1)
    with Store.open(tmp_path / "store") as store:
        assert _worker_niceness(HeadlessPoller(config, store, clock=lambda: 0.0)) == [own]
        assert _worker_niceness(Poller(config, store)) == [min(own + 10, 19)]


# --- the pipelined pool: two documents in each worker's hands ---------------------------------

def _slow_document() -> bytes:
    """RSS 0.91 goes to feedparser, which needs many seconds for 60,000 items."""
    return rss([rss_item(f"Item {k} " + "word " * 40, guid=f"g{k}") for k in range(60_000)]
               ).replace(b'version="2.0"', b'version="0.91"')


async def test_each_document_gets_its_own_result_as_the_plain_pool_gives_it() -> None:
    """(Small documents: a worker's next result is often in the pipe behind the one read.)"""
    rules = bundled_config().rules
    docs = [_job(rss([rss_item(f"Envoys meet in round {k}", guid=f"g{k}")]),
                 key=f"http://news.example/{k}.xml") for k in range(40)]
    piped, plain = PipelinedPool(rules, workers=2), ParsePool(rules, workers=2)
    try:
        got = await asyncio.gather(*(piped.parse(job) for job in docs))
        want = await asyncio.gather(*(plain.parse(job) for job in docs))
        started = len(piped._all)  # (its workers, and no other)
    finally:
        piped.close()
        plain.close()
    assert started == 2
    assert [[i.title for i in p.items] or p.error for p in got] == [[f"Envoys meet in round {k}"]
                                                          for k in range(40)]
    assert [p.items for p in got] == [p.items for p in want]


async def test_a_stuck_document_fails_alone_and_the_one_queued_behind_it_is_parsed() -> None:
    pool = PipelinedPool(bundled_config().rules, workers=1, timeout=3.0)
    try:
        good = rss([rss_item("Peace talks resume", guid="ok")])
        stuck, fine = await asyncio.gather(pool.parse(_job(_slow_document())),
                                           pool.parse(_job(good)))
    finally:
        pool.close()
    assert not stuck.ok and "longer than 3 s" in stuck.error
    assert fine.ok and [i.title for i in fine.items] == ["Peace talks resume"]


async def test_a_worker_that_dies_costs_only_the_document_it_was_parsing() -> None:
    pool = PipelinedPool(bundled_config().rules, workers=1, timeout=60.0)
    pool.warm_up()
    pool.wait_ready(30)
    (worker,) = pool._all
    try:
        good = rss([rss_item("Peace talks resume", guid="ok")])
        parsing = asyncio.gather(pool.parse(_job(_slow_document())), pool.parse(_job(good)))
        await asyncio.sleep(1.0)  # both sent: the first one is being parsed
        os.kill(worker.proc.pid, signal.SIGKILL)
        died, fine = await parsing
    finally:
        pool.close()
    assert not died.ok and "died on this document" in died.error
    assert fine.ok and [i.title for i in fine.items] == ["Peace talks resume"]


class _RecordingPoller:
    """A poller whose cycle does nothing but note whether the cyclic collector is on."""

    def __init__(self) -> None:
        self.collector_on: list[bool] = []

    def warm_up(self, wait: float = 0.0) -> None:
        pass

    async def poll_cycle(self, **kwargs):
        import gc

        from feeds.poll.poller import CycleReport

        self.collector_on.append(gc.isenabled())
        return CycleReport(started=0.0)

    def close(self, notify_grace: float | None = None) -> None:
        pass


async def _one_cycle(tmp_path: Path, service_config: Path, poller: _RecordingPoller) -> None:
    """A daemon with ``poller`` run until its first cycle ends, then stopped."""
    from feeds.service.daemon import Daemon

    with Store.open(tmp_path / "store") as store:
        daemon = Daemon(load_config(service_config), store, make_poller=lambda cfg: poller,
                        socket_path=tmp_path / "ctl.sock")
        task = asyncio.create_task(daemon.run())
        for _ in range(500):
            if daemon.cycles:
                break
            await asyncio.sleep(0.01)
        daemon.stop()
        await task


async def test_a_cycle_runs_without_the_cyclic_collector_and_it_runs_again_after(
        tmp_path: Path, service_config: Path) -> None:
    import gc

    assert gc.isenabled()
    poller = _RecordingPoller()
    await _one_cycle(tmp_path, service_config, poller)
    assert poller.collector_on == [False] and gc.isenabled()


async def test_a_document_that_fails_unexpectedly_does_not_hold_up_the_one_behind_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import feeds.service.pipeline as pipeline

    real_receive = pipeline._Lane.receive
    first = [True]

    def faulty(lane, deadline: float):  # the first result read back meets a bug
        message = real_receive(lane, deadline)
        if message != "ready" and first[0]:
            first[0] = False
            raise RuntimeError("a bug")
        return message

    monkeypatch.setattr(pipeline._Lane, "receive", faulty)
    pool = PipelinedPool(bundled_config().rules, workers=1)
    try:
        docs = [_job(rss([rss_item(f"Envoys meet in round {k}", guid=f"g{k}")])) for k in (1, 2)]
        # (bounded: the bug was that the second document waited for the first forever)
        failed, fine = await asyncio.wait_for(asyncio.gather(
            *(pool.parse(job) for job in docs), return_exceptions=True), 60)
    finally:
        pool.close()
    assert isinstance(failed, RuntimeError)
    assert fine.ok and [i.title for i in fine.items] == ["Envoys meet in round 2"]


def test_the_pool_serves_one_loop_after_another_and_closes_from_another_thread() -> None:
    """(The daemon's poller is closed from a thread while its loop runs.)"""
    import threading

    pool = PipelinedPool(bundled_config().rules, workers=2)

    async def titles(n: int) -> list[list[str]]:
        docs = [_job(rss([rss_item(f"Envoys meet in round {n}.{k}", guid=f"g{k}")]),
                     key=f"http://news.example/{n}/{k}.xml") for k in range(6)]
        return [[i.title for i in p.items] for p in await asyncio.gather(*map(pool.parse, docs))]

    async def closed_from_a_thread() -> None:
        await titles(3)
        closer = threading.Thread(target=pool.close)
        closer.start()
        while closer.is_alive():  # the loop keeps running while the thread closes the pool
            await asyncio.sleep(0.01)
        with pytest.raises(RuntimeError, match="closed"):
            await titles(4)

    try:
        assert asyncio.run(titles(1)) == [[f"Envoys meet in round 1.{k}"] for k in range(6)]
        assert asyncio.run(titles(2)) == [[f"Envoys meet in round 2.{k}"] for k in range(6)]
        workers = {w.proc.pid for w in pool._all}
        asyncio.run(closed_from_a_thread())
    finally:
        pool.close()
    assert len(workers) == 2 and not pool._all
    assert all(not os.path.exists(f"/proc/{pid}") or _zombie(pid) for pid in workers)


def _zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] == "Z"


def test_after_a_cycle_the_young_generations_are_collected_and_all_of_them_when_asked() -> None:
    import gc

    from feeds.service.daemon import _release_memory

    generations: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(note)
    try:
        gc.disable()  # as during a cycle
        _release_memory(False)
        young = list(generations)
        generations.clear()
        _release_memory(True)
    finally:
        gc.callbacks.remove(note)
        gc.enable()
    assert young and max(young) == 1 and 2 in generations


@pytest.mark.parametrize("every,full", [(3600.0, False), (0.0, True)])
async def test_a_full_collection_follows_a_cycle_only_when_one_is_due(
        tmp_path: Path, service_config: Path, monkeypatch: pytest.MonkeyPatch,
        every: float, full: bool) -> None:
    import gc

    from feeds.service import daemon as daemon_module

    asked: list[bool] = []
    release = daemon_module._release_memory

    def noting(full: bool) -> None:
        asked.append(full)
        release(full)  # (which turns the collector back on)

    monkeypatch.setattr(daemon_module, "FULL_COLLECTION_EVERY", every)
    monkeypatch.setattr(daemon_module, "_release_memory", noting)
    await _one_cycle(tmp_path, service_config, _RecordingPoller())
    assert asked[0] is full and gc.isenabled()

"""How a one-shot poll's parse pool gets going: a worker's start does not wait for the worker
to read its setup, and a document parsed in process is parsed on the event loop's own thread
(no thread to start, no GIL handed back and forth with the fetches)."""
from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from feeds.parse import pool as poolmod
from feeds.parse.pool import ParsePool
from tests.feeds.test_parse_inline import PLAIN, RDF, job, spawned  # noqa: F401 (fixture)
from tests.helpers import bundled_config




def test_starting_a_worker_does_not_wait_for_it_to_read_its_setup(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A child that never reads: the setup (the bundled rules, more than a pipe holds) can
    # only be written in full once it does.
    monkeypatch.setattr(poolmod, "_spawn", lambda: subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE))
    made: list[poolmod._Worker] = []
    starter = threading.Thread(target=lambda: made.append(
        poolmod._Worker(bundled_config().rules, poolmod.MEMORY_LIMIT)), daemon=True)
    starter.start()
    starter.join(30)  # (only a hang would take that long)
    try:
        assert made, "the worker's start blocked on writing its setup"
        assert made[0].proc.poll() is None  # the child is there, still not reading
    finally:
        for worker in made:
            worker.kill()


def test_a_worker_reads_its_setup_and_parses(spawned: list[int]) -> None:
    pool = ParsePool(bundled_config().rules, workers=1)
    try:
        parsed = pool.parse_sync(job(PLAIN))
    finally:
        pool.close()
    assert parsed.ok and [i.title for i in parsed.items] == [
        "Ceasefire talks resume in Doha", "New sanctions on oil exports"]
    assert len(spawned) == 1


async def test_an_inline_parse_runs_on_the_calling_thread(spawned: list[int],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    run = poolmod.run_job

    def recording(*args, **kwargs):
        threads.append(threading.get_ident())
        return run(*args, **kwargs)

    monkeypatch.setattr(poolmod, "run_job", recording)
    pool = ParsePool(bundled_config().rules, workers=1, inline=1)
    try:
        first = await pool.parse(job(PLAIN))
        second = await pool.parse(job(PLAIN))  # past the budget: a worker's
    finally:
        pool.close()
    assert threads == [threading.get_ident()] and len(spawned) == 1
    assert [(i.id, i.labels, i.scores) for i in first.items] == \
           [(i.id, i.labels, i.scores) for i in second.items]


async def test_a_document_the_process_cannot_parse_is_tried_there_once(
        spawned: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    tries: list[int] = []
    run = poolmod.run_job

    def recording(*args, **kwargs):
        tries.append(1)
        return run(*args, **kwargs)

    monkeypatch.setattr(poolmod, "run_job", recording)  # (in this process only)
    pool = ParsePool(bundled_config().rules, workers=1, inline=5)
    try:
        parsed = await pool.parse(job(RDF))  # RSS 1.0: feedparser's, in a worker
    finally:
        pool.close()
    assert parsed.ok and [i.title for i in parsed.items] == ["Ceasefire talks resume"]
    assert tries == [1] and pool.inline == 4 and len(spawned) == 1

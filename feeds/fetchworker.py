"""A fetch worker process: fetches feed documents on its own event loop.

Started by :class:`feeds.fetchshards.FetchShards` as ``python -m feeds.fetchworker``; speaks
the parse workers' framing (length-prefixed pickles between processes of this program; the
bodies are bytes inside a result, nothing from a feed is ever unpickled as an object). The
first message is the :class:`~feeds.config.PollingSettings`; then each message is a job
``(job_id, url, etag, last_modified)`` answered by ``(job_id, FetchResult)``, in whatever
order the fetches end. Politeness (how many requests, one per host) is the parent's: it
sends a job only when the slots are its. End of input ends the process.
"""
from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any, BinaryIO

from feeds.parseworker import become_background_worker, read_message, write_message

MEMORY_LIMIT = 1024 * 1024 * 1024  # bodies are capped at max_body; this is a backstop


async def serve(settings: Any, stdin: BinaryIO, stdout: BinaryIO) -> None:
    from feeds.fetch import Fetcher

    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Any] = asyncio.Queue()

    def read_jobs() -> None:  # blocking reads stay off the loop
        while True:
            try:
                msg = read_message(stdin)
            except (EOFError, OSError):
                msg = None
            loop.call_soon_threadsafe(inbox.put_nowait, msg)
            if msg is None:
                return

    async def one(fetcher: Fetcher, job_id: int, url: str, etag: str | None,
                  last_modified: str | None) -> None:
        result = await fetcher.fetch(url, etag=etag, last_modified=last_modified)
        write_message(stdout, (job_id, result))

    threading.Thread(target=read_jobs, name="fetchworker-stdin", daemon=True).start()
    running: set[asyncio.Task[None]] = set()
    async with Fetcher(settings) as fetcher:
        write_message(stdout, "ready")
        while (job := await inbox.get()) is not None:
            task = asyncio.create_task(one(fetcher, *job))
            running.add(task)
            task.add_done_callback(running.discard)
        for task in list(running):  # the parent has gone: nobody wants these answers
            task.cancel()


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the channel
    settings = read_message(stdin)
    become_background_worker(MEMORY_LIMIT)
    from feeds import aio

    try:
        aio.run(serve(settings, stdin, stdout))
    except (BrokenPipeError, KeyboardInterrupt):  # the parent went away first
        pass


if __name__ == "__main__":
    main()

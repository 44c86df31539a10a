"""A parse worker process: reads jobs on stdin, writes results on stdout.

Started by :class:`feeds.parse.pool.ParsePool` as ``python -m feeds.parse.worker``. Messages are
length-prefixed pickles between trusted processes of the same program (the document bytes are
data inside a job; nothing from a feed is ever unpickled). The first message is the worker's
setup: the rules spec, its memory limit, the actors spec, the watch terms and its niceness.
"""
from __future__ import annotations

import gc
import os
import pickle
import struct
import sys
from typing import Any, BinaryIO

from feeds.heap import release_free_heap

_HEADER = struct.Struct("!I")


def write_message(stream: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_message(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def become_background_worker(memory_limit: int, nice: int = 10) -> None:
    """Niced (a dashboard's input and painting must win the CPU; a headless daemon's
    workers run at its own priority: niced, they starve behind any other busy process) and
    an address-space limit (a runaway document costs this process only), where the platform
    allows."""
    try:
        if nice > 0:
            os.nice(nice)
    except OSError:  # pragma: no cover - not permitted here
        pass
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    except (ImportError, ValueError, OSError):  # pragma: no cover - non-POSIX or lower hard limit
        pass


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the channel
    rules_spec, memory_limit, actors_spec, watch_spec, nice = read_message(stdin)
    become_background_worker(memory_limit, nice)
    from feeds.parse import jobs  # (not feeds.parse.pool: a worker has no use for its threads)

    jobs.init_worker(rules_spec, actors_spec, watch_spec)
    del rules_spec, actors_spec, watch_spec  # (the classifier keeps what it needs)
    # The heap the start freed (the rules' compile builds and drops its trie and pattern text),
    # given back: ~1.4 MiB a worker. The compile leaves reference cycles, collected first
    # (~6 ms of a worker's start).
    gc.collect()
    release_free_heap()
    write_message(stdout, "ready")
    while True:
        try:
            job = read_message(stdin)
        except EOFError:
            return
        write_message(stdout, jobs.pack(jobs.run_job(job)))


if __name__ == "__main__":
    main()

"""Run a coroutine on a fresh event loop: uvloop's when it is installed, asyncio's if not.

The pollers (``poll --once``, the daemon, the dashboard's poll thread) are event-loop
bound: on uvloop a 200-feed all-304 cycle spends ~20 % less CPU in the loop
and the transports. Textual's own loop is not touched: the dashboard runs each poll cycle
on a loop of its own, in a worker thread.

The result comes back in a box with a short repr: on the main thread, Python 3.11's
``asyncio.Runner`` restores its SIGINT handler through ``signal.getsignal``, which formats
the handler (a partial holding the finished main task) into an error message it then drops,
and a task's repr holds its result's: a poll cycle's report with 10,000 new items took
~0.25 s to format, twice, for nothing.
"""
from __future__ import annotations

import asyncio
from typing import Any, Coroutine, Generic, TypeVar

T = TypeVar("T")


class _Box(Generic[T]):
    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<result>"


async def _boxed(main: Coroutine[Any, Any, T]) -> _Box[T]:
    return _Box(await main)


def run(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop  # imported here: commands that poll nothing do not pay for it
    except ImportError:  # pragma: no cover - not installed on this platform
        return asyncio.run(_boxed(main)).value
    return uvloop.run(_boxed(main)).value

"""Small test doubles that keep the real parts real: a settable clock, a counting parse pool;
and the bundled config, loaded once."""
from __future__ import annotations

from functools import lru_cache

from feeds.config.load import Config, bundled_config_path, load_config
from feeds.parse.document import ParsedFeed
from feeds.parse.pool import ParseJob, ParsePool


class Clock:
    """A clock the test moves by hand (``clock()`` returns epoch seconds)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingPool:
    """The real parse pool, counting the documents it is asked to parse."""

    def __init__(self, pool: ParsePool) -> None:
        self.pool, self.calls = pool, 0

    async def parse(self, job: ParseJob) -> ParsedFeed:
        self.calls += 1
        return await self.pool.parse(job)

    def close(self) -> None:
        pass


@lru_cache(maxsize=1)
def bundled_config() -> Config:
    """The bundled config.toml (its feeds, rules, actors), loaded once per process: the
    config is frozen, every test can share it."""
    return load_config(bundled_config_path())

"""One fetch of a feed before it is added (``feeds add``): its title, to name it by. The
same fetcher, caps and address policy as a poll; nothing is stored."""
from __future__ import annotations

import time
from dataclasses import replace

from feeds.config.load import PollingSettings
from feeds.net.fetch import Fetcher
from feeds.parse.document import parse_document
from feeds.poll.aio import run

PROBE_TIMEOUT = 10.0  # seconds: a person is waiting at the prompt


def feed_title(url: str, settings: PollingSettings) -> tuple[str | None, str | None]:
    """(the feed's title, None) or (None, why not, in words)."""
    settings = replace(settings, timeout=min(settings.timeout, PROBE_TIMEOUT))

    async def fetch() -> object:
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(url)

    result = run(fetch())
    if not result.ok or not result.body:
        return None, result.error or "the server sent nothing"
    # In this process: one document, already capped at max_body; the parser never raises
    # for what a document holds and refuses XML bombs before expanding anything.
    parsed = parse_document(result.body, feed_key=url, feed_name="", url=result.final_url,
                            content_type=result.content_type, now=time.time(), max_items=1)
    if not parsed.ok:
        return None, parsed.error or "not a feed"
    return (parsed.title or None), (None if parsed.title else "the feed has no title")

"""httpx, imported the one way diplowatch imports it: ``from feeds.net.httpx_adapter import httpx``.

The name stands in for the module and imports httpx at its first attribute access
(``httpx.URL``, ``except httpx.HTTPError`` when an exception is being matched): a poll whose
hosts all go through our own llhttp pools (:mod:`feeds.net.h1`) never builds an httpx object,
and importing httpx costs ~16 ms of every one-shot start. It is loaded for a proxied host, a
URL the fetcher's own normaliser leaves to ``httpx.URL``, an injected transport, and errors.

httpx's ``__init__`` imports its command-line tool (``httpx._main``), which pulls in rich,
pygments and click styling: ~60-150 ms, for a tool that is never used here. A stand-in
``httpx._main`` is planted before httpx is imported, so that import finds it instead. This
leans on a private module of httpx: checked against CHECKED_VERSION (the version pinned in
pyproject.toml) by tests/feeds/test_library_adapters.py, which fails when the pin moves or
when importing httpx loads rich or click again.
"""
from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from feeds.lazy import LazyModule

CHECKED_VERSION = "0.28.1"
CLI_MODULE = "httpx._main"


def _no_cli() -> None:
    raise SystemExit("the httpx command-line tool is not available inside diplowatch")


def load() -> types.ModuleType:
    """httpx itself, imported now if it is not yet (after planting the stand-in CLI)."""
    module = sys.modules.get("httpx")
    if module is None:
        if CLI_MODULE not in sys.modules:
            stub = types.ModuleType(CLI_MODULE)
            stub.main = _no_cli  # type: ignore[attr-defined]
            sys.modules[CLI_MODULE] = stub
        import httpx as module
    return module


if TYPE_CHECKING:
    import httpx
else:
    httpx = LazyModule("httpx", load)

__all__ = ["httpx", "load", "CHECKED_VERSION"]

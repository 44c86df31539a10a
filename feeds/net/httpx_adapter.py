"""httpx, imported the one way diplowatch imports it: ``from feeds.net.httpx_adapter import httpx``.

httpx's ``__init__`` imports its command-line tool (``httpx._main``), which pulls in rich,
pygments and click styling: ~60-150 ms on every start of a headless poll, for a tool that is
never used here. A stand-in ``httpx._main`` is planted before httpx is imported, so that import
finds it instead. This leans on a private module of httpx: checked against CHECKED_VERSION (the
version pinned in pyproject.toml) by tests/feeds/test_library_adapters.py, which fails when the
pin moves or when importing httpx loads rich or click again.
"""
from __future__ import annotations

import sys
import types

CHECKED_VERSION = "0.28.1"
CLI_MODULE = "httpx._main"


def _no_cli() -> None:
    raise SystemExit("the httpx command-line tool is not available inside diplowatch")


if CLI_MODULE not in sys.modules:
    _stub = types.ModuleType(CLI_MODULE)
    _stub.main = _no_cli  # type: ignore[attr-defined]
    sys.modules[CLI_MODULE] = _stub

import httpx  # noqa: E402 - after the stand-in above

__all__ = ["httpx", "CHECKED_VERSION"]

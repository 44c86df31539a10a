"""diplowatch ingestion core: config, fetch, parse, classify, poll. Never imports textual."""
import sys
import types

__version__ = "0.1.0"

if "httpx._main" not in sys.modules:
    # httpx's __init__ imports its command-line tool, which pulls in rich, pygments and click
    # styling (~60-150 ms on every start of a headless poll); that tool is never used here.
    def _no_cli() -> None:
        raise SystemExit("the httpx command-line tool is not available inside diplowatch")

    _stub = types.ModuleType("httpx._main")
    _stub.main = _no_cli  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = _stub

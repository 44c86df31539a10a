"""The adapters that lean on libraries' private parts (feeds/net/httpx_adapter.py,
feeds/parse/feedparser_adapter.py) still hold for the pinned versions.

When one of these fails after a dependency upgrade: read the adapter's docstring, check that
the private part it uses still exists and means the same in the new version, then move its
CHECKED_VERSION to the new pin.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pinned(package: str) -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = [d.split("==", 1)[1].split(";")[0].strip() for d in deps if d.startswith(f"{package}==")]
    assert len(pins) == 1, f"pyproject.toml should pin {package} exactly once (==), found {pins}"
    return pins[0]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


# --- httpx -----------------------------------------------------------------------------------

def test_httpx_is_the_version_its_adapter_was_checked_against() -> None:
    from feeds.net.httpx_adapter import CHECKED_VERSION, httpx

    pin = _pinned("httpx")
    assert pin == CHECKED_VERSION, (
        f"httpx is pinned to {pin} in pyproject.toml, but feeds/net/httpx_adapter.py was checked "
        f"against {CHECKED_VERSION}: check that httpx/__init__.py still imports its command-line "
        f"tool from httpx._main (and nothing else that loads rich or click), then update "
        f"CHECKED_VERSION")
    assert httpx.__version__ == pin, (
        f"httpx {httpx.__version__} is installed, pyproject.toml pins {pin}: reinstall the project")


def test_the_user_agent_names_the_installed_httpx_without_importing_it() -> None:
    from feeds.net.fetch import default_user_agent
    from feeds.net.httpx_adapter import httpx

    assert default_user_agent().endswith(f"python-httpx/{httpx.__version__})")


def test_httpx_still_imports_its_cli_from_the_module_the_adapter_replaces() -> None:
    spec = importlib.util.find_spec("httpx")
    assert spec is not None and spec.origin is not None
    source = Path(spec.origin).read_text(encoding="utf-8")
    assert "from ._main import main" in source, (
        "httpx/__init__.py no longer imports httpx._main: the stand-in planted by "
        "feeds/net/httpx_adapter.py is dead code; remove the adapter (and import httpx directly)")


def test_the_fetcher_loading_httpx_loads_neither_rich_nor_click() -> None:
    out = _run('import feeds.net.fetch; from feeds.net.httpx_adapter import httpx; httpx.URL; '
               'import sys; assert "httpx" in sys.modules; '
               'assert "rich" not in sys.modules and "click" not in sys.modules, '
               'sorted(m for m in sys.modules if m.split(".")[0] in ("rich", "click", "pygments"))')
    assert out.returncode == 0, (
        "httpx, loaded by feeds.net.fetch, loaded rich or click: httpx imports its command-line tool by "
        "another path than the one feeds/net/httpx_adapter.py replaces, or a module imports httpx "
        f"without the adapter.\n{out.stderr}")


def test_importing_feeds_itself_imports_no_library() -> None:
    out = _run('import sys, feeds; assert feeds.__version__; '
               'assert not {"httpx", "httpx._main", "feedparser"} & set(sys.modules), "imported"')
    assert out.returncode == 0, f"`import feeds` should define __version__ and nothing else:\n{out.stderr}"


def test_the_stand_in_refuses_to_run_the_httpx_cli() -> None:
    from feeds.net.httpx_adapter import httpx

    with pytest.raises(SystemExit, match="not available inside diplowatch"):
        httpx.main()


# --- feedparser ------------------------------------------------------------------------------

def test_feedparser_is_the_version_its_adapter_was_checked_against() -> None:
    import feedparser

    from feeds.parse.feedparser_adapter import CHECKED_VERSION

    pin = _pinned("feedparser")
    assert pin == CHECKED_VERSION, (
        f"feedparser is pinned to {pin} in pyproject.toml, but feeds/parse/feedparser_adapter.py "
        f"was checked against {CHECKED_VERSION}: check that feedparser.datetimes._parse_date and "
        f"feedparser.mixin._FeedParserMixin.looks_like_html still exist and behave the same, then "
        f"update CHECKED_VERSION")
    assert feedparser.__version__ == pin, (
        f"feedparser {feedparser.__version__} is installed, pyproject.toml pins {pin}: reinstall")


def test_feedparsers_private_helpers_answer_as_the_fast_path_expects() -> None:
    from feeds.parse.feedparser_adapter import looks_like_html, parse_date

    assert parse_date("Tue, 10 Jun 2003 04:00:00 GMT") == time.struct_time((2003, 6, 10, 4, 0, 0, 1, 161, 0))
    assert parse_date("2003-06-10T06:00:00+02:00")[:6] == (2003, 6, 10, 4, 0, 0)
    assert parse_date("not a date") is None
    assert looks_like_html("Talks <b>resume</b> in Geneva") is True
    assert looks_like_html("Tom &amp; Jerry") is True
    assert looks_like_html("a < b and c > d") is False
    assert looks_like_html("<script>alert(1)</script>") is False  # not an acceptable element

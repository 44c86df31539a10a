"""The compiled-regex cache: a program read back matches exactly as ``re.compile``'s would,
and anything wrong with the cache falls back to compiling."""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from feeds.classify import regexcache
from feeds.classify.engine import Classifier
from tests.helpers import bundled_config

TEXT = (" russia and ukraine hold peace talks in istanbul; the eu imposes new sanctions on "
        "belarus banks, the foreign minister said. délégations à genève")


def _big_pattern(words: list[str]) -> str:
    body = "|".join(re.escape(w) + r"(?!\w)" for w in words)
    return r" (?=(" + body + r"))"


WORDS = sorted({w.strip(".,;") for w in TEXT.split()} | {f"filler{i}word" for i in range(600)})


def _matches(regex: re.Pattern[str]) -> list[tuple[int, str]]:
    return [(m.start(), m.group(1)) for m in regex.finditer(TEXT)]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "diplowatch" / "regex"


def test_a_cached_program_matches_as_re_compile_does(cache: Path) -> None:
    pattern = _big_pattern(WORDS)
    expected = _matches(re.compile(pattern))
    first = regexcache.compile_cached(pattern)
    files = list(cache.glob("*.bin"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    again = regexcache.compile_cached(pattern)  # read back from the file
    assert _matches(first) == _matches(again) == expected
    assert again.pattern == pattern and again.groups == 1


@pytest.mark.parametrize("damage", ["truncate", "flip", "other-pattern"])
def test_a_damaged_or_foreign_file_is_compiled_again(cache: Path, damage: str) -> None:
    pattern = _big_pattern(WORDS)
    regexcache.compile_cached(pattern)
    [path] = cache.glob("*.bin")
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        path.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    else:  # another pattern's program under this pattern's name
        other = _big_pattern(WORDS[1:])
        regexcache.compile_cached(other)
        [other_path] = [p for p in cache.glob("*.bin") if p != path]
        path.write_bytes(other_path.read_bytes())
    assert _matches(regexcache.compile_cached(pattern)) == _matches(re.compile(pattern))


def test_without_a_writable_cache_it_still_compiles(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    pattern = _big_pattern(WORDS)
    assert _matches(regexcache.compile_cached(pattern)) == _matches(re.compile(pattern))


def test_the_folder_keeps_only_the_newest_programs(cache: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regexcache, "KEEP", 2)
    for i in range(4):
        regexcache.compile_cached(_big_pattern(WORDS[i:]))
        newest = max(cache.glob("*.bin"), key=lambda p: p.stat().st_mtime_ns)
        os.utime(newest, ns=(i * 10**9, i * 10**9))
    assert len(list(cache.glob("*.bin"))) == 2


def test_the_classifier_labels_the_same_from_the_cache(cache: Path) -> None:
    from feeds.classify import engine

    rules = bundled_config().rules
    title = "Russia and Ukraine hold new peace talks in Istanbul"
    summary = "The EU imposed sanctions on Belarus banks, the foreign minister said."
    # The regex path's scanners (the C scan has none to cache).
    engine._compile.cache_clear()
    fresh = Classifier(rules, fast=False).classify(title, summary)
    assert list(cache.glob("*.bin")), "the classifier's scanners were cached"
    engine._compile.cache_clear()
    cached = Classifier(rules, fast=False).classify(title, summary)
    assert cached == fresh and cached.labels

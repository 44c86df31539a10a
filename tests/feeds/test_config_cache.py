"""A config parsed once per change: kept in the cache folder, used only for the same texts."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from feeds.config import cache
from feeds.config.load import ConfigError, load_config

RULES = """
[[feeds]]
name = "Wire"
url = "https://example.org/rss"

[rules.talks]
terms = {"parley*" = 2.0}
"""


def kept_files() -> list[Path]:
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "diplowatch" / "config"
    return sorted(folder.glob("*.conf")) if folder.is_dir() else []


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any parse of the rules or the gazetteer fail: a load that still works used what
    was kept."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr("feeds.classify.rules.load_rules", refuse)
    monkeypatch.setattr("feeds.classify.actors.load_actors", refuse)


def test_a_second_load_of_the_same_text_uses_what_the_first_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text(RULES, encoding="utf-8")
    first = load_config(path)
    assert len(kept_files()) == 1
    no_parsing(monkeypatch)
    second = load_config(path)
    assert second.rules == first.rules and second.actors == first.actors
    assert second.rules.fingerprint == first.rules.fingerprint
    assert second.rules.memo == {"fingerprint": first.rules.fingerprint}  # not hashed again
    assert [f.name for f in second.feeds] == ["Wire"]
    assert any(r.pattern.canonical.startswith("parley") for r in second.rules.label("talks").rules)


def test_kept_rules_are_decoded_only_when_used(tmp_path: Path) -> None:
    """A command that needs only the fingerprints (a poll where nothing changed) never
    imports the classifier's modules nor builds the rules' objects."""
    path = tmp_path / "config.toml"
    path.write_text(RULES, encoding="utf-8")
    first = load_config(path)
    probe = (
        "import sys\n"
        "from feeds.config.load import load_config\n"
        f"config = load_config({str(path)!r})\n"
        "fingerprints = config.specs.fingerprints\n"
        "print('feeds.classify.rules' in sys.modules, *fingerprints)\n"
        "print(config.rules.fingerprint, config.actors.fingerprint)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout.split()
    rules, actors = first.rules.fingerprint, first.actors.fingerprint
    assert out == ["False", rules, actors, rules, actors]


def test_a_changed_text_is_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(RULES, encoding="utf-8")
    before = load_config(path)
    path.write_text(RULES.replace("parley*", "colloquy*"), encoding="utf-8")
    after = load_config(path)
    assert after.rules != before.rules
    assert after.rules.fingerprint != before.rules.fingerprint
    talks = {r.pattern.canonical for r in after.rules.label("talks").rules}
    assert any(c.startswith("colloquy") for c in talks)
    assert not any(c.startswith("parley") for c in talks)


def test_a_torn_or_foreign_kept_file_is_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(RULES, encoding="utf-8")
    good = load_config(path)
    (kept,) = kept_files()
    for damage in (kept.read_bytes()[:-100], cache._FORMAT + b"\0" * 64, b"not a cache file"):
        kept.write_bytes(damage)
        again = load_config(path)
        assert again.rules == good.rules and again.actors == good.actors
    assert kept.read_bytes().startswith(cache._FORMAT) and len(kept_files()) == 1  # rewritten


def test_a_bad_config_is_never_kept_and_reported_each_time(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(RULES.replace('"parley*" = 2.0', '"parley*" = "heavy"'), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ConfigError) as e:
            load_config(path)
        assert str(path) in str(e.value) and "parley" in str(e.value)
    assert kept_files() == []


def test_kept_files_are_private_and_few(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    for n in range(cache.KEEP + 3):
        path.write_text(RULES + f"\n# variant {n}\n", encoding="utf-8")
        load_config(path)
    files = kept_files()
    assert len(files) == cache.KEEP
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700


def test_without_a_home_nothing_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOME")
    monkeypatch.delenv("XDG_CACHE_HOME")
    path = tmp_path / "config.toml"
    path.write_text(RULES, encoding="utf-8")
    assert load_config(path).rules.label("talks").rules
    assert cache.key_of((RULES, None)) is None


def test_a_change_to_the_parsing_code_changes_the_key(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "feeds"
    for folder in ("", "classify", "config"):
        (package / folder).mkdir(parents=True, exist_ok=True)
        (package / folder / "module.py").write_text("X = 1\n")
    monkeypatch.setattr(cache, "_PARSERS", package)
    before = cache.key_of((RULES, None))
    for folder in ("", "classify", "config"):  # model.py's labels, the rules, the loader
        module = package / folder / "module.py"
        module.write_text("X = 22\n")
        after = cache.key_of((RULES, None))
        assert after is not None and after != before
        before = after


def test_kept_rules_that_do_not_load_are_parsed_again(tmp_path: Path) -> None:
    from feeds.config.specs import Specs

    path = tmp_path / "config.toml"
    path.write_text(RULES, encoding="utf-8")
    first = load_config(path)
    broken = Specs.kept(b"not a pickle", first.specs.fingerprints,
                        lambda: (first.rules, first.actors))
    assert broken.rules is first.rules and broken.actors is first.actors
    kept = load_config(path)
    assert kept.specs._fallback is not None  # (a kept config's specs know how to parse again)
    assert kept.specs._fallback()[0] == first.rules

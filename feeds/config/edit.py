"""Changing the feed list in the user's config file, on the user's explicit request only
(``feeds add/remove/enable/disable/import`` and the dashboard's feed screen).

Edits keep the user's comments and layout (tomlkit), are validated by loading the result
before it replaces the file, and are written atomically. The bundled default config is never
edited: the first edit copies it to the user's config file (with local paths made absolute)
and edits that copy, which from then on is the config in use.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from dataclasses import dataclass
from typing import Callable, Protocol

import tomlkit

from feeds.config.load import Config, ConfigError, load_config, normalise_feed_url, user_config_path
from feeds.model import FeedState, reset_feed_state
from feeds.files import write_private
from storage.atomic import replace_file


class FeedStates(Protocol):
    """What enabling a feed needs of the store."""

    def feed_state(self, key: str) -> FeedState | None: ...
    def put_feed_state(self, state: FeedState) -> None: ...


@dataclass(frozen=True, slots=True)
class FeedEdit:
    config: Config  # the config as edited
    path: Path  # the file edited
    created: bool  # True when that file was just copied from the bundled default


def writable_config_path(config: Config) -> tuple[Path, bool]:
    """The file to edit, and whether it was just created from the bundled default."""
    if not config.is_bundled:
        return config.path, False
    target = user_config_path()
    if target.exists():
        return target, False
    doc = tomlkit.parse(config.path.read_text(encoding="utf-8"))
    for table in doc.get("feeds", []):
        url = str(table.get("url", ""))
        if url and not url.lower().startswith(("http://", "https://", "feed://")):
            _absolute_url(table, normalise_feed_url(url, config.path.parent))
    # A new file, 0600, in the user's config folder (created 0700 if need be).
    write_private(target, tomlkit.dumps(doc).encode("utf-8"), make_dirs=True)
    return target, True


_RELATIVE_NOTE = re.compile(r"\s*\(?relative to (?:this|the config) file'?s? folder\)?", re.I)
_ABSOLUTE_NOTE = "made absolute when the bundled config was copied here"


def _absolute_url(table: tomlkit.items.Table, url: str) -> None:
    """Set a feed's local path made absolute; a comment beside it that said the path was
    relative to the config's folder no longer holds, so that part is rewritten."""
    old = table.value.item("url").trivia if "url" in table else None
    table["url"] = url
    if old is not None and _RELATIVE_NOTE.search(old.comment):
        rest = _RELATIVE_NOTE.sub("", old.comment.lstrip("# ")).strip(" ;,-")
        trivia = table.value.item("url").trivia
        trivia.comment_ws = old.comment_ws
        trivia.comment = "# " + "; ".join(filter(None, (rest, _ABSOLUTE_NOTE)))


def _atomic_write(path: Path, text: str) -> None:
    write_private(path, text.encode("utf-8"))  # an existing file keeps its permission bits


def _edit(path: Path, change: Callable[[tomlkit.TOMLDocument], None]) -> Config:
    """Apply ``change``, check that the result is a valid config, then replace the file.

    A config that is a symlink (dotfiles kept in a repository) is edited where it points:
    the target is replaced, the link stays."""
    target = Path(os.path.realpath(path))
    original = target.read_text(encoding="utf-8")
    doc = tomlkit.parse(original)
    change(doc)
    text = tomlkit.dumps(doc)
    # Beside the target, so that relative local paths resolve as they will in the config.
    tmp_check = target.with_name(f".{target.name}.check")
    try:
        replace_file(tmp_check, text.encode("utf-8"), durable=False)  # 0600: it may hold credentials
        load_config(tmp_check)
    except ConfigError as e:
        raise ConfigError(path, f"the change would make the config invalid: {e.problem}",
                          key=e.key) from None
    finally:
        tmp_check.unlink(missing_ok=True)
    _atomic_write(target, text)
    return load_config(path)


def _find(doc: tomlkit.TOMLDocument, name_or_url: str) -> int:
    """The feed table named (or with the URL) ``name_or_url``; a name also matches in any
    case when only one feed has it so."""
    tables = list(doc.get("feeds", []))
    for i, table in enumerate(tables):
        if name_or_url in (str(table.get("name", "")), str(table.get("url", ""))):
            return i
    folded = name_or_url.casefold()
    hits = [i for i, t in enumerate(tables) if str(t.get("name", "")).casefold() == folded]
    if len(hits) == 1:
        return hits[0]
    raise KeyError(name_or_url)


def add_feeds(path: Path, feeds: list[tuple]) -> Config:
    """Append ``[[feeds]]`` tables: (name, url, tags), or (name, url, tags, folder), each after
    exactly one blank line."""
    def change(doc: tomlkit.TOMLDocument) -> None:
        for name, url, tags, *rest in feeds:
            table = tomlkit.table()
            table["name"] = name
            table["url"] = url
            if tags:
                table["tags"] = list(tags)
            if rest and rest[0]:
                table["folder"] = rest[0]
            _append_spaced(doc, table)
    return _edit(path, change)


def _append_spaced(doc: tomlkit.TOMLDocument, table: tomlkit.items.Table) -> None:
    """Append a feed table after one blank line, whatever the text before it ends with (no
    newline, a newline, or a blank line already: then none is added)."""
    if "feeds" not in doc:
        tables = tomlkit.aot()
        tables.append(table)
        doc.append("feeds", tables)  # tomlkit puts one blank line before a new array of tables
        return
    tables = doc["feeds"]
    if len(tables):
        before = tables[-1].as_string()
        table.trivia.indent = "" if before.endswith("\n\n") else (
            "\n" if before.endswith("\n") else "\n\n")
        if before.endswith("\n\n") and [k for k, _ in doc.body if k][-1] != "feeds":
            table.add(tomlkit.nl())  # the blank line before the table that follows the feeds
    tables.append(table)


def remove_feed(path: Path, name_or_url: str) -> Config:
    def change(doc: tomlkit.TOMLDocument) -> None:
        del doc["feeds"][_find(doc, name_or_url)]
    return _edit(path, change)


def set_enabled(path: Path, name_or_url: str, enabled: bool) -> Config:
    def change(doc: tomlkit.TOMLDocument) -> None:
        table = doc["feeds"][_find(doc, name_or_url)]
        if enabled and "enabled" in table:
            del table["enabled"]  # the default; keeps the file tidy
        elif not enabled:
            table["enabled"] = False
    return _edit(path, change)


def enable_feed(config: Config, name_or_url: str, enabled: bool,
                store: FeedStates | None) -> FeedEdit:
    """Enable or disable a feed in the user's config (copied from the bundled one first if
    need be). Re-enabling is how a user asks to retry a gone or backed-off feed: its state in
    ``store`` (None when read-only) forgets the failure and keeps the validators; the caller
    saves the store. Raises KeyError (no such feed), ConfigError or OSError."""
    source = config.feed(name_or_url)
    if source is None:
        raise KeyError(name_or_url)
    path, created = writable_config_path(config)
    edited = set_enabled(path, source.name, enabled)
    if enabled and store is not None:
        state = store.feed_state(source.key)
        if state is not None:
            store.put_feed_state(reset_feed_state(state))
    return FeedEdit(edited, path, created)


def set_theme(config: Config, name: str) -> FeedEdit:
    """Write ``[ui] theme = name`` to the user's config (copied from the bundled one first if
    need be), so that the next start uses the theme the user chose. Raises ConfigError or
    OSError."""
    path, created = writable_config_path(config)

    def change(doc: tomlkit.TOMLDocument) -> None:
        if "ui" not in doc:
            doc["ui"] = tomlkit.table()
        doc["ui"]["theme"] = name

    return FeedEdit(_edit(path, change), path, created)

"""One name in every output: items with no label are "other" (`none` is its alias on input),
and every JSON output names an item's or feed's feed `feed` (its name) and `feed_url` (its
URL). Real store in tmp_path, items from the seed file and a loopback feed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from storage.store import Store
from tests.cli.test_cli import env  # noqa: F401 - the fixture

FOOTBALL = "Football: Spain beat Italy in a friendly"  # the env's item with no label
FEED_NAMES = {"Seed", "Wire", "Broken"}
# Other spellings of a feed's name or URL, and of "other": none may appear as a JSON key.
OLD_KEYS = {"source", "feed_name", "url", "key", "name_of_feed", "unlabelled", "none"}


def _json(env, *args: str) -> Any:  # noqa: F811
    r = env(*args)
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def _titles(env, *args: str) -> list[str]:  # noqa: F811
    return [r["title"] for r in _json(env, *args)]


def test_label_other_and_its_alias_none_are_one_filter(env) -> None:  # noqa: F811
    polled = env("poll", "--once").output.splitlines()[-1]
    assert "1 other" in polled and "unlabelled" not in polled
    other = _json(env, "list", "--label", "other", "--format", "json")
    assert [r["title"] for r in other] == [FOOTBALL]
    assert _json(env, "list", "--label", "none", "--format", "json") == other
    assert _titles(env, "export", "--label", "none") == _titles(env, "export", "--label", "other")
    [line] = [ln for ln in env("list").output.splitlines() if "Football" in ln]
    assert "  other  " in line
    assert "labels:    other" in env("show", other[0]["id"]).output
    brief = env("brief", "--label", "none", "--since", "2022-01-01").output
    assert "label other" in brief and "Football" in brief and "none" not in brief

    r = env("mark", "--all", "--label", "none", "--read", "--dry-run")
    assert r.output.strip() == "would mark 1 item read (1 match; nothing marked)"
    assert env("mark", "--all", "--label", "other", "--read").output.strip() == "marked 1 item"
    assert FOOTBALL not in _titles(env, "list", "--unread", "--format", "json")
    assert env("list", "--label", "unlabelled").exit_code == 2
    assert "--label [talks|sanctions|statements|other|none]" in env("list", "--help").output


def _dicts(value: Any) -> Iterator[dict]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _dicts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _dicts(v)


# The rules find no label in the second row: its predicted label set is "other".
TSV = "text\tlabels\nEnvoys meet for peace talks in Geneva\ttalks\nFootball scores\ttalks\n"

# (arguments, names a feed, names the items with no label): {item} is the football item's
# id, {tsv} a labelled TSV.
JSON_COMMANDS = [
    (("list", "--format", "json"), True, False),
    (("export", "--format", "json"), True, False),
    (("show", "{item}", "--format", "json"), True, False),
    (("feeds", "list", "--format", "json"), True, False),
    (("labels", "list", "--format", "json"), True, False),
    (("clusters", "show", "{item}", "--format", "json"), True, False),
    (("clusters", "list", "--since", "2022-01-01", "--min-sources", "1", "--format", "json"),
     False, True),
    (("trends", "--days", "30", "--format", "json"), False, True),
    (("rules", "explain", "Spain beat Italy", "--format", "json"), False, False),
    (("rules", "eval", "{tsv}", "--json"), False, True),
    (("rules", "suggest", "{tsv}", "--format", "json"), False, False),
    (("rules", "audit", "{tsv}", "--all", "--format", "json"), False, False),
]


@pytest.mark.parametrize("args, names_a_feed, names_other", JSON_COMMANDS,
                         ids=[" ".join(c[0][:2]) for c in JSON_COMMANDS])
def test_every_json_output_uses_the_same_field_names(  # noqa: F811
        env, tmp_path: Path, args: tuple[str, ...], names_a_feed: bool,  # noqa: F811
        names_other: bool) -> None:
    env("poll", "--once")
    [football] = _json(env, "list", "--label", "other", "--format", "json")
    with Store.open(tmp_path / "store") as store:  # a label set by hand, for `labels list`
        assert store.set_labels(football["id"], []) is not None
    tsv = tmp_path / "eval.tsv"
    tsv.write_text(TSV, encoding="utf-8")
    data = _json(env, *(a.format(item=football["id"], tsv=tsv) for a in args))

    dicts = list(_dicts(data))
    assert not OLD_KEYS & {k for d in dicts for k in d}
    assert "unlabelled" not in json.dumps(data)
    if names_other:  # a trends row, a story's label, a predicted label set
        assert '"other"' in json.dumps(data)
    with_feed = [d for d in dicts if "feed" in d or "feed_url" in d]
    assert bool(with_feed) == names_a_feed
    for d in with_feed:
        assert d["feed"] in FEED_NAMES, d
        assert d["feed_url"].startswith(("http://127.0.0.1", "/")), d  # a URL or a file path

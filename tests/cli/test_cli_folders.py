"""OPML folders: `feeds import` files each feed in the folders enclosing it (their `text`, as
newsboat and Miniflux read them), `feeds list` shows and filters them, `feeds export` writes
them back as nested outlines. A real config file, a real store, CliRunner."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.config.load import ConfigError, load_config
from storage.store import Store
from tui.cli.main import cli

# As feed readers write them: folders whose text and title differ (text wins), a folder with
# text only, a folder with title only, feeds at the top level, a nested folder two deep.
READER_OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Subscriptions from Inoreader</title></head>
  <body>
    <outline text="World News" title="world">
      <outline text="Europe">
        <outline type="rss" text="EUobserver" title="EUobserver" xmlUrl="https://euobserver.com/rss.xml"
                 htmlUrl="https://euobserver.com"/>
      </outline>
      <outline type="rss" text="UN News" title="UN News - Peace" xmlUrl="https://news.un.org/feed/rss.xml"/>
    </outline>
    <outline title="Think tanks">
      <outline type="rss" text="Crisis Group" xmlUrl="https://www.crisisgroup.org/rss" category="analysis"/>
    </outline>
    <outline type="rss" text="Loose feed" xmlUrl="https://loose.example/feed"/>
  </body>
</opml>
"""


@pytest.fixture
def run(tmp_path: Path, write_config):
    config = write_config([])
    store = tmp_path / "store"
    Store.open(store).close()  # an empty store, as a first poll leaves it

    def invoke(*args: str):
        return CliRunner(env={"COLUMNS": "200"}).invoke(
            cli, ["--config", str(config), "--db", str(store), *args])

    invoke.config = config  # type: ignore[attr-defined]
    return invoke


def test_import_files_feeds_in_their_folders_and_export_nests_them_again(run, tmp_path: Path) -> None:
    opml = tmp_path / "subs.opml"
    opml.write_text(READER_OPML, encoding="utf-8")
    r = run("feeds", "import", str(opml))
    assert r.exit_code == 0 and "imported 4 feeds" in r.output, r.output
    config = load_config(run.config)
    assert {f.name: (f.folder, f.tags) for f in config.feeds} == {
        "EUobserver": ("World News/Europe", ()), "UN News - Peace": ("World News", ()),
        "Crisis Group": ("Think tanks", ("analysis",)), "Loose feed": ("", ())}
    assert 'folder = "World News/Europe"' in run.config.read_text()

    data = json.loads(run("feeds", "list", "--format", "json").output)
    assert {d["feed"]: d["folder"] for d in data}["EUobserver"] == "World News/Europe"
    table = run("feeds", "list", "--folder", "world news").output
    assert "FOLDER" in table and "EUobserver" in table and "UN News" in table
    assert "Crisis Group" not in table and "Loose feed" not in table
    only = json.loads(run("feeds", "list", "--folder", "World News/Europe", "--format", "json").output)
    assert [d["feed"] for d in only] == ["EUobserver"]

    out = run("feeds", "export").output
    body = ET.fromstring(out).find("body")
    world = next(o for o in body if o.get("text") == "World News")
    europe = next(o for o in world if o.get("text") == "Europe")
    assert [o.get("xmlUrl") for o in europe] == ["https://euobserver.com/rss.xml"]
    assert [o.get("xmlUrl") for o in world if o.get("xmlUrl")] == ["https://news.un.org/feed/rss.xml"]
    assert any(o.get("xmlUrl") == "https://loose.example/feed" for o in body)
    # Round trip: the export imported elsewhere gives the same folders.
    again = tmp_path / "again.opml"
    again.write_text(out, encoding="utf-8")
    from feeds.config.opml import read_opml
    assert {f.name: f.folder for f in read_opml(again)} == {
        f.name: f.folder for f in config.feeds}


def test_folder_is_a_validated_string(write_config) -> None:
    path = write_config(extra='[[feeds]]\nname = "A"\nurl = "https://a.example/rss"\nfolder = 3\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "feeds[0].folder" in str(err.value) and "string" in str(err.value)
    path = write_config(extra='[[feeds]]\nname = "A"\nurl = "https://a.example/rss"\n'
                              'folder = " World / Europe/ "\n')
    assert load_config(path).feeds[0].folder == "World/Europe"


def test_item_filters_take_a_folder(run, tmp_path: Path) -> None:
    from tests.tui.helpers import make_item

    opml = tmp_path / "subs.opml"
    opml.write_text(READER_OPML, encoding="utf-8")
    assert run("feeds", "import", str(opml)).exit_code == 0
    items = [make_item("Envoys meet in Brussels", feed="https://euobserver.com/rss.xml",
                       source="EUobserver", guid="e1"),
             make_item("Crisis Group on Sudan talks", feed="https://www.crisisgroup.org/rss",
                       source="Crisis Group", guid="c1")]
    with Store.open(tmp_path / "store") as store:
        store.upsert_items(items)
    r = run("list", "--folder", "World News", "--archive", "--format", "json")
    assert r.exit_code == 0, r.output
    assert [row["title"] for row in json.loads(r.output)] == ["Envoys meet in Brussels"]
    r = run("list", "--folder", "Nowhere")
    assert r.exit_code == 2 and "no feed is in the folder 'Nowhere'" in r.output

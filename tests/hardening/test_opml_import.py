"""OPML import from elsewhere: size and outline caps, deep nesting without RecursionError,
and entity declarations refused after decoding (UTF-16 cannot smuggle them past a byte check)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.config.opml import MAX_DEPTH, MAX_OPML_BYTES, MAX_OUTLINES, OPMLError, read_opml
from tui.cli.main import cli

HEAD = '<?xml version="1.0" encoding="{enc}"?>\n'
ENTITY_DOC = ('<!DOCTYPE opml [<!ENTITY folder "Diplomacy">]>\n<opml version="2.0"><body>'
              '<outline text="&folder;"><outline text="A" xmlUrl="https://a.example/rss"/>'
              '</outline></body></opml>')
PLAIN_DOC = ('<opml version="2.0"><body><outline text="Diplomacy">'
             '<outline text="A" xmlUrl="https://a.example/rss"/></outline></body></opml>')


def _write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "subs.opml") -> Path:
    path = tmp_path / name
    path.write_bytes((HEAD.format(enc=encoding.upper().replace("-LE", "").replace("-BE", ""))
                      + text).encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-16-be"])
def test_entity_declarations_are_refused_in_any_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "subs.opml"
    body = (HEAD.format(enc="UTF-16" if "16" in encoding else "UTF-8") + ENTITY_DOC)
    data = body.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # with the byte-order mark a reader expects
        data = ("\ufeff" + body).encode(encoding)
    path.write_bytes(data)
    assert b"<!ENTITY" not in data or encoding == "utf-8"
    with pytest.raises(OPMLError, match="declares XML entities"):
        read_opml(path)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_plain_list_still_imports_in_any_encoding(tmp_path: Path, encoding: str) -> None:
    feeds = read_opml(_write(tmp_path, PLAIN_DOC, encoding))
    assert [(f.name, f.url, f.folder) for f in feeds] == [("A", "https://a.example/rss", "Diplomacy")]


def test_5000_deep_nesting_is_an_error_not_a_recursion_error(tmp_path: Path) -> None:
    depth = 5000
    text = ('<opml version="2.0"><body>' + '<outline text="f">' * depth
            + '<outline text="A" xmlUrl="https://a.example/rss"/>' + "</outline>" * depth
            + "</body></opml>")
    with pytest.raises(OPMLError, match=f"nested more than {MAX_DEPTH} deep"):
        read_opml(_write(tmp_path, text))


def test_nesting_within_the_cap_keeps_every_folder(tmp_path: Path) -> None:
    depth = MAX_DEPTH - 1
    text = ('<opml version="2.0"><body>' + "".join(f'<outline text="f{i}">' for i in range(depth))
            + '<outline text="A" xmlUrl="https://a.example/rss"/>' + "</outline>" * depth
            + "</body></opml>")
    (feed,) = read_opml(_write(tmp_path, text))
    assert feed.folder.split("/") == [f"f{i}" for i in range(depth)]


def test_too_many_outlines_are_refused(tmp_path: Path) -> None:
    text = ('<opml version="2.0"><body>'
            + "".join(f'<outline text="{i}" xmlUrl="https://a.example/{i}"/>'
                      for i in range(MAX_OUTLINES + 1)) + "</body></opml>")
    with pytest.raises(OPMLError, match=f"more than {MAX_OUTLINES} outlines"):
        read_opml(_write(tmp_path, text))


def test_a_file_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.opml"
    with open(path, "wb") as fh:
        fh.write(b'<opml version="2.0"><body>')
        fh.write(b" " * MAX_OPML_BYTES)
        fh.write(b"</body></opml>")
    with pytest.raises(OPMLError, match="larger than 10 MiB"):
        read_opml(path)


@pytest.mark.parametrize("kind", ["deep", "entity"])
def test_the_cli_refuses_in_one_line(tmp_path: Path, kind: str) -> None:
    if kind == "deep":
        path = _write(tmp_path, '<opml><body>' + "<outline text='x'>" * 5000
                      + "</outline>" * 5000 + "</body></opml>")
    else:
        path = tmp_path / "e.opml"
        path.write_bytes((HEAD.format(enc="UTF-16") + ENTITY_DOC).encode("utf-16"))
    config = tmp_path / "c.toml"
    config.write_text('[[feeds]]\nname = "X"\nurl = "https://x.example/rss"\n')
    r = CliRunner().invoke(cli, ["--config", str(config), "feeds", "import", str(path)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert "https://a.example/rss" not in config.read_text()

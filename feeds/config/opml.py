"""OPML subscription lists in and out (the format every feed reader exchanges).

An OPML file to import comes from elsewhere, so reading it is bounded: at most
MAX_OPML_BYTES, MAX_OUTLINES outlines and MAX_DEPTH levels of folders, read by expat's
event callbacks (no recursion: a 5,000-deep nesting is an error in words, not a
RecursionError). Entity declarations are refused as the parser reports them, that is after
the document is decoded, whatever its encoding (UTF-16 included).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path

from feeds.config.load import folder_path
from feeds.model import FeedSource
from feeds.text import plain_text
from feeds.redact import redact_url

MAX_OPML_BYTES = 10 * 1024 * 1024
MAX_OUTLINES = 10_000
MAX_DEPTH = 64  # nested outlines (folders)


class OPMLError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class OPMLFeed:
    name: str
    url: str
    tags: tuple[str, ...]
    folder: str = ""  # the enclosing outlines, outer first, joined with "/"


@dataclass(slots=True)
class _Frame:
    kind: str  # "root", "body", "folder", "feed" or "other"
    folders: tuple[str, ...] = ()


@dataclass(slots=True)
class _Reader:
    """Expat callbacks: the outlines of the first <body> of an <opml> root."""

    path: Path
    stack: list[_Frame] = field(default_factory=list)
    feeds: list[OPMLFeed] = field(default_factory=list)
    outlines: int = 0
    body_seen: bool = False

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        parent = self.stack[-1] if self.stack else None
        if parent is None:
            if tag.lower() != "opml":
                raise OPMLError(f"{self.path}: not an OPML file (root element <{tag}>, expected <opml>)")
            self.stack.append(_Frame("root"))
            return
        if len(self.stack) > MAX_DEPTH + 2:
            raise OPMLError(f"{self.path}: outlines nested more than {MAX_DEPTH} deep")
        if parent.kind == "root" and tag == "body" and not self.body_seen:
            self.body_seen = True
            self.stack.append(_Frame("body"))
        elif parent.kind in ("body", "folder") and tag == "outline":
            self.stack.append(self._outline(attrs, parent.folders))
        else:
            self.stack.append(_Frame("other"))

    def _outline(self, attrs: dict[str, str], folders: tuple[str, ...]) -> _Frame:
        self.outlines += 1
        if self.outlines > MAX_OUTLINES:
            raise OPMLError(f"{self.path}: more than {MAX_OUTLINES} outlines")
        url = (attrs.get("xmlUrl") or attrs.get("xmlurl") or "").strip()
        if not url:
            # A folder is named by its text, as newsboat and Miniflux read it (title is the
            # fallback); a "/" in it would read as nesting, so it becomes a dash.
            name = _attr_text(attrs, "text", "title").replace("/", "-")
            return _Frame("folder", folders + ((name,) if name else ()))
        name = _attr_text(attrs, "title", "text")
        cats = tuple(c.strip().strip("/") for c in (attrs.get("category") or "").split(",")
                     if c.strip().strip("/"))
        self.feeds.append(OPMLFeed(name or url, url, cats, folder_path(folders)))
        return _Frame("feed")

    def end(self, tag: str) -> None:
        self.stack.pop()

    def refuse_entity(self, *args: object) -> None:
        # A subscription list has no business declaring entities (billion laughs, XXE).
        raise OPMLError(f"{self.path}: refused: the file declares XML entities")


def _attr_text(attrs: dict[str, str], first: str, fallback: str) -> str:
    return plain_text(attrs.get(first) or attrs.get(fallback) or "", 200, is_html=False).strip()


def read_opml(path: Path) -> list[OPMLFeed]:
    """Every outline with an ``xmlUrl``; enclosing folder outlines become its folder."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_OPML_BYTES + 1)
    except OSError as e:
        raise OPMLError(f"{path}: {e.strerror or e}") from None
    if len(data) > MAX_OPML_BYTES:
        raise OPMLError(f"{path}: larger than {MAX_OPML_BYTES // (1024 * 1024)} MiB")
    reader = _Reader(path)
    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler, parser.EndElementHandler = reader.start, reader.end
    parser.EntityDeclHandler = reader.refuse_entity
    parser.UnparsedEntityDeclHandler = reader.refuse_entity
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as e:
        raise OPMLError(f"{path}: not well-formed XML ({xml.parsers.expat.ErrorString(e.code)}: "
                        f"line {e.lineno}, column {e.offset})") from None
    if not reader.body_seen:
        raise OPMLError(f"{path}: the OPML file has no <body> element")
    return reader.feeds


def write_opml(feeds: tuple[FeedSource, ...], title: str = "diplowatch feeds") -> str:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {"": body}
    for f in feeds:
        if f.is_local:
            continue  # a local path means nothing on another machine
        # A subscription list gets shared: credentials in a URL stay in the config.
        attrs = {"type": "rss", "text": f.name, "title": f.name, "xmlUrl": redact_url(f.url)}
        if f.tags:
            attrs["category"] = ",".join(f.tags)
        ET.SubElement(_folder_outline(folders, f.folder), "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _folder_outline(folders: dict[str, ET.Element], folder: str) -> ET.Element:
    """The outline of ``folder`` ("World/Europe" nested in "World"), made on first use."""
    if folder in folders:
        return folders[folder]
    parent_path, _, name = folder.rpartition("/")
    parent = _folder_outline(folders, parent_path)
    folders[folder] = ET.SubElement(parent, "outline", {"text": name, "title": name})
    return folders[folder]

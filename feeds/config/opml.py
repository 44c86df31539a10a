"""OPML subscription lists in and out (the format every feed reader exchanges)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from feeds.model import FeedSource
from feeds.parse.text import plain_text


class OPMLError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class OPMLFeed:
    name: str
    url: str
    tags: tuple[str, ...]


def read_opml(path: Path) -> list[OPMLFeed]:
    """Every outline with an ``xmlUrl``; enclosing folder outlines become tags."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise OPMLError(f"{path}: {e.strerror or e}") from None
    if b"<!ENTITY" in data:  # a subscription list has no business declaring entities
        raise OPMLError(f"{path}: refused: the file declares XML entities")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise OPMLError(f"{path}: not well-formed XML ({e})") from None
    if root.tag.lower() != "opml":
        raise OPMLError(f"{path}: not an OPML file (root element <{root.tag}>, expected <opml>)")
    body = root.find("body")
    if body is None:
        raise OPMLError(f"{path}: the OPML file has no <body> element")
    out: list[OPMLFeed] = []

    def walk(node: ET.Element, folders: tuple[str, ...]) -> None:
        for child in node.findall("outline"):
            name = plain_text(child.get("title") or child.get("text") or "", 200, is_html=False)
            url = (child.get("xmlUrl") or child.get("xmlurl") or "").strip()
            if url:
                cats = tuple(c.strip().strip("/") for c in (child.get("category") or "").split(",")
                             if c.strip().strip("/"))
                out.append(OPMLFeed(name or url, url, folders + cats))
            else:
                walk(child, folders + ((name,) if name else ()))

    walk(body, ())
    return out


def write_opml(feeds: tuple[FeedSource, ...], title: str = "diplowatch feeds") -> str:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for f in feeds:
        if f.is_local:
            continue  # a local path means nothing on another machine
        attrs = {"type": "rss", "text": f.name, "title": f.name, "xmlUrl": f.url}
        if f.tags:
            attrs["category"] = ",".join(f.tags)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

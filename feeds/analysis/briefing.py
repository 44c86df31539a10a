"""The daily briefing: items grouped by label, then by story cluster, rendered as Markdown or
HTML with every piece of feed text escaped for the format.

:func:`build_briefing` groups (pure); :func:`render_briefing` renders (pure): the CLI's
``brief`` and the dashboard's "save view as briefing" call the same two functions.

Escaping. Markdown: every character Markdown could read as syntax is backslash-escaped
(``\\*\\*bold\\*\\*``, ``\\[x\\]\\(…\\)``, ``\\<script\\>``), ``://`` and ``www.`` are broken up so
that no extended autolink appears, and link targets are http(s) URLs only, with spaces,
brackets, quotes and angle brackets percent-encoded. HTML: ``html.escape`` on every text
and attribute, links ``rel="noopener noreferrer"``, a small inline stylesheet, no script and
a Content-Security-Policy that allows none.
"""
from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Iterable, Mapping

from feeds.analysis.clusters import ClusterView, group_by_cluster
from feeds.model import LABELS, OTHER_LABEL, Item, parse_utc_iso
from feeds.text import clip, safe_link
from feeds.files import write_private
from feeds.redact import redact_url

OTHER = OTHER_LABEL
FORMATS = ("md", "html")
LEDE_MAX = 280
_HEADINGS = {"talks": "Talks", "sanctions": "Sanctions", "statements": "Statements",
             OTHER: "Other news"}


@dataclass(frozen=True, slots=True)
class BriefingGroup:
    label: str  # a label, or "other"
    clusters: tuple[ClusterView, ...]  # newest story first

    @property
    def heading(self) -> str:
        return _HEADINGS.get(self.label, self.label.capitalize())

    @property
    def items(self) -> int:
        return sum(len(c.items) for c in self.clusters)


def cluster_label(view: ClusterView) -> str | None:
    """The label a story is filed under: its members' most common primary label (a tie
    goes to the first of talks, sanctions, statements); None when no member has one."""
    votes = Counter(it.primary for it in view.items if it.primary)
    if not votes:
        return None
    order = {label: i for i, label in enumerate(LABELS)}
    return min(votes, key=lambda lbl: (-votes[lbl], order.get(lbl, len(order)), lbl))


def build_briefing(items: Iterable[Item], *, include_other: bool = False) -> list[BriefingGroup]:
    """Items → groups by label (talks, sanctions, statements, then "other" if asked), each
    a list of stories (clusters of the given items) newest first. A story appears once,
    under :func:`cluster_label`."""
    by_label: dict[str, list[ClusterView]] = {}
    for view in group_by_cluster(items):
        label = cluster_label(view) or OTHER
        by_label.setdefault(label, []).append(view)
    order = [*LABELS, *sorted(set(by_label) - set(LABELS) - {OTHER})]
    if include_other:
        order.append(OTHER)
    return [BriefingGroup(label, tuple(by_label[label])) for label in order if label in by_label]


# --- escaping ------------------------------------------------------------------------------

# Inline syntax anywhere; block syntax (lists, quotes) only where a line could start.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#|~&!$])")
_MD_BLOCK_START = re.compile(r"^(\d+)([.)])|^([-+=>])")
_SPACE = re.compile(r"\s+")
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])://|\bwww\.")
_URL_ENCODE = {c: f"%{ord(c):02X}" for c in " ()<>[]\\`\"'{}|^"}


def md_text(text: str) -> str:
    """Feed text as inert Markdown: it renders as exactly the characters it holds."""
    text = _SPACE.sub(" ", text).strip()
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_BLOCK_START.sub(lambda m: (m.group(1) or "") + "\\" + (m.group(2) or m.group(3)),
                               text)
    # GFM turns bare http://… and www.… into links: break the pattern with an escape.
    return _AUTOLINK.sub(lambda m: m.group().replace(":", "\\:").replace("w.", "w\\."), text)


def md_url(url: str) -> str:
    """An http(s) URL for a Markdown link target, or "" (anything else is not linked)."""
    url = safe_link(url)
    return "".join(_URL_ENCODE.get(c, c) for c in url)


def html_text(text: str) -> str:
    return html.escape(_SPACE.sub(" ", text).strip(), quote=True)


# --- rendering -----------------------------------------------------------------------------

def _local(iso: str, tz: tzinfo | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    dt = datetime.fromtimestamp(parse_utc_iso(iso), timezone.utc)
    return (dt.astimezone(tz) if tz is not None else dt.astimezone()).strftime(fmt)


def _source(item: Item, names: Mapping[str, str] | None) -> str:
    return (names or {}).get(item.feed) or item.source or redact_url(item.feed)


def _lede(view: ClusterView) -> str:
    """The newest summary among the story's versions, cut to a paragraph."""
    return clip(next((it.summary for it in view.items if it.summary), ""), LEDE_MAX)


def _actors(view: ClusterView) -> list[str]:
    return list(dict.fromkeys(a for it in view.items for a in it.actors))


def render_briefing(groups: list[BriefingGroup], fmt: str, now: float,
                    title: str = "diplowatch briefing", *, subtitle: str | None = None,
                    feed_names: Mapping[str, str] | None = None,
                    tz: tzinfo | None = None) -> str:
    """The briefing as Markdown (``fmt="md"``) or a standalone HTML page (``"html"``).

    ``now`` is the generation time shown; ``subtitle`` a line under the title (e.g. the
    filter); ``feed_names`` maps feed keys to the names to show (default: the name stored
    with each item); ``tz`` the time zone of the times shown (default: local).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown briefing format {fmt!r} (expected one of {', '.join(FORMATS)})")
    stories = sum(len(g.clusters) for g in groups)
    items = sum(g.items for g in groups)
    stamp = f"Generated {_local_now(now, tz)} · {stories} stor{'y' if stories == 1 else 'ies'}" \
            f" from {items} item{'' if items == 1 else 's'}"
    render = _markdown if fmt == "md" else _html
    return render(groups, title, subtitle, stamp, feed_names, tz)


def _local_now(now: float, tz: tzinfo | None) -> str:
    dt = datetime.fromtimestamp(now, timezone.utc)
    return (dt.astimezone(tz) if tz is not None else dt.astimezone()).strftime("%Y-%m-%d %H:%M %Z")


def _markdown(groups: list[BriefingGroup], title: str, subtitle: str | None, stamp: str,
              names: Mapping[str, str] | None, tz: tzinfo | None) -> str:
    out = [f"# {md_text(title)}", ""]
    if subtitle:
        out += [md_text(subtitle), ""]
    out += [f"_{md_text(stamp)}_", ""]
    if not groups:
        out += ["No items match.", ""]
    for group in groups:
        n = len(group.clusters)
        out += [f"## {md_text(group.heading)} ({n} stor{'y' if n == 1 else 'ies'})", ""]
        for view in group.clusters:
            lead = view.lead
            out.append(f"### {md_text(lead.title)}")
            out.append("")
            meta = [f"{view.sources} source{'' if view.sources == 1 else 's'}",
                    f"latest {_local(lead.published, tz)}"]
            actors = _actors(view)
            if actors:
                meta.append("actors: " + ", ".join(actors))
            out.append(md_text(" · ".join(meta)))
            out.append("")
            for item in view.items:
                url = md_url(item.link)
                text = md_text(item.title)
                link = f"[{text}]({url})" if url else text
                out.append(f"- {md_text(_local(item.published, tz))} · "
                           f"**{md_text(_source(item, names))}** · {link}")
            lede = _lede(view)
            if lede:
                out += ["", "> " + md_text(lede)]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


_CSS = """body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1.05rem;margin:1.2rem 0 .2rem}.meta{color:#666;font-size:.9rem;margin:.1rem 0}
ul{padding-left:1.2rem;margin:.3rem 0}li{margin:.15rem 0}time{color:#666;font-variant-numeric:tabular-nums}
blockquote{margin:.4rem 0 0;padding-left:.8rem;border-left:3px solid #ddd;color:#444}
a{color:#0b57d0}"""


def _html(groups: list[BriefingGroup], title: str, subtitle: str | None, stamp: str,
          names: Mapping[str, str] | None, tz: tzinfo | None) -> str:
    e = html_text
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
           'style-src \'unsafe-inline\'">',
           '<meta name="referrer" content="no-referrer">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<h1>{e(title)}</h1>"]
    if subtitle:
        out.append(f'<p class="meta">{e(subtitle)}</p>')
    out.append(f'<p class="meta">{e(stamp)}</p>')
    if not groups:
        out.append("<p>No items match.</p>")
    for group in groups:
        n = len(group.clusters)
        out += [f'<section class="{e(group.label)}">',
                f"<h2>{e(group.heading)} ({n} stor{'y' if n == 1 else 'ies'})</h2>"]
        for view in group.clusters:
            lead = view.lead
            meta = [f"{view.sources} source{'' if view.sources == 1 else 's'}",
                    f"latest {_local(lead.published, tz)}"]
            actors = _actors(view)
            if actors:
                meta.append("actors: " + ", ".join(actors))
            out += ["<article>", f"<h3>{e(lead.title)}</h3>",
                    f'<p class="meta">{e(" · ".join(meta))}</p>', "<ul>"]
            for item in view.items:
                url = safe_link(item.link)
                text = (f'<a href="{e(url)}" rel="noopener noreferrer">{e(item.title)}</a>'
                        if url else e(item.title))
                out.append(f'<li><time datetime="{e(item.published)}">'
                           f"{e(_local(item.published, tz))}</time> · "
                           f"<b>{e(_source(item, names))}</b> · {text}</li>")
            out.append("</ul>")
            lede = _lede(view)
            if lede:
                out.append(f"<blockquote>{e(lede)}</blockquote>")
            out.append("</article>")
        out.append("</section>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


@dataclass(frozen=True, slots=True)
class Briefing:
    text: str  # the rendered document
    stories: int
    items: int


def compose_briefing(items: list[Item], fmt: str, now: float, title: str, *,
                     subtitle: str | None = None, feed_names: Mapping[str, str] | None = None,
                     include_other: bool = False) -> Briefing:
    """Items → the rendered briefing with its story and item counts (CLI and dashboard)."""
    groups = build_briefing(items, include_other=include_other)
    text = render_briefing(groups, fmt, now, title, subtitle=subtitle, feed_names=feed_names)
    return Briefing(text, sum(len(g.clusters) for g in groups), sum(g.items for g in groups))


def save_briefing(path: Path, briefing: Briefing) -> None:
    """Write atomically: a crash or a full disk leaves the previous file or the new one whole.
    A new file is 0600 in 0700 folders (feeds.files). Raises OSError."""
    write_private(path, briefing.text.encode("utf-8"))

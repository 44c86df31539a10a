"""Items as the command line shows them: a table for people, JSON and CSV for scripts,
Markdown for notes. Feed text is already plain and control-free (stripped at ingestion);
here it is only laid out, quoted for the format, and cut to the terminal width."""
from __future__ import annotations

import csv
import io
import shutil
from typing import Any, Iterable

import orjson
from rich.cells import cell_len, set_cell_size

from feeds.model import OTHER_LABEL, Item
from feeds.text import safe_text
from feeds.redact import redact_url
from tui.render import local_time

CSV_FIELDS = ("id", "published", "feed", "labels", "primary", "title", "summary", "link",
              "read", "starred", "scores")


def item_row(item: Item, flags: Any, feed_name: str | None = None) -> dict[str, Any]:
    """The JSON shape of an item (also the basis of CSV and Markdown)."""
    return {
        "id": item.id, "title": item.title, "summary": item.summary, "link": item.link,
        "feed": feed_name or item.source, "feed_url": redact_url(item.feed), "published": item.published,
        "first_seen": item.first_seen, "date_missing": item.date_missing,
        "labels": list(item.labels), "primary": item.primary, "scores": item.scores,
        "evidence": [m.to_dict() for m in item.evidence],
        "actors": list(item.actors), "cluster": item.cluster,
        "read": bool(flags.read), "starred": bool(flags.starred),
    }


def to_json(rows: list[dict[str, Any]]) -> str:
    return orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode()


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        out = dict(row)
        out["labels"] = ",".join(row["labels"])
        out["scores"] = ";".join(f"{k}={v:g}" for k, v in row["scores"].items())
        # A cell starting with = + - @ is a formula to a spreadsheet: neutralise it.
        for key in ("title", "summary", "feed", "link"):
            if out[key] and out[key][0] in "=+-@\t\r":
                out[key] = "'" + out[key]
        writer.writerow(out)
    return buf.getvalue()


def to_markdown(rows: list[dict[str, Any]]) -> str:
    from feeds.analysis.briefing import md_text, md_url  # the escaping briefings use (lazy: rapidfuzz)

    lines = []
    for r in rows:
        title = md_text(r["title"])
        head = f"- [{title}]({md_url(r['link'])})" if r["link"] else f"- {title}"
        labels = ", ".join(r["labels"]) or OTHER_LABEL
        lines.append(f"{head}  \n  {md_text(r['feed'])} · {local_time(r['published'])} · {labels}")
        if r["summary"]:
            lines.append(f"  > {md_text(r['summary'])}")
    return "\n".join(lines) + ("\n" if lines else "")


def table(rows: Iterable[list[str]], headers: list[str], *, flex: int = -1,
          width: int | None = None) -> str:
    """Plain-text columns cut to the terminal width; column ``flex`` takes what is left."""
    rows = [[safe_text(c) for c in r] for r in rows]  # no control, tab or line break in a cell
    width = width or shutil.get_terminal_size((120, 24)).columns
    cols = len(headers)
    # Terminal cells, not characters: a CJK character takes two, a combining mark none.
    widths = [max([cell_len(headers[i])] + [cell_len(r[i]) for r in rows]) for i in range(cols)]
    flex = flex % cols
    fixed = sum(w for i, w in enumerate(widths) if i != flex) + 2 * (cols - 1)
    widths[flex] = max(10, min(widths[flex], width - fixed))

    def fmt(cells: list[str]) -> str:
        out = []
        for i, c in enumerate(cells):
            if cell_len(c) > widths[i]:
                c = set_cell_size(c, widths[i] - 1).rstrip() + "…"
            out.append(c + " " * (widths[i] - cell_len(c)) if i < cols - 1 else c)
        return "  ".join(out).rstrip()

    return "\n".join([fmt(headers)] + [fmt(r) for r in rows])

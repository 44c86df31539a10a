"""``diplowatch labels …``: the labels analysts set by hand (the dashboard's ``l``, or
``labels set``), as a list and as an evaluation set: what the desk taught, scored with
``rules eval``."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from feeds.files import write_private
from feeds.model import LABELS, OTHER_LABEL
from feeds.redact import redact_url
from tui.cli.context import AppContext, StoreLocked, UserError, through_daemon
from tui.cli.output import table, to_json
from tui.render import local_time

EVAL_HEADER = ("id", "headline", "lede", "labels", "source", "url")
# An eval TSV is read without quoting: a cell never holds a tab or a line break.
_BREAKS = re.compile(r"[\t\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")


@click.group()
def labels() -> None:
    """Labels set by hand (the dashboard's l): set, list, export them for `rules eval`."""


def tsv_cell(text: str) -> str:
    """``text`` as one cell of an eval TSV: tabs and line breaks become spaces."""
    return _BREAKS.sub(" ", text).strip()


def corrections(obj: AppContext) -> list[dict[str, Any]]:
    """Every corrected item still stored, oldest correction first: the item's fields and
    the labels set by hand."""
    store = obj.open_store(readonly=True)
    names = {f.key: f.name for f in obj.config.feeds}
    out = []
    for item_id, fix in sorted(store.corrections().items(), key=lambda kv: (kv[1].at, kv[0])):
        item = store.get(item_id)
        if item is None:  # gone since (recovered from a damaged week)
            continue
        out.append({"id": item.id, "title": item.title, "summary": item.summary,
                    "labels": [lbl for lbl in LABELS if lbl in fix.labels], "at": fix.at,
                    "feed": names.get(item.feed) or item.source,
                    "feed_url": redact_url(item.feed), "link": item.link,
                    "scores": item.scores})
    return out


def eval_tsv(rows: list[dict[str, Any]]) -> str:
    """The corrections as a TSV `diplowatch rules eval` reads: the headline and lede as the
    classifier sees an item, the labels set by hand as the gold standard."""
    lines = ["\t".join(EVAL_HEADER)]
    for r in rows:
        cells = (r["id"], r["title"], r["summary"], ",".join(r["labels"]), r["feed"], r["link"])
        lines.append("\t".join(tsv_cell(c) for c in cells))
    return "\n".join(lines) + "\n"


@labels.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to a file (0600).")
@click.pass_obj
def export_labels(obj: AppContext, output: str | None) -> None:
    """The labels set by hand as an eval TSV (id, headline, lede, labels, source, url)."""
    rows = corrections(obj)
    text = eval_tsv(rows)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        write_private(Path(output), text.encode("utf-8"))
    except OSError as e:
        raise UserError(f"could not write the labels to {output}: {e.strerror or e}") from None
    click.echo(f"wrote {len(rows)} labelled items to {output} "
               f"(score the rules on them: diplowatch rules eval {output})", err=True)


@labels.command("set")
@click.argument("item_id")
@click.argument("names", nargs=-1, type=click.Choice(LABELS), metavar="[LABEL]...")
@click.option("--other", "--none", "no_label", is_flag=True,
              help="No label: the item goes to other (--none is the same).")
@click.pass_obj
def set_labels(obj: AppContext, item_id: str, names: tuple[str, ...], no_label: bool) -> None:
    """Set an item's labels by hand, as `l` does in the dashboard: the rules never undo it."""
    from tui.cli.items import resolve_ids

    if bool(names) == no_label:
        raise UserError(f"labels set needs labels ({', '.join(LABELS)}) or --other, not both")
    try:
        store = obj.open_store()
    except StoreLocked as locked:
        # A daemon owns the store: it sets them (and tells its viewers), as it marks.
        [full] = resolve_ids(obj.open_store(readonly=True), [item_id], " (nothing changed)")
        with through_daemon(obj, locked) as client:
            answer = client.set_labels(full, names)
        click.echo(f"{full}: {', '.join(answer['labels']) or OTHER_LABEL} (through the daemon)")
        return
    [full] = resolve_ids(store, [item_id], " (nothing changed)")
    item = store.set_labels(full, names)
    if item is None:  # pragma: no cover - resolved ids are stored
        raise UserError(f"no item with id {item_id!r} in {store.path}")
    obj.save(store, "save the labels", "the labels were not changed")
    click.echo(f"{full}: {', '.join(item.labels) or OTHER_LABEL}")


@labels.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def list_labels(obj: AppContext, fmt: str) -> None:
    """Every item whose labels were set by hand, with what the current rules say of it."""
    from feeds.classify.engine import Classifier

    rows = corrections(obj)
    classify = Classifier.from_spec(obj.config.rules).classify
    for r in rows:
        r["rules"] = list(classify(r["title"], r["summary"]).labels)
    if fmt == "json":
        click.echo(to_json([{k: v for k, v in r.items() if k != "scores"} for r in rows]))
        return
    if not rows:
        click.echo("no labels were set by hand (the dashboard's l key sets them)")
        return
    click.echo(table(
        [[r["id"], local_time(r["at"]), ",".join(r["labels"]) or OTHER_LABEL,
          ",".join(r["rules"]) or OTHER_LABEL, "" if r["rules"] == r["labels"] else "≠", r["feed"],
          r["title"]] for r in rows],
        ["ID", "SET", "LABELS", "RULES", "", "FEED", "TITLE"]))

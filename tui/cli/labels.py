"""``diplowatch labels …``: the labels analysts set by hand (the dashboard's ``l``, or
``labels set``), as a list and as an evaluation set: what the desk taught, scored with
``rules eval``; and the items whose labels the rules are least sure of, to set first."""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from feeds.files import write_private
from feeds.model import LABELS, OTHER_LABEL
from feeds.redact import redact_url
from tui.cli.context import AppContext, StoreLocked, UserError, through_daemon
from tui.cli.items import archive_progress, with_filters
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


def _write_tsv(text: str, output: str, what: str, then: str) -> None:
    try:
        write_private(Path(output), text.encode("utf-8"))
    except OSError as e:
        raise UserError(f"could not write the labels to {output}: {e.strerror or e}") from None
    click.echo(f"wrote {what} to {output} ({then})", err=True)


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
    _write_tsv(text, output, f"{len(rows)} labelled items",
               f"score the rules on them: diplowatch rules eval {output}")


def doubtful(obj: AppContext, f: Any, limit: int, about: str | None = None
             ) -> list[dict[str, Any]]:
    """The ``limit`` items matching ``f`` whose labels the current rules are least sure of
    (a label's score nearest its threshold), nearest first, newest first among equals;
    items with labels set by hand are left out (the desk has settled them). ``f`` selects
    stored items as `list` does (``--label``: the labels stored with them); ``about``: only
    the doubts about that label (the other labels' scores are not weighed)."""
    from feeds.classify.doubt import label_thresholds, least_sure
    from feeds.classify.engine import Classifier

    store = obj.open_store(readonly=True, on_disk=f.archive is True)
    settled = store.corrections()
    spec = obj.config.rules
    classify = Classifier.from_spec(spec).classify
    thresholds = label_thresholds(spec, about)
    names = {s.key: s.name for s in obj.config.feeds}
    # newest first: least_sure keeps that order among equals
    items = store.query(f, progress=archive_progress(f.archive is True and sys.stderr.isatty()))

    def scored(item: Any) -> tuple[tuple[Any, Any], Any]:
        result = classify(item.title, item.summary)
        return (item, result), result.scores

    found = least_sure((scored(it) for it in items if it.id not in settled), thresholds, limit)
    return [{"id": item.id, "title": item.title, "summary": item.summary,
             "labels": list(result.labels), "doubt": near.to_json(),
             "scores": dict(result.scores), "feed": names.get(item.feed) or item.source,
             "link": item.link, "published": item.published}
            for near, (item, result) in found]


@labels.command("review")
@click.pass_obj
@with_filters(skip=("limit",))
# (not "limit": with_filters takes that name for the query's own limit)
@click.option("--limit", "count", type=click.IntRange(min=1), default=20, show_default=True,
              metavar="N", help="The N items the rules are least sure of.")
@click.option("--about", type=click.Choice(LABELS), metavar="LABEL",
              help="Only the doubts about this label: its score near its threshold.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "tsv"]), default="table")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Write to a file (0600; --format tsv).")
def review_labels(obj: AppContext, f: Any, count: int, about: str | None, fmt: str,
                  output: str | None) -> None:
    """The items whose labels the rules are least sure of, to check first.

    A label's score nearest its threshold, above or below (relative to the threshold), is
    where the rules are most often wrong. The rules as they are now classify the items that
    the filters select (as `list` does, by what is stored). Items with labels set by hand
    are left out, and so are items with no label's score above 0 (no rule fired, or only
    penalties). Set the right labels with the dashboard's l (or v, its review screen) or
    `labels set`; `--format tsv` writes them as an eval TSV whose labels column holds the
    rules' labels, to correct by hand and score with `rules eval` or `rules suggest`."""
    from feeds.classify.doubt import Doubt

    if output is not None and fmt != "tsv":
        raise UserError("--output writes an eval TSV: add --format tsv")
    rows = doubtful(obj, f, count, about)
    if fmt == "json":
        click.echo(to_json(rows))
    elif fmt == "tsv":
        text = eval_tsv(rows)
        if output is None:
            click.echo(text, nl=False)
        else:
            _write_tsv(text, output, f"{len(rows)} items with the rules' labels",
                       f"correct the labels column, then: diplowatch rules eval {output}")
    elif not rows:
        click.echo("no item to review: of the items that match and are not set by hand, "
                   "none has a label's score above 0")
    else:
        click.echo(table(
            [[r["id"], ",".join(r["labels"]) or OTHER_LABEL,
              Doubt(**r["doubt"]).words,
              r["feed"], r["title"]] for r in rows],
            ["ID", "RULES", "NEAREST", "FEED", "TITLE"]))


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

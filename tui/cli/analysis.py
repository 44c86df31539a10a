"""The analyst's commands: ``trends``, ``brief`` and ``clusters``."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from feeds.model import NO_LABEL, OTHER_LABEL, label_name, utc_iso
from tui.cli.items import build_filter, filter_options
from tui.cli.context import AppContext, UserError
from tui.cli.output import item_row, table, to_json
from tui.render import local_time, plural


# --- trends --------------------------------------------------------------------------------

def _change(last: int, prev: int) -> str:
    if prev == 0:
        return "new" if last else "-"
    return f"{(last - prev) / prev:+.0%}"


def _numbers_right(rows: list[list[str]], columns) -> tuple[list[list[str]], list[str]]:
    """(rows, headers) with the given columns right-aligned (``table`` pads to the left)."""
    for col in columns:
        width = max(len(r[col]) for r in rows)
        for r in rows:
            r[col] = r[col].rjust(width)
    return rows[1:], rows[0]


def trends_table(tr: Any, width: int | None = None) -> str:
    """The text of ``diplowatch trends`` (also what the README shows)."""
    from feeds.analysis.trends import sparkline

    days = len(tr.days)
    span = 7 if days >= 14 else max(1, days // 2)
    lines = [f"Items per day (UTC), {tr.days[0]} to {tr.days[-1]}: {plural(tr.items, 'item')}", ""]
    rows = []
    for label, counts in tr.labels.items():
        last, prev = tr.change(label, span)
        rows.append([label_name(label), str(sum(counts)), str(last), str(prev),
                     _change(last, prev), sparkline(counts)])
    headers = ["LABEL", "TOTAL", f"LAST {span}D", f"PREV {span}D", "CHANGE", "PER DAY"]
    lines.append(table(*_numbers_right([headers, *rows], range(1, 5)), flex=0, width=width))
    lines.append("")
    if tr.actors:
        rows = [[a.name, str(a.total), sparkline(a.daily)] for a in tr.actors]
        lines.append(table(*_numbers_right([["TOP ACTORS", "ITEMS", "PER DAY"], *rows], [1]),
                           flex=0, width=width))
    else:
        lines.append("no actors named in this window")
    return "\n".join(lines)


@click.command()
@click.option("--days", type=click.IntRange(2, 90), default=14, show_default=True,
              help="How many days back (14 or 30 read best).")
@click.option("--top", type=click.IntRange(1, 100), default=10, show_default=True,
              help="How many actors to list.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def trends(obj: AppContext, days: int, top: int, fmt: str) -> None:
    """Items per label per day, with sparklines, and the actors named most."""
    from feeds.analysis.trends import compute_trends

    store = obj.open_store(readonly=True)
    tr = compute_trends(store, days, obj.clock(), top=top)
    if fmt == "json":
        click.echo(to_json(tr.to_dict()))
    else:
        click.echo(trends_table(tr))


# --- brief ---------------------------------------------------------------------------------

@click.command()
@filter_options
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to a file.")
@click.option("--other", "include_other", is_flag=True,
              help="Also list the items with no label (other).")
@click.option("--title", default="diplowatch briefing", show_default=True, help="The briefing's title.")
@click.pass_obj
def brief(obj: AppContext, label, feeds, tags, folders, since, search, actor, unread, starred,
          limit, archive, fmt: str, output: str | None, include_other: bool, title: str) -> None:
    """A briefing of the last 24 hours (or --since): by label, one entry per story with
    every source's version, newest first; Markdown or HTML."""
    from feeds.analysis.briefing import compose_briefing, save_briefing

    since = since or "24h"
    f = build_filter(obj, label=label, feeds=feeds, tags=tags, since=since, search=search,
                     actor=actor, unread=unread, starred=starred, limit=limit, archive=archive,
                     folders=folders)
    store = obj.open_store(readonly=True)
    items = store.query(f)
    subtitle = f"Items published since {local_time(f.since, '%Y-%m-%d %H:%M')}"
    details = [f"label {label_name(f.label)}" if f.label else "", f"actor {f.actor}" if f.actor else "",
               f"feeds {', '.join(feeds)}" if feeds else "", f"tags {', '.join(tags)}" if tags else "",
               f'search "{search}"' if search else ""]
    if any(details):
        subtitle += " · " + " · ".join(d for d in details if d)
    names = {s.key: s.name for s in obj.config.feeds}
    briefing = compose_briefing(items, fmt, obj.clock(), title, subtitle=subtitle,
                                feed_names=names, include_other=include_other or f.label == NO_LABEL)
    if output:
        try:
            save_briefing(Path(output), briefing)
        except OSError as e:
            raise UserError(f"could not write the briefing to {output}: {e.strerror or e}") from None
        click.echo(f"wrote a briefing of {plural(briefing.stories, 'story', 'stories')} "
                   f"({plural(len(items), 'item')}) to {output}",
                   err=True)
    else:
        click.echo(briefing.text, nl=False)


# --- clusters ------------------------------------------------------------------------------

@click.group()
def clusters() -> None:
    """Stories carried by several feeds: list them, show one, rebuild them."""


@clusters.command("list")
@click.option("--since", default="48h", show_default=True, metavar="WHEN",
              help='Stories with an item published since: "48h", "7d" or a date.')
@click.option("--min-sources", type=click.IntRange(1), default=2, show_default=True,
              help="Only stories carried by at least this many feeds.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def list_clusters(obj: AppContext, since: str, min_sources: int, fmt: str) -> None:
    """Stories of the recent days, newest first, with how many feeds carry them."""
    from feeds.analysis.briefing import cluster_label
    from feeds.analysis.clusters import group_by_cluster

    f = build_filter(obj, label=None, feeds=(), tags=(), since=since, search=None, actor=None,
                     unread=False, starred=False, limit=None, archive=None)
    store = obj.open_store(readonly=True)
    views = [v for v in group_by_cluster(store.query(f)) if v.sources >= min_sources]
    if fmt == "json":
        click.echo(to_json([{"cluster": v.id, "sources": v.sources,
                             "label": cluster_label(v) or OTHER_LABEL,
                             "items": [it.id for it in v.items], "title": v.lead.title,
                             "published": v.published} for v in views]))
    elif not views:
        click.echo(f"no story carried by {min_sources} or more feeds since {since}")
    else:
        click.echo(table([[v.id, local_time(v.published), str(v.sources), str(len(v.items)),
                           cluster_label(v) or OTHER_LABEL, v.lead.title] for v in views],
                         ["CLUSTER", "LATEST", "SOURCES", "ITEMS", "LABEL", "TITLE"]))


@clusters.command("show")
@click.argument("cluster_id")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def show_cluster(obj: AppContext, cluster_id: str, fmt: str) -> None:
    """Every source's version of one story (CLUSTER_ID, or the id of any of its items)."""
    from feeds.analysis.clusters import cluster_members, cluster_of

    store = obj.open_store(readonly=True)
    item = store.get(cluster_id)
    cid = cluster_of(item) if item is not None else cluster_id
    members = cluster_members(store, cid)
    if not members:
        raise UserError(f"no cluster or item {cluster_id!r} in the recent window of {store.path}")
    names = {s.key: s.name for s in obj.config.feeds}
    if fmt == "json":
        # The rows of `list --format json`: feed (the name) and feed_url, read and starred.
        rows = [item_row(it, store.flags(it.id), names.get(it.feed)) for it in members]
        click.echo(to_json({"cluster": cid, "items": rows}))
        return
    click.echo(f"{members[0].title}\n\ncluster {cid}: "
               f"{plural(len({m.feed for m in members}), 'source')}, "
               f"{plural(len(members), 'item')}\n")
    click.echo(table([[it.id, local_time(it.published), names.get(it.feed, it.source),
                       ", ".join(it.actors) or "-", it.title] for it in members],
                     ["ID", "PUBLISHED", "FEED", "ACTORS", "TITLE"]))


@clusters.command("rebuild")
@click.pass_obj
def rebuild_clusters(obj: AppContext) -> None:
    """Cluster the items of the last days again (after changing [clusters] or [actors], or
    for items stored before clustering existed). Items keep their ids; stories get new
    cluster ids."""
    from feeds.analysis.clusters import Clusterer

    config = obj.config
    if not config.clusters.enabled:
        raise UserError(f"clustering is switched off ([clusters] enabled = false in {config.path})")
    store = obj.open_store()
    now = obj.clock()
    clusterer = Clusterer(config.clusters, config.actors)
    cutoff = utc_iso(now - config.clusters.horizon)
    # In the order the poller would have met them, each starting as its own story.
    items = sorted((it for it in store.recent() if it.published >= cutoff),
                   key=lambda it: (it.first_seen, it.published, it.id))
    items = [dataclasses.replace(it, cluster=None) for it in items]
    assigned = []
    for item in items:
        [item] = clusterer.assign([item], now)
        clusterer.add([item], now)
        assigned.append(item)
    store.upsert_items(assigned)
    store.flush()
    feeds_of: dict[str | None, set[str]] = {}
    for item in assigned:
        feeds_of.setdefault(item.cluster, set()).add(item.feed)
    stories = len(feeds_of)
    multi = sum(1 for feeds in feeds_of.values() if len(feeds) > 1)
    click.echo(f"clustered {plural(len(assigned), 'item')} published since {local_time(cutoff)}: "
               f"{plural(stories, 'story', 'stories')}, {multi} carried by several feeds")


@clusters.command("explain")
@click.argument("title_a")
@click.argument("title_b")
@click.pass_obj
def explain_clusters(obj: AppContext, title_a: str, title_b: str) -> None:
    """Would two headlines (from different feeds, within the window) be one story? Shows
    each test, for tuning [clusters] and [actors]."""
    from feeds.analysis.clusters import Normaliser, compare

    config = obj.config
    norm = Normaliser(config.actors)
    c = compare(norm.signature(title_a), norm.signature(title_b), config.clusters)
    s = config.clusters
    lines = [
        f"A: {c.a.text}", f"   distinctive: {', '.join(c.a.distinctive) or '-'}",
        f"B: {c.b.text}", f"   distinctive: {', '.join(c.b.distinctive) or '-'}",
        f"shared distinctive words: {len(c.shared)} ({', '.join(c.shared) or '-'}); "
        f"need {s.min_shared} and half of the shorter headline's",
        f"evidence (phrases + a common actor): {c.evidence}; need {s.min_shared}",
        f"contradiction (numbers or proper nouns): {'yes' if c.conflict else 'no'}",
        f"token_set_ratio: {c.score:.0f}; need {s.threshold:g}",
        f"verdict: {'the same story' if c.same_story else 'different stories'}",
    ]
    click.echo("\n".join(lines))

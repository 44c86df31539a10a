"""Reviewing the store offline: list, show, export, mark, recover."""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any, Callable

import click

from feeds.model import LABELS, NO_LABEL, OTHER_LABEL, label_key, utc_iso
from feeds.config.units import parse_since
from feeds.files import write_private
from tui.cli.context import AppContext, StoreLocked, UserError, store_error_text, through_daemon
from tui.cli.output import item_row, table, to_csv, to_json, to_markdown
from tui.render import local_time, plural, relative


def filter_options(fn: Callable, skip: tuple[str, ...] = ()) -> Callable:
    """The item filters shared by `list`, `export`, `brief` and `mark --all` (``skip``: the
    options a command leaves out, by parameter name)."""
    opts = {
        "label": click.option("--label", type=click.Choice((*LABELS, OTHER_LABEL, NO_LABEL)),
                              help="Only this label (other: items with no label; none is the same)."),
        "feeds": click.option("--feed", "feeds", multiple=True, metavar="NAME", help="Only this feed (name or URL; repeatable)."),
        "tags": click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only feeds with this tag (repeatable)."),
        "folders": click.option("--folder", "folders", multiple=True, metavar="FOLDER",
                                help="Only the feeds of this folder and the folders inside it (repeatable)."),
        "since": click.option("--since", metavar="WHEN", help='Published since: "24h", "7d" or a date "2026-01-01".'),
        "search": click.option("--search", metavar="TEXT", help="Words that must all appear (title, summary, source)."),
        "actor": click.option("--actor", metavar="NAME", help="Only items naming this actor (a name or an alias: Kremlin)."),
        "unread": click.option("--unread", is_flag=True, help="Only unread items."),
        "starred": click.option("--starred", is_flag=True, help="Only starred items."),
        "limit": click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N items."),
        "archive": click.option("--archive/--recent", "archive", default=None,
                                help="Search the whole history, or only the recent window (default: as needed)."),
    }
    for name, opt in reversed(opts.items()):
        if name not in skip:
            fn = opt(fn)
    return fn


def build_filter(obj: AppContext, *, label: str | None, feeds: tuple[str, ...], tags: tuple[str, ...],
                 since: str | None, search: str | None, actor: str | None, unread: bool,
                 starred: bool, limit: int | None, archive: bool | None,
                 folders: tuple[str, ...] = ()) -> Any:
    from storage.query import ItemFilter

    config = obj.config
    keys: set[str] | None = None
    if feeds or tags or folders:
        keys = _folder_keys(config, folders)
        for name in feeds:
            source = config.feed(name)
            if source is None:
                raise UserError(f"no feed named {name!r} in {config.path} (see `diplowatch feeds list`)")
            keys.add(source.key)
        for tag in tags:
            tagged = {f.key for f in config.feeds if tag in f.tags}
            if not tagged:
                raise UserError(f"no feed has the tag {tag!r} in {config.path}")
            keys |= tagged
    since_iso = None
    if since:
        try:
            since_iso = utc_iso(parse_since(since, obj.clock()))
        except (ValueError, OverflowError, OSError) as e:
            raise UserError(f"--since: {e}") from None
    if actor and config.actors is not None:
        actor = config.actors.resolve(actor) or actor  # "--actor Kremlin" finds Russia
    return ItemFilter(label=label_key(label) if label else None,
                      feeds=frozenset(keys) if keys is not None else None,
                      since=since_iso, text=search or None, unread=unread, starred=starred,
                      actor=actor or None, limit=limit, archive=archive)


def _folder_keys(config: Any, folders: tuple[str, ...]) -> set[str]:
    """The feeds of each folder (with the folders inside it), as ``feeds list --folder``."""
    from tui.cli.feeds import in_folder

    keys: set[str] = set()
    for folder in folders:
        found = {f.key for f in config.feeds if in_folder(f.folder, folder)}
        if not found:
            raise UserError(f"no feed is in the folder {folder!r} in {config.path}")
        keys |= found
    return keys


def archive_progress(enabled: bool) -> Callable[[int, int], None] | None:
    """A one-line progress indicator on stderr for scans of the archive."""
    if not enabled:
        return None

    def report(done: int, total: int) -> None:
        click.echo(f"\rsearching the archive: {done}/{total} weeks", err=True, nl=done >= total)

    return report


def _rows(obj: AppContext, store: Any, items: list) -> list[dict]:
    from storage.atomic import paused_gc

    names = {f.key: f.name for f in obj.config.feeds}
    with paused_gc():  # up to a whole history of acyclic rows
        return [item_row(it, store.flags(it.id), names.get(it.feed)) for it in items]


FILTER_DEFAULTS: dict[str, Any] = {
    "label": None, "feeds": (), "tags": (), "folders": (), "since": None, "search": None, "actor": None,
    "unread": False, "starred": False, "limit": None, "archive": None}


def with_filters(fn: Callable | None = None, *, skip: tuple[str, ...] = ()) -> Any:
    """The filter options, handed to ``fn`` as one ItemFilter (``f``, after ``obj``)."""
    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(obj: AppContext, **kw: Any) -> Any:
            given = {k: kw.pop(k) for k in FILTER_DEFAULTS if k in kw}
            return fn(obj, build_filter(obj, **{**FILTER_DEFAULTS, **given}), **kw)
        return filter_options(wrapper, skip)
    return decorate(fn) if fn is not None else decorate


@click.command("list")
@click.pass_obj
@with_filters
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
def list_items(obj: AppContext, f: Any, fmt: str) -> None:
    """List stored items, newest first."""
    import sys

    # --archive reads every week from disk (the ended ones through their word indexes):
    # loading the recent window into memory would cost more than the search.
    store = obj.open_store(readonly=True, on_disk=f.archive is True)
    screenful = f.limit is None and fmt == "table"  # --limit or a format for more
    if screenful:
        f = dataclasses.replace(f, limit=SCREENFUL + 1)  # one more: are there more?
    items = store.query(f, progress=archive_progress(fmt == "table" and sys.stderr.isatty()))
    more = screenful and len(items) > SCREENFUL
    rows = _rows(obj, store, items[:SCREENFUL] if more else items)
    if fmt == "json":
        click.echo(to_json(rows))
    elif fmt == "csv":
        click.echo(to_csv(rows), nl=False)
    elif not rows:
        click.echo("no items match")
    else:
        click.echo(table(
            [[r["id"], local_time(r["published"]), ",".join(r["labels"]) or OTHER_LABEL,
              ("*" if r["starred"] else "") + ("" if r["read"] else "•"), r["feed"], r["title"]]
             for r in rows],
            ["ID", "PUBLISHED", "LABELS", "", "FEED", "TITLE"]))
        if more:
            click.echo(_more_line(store, f))


SCREENFUL = 50  # rows `list` shows as a table without --limit


def _more_line(store: Any, f: Any) -> str:
    """What a table cut at a screenful did not show: the count where it is cheap (the recent
    window, in memory), else only that more match."""
    if f.archive is not True:
        total = len(store.query(dataclasses.replace(f, limit=None, archive=False)))
        if total > SCREENFUL:
            return f"{SCREENFUL} of {total:,} (use --limit)"
    return f"the newest {SCREENFUL} shown; more match (use --limit)"


@click.command()
@click.argument("item_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_obj
def show(obj: AppContext, item_id: str, fmt: str) -> None:
    """One item in full, with the evidence for its labels."""
    store = obj.open_store(readonly=True)
    item = _find(store, item_id)
    row = _rows(obj, store, [item])[0]
    if fmt == "json":
        click.echo(to_json(row))
        return
    now = obj.clock()
    lines = [
        row["title"], "",
        f"id:        {item.id}",
        f"feed:      {row['feed']}",
        f"published: {local_time(item.published, '%Y-%m-%d %H:%M %Z')} ({relative(item.published, now)})"
        + (" [no date in the feed: first seen]" if item.date_missing else ""),
        f"link:      {item.link or '-'}",
        f"labels:    {', '.join(f'{lbl} ({item.scores.get(lbl, 0):g})' for lbl in item.labels) or OTHER_LABEL}"
        + (f"; primary {item.primary}" if item.primary else ""),
        f"flags:     {'read' if row['read'] else 'unread'}{', starred' if row['starred'] else ''}",
    ]
    if item.actors:
        lines.append(f"actors:    {', '.join(item.actors)}")
    lines += ["", item.summary or "(no summary)", ""]
    if item.evidence:
        lines.append("evidence:")
        for m in item.evidence:
            lines.append(f"  {m.label:<11} {m.term!r} matched {m.text!r} in the {m.field} "
                         f"at {m.start}-{m.end} ({m.weight:+g})")
    else:
        lines.append("evidence: no rule term fired")
    click.echo("\n".join(lines))


def _find(store: Any, item_id: str) -> Any:
    [full] = resolve_ids(store, [item_id])
    item = store.get(full)
    if item is None:  # pragma: no cover - resolved ids are stored
        raise UserError(f"no item with id {item_id!r} in {store.path}")
    return item


MIN_PREFIX = 4  # as git: any unique prefix of at least 4 characters names an item


def resolve_ids(store: Any, typed: Any, nothing_done: str = "") -> list[str]:
    """Full item ids for ids or unique prefixes, all or nothing: one UserError naming every
    id that is unknown or ambiguous."""
    resolved, problems = [], []
    for raw in typed:
        text = raw.strip().lower()
        ok = MIN_PREFIX <= len(text) <= 16 and all(c in "0123456789abcdef" for c in text)
        matches = store.ids_with_prefix(text, 2) if ok else []
        if len(matches) == 1:
            resolved.append(matches[0])
        elif matches:
            problems.append(f"{raw!r} is ambiguous ({matches[0]}, {matches[1]}, …)")
        elif 0 < len(text) < MIN_PREFIX:
            problems.append(f"{raw!r} is too short (give at least {MIN_PREFIX} characters)")
        else:
            problems.append(f"no item with id {raw!r}")
    if problems:
        raise UserError(f"{'; '.join(problems)} in {store.path}{nothing_done}")
    return list(dict.fromkeys(resolved))


@click.command()
@click.pass_obj
@with_filters
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "md"]), default="json")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to a file.")
def export(obj: AppContext, f: Any, fmt: str, output: str | None) -> None:
    """Export items (same filters as `list`) as JSON, CSV or Markdown."""
    store = obj.open_store(readonly=True)
    rows = _rows(obj, store, store.query(f, progress=archive_progress(output is not None)))
    text = {"json": lambda: to_json(rows) + "\n", "csv": lambda: to_csv(rows),
            "md": lambda: to_markdown(rows)}[fmt]()
    if output:
        try:
            write_private(Path(output), text.encode("utf-8"))  # 0600 in 0700 folders
        except OSError as e:  # a full disk, a read-only folder: one line, not a traceback
            raise UserError(f"could not write the export to {output}: {e.strerror or e}") from None
        click.echo(f"wrote {plural(len(rows), 'item')} to {output}", err=True)
    else:
        click.echo(text, nl=False)


@click.command()
@click.pass_obj
@with_filters(skip=("unread",))  # --unread is the mark here; --read marks only unread ones
@click.argument("item_ids", nargs=-1)
@click.option("--all", "every", is_flag=True,
              help="Every item the filters match (as `list --format json` shows them), not IDs.")
@click.option("--read/--unread", "read", default=None, help="Mark read or unread.")
@click.option("--star/--unstar", "star", default=None, help="Star or unstar.")
@click.option("--dry-run", is_flag=True, help="Say how many items would change; mark nothing.")
def mark(obj: AppContext, f: Any, item_ids: tuple[str, ...], every: bool, read: bool | None,
         star: bool | None, dry_run: bool) -> None:
    """Mark items read/unread or starred/unstarred: the IDs given, or --all with filters."""
    _check_mark_args(f, item_ids, every, read, star)
    if dry_run:
        store = obj.open_store(readonly=True)
        ids = _mark_targets(store, f, item_ids, every)
        n = _would_change(store, ids, read, star)
        click.echo(f"would mark {plural(n, 'item')}{_mark_words(read, star)} "
                   f"({plural(len(ids), 'match', 'matches')}; nothing marked)")
        return
    try:
        store = obj.open_store()
    except StoreLocked as locked:
        # A daemon owns the store: it does the marking (and tells its viewers).
        _mark_through_daemon(obj, locked, f, item_ids, every, read, star)
        return
    ids = _mark_targets(store, f, item_ids, every)  # all or nothing
    if ids:
        store.mark_many(ids, read=read, starred=star)
        obj.save(store, "save the marks", "nothing was marked")
    click.echo(f"marked {plural(len(ids), 'item')}")


def _check_mark_args(f: Any, item_ids: tuple[str, ...], every: bool, read: bool | None,
                     star: bool | None) -> None:
    from storage.query import ItemFilter

    if read is None and star is None:
        raise UserError("mark needs --read, --unread, --star or --unstar")
    if every and item_ids:
        raise UserError("mark takes item IDs or --all, not both")
    if not every and not item_ids:
        raise UserError("mark needs item IDs, or --all (with the filters of `list`)")
    if not every and f != ItemFilter():
        raise UserError("the filters (--label, --feed, --since…) choose items only with --all")


def _mark_targets(store: Any, f: Any, item_ids: tuple[str, ...], every: bool) -> list[str]:
    """The ids to mark: every match of ``f`` (--all), else the ids typed, resolved all or
    nothing."""
    if every:
        return [item.id for item in store.query(f)]
    return resolve_ids(store, item_ids, " (nothing marked)")


def _would_change(store: Any, ids: list[str], read: bool | None, star: bool | None) -> int:
    def changes(iid: str) -> bool:
        flags = store.flags(iid)
        return (read is not None and flags.read != read) or \
            (star is not None and flags.starred != star)
    return sum(1 for iid in ids if changes(iid))


def _mark_words(read: bool | None, star: bool | None) -> str:
    words = [w for w, on in (("read", read is True), ("unread", read is False),
                             ("starred", star is True), ("unstarred", star is False)) if on]
    return " " + " and ".join(words) if words else ""


def _mark_through_daemon(obj: AppContext, locked: StoreLocked, f: Any,
                         item_ids: tuple[str, ...], every: bool, read: bool | None,
                         star: bool | None) -> None:
    from feeds.service.control import MAX_IDS

    ids = _mark_targets(obj.open_store(readonly=True), f, item_ids, every)
    marked = 0
    with through_daemon(obj, locked, lambda: f" ({marked} marked before)" if marked else "") \
            as client:
        # The daemon takes a bounded number of ids per request: --all sends pages, each
        # saved before the next (an error stops it, with the pages before saved).
        for start in range(0, len(ids), MAX_IDS):
            marked += client.mark(ids[start:start + MAX_IDS], read=read, starred=star)
    click.echo(f"marked {plural(marked, 'item')} through the daemon")


@click.command()
@click.pass_obj
def recover(obj: AppContext) -> None:
    """Salvage a corrupt store: move bad files aside, keep what parses."""
    from storage.errors import StoreError
    from storage.recover import recover as do_recover

    path = obj.store_path
    if not path.exists():
        raise UserError(f"no store at {path}")
    if not path.is_dir():
        raise UserError(f"store: {path} is a file, not a store folder")
    try:
        report = do_recover(path)
    except (StoreError, OSError) as e:  # locked by a running diplowatch, disk full, read-only
        raise UserError(store_error_text(e, "recover", "run `diplowatch recover` again once "
                                                       "fixed")) from None
    click.echo(str(report))

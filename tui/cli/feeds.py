"""``diplowatch feeds …``: the feed list and each feed's health."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from feeds.config.load import Config, ConfigError, normalise_feed_url
from feeds.model import FeedStatus
from feeds.redact import redact_url
from tui.cli.context import AppContext, UserError
from tui.cli.output import table, to_json
from tui.render import plural, relative

if TYPE_CHECKING:
    from feeds.poll.health import FeedHealth


def health_rows(config: Config, store: Any, now: float) -> list[Any]:
    from feeds.poll.health import feed_health

    states = store.feed_states()
    counts = store.items_per_feed()
    return [feed_health(f, states.get(f.key), counts.get(f.key, 0), now, config.polling)
            for f in config.feeds]


_NEVER_DUE = (FeedStatus.GONE, FeedStatus.DISABLED)  # no next poll: "-", not "now"


@click.group()
def feeds() -> None:
    """List feeds with their health; add, remove, enable, disable, import, export."""


def in_folder(feed_folder: str, folder: str) -> bool:
    """``folder`` is the feed's folder or one enclosing it ("World" holds "World/Europe")."""
    want = folder.strip().strip("/").casefold()
    have = feed_folder.casefold()
    return have == want or have.startswith(want + "/")


@feeds.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--folder", help="Only the feeds of this folder (and the folders inside it).")
@click.pass_obj
def list_feeds(obj: AppContext, fmt: str, folder: str | None) -> None:
    """Every configured feed with its folder, status, last success, items stored and unread
    (in the recent window), next poll and last error."""
    store = obj.open_store(readonly=True)
    now = obj.clock()
    rows = health_rows(obj.config, store, now)
    if folder is not None:
        rows = [h for h in rows if in_folder(h.folder, folder)]
    # Unread: items not flagged read, in the recent window only (Store.unread_counts).
    _, unread = store.unread_counts()
    if fmt == "json":
        click.echo(to_json([feed_json(h, unread.get(h.key, 0)) for h in rows]))
        return
    click.echo(table(
        [[h.name, h.folder, h.status, relative(h.last_success, now) if h.last_success else "never",
          str(h.items_stored), str(unread.get(h.key, 0)),
          relative(h.next_poll, now) if h.next_poll else ("-" if h.status in _NEVER_DUE else "now"),
          h.summary if h.failing or h.url != h.shown_key else h.url]
         for h in rows],
        ["FEED", "FOLDER", "STATUS", "LAST SUCCESS", "ITEMS", "UNREAD", "NEXT POLL", "DETAIL"]))
    click.echo(f"\nconfig: {obj.config.path}\nstore:  {obj.store_path}")


def feed_json(health: FeedHealth, unread: int) -> dict[str, Any]:
    """A feed as `feeds list --format json` shows it, in the field names of every JSON output:
    ``feed`` its name, ``feed_url`` its configured URL (as in item rows), ``effective_url``
    where it is fetched now (another URL only after a confirmed permanent redirect)."""
    d = health.to_dict()
    return {"feed": d.pop("name"), "feed_url": d.pop("key"), "effective_url": d.pop("url"),
            **d, "unread": unread}


def _edit_config(obj: AppContext, fn, *args) -> Config:
    from feeds.config.edit import writable_config_path

    path, created = writable_config_path(obj.config)
    if created:
        click.echo(f"created your config {path} from the bundled default; it is used from now on",
                   err=True)
    try:
        return fn(path, *args)
    except ConfigError as e:
        raise UserError(f"config: {e}") from None
    except KeyError as e:
        raise UserError(f"no feed named {e.args[0]!r} in {path}") from None


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="A name for the feed (default: the feed's title, else the host, "
                             "port and path).")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--no-fetch", is_flag=True,
              help="Do not fetch the feed to take its title as the name (use its URL).")
@click.pass_obj
def add_feed(obj: AppContext, url: str, name: str | None, tags: tuple[str, ...],
             no_fetch: bool) -> None:
    """Add a feed by its http(s) URL (or the path of a local feed file)."""
    from feeds.config.edit import add_feeds

    try:
        url = normalise_feed_url(url, Path.cwd())
    except ValueError as e:
        raise UserError(f"{redact_url(url)}: {redact_url(str(e))}") from None
    if not url.startswith(("http://", "https://")) and not Path(url).is_file():
        raise UserError(f"no file at {url}: feeds add takes an http(s) URL or a local feed file")
    if any(f.url == url for f in obj.config.feeds):
        raise UserError(f"{redact_url(url)} is already in {obj.config.path}")
    name = name or (_default_name(url) if no_fetch else _name_from_feed(obj, url))
    config = _edit_config(obj, add_feeds, [(name, url, tags)])
    click.echo(f"added {name!r} ({redact_url(url)}) to {config.path}")


NAME_MAX = 80  # a feed name from its title: enough for any real title, short for tables


def _name_from_feed(obj: AppContext, url: str) -> str:
    """The feed's own title (fetched once, and said so), else a name from its URL."""
    fallback = _default_name(url)
    if not url.startswith(("http://", "https://")):
        return fallback
    from feeds.poll.probe import feed_title
    from feeds.text import clip

    title, problem = feed_title(url, obj.config.polling)
    taken = {f.name.casefold() for f in obj.config.feeds}
    if title and clip(title, NAME_MAX).casefold() not in taken:
        name = clip(title, NAME_MAX)
        click.echo(f"named it after the feed's title (--name to choose another): {name!r}")
        return name
    why = "that name is taken" if title else redact_url(problem or "")
    click.echo(f"could not name it after the feed's title ({why}); named it after its URL",
               err=True)
    return fallback


def _default_name(url: str) -> str:
    from urllib.parse import urlsplit

    if not url.startswith(("http://", "https://")):
        return Path(url).stem  # a local file
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # the port too (two feeds of one host differ by it)
    return (host or url) + (parts.path.rstrip("/") or "")


@feeds.command("remove")
@click.argument("name")
@click.pass_obj
def remove_feed(obj: AppContext, name: str) -> None:
    """Remove a feed from the config (its stored items stay)."""
    from feeds.config.edit import remove_feed as do_remove

    config = _edit_config(obj, do_remove, name)
    click.echo(f"removed {name!r} from {config.path}; its stored items are kept")


def _set_enabled(obj: AppContext, name: str, enabled: bool) -> None:
    from feeds.config.edit import enable_feed
    from storage.errors import StoreError

    source = obj.config.feed(name)
    if source is None:
        raise UserError(f"no feed named {name!r} in {obj.config.path}")
    if _enable_through_daemon(obj, source.name, enabled):
        return
    store, note = None, ""
    if enabled:  # re-enabling resets the feed's failure state in the store
        try:
            store = obj.open_store()
        except (UserError, StoreError) as e:
            note = f"note: feed state not reset ({e})"
    try:
        edit = enable_feed(obj.config, source.name, enabled, store)
    except ConfigError as e:
        raise UserError(f"config: {e}") from None
    except KeyError as e:
        raise UserError(f"no feed named {e.args[0]!r} in {obj.config.path}") from None
    if edit.created:
        click.echo(f"created your config {edit.path} from the bundled default; it is used from "
                   "now on", err=True)
    if store is not None:
        try:
            store.flush()
        except StoreError as e:
            note = f"note: feed state not reset ({e})"
    if note:
        click.echo(note, err=True)
    click.echo(f"{'enabled' if enabled else 'disabled'} {source.name!r} in {edit.config.path}")


def _enable_through_daemon(obj: AppContext, name: str, enabled: bool) -> bool:
    """With a daemon running, it edits its config and resets the feed state itself (and
    starts polling an enabled feed at once). False if no daemon answers."""
    from feeds.service.control import ControlClient, ControlError, DaemonUnavailable
    from storage.lock import lock_holder

    if lock_holder(obj.store_path) is None:
        return False
    try:
        answer = ControlClient(obj.store_path).set_enabled(name, enabled)
    except DaemonUnavailable:
        return False
    except ControlError as e:
        raise UserError(str(e)) from None
    if answer.get("created"):
        click.echo(f"created your config {answer['config']} from the bundled default; it is used "
                   "from now on", err=True)
    click.echo(f"{'enabled' if enabled else 'disabled'} {name!r} in {answer['config']} "
               "(through the running daemon)")
    return True


@feeds.command("enable")
@click.argument("name")
@click.pass_obj
def enable(obj: AppContext, name: str) -> None:
    """Enable a feed (and clear a gone or backed-off state, to try it again)."""
    _set_enabled(obj, name, True)


@feeds.command("disable")
@click.argument("name")
@click.pass_obj
def disable(obj: AppContext, name: str) -> None:
    """Disable a feed: it stays listed and its items stay stored."""
    _set_enabled(obj, name, False)


@feeds.command("import")
@click.argument("opml_file", type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
def import_opml(obj: AppContext, opml_file: str) -> None:
    """Add the feeds of an OPML file (http(s) only; duplicates skipped)."""
    from feeds.config.edit import add_feeds
    from feeds.config.opml import OPMLError, read_opml

    try:
        found = read_opml(Path(opml_file))
    except OPMLError as e:
        raise UserError(str(e)) from None
    urls = {f.url for f in obj.config.feeds}
    names = {f.name.lower() for f in obj.config.feeds}
    new, skipped = [], []
    for f in found:
        try:
            url = normalise_feed_url(f.url, Path.cwd())
        except ValueError as e:
            skipped.append(f"{redact_url(f.url)}: {e}")
            continue
        if not url.startswith(("http://", "https://")):
            skipped.append(f"{redact_url(f.url)}: not an http(s) URL")
            continue
        if url in urls:
            skipped.append(f"{redact_url(f.url)}: already subscribed")
            continue
        name, n = f.name, 2
        while name.lower() in names:
            name, n = f"{f.name} ({n})", n + 1
        urls.add(url)
        names.add(name.lower())
        new.append((name, url, f.tags, f.folder))
    if new:
        config = _edit_config(obj, add_feeds, new)
        click.echo(f"imported {plural(len(new), 'feed')} into {config.path}")
    else:
        click.echo("nothing to import")
    for line in skipped:
        click.echo(f"skipped {line}", err=True)


@feeds.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to a file.")
@click.pass_obj
def export_opml(obj: AppContext, output: str | None) -> None:
    """The feed list as OPML 2.0."""
    from feeds.config.opml import write_opml

    text = write_opml(obj.config.feeds)
    if output:
        from feeds.files import write_private

        try:
            write_private(Path(output), text.encode("utf-8"))  # 0600 in 0700 folders
        except OSError as e:
            raise UserError(f"could not write {output}: {e.strerror or e}") from None
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)

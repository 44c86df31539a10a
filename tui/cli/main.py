"""The ``diplowatch`` command: the dashboard by default, and commands to poll headless,
run as a service (``daemon``, ``serve``), review the store offline, manage feeds and tune
the rules.

Exit status: 0 success; 1 a poll in which some feed failed; 2 a problem for the user to fix
(bad config, corrupt, locked, missing or unwritable store, bad arguments) — always with a
message, never a traceback.
"""
from __future__ import annotations

import sys
from typing import Any

import click

from feeds import __version__
from tui.cli.context import AppContext, StoreLocked, UserError, store_error_text
from tui.render import plural


# Commands in other modules, imported when used: `poll --once` and the dashboard do not pay
# for the review and service commands' imports (about 0.1 s of every start).
_LAZY_COMMANDS = {
    "list": ("tui.cli.items", "list_items"), "show": ("tui.cli.items", "show"),
    "export": ("tui.cli.items", "export"), "mark": ("tui.cli.items", "mark"),
    "recover": ("tui.cli.items", "recover"), "feeds": ("tui.cli.feeds", "feeds"),
    "rules": ("tui.cli.rules", "rules"), "labels": ("tui.cli.labels", "labels"),
    "trends": ("tui.cli.analysis", "trends"),
    "brief": ("tui.cli.analysis", "brief"), "clusters": ("tui.cli.analysis", "clusters"),
    "daemon": ("tui.cli.service", "daemon"), "serve": ("tui.cli.service", "serve"),
}
# The commands that create the store when there is none (with the dashboard: no command).
_CREATE_STORE = (None, "poll", "daemon", "serve")


class _Group(click.Group):
    """Turns UserError (and a few last-resort failures) into a message and an exit status;
    loads the commands of :data:`_LAZY_COMMANDS` when they are named (or listed by --help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in _LAZY_COMMANDS and name not in self.commands:
            import importlib

            module, attr = _LAZY_COMMANDS[name]
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            finally:  # the store's last save may fail too: reported below, like the rest
                obj = ctx.find_object(AppContext)
                if obj is not None:
                    obj.close()
        except UserError as e:
            click.echo(f"diplowatch: {e}", err=True)
            ctx.exit(e.code)
        except KeyboardInterrupt:
            click.echo("diplowatch: interrupted", err=True)
            ctx.exit(130)
        except click.exceptions.Exit:
            raise
        except Exception as e:
            from storage.errors import StoreError  # a store that stopped taking writes…

            if not isinstance(e, StoreError):
                raise
            click.echo(f"diplowatch: {store_error_text(e)}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="PATH", envvar=None,
              help="Config file (default: $DIPLOWATCH_CONFIG, the user config, else the bundled one).")
@click.option("--db", "db_path", metavar="PATH",
              help="Store directory (default: $DIPLOWATCH_DB, [storage] path, else the user data dir).")
@click.option("--offline", is_flag=True, help="Dashboard: review the store without polling.")
@click.option("--viewer", is_flag=True,
              help="Dashboard: never write the store; follow the daemon, else review read-only.")
@click.option("--theme", metavar="NAME", help="Dashboard: a Textual theme (e.g. textual-light, nord).")
@click.version_option(__version__, prog_name="diplowatch")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_path: str | None, offline: bool,
        viewer: bool, theme: str | None) -> None:
    """Watch conflict-diplomacy news feeds: talks, sanctions and statements.

    Without a command, opens the dashboard.
    """
    ctx.obj = AppContext(config_path=config_path, db_path=db_path,
                         creates_store=ctx.invoked_subcommand in _CREATE_STORE)
    # `daemon` adds stderr: its own call; `poll` logs once it polls itself, not through a daemon.
    if ctx.invoked_subcommand in (None, "serve"):
        from tui.cli.logs import setup_logging

        setup_logging()
    if ctx.invoked_subcommand is None:
        from tui.cli.launch import run_dashboard

        ctx.exit(run_dashboard(ctx.obj, offline=offline, theme=theme, viewer=viewer))


@cli.command()
@click.option("--once", is_flag=True, help="Poll one cycle and exit (the only mode; see `daemon`).")
@click.option("--all", "poll_all", is_flag=True, help="Ignore schedules: poll every enabled feed.")
@click.option("--feed", "feeds", multiple=True, metavar="NAME", help="Only this feed (repeatable).")
@click.option("--quiet", "-q", is_flag=True, help="Print failures and the summary only.")
@click.pass_obj
def poll(obj: AppContext, once: bool, poll_all: bool, feeds: tuple[str, ...], quiet: bool) -> None:
    """Poll due feeds once, headless: one line per feed; exit 1 if any feed failed."""
    if not once:
        raise UserError("poll needs --once (for continuous polling run `diplowatch daemon`)")
    from feeds.service.socket_path import control_socket_path

    # A daemon owns the store: it runs the cycle, as `mark` lets it mark. Asked before the
    # config and the poller are loaded: that is most of this command's start-up.
    if control_socket_path(obj.store_path).exists() and _poll_through_daemon(obj, poll_all, feeds):
        return
    from tui.cli.logs import setup_logging

    setup_logging()
    config = obj.config
    for name in feeds:
        if config.feed(name) is None:
            raise UserError(f"no feed named {name!r} in {config.path}")
    pool = _first_poll_workers(obj, feeds)
    try:
        store = obj.open_store(lean=True)
    except BaseException as e:
        if pool is not None:
            pool.close()
        if isinstance(e, StoreLocked) and _poll_through_daemon(obj, poll_all, feeds):
            return  # (a daemon that started meanwhile)
        raise
    from feeds.poll import aio
    from feeds.poll.poller import Poller
    from feeds.classify.reclassify import reclassify_if_needed

    poller = Poller(config, store, clock=obj.clock, resident=False, parse_pool=pool,
                    owns_pool=True)
    try:
        changed = reclassify_if_needed(store, config.specs)
        if changed is not None:
            click.echo(f"rules changed: re-classified {changed} stored items")
        report = aio.run(poller.poll_cycle(force=poll_all, only=feeds or None))
    finally:
        poller.close()
    failed_save = None
    if report.flush_exception is not None:  # this process exits: nothing is kept for a retry
        hint = "" if store.lost else "poll again once fixed: what was fetched is fetched again"
        failed_save = obj.save_failed(report.flush_exception, "save this poll", hint)
    _print_poll_report(obj, report, quiet)
    if failed_save is not None:  # no watch lines: those items were not saved
        raise failed_save
    _print_watch_hits([(hit.terms, hit.item.title, hit.item.source) for hit in report.watch_hits],
                      obj)
    if report.failed:
        sys.exit(1)


def _first_poll_workers(obj: AppContext, feeds: tuple[str, ...]) -> Any:
    """The parse pool of a first poll into a new store, its workers started now: every feed
    is parsed, and they import and compile while this process opens the store and loads the
    poller, instead of after. None when the store exists (or the poll parses in process)."""
    try:
        if obj.store_path.exists() and any(obj.store_path.iterdir()):
            return None
    except OSError:
        return None
    from feeds.poll.poller import new_parse_pool

    pool = new_parse_pool(obj.config, resident=False)
    pool.expect(len(feeds) if feeds else sum(f.enabled for f in obj.config.feeds))
    if pool.inline:  # few enough to parse in process: no worker started
        return None
    return pool


def _print_poll_report(obj: AppContext, report: Any, quiet: bool) -> None:
    """A line per polled feed (failures only with ``quiet``), then the summary."""
    from feeds.model import FeedStatus
    from tui.render import relative

    rows = []
    for o in sorted(report.outcomes, key=lambda o: o.source.name.lower()):
        if quiet and not o.failed:
            continue
        if o.failed:
            detail = o.error or ""
            if o.state is not None and o.state.next_poll and o.status != FeedStatus.GONE:
                detail += f" (next try {relative(o.state.next_poll, obj.clock())})"
        else:
            detail = f"{len(o.new_items)} new" + (f" · warning: {o.warning}" if o.warning else "")
        rows.append((o.status, o.source.name, detail))
    # The name column fits every polled feed, the ones --quiet leaves out too.
    _print_feed_lines(rows, width=max([_cells(o.source.name) for o in report.outcomes] + [4]))
    _print_summary(len(report.outcomes), len(report.new_items), report.new_by_label(),
                   len(report.failed), report.not_due)


def _poll_through_daemon(obj: AppContext, poll_all: bool, feeds: tuple[str, ...]) -> bool:
    """Ask the store's daemon for a cycle and print what its event says: the failed feeds,
    the counts and the watch hits (per-feed lines are in its log). False if no daemon
    answers; exits 1 when a feed failed, as a poll of our own would."""
    from feeds.service.control import ControlClient, ControlError, DaemonUnavailable
    from feeds.text import safe_text as plain  # the socket's text reaches the terminal

    try:
        done = ControlClient(obj.store_path).poll_and_wait(list(feeds) or None, force=poll_all)
    except DaemonUnavailable:
        return False
    except ControlError as e:
        raise UserError(str(e)) from None
    failures = [f for f in done.get("failures") or [] if isinstance(f, list) and len(f) == 3]
    _print_feed_lines([(plain(status), plain(name), plain(error)) for name, status, error in failures])
    _print_summary(int(done.get("feeds") or 0), int(done.get("new") or 0),
                   {plain(k): int(v) for k, v in (done.get("labels") or {}).items()},
                   int(done.get("failed") or 0), int(done.get("not_due") or 0), through_daemon=True)
    if done.get("flush_error"):  # the daemon keeps the items (no watch lines yet), retries
        raise UserError(f"the daemon could not save the cycle: {plain(done['flush_error'])}")
    _print_watch_hits([(tuple(map(plain, terms)), plain(title), plain(source))
                       for terms, title, source in done.get("watch") or []], obj)
    if done.get("error"):
        click.echo(f"diplowatch: the daemon's cycle failed: {plain(done['error'])}", err=True)
        sys.exit(1)
    if done.get("failed"):
        sys.exit(1)
    return True


def _print_feed_lines(rows: list[tuple[str, str, str]], width: int = 4) -> None:
    """One line per feed, from (status, name, detail); the names in a column at least
    ``width`` wide."""
    width = max([_cells(name) for _, name, _ in rows] + [width])
    for status, name, detail in rows:  # padded to terminal cells: a CJK character takes two
        click.echo(f"{status:<13} {name}{' ' * (width - _cells(name))}  {detail}")


def _cells(text: str) -> int:
    """Terminal cells ``text`` takes (rich's count); printable ASCII is one a character, counted
    without importing rich (~3 ms of a start)."""
    if text.isascii() and text.isprintable():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def _print_summary(feeds: int, new: int, by_label: dict[str, int], failed: int, not_due: int,
                   *, through_daemon: bool = False) -> None:
    summary = ", ".join(f"{n} {k}" for k, n in by_label.items())
    via = " through the running daemon" if through_daemon else ""
    click.echo(f"polled {plural(feeds, 'feed')}{via}: "
               f"{plural(new, 'new item')}" + (f" ({summary})" if summary else "")
               + (f", {failed} failed" if failed else "")
               + (f"; {not_due} not due (--all polls them)" if not_due else ""))


def _print_watch_hits(hits: list[tuple[tuple[str, ...], str, str]], obj: AppContext) -> None:
    """One line per new item matching [watch]; the bell once, on a terminal, if configured."""
    for terms, title, source in hits:
        click.echo(f"watch         {', '.join(terms)}: {title} ({source})")
    if hits and sys.stdout.isatty() and obj.config.watch.bell:
        click.echo("\a", nl=False)


def main() -> None:
    cli(prog_name="diplowatch")


if __name__ == "__main__":  # pragma: no cover
    main()

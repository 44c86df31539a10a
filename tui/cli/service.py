"""``diplowatch daemon`` and ``diplowatch serve``: one poller, many viewers.

The daemon is the store's only writer: it polls on schedule and answers the control socket
(feeds.service.control); every ``diplowatch`` dashboard started on the same store becomes its viewer.
``serve`` puts the dashboard in a browser (textual-serve) behind tui.cli.serve_guard (a token,
the served Host and Origin, a cap on tabs): each tab runs ``diplowatch --viewer`` through
tui.cli.tab_limits (bounded memory, marked as a tab: read-only unless ``--allow-writes``), so a
tab never writes the store itself.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import shlex
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from feeds.poll import aio
from feeds.service.control import TAB_POLL_EVERY
from tui.cli.context import AppContext, StoreLocked, UserError

if TYPE_CHECKING:
    from feeds.config.load import Config
    from feeds.service.daemon import Daemon

log = logging.getLogger("diplowatch.service")

DEFAULT_MAX_TABS = 8
DEFAULT_TAB_MEMORY_MB = 1024


def daemon_status(store_path: Path, timeout: float = 1.0) -> dict | None:
    """The running daemon's status for this store, or None if none answers."""
    from feeds.service.control import ControlClient, ControlError

    try:
        return ControlClient(store_path).status(timeout=timeout)
    except ControlError:
        return None


@click.command()
@click.pass_obj
def daemon(obj: AppContext) -> None:
    """Poll on schedule, headless, as the store's only writer.

    Dashboards started on the same store become viewers: they follow it live and send
    marks, labels, polls and feed changes to it. Logs to the log file and stderr. SIGTERM or
    SIGINT stop it cleanly (what was polled is saved); SIGHUP re-reads the config.
    """
    from feeds.config.load import load_config, resolve_config_path
    from feeds.service.control import ControlError
    from feeds.service.daemon import Daemon
    from feeds.classify.reclassify import reclassify_if_needed
    from tui.cli.logs import setup_logging

    log_file = setup_logging(stderr=True)
    config = obj.config
    try:
        store = obj.open_store()
    except StoreLocked:
        running = daemon_status(obj.store_path)
        if running is not None:
            raise UserError(f"a diplowatch daemon (pid {running.get('pid')}) is already running "
                            f"for the store {obj.store_path}") from None
        raise
    if log_file is not None:
        log.info("logging to %s", log_file)
    changed = reclassify_if_needed(store, config.specs)
    if changed is not None:
        log.info("rules changed: re-classified %d stored items", changed)

    def reload() -> Config:  # the same resolution as at start ($DIPLOWATCH_CONFIG, user, bundled)
        return load_config(resolve_config_path(obj.config_path))

    service = Daemon(config, store, load_config=reload, clock=obj.clock)
    try:
        aio.run(_run_daemon(service))
    except ControlError as e:
        raise UserError(str(e)) from None


async def _run_daemon(service: Daemon) -> None:
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, service.stop)
    loop.add_signal_handler(signal.SIGINT, service.stop)
    loop.add_signal_handler(signal.SIGHUP, service.reload_config)
    await service.run()


def is_loopback(host: str) -> bool:
    """Is this listen address reachable from this machine only?"""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def _check_port(host: str, port: int) -> None:
    """Fail now, with one message, if the address cannot be listened on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise UserError(f"serve: cannot listen on {host}:{port}: {e.strerror}") from None
    family, kind, proto, _name, address = infos[0]
    probe = socket.socket(family, kind, proto)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)
    except OSError as e:
        raise UserError(f"serve: cannot listen on {host}:{port}: {e.strerror or e}") from None
    finally:
        probe.close()


def tab_command(obj: AppContext, theme: str | None, *, writable: bool, memory_mb: int) -> str:
    """The shell command each browser tab runs: this diplowatch, as a viewer of the same store,
    bounded and marked as a tab by tui.cli.tab_limits (which execs it)."""
    args = [sys.executable, "-m", "tui.cli.main"]
    if obj.config_path:
        args += ["--config", str(Path(obj.config_path).expanduser().absolute())]
    if obj.db_path:
        args += ["--db", str(Path(obj.db_path).expanduser().absolute())]
    if theme:
        args += ["--theme", theme]
    limits = [sys.executable, "-m", "tui.cli.tab_limits", "--memory-mb", str(memory_mb),
              "--tab", "writable" if writable else "readonly", "--"]
    return "exec " + shlex.join([*limits, *args, "--viewer"])  # textual-serve runs it with sh -c


def _listen_host(host: str, public_url: str | None) -> str:
    """The address to bind (IPv6 without brackets); UserError for a wildcard without a URL."""
    bind = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        wildcard = ipaddress.ip_address(bind).is_unspecified
    except ValueError:
        wildcard = False
    if wildcard and public_url is None:
        raise UserError(f"serve: --host {host} listens on every interface: say which address "
                        "browsers use with --public-url http://NAME:PORT (tabs open only from it)")
    return bind


def _warn(obj: AppContext, host: str, port: int, writable: bool) -> None:
    """The notes for the user before serving: exposure, and whether a daemon runs."""
    if not is_loopback(host):
        warning = (f"serving on {host}:{port}, which other machines may reach: whoever has the "
                   "URL with its token reads the store"
                   + (" and acts through the daemon" if writable else "")
                   + "; the traffic is not encrypted: prefer the default 127.0.0.1 with an SSH "
                   "tunnel, or a TLS reverse proxy (--public-url)")
        click.echo(f"diplowatch: warning: {warning}", err=True)
        log.warning(warning)
    running = daemon_status(obj.store_path)
    if running is None:
        note = (f"no diplowatch daemon is running for the store {obj.store_path}: browser tabs open "
                "read-only (offline review); start `diplowatch daemon` to poll")
        click.echo(f"diplowatch: {note}", err=True)
        log.warning(note)
    else:
        click.echo(f"diplowatch: serving viewers of the daemon (pid {running.get('pid')})", err=True)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback by default: reach it through an SSH tunnel "
                   "on the same port, or give the tunnel's URL as --public-url).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--public-url", metavar="URL",
              help="The address browsers use, if not http://HOST:PORT (a reverse proxy).")
@click.option("--token-file", type=click.Path(path_type=Path), metavar="PATH",
              help="Read the access token from this file (yours, mode 0600) instead of making "
                   "a new one at each start.")
@click.option("--allow-writes", is_flag=True,
              help="Tabs may mark items, set labels, enable feeds and ask for polls (one per "
                   f"{TAB_POLL_EVERY:g} s) through the daemon; by default they are read-only.")
@click.option("--max-tabs", default=DEFAULT_MAX_TABS, show_default=True,
              type=click.IntRange(1, 64), help="Browser tabs open at once; more are refused.")
@click.option("--tab-memory", "tab_memory", default=DEFAULT_TAB_MEMORY_MB, show_default=True,
              type=click.IntRange(256, 65536), metavar="MB",
              help="Address-space limit of each tab's process (RLIMIT_AS).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, public_url: str | None,
          token_file: Path | None, allow_writes: bool, max_tabs: int, tab_memory: int) -> None:
    """The dashboard in a browser (textual-serve): each tab is a viewer of the daemon.

    Prints a URL with an access token (new at each start unless --token-file); every request
    needs it. Tabs never write the store or files: with `diplowatch daemon` running they follow
    it live (and, with --allow-writes, send marks, labels, polls and feed changes to it);
    without one they open read-only.
    """
    # aiohttp and textual-serve load here, not with `daemon`
    from tui.cli.serve_guard import Gate, GuardedServer, base_url, check_public_url, new_token, \
        read_token_file

    obj: AppContext = ctx.obj
    config = obj.config  # a bad config stops here
    bind = _listen_host(host, public_url)
    url = check_public_url(public_url) if public_url else base_url(bind, port)
    token = read_token_file(token_file) if token_file else new_token()
    _warn(obj, bind, port, allow_writes)
    _check_port(bind, port)
    theme = ctx.find_root().params.get("theme")
    command = tab_command(obj, theme, writable=allow_writes, memory_mb=tab_memory)
    gate = Gate(token, served=(bind, port), public_url=url, max_tabs=max_tabs)
    log.info("serve: %s on %s (config %s, store %s, %d tabs at most%s)", command, url,
             config.path, obj.store_path, max_tabs, ", writable" if allow_writes else "")
    GuardedServer(command, host=bind, port=port, gate=gate).serve()

"""``diplowatch daemon`` and ``diplowatch serve``: one poller, many viewers.

The daemon is the store's only writer: it polls on schedule and answers the control socket
(feeds.service.control); every ``diplowatch`` dashboard started on the same store becomes its viewer.
``serve`` puts the dashboard in a browser (textual-serve): each tab runs
``diplowatch --viewer``, so a tab never writes the store itself.
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
from tui.cli.context import AppContext, StoreLocked, UserError

if TYPE_CHECKING:
    from feeds.config.load import Config
    from feeds.service.daemon import Daemon

log = logging.getLogger("diplowatch.service")


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
    marks, polls and feed changes to it. Logs to the log file and stderr. SIGTERM or
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
    changed = reclassify_if_needed(store, config.rules, actors=config.actors)
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


def tab_command(obj: AppContext, theme: str | None) -> str:
    """The command each browser tab runs: this diplowatch, as a viewer of the same store."""
    args = [sys.executable, "-m", "tui.cli.main"]
    if obj.config_path:
        args += ["--config", str(Path(obj.config_path).expanduser().absolute())]
    if obj.db_path:
        args += ["--db", str(Path(obj.db_path).expanduser().absolute())]
    if theme:
        args += ["--theme", theme]
    return shlex.join([*args, "--viewer"])


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback by default: reach it through an SSH tunnel).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--public-url", metavar="URL",
              help="The address browsers use, if not http://HOST:PORT (a reverse proxy).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, public_url: str | None) -> None:
    """The dashboard in a browser (textual-serve): each tab is a viewer of the daemon.

    Tabs never write the store: with `diplowatch daemon` running they follow it live and
    send marks, polls and feed changes to it; without one they open read-only.
    """
    obj: AppContext = ctx.obj
    config = obj.config  # a bad config stops here
    store_path = obj.store_path
    if not is_loopback(host):
        warning = (f"serving on {host}:{port}, which other machines may reach: anyone who can "
                   "open it reads the store and can act through the daemon (there is no login). "
                   "Prefer the default 127.0.0.1 with an SSH tunnel, or an authenticating "
                   "reverse proxy")
        click.echo(f"diplowatch: warning: {warning}", err=True)
        log.warning(warning)
    running = daemon_status(store_path)
    if running is None:
        note = (f"no diplowatch daemon is running for the store {store_path}: browser tabs open "
                "read-only (offline review); start `diplowatch daemon` to poll")
        click.echo(f"diplowatch: {note}", err=True)
        log.warning(note)
    _check_port(host, port)
    from textual_serve.server import Server

    theme = ctx.find_root().params.get("theme")
    command = tab_command(obj, theme)
    url = public_url or f"http://{host}:{port}"
    if running is not None:
        click.echo(f"diplowatch: serving viewers of the daemon (pid {running.get('pid')}) "
                   f"on {url}", err=True)
    log.info("serve: %s on %s (config %s, store %s)", command, url, config.path, store_path)
    Server(command, host=host, port=port, title="diplowatch", public_url=public_url).serve()

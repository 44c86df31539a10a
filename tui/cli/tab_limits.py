"""``python -m tui.cli.tab_limits --memory-mb N --tab MODE -- COMMAND…``: what ``serve`` runs for
each browser tab, in front of the tab's own ``diplowatch --viewer``.

textual-serve starts a tab through the shell and offers no hook before exec; this wrapper sets
the tab's bounds and then becomes its command (exec: no extra process stays behind):

- RLIMIT_AS: a tab's address space is capped, so a few tabs cannot take the machine's memory;
- no core files (they would hold the store's text);
- $DIPLOWATCH_TAB (feeds.service.control.TAB_ENV): the dashboard and its control-socket client
  read it, so the daemon knows the requests are a tab's (read-only unless ``--allow-writes``).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
from typing import NoReturn

from feeds.service.control import TAB_ENV, TAB_MODES

MB = 1024 * 1024


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tui.cli.tab_limits")
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--tab", choices=TAB_MODES, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    return parser


def apply_limits(memory_mb: int, tab: str) -> None:
    """Bound this process (and what it execs) as a browser tab."""
    limit = memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.environ[TAB_ENV] = tab
    # glibc reserves 64 MB of address space per thread arena: with RLIMIT_AS, two are plenty.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")


def main(argv: list[str] | None = None) -> NoReturn:
    args = _parser().parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command or args.memory_mb <= 0:
        sys.exit("tab_limits: give --memory-mb > 0 and a command after --")
    apply_limits(args.memory_mb, args.tab)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()

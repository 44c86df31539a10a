"""Leaving when the terminal is gone: a closed window or a killed tmux pane does not always
signal the process (under ``make run`` no SIGHUP reached it), and Textual's input thread then
spins on end-of-file at most of a core, holding the store's writer lock. The launcher injects
the check (``tui.cli.launch.hung_up``); the app polls it and exits the normal way, which
saves what is pending (marks, labels)."""
from __future__ import annotations

from typing import Any, Callable

HANGUP_CHECK = 1.0  # seconds between checks that the terminal is still there
HANGUP_STATUS = 129  # the exit status of a process ended by SIGHUP (128 + 1)


def leave_when_gone(app: Any, terminal_gone: Callable[[], bool]) -> None:
    """Poll ``terminal_gone()`` every :data:`HANGUP_CHECK` seconds on ``app``'s loop; once it
    says so, exit ``app`` with :data:`HANGUP_STATUS`."""

    def check() -> None:
        if terminal_gone():
            timer.stop()
            app.exit(return_code=HANGUP_STATUS)

    timer = app.set_interval(HANGUP_CHECK, check)

"""The shipped man page is the one the command line's help writes (`make man` after a change)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from feeds import __version__
from tui.cli.manpage import MAN_NAME, render

SHIPPED = Path(__file__).resolve().parents[2] / "tui" / "cli" / MAN_NAME


def test_the_shipped_man_page_is_up_to_date() -> None:
    assert SHIPPED.read_text(encoding="utf-8") == render(__version__), \
        "the CLI's help changed: run `make man`"


def test_the_man_page_covers_every_command_and_formats(tmp_path: Path) -> None:
    from click import Context

    from tui.cli.main import cli

    page = render(__version__)
    for name in cli.list_commands(Context(cli)):
        assert f".SS\ndiplowatch {name} " in page, name
    if shutil.which("man"):  # formatted as a reader sees it, when man is installed
        out = subprocess.run(["man", "-l", str(SHIPPED)], capture_output=True, text=True,
                             env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin"}, timeout=30)
        assert out.returncode == 0 and "SHELL COMPLETION" in out.stdout

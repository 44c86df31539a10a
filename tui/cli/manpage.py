"""The man page, written from the command line's own help (so it cannot drift from it):
``python -m tui.cli.manpage > tui/cli/diplowatch.1`` (``make man``); a test checks that the
shipped page is the one this writes."""
from __future__ import annotations

import sys

import click

from tui.cli.main import cli

MAN_NAME = "diplowatch.1"


def _roff(text: str) -> str:
    """Plain text safe in roff: backslashes doubled, no line starts with a control dot."""
    lines = text.replace("\\", "\\e").splitlines()
    return "\n".join("\\&" + ln if ln.startswith((".", "'")) else ln for ln in lines)


def _options(ctx: click.Context, command: click.Command) -> list[str]:
    out: list[str] = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is not None:
            out += [".TP", f"\\fB{_roff(record[0])}\\fR", _roff(record[1] or "")]
    return out


def _commands(ctx: click.Context, group: click.Group, prefix: str) -> list[str]:
    out: list[str] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        sub = command.make_context(name, [], parent=ctx, resilient_parsing=True)
        usage = " ".join(command.collect_usage_pieces(sub))
        out += [".SS", f"{prefix}{name} {_roff(usage)}".rstrip(), _roff(command.help or ""), ""]
        out += _options(sub, command)
        if isinstance(command, click.Group):
            out += _commands(sub, command, f"{prefix}{name} ")
    return out


def render(version: str) -> str:
    # (make_context: the group's context_settings, e.g. -h as well as --help)
    ctx = cli.make_context("diplowatch", [], resilient_parsing=True)
    head, _, rest = (cli.help or "").partition("\n")
    lines = [
        f'.TH DIPLOWATCH 1 "" "diplowatch {version}" "User Commands"',
        ".SH NAME", f"diplowatch \\- {_roff(head.strip())}",
        ".SH SYNOPSIS", f"\\fBdiplowatch\\fR {_roff(' '.join(cli.collect_usage_pieces(ctx)))}",
        ".SH DESCRIPTION", _roff(rest.strip()),
        ".SH OPTIONS", *_options(ctx, cli),
        ".SH COMMANDS", *_commands(ctx, cli, "diplowatch "),
        ".SH SHELL COMPLETION",
        "bash: eval \"$(_DIPLOWATCH_COMPLETE=bash_source diplowatch)\" in ~/.bashrc;",
        "zsh: eval \"$(_DIPLOWATCH_COMPLETE=zsh_source diplowatch)\" in ~/.zshrc;",
        "fish: _DIPLOWATCH_COMPLETE=fish_source diplowatch | source",
        ".SH FILES", "The config: $DIPLOWATCH_CONFIG, --config, or the user config folder "
        "(diplowatch feeds list names it). The store: $DIPLOWATCH_DB, --db or [storage] path.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    from feeds import __version__

    sys.stdout.write(render(__version__))


if __name__ == "__main__":
    main()

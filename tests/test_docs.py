"""The README documents every command and every option (as sqlite-utils checks its docs).

A command ``runtui NAME`` is documented by a README heading that names it
(``### runtui NAME``); each of its options must appear in that section, in
its long form (``--format``) and, for a ``--x/--no-x`` flag, both forms.
Options of the group itself (``--store``, ``--version``) must appear anywhere.
Every command's ``--help`` also carries an example.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from runtui.cli.main import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
HELP_OPTIONS = {"-h", "--help"}


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix}{name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path + " "))
    return found


COMMANDS = _commands(main)


def _section(path: str) -> str | None:
    """The README text under the heading naming ``runtui PATH``, up to the next such heading."""
    heading = re.compile(rf"^(#+)\s.*\bruntui {re.escape(path)}(?![\w-])", re.MULTILINE)
    match = heading.search(README)
    if match is None:
        return None
    level = len(match.group(1))
    end = re.compile(rf"^#{{1,{level}}}\s", re.MULTILINE).search(README, match.end())
    return README[match.start() : end.start() if end else len(README)]


def _option_names(command: click.Command) -> list[str]:
    names = []
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden:
            continue
        if param.name == "store":
            continue  # shared by every command: documented once, checked below
        opts = [*param.opts, *param.secondary_opts]
        if set(opts) & HELP_OPTIONS:
            continue
        long_names = [o for o in opts if o.startswith("--")]
        names.extend(long_names or opts)
    return names


def test_there_are_commands_to_check():
    assert {"ls", "show", "export", "rm", "gc"} <= {path for path, _ in COMMANDS}


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_has_a_readme_section_naming_each_option(path: str, command: click.Command):
    section = _section(path)
    if section is None and " " in path:  # a subcommand may live in its group's section
        section = _section(path.split(" ")[0])
        assert section is not None and f"runtui {path}" in section, (
            f"README.md has no section for `runtui {path}`"
        )
    assert section is not None, f"README.md has no '### runtui {path}' section"
    missing = [
        name for name in _option_names(command) if not re.search(rf"{re.escape(name)}\b", section)
    ]
    assert not missing, f"`runtui {path}` options missing from its README section: {missing}"


def test_group_options_are_documented():
    for name in [*_option_names(main), "--store"]:
        assert name in README, f"`runtui {name}` is not in README.md"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_help_has_an_example(path: str, command: click.Command):
    assert "Example" in (command.help or ""), f"`runtui {path} --help` shows no example"


def test_every_command_module_defines_the_command_named_after_it() -> None:
    from runtui.cli.commands import command_names, load

    names = command_names()
    assert {"ls", "show", "export", "diff", "run", "tail", "ui", "demo"} <= set(names)
    for name in names:
        command = load(name)
        assert command is not None and command.name == name

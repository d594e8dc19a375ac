"""Collects the subcommands: every module ``runtui/cli/cmd_*.py`` exposes ``commands``.

Discovery keeps each command in a module of its own with no shared list to
edit. Command modules import heavy libraries (textual, rich) inside their
functions, so ``runtui --help`` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

import runtui.cli


def discover() -> list[click.Command]:
    found: list[click.Command] = []
    for info in sorted(pkgutil.iter_modules(runtui.cli.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"runtui.cli.{info.name}")
            found.extend(module.commands)
    return found

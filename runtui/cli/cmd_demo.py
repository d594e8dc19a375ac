"""``runtui demo``: build a demo store and open the terminal UI on it."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import click

from runtui.cli.common import handle_errors, store_option, store_path


@click.command("demo")
@click.option("--no-ui", is_flag=True, help="Only build the store and print its path on stdout.")
@click.option(
    "--live",
    is_flag=True,
    help="With --no-ui, also start the two live runs (the UI always starts them).",
)
@click.option(
    "--live-seconds",
    type=click.FloatRange(min=0),
    default=180.0,
    show_default=True,
    metavar="N",
    help="How long the two live runs keep logging (0: no live runs).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same demo data.")
@store_option(help="Store folder (default: a new runtui-demo-* folder in the temporary directory).")
@handle_errors
def demo(no_ui: bool, live: bool, live_seconds: float, seed: int) -> None:
    """Build a demo store and open the UI on it.

    Three experiments and about forty-five runs: sweeps with realistic
    curves, failed runs with their tracebacks, a crashed run, captured logs,
    code that changes between runs, and two runs that keep logging live for
    --live-seconds (a background process that stops by itself). With
    --no-ui the live runs start only if --live is given.

    The store goes in a new runtui-demo-* folder in the temporary directory
    unless --store names one (which must be new, empty, or an earlier demo
    store; $RUNTUI_STORE is not used, so the demo never mixes into your runs).

    \b
    Example:
      runtui demo
      runtui --store "$(runtui demo --no-ui)" ls
      runtui demo --no-ui --live --store ./demo
    """
    from runtui.cli.cmd_ui import check_terminal
    from runtui.demo.build import build, check_folder

    if not no_ui:
        check_terminal()  # before a store is made for nobody to see
    chosen = store_path()
    if chosen:
        store = Path(chosen).expanduser().absolute()
    else:
        store = Path(tempfile.mkdtemp(prefix="runtui-demo-"))
    if no_ui and not live:
        live_seconds = 0.0  # nobody watches: no background process left writing
    check_folder(store)  # refused before anything is said
    click.echo(f"runtui: building a demo store in {store}", err=True)
    started = time.perf_counter()
    made = build(store, seed=seed, live_seconds=live_seconds)
    took = time.perf_counter() - started
    for warning in made.warnings:
        click.echo(f"runtui: warning: {warning}", err=True)
    live = f", 2 of them live for {live_seconds:g} s" if made.live_pid else ""
    click.echo(
        f"runtui: {made.runs} runs in {made.experiments} experiments{live} ({took:.1f} s)", err=True
    )
    if no_ui:
        click.echo(str(store))
        return
    from runtui.tui.app import run_tui

    run_tui(store)
    click.echo(f"runtui: the demo store stays in {store}; reopen it with:", err=True)
    click.echo(f"  runtui --store {store}", err=True)


commands = [demo]

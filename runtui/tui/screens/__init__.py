"""Screens of the TUI: main (experiments + runs), run, empty store, help."""

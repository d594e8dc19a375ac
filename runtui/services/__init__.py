"""UI-free logic shared by the TUI and the CLI (no textual, no SQL)."""

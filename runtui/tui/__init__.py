"""The terminal UI (Textual): only the ``ui`` and ``demo`` commands import it."""

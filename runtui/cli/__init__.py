"""The ``runtui`` command line: a thin layer over the store and services.

Each command lives in its own module under ``runtui/cli/`` and is registered
in `main.py`. Shared conventions live in `common.py`: ``--store`` (accepted
before or after the command), one-line errors on stderr with exit 2, data
on stdout only.
"""

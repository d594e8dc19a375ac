"""Benchmarks of runtui against raw SQLite doing the same work (see README.md)."""

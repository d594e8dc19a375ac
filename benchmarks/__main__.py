"""``python -m benchmarks``: run every benchmark (see run_all.py)."""

from benchmarks.run_all import main

raise SystemExit(main())

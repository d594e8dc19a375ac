"""Code snapshots: the exact code of every run, stored once by content, back on demand.

`walk` lists what goes in (`ignore` rules), `limits` refuses a tree over the
size cap, `capture` stores it (``snapshot_for_run`` is called by
``runtui.start_run``), `checkout` restores one into a folder.
"""

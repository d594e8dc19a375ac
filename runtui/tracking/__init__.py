"""What ``import runtui`` drives: runs, the flusher, output capture, context."""

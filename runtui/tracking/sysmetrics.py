"""System metrics sampled into a run as ``sys/...`` metrics (``system_metrics=True``).

CPU % and RSS of the process come from ``psutil``; GPU utilisation and
memory from ``nvidia-ml-py`` (``pynvml``) when it is importable and a GPU is
present. Both are optional (``pip install 'runtui[system]'``): without them
a warning says what is missing and training goes on.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtui.tracking.run import Run

INTERVAL_S = 5.0


class SystemMetrics:
    def __init__(self, run: Run, interval: float | None = None) -> None:
        self.run = run
        self.interval = INTERVAL_S if interval is None else interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="runtui-sysmetrics", daemon=True)
        self._process: Any = None
        self._gpus: list[Any] = []
        self._nvml: Any = None

    def start(self) -> bool:
        try:
            import psutil
        except ImportError:
            sys.stderr.write(
                "runtui: warning: system_metrics=True needs psutil (pip install 'runtui[system]')\n"
            )
            return False
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # the first call only sets the baseline
        self._init_gpus()
        self._thread.start()
        return True

    def _init_gpus(self) -> None:
        try:
            import pynvml

            pynvml.nvmlInit()
            self._gpus = [
                pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())
            ]
            self._nvml = pynvml
        except Exception:
            self._gpus = []

    def sample(self) -> dict[str, float]:
        import psutil

        values = {
            "sys/cpu_percent": self._process.cpu_percent(None),
            "sys/rss_mb": self._process.memory_info().rss / 2**20,
            "sys/host_memory_percent": psutil.virtual_memory().percent,
        }
        for i, handle in enumerate(self._gpus):
            try:
                util = self._nvml.nvmlDeviceGetUtilizationRates(handle)
                mem = self._nvml.nvmlDeviceGetMemoryInfo(handle)
            except Exception:
                continue
            values[f"sys/gpu{i}_util_percent"] = float(util.gpu)
            values[f"sys/gpu{i}_memory_mb"] = mem.used / 2**20
        return values

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run.log(self.sample())
            except Exception:
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

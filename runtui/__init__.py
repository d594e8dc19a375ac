"""runtui: a local-first run history for machine-learning work.

Writing::

    import runtui
    with runtui.start_run("finetune", params={"lr": 3e-4}) as run:
        for step in range(1000):
            run.log({"loss": loss, "acc": acc}, step=step)

Reading::

    store = runtui.open_store()
    for run in store.runs(filter="metrics.val_loss<0.3"):
        print(run.name, run.summary["val_loss"].last)

``import runtui`` itself loads next to nothing (training scripts pay for
every millisecond of it): the logging machinery is imported on first use,
and textual and rich never are on this path.
"""

from runtui._version import __version__
from runtui.errors import RuntuiError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from runtui.store.reader import Store, open_store
    from runtui.tracking.api import active_run, finish, init, log, start_run
    from runtui.tracking.run import Run

__all__ = [
    "Run",
    "RuntuiError",
    "Store",
    "__version__",
    "active_run",
    "finish",
    "init",
    "log",
    "open_store",
    "start_run",
]

_LAZY = {
    "start_run": "runtui.tracking.api",
    "init": "runtui.tracking.api",
    "log": "runtui.tracking.api",
    "finish": "runtui.tracking.api",
    "active_run": "runtui.tracking.api",
    "Run": "runtui.tracking.run",
    "open_store": "runtui.store.reader",
    "Store": "runtui.store.reader",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runtui' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

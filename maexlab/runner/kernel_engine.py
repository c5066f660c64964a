"""Execute a notebook in a Jupyter kernel (``--engine kernel``): for a kernel in another environment.

Kernels started at the same moment used to collide on TCP ports (``ZMQError: Address
already in use``, then "Kernel didn't respond in 60 seconds"). Here every kernel talks over
IPC (Unix domain sockets) in the report's own private folder, so no two kernels can pick the
same address, and its connection file lives there too, so it is removed with that folder on
every path out. A kernel that fails to start is shut down and started again with exponential
backoff (:func:`start_kernel`) before the report is marked failed.

>>> delays = []
>>> calls = iter([RuntimeError("no"), None])
>>> def make():
...     class K:
...         def start(self):
...             err = next(calls)
...             if err: raise err
...         def stop(self): pass
...     return K()
>>> k = start_kernel(make, start=lambda k: k.start(), stop=lambda k: k.stop(), sleep=delays.append)
>>> delays
[0.5]
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from maexlab.runner.inprocess import Outcome
from maexlab.runner.record import merge_streams

__all__ = ["KernelStartError", "execute_with_kernel", "start_kernel"]

START_ATTEMPTS = 3
START_BACKOFF = 0.5  # seconds before the 2nd attempt; doubled for each further one
STARTUP_TIMEOUT = 60.0


class KernelStartError(RuntimeError):
    """The kernel did not start after every attempt."""


def start_kernel(
    make: Callable[[], Any],
    *,
    start: Callable[[Any], None],
    stop: Callable[[Any], None],
    attempts: int = START_ATTEMPTS,
    backoff: float = START_BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """``make()`` a kernel and ``start`` it; on failure ``stop`` it and retry with backoff."""
    problems: list[str] = []
    for attempt in range(1, attempts + 1):
        kernel = make()
        try:
            start(kernel)
            return kernel
        except Exception as exc:  # noqa: BLE001 - any start failure is retried
            problems.append(f"attempt {attempt}: {type(exc).__name__}: {exc}")
            with contextlib.suppress(Exception):
                stop(kernel)
            if attempt < attempts:
                sleep(backoff * 2 ** (attempt - 1))
    raise KernelStartError(f"kernel did not start after {attempts} attempts ({'; '.join(problems)})")


def execute_with_kernel(
    nb: Any,
    *,
    kernel_name: str,
    cwd: str,
    control_dir: str,
    pythonpath: str | None = None,
    after_cell: Callable[[Any], None] | None = None,
    stop_exceptions: tuple[type[BaseException], ...] = (),
    startup_timeout: float = STARTUP_TIMEOUT,
) -> Outcome:
    """Run ``nb``'s code cells in a fresh kernel ``kernel_name``; same outcome as the in-process engine."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    folder = Path(control_dir) / "kernel"
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, env.get("PYTHONPATH")) if p)
    env.pop("MPLBACKEND", None)
    counter = {"n": 0}

    def make() -> Any:
        counter["n"] += 1
        return KernelManager(
            kernel_name=kernel_name,
            transport="ipc",
            ip=str(folder / f"k{counter['n']}"),
            connection_file=str(folder / f"kernel-{counter['n']}.json"),
        )

    def start(km: Any) -> None:
        km.start_kernel(cwd=cwd, env=env)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=startup_timeout)
        except BaseException:
            kc.stop_channels()
            raise
        km._maexlab_kc = kc

    def stop(km: Any) -> None:
        kc = getattr(km, "_maexlab_kc", None)
        if kc is not None:
            with contextlib.suppress(Exception):
                kc.stop_channels()
        with contextlib.suppress(Exception):
            km.shutdown_kernel(now=True)
        with contextlib.suppress(Exception):
            km.cleanup_resources()

    km = start_kernel(make, start=start, stop=stop)
    outcome = Outcome()
    try:
        client = NotebookClient(nb, km=km, timeout=None, allow_errors=False, record_timing=False)
        client.kc = km._maexlab_kc
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cell.metadata.setdefault("papermill", {})["status"] = "running"
            started = time.perf_counter()
            error: BaseException | None = None
            try:
                client.execute_cell(cell, index, store_history=True)
            except CellExecutionError as exc:
                error = exc
            except stop_exceptions as exc:
                error = exc
            cell.outputs = merge_streams(cell.outputs)
            outcome.timings.append({"cell": index, "id": cell.get("id"), "seconds": round(time.perf_counter() - started, 4)})
            failed = error is not None
            cell.metadata["papermill"] = {"exception": failed, "status": "failed" if failed else "completed"}
            if after_cell is not None:
                after_cell(nb)
            if failed:
                outcome.stopped_at = index
                outcome.exception = error
                if isinstance(error, CellExecutionError):
                    outcome.ename, outcome.evalue = error.ename, error.evalue
                else:
                    outcome.ename, outcome.evalue = type(error).__name__, str(error)
                break
    finally:
        stop(km)
    return outcome

"""Where jobs run: local processes, or a Dask cluster running the same job function.

:func:`run_job_isolated` is *the* job function. It starts ``worker.py`` in its own process
(own session, so the terminal's Ctrl-C reaches only the runner), waits for it with the
per-report timeout, and kills the worker and its kernel when the time is up or the run is
cancelled. Both executors call it:

* :class:`LocalExecutor` from a pool of supervising threads in the runner (``--workers``
  processes at a time), with the report written straight into the run folder;
* :class:`DaskExecutor` as a Dask task on a ``dask.distributed`` cluster. The task runs the
  report in a scratch folder on the worker and returns the report's files as bytes, so the
  runner can collect them without a shared filesystem (only the data source and, for
  ``data_source: embedded``, an installed ``maexlab`` are needed on the workers).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

__all__ = ["DaskExecutor", "LocalExecutor", "collect_files", "kill_tree", "run_job_isolated"]

WORKER = Path(__file__).resolve().with_name("worker.py")
RESULT_FILE = ".result.json"
WORKER_LOG = ".worker.log"
#: Files in a report folder that are scaffolding, not report content.
SCAFFOLDING = {RESULT_FILE, WORKER_LOG + ".tmp"}


def kill_tree(proc: subprocess.Popen, grace: float = 0.0) -> None:
    """Stop a worker and everything it started (its kernel lives in another session)."""
    try:
        import psutil

        try:
            children = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            children = []
    except ImportError:  # pragma: no cover - psutil comes with jupyter
        children = []
    procs = [proc, *children]
    if grace > 0:
        for p in procs:
            with contextlib.suppress(Exception):
                p.terminate()
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
    for p in procs:
        with contextlib.suppress(Exception):
            p.kill()
    with contextlib.suppress(OSError, AttributeError):
        os.killpg(proc.pid, 9)  # anything else left in the worker's session
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _tail(path: Path, n: int = 1200) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text[-n:].strip()


def collect_files(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative POSIX name -> bytes), scaffolding excepted."""
    out: dict[str, bytes] = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            rel = p.relative_to(folder).as_posix()
            if rel in SCAFFOLDING or rel.endswith(".partial.ipynb"):
                continue
            out[rel] = p.read_bytes()
    return out


def _cancel_check(cancel: Any) -> Callable[[], bool]:
    """A cheap 'is the run cancelled?' test: threading.Event, Dask Event name, or nothing."""
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    if isinstance(cancel, str):  # name of a distributed.Event, polled at most once a second
        try:
            from distributed import Event

            event = Event(cancel)
        except Exception:  # noqa: BLE001 - not inside a Dask worker
            return lambda: False
        state = {"next": 0.0, "set": False}

        def check() -> bool:
            if not state["set"] and time.monotonic() >= state["next"]:
                state["next"] = time.monotonic() + 1.0
                with contextlib.suppress(Exception):
                    state["set"] = bool(event.is_set())
            return state["set"]

        return check
    return lambda: False


def run_job_isolated(
    spec: dict[str, Any],
    timeout: float | None = None,
    return_files: bool = False,
    cancel: Any = None,
    notebook_bytes: bytes | None = None,
) -> dict[str, Any]:
    """Run one report in a fresh process; return its result (status, error, timings[, files]).

    ``return_files`` runs the report in a scratch folder and returns its files as bytes
    (Dask); otherwise the report is written to ``spec["out_dir"]``. ``notebook_bytes`` lets a
    worker without the notebook on disk run it anyway.
    """
    spec = dict(spec)
    scratch: Path | None = None
    if return_files:
        scratch = Path(tempfile.mkdtemp(prefix="maexlab-job-"))
        out_dir = scratch / "report"
        for key in ("output_notebook", "output_html", "partial_notebook"):
            spec[key] = str(out_dir / Path(spec[key]).name)
        spec["out_dir"] = str(out_dir)
        spec["parameters"] = {**spec["parameters"], "output_dir": str(out_dir)}
        if notebook_bytes is not None and not Path(spec["notebook"]).is_file():
            local_nb = scratch / Path(spec["notebook"]).name
            local_nb.write_bytes(notebook_bytes)
            spec["notebook"] = str(local_nb)
            if not Path(spec["cwd"]).is_dir():
                spec["cwd"] = str(scratch)
    out_dir = Path(spec["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    result_path = out_dir / RESULT_FILE
    log_path = out_dir / WORKER_LOG
    for stale in (result_path,):
        if stale.exists():
            stale.unlink()

    env = dict(os.environ)
    if spec.get("pythonpath"):
        env["PYTHONPATH"] = os.pathsep.join(p for p in (spec["pythonpath"], env.get("PYTHONPATH")) if p)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.setdefault("MPLBACKEND", "Agg")
    is_cancelled = _cancel_check(cancel)

    t0 = time.perf_counter()
    started = _now()
    if is_cancelled():
        result = {
            "status": "interrupted",
            "error": "interrupted before it started",
            "started": started,
            "finished": started,
            "duration": 0.0,
            "execution_time": None,
            "wall_time": 0.0,
        }
        if return_files:
            assert scratch is not None
            result["files"] = {}
            shutil.rmtree(scratch, ignore_errors=True)
        return result
    status: str | None = None
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own worker with our own interpreter
            [sys.executable, str(WORKER), str(result_path)],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        with contextlib.suppress(BrokenPipeError):
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(spec).encode("utf-8"))
            proc.stdin.close()
        deadline = None if not timeout else time.monotonic() + float(timeout)
        try:
            while True:
                if proc.poll() is not None:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    kill_tree(proc)
                    status = "timeout"
                    break
                if is_cancelled():
                    kill_tree(proc, grace=2.0)
                    status = "interrupted"
                    break
                time.sleep(0.05)
        except BaseException:
            kill_tree(proc)
            raise

    if status is None and result_path.exists():
        result = json.loads(result_path.read_text(encoding="utf-8"))
    else:
        if status is None:
            status = "failed"
            error = f"worker process exited with code {proc.returncode}: {_tail(log_path)}"
        elif status == "timeout":
            error = f"timed out after {timeout:g} s; process killed"
        else:
            error = "interrupted"
        from maexlab.runner.worker import salvage_partial

        execution_time, _ = salvage_partial(spec)
        result = {
            "status": status,
            "error": error,
            "started": started,
            "finished": _now(),
            "duration": round(time.perf_counter() - t0, 4),
            "execution_time": execution_time,
        }
    result["wall_time"] = round(time.perf_counter() - t0, 4)
    if result_path.exists():
        result_path.unlink()
    if return_files:
        assert scratch is not None
        result["files"] = collect_files(out_dir)
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def _now() -> str:
    from maexlab.runner.worker import now_iso

    return now_iso()


class LocalExecutor:
    """Up to ``workers`` reports at a time, each in its own process on this machine."""

    name = "local"
    returns_files = False

    def __init__(self, workers: int | None = None):
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self._cancel = threading.Event()
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> LocalExecutor:
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="maexlab-job")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "workers": self.workers}

    def run(self, items: Iterable[tuple[Any, dict[str, Any]]], timeout: float | None) -> Iterator[tuple[Any, dict[str, Any]]]:
        """Yield (item, result) as reports finish; ``items`` are (tag, spec) pairs."""
        assert self._pool is not None, "use the executor as a context manager"
        futures: dict[Future, Any] = {
            self._pool.submit(run_job_isolated, spec, timeout, False, self._cancel): tag for tag, spec in items
        }
        pending = set(futures)
        while pending:
            # a short timeout keeps the main thread responsive to Ctrl-C
            done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for fut in done:
                yield futures[fut], _result_of(fut)

    def cancel(self) -> None:
        """Kill every running report (the supervising threads see the event) and drop the queue."""
        self._cancel.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _result_of(fut: Any) -> dict[str, Any]:
    try:
        return fut.result()
    except Exception as exc:  # noqa: BLE001 - a supervisor or Dask worker that failed itself
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "duration": None, "execution_time": None}


class DaskExecutor:
    """The same job function as Dask tasks; outputs come back as bytes and are written here.

    With ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``) the runner connects to an
    existing cluster; otherwise it starts a ``LocalCluster`` with ``workers`` single-threaded
    worker processes and closes it afterwards.
    """

    name = "dask"
    returns_files = True

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        self.scheduler = scheduler
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self.client: Any = None
        self.cluster: Any = None
        self._futures: list[Any] = []
        self._event_name = f"maexlab-cancel-{os.getpid()}-{time.time_ns()}"

    def __enter__(self) -> DaskExecutor:
        from distributed import Client, LocalCluster

        if self.scheduler:
            self.client = Client(self.scheduler)
        else:
            self.cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.client = Client(self.cluster)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"executor": self.name, "scheduler": self.scheduler or "LocalCluster"}
        if self.client is not None:
            try:
                info["workers"] = len(self.client.scheduler_info().get("workers", {}))
            except Exception:  # noqa: BLE001
                info["workers"] = None
        else:
            info["workers"] = self.workers
        return info

    def run(self, items: Iterable[tuple[Any, dict[str, Any]]], timeout: float | None) -> Iterator[tuple[Any, dict[str, Any]]]:
        from distributed import as_completed

        tags: dict[str, Any] = {}
        futures = []
        for tag, spec in items:
            nb_bytes = Path(spec["notebook"]).read_bytes()
            key = f"maexlab-{spec['key']}-{time.time_ns()}"
            fut = self.client.submit(
                run_job_isolated, spec, timeout, True, self._event_name, nb_bytes, key=key, pure=False, retries=0
            )
            tags[fut.key] = tag
            futures.append(fut)
        self._futures = futures
        for fut in as_completed(futures):
            yield tags[fut.key], _result_of(fut)

    def cancel(self) -> None:
        if self.client is None:
            return
        try:
            from distributed import Event
            from distributed import wait as dask_wait

            Event(self._event_name, client=self.client).set()
            # running tasks poll the event, kill their reports and return; tasks that start
            # after this return at once without starting a report
            with contextlib.suppress(Exception):
                dask_wait(self._futures, timeout=8)
            self.client.cancel(self._futures)
        except Exception:  # noqa: BLE001,S110 - the cluster may already be gone
            pass

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close()
            self.client = None
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()
            self.cluster = None

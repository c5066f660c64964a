"""Where reports run: local forked children of a warm worker, or the same on Dask workers.

:func:`run_job_isolated` is *the* job function. It hands the job spec to a warm worker
(:mod:`~maexlab.runner.zygote`), which forks a child for the report, and supervises that
child: the child stops itself at the per-report timeout (the running cell gets an exception,
so the notebook so far and an "incomplete" HTML are written); a child that does not stop
within a grace period is killed with everything it started, and its partial notebook is
salvaged here. Cancelling (Ctrl-C) sends SIGTERM first, SIGKILL after the grace period.
Each job has a private control folder (``/tmp/maexlab-job-*``: pid and exit files, a kernel's
connection file and sockets, Dask's scratch report); it is removed on every path out.

* :class:`LocalExecutor`: up to ``workers`` supervising threads in the runner, one warm worker
  per run, reports written straight into their staging folders;
* :class:`DaskExecutor`: the job function as Dask tasks; each Dask worker process starts its
  own warm worker once, runs the report in the control folder and returns its files as
  bytes, so no shared filesystem is needed.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from maexlab.runner.schedule import LongestFirst
from maexlab.runner.worker import RESULT_FILE, WORKER_LOG, now_iso, salvage_partial
from maexlab.runner.zygote import EXIT_FILE, PID_FILE, WarmWorker, WorkerGone, shared_worker

__all__ = ["DaskExecutor", "LocalExecutor", "SchedulerUnreachable", "collect_files", "kill_tree", "run_job_isolated"]

#: Seconds a report gets after SIGTERM (or after its own timeout) before it is killed.
GRACE = 5.0
#: Seconds to wait for a Dask scheduler before giving up (stated in the error message).
SCHEDULER_TIMEOUT = 10.0
#: Files in a report folder that are scaffolding, not report content.
SCAFFOLDING = {RESULT_FILE, WORKER_LOG + ".tmp"}
POLL = 0.02
#: seconds between looks for the report's pid file while the warm worker forks it
FORK_POLL = 0.005
#: Seconds a report may wait for the warm worker to fork it (its imports, on a busy machine).
WARM_START_LIMIT = 600.0


class SchedulerUnreachable(RuntimeError):
    """The Dask scheduler did not answer within :data:`SCHEDULER_TIMEOUT` seconds."""


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to a report process, its process group and every descendant (kernels too)."""
    procs: list[Any] = []
    with contextlib.suppress(Exception):
        import psutil

        procs = psutil.Process(pid).children(recursive=True)
    for target in (pid, *[p.pid for p in procs]):
        with contextlib.suppress(OSError):
            os.kill(target, sig)
    with contextlib.suppress(OSError):
        os.killpg(pid, sig)


def collect_files(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative POSIX name -> bytes), scaffolding excepted."""
    out: dict[str, bytes] = {}
    for p in sorted(Path(folder).rglob("*")):
        if p.is_file():
            rel = p.relative_to(folder).as_posix()
            if rel in SCAFFOLDING or rel.endswith((".partial.ipynb", ".partial.jsonl")) or rel.endswith(".tmp"):
                continue
            out[rel] = p.read_bytes()
    return out


def _cancel_check(cancel: Any) -> Callable[[], bool]:
    """A cheap 'is the run cancelled?' test: threading.Event, Dask Event name, or nothing."""
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    if isinstance(cancel, str):  # name of a distributed.Event, polled at most 5 times a second
        try:
            from distributed import Event

            event = Event(cancel)
        except Exception:  # noqa: BLE001 - not inside a Dask worker
            return lambda: False
        state = {"next": 0.0, "set": False}

        def check() -> bool:
            if not state["set"] and time.monotonic() >= state["next"]:
                state["next"] = time.monotonic() + 0.2
                with contextlib.suppress(Exception):
                    state["set"] = bool(event.is_set())
            return state["set"]

        return check
    return lambda: False


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _tail(path: Path, n: int = 600) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-n:].strip()
    except OSError:
        return ""


class _ChildWatch:
    """Wakes the supervisor the moment the report process ends (a pidfd), not at the next poll.

    Without pidfds (Linux before 5.3) it sleeps :data:`POLL` seconds between looks.
    """

    def __init__(self) -> None:
        self.fd: int | None = None
        self.ended = False

    def watch(self, pid: int) -> None:
        with contextlib.suppress(OSError, AttributeError):
            self.fd = os.pidfd_open(pid)

    def wait(self, pid_known: bool) -> None:
        if not pid_known:
            time.sleep(FORK_POLL)
        elif self.fd is None:
            time.sleep(POLL)
        elif self.ended:
            time.sleep(0.001)  # the warm worker writes the exit file right after reaping it
        else:
            ready, _, _ = select.select([self.fd], [], [], 0.1)  # 0.1 s: deadlines and Ctrl-C are checked
            self.ended = bool(ready)

    def close(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None


def run_job_isolated(
    spec: dict[str, Any],
    timeout: float | None = None,
    return_files: bool = False,
    cancel: Any = None,
    notebook_bytes: bytes | None = None,
    worker: WarmWorker | None = None,
) -> dict[str, Any]:
    """Run one report in a forked child of a warm worker; return its result.

    The result has ``status`` (ok, failed, timeout, interrupted, not-run), ``error``,
    ``started``, ``finished``, ``duration``, ``execution_time`` (the cells' own seconds) and
    ``wall_time``; with ``return_files`` also ``files`` (relative name -> bytes: the report
    ran in the private control folder, as on a Dask worker). ``notebook_bytes`` lets a worker
    without the notebook on disk run it anyway.
    """
    t0, started = time.perf_counter(), now_iso()
    control = Path(tempfile.mkdtemp(prefix="maexlab-job-"))
    try:
        spec = dict(spec, control_dir=str(control), timeout=timeout)
        if return_files:
            spec["staging"] = str(control / "report")
        if notebook_bytes is not None and not Path(spec["notebook"]).is_file():
            local_nb = control / Path(spec["notebook"]).name
            local_nb.write_bytes(notebook_bytes)
            spec["notebook"] = str(local_nb)
        staging = Path(spec["staging"])
        staging.mkdir(parents=True, exist_ok=True)
        result = _supervise(spec, timeout, _cancel_check(cancel), worker, control, staging)
        if result["status"] == "not-run":
            result.update(started=started, finished=started, duration=0.0)
        result["wall_time"] = round(time.perf_counter() - t0, 4)
        (staging / RESULT_FILE).unlink(missing_ok=True)
        log = staging / WORKER_LOG
        with contextlib.suppress(OSError):
            if log.stat().st_size == 0:
                log.unlink()
        if return_files:
            result["files"] = collect_files(staging)
        return result
    finally:
        shutil.rmtree(control, ignore_errors=True)  # pid/exit files, kernel connection file and sockets


def _supervise(
    spec: dict[str, Any],
    timeout: float | None,
    is_cancelled: Callable[[], bool],
    worker: WarmWorker | None,
    control: Path,
    staging: Path,
) -> dict[str, Any]:
    t0, started = time.perf_counter(), now_iso()

    def outcome(status: str, error: str) -> dict[str, Any]:
        return {
            "status": status,
            "error": error,
            "started": started,
            "finished": now_iso(),
            "duration": round(time.perf_counter() - t0, 4),
            "execution_time": None,
        }

    if is_cancelled():
        return outcome("not-run", "interrupted before it started")
    warm = worker or shared_worker()
    try:
        warm.submit(spec)
    except WorkerGone as exc:
        return dict(outcome("failed", str(exc)), worker_lost=True)
    pid: int | None = None
    hard_deadline: float | None = None  # counted from the child's start: the warm worker may still be importing
    start_deadline = time.monotonic() + WARM_START_LIMIT
    term_deadline: float | None = None
    status: str | None = None
    exit_info: dict[str, Any] | None = None
    child = _ChildWatch()
    try:
        while True:
            if pid is None:
                text = _read_json(control / PID_FILE) if (control / PID_FILE).exists() else None
                if isinstance(text, int):
                    pid = text
                    child.watch(pid)
                    if timeout:
                        hard_deadline = time.monotonic() + float(timeout) + GRACE
                elif time.monotonic() > start_deadline and term_deadline is None:
                    status = "failed"
                    break
            exit_info = _read_json(control / EXIT_FILE)
            if exit_info is not None:
                break
            if not warm.alive():
                status = "failed"
                break
            now = time.monotonic()
            if hard_deadline is not None and now > hard_deadline:
                status = "timeout"
                break
            if term_deadline is None and is_cancelled():
                if pid is not None:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGTERM)  # the running cell raises; the child writes its files
                term_deadline = now + GRACE
            if term_deadline is not None and now > term_deadline:
                status = "interrupted"
                break
            child.wait(pid is not None)
    except BaseException:
        if pid is not None:
            kill_tree(pid)
        raise
    finally:
        child.close()
    if pid is not None and exit_info is None:
        kill_tree(pid)
        deadline = time.monotonic() + 5
        while _read_json(control / EXIT_FILE) is None and warm.alive() and time.monotonic() < deadline:
            time.sleep(POLL)
    result = _read_json(staging / RESULT_FILE)
    if result is not None:
        return result
    lost = exit_info is None and not warm.alive()  # the report died with the warm worker, not by itself
    if status is None or (status == "failed" and exit_info is None):
        code = exit_info.get("code") if exit_info else None
        if code is None:
            why = "was lost with the warm worker"
        elif code < 0:
            why = f"was killed by signal {signal.Signals(-code).name}"
        else:
            why = f"exited with code {code}"
        error = f"report process {why}: {_tail(staging / WORKER_LOG) or warm.log_tail() or 'no output'}"
        status = "failed"
    elif status == "timeout":
        error = f"timed out after {float(timeout or 0):g} s; process killed"
    else:
        error = "interrupted; process killed"
    execution_time, problem = salvage_partial(spec, reason=error)
    res = outcome(status, error if not problem or problem.startswith("no output") else f"{error}; {problem}")
    res["execution_time"] = execution_time
    if lost and status == "failed":
        res["worker_lost"] = True
    return res


class LocalExecutor:
    """Up to ``workers`` reports at a time, forked from one warm worker on this machine.

    Reports start longest expected first (:class:`~maexlab.runner.schedule.LongestFirst`).
    If the warm worker dies during the run (killed, out of memory), it is started again
    once: the reports it took with it run again on the new one, and :meth:`status` records
    it (the manifest's ``run.warm_worker``). A second death fails the remaining reports
    with the reason.
    """

    name = "local"
    returns_files = False
    #: how often a dead warm worker is replaced in one run
    RESTARTS = 1

    def __init__(self, workers: int | None = None):
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self._cancel = threading.Event()
        self._threads_per_report = max(1, (os.cpu_count() or 1) // self.workers)
        self._warm = WarmWorker(threads=self._threads_per_report)
        self._warm_lock = threading.Lock()
        self._preload: list[str] | None = None
        self._notebooks: list[str] = []
        self._deaths: list[str] = []
        self._gave_up = False
        self._threads: list[threading.Thread] = []
        self._done: queue.Queue[tuple[Any, dict[str, Any]]] = queue.Queue()
        self._outstanding = 0
        self._entered = False

    def start(self) -> LocalExecutor:
        """Start the warm worker (its imports overlap with the runner's own preparation)."""
        self._warm.start()
        return self

    def preload(self, sources: list[str], notebooks: list[str] | None = None) -> None:
        """Load and validate the run's datasets (and read its notebooks) once in the warm worker."""
        self._preload, self._notebooks = list(sources), list(notebooks or [])
        self._warm.preload(self._preload, self._notebooks)

    def __enter__(self) -> LocalExecutor:
        self.start()
        self._entered = True
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "workers": self.workers}

    def status(self) -> dict[str, Any]:
        """What happened to the warm worker so far (for the manifest); empty when nothing did."""
        if not self._deaths:
            return {}
        return {"warm_worker": {"restarts": min(len(self._deaths), self.RESTARTS), "deaths": list(self._deaths)}}

    def _worker(self) -> WarmWorker:
        with self._warm_lock:
            return self._warm

    def _replace(self, dead: WarmWorker) -> bool:
        """After ``dead`` died: start a new warm worker once; False when no restart is left."""
        with self._warm_lock:
            if self._warm is not dead or dead.alive():
                return True  # another report's supervisor has replaced it already
            if self._gave_up:
                return False
            why = dead.log_tail(300) or f"exit code {dead.proc.poll() if dead.proc else '?'}"
            self._deaths.append(f"{now_iso()}: warm worker died ({why})")
            if len(self._deaths) > self.RESTARTS or self._cancel.is_set():
                self._gave_up = True
                return False
            print(f"maexlab run: the warm worker died; starting it again ({self._deaths[-1]})", file=sys.stderr, flush=True)
            dead.close()
            self._warm = WarmWorker(threads=self._threads_per_report).start()
            if self._preload is not None:
                with contextlib.suppress(WorkerGone):
                    self._warm.preload(self._preload, self._notebooks)
            return True

    def _run_one(self, spec: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        while True:
            warm = self._worker()
            result = run_job_isolated(spec, timeout, False, self._cancel, None, warm)
            if not result.pop("worker_lost", False) or not self._replace(warm):
                return result
            # the report died with the worker through no fault of its own: run it again, from scratch
            staging = Path(spec["staging"])
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True, exist_ok=True)

    def submit(
        self, items: Iterable[tuple[Any, dict[str, Any]]], timeout: float | None, prior: dict[str, float] | None = None
    ) -> None:
        """Queue the reports; ``prior`` (report path or notebook stem -> seconds) orders them."""
        assert self._entered, "use the executor as a context manager"
        specs = {spec["key"]: (tag, spec) for tag, spec in items}
        order = LongestFirst(list(specs), group=lambda key: key.split("/", 1)[0], prior=prior)
        self._outstanding += len(specs)

        def loop() -> None:
            while (key := order.take()) is not None:
                tag, spec = specs[key]
                t0 = time.monotonic()
                try:
                    result = self._run_one(spec, timeout)
                except Exception as exc:  # noqa: BLE001 - a supervisor that failed itself
                    result = {
                        "status": "failed",
                        "error": f"{type(exc).__name__}: {exc}",
                        "duration": None,
                        "execution_time": None,
                    }
                order.done(key, None if result.get("status") == "not-run" else time.monotonic() - t0)
                self._done.put((tag, result))

        for i in range(min(self.workers, len(specs))):
            thread = threading.Thread(target=loop, name=f"maexlab-job-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def results(self) -> Iterator[tuple[Any, dict[str, Any]]]:
        """Yield (tag, result) as reports finish; call again after :meth:`cancel` to drain."""
        while self._outstanding:
            try:
                # a short timeout keeps the main thread responsive to Ctrl-C
                item = self._done.get(timeout=0.25)
            except queue.Empty:
                continue
            self._outstanding -= 1
            yield item

    def cancel(self) -> None:
        """Stop every running report (SIGTERM, then SIGKILL) and let queued ones return at once."""
        self._cancel.set()

    def close(self) -> None:
        if self._outstanding:
            self._cancel.set()  # supervisors still running stop their reports
        for thread in self._threads:
            thread.join()
        self._threads = []
        self._entered = False
        self._worker().close()


def _result_of(fut: Any) -> dict[str, Any]:
    try:
        return fut.result()
    except Exception as exc:  # noqa: BLE001 - a supervisor or Dask worker that failed itself
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "duration": None, "execution_time": None}


class DaskExecutor:
    """The same job function as Dask tasks; outputs come back as bytes and are written here.

    With ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``) the runner connects to an
    existing cluster, waiting at most :data:`SCHEDULER_TIMEOUT` seconds; otherwise it starts a
    ``LocalCluster`` with ``workers`` single-threaded worker processes and closes it afterwards.
    """

    name = "dask"
    returns_files = True

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        self.scheduler = scheduler
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self.client: Any = None
        self.cluster: Any = None
        self._futures: dict[str, Any] = {}
        self._tags: dict[str, Any] = {}
        self._event_name = f"maexlab-cancel-{os.getpid()}-{time.time_ns()}"

    def start(self) -> DaskExecutor:
        return self

    def preload(self, sources: list[str], notebooks: list[str] | None = None) -> None:
        """Nothing to do: each Dask worker's warm worker serves reports of many runs."""

    def status(self) -> dict[str, Any]:
        return {}

    def __enter__(self) -> DaskExecutor:
        from distributed import Client, LocalCluster

        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout=SCHEDULER_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as exc:
                raise SchedulerUnreachable(
                    f"cannot reach the Dask scheduler {self.scheduler} within {SCHEDULER_TIMEOUT:g} s "
                    f"({type(exc).__name__}: {exc})"
                ) from None
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

    def submit(
        self, items: Iterable[tuple[Any, dict[str, Any]]], timeout: float | None, prior: dict[str, float] | None = None
    ) -> None:
        """Queue the reports as tasks, longest first by ``prior`` (earlier durations) when known."""
        items = list(items)
        known = prior or {}
        for rank, (tag, spec) in enumerate(
            sorted(items, key=lambda it: -known.get(it[1]["key"], known.get(it[1]["key"].split("/", 1)[0], 0.0)))
        ):
            nb_bytes = Path(spec["notebook"]).read_bytes()
            key = f"maexlab-{spec['key']}-{time.time_ns()}"
            fut = self.client.submit(
                run_job_isolated,
                spec,
                timeout,
                True,
                self._event_name,
                nb_bytes,
                key=key,
                pure=False,
                retries=0,
                priority=len(items) - rank,
            )
            self._futures[fut.key] = fut
            self._tags[fut.key] = tag

    def results(self) -> Iterator[tuple[Any, dict[str, Any]]]:
        from distributed import as_completed

        while self._futures:
            for fut in as_completed(list(self._futures.values())):
                self._futures.pop(fut.key, None)
                if fut.cancelled():
                    res = {"status": "not-run", "error": "cancelled", "duration": None, "execution_time": None}
                else:
                    res = _result_of(fut)
                yield self._tags.pop(fut.key), res

    def cancel(self) -> None:
        """Tell running tasks to stop their reports (they return their partial files) and
        tasks not yet started to return at once."""
        if self.client is None:
            return
        with contextlib.suppress(Exception):
            from distributed import Event

            Event(self._event_name, client=self.client).set()

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.cancel(list(self._futures.values()))
            with contextlib.suppress(Exception):
                self.client.close()
            self.client = None
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()
            self.cluster = None

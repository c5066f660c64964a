"""The warm worker: imports the analysis stack once, then forks one child per report.

A report process used to pay a fresh interpreter, papermill, a kernel start and the imports
of pandas, statsmodels, lifelines and seaborn: about 3 s before its first cell. The warm worker
(:class:`WarmWorker`, a separate process started once per run, or once per Dask worker)
imports what the run's notebooks use (:mod:`~maexlab.runner.warm_imports`), builds the HTML
exporter, and then waits for job specs. Each spec is run
in a child made with ``os.fork()``: the child starts with everything imported and nothing
executed, runs exactly one report (:func:`maexlab.runner.worker.run_report`) in its own
session and exits. Reports therefore share no state (each is a copy of the untouched warm
process, and its changes die with it), and a crash, hang or timeout is contained to the child,
which the supervisor can kill by process id.

Protocol (one JSON object per line on the worker's stdin): ``{"preload": [data sources],
"notebooks": [paths]}`` (see :mod:`~maexlab.runner.preload`; while the worker is still
importing, a loader child loads them alongside and hands them back pickled, see
:class:`_Loader`) or ``{"spec": {...}}``. For a spec the worker writes the child's pid to
``<control_dir>/pid`` and, when the child has ended (noticed at once through a pidfd), its
exit status to ``<control_dir>/exit``. When its stdin closes (the runner ended, even by
SIGKILL) the worker kills its children, removes their control folders and exits; a child also
dies with the worker (``PR_SET_PDEATHSIG``). It exits with ``os._exit``: Python's own shutdown
of the imported stack would take most of a second.

Python's hash seed is fixed (``PYTHONHASHSEED=0``) so the order of sets of text is the same
in every run: part of making identical inputs give identical reports.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["WarmWorker", "WorkerGone", "shared_worker"]

PID_FILE, EXIT_FILE = "pid", "exit"


class WorkerGone(RuntimeError):
    """The warm worker process is not running (it failed to start or was killed)."""


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent (the warm worker) dies."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _child(spec: dict[str, Any]) -> None:
    """In the forked child: run one report and exit, whatever happens."""
    code = 70
    try:
        os.setsid()  # own process group: the supervisor kills the report and what it started
        _die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        staging = Path(spec["staging"])
        staging.mkdir(parents=True, exist_ok=True)
        log = os.open(staging / ".worker.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
        from maexlab.runner.worker import run_report

        run_report(spec)
        code = 0
    except BaseException:  # noqa: BLE001 - never return into the warm worker's loop
        with contextlib.suppress(Exception):
            import traceback

            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _warm_steps(notebooks: Callable[[], list[str] | None]) -> list[tuple[str, Any]]:
    """What the warm worker does before it forks reports, in order, as (name, callable).

    First :data:`~maexlab.runner.warm_imports.BASE` (``maexlab.data`` first, so a data
    preload can start in a loader child while the rest is imported, see :class:`_Loader`),
    then the modules of the run's notebooks (``notebooks()`` gives their paths once the
    runner has sent them, None if it has not: then every analysis module), then the engine,
    the exporter and the message catalogues.
    """
    import importlib

    from maexlab.runner.warm_imports import BASE, analysis_modules

    os.environ.pop("MPLBACKEND", None)  # the inline backend gives image/png outputs
    steps: list[tuple[str, Any]] = [(name, lambda name=name: importlib.import_module(name)) for name in BASE]

    def warm_analysis() -> None:
        for name in analysis_modules(notebooks()):
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - an optional package may be absent; the report says so
                print(f"maexlab warm worker: skipped preload {name}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    def warm_engine() -> None:
        from maexlab.runner import inprocess

        inprocess.warm_up()

    def warm_export() -> None:
        from maexlab.runner import worker

        worker.warm_up()

    def warm_messages() -> None:
        # the message catalogues (YAML) and Babel's locale data every report and page reads
        from maexlab.reporting.i18n import LANGUAGES, messages

        for language in LANGUAGES:
            m = messages(language)
            for kind in m.KINDS:
                with contextlib.suppress(Exception):
                    m.value(1234.5, kind)

    steps += [("analysis", warm_analysis), ("engine", warm_engine), ("export", warm_export), ("messages", warm_messages)]
    return steps


class _Inbox:
    """The lines (JSON messages) the runner writes to the warm worker's stdin, read without blocking."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.messages: list[dict[str, Any]] = []
        self.closed = False

    def poll(self, timeout: float, also: tuple[int, ...] = ()) -> None:
        """Wait up to ``timeout`` s for input or for one of the ``also`` descriptors (children's pidfds)."""
        watched = [*also] if self.closed else [self.fd, *also]
        if not watched:
            time.sleep(timeout)
            return
        ready, _, _ = select.select(watched, [], [], timeout)
        if self.closed or self.fd not in ready:
            return
        chunk = os.read(self.fd, 1 << 16)
        if chunk == b"":
            self.closed = True
            return
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            self.messages.append(json.loads(line))


class _Loader:
    """A child of the warm worker that loads a preload's datasets and notebooks while the
    worker goes on importing (two cores instead of one), and hands them back pickled.

    The datasets a report gets are unpickled copies of what ``maexlab.data.load`` returned
    (the same tables, dtypes and metadata; tests/test_runner_preload.py compares them). If
    the loader fails, the worker loads in-process instead.
    """

    def __init__(self, message: dict[str, Any]) -> None:
        self.message = message
        read_end, write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the loader
            code = 1
            try:
                os.close(read_end)
                _die_with_parent()
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                payload = pickle.dumps(_load(message), protocol=pickle.HIGHEST_PROTOCOL)
                with open(write_end, "wb") as out:
                    out.write(payload)
                code = 0
            except BaseException:  # noqa: BLE001 - the worker loads in-process instead
                with contextlib.suppress(Exception):
                    import traceback

                    traceback.print_exc()
            finally:
                os._exit(code)
        os.close(write_end)
        self.fd = read_end

    def collect(self) -> list[str]:
        """Wait for the loader and keep what it loaded; return the problems."""
        chunks = []
        with open(self.fd, "rb") as pipe:
            while chunk := pipe.read(1 << 20):
                chunks.append(chunk)
        _, status = os.waitpid(self.pid, 0)
        if os.waitstatus_to_exitcode(status) == 0:
            with contextlib.suppress(Exception):
                return _adopt(pickle.loads(b"".join(chunks)))  # noqa: S301 - our own child's bytes
        return _adopt(_load(self.message))


def _load(message: dict[str, Any]) -> dict[str, Any]:
    from maexlab.runner.preload import load_sources
    from maexlab.runner.worker import read_notebooks

    datasets, problems = load_sources(list(message.get("preload") or []))
    return {"datasets": datasets, "problems": problems, "notebooks": read_notebooks(list(message.get("notebooks") or []))}


def _adopt(loaded: dict[str, Any]) -> list[str]:
    from maexlab.runner.preload import adopt
    from maexlab.runner.worker import adopt_notebooks

    adopt(loaded["datasets"])
    adopt_notebooks(loaded["notebooks"])
    return list(loaded["problems"])


def _warm_up(inbox: _Inbox) -> None:
    """Run the warm steps; a preload that arrives meanwhile is loaded by a :class:`_Loader`."""
    loader: _Loader | None = None

    def run_notebooks() -> list[str] | None:
        return list(loader.message.get("notebooks") or []) if loader is not None else None

    for name, step in _warm_steps(run_notebooks):
        if loader is None and name != "maexlab.data":
            inbox.poll(0)
            if inbox.messages and "preload" in inbox.messages[0]:
                loader = _Loader(inbox.messages.pop(0))
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - an optional package may be absent
            print(f"maexlab warm worker: skipped preload {name}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    if loader is not None:
        for problem in loader.collect():
            print(f"maexlab warm worker: not preloaded {problem}", file=sys.stderr, flush=True)
    _freeze()


def _freeze() -> None:
    """Move everything imported and preloaded out of the garbage collector's sight: a forked
    report's collections then do not walk (and so copy, page by page) the warm worker's objects."""
    import gc

    gc.freeze()


def main() -> int:
    """The warm worker's loop (``python -c 'from maexlab.runner.zygote import main; main()'``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides what Ctrl-C stops
    inbox = _Inbox(sys.stdin.fileno())
    _warm_up(inbox)
    children: dict[int, Path] = {}
    pidfds: dict[int, int] = {}  # child pid -> pidfd, readable the moment the child ends (no polling delay)
    orphaned = False
    while not inbox.closed or children:
        if not inbox.messages:
            # without pidfds (old kernels) the children are polled every 20 ms
            inbox.poll(0.02 if len(pidfds) < len(children) else 1.0, tuple(pidfds.values()))
        if inbox.closed and not orphaned:
            orphaned = True
            inbox.messages.clear()
            for pid in children:  # the runner is gone: nothing may outlive it
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        while inbox.messages:
            message = inbox.messages.pop(0)
            if "preload" in message:  # datasets every report of the run reads: loaded once, inherited
                for problem in _adopt(_load(message)):
                    print(f"maexlab warm worker: not preloaded {problem}", file=sys.stderr, flush=True)
                _freeze()
                continue
            spec = message["spec"]
            control = Path(spec["control_dir"])
            pid = os.fork()
            if pid == 0:
                _child(spec)
            children[pid] = control
            with contextlib.suppress(OSError, AttributeError):
                pidfds[pid] = os.pidfd_open(pid)
            with contextlib.suppress(OSError):
                _write(control / PID_FILE, str(pid))
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                break
            if pid == 0:
                break
            fd = pidfds.pop(pid, None)
            if fd is not None:
                os.close(fd)
            control = children.pop(pid, None)
            if control is None:
                continue
            if not orphaned:
                with contextlib.suppress(OSError):
                    _write(control / EXIT_FILE, json.dumps({"pid": pid, "code": os.waitstatus_to_exitcode(status)}))
            else:
                shutil.rmtree(control, ignore_errors=True)  # janitor: the supervisor is gone
    return 0


class WarmWorker:
    """A warm worker process and the pipe to it; thread-safe.

    >>> with WarmWorker() as w:  # doctest: +SKIP
    ...     pid = w.fork(spec, wait=10)
    """

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads  # BLAS/OpenMP threads per report (None: the libraries' default)
        self.proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._log: Any = None
        self._submitted = False

    def start(self) -> WarmWorker:
        """Start the process (returns at once; the imports run while the runner prepares)."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        env["PYTHONHASHSEED"] = "0"
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        env.pop("MPLBACKEND", None)
        if self.threads:
            # reports running side by side each get their share of the cores (unless the user said otherwise)
            for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                env.setdefault(name, str(self.threads))
        self._log = tempfile.TemporaryFile(prefix="maexlab-warm-")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(  # noqa: S603 - our own module with our own interpreter
            [sys.executable, "-c", "from maexlab.runner.zygote import _exit_now, main; _exit_now(main())"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
            start_new_session=True,  # the terminal's Ctrl-C reaches only the runner
            text=True,
        )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 800) -> str:
        if self._log is None:
            return ""
        with contextlib.suppress(Exception):
            self._log.seek(0)
            return self._log.read().decode("utf-8", "replace")[-n:].strip()
        return ""

    def submit(self, spec: dict[str, Any]) -> None:
        """Ask for a child running ``spec``; its pid appears in ``<control_dir>/pid``."""
        self._submitted = True
        self._send({"spec": spec})

    def _send(self, message: dict[str, Any]) -> None:
        if not self.alive():
            raise WorkerGone(f"the warm worker is not running: {self.log_tail() or 'no output'}")
        assert self.proc is not None and self.proc.stdin is not None
        with self._lock:
            try:
                self.proc.stdin.write(json.dumps(message) + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise WorkerGone(f"the warm worker is not running: {self.log_tail() or exc}") from exc

    def preload(self, sources: list[str], notebooks: list[str] | None = None) -> None:
        """Have the worker load and validate these data sources (and read these notebooks) once,
        before the next fork; while it is still importing, a loader child does it alongside."""
        self._send({"preload": list(sources), "notebooks": list(notebooks or [])})

    def close(self) -> None:
        """Close the pipe (the worker then stops its children and exits) and wait for it."""
        if self.proc is not None:
            with contextlib.suppress(Exception):
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            if not self._submitted:  # no report ever forked (a run refused early): no need to let it finish importing
                with contextlib.suppress(OSError):
                    self.proc.kill()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> WarmWorker:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()


_SHARED: WarmWorker | None = None
_SHARED_LOCK = threading.Lock()


def shared_worker() -> WarmWorker:
    """This process's warm worker, started on first use (Dask workers use one each)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None or not _SHARED.alive():
            _SHARED = WarmWorker().start()
            import atexit

            atexit.register(_SHARED.close)
        return _SHARED


def _exit_now(code: int) -> None:
    """End the warm worker without Python's shutdown (seconds of tearing down the imported stack)."""
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit_now(main())

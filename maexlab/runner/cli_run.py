"""``maexlab run PARAMS.yaml``: every report of a parameter set, in parallel, with an index.

Wiring (in ``maexlab/cli.py``)::

    from maexlab.runner.cli_run import add_run_parser, run_command
    add_run_parser(subparsers)          # adds the "run" sub-command, sets func=run_command
    ...
    return args.func(args)              # or: if args.command == "run": return run_command(args)

Every fault ends in one line ``maexlab run: ...`` on stderr and one of these exit codes
(no traceback):

====  =====================================================================================
0     every report ok
1     some report failed or timed out (a summary lists them)
2     invalid parameter set or options (unknown kernel, timeout not a finite positive number,
      ...): nothing ran
3     the run folder is in use by another run (the message names it): nothing ran
4     the outputs cannot be written (``--out`` is a file, read-only folder, disk full)
5     the executor cannot start (Dask scheduler unreachable)
130   interrupted (Ctrl-C / SIGTERM)
====  =====================================================================================

Reports never lose a finished predecessor: each report is written into a staging folder and
renamed into place when it has finished (see :mod:`~maexlab.runner.staging`), so until then
the previous report stays complete and the manifest calls it ``stale``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from maexlab.runner.jobs import DONE_MARKER, Job, build_jobs, job_spec, read_done, repo_root, write_done
from maexlab.runner.manifest import environment, git_commit, write_manifest
from maexlab.runner.params import ParamsError, load_parameter_set
from maexlab.runner.render import read_data_notice, read_headline, write_index
from maexlab.runner.schedule import previous_durations
from maexlab.runner.slug import slugify
from maexlab.runner.staging import STAGING, RunBusy, RunLock, commit, discard, recover, staging_dir
from maexlab.runner.worker import atomic_write_bytes, now_iso

__all__ = ["RunError", "add_run_parser", "run", "run_command"]

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_BUSY, EXIT_OUTPUT, EXIT_EXECUTOR = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130
#: Report statuses in manifest.json; "stale" = the folder still holds an earlier run's report.
STATUSES = ("ok", "failed", "timeout", "interrupted", "stale", "not-run", "queued")
ENGINES = ("auto", "inprocess", "kernel")


class RunError(Exception):
    """A fault that ends the run with one line and an exit code."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def add_run_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``run`` to an argparse sub-parser collection; the parser's default ``func`` is :func:`run_command`."""
    p = subparsers.add_parser(
        "run",
        help="run notebooks over a parameter set (reports, index.html, manifest.json)",
        description="Execute every notebook x parameter combination of a parameter set, each report in its "
        "own forked process, and write outputs/<run-name>/ with index.html and manifest.json.",
    )
    p.add_argument("params", metavar="PARAMS.yaml", help="parameter set (see docs/runner.md)")
    p.add_argument("--executor", choices=("local", "dask"), default="local", help="local processes (default) or Dask")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address; default: a LocalCluster")
    p.add_argument("--workers", type=_positive_int, default=None, help="reports at a time (default: CPU count)")
    p.add_argument("--timeout", type=_positive_float, default=None, metavar="S", help="seconds per report; stopped after")
    p.add_argument("--resume", action="store_true", help="run only the reports that failed or are missing")
    p.add_argument("--run-name", default=None, help="folder name under --out (default: the set's name); slugified")
    p.add_argument("--out", default="outputs", help="output root (default: outputs)")
    p.add_argument("--notebooks-dir", default=None, help="where notebook names are looked up (default: notebooks/)")
    p.add_argument("--kernel", default="maexlab", help="Jupyter kernel name (default: maexlab)")
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="inprocess: forked warm worker (fast); kernel: a Jupyter kernel per report; "
        "auto (default): inprocess when the kernel runs this Python, else kernel",
    )
    p.add_argument("--progress", choices=("auto", "bar", "log"), default="auto", help="tqdm bar on a TTY, log lines otherwise")
    p.set_defaults(func=run_command)
    return p


def run_command(args: argparse.Namespace) -> int:
    """Entry point for the parsed ``run`` arguments; returns the exit code."""
    return run(
        args.params,
        executor=args.executor,
        scheduler=args.scheduler,
        workers=args.workers,
        timeout=args.timeout,
        resume=args.resume,
        run_name=args.run_name,
        out=args.out,
        notebooks_dir=getattr(args, "notebooks_dir", None),
        kernel=getattr(args, "kernel", "maexlab"),
        engine=getattr(args, "engine", "auto"),
        progress=getattr(args, "progress", "auto"),
    )


class _Progress:
    def __init__(self, total: int, mode: str):
        self.total, self.n = total, 0
        use_bar = mode == "bar" or (mode == "auto" and sys.stderr.isatty())
        self.bar = None
        if use_bar:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="report", file=sys.stderr, dynamic_ncols=True)

    def update(self, job: Job, result: dict[str, Any]) -> None:
        self.n += 1
        status = result.get("status")
        dur = result.get("duration")
        dur_s = f" {dur:.1f}s" if isinstance(dur, (int, float)) else ""
        if self.bar is not None:
            self.bar.update(1)
            if status != "ok":
                self.bar.write(f"{status}: {job.key}: {result.get('error')}")
        else:
            line = f"[{self.n}/{self.total}] {status}{dur_s} {job.key}"
            if status != "ok":
                line += f": {result.get('error')}"
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _report_entry(job: Job) -> dict[str, Any]:
    files = job.files()
    return {
        "notebook_name": job.notebook.name,
        "notebook_stem": job.stem,
        "params": job.params,
        "slug": job.slug,
        "path": job.rel_dir,
        "notebook": files["notebook"],
        "html": files["html"],
        "job_hash": job.job_hash,
        "data_source": job.data_source,
        "data_fingerprint": job.fingerprint,
        "status": "not-run",
        "cached": False,
        "error": None,
        "started": None,
        "finished": None,
        "duration": None,
        "execution_time": None,
        "headline": {},
    }


class _Terminate(BaseException):
    """SIGTERM while running: handled like Ctrl-C."""


# --- checks before anything runs ------------------------------------------------------------


def _check_timeout(timeout: Any) -> float | None:
    if timeout is None:
        return None
    try:
        value = float(timeout)
    except (TypeError, ValueError):
        raise RunError(EXIT_INVALID, f"--timeout {timeout!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise RunError(EXIT_INVALID, f"--timeout must be a finite number of seconds > 0, got {timeout!r}")
    return value


def _kernel_spec(kernel: str) -> Any:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    ksm = KernelSpecManager()
    try:
        return ksm.get_kernel_spec(kernel)
    except NoSuchKernel:
        names = ", ".join(sorted(ksm.find_kernel_specs())) or "none"
        raise RunError(
            EXIT_INVALID,
            f"--kernel {kernel!r}: no such Jupyter kernel (installed: {names}; `make setup` registers 'maexlab')",
        ) from None


def _choose_engine(engine: str, spec: Any) -> str:
    """``inprocess`` runs notebooks in this Python; that is the kernel's Python when its argv says so."""
    if engine not in ENGINES:
        raise RunError(EXIT_INVALID, f"--engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if engine != "auto":
        return engine
    argv0 = (spec.argv or [""])[0]
    v = sys.version_info
    if argv0 in ("python", f"python{v[0]}", f"python{v[0]}.{v[1]}") or os.path.abspath(argv0) == os.path.abspath(sys.executable):
        return "inprocess" if spec.language.lower() == "python" else "kernel"
    return "kernel"


def _os_message(exc: OSError, what: str) -> str:
    where = f" {exc.filename}" if exc.filename else ""
    return f"cannot {what}{where}: {exc.strerror or exc}"


# --- the run ------------------------------------------------------------------------------


def run(
    params_file: str | Path,
    *,
    executor: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    timeout: float | None = None,
    resume: bool = False,
    run_name: str | None = None,
    out: str | Path = "outputs",
    notebooks_dir: str | Path | None = None,
    kernel: str = "maexlab",
    engine: str = "auto",
    progress: str = "auto",
) -> int:
    """Run a parameter set; see the module docstring for the exit codes."""
    try:
        return _run(
            Path(params_file),
            executor=executor,
            scheduler=scheduler,
            workers=workers,
            timeout=timeout,
            resume=resume,
            run_name=run_name,
            out=out,
            notebooks_dir=notebooks_dir,
            kernel=kernel,
            engine=engine,
            progress=progress,
        )
    except RunError as exc:
        print(f"maexlab run: {exc}", file=sys.stderr)
        return exc.code
    except (KeyboardInterrupt, _Terminate):
        print("\nmaexlab run: interrupted before any report started; no report was changed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        print(f"maexlab run: {_os_message(exc, 'write')}", file=sys.stderr)
        return EXIT_OUTPUT


def _run(
    params_file: Path,
    *,
    executor: str,
    scheduler: str | None,
    workers: int | None,
    timeout: float | None,
    resume: bool,
    run_name: str | None,
    out: str | Path,
    notebooks_dir: str | Path | None,
    kernel: str,
    engine: str,
    progress: str,
) -> int:
    t0 = time.perf_counter()
    timeout = _check_timeout(timeout)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise RunError(EXIT_INVALID, f"--workers must be a whole number >= 1, got {workers!r}")
    if executor not in ("local", "dask"):
        raise RunError(EXIT_INVALID, f"--executor {executor!r}: expected local or dask")
    if scheduler and executor != "dask":
        raise RunError(EXIT_INVALID, "--scheduler needs --executor dask")
    if run_name is not None and not str(run_name).strip():
        raise RunError(EXIT_INVALID, "--run-name is empty")

    from maexlab.runner.executors import DaskExecutor, LocalExecutor, SchedulerUnreachable
    from maexlab.runner.zygote import WorkerGone

    ex: Any = DaskExecutor(scheduler=scheduler, workers=workers) if executor == "dask" else LocalExecutor(workers=workers)
    with contextlib.ExitStack() as stack:
        stack.callback(ex.close)
        # first of all: the warm worker imports the stack while the options and the set are checked
        ex.start()
        chosen_engine = _choose_engine(engine, _kernel_spec(kernel))
        if notebooks_dir is None:
            notebooks_dir = Path("notebooks") if Path("notebooks").is_dir() else repo_root() / "notebooks"
        try:
            pset = load_parameter_set(params_file, notebooks_dir)
        except ParamsError as exc:
            raise RunError(EXIT_INVALID, str(exc)) from None
        defaults = {nb: {k: s.default for k, s in specs.items()} for nb, specs in pset.specs.items()}
        jobs = build_jobs(pset.jobs(), defaults)
        if chosen_engine == "inprocess" and jobs:
            # as early as possible: a loader child of the warm worker reads them while it still imports
            sources = sorted({str(job.exec_params.get("data_source", job.data_source)) for job in jobs})
            notebooks = sorted({str(job.notebook.resolve()) for job in jobs})
            with contextlib.suppress(WorkerGone):  # a dead worker is reported when the first report needs it
                ex.preload(sources, notebooks)
        name = str(run_name if run_name is not None else pset.name)
        run_slug = slugify(name, 80)
        if run_name is not None and run_slug != run_name:
            print(f"maexlab run: run name {run_name!r} is used as folder {run_slug!r}", file=sys.stderr)
        try:
            stack.enter_context(ex)
        except SchedulerUnreachable as exc:
            raise RunError(EXIT_EXECUTOR, str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - a cluster that cannot start
            raise RunError(EXIT_EXECUTOR, f"the {executor} executor cannot start: {type(exc).__name__}: {exc}") from None

        out_root = Path(out).resolve()
        if out_root.exists() and not out_root.is_dir():
            raise RunError(EXIT_OUTPUT, f"--out {out}: is a file, not a folder")
        run_dir = out_root / run_slug
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunError(EXIT_OUTPUT, _os_message(exc, "create the run folder")) from None
        if not os.access(run_dir, os.W_OK | os.X_OK):
            raise RunError(EXIT_OUTPUT, f"cannot write into the run folder {run_dir}: permission denied")
        lock = RunLock(run_dir)
        started = now_iso()
        try:
            lock.acquire({"name": run_slug, "started": started})
        except RunBusy as exc:
            raise RunError(
                EXIT_BUSY, f"{run_dir} is in use by {exc}; wait for it to finish or choose another --run-name"
            ) from None
        except OSError as exc:
            raise RunError(EXIT_OUTPUT, _os_message(exc, "lock the run folder")) from None
        stack.callback(lock.release)
        try:
            return _execute(
                jobs,
                ex,
                run_dir=run_dir,
                run_slug=run_slug,
                params_file=params_file,
                pset=pset,
                resume=resume,
                timeout=timeout,
                kernel=kernel,
                engine=chosen_engine,
                progress=progress,
                started=started,
                t0=t0,
            )
        except WorkerGone as exc:
            raise RunError(EXIT_EXECUTOR, str(exc)) from None
        except OSError as exc:
            raise RunError(EXIT_OUTPUT, _os_message(exc, "write")) from None
    raise AssertionError("unreachable")  # pragma: no cover


class _Signals:
    """SIGTERM raises like Ctrl-C; :meth:`held` defers both while a report is put in place."""

    def __init__(self) -> None:
        self.old: Any = None
        self.main = threading.current_thread() is threading.main_thread()

    def __enter__(self) -> _Signals:
        if self.main:

            def on_term(signum: int, frame: Any) -> None:
                raise _Terminate()

            self.old = signal.signal(signal.SIGTERM, on_term)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)

    @contextlib.contextmanager
    def held(self, reraise: bool = True) -> Any:
        """Defer Ctrl-C and SIGTERM until the block is done (a signal mask would not do:
        Python runs its handlers in the main thread whichever thread received the signal)."""
        if not self.main:
            yield
            return
        pending: list[int] = []

        def defer(signum: int, frame: Any) -> None:
            pending.append(signum)

        old_int, old_term = signal.signal(signal.SIGINT, defer), signal.signal(signal.SIGTERM, defer)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, old_int)
            signal.signal(signal.SIGTERM, old_term)
        if pending and reraise:
            raise KeyboardInterrupt if pending[0] == signal.SIGINT else _Terminate()


def _read_manifest(run_dir: Path) -> dict[str, Any] | None:
    """The manifest an earlier run left in the folder, if readable."""
    try:
        data = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _previous(final: Path) -> str | None:
    """What an existing report folder holds: 'ok' (done-marker present), 'unfinished' or None."""
    if not final.is_dir():
        return None
    return "ok" if (final / DONE_MARKER).is_file() else "unfinished"


def _mark_stale(entry: dict[str, Any], final: Path, why: str) -> None:
    previous = _previous(final)
    if previous is None:
        entry.update(status="not-run", error=why, headline={}, data_notice=None)
    else:
        entry.update(
            status="stale",
            error=f"{why}; the folder still holds an earlier run's report ({previous})",
            headline=read_headline(final),
            data_notice=read_data_notice(final),
        )


def _execute(
    jobs: list[Job],
    ex: Any,
    *,
    run_dir: Path,
    run_slug: str,
    params_file: Path,
    pset: Any,
    resume: bool,
    timeout: float | None,
    kernel: str,
    engine: str,
    progress: str,
    started: str,
    t0: float,
) -> int:
    shutil.rmtree(run_dir / STAGING, ignore_errors=True)  # leftovers of a crashed run (we hold the lock)
    entries = {job.key: _report_entry(job) for job in jobs}
    pending: list[Job] = []
    for job in jobs:
        final = job.out_dir(run_dir)
        recover(final)
        marker = read_done(run_dir, job) if resume else None
        e = entries[job.key]
        if marker is not None:
            e.update({k: marker.get(k) for k in ("started", "finished", "duration", "execution_time")})
            e.update(status="ok", cached=True, headline=read_headline(final), data_notice=read_data_notice(final))
        else:
            pending.append(job)
            _mark_stale(e, final, "not run yet")

    manifest: dict[str, Any] = {
        "format": 2,
        "status": "running",
        "run": {
            "name": run_slug,
            "folder": str(run_dir),
            "params_file": str(params_file),
            "params_set_name": pset.name,
            "notebooks": [str(nb) for nb in pset.notebooks],
            "resume": resume,
            "timeout": timeout,
            "kernel": kernel,
            "engine": engine,
            "pid": os.getpid(),
            "started": started,
            "finished": None,
            "wall_time": None,
            "argv": sys.argv,
            **ex.describe(),
        },
        "environment": environment(),
        "git_commit": git_commit(repo_root()),
        "data": {j.data_source: j.fingerprint for j in jobs},
        "summary": {},
        "reports": list(entries.values()),
    }

    def publish() -> None:
        manifest["run"].update(ex.status())  # e.g. a warm worker that died and was started again
        write_manifest(run_dir, manifest)
        write_index(run_dir, manifest)

    prior = previous_durations(_read_manifest(run_dir))  # the last run's durations order this one's reports
    publish()  # from now on manifest and index say what each folder holds
    bar = _Progress(len(pending), progress)
    if len(pending) < len(jobs):
        print(f"maexlab run: {len(jobs) - len(pending)} of {len(jobs)} reports already done, skipped", file=sys.stderr)
    environ = {k: os.environ[k] for k in ("JUPYTER_PATH", "JUPYTER_DATA_DIR") if k in os.environ}
    interrupted = False
    queued = set()

    with _Signals() as signals:

        def land(job: Job, result: dict[str, Any]) -> None:
            with signals.held():
                _land(run_dir, job, result, entries[job.key], ex.returns_files)
                queued.discard(job.key)
                bar.update(job, result)
                publish()

        try:
            items = []
            for job in pending:
                staged = staging_dir(run_dir, job.rel_dir)
                staged.mkdir(parents=True)
                entries[job.key]["queued"] = True
                queued.add(job.key)
                items.append((job, job_spec(job, staged, kernel_name=kernel, engine=engine, environ=environ)))
            ex.submit(items, timeout, prior)
            for job, result in ex.results():
                land(job, result)
        except (KeyboardInterrupt, _Terminate):
            interrupted = True
            print("\nmaexlab run: interrupted, stopping reports ...", file=sys.stderr)
            ex.cancel()
            try:
                for job, result in ex.results():  # running reports stop within a few seconds
                    land(job, result)
            except (KeyboardInterrupt, _Terminate):
                print("maexlab run: interrupted again, killing reports", file=sys.stderr)
        finally:
            bar.close()
        with signals.held(reraise=False):  # the run is ending anyway: finish the record first
            for job in jobs:
                e = entries[job.key]
                e.pop("queued", None)
                if job.key in queued:
                    discard(staging_dir(run_dir, job.rel_dir))
                    _mark_stale(e, job.out_dir(run_dir), "interrupted before it finished" if interrupted else "no result")
            shutil.rmtree(run_dir / STAGING, ignore_errors=True)
            counts: dict[str, int] = {}
            for e in entries.values():
                counts[e["status"]] = counts.get(e["status"], 0) + 1
            n_bad = sum(n for s, n in counts.items() if s != "ok")
            manifest["status"] = "interrupted" if interrupted else ("failed" if n_bad else "ok")
            manifest["summary"] = {"total": len(jobs), "ran": len(pending), "skipped": len(jobs) - len(pending), **counts}
            manifest["run"]["finished"] = now_iso()
            manifest["run"]["wall_time"] = round(time.perf_counter() - t0, 3)
            publish()

    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"maexlab run: {manifest['status']}: {summary} -> {run_dir / 'index.html'}", file=sys.stderr)
    for e in entries.values():
        if e["status"] != "ok":
            print(f"  {e['status']}: {e['path']}: {e['error']}", file=sys.stderr)
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if n_bad else EXIT_OK


def _store_files(folder: Path, files: dict[str, bytes]) -> None:
    root = folder.resolve()
    for rel, data in files.items():
        target = (root / rel).resolve()
        if root not in target.parents:
            continue  # never write outside the report's folder
        atomic_write_bytes(target, data)


def _land(run_dir: Path, job: Job, result: dict[str, Any], entry: dict[str, Any], returns_files: bool) -> None:
    """Put a finished report in place (one rename) and record it; keep an earlier report when
    this one never ran or was interrupted."""
    staged = staging_dir(run_dir, job.rel_dir)
    final = job.out_dir(run_dir)
    files = result.pop("files", None)
    status = result.get("status", "failed")
    if returns_files and files is not None:
        discard(staged)
        staged.mkdir(parents=True)
        _store_files(staged, files)
    timing = {k: result.get(k) for k in ("started", "finished", "duration", "wall_time", "execution_time")}
    if status == "not-run" or (status == "interrupted" and final.exists()):
        discard(staged)
        entry.update(timing)
        _mark_stale(entry, final, result.get("error") or status)
        return
    if status == "ok":
        write_done(
            staged,
            job,
            {
                "status": "ok",
                "notebook": job.notebook.name,
                "params": job.params,
                "data_fingerprint": job.fingerprint,
                **timing,
                "written": now_iso(),
            },
        )
    try:
        commit(staged, final)
    except OSError as exc:  # e.g. a file of the earlier report that cannot be moved: keep that report
        discard(staged)
        entry.update(timing)
        _mark_stale(entry, final, f"finished ({status}) but could not replace the earlier report: {exc}")
        return
    entry.update(
        status=status,
        error=result.get("error"),
        headline=read_headline(final),
        data_notice=read_data_notice(final),
        **timing,
    )

"""``maexlab run PARAMS.yaml``: every report of a parameter set, in parallel, with an index.

Wiring (in ``maexlab/cli.py``)::

    from maexlab.runner.cli_run import add_run_parser, run_command
    add_run_parser(subparsers)          # adds the "run" sub-command, sets func=run_command
    ...
    return args.func(args)              # or: if args.command == "run": return run_command(args)

Exit codes: 0 all reports ok, 1 some report failed or timed out, 2 invalid parameter set or
options, 130 interrupted (Ctrl-C / SIGTERM).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from maexlab.runner.jobs import Job, build_jobs, clear_done, job_spec, read_done, repo_root, write_done
from maexlab.runner.manifest import environment, git_commit, write_manifest
from maexlab.runner.params import ParamsError, load_parameter_set
from maexlab.runner.render import read_data_notice, read_headline, write_index
from maexlab.runner.slug import slugify
from maexlab.runner.worker import atomic_write_bytes, now_iso

__all__ = ["add_run_parser", "run", "run_command"]

log = logging.getLogger("maexlab.run")

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def add_run_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``run`` to an argparse sub-parser collection; the parser's default ``func`` is :func:`run_command`."""
    p = subparsers.add_parser(
        "run",
        help="run notebooks over a parameter set (reports, index.html, manifest.json)",
        description="Execute every notebook x parameter combination of a parameter set with papermill, "
        "each report in its own process, and write outputs/<run-name>/ with index.html and manifest.json.",
    )
    p.add_argument("params", metavar="PARAMS.yaml", help="parameter set (see docs/runner.md)")
    p.add_argument("--executor", choices=("local", "dask"), default="local", help="local processes (default) or Dask")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address; default: a LocalCluster")
    p.add_argument("--workers", type=_positive_int, default=None, help="reports at a time (default: CPU count)")
    p.add_argument("--timeout", type=_positive_float, default=None, metavar="S", help="seconds per report; killed after")
    p.add_argument("--resume", action="store_true", help="run only the reports that failed or are missing")
    p.add_argument("--run-name", default=None, help="folder name under --out (default: the set's name)")
    p.add_argument("--out", default="outputs", help="output root (default: outputs)")
    p.add_argument("--notebooks-dir", default=None, help="where notebook names are looked up (default: notebooks/)")
    p.add_argument("--kernel", default="maexlab", help="Jupyter kernel name (default: maexlab)")
    p.add_argument("--progress", choices=("auto", "bar", "log"), default="auto", help="tqdm bar on a TTY, log lines otherwise")
    p.set_defaults(func=run_command)
    return p


def run_command(args: argparse.Namespace) -> int:
    """Entry point for the parsed ``run`` arguments; returns the exit code."""
    if args.scheduler and args.executor != "dask":
        print("maexlab run: --scheduler needs --executor dask", file=sys.stderr)
        return EXIT_INVALID
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


def _make_executor(kind: str, scheduler: str | None, workers: int | None) -> Any:
    from maexlab.runner.executors import DaskExecutor, LocalExecutor

    if kind == "dask":
        return DaskExecutor(scheduler=scheduler, workers=workers)
    return LocalExecutor(workers=workers)


def _store_files(out_dir: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        target = (out_dir / rel).resolve()
        if out_dir.resolve() not in target.parents:
            continue  # never write outside the report's folder
        atomic_write_bytes(target, data)


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
        "status": "pending",
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
    progress: str = "auto",
) -> int:
    """Run a parameter set; see the module docstring for the exit codes."""
    params_file = Path(params_file)
    if notebooks_dir is None:
        notebooks_dir = Path("notebooks") if Path("notebooks").is_dir() else repo_root() / "notebooks"
    try:
        pset = load_parameter_set(params_file, notebooks_dir)
    except ParamsError as exc:
        print(f"maexlab run: {exc}", file=sys.stderr)
        return EXIT_INVALID
    defaults = {nb: {k: s.default for k, s in specs.items()} for nb, specs in pset.specs.items()}
    jobs = build_jobs(pset.jobs(), defaults)
    name = run_name or pset.name
    run_slug = slugify(name, 80) if run_name is None else name
    if not run_slug or "/" in run_slug or "\\" in run_slug or run_slug in (".", ".."):
        print(f"maexlab run: --run-name {run_name!r} is not a valid folder name", file=sys.stderr)
        return EXIT_INVALID
    run_dir = Path(out).resolve() / run_slug  # absolute: kernels run in the notebooks folder
    run_dir.mkdir(parents=True, exist_ok=True)

    entries = {job.key: _report_entry(job) for job in jobs}
    pending: list[Job] = []
    for job in jobs:
        marker = read_done(run_dir, job) if resume else None
        if marker is not None:
            e = entries[job.key]
            e.update({k: marker.get(k) for k in ("started", "finished", "duration", "execution_time")})
            e.update(
                status="ok",
                cached=True,
                headline=read_headline(job.out_dir(run_dir)),
                data_notice=read_data_notice(job.out_dir(run_dir)),
            )
        else:
            pending.append(job)

    ex = _make_executor(executor, scheduler, workers)
    manifest: dict[str, Any] = {
        "format": 1,
        "status": "running",
        "run": {
            "name": name,
            "folder": str(run_dir),
            "params_file": str(params_file),
            "params_set_name": pset.name,
            "notebooks": [str(nb) for nb in pset.notebooks],
            "resume": resume,
            "timeout": timeout,
            "kernel": kernel,
            "started": now_iso(),
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
    write_manifest(run_dir, manifest)

    t0 = time.perf_counter()
    bar = _Progress(len(pending), progress)
    if len(pending) < len(jobs):
        print(f"maexlab run: {len(jobs) - len(pending)} of {len(jobs)} reports already done, skipped", file=sys.stderr)
    interrupted = False
    old_term = None
    if threading.current_thread() is threading.main_thread():

        def _on_term(signum: int, frame: Any) -> None:
            raise _Terminate()

        old_term = signal.signal(signal.SIGTERM, _on_term)
    try:
        with ex:
            items = []
            for job in pending:
                out_dir = job.out_dir(run_dir)
                clear_done(run_dir, job)
                if out_dir.exists():
                    shutil.rmtree(out_dir)  # stale files of an earlier attempt
                out_dir.mkdir(parents=True)
                entries[job.key]["status"] = "queued"
                items.append((job, job_spec(job, out_dir, kernel_name=kernel)))
            try:
                for job, result in ex.run(items, timeout):
                    _finish(run_dir, job, result, entries[job.key], ex.returns_files)
                    bar.update(job, result)
                    write_manifest(run_dir, manifest)
            except (KeyboardInterrupt, _Terminate):
                interrupted = True
                print("\nmaexlab run: interrupted, stopping reports ...", file=sys.stderr)
                ex.cancel()
    except (KeyboardInterrupt, _Terminate):
        interrupted = True
    finally:
        bar.close()
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)

    for e in entries.values():
        if e["status"] in ("queued", "pending"):
            e["status"] = "interrupted" if interrupted else "failed"
            e["error"] = e["error"] or ("interrupted" if interrupted else "no result")
    counts: dict[str, int] = {}
    for e in entries.values():
        counts[e["status"]] = counts.get(e["status"], 0) + 1
    n_bad = sum(n for s, n in counts.items() if s != "ok")
    manifest["status"] = "interrupted" if interrupted else ("failed" if n_bad else "ok")
    manifest["summary"] = {"total": len(jobs), "ran": len(pending), "skipped": len(jobs) - len(pending), **counts}
    manifest["run"]["finished"] = now_iso()
    manifest["run"]["wall_time"] = round(time.perf_counter() - t0, 3)
    write_manifest(run_dir, manifest)
    index = write_index(run_dir, manifest)

    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"maexlab run: {manifest['status']}: {summary} -> {index}", file=sys.stderr)
    for e in entries.values():
        if e["status"] != "ok":
            print(f"  {e['status']}: {e['path']}: {e['error']}", file=sys.stderr)
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if n_bad else EXIT_OK


def _finish(run_dir: Path, job: Job, result: dict[str, Any], entry: dict[str, Any], store_files: bool) -> None:
    out_dir = job.out_dir(run_dir)
    files = result.pop("files", None)
    if store_files and files is not None:
        _store_files(out_dir, files)
    status = result.get("status", "failed")
    entry.update(
        status=status,
        error=result.get("error"),
        started=result.get("started"),
        finished=result.get("finished"),
        duration=result.get("duration"),
        wall_time=result.get("wall_time"),
        execution_time=result.get("execution_time"),
        headline=read_headline(out_dir),
        data_notice=read_data_notice(out_dir),
    )
    if status == "ok":
        write_done(
            run_dir,
            job,
            {
                "status": "ok",
                "notebook": str(job.notebook),
                "params": job.params,
                "data_fingerprint": job.fingerprint,
                "started": entry["started"],
                "finished": entry["finished"],
                "duration": entry["duration"],
                "execution_time": entry["execution_time"],
                "written": now_iso(),
                "pid": os.getpid(),
            },
        )

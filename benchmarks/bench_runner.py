"""Throughput of ``maexlab run`` against a sequential loop of the ``papermill`` CLI.

Both do the same work: N reports of real notebooks (default: 00_data_profile and
01_funding_gaps, half each), every report with its own ``seed`` so each is a distinct job.
The runner also exports HTML and writes the index and manifest; the papermill loop only
executes. Run once, on an otherwise quiet machine if possible (the load average is printed).

Printed:

* wall time of each, reports per second and the speed-up (loop wall / runner wall);
* the notebooks' own cell time per report (runner: the cells' seconds it records; loop: the
  durations papermill records, which include the imports each fresh kernel pays);
* runner overhead per report = wall time x workers / reports - cell time per report: what a
  report costs beyond its cells (fork, HTML export, bookkeeping, waiting);
* goal checks: speed-up >= 4x and overhead < 0.3 s;
* where the overhead goes (:func:`breakdown`): start, in-report, idle between reports,
  tail, end; the parts add up to the overhead.

``--runner-only`` skips the papermill loop (for looking at the breakdown alone).

Usage (not run by the tests)::

    .venv/bin/python benchmarks/bench_runner.py                  # 30 reports: 15 x 00 + 15 x 01, 2 workers
    .venv/bin/python benchmarks/bench_runner.py -n 60 --workers 4
    .venv/bin/python benchmarks/bench_runner.py --notebook tests/fixtures/notebooks/tiny_report.ipynb
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_NOTEBOOKS = [ROOT / "notebooks" / "00_data_profile.ipynb", ROOT / "notebooks" / "01_funding_gaps.ipynb"]


def cell_seconds(nb_path: Path) -> float:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return sum(float(c.get("metadata", {}).get("papermill", {}).get("duration") or 0) for c in nb["cells"])


def _idle(intervals: list[tuple[float, float]], workers: int, start: float, end: float) -> float:
    """Worker-seconds with no report running between ``start`` and ``end`` (``workers`` slots)."""
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    idle, running, at = 0.0, 0, start
    for t, step in events:
        t = min(max(t, start), end)
        idle += max(0, workers - running) * (t - at)
        running, at = running + step, t
    return idle + max(0, workers - running) * max(0.0, end - at)


def breakdown(reports: list[dict], workers: int, began: datetime, ended: datetime) -> list[str]:
    """Where the runner's overhead (wall x workers - cell time) goes, in seconds per report.

    From the run's own timestamps: each report's start and finish in its process, its cell
    seconds, and the supervisor's wall time. The parts add up to the overhead:
    start (workers x time to the first report) + in the report process beyond its cells +
    idle between reports while others were still queued (fork, supervision, hand-off) +
    tail (workers idle after the last report started, waiting for the others) + end
    (workers x time from the last report's end to the command's return).
    """
    rows = [r for r in reports if r.get("started") and r.get("finished")]
    n = len(rows)
    if not n:
        return ["breakdown: no report ran"]

    def sec(iso: str) -> float:
        return (datetime.fromisoformat(iso) - began).total_seconds()

    spans = [(sec(r["started"]), sec(r["finished"])) for r in rows]
    first, last_start, last_end = min(a for a, _ in spans), max(a for a, _ in spans), max(b for _, b in spans)
    total = (ended - began).total_seconds()
    in_report = [(r.get("duration") or 0) - (r.get("execution_time") or 0) for r in rows]
    supervision = sorted((r.get("wall_time") or 0) - (r.get("duration") or 0) for r in rows if r.get("wall_time"))
    gaps = _idle(spans, workers, first, last_start)
    tail = _idle(spans, workers, last_start, last_end)
    parts = {
        "start (first report began after)": (first, workers * first / n),
        "in the report process beyond cells": (sorted(in_report)[n // 2], sum(in_report) / n),
        "idle between reports (fork, supervision)": (gaps, gaps / n),
        "tail (workers idle at the end)": (tail, tail / n),
        "end (last report done to return)": (total - last_end, workers * (total - last_end) / n),
    }
    lines = [f"breakdown of the runner's overhead per report ({n} reports, {workers} workers):"]
    lines.append(f"  {'part':44}{'seconds':>9}{'per report':>12}")
    for name, (seconds, per) in parts.items():
        lines.append(f"  {name:44}{seconds:9.3f}{per:12.3f}")
    lines.append(f"  {'sum':44}{'':9}{sum(p for _, p in parts.values()):12.3f}")
    if supervision:
        lines.append(
            f"  (median fork and supervision per report, inside the idle part: {supervision[len(supervision) // 2]:.3f} s;"
        )
        lines.append("   'seconds' of the in-report row is its median; idle and tail are worker-seconds)")
    return lines


def papermill_loop(notebooks: list[Path], seeds: list[int], nbdir: Path, loop_dir: Path, kernel: str) -> tuple[float, float]:
    """The baseline: the same reports one after another with the papermill CLI; (wall s, cell s)."""
    loop_dir.mkdir()
    papermill_cli = Path(sys.executable).with_name("papermill")
    t0 = time.perf_counter()
    loop_cells = 0.0
    for nb in notebooks:
        for seed in seeds:
            out_nb = loop_dir / f"{nb.stem}-{seed}.ipynb"
            cmd = [
                str(papermill_cli),
                str(nbdir / nb.name),
                str(out_nb),
                "-k",
                kernel,
                "--cwd",
                str(nbdir),
                "-p",
                "seed",
                str(seed),
                "-p",
                "output_dir",
                str(loop_dir / f"out-{nb.stem}-{seed}"),
                "--no-progress-bar",
            ]
            subprocess.run(cmd, check=True, capture_output=True)  # noqa: S603
            loop_cells += cell_seconds(out_nb)
    loop_wall = time.perf_counter() - t0
    print(f"papermill loop: {loop_wall:.1f} s")
    return loop_wall, loop_cells


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--reports", type=int, default=30, help="number of reports in all (default 30)")
    ap.add_argument("--notebook", type=Path, action="append", help="notebook to run (repeatable; default 00 and 01)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--executor", choices=("local", "dask"), default="local")
    ap.add_argument("--kernel", default="maexlab")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("--runner-only", action="store_true", help="skip the papermill loop (no speed-up figure)")
    args = ap.parse_args(argv)

    from maexlab.runner.cli_run import run

    notebooks = [p.resolve() for p in (args.notebook or DEFAULT_NOTEBOOKS)]
    per_nb = -(-args.reports // len(notebooks))
    scratch = Path(tempfile.mkdtemp(prefix="maexlab-bench-"))
    nbdir = scratch / "notebooks"
    nbdir.mkdir()
    for nb in notebooks:
        shutil.copy(nb, nbdir / nb.name)
    seeds = list(range(1, per_nb + 1))
    n = per_nb * len(notebooks)
    pset = scratch / "bench.yaml"
    pset.write_text(
        json.dumps({"name": "bench", "notebooks": [nb.name for nb in notebooks], "grid": {"seed": seeds}}), encoding="utf-8"
    )  # JSON is YAML

    print(f"notebooks {', '.join(nb.name for nb in notebooks)}: {n} reports, {args.workers} workers, executor {args.executor}")
    print(f"machine: {os.cpu_count()} CPUs, load average at start {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    # 1. maexlab run
    run_began = datetime.now(UTC)
    t0 = time.perf_counter()
    rc = run(
        pset,
        executor=args.executor,
        workers=args.workers,
        out=scratch / "out",
        notebooks_dir=nbdir,
        kernel=args.kernel,
        progress="log",
    )
    runner_wall = time.perf_counter() - t0
    runner_end = datetime.now(UTC)
    manifest = json.loads((scratch / "out" / "bench" / "manifest.json").read_text(encoding="utf-8"))
    runner_cells = sum(r.get("execution_time") or 0 for r in manifest["reports"])
    print(f"maexlab run: exit {rc}, {runner_wall:.1f} s, engine {manifest['run'].get('engine')}")

    # 2. sequential papermill CLI loop
    loop = None if args.runner_only else papermill_loop(notebooks, seeds, nbdir, scratch / "loop", args.kernel)
    print(f"load average at end {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    w = min(args.workers, n)
    print()
    print(f"{'':24}{'wall s':>9}{'reports/s':>11}{'s/report':>10}{'cells s/report':>16}{'overhead s/report':>19}")
    runner_over = runner_wall * w / n - runner_cells / n
    print(
        f"{'maexlab run':24}{runner_wall:9.1f}{n / runner_wall:11.2f}{runner_wall / n:10.2f}"
        f"{runner_cells / n:16.3f}{runner_over:19.3f}"
    )
    if loop is not None:
        loop_wall, loop_cells = loop
        loop_over = loop_wall / n - loop_cells / n
        print(
            f"{'papermill CLI loop':24}{loop_wall:9.1f}{n / loop_wall:11.2f}{loop_wall / n:10.2f}"
            f"{loop_cells / n:16.3f}{loop_over:19.3f}"
        )
        speedup = loop_wall / runner_wall
        print(
            f"speed-up (loop wall / runner wall): {speedup:.2f}x with {w} workers "
            f"(goal >= 4x: {'met' if speedup >= 4 else 'NOT met'})"
        )
    print(
        f"runner overhead per report beyond its cells: {runner_over:.3f} s "
        f"(goal < 0.3 s: {'met' if runner_over < 0.3 else 'NOT met'}); "
        "includes the warm worker's start spread over the reports and any CPU contention"
    )
    print()
    for line in breakdown(manifest["reports"], w, run_began, runner_end):
        print(line)
    if args.keep:
        print(f"kept {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

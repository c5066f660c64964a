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
* goal checks: speed-up >= 4x and overhead < 0.3 s.

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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_NOTEBOOKS = [ROOT / "notebooks" / "00_data_profile.ipynb", ROOT / "notebooks" / "01_funding_gaps.ipynb"]


def cell_seconds(nb_path: Path) -> float:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return sum(float(c.get("metadata", {}).get("papermill", {}).get("duration") or 0) for c in nb["cells"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--reports", type=int, default=30, help="number of reports in all (default 30)")
    ap.add_argument("--notebook", type=Path, action="append", help="notebook to run (repeatable; default 00 and 01)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--executor", choices=("local", "dask"), default="local")
    ap.add_argument("--kernel", default="maexlab")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
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
    manifest = json.loads((scratch / "out" / "bench" / "manifest.json").read_text(encoding="utf-8"))
    runner_cells = sum(r.get("execution_time") or 0 for r in manifest["reports"])
    print(f"maexlab run: exit {rc}, {runner_wall:.1f} s, engine {manifest['run'].get('engine')}")

    # 2. sequential papermill CLI loop
    loop_dir = scratch / "loop"
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
                args.kernel,
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
    print(f"load average at end {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    w = min(args.workers, n)
    print()
    print(f"{'':24}{'wall s':>9}{'reports/s':>11}{'s/report':>10}{'cells s/report':>16}{'overhead s/report':>19}")
    runner_over = runner_wall * w / n - runner_cells / n
    loop_over = loop_wall / n - loop_cells / n
    print(
        f"{'maexlab run':24}{runner_wall:9.1f}{n / runner_wall:11.2f}{runner_wall / n:10.2f}"
        f"{runner_cells / n:16.3f}{runner_over:19.3f}"
    )
    print(
        f"{'papermill CLI loop':24}{loop_wall:9.1f}{n / loop_wall:11.2f}{loop_wall / n:10.2f}{loop_cells / n:16.3f}{loop_over:19.3f}"
    )
    speedup = loop_wall / runner_wall
    print(
        f"speed-up (loop wall / runner wall): {speedup:.2f}x with {w} workers (goal >= 4x: {'met' if speedup >= 4 else 'NOT met'})"
    )
    print(
        f"runner overhead per report beyond its cells: {runner_over:.3f} s "
        f"(goal < 0.3 s: {'met' if runner_over < 0.3 else 'NOT met'}); "
        "includes the warm worker's start spread over the reports and any CPU contention"
    )
    # where the runner's overhead goes, from the manifest of the same run
    reports = manifest["reports"]
    in_report = sorted((r["duration"] or 0) - (r["execution_time"] or 0) for r in reports)
    supervision = sorted((r.get("wall_time") or 0) - (r["duration"] or 0) for r in reports)
    first_start = min(r["started"] for r in reports)
    from datetime import datetime

    start_wait = (datetime.fromisoformat(first_start) - datetime.fromisoformat(manifest["run"]["started"])).total_seconds()
    print(
        f"per report, median: {in_report[n // 2]:.3f} s in the report process beyond its cells (shell, saves, HTML export), "
        f"{supervision[n // 2]:.3f} s fork and supervision; one-time start (warm worker imports and data preload, "
        f"overlapping the runner's own start): first report forked {start_wait:.1f} s after the run folder was locked, "
        f"{max(supervision):.1f} s wait for the first reports"
    )
    if args.keep:
        print(f"kept {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

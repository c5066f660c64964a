"""Throughput of ``maexlab run`` against a sequential loop of the ``papermill`` CLI.

Both do the same work: N reports of one notebook (default: the tiny fixture notebook of the
runner tests), each with its own ``seed`` so every report is a distinct job. The runner also
exports HTML and writes the index and manifest; the papermill loop only executes.

Printed:

* wall time of each, reports per second and the speed-up ratio (loop / runner);
* per-report overhead = wall time per report x workers - the notebook's own execution time
  (sum of cell times papermill records) - for the runner, and wall time per report - cell
  time for the loop;
* the floor: a bare kernel start + ``import maexlab`` + shutdown, timed with jupyter_client.

Usage (not run by the tests)::

    .venv/bin/python benchmarks/bench_runner.py                 # 30 reports, CPU-count workers
    .venv/bin/python benchmarks/bench_runner.py -n 60 --workers 4 --notebook notebooks/00_data_profile.ipynb
    .venv/bin/python benchmarks/bench_runner.py --executor dask
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
FIXTURE = ROOT / "tests" / "fixtures" / "notebooks" / "tiny_report.ipynb"


def cell_seconds(nb_path: Path) -> float:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return sum(float(c.get("metadata", {}).get("papermill", {}).get("duration") or 0) for c in nb["cells"])


def kernel_floor(kernel: str, repeats: int = 3, imports: str = "import maexlab") -> float:
    """Median seconds for: start kernel, wait ready, run the imports, shut down."""
    from jupyter_client.manager import start_new_kernel

    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        km, kc = start_new_kernel(kernel_name=kernel, cwd=str(ROOT))
        try:
            kc.execute_interactive(imports, timeout=120)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--reports", type=int, default=30, help="number of reports (default 30)")
    ap.add_argument("--notebook", type=Path, default=FIXTURE, help="notebook to run (default: the tiny fixture)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--executor", choices=("local", "dask"), default="local")
    ap.add_argument("--kernel", default="maexlab")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args(argv)

    from maexlab.runner.cli_run import run

    nb = args.notebook.resolve()
    scratch = Path(tempfile.mkdtemp(prefix="maexlab-bench-"))
    nbdir = scratch / "notebooks"
    nbdir.mkdir()
    shutil.copy(nb, nbdir / nb.name)
    seeds = list(range(1, args.reports + 1))
    pset = scratch / "bench.yaml"
    pset.write_text(
        json.dumps({"name": "bench", "notebooks": [nb.name], "grid": {"seed": seeds}}), encoding="utf-8"
    )  # JSON is YAML

    print(f"notebook {nb}, {args.reports} reports, {args.workers} workers, executor {args.executor}")
    floor = kernel_floor(args.kernel)
    print(f"floor: kernel start + import maexlab + shutdown: {floor:.2f} s")

    # 1. maexlab run
    t0 = time.perf_counter()
    rc = run(
        pset,
        executor=args.executor,
        workers=args.workers,
        out=scratch / "out",
        notebooks_dir=nbdir,
        kernel=args.kernel,
        progress="log" if not sys.stderr.isatty() else "auto",
    )
    runner_wall = time.perf_counter() - t0
    manifest = json.loads((scratch / "out" / "bench" / "manifest.json").read_text(encoding="utf-8"))
    runner_cells = sum(r.get("execution_time") or 0 for r in manifest["reports"])
    print(f"maexlab run: exit {rc}, {runner_wall:.1f} s")

    # 2. sequential papermill CLI loop
    loop_dir = scratch / "loop"
    loop_dir.mkdir()
    papermill_cli = Path(sys.executable).with_name("papermill")
    t0 = time.perf_counter()
    loop_cells = 0.0
    for seed in seeds:
        out_nb = loop_dir / f"{seed}.ipynb"
        od = loop_dir / f"out-{seed}"
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
            str(od),
            "--no-progress-bar",
        ]
        subprocess.run(cmd, check=True, capture_output=True)  # noqa: S603
        loop_cells += cell_seconds(out_nb)
    loop_wall = time.perf_counter() - t0
    print(f"papermill loop: {loop_wall:.1f} s")

    n = args.reports
    w = min(args.workers, n)
    print()
    print(f"{'':24}{'wall s':>9}{'reports/s':>11}{'s/report':>10}{'cells s/report':>16}{'overhead s/report':>19}")
    runner_over = runner_wall * w / n - runner_cells / n
    loop_over = loop_wall / n - loop_cells / n
    print(
        f"{'maexlab run':24}{runner_wall:9.1f}{n / runner_wall:11.2f}{runner_wall / n:10.2f}{runner_cells / n:16.3f}{runner_over:19.2f}"
    )
    print(
        f"{'papermill CLI loop':24}{loop_wall:9.1f}{n / loop_wall:11.2f}{loop_wall / n:10.2f}{loop_cells / n:16.3f}{loop_over:19.2f}"
    )
    print(f"speed-up (loop wall / runner wall): {loop_wall / runner_wall:.2f}x with {w} workers")
    print(
        f"runner overhead per report per worker above the kernel floor: {runner_over - floor:.2f} s "
        "(process start, papermill import, HTML export, bookkeeping; plus CPU contention)"
    )
    if args.keep:
        print(f"kept {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

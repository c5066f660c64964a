"""Method validation: every estimator and verdict rule of notebooks 01-03 and the areas, over many seeds.

For each collector (funding, valuation, survival, competing, areas) and each mode (planted effects
on, and off: every planted effect 0) the benchmark generates ``--seeds`` datasets with
:func:`maexlab.data.synth.generate` (seeds ``--first-seed`` onwards, the same seeds in both
modes), runs the public functions the notebooks' sections call (benchmarks/validation/*.py) and
compares each estimate with the planted truth. Printed per estimand: truth, mean estimate, bias
with its Monte Carlo SE, SD across datasets over the mean reported SE, coverage of the nominal 95%
interval with its Wilson 95% interval, and pass when that interval contains 95%. Per verdict rule:
how often the counted outcome (usually "supported") is reached with and without effects, against
the rule's nominal rate where its null holds, and pass when the rate is not above nominal beyond
Monte Carlo error (Wilson lower end at or below nominal).

Writes (each atomically): ``--out``/validation.csv (one row per dataset x estimand or verdict,
sorted, so it is byte-identical for the same options), validation_summary.csv and
validation_timing.csv (wall and CPU seconds per dataset), and the summary table into
docs/validation.md between its markers, with date, N, sizes, machine and wall time. A run of a
subset (``--only``) writes validation_<names>*.csv and no docs page unless ``--docs`` is given,
so it never replaces a full run's results.

Usage (the full run takes about 15 minutes on an idle 2-core machine; see docs/validation.md)::

    python benchmarks/validate.py                                   # N = 50 per mode, 2 workers
    python benchmarks/validate.py --seeds 3 --only funding,survival --out /tmp/v
"""

from __future__ import annotations

import os

# One BLAS thread per worker: two workers on two cores, and the same arithmetic order every run.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import multiprocessing as mp  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import pandas as pd  # noqa: E402
from validation import areas, common, competing, funding, survival, valuation  # noqa: E402
from validation.docs import write_docs  # noqa: E402

#: Collector name -> (collect function, default initiatives per dataset, modes it runs in).
#: Sizes (docs/validation.md, "Sizes and time budget"): the notebooks' default 2,500 initiatives
#: and bootstrap replicates for funding, valuation and survival, the areas script's own 1,200 and
#: the Fine-Gray design's 300 subjects; measured CPU time puts N = 50 per mode near 15 minutes on
#: 2 idle cores, inside the 30-minute budget.
COLLECTORS: dict[str, tuple[Callable[..., list[dict]], int, tuple[bool, ...]]] = {
    # slowest first, so the two workers finish together on the short tasks at the end
    "areas": (areas.collect, 1200, (True,)),
    "funding": (funding.collect, 2500, (True, False)),
    "valuation": (valuation.collect, 2500, (True, False)),
    "survival": (survival.collect, 2500, (True, False)),
    "competing": (competing.collect, 300, (True, False)),
}
RESULTS = ROOT / "benchmarks" / "results"
DOCS = ROOT / "docs" / "validation.md"


def tasks(names: Sequence[str], seeds: Sequence[int], sizes: dict[str, int]) -> list[tuple[str, int, bool, int]]:
    """One task per (collector, mode, seed), collectors in the order of :data:`COLLECTORS` (slowest first).

    >>> tasks(["competing"], [1, 2], {"competing": 300})
    [('competing', 1, True, 300), ('competing', 2, True, 300), ('competing', 1, False, 300), ('competing', 2, False, 300)]
    """
    out = []
    for name in sorted(names, key=list(COLLECTORS).index):
        _, _, modes = COLLECTORS[name]
        out += [(name, seed, effects, sizes[name]) for effects in modes for seed in seeds]
    return out


def run_task(task: tuple[str, int, bool, int]) -> tuple[tuple[str, int, bool, int], list[dict], tuple[float, float]]:
    """Run one collector on one dataset; returns the task, its rows and its (wall, CPU) seconds.

    The CPU time of the worker process is what the task costs on an idle core: on a shared
    machine the wall time also holds the time other programs had the core.
    """
    name, seed, effects, n = task
    start, cpu = time.perf_counter(), time.process_time()
    rows = COLLECTORS[name][0](seed, effects, n)
    return task, rows, (time.perf_counter() - start, time.process_time() - cpu)


def run(
    names: Sequence[str], seeds: Sequence[int], sizes: dict[str, int], workers: int = 2, progress: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All rows (sorted) and the time of every task (``collector, mode, seed, n_initiatives, seconds, cpu_seconds``)."""
    todo = tasks(names, seeds, sizes)
    results = []
    if workers <= 1:
        iterator = map(run_task, todo)
        pool = None
    else:
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        pool = mp.get_context(method).Pool(workers, maxtasksperchild=20)
        iterator = pool.imap_unordered(run_task, todo)
    try:
        for k, (task, rows, seconds) in enumerate(iterator, 1):
            results.append((task, rows, seconds))
            if progress:
                name, seed, effects, _ = task
                print(
                    f"\r[{k}/{len(todo)}] {name} {common.mode(effects)} seed {seed}: {seconds[0]:.1f} s   ",
                    end="",
                    file=sys.stderr,
                )
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    if progress:
        print(file=sys.stderr)
    rows = common.frame(r for _, task_rows, _ in results for r in task_rows)
    timing = pd.DataFrame(
        [
            {
                "collector": t[0],
                "mode": common.mode(t[2]),
                "seed": t[1],
                "n_initiatives": t[3],
                "seconds": s[0],
                "cpu_seconds": s[1],
            }
            for t, _, s in results
        ]
    ).sort_values(["collector", "mode", "seed"], kind="stable")
    return rows, timing.reset_index(drop=True)


def summary(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The estimand and verdict summaries (see :mod:`validation.common`)."""
    return common.summarise_estimands(rows), common.summarise_verdicts(rows)


def summary_csv(estimands: pd.DataFrame, verdicts: pd.DataFrame) -> pd.DataFrame:
    """Both summaries in one frame (``kind`` estimand / verdict), for validation_summary.csv."""
    e = estimands.rename(columns={"estimand": "name"}).assign(kind="estimand")
    v = verdicts.rename(columns={"verdict": "name"}).assign(kind="verdict")
    both = pd.concat([e, v], ignore_index=True)
    first = ["kind", "collector", "name", "mode"]
    return both[first + [c for c in both.columns if c not in first]]


def _parse_sizes(items: Sequence[str]) -> dict[str, int]:
    sizes = {name: spec[1] for name, spec in COLLECTORS.items()}
    for item in items:
        name, _, value = item.partition("=")
        if name not in COLLECTORS or not value.isdigit():
            raise SystemExit(f"--size {item!r}: expected COLLECTOR=INITIATIVES with COLLECTOR one of {', '.join(COLLECTORS)}")
        sizes[name] = int(value)
    return sizes


def machine() -> str:
    """The machine in words (CPU, cores, load when the run started)."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    cpu = platform.processor() or platform.machine()
    try:
        names = [
            ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, load average {load} at the start, Python {platform.python_version()}"


def print_tables(estimands: pd.DataFrame, verdicts: pd.DataFrame) -> None:
    pd.set_option("display.width", 250, "display.max_columns", 40, "display.max_colwidth", 70)
    cols = ["collector", "estimand", "mode", "estimates", "truth", "mean_estimate", "bias", "bias_mc_se", "sd_over_se"]
    cols += ["coverage", "coverage_lo", "coverage_hi", "passed"]
    print("\nEstimands (coverage of the nominal 95% interval with its Wilson 95% interval; pass: it contains 95%)")
    print(estimands[cols].round(4).to_string(index=False))
    cols = ["collector", "verdict", "mode", "datasets", "counted", "rate", "rate_lo", "rate_hi", "nominal", "passed"]
    cols += ["outcomes"]
    print("\nVerdict rules (rate of the counted outcome; pass: not above the nominal rate beyond Monte Carlo error)")
    print(verdicts[cols].round(4).to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50, help="datasets per mode and collector (default 50)")
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="processes, one dataset per task (default 2)")
    parser.add_argument("--only", default=",".join(COLLECTORS), help=f"comma-separated subset of {','.join(COLLECTORS)}")
    parser.add_argument("--size", action="append", default=[], metavar="COLLECTOR=N", help="initiatives per dataset")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the CSVs (default benchmarks/results)")
    parser.add_argument(
        "--docs",
        type=Path,
        default=None,
        help="page the summary table is written into (default docs/validation.md, full runs only)",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not write the docs page")
    parser.add_argument(
        "--design-fixed", type=int, default=0, metavar="DRAWS", help="also run the valuation design-fixed check (e.g. 2000)"
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in COLLECTORS]
    if unknown or not names:
        parser.error(f"--only: unknown collector(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(COLLECTORS)}")
    sizes = _parse_sizes(args.size)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    started_at = dt.datetime.now(dt.UTC)
    where = machine()
    start = time.perf_counter()
    rows, timing = run(names, seeds, sizes, workers=args.workers)
    wall = time.perf_counter() - start
    estimands, verdicts = summary(rows)
    # A subset run gets its own files, so it never replaces the results of a full run.
    stem = "validation" if set(names) == set(COLLECTORS) else "validation_" + "_".join(names)
    common.atomic_write_csv(args.out / f"{stem}.csv", rows)
    common.atomic_write_csv(args.out / f"{stem}_summary.csv", summary_csv(estimands, verdicts))
    common.atomic_write_csv(args.out / f"{stem}_timing.csv", timing)
    per = timing.groupby("collector")[["seconds", "cpu_seconds"]].mean()
    cpu_total = float(timing["cpu_seconds"].sum())
    run_info = {
        "date": started_at.strftime("%Y-%m-%d %H:%M UTC"),
        "seeds": f"{seeds[0]}-{seeds[-1]}" if seeds else "none",
        "n": args.seeds,
        "sizes": {n: sizes[n] for n in names},
        "machine": where,
        "workers": args.workers,
        "wall_seconds": wall,
        "seconds_per_dataset": {n: float(per.loc[n, "seconds"]) for n in names if n in per.index},
        "cpu_seconds_per_dataset": {n: float(per.loc[n, "cpu_seconds"]) for n in names if n in per.index},
        "cpu_seconds": cpu_total,
    }
    print(
        f"{run_info['date']}; N = {args.seeds} per mode (seeds {run_info['seeds']}); initiatives per dataset "
        + ", ".join(f"{n} {s:,}" for n, s in run_info["sizes"].items())
        + f"; {args.workers} workers; wall time {wall:.0f} s; {where}"
    )
    print(
        "seconds per dataset (wall / CPU): "
        + ", ".join(
            f"{n} {s:.1f} / {run_info['cpu_seconds_per_dataset'][n]:.1f}" for n, s in run_info["seconds_per_dataset"].items()
        )
        + f"; CPU in all {cpu_total:.0f} s, so about {cpu_total / max(args.workers, 1) / 60:.1f} min on {args.workers} idle cores"
    )
    print_tables(estimands, verdicts)
    if args.design_fixed:
        t0 = time.perf_counter()
        fixed = valuation.design_fixed_check(args.first_seed, sizes["valuation"], args.design_fixed)
        print(f"\nDesign-fixed check of the valuation SEs (seed {args.first_seed}, {time.perf_counter() - t0:.0f} s)")
        print(fixed.round(4).to_string(index=False))
    docs = args.docs or (DOCS if stem == "validation" else None)
    if docs is not None and not args.no_docs:
        write_docs(docs, estimands, verdicts, run_info)
        print(f"\nsummary table written to {docs}")
    print(f"per-dataset rows: {args.out / f'{stem}.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

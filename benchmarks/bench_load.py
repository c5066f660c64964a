"""Benchmark: loading and validating a dataset against a bare read of the same files.

Datasets: the embedded data, and a scaled copy (``--scale N`` repeats its initiatives N times
with fresh ids; the default 40 gives 100,000 initiatives and about 2.5 million rows), written
as CSV and as Parquet.

* ``maexlab.load`` (read + full validation) against a bare read: ``pandas.read_csv`` /
  ``pandas.read_parquet`` of every table file, no checks. Goal: within 3x from Parquet.
* A validated snapshot (:mod:`maexlab.data.snapshot`) read for one municipality against
  ``maexlab.load`` of the whole Parquet dataset, which is what every report of a run paid
  before. Goal: under 5%.

Each figure is one run in its own process (pyarrow's parquet and dataset modules imported
before the clock starts) (CPU time of all its threads, wall time beside it,
peak resident memory during the step, from /proc/self/status after resetting it): the machine is shared, so wall time mostly
measures the neighbours and repeats would not make it better.

    python benchmarks/bench_load.py [--scale 40]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import maexlab
from maexlab.data.io import write_dataset
from maexlab.data.loader import EMBEDDED_DIR
from maexlab.data.snapshot import load_snapshot, write_snapshot


def scaled_copy(scale: int, folder: Path, fmt: str = "csv") -> Path:
    """The embedded data repeated ``scale`` times, every id suffixed so keys stay unique."""
    data = maexlab.load("embedded")
    tables = {}
    for name, df in data.tables.items():
        if name == "proxies":
            tables[name] = df
            continue
        copies = []
        for i in range(scale):
            part = df.copy()
            for column in ("initiative_id", "funding_id", "assessment_id"):
                if column in part:
                    part[column] = part[column] + f"-{i}"
            copies.append(part)
        tables[name] = pd.concat(copies, ignore_index=True)
    return write_dataset(tables, folder / f"scaled{scale}-{fmt}", {"synthetic": True}, fmt=fmt)


def _municipalities(folder: Path) -> tuple[str, str]:
    """The largest municipality (most initiatives) and a median one: the worst and a typical report."""
    counts = pd.read_parquet(folder / "initiatives.parquet", columns=["municipality_code"])["municipality_code"].value_counts()
    return str(counts.index[0]), str(counts.index[len(counts) // 2])


STEPS = {
    "bare csv": lambda folder, _: [pd.read_csv(f) for f in sorted(folder.glob("*.csv"))],
    "bare parquet": lambda folder, _: [pd.read_parquet(f) for f in sorted(folder.glob("*.parquet"))],
    "load": lambda folder, _: maexlab.load(folder),
    "snapshot one": lambda folder, place: load_snapshot(folder, municipality=place),
    "snapshot all": lambda folder, _: load_snapshot(folder),
}


def _reset_peak() -> None:
    """Start the peak-memory count at the step (Linux: clear_refs 5 resets VmHWM)."""
    with contextlib.suppress(OSError):  # elsewhere the peak includes the imports before the step
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mib() -> float:
    """Peak resident memory of this process since :func:`_reset_peak`, in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _step(name: str, folder: Path, place: str) -> None:
    # Modules every step may load lazily are imported before the clock starts, for all steps
    # alike: the figures compare reading, not one-off imports.
    import pyarrow.dataset  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    _reset_peak()
    start, cpu = time.perf_counter(), time.process_time()
    STEPS[name](folder, place)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = _peak_mib()
    print(json.dumps({"cpu": cpu, "wall": wall, "peak_mib": peak}))


def measure(name: str, folder: Path, place: str = "") -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--step", name, "--folder", str(folder), "--place", place],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(label: str, rows: int, base: dict, mine: dict, goal: str) -> str:
    ratio = mine["cpu"] / base["cpu"]
    return (
        f"{label:<34}{rows:>11,}{base['cpu']:>8.2f}{mine['cpu']:>8.2f}{ratio:>8.2f}"
        f"{base['wall']:>8.1f}{mine['wall']:>8.1f}{base['peak_mib']:>9.0f}{mine['peak_mib']:>9.0f}  {goal}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=40)
    parser.add_argument("--step", choices=tuple(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--place", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        _step(args.step, args.folder, args.place)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_folder = scaled_copy(args.scale, tmp, "csv") if args.scale > 1 else EMBEDDED_DIR
        parquet_folder = scaled_copy(args.scale, tmp, "parquet")
        snapshot = write_snapshot(parquet_folder, tmp / "snapshot")
        largest, median = _municipalities(parquet_folder)
        rows = sum(len(pd.read_parquet(f, columns=[])) for f in parquet_folder.glob("*.parquet"))
        initiatives = len(pd.read_parquet(parquet_folder / "initiatives.parquet", columns=[]))

        def rows_of(place: str) -> int:
            return sum(len(df) for df in maexlab.load(parquet_folder, municipality=place).tables.values() if df is not None)

        print(f"dataset: embedded x{args.scale}: {initiatives:,} initiatives, {rows:,} rows in all tables")
        print("one run per figure, CPU seconds (wall beside them; the machine is shared), peak resident MiB")
        print(
            f"{'comparison':<34}{'rows':>11}{'base s':>8}{'mine s':>8}{'ratio':>8}"
            f"{'base w':>8}{'mine w':>8}{'base MiB':>9}{'mine MiB':>9}"
        )
        print(_row("load CSV / bare read_csv", rows, measure("bare csv", csv_folder), measure("load", csv_folder), ""))
        print(
            _row(
                "load Parquet / bare read_parquet",
                rows,
                measure("bare parquet", parquet_folder),
                measure("load", parquet_folder),
                "goal: within 3x",
            )
        )
        full = measure("load", parquet_folder)
        for label, place in (("largest", largest), ("median", median)):
            print(
                _row(
                    f"snapshot {place} ({label}) / full load",
                    rows_of(place),
                    full,
                    measure("snapshot one", snapshot, place),
                    "goal: < 0.05",
                )
            )
        print(_row("snapshot all / full load", rows, full, measure("snapshot all", snapshot), ""))


if __name__ == "__main__":
    main()

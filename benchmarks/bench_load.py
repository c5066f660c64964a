"""Benchmark: loading and validating a dataset against plain pandas reading of the same files.

Baseline: ``pandas.read_csv`` of every table file with default type inference and no checks.
Prints the ratio (maexlab.load time / baseline time) and peak memory of each, for the embedded
data and for a scaled copy (``--scale N`` repeats the initiatives N times with fresh ids).

    python benchmarks/bench_load.py [--scale 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import pandas as pd

import maexlab
from maexlab.data.io import write_dataset
from maexlab.data.loader import EMBEDDED_DIR


def scaled_copy(scale: int, folder: Path) -> Path:
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
    return write_dataset(tables, folder / f"scaled{scale}", {"synthetic": True})


def measure(function, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folders = {"embedded": EMBEDDED_DIR}
        if args.scale > 1:
            folders[f"embedded x{args.scale}"] = scaled_copy(args.scale, Path(tmp))
        print(f"{'dataset':<16}{'rows':>10}{'baseline s':>12}{'load s':>10}{'ratio':>8}{'base MiB':>10}{'load MiB':>10}")
        for label, folder in folders.items():
            files = sorted(folder.glob("*.csv"))
            rows = sum(sum(1 for _ in f.open()) - 1 for f in files)
            base_t, base_m = measure(lambda files=files: [pd.read_csv(f) for f in files], args.repeat)
            load_t, load_m = measure(lambda folder=folder: maexlab.load(folder), args.repeat)
            print(f"{label:<16}{rows:>10,}{base_t:>12.2f}{load_t:>10.2f}{load_t / base_t:>8.1f}{base_m:>10.0f}{load_m:>10.0f}")


if __name__ == "__main__":
    main()

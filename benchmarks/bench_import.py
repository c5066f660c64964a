"""Benchmark: importing a large Dutch register through a mapping, against a bare pandas read.

The register is generated (``--rows``, default 1,000,000): a cp1252 CSV with ``;``, Dutch money
(``€ 12.345,67``, ``€ 15.000``), day-first dates (``31-01-2019``), Dutch statuses and a few
empty decision dates, as a municipal subsidy register exports them.

Baseline: ``pandas.read_csv`` of the same file (every column as text) plus ``pandas.to_datetime``
of its two date columns with the known format; no checks, no money, no output. The import does
everything ``maexlab data import`` does: decides the day/month order of each date column, parses
money and dates, maps statuses, checks the canonical rules, writes the dataset and reloads it
to check it. Prints both times, the ratio and the peak resident memory during each step
(each step runs in its own process; /proc/self/status VmHWM, reset before the step).

    python benchmarks/bench_import.py [--rows 1000000]
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

import numpy as np
import pandas as pd

from maexlab.mapping import import_mapping

STATUSES = {"Toegekend": "granted", "Deels toegekend": "partial", "Afgewezen": "rejected", "In behandeling": "pending"}
MAPPING = """\
dataset:
  synthetic: true
  description: Generated register for benchmarks/bench_import.py.
tables:
  - name: register
    source: {path: register.csv, delimiter: ";", encoding: cp1252, decimal: ","}
    target: funding
    columns:
      funding_id: Dossiernummer
      initiative_id: KvK-nummer
      applied_on: {column: Datum aanvraag, parse: date}
      decided_on: {column: Datum besluit, parse: date}
      amount_requested: {column: Gevraagd, parse: money}
      amount_granted: {column: Toegekend, parse: money}
      status:
        column: Status
        values: {Toegekend: granted, Deels toegekend: partial, Afgewezen: rejected, In behandeling: pending}
      purpose:
        column: Regeling
        values: {Startsubsidie: startup, Projectsubsidie: project, Exploitatie: operations}
    constants: {source: government_subsidy}
"""


def _euros(amounts: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Dutch money text: whole thousands as '€ 15.000', others with cents as '€ 1.234,56'."""
    shown = []
    whole = rng.random(len(amounts)) < 0.5
    for amount, is_whole in zip(amounts, whole, strict=True):
        if is_whole:
            shown.append("€ " + f"{max(1000, int(round(amount, -3))):,}".replace(",", "."))
        else:
            text = f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
            shown.append("€ " + text)
    return shown


def write_register(folder: Path, rows: int, seed: int = 20261201) -> Path:
    """A register of ``rows`` applications, consistent with the canonical rules."""
    rng = np.random.default_rng(seed)
    applied = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000, rows), unit="D")
    decided = applied + pd.to_timedelta(rng.integers(10, 200, rows), unit="D")
    requested = rng.integers(1, 200, rows) * 500.0 + rng.integers(0, 100, rows) / 100
    status = rng.choice(list(STATUSES), rows, p=[0.55, 0.15, 0.25, 0.05])
    requested_text = _euros(requested, rng)
    # Amounts shown rounded to thousands must keep the rules true: show the granted amount as the request.
    requested_values = [float(t[2:].replace(".", "").replace(",", ".")) for t in requested_text]
    granted_text = []
    for s, req_text, req_value in zip(status, requested_text, requested_values, strict=True):
        if s == "Toegekend":
            granted_text.append(req_text)
        elif s == "Deels toegekend":
            granted_text.append(f"€ {req_value / 2:.2f}".replace(".", ","))
        else:
            granted_text.append("" if s == "In behandeling" else "0")
    frame = pd.DataFrame(
        {
            "Dossiernummer": [f"D-{i:07d}" for i in range(rows)],
            "KvK-nummer": rng.integers(10_000_000, 10_050_000, rows).astype(str),
            "Datum aanvraag": applied.strftime("%d-%m-%Y"),
            "Datum besluit": np.where(status == "In behandeling", "", decided.strftime("%d-%m-%Y")),
            "Gevraagd": requested_text,
            "Toegekend": granted_text,
            "Status": status,
            "Regeling": rng.choice(["Startsubsidie", "Projectsubsidie", "Exploitatie"], rows),
            "Contactpersoon": "Naam Achternaam",
        }
    )
    path = folder / "register.csv"
    frame.to_csv(path, sep=";", index=False, encoding="cp1252")
    (folder / "register.yaml").write_text(MAPPING.replace("register.csv", "register.csv"), encoding="utf-8")
    return path


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


def _step(name: str, folder: Path) -> None:
    """Run one measured step in this (fresh) process and print seconds and peak memory as JSON."""
    path = folder / "register.csv"
    _reset_peak()
    start, cpu = time.perf_counter(), time.process_time()
    if name == "baseline":
        baseline(path)
    else:
        import_mapping(folder / "register.yaml", folder / "out")
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = _peak_mib()
    print(json.dumps({"cpu": cpu, "wall": wall, "peak_mib": peak}))


def measure(name: str, folder: Path) -> tuple[float, float, float]:
    """CPU seconds, wall seconds and peak resident MiB of one step, in its own process.

    Measured once. The machine is shared, so wall time mostly measures the neighbours: the
    ratio uses CPU time (all threads of the process), with wall time printed beside it.
    """
    done = subprocess.run(
        [sys.executable, __file__, "--step", name, "--folder", str(folder)], check=True, capture_output=True, text=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["cpu"], result["wall"], result["peak_mib"]


def baseline(path: Path) -> None:
    frame = pd.read_csv(path, sep=";", encoding="cp1252", dtype=str, keep_default_na=False)
    for column in ("Datum aanvraag", "Datum besluit"):
        pd.to_datetime(frame[column], format="%d-%m-%Y", errors="coerce")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--step", choices=("baseline", "import"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        _step(args.step, args.folder)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_register(folder, args.rows)
        base_t, base_w, base_m = measure("baseline", folder)
        import_t, import_w, import_m = measure("import", folder)
        report = json.loads((folder / "out" / "import_report.json").read_text(encoding="utf-8"))
        block = report["mappings"][0]
        print(
            f"register: {args.rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB CSV; loaded {block['rows_loaded']:,}, "
            f"quarantined {block['rows_quarantined']:,} (one run each, shared machine)"
        )
        print(f"{'step':<46}{'CPU s':>8}{'wall s':>8}{'peak MiB':>10}")
        print(f"{'baseline: read_csv + to_datetime (2 columns)':<46}{base_t:>8.2f}{base_w:>8.2f}{base_m:>10.0f}")
        print(f"{'maexlab data import (parse, check, write)':<46}{import_t:>8.2f}{import_w:>8.2f}{import_m:>10.0f}")
        print(f"ratio import / baseline (CPU time): {import_t / base_t:.1f}x (goal: within 3x)")


if __name__ == "__main__":
    main()

"""Benchmark: importing a large Dutch register through a mapping, against a bare pandas read.

The register is generated (``--rows``, default 1,000,000): a cp1252 CSV with ``;``, Dutch money
(``€ 12.345,67``, ``€ 15.000``), day-first dates (``31-01-2019``), Dutch statuses and a few
empty decision dates, as a municipal subsidy register exports them.

Baseline: ``pandas.read_csv`` of the same file (every column as text) plus ``pandas.to_datetime``
of its two date columns with the known format; no checks, no money, no output. The import does
everything ``maexlab data import`` does: decides the day/month order of each date column, parses
money and dates, maps statuses, checks the canonical rules, writes the dataset and reloads it
to check it. Prints both times, the ratio and the peak memory (tracemalloc) of each.

    python benchmarks/bench_import.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
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
    granted = np.where(status == "Toegekend", requested, np.where(status == "Deels toegekend", requested * 0.5, 0.0))
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


def measure(function) -> tuple[float, float]:
    """Seconds and peak MiB (tracemalloc) of one run; one run only: the machine is shared."""
    tracemalloc.start()
    start = time.perf_counter()
    function()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20


def baseline(path: Path) -> None:
    frame = pd.read_csv(path, sep=";", encoding="cp1252", dtype=str, keep_default_na=False)
    for column in ("Datum aanvraag", "Datum besluit"):
        pd.to_datetime(frame[column], format="%d-%m-%Y", errors="coerce")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_register(folder, args.rows)
        base_t, base_m = measure(lambda: baseline(path))
        report = {}
        import_t, import_m = measure(lambda: report.update(r=import_mapping(folder / "register.yaml", folder / "out")))
        block = report["r"].mappings[0]
        print(f"register: {args.rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB CSV; loaded {block.rows_loaded:,}, "
              f"quarantined {block.rows_quarantined:,}")
        print(f"{'step':<44}{'seconds':>9}{'peak MiB':>10}")
        print(f"{'baseline: read_csv + to_datetime (2 columns)':<44}{base_t:>9.2f}{base_m:>10.0f}")
        print(f"{'maexlab data import (parse, check, write)':<44}{import_t:>9.2f}{import_m:>10.0f}")
        print(f"ratio import / baseline: {import_t / base_t:.1f}x (goal: within 3x)")


if __name__ == "__main__":
    main()
